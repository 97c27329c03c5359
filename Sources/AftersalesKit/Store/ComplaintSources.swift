import AftersalesDomain
import GRDB

extension ComplaintSource: DatabaseValueConvertible, StatementColumnConvertible {}

extension Schema {
    /// Issue 19: every complaint says where it came from (`command`, `import`, `email`). Complaints stored
    /// before were opened by a command or an import (which cannot be told apart any more: they become
    /// `command`), or by `fetch`, which linked its message to the complaint it opened: those become `email`.
    static func registerComplaintSource(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-19-complaint-source") { db in
            try db.alter(table: "complaints") { t in t.add(column: "source", .text).notNull().defaults(to: ComplaintSource.command.rawValue) }
            try db.execute(sql: """
                UPDATE complaints SET source = ? WHERE id IN (SELECT complaintID FROM inbound_messages WHERE complaintID IS NOT NULL)
                """, arguments: [ComplaintSource.email])
        }
    }
}
