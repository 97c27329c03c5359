import GRDB

extension Schema {
    /// Issue 22: a shipment keeps the ETA it was dispatched with (`dispatchETA`), which delays leave as it
    /// was, so that the planner knows the ETA the first delay corrects (a delay overwrites `eta`).
    /// Shipments stored before: without a delay, `eta` is still the dispatch ETA; with one, the ETA in the
    /// event log's `shipment.dispatched` payload (ISO 8601, whole seconds), else (no such event) `eta`,
    /// the best left.
    static func registerShipmentDispatchETA(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-shipment-dispatch-eta") { db in
            // (SQLite adds a NOT NULL column only with a constant default; every shipment gets its value here.)
            try db.alter(table: "shipments") { t in t.add(column: "dispatchETA", .datetime) }
            try db.execute(sql: "UPDATE shipments SET dispatchETA = eta")
            // One pass over the event log (its `subject` has no index), in GRDB's date format.
            try db.execute(sql: """
                UPDATE shipments SET dispatchETA = d.eta
                FROM (SELECT subject, strftime('%Y-%m-%d %H:%M:%f', json_extract(payload, '$.eta')) AS eta, min(seq)
                      FROM events WHERE kind = 'shipment.dispatched' GROUP BY subject) AS d
                WHERE d.subject = shipments.id AND d.eta IS NOT NULL
                  AND EXISTS (SELECT 1 FROM shipment_events e WHERE e.shipmentID = shipments.id AND e.kind = 'delayed')
                """)
        }
    }
}
