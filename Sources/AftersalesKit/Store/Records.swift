import AftersalesDomain
import Foundation
import GRDB
import GRDBSQLite

// The domain types persisted as they are: GRDB's Codable records, their columns named by their
// CodingKeys (GRDB's demo pattern). Dates are stored as GRDB stores a `Date`; arrays and nested
// values are GRDB's JSON columns (sorted keys), as every earlier version wrote them.

/// GRDB's JSON coders for JSON columns, with GRDB's own settings, made once: GRDB's default makes a
/// new coder for each JSON column of each row, and the planner reads thousands of rows per batch.
protocol SharedJSONCoders: FetchableRecord, EncodableRecord {}

enum RecordJSON {
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dataDecodingStrategy = .base64
        decoder.dateDecodingStrategy = .millisecondsSince1970
        decoder.nonConformingFloatDecodingStrategy = .throw
        return decoder
    }()
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dataEncodingStrategy = .base64
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.nonConformingFloatEncodingStrategy = .throw
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    /// A JSON array of text as ``decoder`` reads it, up to 16 texts kept: shipments share a handful of
    /// document lists, and JSONDecoder on each shipment's list was 6.8% of a full plan (perf, release,
    /// bench row 3).
    static func strings(_ json: Data) throws -> [String] {
        try documentLists.value(json) { try decoder.decode([String].self, from: json) }
    }
    static let documentLists = Memo<Data, [String]>(capacity: 16)

    /// `values` as one JSON array: the single argument of ``AftersalesStore/FactsSQL/chosen``.
    static func array(_ values: [String]) throws -> String { String(decoding: try encoder.encode(values), as: UTF8.self) }
}

extension SharedJSONCoders {
    public static func databaseJSONDecoder(for column: String) -> JSONDecoder { RecordJSON.decoder }
    public static func databaseJSONEncoder(for column: String) -> JSONEncoder { RecordJSON.encoder }
}

// MARK: Values stored as text

// Each is also `StatementColumnConvertible`, GRDB's documented fast path for reading a column (free for
// the enums): through `DatabaseValue`, the shipments' and events' enums were 2.9% of a full plan's
// instructions (callgrind, bench row 3 at 4.1x sqlite3 against a target of 3x).

extension EmailAddress: DatabaseValueConvertible, StatementColumnConvertible {
    public var databaseValue: DatabaseValue { value.databaseValue }
    public init(sqliteStatement: SQLiteStatement, index: CInt) { self.init(unchecked: String(sqliteStatement: sqliteStatement, index: index)) }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> EmailAddress? { String.fromDatabaseValue(dbValue).map(EmailAddress.init(unchecked:)) }
}
extension LocaleTag: DatabaseValueConvertible, StatementColumnConvertible {
    public var databaseValue: DatabaseValue { value.databaseValue }
    public init(sqliteStatement: SQLiteStatement, index: CInt) { self.init(unchecked: String(sqliteStatement: sqliteStatement, index: index)) }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> LocaleTag? { String.fromDatabaseValue(dbValue).map(LocaleTag.init(unchecked:)) }
}
extension CountryCode: DatabaseValueConvertible, StatementColumnConvertible {
    public var databaseValue: DatabaseValue { value.databaseValue }
    public init(sqliteStatement: SQLiteStatement, index: CInt) { self.init(unchecked: String(sqliteStatement: sqliteStatement, index: index)) }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> CountryCode? { String.fromDatabaseValue(dbValue).map(CountryCode.init(unchecked:)) }
}
extension TimeZoneID: DatabaseValueConvertible, StatementColumnConvertible {
    public var databaseValue: DatabaseValue { value.databaseValue }
    public init(sqliteStatement: SQLiteStatement, index: CInt) { self.init(unchecked: String(sqliteStatement: sqliteStatement, index: index)) }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> TimeZoneID? { String.fromDatabaseValue(dbValue).map(TimeZoneID.init(unchecked:)) }
}
extension ShipmentMode: DatabaseValueConvertible, StatementColumnConvertible {}
extension ShipmentEventKind: DatabaseValueConvertible, StatementColumnConvertible {}
extension ComplaintCategory: DatabaseValueConvertible, StatementColumnConvertible {}
extension RepurchaseIntent: DatabaseValueConvertible, StatementColumnConvertible {}
extension EventKind: DatabaseValueConvertible, StatementColumnConvertible {}

