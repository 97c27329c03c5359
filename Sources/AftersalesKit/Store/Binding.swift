import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

extension Database {
    /// Runs `sql` through its cached statement with `values` bound in order, as GRDB binds them
    /// (`DatabaseValue.bind`). For the statements run once per mail: GRDB's `StatementArguments`
    /// initializers are generic and not specialized outside GRDB, and cost more per row than the
    /// statement itself. The values must match the statement's parameters one for one.
    func run(cached sql: String, _ values: [DatabaseValue]) throws {
        let statement = try cachedStatement(sql: sql)
        guard Int(sqlite3_bind_parameter_count(statement.sqliteStatement)) == values.count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(values.count) values for the parameters of: \(sql)")
        }
        // Resets the statement, clears its bindings and marks its arguments as set (none given here).
        statement.setUncheckedArguments(StatementArguments())
        for (index, value) in values.enumerated() {
            let code = value.bind(to: statement.sqliteStatement, at: CInt(index + 1))
            guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "binding parameter \(index + 1) of: \(sql)") }
        }
        try statement.execute()
    }
}
