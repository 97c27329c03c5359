import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

// Hand-written row decoding for the records that planning and sending read by the thousand.
// GRDB's Codable support builds a decoder, a keyed container and, for every JSON column, a fresh
// JSONDecoder for each row: in a full plan that was about a sixth of the time. These read the same
// columns into the same values (a test compares both ways on every table); writes of these types
// still go through Codable, except the outbox's, which the planner writes by the thousand.

/// JSON columns as GRDB's Codable support reads and writes them (sorted keys), with one coder each.
enum JSONColumn {
    static let decoder = JSONDecoder()
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dataEncodingStrategy = .base64
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.nonConformingFloatEncodingStrategy = .throw
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

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

    /// Order lines: read by `FlatJSON` when every line is exactly `sku`, `quantity` and an optional
    /// `unitPriceMinor` (as JSONEncoder writes them), else by JSONDecoder.
    static func decode(_ type: [OrderLine].Type, _ text: String) throws -> [OrderLine] {
        try FlatJSON.objects(text).flatMap(orderLines) ?? decoder.decode([OrderLine].self, from: Data(text.utf8))
    }

    /// The lines, or nil when one is not exactly `sku`, `quantity` and an optional integer `unitPriceMinor`.
    private static func orderLines(_ objects: [[String: FlatJSON.Scalar]]) -> [OrderLine]? {
        var lines: [OrderLine] = []
        lines.reserveCapacity(objects.count)
        for object in objects {
            guard object.keys.allSatisfy({ ["sku", "quantity", "unitPriceMinor"].contains($0) }),
                  case .string(let sku)? = object["sku"], case .integer(let quantity)? = object["quantity"], let count = Int(exactly: quantity)
            else { return nil }
            let price: Int64?
            switch object["unitPriceMinor"] {
            case nil: price = nil
            case .integer(let minor)?: price = minor
            case .string?: return nil
            }
            lines.append(OrderLine(sku: sku, quantity: count, unitPriceMinor: price))
        }
        return lines
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

    /// A value of a flat object in ``objects(_:)``.
    enum Scalar: Equatable {
        case string(String)
        case integer(Int64)
    }

    /// `[{"k":"v","n":1}]`: an array of objects whose values are strings or plain integers (no
    /// fraction, exponent or leading zero), or nil for any other text.
    static func objects(_ text: String) -> [[String: Scalar]]? {
        var text = text
        return text.withUTF8 { bytes -> [[String: Scalar]]? in
            var reader = Reader(bytes: bytes)
            guard reader.take(UInt8(ascii: "[")) else { return nil }
            var out: [[String: Scalar]] = []
            if reader.take(UInt8(ascii: "]")) { return reader.atEnd ? out : nil }
            repeat {
                guard reader.take(UInt8(ascii: "{")) else { return nil }
                var object: [String: Scalar] = [:]
                if !reader.take(UInt8(ascii: "}")) {
                    repeat {
                        guard let key = reader.string(), reader.take(UInt8(ascii: ":")) else { return nil }
                        if let value = reader.string() { object[key] = .string(value) } else if let value = reader.integer() { object[key] = .integer(value) } else { return nil }
                    } while reader.take(UInt8(ascii: ","))
                    guard reader.take(UInt8(ascii: "}")) else { return nil }
                }
                out.append(object)
            } while reader.take(UInt8(ascii: ","))
            return reader.take(UInt8(ascii: "]")) && reader.atEnd ? out : nil
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

        /// `-?(0|[1-9][0-9]*)` that fits in 64 bits, not followed by a fraction or exponent; nil otherwise,
        /// and then the position is not moved past the number.
        mutating func integer() -> Int64? {
            skipSpace()
            var i = index
            let negative = i < bytes.count && bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            let start = i
            var value: Int64 = 0
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(Int64(bytes[i] - UInt8(ascii: "0")))
                guard !o1, !o2 else { return nil }
                value = plus
                i += 1
            }
            guard i > start, !(bytes[start] == UInt8(ascii: "0") && i - start > 1) else { return nil }
            if i < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) { return nil }
            index = i
            return negative ? -value : value
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

    /// Every row of `statement` by the customer it belongs to, named by a last column `owner`, in
    /// the statement's order; by position when the other columns are exactly ``Field``'s.
    static func fetchByOwner(_ statement: Statement, arguments: StatementArguments) throws -> [String: [Self]] {
        let positional = positional(statement, extra: ["owner"])
        var out: [String: [Self]] = [:]
        try Row.fetchCursor(statement, arguments: arguments).forEach { row in
            let owner: String = positional ? try row.decode(atIndex: Field.names.count) : try row.decode(forColumn: "owner")
            out[owner, default: []].append(try Self(Fields(row: row, positional: positional)))
        }
        return out
    }

    /// The first row of `statement`, read as ``fetchAll(fields:arguments:)`` reads them.
    static func fetchOne(fields statement: Statement, arguments: StatementArguments) throws -> Self? {
        let positional = positional(statement)
        // Read inside the cursor's step: a row outlives neither the cursor nor the step.
        return try Row.fetchCursor(statement, arguments: arguments).map { try Self(Fields(row: $0, positional: positional)) }.next()
    }
}

extension Customer: FieldRecord {
    enum Field: Int, FieldList {
        case id, name, company, email, cc, locale, timeZone, country, industry, manager, consent, consentAt, unsubscribedAt, createdAt
        static let names = allCases.map { "\($0)" }
    }

    public init(row: Row) throws { try self.init(named: row) }

    init(_ f: Fields<Field>) throws {
        self.init(id: try f(.id), name: try f(.name), company: try f(.company), email: try f(.email),
                  cc: try JSONColumn.decode([EmailAddress].self, f(.cc) as String), locale: try f(.locale), timeZone: try f(.timeZone),
                  country: try f(.country), industry: try f(.industry), manager: try JSONColumn.decode(AccountManager?.self, f(.manager) as String?),
                  consent: try f(.consent), consentAt: try f.optionalDate(.consentAt), unsubscribedAt: try f.optionalDate(.unsubscribedAt),
                  createdAt: try f.date(.createdAt))
    }
}

extension Product: FieldRecord {
    enum Field: Int, FieldList {
        case sku, name, technical, maintenance, cycleDays, manualURL, videoURL, partsURL, successorSKU, successorOffer, succeededAt
        static let names = allCases.map { "\($0)" }
    }

    public init(row: Row) throws { try self.init(named: row) }

    init(_ f: Fields<Field>) throws {
        self.init(sku: try f(.sku), name: try f(.name), technical: try f(.technical),
                  maintenance: try JSONColumn.decode(MaintenancePlan?.self, f(.maintenance) as String?), cycleDays: try f(.cycleDays),
                  manualURL: try f(.manualURL), videoURL: try f(.videoURL), partsURL: try f(.partsURL), successorSKU: try f(.successorSKU),
                  successorOffer: try f(.successorOffer), succeededAt: try f.optionalDate(.succeededAt))
    }
}

extension Order: FieldRecord {
    enum Field: Int, FieldList {
        case id, customerID, lines, currency, placedAt, completedAt, cancelledAt
        static let names = allCases.map { "\($0)" }
    }

    public init(row: Row) throws { try self.init(named: row) }

    init(_ f: Fields<Field>) throws {
        self.init(id: try f(.id), customerID: try f(.customerID), lines: try JSONColumn.decode([OrderLine].self, f(.lines) as String),
                  currency: try f(.currency), placedAt: try f.date(.placedAt), completedAt: try f.optionalDate(.completedAt),
                  cancelledAt: try f.optionalDate(.cancelledAt))
    }
}

extension Shipment: FieldRecord {
    enum Field: Int, FieldList {
        case id, orderID, carrier, trackingNumber, trackingURL, mode, dispatchedAt, eta, destinationCountry, destinationPort, documents
        static let names = allCases.map { "\($0)" }
    }

    public init(row: Row) throws { try self.init(named: row) }

    init(_ f: Fields<Field>) throws {
        self.init(id: try f(.id), orderID: try f(.orderID), carrier: try f(.carrier), trackingNumber: try f(.trackingNumber),
                  trackingURL: try f(.trackingURL), mode: try f(.mode), dispatchedAt: try f.date(.dispatchedAt), eta: try f.date(.eta),
                  destinationCountry: try f(.destinationCountry), destinationPort: try f(.destinationPort),
                  documents: try JSONColumn.decode([String].self, f(.documents) as String))
    }
}

extension ShipmentEvent: FieldRecord {
    enum Field: Int, FieldList {
        case shipmentID, kind, at, location, note, newETA, cause, remedy, reason, signedBy
        static let names = allCases.map { "\($0)" }
    }

    public init(row: Row) throws { try self.init(named: row) }

    init(_ f: Fields<Field>) throws {
        self.init(shipmentID: try f(.shipmentID), kind: try f(.kind), at: try f.date(.at), location: try f(.location), note: try f(.note),
                  newETA: try f.optionalDate(.newETA), cause: try f(.cause), remedy: try f(.remedy), reason: try f(.reason), signedBy: try f(.signedBy))
    }
}

extension Complaint: FieldRecord {
    enum Field: Int, FieldList {
        case id, orderID, category, text, openedAt, acknowledgedAt, solution, solutionAt, resolution, resolvedAt, rating, ratedAt
        static let names = allCases.map { "\($0)" }
    }

    public init(row: Row) throws { try self.init(named: row) }

    init(_ f: Fields<Field>) throws {
        self.init(id: try f(.id), orderID: try f(.orderID), category: try f(.category), text: try f(.text), openedAt: try f.date(.openedAt),
                  acknowledgedAt: try f.optionalDate(.acknowledgedAt), solution: try f(.solution), solutionAt: try f.optionalDate(.solutionAt),
                  resolution: try f(.resolution), resolvedAt: try f.optionalDate(.resolvedAt), rating: try f(.rating), ratedAt: try f.optionalDate(.ratedAt))
    }
}

extension SurveyAnswer: FieldRecord {
    enum Field: Int, FieldList {
        case orderID, score, reason, liked, intent, answeredAt
        static let names = allCases.map { "\($0)" }
    }

    public init(row: Row) throws { try self.init(named: row) }

    init(_ f: Fields<Field>) throws {
        self.init(orderID: try f(.orderID), score: try f(.score), reason: try f(.reason),
                  liked: try JSONColumn.decode([ServiceAspect].self, f(.liked) as String), intent: try f(.intent), answeredAt: try f.date(.answeredAt))
    }
}

extension Review: FieldRecord {
    enum Field: Int, FieldList {
        case orderID, positive, text, reviewedAt
        static let names = allCases.map { "\($0)" }
    }

    public init(row: Row) throws { try self.init(named: row) }

    init(_ f: Fields<Field>) throws {
        self.init(orderID: try f(.orderID), positive: try f(.positive), text: try f(.text), reviewedAt: try f.date(.reviewedAt))
    }
}
