import AftersalesDomain
import Foundation
import GRDB

/// The one store of the application: every recorded fact, the event log and (later) the
/// outbox, in one SQLite database reached through GRDB.
public struct AftersalesStore: Sendable {
    /// How a command needs the database.
    public enum Access: Sendable {
        /// Create the file if it does not exist, migrate it, read and write.
        case readWrite
        /// The file must exist; nothing is ever written (not even a migration).
        case readOnly
    }

    let writer: any DatabaseWriter
    /// Set inside ``batch(_:)``: every write runs in a savepoint of one outer transaction.
    private let batchContext: BatchContext?

    final class BatchContext: @unchecked Sendable {
        let db: Database
        init(_ db: Database) { self.db = db }
    }

    /// A store over an open GRDB connection (an in-memory `DatabaseQueue()` in tests);
    /// migrates it to the current schema.
    public init(writer: any DatabaseWriter) throws(AftersalesError) {
        self.writer = writer
        batchContext = nil
        try Self.map(path: ":memory:") {
            if try writer.read({ db in try Schema.migrator.hasBeenSuperseded(db) }) { throw Self.newer(path: "the database") }
            try Schema.migrator.migrate(writer)
        }
    }

    private init(opened writer: any DatabaseWriter, batch: BatchContext? = nil) {
        self.writer = writer
        batchContext = batch
    }