extension Date {
    /// The date as GRDB stores it (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), for the writes made by the thousand.
    /// GRDB formats every date through one shared ICU DateFormatter behind a lock: 6% of a full plan
    /// (perf, release, bench row 3 at 3.7x to 4.1x sqlite3 against a target of 3x). A date on a whole
    /// millisecond (all that GRDB stores and reads back, planned times, `--now`) is written by Foundation's
    /// ISO 8601 style instead, 5.7 times faster. ICU rounds to the millisecond where the style truncates,
    /// so the style is given the middle of that millisecond: the same text (StoredDateTests). Other dates stay with GRDB.
    var storedValue: DatabaseValue {
        let milliseconds = timeIntervalSinceReferenceDate * 1000, whole = milliseconds.rounded()
        guard abs(milliseconds - whole) < 0.001 else { return databaseValue }
        return Date(timeIntervalSinceReferenceDate: (whole + 0.5) / 1000).formatted(Self.storage).databaseValue
    }

    private static let storage = Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().dateSeparator(.dash)
        .dateTimeSeparator(.space).time(includingFractionalSeconds: true).timeSeparator(.colon)
}

/// A date column read by GRDB's fast path for columns (`StatementColumnConvertible`): the stored format
/// is read by ``Timestamp/stored(_:)``, any other value by GRDB. GRDB's parser with Calendar was 2,100
/// instructions a date, 5.4% of a full plan (see ``Timestamp/stored(_:)``).
struct StoredTime: DatabaseValueConvertible, StatementColumnConvertible {
    var date: Date
    var databaseValue: DatabaseValue { date.storedValue }
    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoredTime? { Date.fromDatabaseValue(dbValue).map { StoredTime(date: $0) } }
}

extension StoredTime {
    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        let text = sqlite3_column_type(sqliteStatement, index) == SQLITE_TEXT ? sqlite3_column_text(sqliteStatement, index) : nil
        guard let date = text.flatMap({ Timestamp.stored(UnsafeBufferPointer(start: $0, count: Int(sqlite3_column_bytes(sqliteStatement, index)))) })
            ?? Date(sqliteStatement: sqliteStatement, index: index) else { return nil }
        self.date = date
    }
}

extension Row {
    /// The date at `index`, through ``StoredTime``.
    func date(atIndex index: Int) throws -> Date { try decode(StoredTime.self, atIndex: index).date }
    /// The date at `index`, or nil for NULL, through ``StoredTime``.
    func optionalDate(atIndex index: Int) throws -> Date? { try decode(StoredTime?.self, atIndex: index)?.date }
}

// MARK: Records

extension Customer: FetchableRecord, PersistableRecord, SharedJSONCoders {
    public static let databaseTableName = "customers"
    public enum Columns {
        public static let id = Column(CodingKeys.id)
    }

    // GRDB's fast path (see ``Shipment/selected``): a signed link's POST reads one customer, and through
    // Codable that decoding was 7.5% of the server's CPU under wrk (perf, release, unsubscribe POST).

    /// Every column, in the order ``init(row:)`` reads them.
    static let selected = [CodingKeys.id, .name, .company, .email, .cc, .locale, .timeZone, .country, .industry, .manager,
                           .consent, .consentAt, .unsubscribedAt, .createdAt].map { Column($0) }
    public static var databaseSelection: [any SQLSelectable] { selected }

