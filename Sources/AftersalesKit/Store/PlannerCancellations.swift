import GRDB

extension Schema {
    /// A reinstated order gets back the mail its cancellation cancelled: the outbox records whether
    /// planning cancelled an entry (`cancelledByPlanner`), which planning alone revives when a fresh plan
    /// wants the mail again; what ops (`outbox cancel`, a rejected approval), the sender (stale mail) or
    /// an erasure cancelled stays cancelled.
    ///
    /// Entries cancelled before: the reason tells, but for stale mail, which the sender and the planner
    /// word alike. The sources of a cancellation up to this migration are the planner (its rules' reasons
    /// and "no longer planned"), the sender ("stale: ..."), an erasure ("erased") and ops ("cancelled by
    /// ops"): every other reason is the planner's. Stale mail is left cancelled (a fresh plan finds it stale too).
    static func registerPlannerCancellations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9-outbox-cancelled-by-planner") { db in
            try db.alter(table: "outbox") { t in t.add(column: "cancelledByPlanner", .boolean).notNull().defaults(to: false) }
            try db.execute(sql: """
                UPDATE outbox SET cancelledByPlanner = 1
                WHERE status = 'cancelled' AND reason IS NOT NULL AND reason NOT IN ('cancelled by ops', 'erased') AND reason NOT LIKE 'stale:%'
                """)
        }
    }
}
