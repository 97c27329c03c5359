import AftersalesDomain
import Foundation
import GRDB

/// What `aftersales backup` made.
public struct BackupReport: Sendable, Hashable, Encodable {
    public var path: String
    public var bytes: Int
    /// `ok`, from the copy's `PRAGMA integrity_check`.
    public var integrity: String
    /// Outbox entries in the copy, by status.
    public var outbox: [String: Int]
}

/// A database's health, for `doctor`.
public struct DatabaseHealth: Sendable, Hashable {
    /// `ok`, or the first problem SQLite's `quick_check` found.
    public var quickCheck: String
    /// Migrations of this version not yet applied.
    public var pendingMigrations: Int
}

extension AftersalesStore {
    /// An online, consistent copy of the database at `destination`, with SQLite's backup API through
    /// GRDB: it reads one snapshot (a read transaction of the write-ahead log), so `run` and `serve`
    /// go on writing meanwhile. The copy is written beside the destination and renamed into place only
    /// after it passes `integrity_check`, so that a failed backup never leaves a half copy there.
    public func backup(to destination: String) throws(AftersalesError) -> BackupReport {
        let partial = destination + ".partial"
        let fm = FileManager.default
        try? fm.removeItem(atPath: partial)
        let writer = self.writer
        return try Self.map(path: destination) { () throws -> BackupReport in
            do {
                let copy = try DatabaseQueue(path: partial)
                try writer.backup(to: copy)
                // The copy stands alone: its pages in the file, no log beside it.
                _ = try copy.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
                let (integrity, outbox) = try copy.read { db in
                    (try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; "),
                     Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
                         .map { ($0["status"] as String, $0["n"] as Int) }))
                }
                try copy.close()
                guard integrity == "ok" else {
                    throw AftersalesError.database("the backup copy failed integrity_check (\(integrity)); run `aftersales doctor` on the database")
                }
                for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: partial + suffix) }
                if fm.fileExists(atPath: destination) { try fm.removeItem(atPath: destination) }
                try fm.moveItem(atPath: partial, toPath: destination)
                let bytes = (try fm.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
                return BackupReport(path: destination, bytes: bytes, integrity: integrity, outbox: outbox)
            } catch {
                for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: partial + suffix) }
                throw error
            }
        }
    }

    /// The health of the database at `path`, read without writing: SQLite's `quick_check` and the
    /// migrations not yet applied.
    public static func health(path: String) throws(AftersalesError) -> DatabaseHealth {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .database("database \"\(path)\" does not exist")
        }
        var config = GRDB.Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        return try map(path: path) {
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            return try queue.read { db in
                if try Schema.migrator.hasBeenSuperseded(db) { throw newer(path: path) }
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check").joined(separator: "; ")
                let applied = try Schema.migrator.appliedIdentifiers(db)
                let pending = Schema.migrator.migrations.filter { !applied.contains($0) }.count
                return DatabaseHealth(quickCheck: check, pendingMigrations: pending)
            }
        }
    }
}