    /// A customer from a row of ``selected``, by position.
    public init(row: Row) throws {
        let manager: Data? = try row.decode(atIndex: 9)
        self.init(id: try row.decode(atIndex: 0), name: try row.decode(atIndex: 1), company: try row.decode(atIndex: 2),
                  email: try row.decode(atIndex: 3), cc: try RecordJSON.decoder.decode([EmailAddress].self, from: row.decode(Data.self, atIndex: 4)),
                  locale: try row.decode(atIndex: 5), timeZone: try row.decode(atIndex: 6), country: try row.decode(atIndex: 7),
                  industry: try row.decode(atIndex: 8), manager: try manager.map { try RecordJSON.decoder.decode(AccountManager.self, from: $0) },
                  consent: try row.decode(atIndex: 10), consentAt: try row.optionalDate(atIndex: 11), unsubscribedAt: try row.optionalDate(atIndex: 12),
                  createdAt: try row.date(atIndex: 13))
    }
}

extension Product: FetchableRecord, PersistableRecord, SharedJSONCoders {
    public static let databaseTableName = "products"
    public enum Columns {
        public static let sku = Column(CodingKeys.sku)
    }
}

extension Order: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "orders"
    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let customerID = Column(CodingKeys.customerID)
        public static let currency = Column(CodingKeys.currency)
        public static let placedAt = Column(CodingKeys.placedAt)
        public static let completedAt = Column(CodingKeys.completedAt)
        public static let cancelledAt = Column(CodingKeys.cancelledAt)
    }

    /// The order's lines, in order (the table `order_lines`), prefetched under the key `lines`.
    static let orderLines = hasMany(OrderLineRecord.self, key: CodingKeys.lines.stringValue).order(OrderLineRecord.Columns.position)

    /// Orders with their lines, for reads of a few orders (GRDB's prefetch binds every order's id, and
    /// SQLite takes at most 32,766: reads of any number of orders use ``fetchAll(_:_:lines:)``).
    static var withLines: QueryInterfaceRequest<Order> { including(all: orderLines) }

    /// Every column of `orders`, in the order ``init(row:)`` reads them (GRDB's fast path, as ``Shipment/selected``:
    /// orders and their lines are the facts batch's most numerous rows after shipments and their events).
    static let selected = [Columns.id, Columns.customerID, Columns.currency, Columns.placedAt, Columns.completedAt, Columns.cancelledAt]
    public static var databaseSelection: [any SQLSelectable] { selected }

    /// An order from a row of ``selected``, by position, with the lines prefetched under `lines`
    /// (``withLines``), or none when none were prefetched: ``fetchAll(_:_:lines:)`` then sets them.
    public init(row: Row) throws {
        self.init(id: try row.decode(atIndex: 0), customerID: try row.decode(atIndex: 1),
                  lines: try (row.prefetchedRows[CodingKeys.lines.stringValue] ?? []).map { try OrderLineRecord(row: $0).line },
                  currency: try row.decode(atIndex: 2), placedAt: try row.date(atIndex: 3), completedAt: try row.optionalDate(atIndex: 4),
                  cancelledAt: try row.optionalDate(atIndex: 5))
    }

    /// The orders of `orders`, each with its lines from `lines` (which must hold every line of those
    /// orders, in any order): two queries, for any number of orders.
    static func fetchAll(_ db: Database, _ orders: some FetchRequest<Order>, lines: some FetchRequest<OrderLineRecord>) throws -> [Order] {
        let lines = Dictionary(grouping: try lines.fetchAll(db), by: \.orderID).mapValues { $0.sorted { $0.position < $1.position } }
        return try orders.fetchAll(db).map { order in
            var order = order
            order.lines = (lines[order.id] ?? []).map(\.line)
            return order
        }
    }

    /// The row of `orders` (the lines are ``lineRecords``, written beside it).
    public func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.customerID] = customerID
        container[Columns.currency] = currency
        container[Columns.placedAt] = placedAt
        container[Columns.completedAt] = completedAt
        container[Columns.cancelledAt] = cancelledAt
    }

    /// The rows of `order_lines` for this order.
    var lineRecords: [OrderLineRecord] {
        lines.enumerated().map { OrderLineRecord(orderID: id, position: $0.offset, sku: $0.element.sku, quantity: $0.element.quantity,
                                                 unitPriceMinor: $0.element.unitPriceMinor) }
    }

    /// Inserts the order and its lines.
    func insertWithLines(_ db: Database) throws {
        try insert(db)
        try insertLines(db)
    }

    /// Replaces the stored lines of the order with its lines.
    func replaceLines(_ db: Database) throws {
        try OrderLineRecord.filter(OrderLineRecord.Columns.orderID == id).deleteAll(db)
        try insertLines(db)
    }

    private func insertLines(_ db: Database) throws {
        for line in lineRecords { try line.insert(db) }
    }
}

