// BRIDGE: removed at merge by the outbox helper's rewrite.
// The pieces of the old hand-written mapping layer (formerly RowDecoding.swift, StoredDate.swift and
// Binding.swift) that the outbox code still uses: OutboxEntry's FieldRecord reading and `written`
// columns, FlatJSON/JSONColumn, StoredDate/`.stored`, TextColumn and `db.run(cached:)`. No other
// record uses them any more; the outbox helper's rewrite replaces them, and this file goes.
import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

/// JSON columns as GRDB's Codable support reads and writes them (sorted keys), with one coder each.
enum JSONColumn {
    static let decoder = RecordJSON.decoder
    static let encoder = RecordJSON.encoder

    /// JSON text decoded as `T`.
    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try decoder.decode(T.self, from: Data(text.utf8))
    }

    /// JSON text decoded as `T`, or nil for NULL.
    static func decode<T: Decodable>(_ type: T?.Type, _ text: String?) throws -> T? {
        try text.map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    /// An array of strings: read by `FlatJSON` when it can, else by JSONDecoder.
    static func decode(_ type: [String].Type, _ text: String) throws -> [String] {
        try FlatJSON.strings(text) ?? decoder.decode([String].self, from: Data(text.utf8))
    }

    /// An object of string values: read by `FlatJSON` when it can, else by JSONDecoder.
    static func decode(_ type: [String: String].Type, _ text: String) throws -> [String: String] {
        try FlatJSON.object(text) ?? decoder.decode([String: String].self, from: Data(text.utf8))
    }

    /// An object of string values as JSONEncoder writes it with sorted keys (GRDB's Codable setting).
    static func encode(_ value: [String: String]) throws -> String {
        try FlatJSON.encode(value) ?? String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// The two flat JSON shapes of most columns (an array of strings, an object of strings), read and
/// written byte for byte as Foundation's JSONEncoder does, without its general machinery. Anything
/// else is refused (nil) and left to JSONDecoder/JSONEncoder.
enum FlatJSON {
    /// `["a","b"]`, or nil when the text is not exactly an array of strings.
    static func strings(_ text: String) -> [String]? {
        var text = text
        return text.withUTF8 { bytes -> [String]? in
            var reader = Reader(bytes: bytes)
            guard reader.take(UInt8(ascii: "[")) else { return nil }
            var out: [String] = []
            if reader.take(UInt8(ascii: "]")) { return reader.atEnd ? out : nil }
            repeat {
                guard let string = reader.string() else { return nil }
                out.append(string)
            } while reader.take(UInt8(ascii: ","))
            return reader.take(UInt8(ascii: "]")) && reader.atEnd ? out : nil
        }
    }

    /// `{"k":"v"}`, or nil when the text is not exactly an object of string values.
    static func object(_ text: String) -> [String: String]? {
        var text = text
        return text.withUTF8 { bytes -> [String: String]? in
            var reader = Reader(bytes: bytes)
            guard reader.take(UInt8(ascii: "{")) else { return nil }
            var out: [String: String] = [:]
            if reader.take(UInt8(ascii: "}")) { return reader.atEnd ? out : nil }
            repeat {
                guard let key = reader.string(), reader.take(UInt8(ascii: ":")), let value = reader.string() else { return nil }
                out[key] = value
            } while reader.take(UInt8(ascii: ","))
            return reader.take(UInt8(ascii: "}")) && reader.atEnd ? out : nil
        }
    }

    static func encode(_ strings: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, string) in strings.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            append(string, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Keys sorted as JSONEncoder's `.sortedKeys` sorts them; nil for a non-ASCII key, whose order is left to it.
    static func encode(_ object: [String: String]) -> String? {
        guard object.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) else { return nil }
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in object.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            append(key, to: &out)
            out.append(UInt8(ascii: ":"))
            append(object[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON string: `"` `\` `/` escaped, \b \t \n \f \r by name, other controls as \u00xx; the rest as is.
    static func append(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: their bytes as they are.
        if string.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "/") }) {
            out.append(contentsOf: string.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out += [UInt8(ascii: "\\"), byte]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0..<0x20: out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var atEnd: Bool {
            mutating get { skipSpace(); return index == bytes.count }
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// A string with its escapes resolved (surrogate pairs included), or nil.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            // Most strings have no escape: made straight from their bytes.
            var end = index
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                defer { index = end + 1 }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
            }
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                            index += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        out += Array(String(Character(unicode)).utf8)
                    default: return nil
                    }
                case 0..<0x20: return nil
                default: out.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): value = value << 4 | UInt32(byte - UInt8(ascii: "A") + 10)
                default: return nil
                }
            }
            return value
        }
    }
}

/// The columns a record is read from. A statement that selects exactly these, in this order
/// (``selection(_:)``), is read by position; any other row (`SELECT *`, the query interface) by
/// name. Looking a column up by name lower-cases and hashes it, for every column of every row.
protocol FieldList: CaseIterable, RawRepresentable where RawValue == Int {
    /// The column names, in raw-value order.
    static var names: [String] { get }
}

extension FieldList {
    /// `t."a", t."b"`: the columns of table alias `table` in order, for a SELECT read by position.
    static func selection(_ table: String) -> String { names.map { "\(table).\"\($0)\"" }.joined(separator: ", ") }
}

/// A row and how its fields are found in it.
struct Fields<Field: FieldList> {
    let row: Row
    let positional: Bool

    func callAsFunction<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ field: Field) throws -> Value {
        positional ? try row.decode(atIndex: field.rawValue) : try row.decode(forColumn: Field.names[field.rawValue])
    }

    func callAsFunction<Value: DatabaseValueConvertible>(_ field: Field) throws -> Value {
        positional ? try row.decode(atIndex: field.rawValue) : try row.decode(forColumn: Field.names[field.rawValue])
    }

    /// A date, read through ``StoredDate``'s fast path (no String, no calendar).
    func date(_ field: Field) throws -> Date { try (self(field) as StoredDate).date }

    /// An optional date, read through ``StoredDate``'s fast path.
    func optionalDate(_ field: Field) throws -> Date? { try (self(field) as StoredDate?)?.date }
}

/// A record read through ``Fields``.
protocol FieldRecord: FetchableRecord {
    associatedtype Field: FieldList
    init(_ fields: Fields<Field>) throws
}

extension FieldRecord {
    /// `init(row:)`: by name.
    init(named row: Row) throws { try self.init(Fields(row: row, positional: false)) }

    /// Whether `statement` selects exactly ``Field``'s columns, in order, then `extra`: then its rows are read by position.
    static func positional(_ statement: Statement, extra: [String] = []) -> Bool {
        statement.columnNames == Field.names + extra
    }

    /// Every row of `statement`: by position when it selects exactly ``Field``'s columns, else by name.
    static func fetchAll(fields statement: Statement, arguments: StatementArguments) throws -> [Self] {
        let positional = positional(statement)
        return try Array(Row.fetchCursor(statement, arguments: arguments).map { try Self(Fields(row: $0, positional: positional)) })
    }

    /// The first row of `statement`, read as ``fetchAll(fields:arguments:)`` reads them.
    static func fetchOne(fields statement: Statement, arguments: StatementArguments) throws -> Self? {
        let positional = positional(statement)
        // Read inside the cursor's step: a row outlives neither the cursor nor the step.
        return try Row.fetchCursor(statement, arguments: arguments).map { try Self(Fields(row: $0, positional: positional)) }.next()
    }
}

extension OutboxEntry: FieldRecord {
    enum Field: Int, FieldList {
        case key, rule, stream, audience, customerID, orderID, subject, occurrence, triggeredAt, nominalDue, due, deadline, staleAt
        case toAddresses, ccAddresses, locale, timeZone, template, needsApproval, status, reason, reasons, flags, context
        case createdAt, updatedAt, attempts, nextAttemptAt, sentAt, messageID, serverReply, sha256
        static let names = allCases.map { "\($0)" }
    }

    public init(row: Row) throws { try self.init(named: row) }

    init(_ f: Fields<Field>) throws {
        key = try f(.key)
        rule = try f(.rule)
        stream = try f(.stream)
        audience = try f(.audience)
        customerID = try f(.customerID)
        orderID = try f(.orderID)
        subject = try f(.subject)
        occurrence = try f(.occurrence)
        triggeredAt = try f.date(.triggeredAt)
        nominalDue = try f.date(.nominalDue)
        due = try f.date(.due)
        deadline = try f.optionalDate(.deadline)
        staleAt = try f.optionalDate(.staleAt)
        toAddresses = try JSONColumn.decode([String].self, f(.toAddresses) as String)
        ccAddresses = try JSONColumn.decode([String].self, f(.ccAddresses) as String)
        locale = try f(.locale)
        timeZone = try f(.timeZone)
        template = try f(.template)
        needsApproval = try f(.needsApproval)
        status = try f(.status)
        reason = try f(.reason)
        reasons = try JSONColumn.decode([String].self, f(.reasons) as String)
        flags = try JSONColumn.decode([String].self, f(.flags) as String)
        context = try JSONColumn.decode([String: String].self, f(.context) as String)
        createdAt = try f.date(.createdAt)
        updatedAt = try f.date(.updatedAt)
        attempts = try f(.attempts)
        nextAttemptAt = try f.optionalDate(.nextAttemptAt)
        sentAt = try f.optionalDate(.sentAt)
        messageID = try f(.messageID)
        serverReply = try f(.serverReply)
        sha256 = try f(.sha256)
    }

    /// Every column of the outbox as the planner writes it, in one list: `encode(to:)` (GRDB's
    /// record writes) and ``insertOrIgnore(_:values:)`` (the planner's inserts, by the thousand) both use it.
    static let written: [(column: String, value: @Sendable (OutboxEntry) throws -> DatabaseValue)] = [
        ("key", { $0.key.databaseValue }),
        ("rule", { $0.rule.databaseValue }),
        ("stream", { $0.stream.databaseValue }),
        ("audience", { $0.audience.databaseValue }),
        ("customerID", { $0.customerID.databaseValue }),
        ("orderID", { $0.orderID.databaseValue }),
        ("subject", { $0.subject.databaseValue }),
        ("occurrence", { $0.occurrence.databaseValue }),
        ("triggeredAt", { $0.triggeredAt.stored.databaseValue }),
        ("nominalDue", { $0.nominalDue.stored.databaseValue }),
        ("due", { $0.due.stored.databaseValue }),
        ("deadline", { ($0.deadline?.stored).databaseValue }),
        ("staleAt", { ($0.staleAt?.stored).databaseValue }),
        ("toAddresses", { FlatJSON.encode($0.toAddresses).databaseValue }),
        ("ccAddresses", { FlatJSON.encode($0.ccAddresses).databaseValue }),
        ("locale", { $0.locale.databaseValue }),
        ("timeZone", { $0.timeZone.databaseValue }),
        ("template", { $0.template.databaseValue }),
        ("needsApproval", { $0.needsApproval.databaseValue }),
        ("status", { $0.status.databaseValue }),
        ("reason", { $0.reason.databaseValue }),
        ("reasons", { FlatJSON.encode($0.reasons).databaseValue }),
        ("flags", { FlatJSON.encode($0.flags).databaseValue }),
        ("context", { try JSONColumn.encode($0.context).databaseValue }),
        ("createdAt", { $0.createdAt.stored.databaseValue }),
        ("updatedAt", { $0.updatedAt.stored.databaseValue }),
        ("attempts", { $0.attempts.databaseValue }),
        ("nextAttemptAt", { ($0.nextAttemptAt?.stored).databaseValue }),
        ("sentAt", { ($0.sentAt?.stored).databaseValue }),
        ("messageID", { $0.messageID.databaseValue }),
        ("serverReply", { $0.serverReply.databaseValue }),
        ("sha256", { $0.sha256.databaseValue }),
    ]

    public func encode(to container: inout PersistenceContainer) throws {
        for (column, value) in Self.written { container[column] = try value(self) }
    }

    static let insertOrIgnoreSQL = "INSERT OR IGNORE INTO outbox (" + written.map(\.column).joined(separator: ", ") + ") VALUES ("
        + Array(repeating: "?", count: written.count).joined(separator: ", ") + ")"

    /// The values of ``written``, in its order (worked out where the planner's workers work).
    var writtenValues: [DatabaseValue] {
        get throws { try Self.written.map { try $0.value(self) } }
    }

    /// `INSERT OR IGNORE` of ``writtenValues`` through one cached statement (GRDB's record insert
    /// builds a container of 32 named values per row, which the full plan felt).
    static func insertOrIgnore(_ db: Database, values: [DatabaseValue]) throws {
        try db.run(cached: insertOrIgnoreSQL, values)
    }
}

// MARK: - BRIDGE: formerly StoredDate.swift

/// A date written and read as GRDB writes and reads a `Date` (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), without
/// GRDB's shared DateFormatter or its calendar: through ICU they were a few percent of a send and of a
/// full plan, where every claim, outcome, history row, planned mail and fact has dates. Years 1600 to
/// 9999 are done by plain arithmetic (a test compares both ways with GRDB's own, bit for bit); any
/// other year, and any other text, goes through GRDB (ICU's calendar is Julian before 1583).
struct StoredDate: DatabaseValueConvertible {
    let date: Date

    init(_ date: Date) { self.date = date }

    var databaseValue: DatabaseValue {
        // The milliseconds as Foundation hands them to ICU, rounded to the nearest (halves upwards).
        let milliseconds = ((date.timeIntervalSinceReferenceDate + Date.timeIntervalBetween1970AndReferenceDate) * 1000 + 0.5).rounded(.down)
        guard milliseconds.magnitude < 2.5e14 else { return date.databaseValue }
        let total = Int64(milliseconds)
        var seconds = total / 1000, fraction = total % 1000
        if fraction < 0 { fraction += 1000; seconds -= 1 }
        let (y, mo, d, h, mi, se) = Timestamp.civil(Int(seconds))
        guard (1600...9999).contains(y) else { return date.databaseValue }
        var out: [UInt8] = []
        out.reserveCapacity(23)
        Timestamp.appendDate(y, mo, d, &out); out.append(0x20); Timestamp.appendTime(h, mi, se, &out); out.append(0x2E); Timestamp.digits(Int(fraction), 3, &out)
        return String(decoding: out, as: UTF8.self).databaseValue
    }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoredDate? {
        if case .string(let text) = dbValue.storage {
            var text = text
            if let date = text.withUTF8({ parse($0) }) { return StoredDate(date) }
        }
        return Date.fromDatabaseValue(dbValue).map(StoredDate.init)
    }

    /// `yyyy-MM-dd HH:mm:ss.SSS` with a year from 1600 to 9999, read by plain arithmetic to the same
    /// instant as GRDB reads it (through a calendar); nil for anything else, which GRDB reads.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        guard bytes.count == 23, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x20, bytes[13] == 0x3A, bytes[16] == 0x3A, bytes[19] == 0x2E
        else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<start + count {
                let digit = Int(bytes[index]) - 0x30
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2), let milliseconds = number(20, 3),
              (1600...9999).contains(year), (1...12).contains(month), (1...Timestamp.daysIn(year, month)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        let seconds = Timestamp.daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + Double(milliseconds) / 1000)
    }
}

extension StoredDate: StatementColumnConvertible {
    /// Straight from SQLite's text, without a String or a calendar; anything else as GRDB reads it.
    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        if sqlite3_column_type(sqliteStatement, index) == SQLITE_TEXT, let text = sqlite3_column_text(sqliteStatement, index),
           let date = Self.parse(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(sqliteStatement, index)))) {
            self.init(date)
            return
        }
        guard let date = Date(sqliteStatement: sqliteStatement, index: index) else { return nil }
        self.init(date)
    }
}

extension Date {
    /// This date as the store writes it.
    var stored: StoredDate { StoredDate(self) }
}

/// A value stored as text: read straight from SQLite's text when the column holds text (GRDB's fast
/// path, no intermediate `DatabaseValue`), anything else as `fromDatabaseValue` reads it.
public protocol TextColumn: DatabaseValueConvertible, StatementColumnConvertible {
    /// The value for this text, or nil when the text is not one.
    init?(storedText: String)
}

extension TextColumn {
    public init?(sqliteStatement: SQLiteStatement, index: CInt) {
        if sqlite3_column_type(sqliteStatement, index) == SQLITE_TEXT {
            self.init(storedText: String(sqliteStatement: sqliteStatement, index: index))
        } else if let value = Self.fromDatabaseValue(DatabaseValue(sqliteStatement: sqliteStatement, index: index)) {
            self = value
        } else {
            return nil
        }
    }
}

extension TextColumn where Self: RawRepresentable, RawValue == String {
    public init?(storedText: String) { self.init(rawValue: storedText) }
}

// MARK: - BRIDGE: formerly Binding.swift

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
