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

    /// The JSON text of `column` decoded as `T`; NULL is an error.
    static func decode<T: Decodable>(_ type: T.Type, _ row: Row, _ column: String) throws -> T {
        let text: String = try row.decode(forColumn: column)
        return try decoder.decode(T.self, from: Data(text.utf8))
    }

    /// The JSON text of `column` decoded as `T`, or nil when it is NULL.
    static func decode<T: Decodable>(_ type: T?.Type, _ row: Row, _ column: String) throws -> T? {
        let text: String? = try row.decode(forColumn: column)
        return try text.map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    /// An array of strings: read by `FlatJSON` when it can, else by JSONDecoder.
    static func decode(_ type: [String].Type, _ row: Row, _ column: String) throws -> [String] {
        let text: String = try row.decode(forColumn: column)
        return try FlatJSON.strings(text) ?? decoder.decode([String].self, from: Data(text.utf8))
    }

    /// An object of string values: read by `FlatJSON` when it can, else by JSONDecoder.
    static func decode(_ type: [String: String].Type, _ row: Row, _ column: String) throws -> [String: String] {
        let text: String = try row.decode(forColumn: column)
        return try FlatJSON.object(text) ?? decoder.decode([String: String].self, from: Data(text.utf8))
    }

    /// Order lines: read by `FlatJSON` when every line is exactly `sku`, `quantity` and an optional
    /// `unitPriceMinor` (as JSONEncoder writes them), else by JSONDecoder.
    static func decode(_ type: [OrderLine].Type, _ row: Row, _ column: String) throws -> [OrderLine] {
        let text: String = try row.decode(forColumn: column)
        return try FlatJSON.objects(text).flatMap(orderLines) ?? decoder.decode([OrderLine].self, from: Data(text.utf8))
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
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
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

extension Row {
    /// A date column, read through ``StoredDate``'s fast path (no String, no calendar).
    func date(_ column: String) throws -> Date { try decode(StoredDate.self, forColumn: column).date }

    /// An optional date column, read through ``StoredDate``'s fast path.
    func optionalDate(_ column: String) throws -> Date? { try decode(StoredDate?.self, forColumn: column)?.date }
}

extension Customer {
    public init(row: Row) throws {
        self.init(id: try row.decode(forColumn: "id"), name: try row.decode(forColumn: "name"), company: try row.decode(forColumn: "company"),
                  email: try row.decode(forColumn: "email"), cc: try JSONColumn.decode([EmailAddress].self, row, "cc"),
                  locale: try row.decode(forColumn: "locale"), timeZone: try row.decode(forColumn: "timeZone"),
                  country: try row.decode(forColumn: "country"), industry: try row.decode(forColumn: "industry"),
                  manager: try JSONColumn.decode(AccountManager?.self, row, "manager"), consent: try row.decode(forColumn: "consent"),
                  consentAt: try row.optionalDate("consentAt"), unsubscribedAt: try row.optionalDate("unsubscribedAt"),
                  createdAt: try row.date("createdAt"))
    }
}

extension Product {
    public init(row: Row) throws {
        self.init(sku: try row.decode(forColumn: "sku"), name: try row.decode(forColumn: "name"), technical: try row.decode(forColumn: "technical"),
                  maintenance: try JSONColumn.decode(MaintenancePlan?.self, row, "maintenance"), cycleDays: try row.decode(forColumn: "cycleDays"),
                  manualURL: try row.decode(forColumn: "manualURL"), videoURL: try row.decode(forColumn: "videoURL"),
                  partsURL: try row.decode(forColumn: "partsURL"), successorSKU: try row.decode(forColumn: "successorSKU"),
                  successorOffer: try row.decode(forColumn: "successorOffer"), succeededAt: try row.optionalDate("succeededAt"))
    }
}

extension Order {
    public init(row: Row) throws {
        self.init(id: try row.decode(forColumn: "id"), customerID: try row.decode(forColumn: "customerID"),
                  lines: try JSONColumn.decode([OrderLine].self, row, "lines"), currency: try row.decode(forColumn: "currency"),
                  placedAt: try row.date("placedAt"), completedAt: try row.optionalDate("completedAt"),
                  cancelledAt: try row.optionalDate("cancelledAt"))
    }
}

extension Shipment {
    public init(row: Row) throws {
        self.init(id: try row.decode(forColumn: "id"), orderID: try row.decode(forColumn: "orderID"), carrier: try row.decode(forColumn: "carrier"),
                  trackingNumber: try row.decode(forColumn: "trackingNumber"), trackingURL: try row.decode(forColumn: "trackingURL"),
                  mode: try row.decode(forColumn: "mode"), dispatchedAt: try row.date("dispatchedAt"), eta: try row.date("eta"),
                  destinationCountry: try row.decode(forColumn: "destinationCountry"), destinationPort: try row.decode(forColumn: "destinationPort"),
                  documents: try JSONColumn.decode([String].self, row, "documents"))
    }
}

extension ShipmentEvent {
    public init(row: Row) throws {
        self.init(shipmentID: try row.decode(forColumn: "shipmentID"), kind: try row.decode(forColumn: "kind"), at: try row.date("at"),
                  location: try row.decode(forColumn: "location"), note: try row.decode(forColumn: "note"), newETA: try row.optionalDate("newETA"),
                  cause: try row.decode(forColumn: "cause"), remedy: try row.decode(forColumn: "remedy"), reason: try row.decode(forColumn: "reason"),
                  signedBy: try row.decode(forColumn: "signedBy"))
    }
}

extension Complaint {
    public init(row: Row) throws {
        self.init(id: try row.decode(forColumn: "id"), orderID: try row.decode(forColumn: "orderID"), category: try row.decode(forColumn: "category"),
                  text: try row.decode(forColumn: "text"), openedAt: try row.date("openedAt"),
                  acknowledgedAt: try row.optionalDate("acknowledgedAt"), solution: try row.decode(forColumn: "solution"),
                  solutionAt: try row.optionalDate("solutionAt"), resolution: try row.decode(forColumn: "resolution"),
                  resolvedAt: try row.optionalDate("resolvedAt"), rating: try row.decode(forColumn: "rating"), ratedAt: try row.optionalDate("ratedAt"))
    }
}

extension SurveyAnswer {
    public init(row: Row) throws {
        self.init(orderID: try row.decode(forColumn: "orderID"), score: try row.decode(forColumn: "score"), reason: try row.decode(forColumn: "reason"),
                  liked: try JSONColumn.decode([ServiceAspect].self, row, "liked"), intent: try row.decode(forColumn: "intent"),
                  answeredAt: try row.date("answeredAt"))
    }
}

extension Review {
    public init(row: Row) throws {
        self.init(orderID: try row.decode(forColumn: "orderID"), positive: try row.decode(forColumn: "positive"), text: try row.decode(forColumn: "text"),
                  reviewedAt: try row.date("reviewedAt"))
    }
}

extension OutboxEntry {
    public init(row: Row) throws {
        key = try row.decode(forColumn: "key")
        rule = try row.decode(forColumn: "rule")
        stream = try row.decode(forColumn: "stream")
        audience = try row.decode(forColumn: "audience")
        customerID = try row.decode(forColumn: "customerID")
        orderID = try row.decode(forColumn: "orderID")
        subject = try row.decode(forColumn: "subject")
        occurrence = try row.decode(forColumn: "occurrence")
        triggeredAt = try row.date("triggeredAt")
        nominalDue = try row.date("nominalDue")
        due = try row.date("due")
        deadline = try row.optionalDate("deadline")
        staleAt = try row.optionalDate("staleAt")
        toAddresses = try JSONColumn.decode([String].self, row, "toAddresses")
        ccAddresses = try JSONColumn.decode([String].self, row, "ccAddresses")
        locale = try row.decode(forColumn: "locale")
        timeZone = try row.decode(forColumn: "timeZone")
        template = try row.decode(forColumn: "template")
        needsApproval = try row.decode(forColumn: "needsApproval")
        status = try row.decode(forColumn: "status")
        reason = try row.decode(forColumn: "reason")
        reasons = try JSONColumn.decode([String].self, row, "reasons")
        flags = try JSONColumn.decode([String].self, row, "flags")
        context = try JSONColumn.decode([String: String].self, row, "context")
        createdAt = try row.date("createdAt")
        updatedAt = try row.date("updatedAt")
        attempts = try row.decode(forColumn: "attempts")
        nextAttemptAt = try row.optionalDate("nextAttemptAt")
        sentAt = try row.optionalDate("sentAt")
        messageID = try row.decode(forColumn: "messageID")
        serverReply = try row.decode(forColumn: "serverReply")
        sha256 = try row.decode(forColumn: "sha256")
    }

    /// Every column of the outbox as the planner writes it, in one list: `encode(to:)` (GRDB's
    /// record writes) and ``insertOrIgnore(_:)`` (the planner's inserts, by the thousand) both use it.
    static let written: [(column: String, value: @Sendable (OutboxEntry) throws -> (any DatabaseValueConvertible)?)] = [
        ("key", { $0.key }),
        ("rule", { $0.rule }),
        ("stream", { $0.stream }),
        ("audience", { $0.audience }),
        ("customerID", { $0.customerID }),
        ("orderID", { $0.orderID }),
        ("subject", { $0.subject }),
        ("occurrence", { $0.occurrence }),
        ("triggeredAt", { $0.triggeredAt.stored }),
        ("nominalDue", { $0.nominalDue.stored }),
        ("due", { $0.due.stored }),
        ("deadline", { $0.deadline?.stored }),
        ("staleAt", { $0.staleAt?.stored }),
        ("toAddresses", { FlatJSON.encode($0.toAddresses) }),
        ("ccAddresses", { FlatJSON.encode($0.ccAddresses) }),
        ("locale", { $0.locale }),
        ("timeZone", { $0.timeZone }),
        ("template", { $0.template }),
        ("needsApproval", { $0.needsApproval }),
        ("status", { $0.status }),
        ("reason", { $0.reason }),
        ("reasons", { FlatJSON.encode($0.reasons) }),
        ("flags", { FlatJSON.encode($0.flags) }),
        ("context", { try JSONColumn.encode($0.context) }),
        ("createdAt", { $0.createdAt.stored }),
        ("updatedAt", { $0.updatedAt.stored }),
        ("attempts", { $0.attempts }),
        ("nextAttemptAt", { $0.nextAttemptAt?.stored }),
        ("sentAt", { $0.sentAt?.stored }),
        ("messageID", { $0.messageID }),
        ("serverReply", { $0.serverReply }),
        ("sha256", { $0.sha256 }),
    ]

    public func encode(to container: inout PersistenceContainer) throws {
        for (column, value) in Self.written { container[column] = try value(self) }
    }

    static let insertOrIgnoreSQL = "INSERT OR IGNORE INTO outbox (" + written.map(\.column).joined(separator: ", ") + ") VALUES ("
        + Array(repeating: "?", count: written.count).joined(separator: ", ") + ")"

    /// `INSERT OR IGNORE` through one cached statement with the values in column order: GRDB's
    /// record insert builds a container of 32 named values per row, which the full plan felt.
    func insertOrIgnore(_ db: Database) throws {
        let values: [(any DatabaseValueConvertible)?] = try Self.written.map { try $0.value(self) }
        // A slice, so that the sequence initializer is chosen (an array would also fit the failable `[Any]` one).
        try db.cachedStatement(sql: Self.insertOrIgnoreSQL).execute(arguments: StatementArguments(values[...]))
    }
}