/// One line of an order as stored: the order, its place in it, and the ``OrderLine`` fields.
struct OrderLineRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "order_lines"
    var orderID: String
    var position: Int
    var sku: String
    var quantity: Int
    var unitPriceMinor: Int64?

    enum CodingKeys: String, CodingKey { case orderID, position, sku, quantity, unitPriceMinor }
    enum Columns {
        static let orderID = Column(CodingKeys.orderID)
        static let position = Column(CodingKeys.position)
    }

    var line: OrderLine { OrderLine(sku: sku, quantity: quantity, unitPriceMinor: unitPriceMinor) }
}

extension OrderLineRecord {
    /// Every column, in the order ``init(row:)`` reads them (GRDB's fast path, see ``Order/selected``).
    static let selected = [CodingKeys.orderID, .position, .sku, .quantity, .unitPriceMinor].map { Column($0) }
    static var databaseSelection: [any SQLSelectable] { selected }

    /// A line from a row of ``selected``, by position.
    init(row: Row) throws {
        self.init(orderID: try row.decode(atIndex: 0), position: try row.decode(atIndex: 1), sku: try row.decode(atIndex: 2),
                  quantity: try row.decode(atIndex: 3), unitPriceMinor: try row.decode(atIndex: 4))
    }
}

extension Shipment: FetchableRecord, PersistableRecord, SharedJSONCoders {
    public static let databaseTableName = "shipments"
    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let orderID = Column(CodingKeys.orderID)
        public static let dispatchedAt = Column(CodingKeys.dispatchedAt)
    }

    // GRDB's fast path (`databaseSelection` and positional `init(row:)`) for the facts batch's most
    // numerous rows: shipments, their events, orders and their lines. Through Codable and name lookups
    // the facts read was 37% of a full plan's CPU (perf, 19,098 orders: Shipment 11.9%, ShipmentEvent
    // 10.9%, orders and lines 6%), by position 26%; the full plan took 1.25 s of CPU, now 1.1 s.
    // The other records are read through Codable.

    /// Every column, in the order ``init(row:)`` reads them.
    static let selected = [CodingKeys.id, .orderID, .carrier, .trackingNumber, .trackingURL, .mode, .dispatchedAt, .eta,
                           .destinationCountry, .destinationPort, .documents, .dispatchETA].map { Column($0) }
    public static var databaseSelection: [any SQLSelectable] { selected }

    /// A shipment from a row of ``selected``, by position.
    public init(row: Row) throws {
        self.init(id: try row.decode(atIndex: 0), orderID: try row.decode(atIndex: 1), carrier: try row.decode(atIndex: 2),
                  trackingNumber: try row.decode(atIndex: 3), trackingURL: try row.decode(atIndex: 4), mode: try row.decode(atIndex: 5),
                  dispatchedAt: try row.date(atIndex: 6), eta: try row.date(atIndex: 7), dispatchETA: try row.date(atIndex: 11),
                  destinationCountry: try row.decode(atIndex: 8), destinationPort: try row.decode(atIndex: 9),
                  documents: try RecordJSON.strings(row.decode(Data.self, atIndex: 10)))
    }
}