    /// Runs `body` with a store whose recordings all go into one transaction: the same
    /// validation and writes as one by one, for bulk loads (the synthetic company). A refused
    /// fact inside rolls back only itself (savepoint); an error thrown out of `body` rolls back all.
    public func batch<T>(_ body: @escaping (AftersalesStore) throws -> T) throws(AftersalesError) -> T {
        let writer = self.writer
        return try Self.map(path: path) {
            try writer.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(AftersalesStore(opened: writer, batch: BatchContext(db)))
                    return .commit
                }
                return result!
            }
        }
    }

    /// Opens the database file at `path`.
    public static func open(path: String, access: Access) throws(AftersalesError) -> AftersalesStore {
        var config = GRDB.Configuration()
        config.busyMode = .timeout(30)
        config.foreignKeysEnabled = true
        let exists = FileManager.default.fileExists(atPath: path)
        switch access {
        case .readOnly:
            guard exists else {
                throw .database("database \"\(path)\" does not exist; record something first, or point --db (AFTERSALES_DB) at your database")
            }
            config.readonly = true
            return try map(path: path) {
                let queue = try DatabaseQueue(path: path, configuration: config)
                try queue.read { db in
                    if try Schema.migrator.hasBeenSuperseded(db) { throw newer(path: path) }
                    let applied = try Schema.migrator.appliedIdentifiers(db)
                    if applied.count < Schema.migrator.migrations.count {
                        throw AftersalesError.database("database \"\(path)\" needs an upgrade to this version's schema; run any recording command or `aftersales plan` once to migrate it")
                    }
                }
                return AftersalesStore(opened: queue)
            }
        case .readWrite:
            if exists {
                // Refuse a file that is not SQLite before anything writes to it.
                let probe = try map(path: path) { () throws -> Bool in
                    var readOnly = config
                    readOnly.readonly = true
                    let queue = try DatabaseQueue(path: path, configuration: readOnly)
                    defer { try? queue.close() }
                    return try queue.read { db in try Schema.migrator.hasBeenSuperseded(db) }
                }
                if probe { throw newer(path: path) }
            } else {
                let directory = (path as NSString).deletingLastPathComponent
                if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
                    throw .database("database \"\(path)\": the directory \"\(directory)\" does not exist; create it or pass another --db")
                }
            }
            return try map(path: path) {
                let pool = try DatabasePool(path: path, configuration: config)
                try Schema.migrator.migrate(pool)
                return AftersalesStore(opened: pool)
            }
        }
    }

    static func newer(path: String) -> AftersalesError {
        .database("database \"\(path)\" was written by a newer version of aftersales; upgrade aftersales to use it")
    }

    /// Runs `body`, turning database errors into one clear ``AftersalesError``.
    static func map<T>(path: String, _ body: () throws -> T) throws(AftersalesError) -> T {
        do {
            return try body()
        } catch let error as AftersalesError {
            throw error
        } catch let error as DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB:
                throw .database("database \"\(path)\" is not an SQLite database; point --db (AFTERSALES_DB) at an aftersales database")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                throw .database("database \"\(path)\" is busy (another aftersales process holds it); try again in a moment")
            case .SQLITE_CANTOPEN:
                throw .database("database \"\(path)\" cannot be opened; check the path and its permissions")
            case .SQLITE_READONLY:
                throw .database("database \"\(path)\" is read-only; check its permissions")
            case .SQLITE_CORRUPT:
                throw .database("database \"\(path)\" is damaged (\(error.message ?? "corrupt")); restore it from a backup")
            default:
                throw .database("database \"\(path)\": \(error.message ?? "\(error.resultCode)")")
            }
        } catch {
            throw .failure("\(error)")
        }
    }

    /// A write transaction; any error rolls it back whole, so nothing is half-written.
    /// The transaction is IMMEDIATE: a writer takes the lock up front, so two processes queue
    /// (within the busy timeout) instead of failing when both try to upgrade a read lock.
    func write<T>(_ body: @escaping (Database) throws -> T) throws(AftersalesError) -> T {
        if let batchContext {
            return try Self.map(path: path) {
                var result: T?
                try batchContext.db.inSavepoint {
                    result = try body(batchContext.db)
                    return .commit
                }
                return result!
            }
        }
        return try Self.map(path: path) {
            try writer.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        }
    }

    /// Moves the write-ahead log into the database file, so that the file alone is a full copy.
    public func checkpoint() throws(AftersalesError) {
        try outsideTransaction { db in try db.checkpoint(.truncate) }
    }

    /// Turns SQLite's automatic checkpoints off (`pages` 0) or back on (every `pages` pages of
    /// write-ahead log). A send turns them off while a ``BackgroundCheckpointer`` copies the log, so
    /// that copying it never stalls a claim while the connections wait.
    public func autoCheckpoint(pages: Int) throws(AftersalesError) {
        try outsideTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = \(max(0, pages))") }
    }

    /// Whether every commit of this store's writer reaches the disk before it returns (SQLite's
    /// `synchronous = FULL`), or only at checkpoints (`NORMAL`, GRDB's choice for the write-ahead
    /// log, which survives a crash of the process but not of the machine). A send turns it on: a
    /// claim must be on disk before any of its mails leaves, or a power cut could forget the claim
    /// of a mail the server already has, and the next run would send it again.
    public func syncEveryCommit(_ on: Bool) throws(AftersalesError) {
        try outsideTransaction { db in try db.execute(sql: on ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL") }
    }

    /// Runs `body` on the writer's connection outside any transaction (pragmas, checkpoints).
    private func outsideTransaction(_ body: (Database) throws -> Void) throws(AftersalesError) {
        let writer = self.writer
        try Self.map(path: path) { try writer.writeWithoutTransaction(body) }
    }

    /// Starts copying the write-ahead log into the database beside the writer, for a run of many commits
    /// (a send, a plan of many batches): SQLite's automatic checkpoints are off, so that the writer never stalls
    /// copying the log, and a ``BackgroundCheckpointer`` copies it when asked. Nil, with the automatic
    /// checkpoints left on, for an in-memory database. End it with ``endCheckpointing(_:)``.
    public func startCheckpointing() throws(AftersalesError) -> BackgroundCheckpointer? {
        guard let checkpointer = backgroundCheckpointer() else { return nil }
        do { try autoCheckpoint(pages: 0) } catch {
            checkpointer.stop()
            throw error
        }
        return checkpointer
    }

    /// Copies the rest of the log, ends the checkpointer's thread and turns SQLite's automatic checkpoints
    /// back on (at its default size).
    public func endCheckpointing(_ checkpointer: BackgroundCheckpointer) {
        checkpointer.request()
        checkpointer.stop()
        try? autoCheckpoint(pages: Self.sqliteDefaultCheckpointPages)
    }

    /// SQLite's `wal_autocheckpoint` default, restored by ``endCheckpointing(_:)``.
    static let sqliteDefaultCheckpointPages = 1000

    /// A connection of its own that copies the write-ahead log into the database file on a thread
    /// of its own while this store's writer goes on committing (SQLite allows a checkpoint beside
    /// the writer). Nil for an in-memory database, which has no log.
    public func backgroundCheckpointer() -> BackgroundCheckpointer? {
        guard path != ":memory:" else { return nil }
        var config = GRDB.Configuration()
        config.busyMode = .timeout(30)
        guard let queue = try? DatabaseQueue(path: writer.path, configuration: config) else { return nil }
        return BackgroundCheckpointer(queue)
    }

    /// A read.
    func read<T>(_ body: @escaping (Database) throws -> T) throws(AftersalesError) -> T {
        if let batchContext { return try Self.map(path: path) { try body(batchContext.db) } }
        return try Self.map(path: path) { try writer.read(body) }
    }

    var path: String { writer.path.isEmpty ? ":memory:" : writer.path }
}

/// Checkpoints on request, on a thread of its own: ``request()`` never waits, requests made while a
/// checkpoint runs make one more. Failures are left for the next checkpoint (it is maintenance).
public final class BackgroundCheckpointer: @unchecked Sendable {
    private let queue: DatabaseQueue
    private let condition = NSCondition()
    private var requested = false
    private var stopping = false
    private var running = true

    init(_ queue: DatabaseQueue) {
        self.queue = queue
        Thread { [self] in
            while true {
                condition.lock()
                while !requested, !stopping { condition.wait() }
                let work = requested
                requested = false
                condition.unlock()
                guard work else { break }
                _ = try? queue.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            }
            condition.withLock { running = false; condition.broadcast() }
        }.start()
    }

    /// Asks for a checkpoint soon.
    public func request() { condition.withLock { requested = true; condition.broadcast() } }

    /// Does what was requested, then ends the thread.
    public func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
            while running { condition.wait() }
        }
        try? queue.close()
    }
}