extension ShipmentEvent: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "shipment_events"
    public enum Columns {
        public static let shipmentID = Column(CodingKeys.shipmentID)
        public static let at = Column(CodingKeys.at)
        /// The order events were recorded in, among events at the same time.
        public static let rowID = Column.rowID
    }

    /// Every column, in the order ``init(row:)`` reads them (GRDB's fast path: see ``Shipment/selected``).
    static let selected = [CodingKeys.shipmentID, .kind, .at, .location, .note, .newETA, .cause, .remedy, .reason, .signedBy].map { Column($0) }
    public static var databaseSelection: [any SQLSelectable] { selected }

    /// An event from a row of ``selected``, by position.
    public init(row: Row) throws {
        self.init(shipmentID: try row.decode(atIndex: 0), kind: try row.decode(atIndex: 1), at: try row.date(atIndex: 2),
                  location: try row.decode(atIndex: 3), note: try row.decode(atIndex: 4), newETA: try row.optionalDate(atIndex: 5),
                  cause: try row.decode(atIndex: 6), remedy: try row.decode(atIndex: 7), reason: try row.decode(atIndex: 8),
                  signedBy: try row.decode(atIndex: 9))
    }
}

extension Complaint: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "complaints"
    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let orderID = Column(CodingKeys.orderID)
        public static let openedAt = Column(CodingKeys.openedAt)
    }
}

extension SurveyAnswer: FetchableRecord, PersistableRecord, SharedJSONCoders {
    public static let databaseTableName = "surveys"

    /// Every column, in the order ``init(row:)`` reads them (GRDB's fast path, as ``Shipment/selected``:
    /// through Codable a survey read was 45,000 instructions, 2.9% of a full plan's; callgrind, bench row 3
    /// at 4.1x sqlite3 against a target of 3x).
    static let selected = [CodingKeys.orderID, .score, .reason, .liked, .intent, .answeredAt].map { Column($0) }
    public static var databaseSelection: [any SQLSelectable] { selected }

    /// A survey answer from a row of ``selected``, by position.
    public init(row: Row) throws {
        self.init(orderID: try row.decode(atIndex: 0), score: try row.decode(atIndex: 1), reason: try row.decode(atIndex: 2),
                  liked: try RecordJSON.decoder.decode([ServiceAspect].self, from: row.decode(Data.self, atIndex: 3)),
                  intent: try row.decode(atIndex: 4), answeredAt: try row.date(atIndex: 5))
    }
}

extension Review: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "reviews"
    public enum Columns {
        public static let orderID = Column(CodingKeys.orderID)
        public static let reviewedAt = Column(CodingKeys.reviewedAt)
        /// The order reviews were recorded in, among reviews at the same time.
        public static let rowID = Column.rowID
    }

    /// Every column but the row id, in the order ``init(row:)`` reads them (GRDB's fast path, as
    /// ``SurveyAnswer/selected``: through Codable a review read was 46,000 instructions, 1.5% of a full plan's).
    static let selected = [CodingKeys.orderID, .positive, .text, .reviewedAt].map { Column($0) }
    public static var databaseSelection: [any SQLSelectable] { selected }

    /// A review from a row of ``selected``, by position.
    public init(row: Row) throws {
        self.init(orderID: try row.decode(atIndex: 0), positive: try row.decode(atIndex: 1), text: try row.decode(atIndex: 2),
                  reviewedAt: try row.date(atIndex: 3))
    }
}

extension Event: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "events"
    public enum Columns {
        public static let seq = Column(CodingKeys.seq)
        public static let orderID = Column(CodingKeys.orderID)
    }
    public mutating func didInsert(_ inserted: InsertionSuccess) { seq = inserted.rowID }
}
