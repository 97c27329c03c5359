import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

@Suite("Store")
struct StoreTests {
    let now = t("2026-11-23T10:00:00Z")

    @Test("recorded facts are stored and appended to the event log with both times")
    func eventLog() throws {
        let store = try seededStore()
        _ = try store.dispatch(Shipment(id: "S1", orderID: "O1", carrier: "Maersk", trackingNumber: "M1",
                                        dispatchedAt: t("2026-11-05T00:00:00Z"), eta: t("2026-12-10T00:00:00Z")), now: now)
        _ = try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delayed, at: t("2026-11-10T00:00:00Z"),
                                                        newETA: t("2026-12-15T00:00:00Z"), cause: "port congestion"), now: now)
        let events = try store.events()
        #expect(events.map(\.kind) == [.customerAdded, .productAdded, .productAdded, .orderPlaced, .shipmentDispatched, .shipmentDelayed])
        #expect(events.map(\.seq) == [1, 2, 3, 4, 5, 6])
        let delay = try #require(events.last)
        #expect(delay.occurredAt == t("2026-11-10T00:00:00Z"))
        #expect(delay.recordedAt == now)
        #expect(delay.orderID == "O1" && delay.customerID == "C1" && delay.subject == "S1")
        #expect(delay.payload.contains("port congestion"))
        let shipment = try store.shipment(id: "S1")
        #expect(shipment.shipment.eta == t("2026-12-15T00:00:00Z"), "a delay moves the ETA")
        #expect(shipment.shipment.documents == Shipment.defaultDocuments)
        #expect(shipment.shipment.destinationCountry?.value == "MX", "destination defaults to the customer's country")
        #expect(shipment.state == "delayed")
    }

    @Test("text with CR/LF, Chinese, Arabic, emoji and 10,000 characters is stored exactly")
    func exactText() throws {
        let store = try seededStore()
        let text = "两台泵外壳破裂\r\nوصلت البضاعة تالفة 🙁\n" + String(repeating: "ж", count: 10_000)
        _ = try store.openComplaint(id: "K1", orderID: "O1", category: .damage, text: text, at: now, now: now)
        #expect(try store.complaint(id: "K1").text == text)
        let customer = try store.addCustomer(id: "C-SA", CustomerChanges(name: "فهد العتيبي 🌴", email: "fahad@example.sa", locale: "ar",
                                                                          timeZone: "Asia/Riyadh", country: "SA"), now: now)
        #expect(try store.customer(id: "C-SA") == customer)
        #expect(customer.name == "فهد العتيبي 🌴")
    }

    @Test("a refused fact writes nothing: no entity, no event")
    func refusalsWriteNothing() throws {
        let store = try seededStore()
        let before = try store.status()
        #expect(throws: AftersalesError.duplicate(entity: "customer", id: "C1")) {
            try store.addCustomer(id: "C1", CustomerChanges(name: "X", email: "x@example.com", locale: "en", timeZone: "UTC", country: "US"), now: now)
        }
        #expect(throws: AftersalesError.notFound(entity: "customer", id: "NOPE")) {
            try store.addOrder(id: "O2", customerID: "NOPE", lines: [OrderLine(sku: "P1", quantity: 1)], currency: "USD", at: now, now: now)
        }
        #expect(throws: AftersalesError.notFound(entity: "product", id: "NOPE")) {
            try store.addOrder(id: "O2", customerID: "C1", lines: [OrderLine(sku: "P1", quantity: 1), OrderLine(sku: "NOPE", quantity: 1)],
                               currency: "USD", at: now, now: now)
        }
        #expect(throws: AftersalesError.self) {
            try store.addOrder(id: "O2", customerID: "C1", lines: [OrderLine(sku: "P1", quantity: 1)], currency: "XYZ", at: now, now: now)
        }
        #expect(try store.status() == before)
    }

    @Test("impossible sequences are refused")
    func impossibleSequences() throws {
        let store = try seededStore()
        let shipment = Shipment(id: "S1", orderID: "O1", carrier: "DHL", trackingNumber: "1", dispatchedAt: t("2026-11-05T00:00:00Z"),
                                eta: t("2026-11-10T00:00:00Z"))
        // Dispatched before the order was placed.
        var early = shipment
        early.dispatchedAt = t("2026-10-01T00:00:00Z")
        #expect(throws: AftersalesError.self) { try store.dispatch(early, now: now) }
        _ = try store.dispatch(shipment, now: now)
        // Delivered before dispatched.
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-04T00:00:00Z")), now: now)
        }
        // Delay without the new ETA.
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delayed, at: t("2026-11-06T00:00:00Z"), cause: "x"), now: now)
        }
        // In the future.
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .inTransit, at: t("2026-11-24T00:00:00Z")), now: now)
        }
        _ = try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-09T00:00:00Z"), signedBy: "L. H."), now: now)
        // Nothing after delivery.
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .inTransit, at: t("2026-11-10T00:00:00Z")), now: now)
        }
        // A cancelled order takes no events.
        _ = try store.addOrder(id: "O2", customerID: "C1", lines: [OrderLine(sku: "P2", quantity: 1)], currency: "USD", at: t("2026-11-02T00:00:00Z"), now: now)
        _ = try store.dispatch(Shipment(id: "S2", orderID: "O2", carrier: "DHL", trackingNumber: "2", dispatchedAt: t("2026-11-03T00:00:00Z"),
                                        eta: t("2026-11-10T00:00:00Z")), now: now)
        _ = try store.cancelOrder(id: "O2", at: t("2026-11-04T00:00:00Z"), now: now)
        #expect(throws: AftersalesError.self) {
            try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S2", kind: .inTransit, at: t("2026-11-05T00:00:00Z")), now: now)
        }
        #expect(throws: AftersalesError.conflict("order \"O2\" is cancelled; it cannot be completed")) {
            try store.completeOrder(id: "O2", at: now, now: now)
        }
        #expect(throws: AftersalesError.self) {
            try store.dispatch(Shipment(id: "S3", orderID: "O2", carrier: "DHL", trackingNumber: "3", dispatchedAt: now, eta: now), now: now)
        }
    }

    @Test("a complaint moves through acknowledgement, solution, resolution and rating in order")
    func complaintLifecycle() throws {
        let store = try seededStore()
        _ = try store.openComplaint(id: "K1", orderID: "O1", category: .quality, text: "Leaks", at: t("2026-11-20T00:00:00Z"), now: now)
        #expect(throws: AftersalesError.self) { try store.advanceComplaint(id: "K1", .rate(3), at: now, now: now) }
        _ = try store.advanceComplaint(id: "K1", .acknowledge, at: t("2026-11-20T00:30:00Z"), now: now)
        #expect(throws: AftersalesError.self) { try store.advanceComplaint(id: "K1", .acknowledge, at: now, now: now) }
        _ = try store.advanceComplaint(id: "K1", .offerSolution("free re-shipment"), at: t("2026-11-20T10:00:00Z"), now: now)
        _ = try store.advanceComplaint(id: "K1", .resolve("replacement delivered"), at: t("2026-11-22T10:00:00Z"), now: now)
        #expect(throws: AftersalesError.self) { try store.advanceComplaint(id: "K1", .rate(6), at: now, now: now) }
        let rated = try store.advanceComplaint(id: "K1", .rate(3), at: now, now: now)
        #expect(rated.rating == 3 && rated.solution == "free re-shipment" && rated.resolution == "replacement delivered")
        #expect(throws: AftersalesError.self) { try store.advanceComplaint(id: "K1", .rate(4), at: now, now: now) }
        #expect(try store.events().suffix(4).map(\.kind) == [.complaintAcknowledged, .complaintSolutionOffered, .complaintResolved, .complaintRated])
    }

    @Test("survey answers and reviews are recorded once per order")
    func feedback() throws {
        let store = try seededStore()
        _ = try store.recordSurvey(SurveyAnswer(orderID: "O1", score: 6, reason: "slow", liked: [.quality], intent: .unsure, answeredAt: now), now: now)
        #expect(throws: AftersalesError.self) { try store.recordSurvey(SurveyAnswer(orderID: "O1", score: 9, answeredAt: now), now: now) }
        _ = try store.recordReview(Review(orderID: "O1", positive: false, text: "late", reviewedAt: now), now: now)
        let detail = try store.orderDetail(id: "O1")
        #expect(detail.survey?.intent == .unsure && detail.survey?.liked == [.quality])
        #expect(detail.reviews.count == 1)
    }

    @Test("updates change only the fields given; consent and unsubscribe are timed")
    func updates() throws {
        let store = try seededStore()
        let later = t("2026-11-24T10:00:00Z")
        let updated = try store.updateCustomer(id: "C1", CustomerChanges(locale: "es", managerName: "Wang Lei", managerEmail: "wang@example.com"), now: later)
        #expect(updated.locale.value == "es" && updated.email.value == "lucia@ferrenorte.mx" && updated.manager?.name == "Wang Lei")
        #expect(updated.consentAt == now, "consent time unchanged when consent is not touched")
        let unsubscribed = try store.unsubscribe(customerID: "C1", at: later, now: later)
        #expect(unsubscribed.unsubscribedAt == later && !unsubscribed.acceptsMarketing)
        let product = try store.succeedProduct(sku: "P1", by: "P2", offer: "20% off", at: later, now: later)
        #expect(product.successorSKU == "P2")
        #expect(throws: AftersalesError.self) { try store.succeedProduct(sku: "P1", by: "P2", offer: nil, at: later, now: later) }
    }

    @Test("upgrading keeps every archived message: the bytes move from the outbox to its archive, the column goes")
    func archiveMigration() throws {
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue, upTo: "v3-sending")
        let bytes = Data("From: a@example.com\r\n\r\nhello\r\n".utf8)
        try queue.write { db in
            for (key, eml) in [("tracking/S1/1", bytes as Data?), ("tracking/S2/1", nil)] {
                let at = "2026-11-23T10:00:00.000Z"
                try db.execute(sql: """
                    INSERT INTO outbox (key, rule, stream, audience, customerID, subject, occurrence, triggeredAt, nominalDue, due,
                                        toAddresses, ccAddresses, locale, timeZone, template, needsApproval, status, reasons, flags, context,
                                        createdAt, updatedAt, eml)
                    VALUES (?, 'tracking', 'transactional', 'customer', 'C1', 'S1', '1', ?, ?, ?, '["a@example.com"]', '[]', 'en', 'UTC',
                            'tracking', 0, 'sent', '[]', '[]', '{}', ?, ?, ?)
                    """, arguments: [key, at, at, at, at, at, eml])
            }
        }
        let store = try AftersalesStore(writer: queue)
        #expect(try store.archivedMessage(key: "tracking/S1/1") == bytes)
        #expect(throws: AftersalesError.self) { try store.archivedMessage(key: "tracking/S2/1") }
        let (columns, archived) = try queue.read { db in
            (try db.columns(in: "outbox").map(\.name), try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox_archive"))
        }
        #expect(!columns.contains("eml") && columns.contains("sha256"))
        #expect(archived == 1)
    }

    @Test("a mail claimed again after a transient failure archives the bytes of the new attempt")
    func archiveOnRetry() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        let ws = try tw.open("2026-11-03T14:05:00Z")
        _ = try ws.plan()
        let key = try #require(try ws.store.outbox(status: .planned).first?.key)
        func claim(_ text: String) throws -> ClaimedMail {
            let entry = try ws.store.outboxEntry(key: key)
            var step = SendStep()
            step.claims = [PreparedMail(entry: entry, bytes: Data(text.utf8), sha256: text, messageID: "<\(key)@example.com>")]
            return try #require(try ws.store.sendStep(step, runID: "test", now: ws.now).claimed.first ?? nil)
        }
        let first = try claim("first attempt")
        #expect(try ws.store.archivedMessage(key: key) == Data("first attempt".utf8))
        var failed = SendStep()
        failed.outcomes = [(.transient(reply: "451 try later"), first)]
        #expect(try ws.store.sendStep(failed, runID: "test", now: ws.now).recorded == [.retry])
        _ = try claim("second attempt")
        #expect(try ws.store.archivedMessage(key: key) == Data("second attempt".utf8))
    }

    @Test("a database from a newer version is refused")
    func newerDatabase() throws {
        let queue = try DatabaseQueue()
        _ = try AftersalesStore(writer: queue)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
        #expect(throws: AftersalesError.self) { try AftersalesStore(writer: queue) }
    }
}

@Suite("Row decoding")
struct RowDecodingTests {
    /// Every row of `table`, read by hand (by name and by position) and by GRDB's Codable decoder.
    func compare<T: FieldRecord & Decodable & Equatable>(_ type: T.Type, _ table: String, _ db: Database) throws -> Int {
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid")
        for row in rows {
            let byHand = try T(row: row)
            let byCodable = try FetchableRecordDecoder().decode(T.self, from: row)
            #expect(byHand == byCodable, "\(table): \(row)")
        }
        let positional = try db.makeStatement(sql: "SELECT \(T.Field.selection("t")) FROM \(table) t ORDER BY t.rowid")
        #expect(positional.columnNames == T.Field.names)
        #expect(try T.fetchAll(fields: positional, arguments: []) == rows.map(T.init(row:)), "\(table) by position")
        return rows.count
    }

    @Test("values bound one by one: as GRDB binds them, the statement reusable, a wrong count refused")
    func boundValues() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (a TEXT, b INTEGER, c BLOB, d REAL)")
            let sql = "INSERT INTO t (a, b, c, d) VALUES (?, ?, ?, ?)"
            try db.run(cached: sql, ["é中\u{0}x".databaseValue, Int64.max.databaseValue, Data([0, 1, 255]).databaseValue, DatabaseValue.null])
            try db.run(cached: sql, [DatabaseValue.null, (-1).databaseValue, Data().databaseValue, 2.5.databaseValue])
            #expect(throws: DatabaseError.self) { try db.run(cached: sql, ["only one".databaseValue]) }
            try db.execute(sql: sql, arguments: ["é中\u{0}x", Int64.max, Data([0, 1, 255]), nil])
            let rows = try Row.fetchAll(db, sql: "SELECT a, b, c, d, typeof(c) FROM t ORDER BY rowid")
            #expect(rows.count == 3)
            #expect(rows[0] == rows[2], "the same row as GRDB's own arguments write")
            #expect(rows[1]["b"] == -1 && rows[1]["d"] == 2.5 && rows[1]["a"] == DatabaseValue.null)
        }
    }

    @Test("text columns of domain types: read straight from SQLite's text, anything else as their DatabaseValue reading says")
    func textColumns() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (c)")
            for value in ["MX".databaseValue, "sea".databaseValue, Data("air".utf8).databaseValue, 42.databaseValue, 1.5.databaseValue] {
                try db.execute(sql: "DELETE FROM t")
                try db.execute(sql: "INSERT INTO t (c) VALUES (?)", arguments: [value])
                let stored = try #require(try DatabaseValue.fetchOne(db, sql: "SELECT c FROM t"))
                #expect((try? CountryCode.fetchOne(db, sql: "SELECT c FROM t")) == CountryCode.fromDatabaseValue(stored), "\(value)")
                #expect((try? ShipmentMode.fetchOne(db, sql: "SELECT c FROM t")) == ShipmentMode.fromDatabaseValue(stored), "\(value)")
            }
            #expect(try ShipmentMode.fetchOne(db, sql: "SELECT 'rail'") == .rail)
            #expect((try? ShipmentMode.fetchOne(db, sql: "SELECT 'boat'")) == nil, "not a mode: refused, not made up")
        }
    }

    @Test("the planner's queries name their columns as the records read them by position")
    func factsByPosition() throws {
        let tw = try TestWorkspace()
        let ws = try tw.open("2026-11-23T10:00:00Z")
        typealias SQL = AftersalesStore.FactsSQL
        let queries: [(String, [String])] = [
            (SQL.customers, Customer.Field.names), (SQL.orders, Order.Field.names), (SQL.shipments, Shipment.Field.names + ["owner"]),
            (SQL.events, ShipmentEvent.Field.names + ["owner"]), (SQL.complaints, Complaint.Field.names + ["owner"]),
            (SQL.surveys, SurveyAnswer.Field.names + ["owner"]), (SQL.reviews, Review.Field.names + ["owner"]),
            (SQL.product, Product.Field.names),
        ]
        try ws.store.writer.read { db in
            for (sql, names) in queries {
                let statement = try db.makeStatement(sql: sql)
                #expect(statement.columnNames == names, "\(sql)")
            }
        }
        // Every column of each table is read.
        try ws.store.writer.read { db in
            for (table, names) in [("customers", Customer.Field.names), ("orders", Order.Field.names)] {
                let columns = Set(try db.columns(in: table).map(\.name))
                #expect(Set(names).isSubset(of: columns), "\(table)")
            }
        }
    }

    @Test("hand-written row decoding reads what GRDB's Codable decoding reads, on every table of a synthetic company")
    func sameAsCodable() throws {
        let tw = try TestWorkspace()
        let ws = try tw.plannedCompany(scale: 0.1)
        _ = try SyntheticCompany.markPastMailSent(in: ws.store, now: ws.now)
        try ws.store.writer.read { (db: Database) throws in
            #expect(try compare(Customer.self, "customers", db) > 5)
            #expect(try compare(Product.self, "products", db) > 5)
            #expect(try compare(Order.self, "orders", db) > 50)
            #expect(try compare(Shipment.self, "shipments", db) > 20)
            #expect(try compare(ShipmentEvent.self, "shipment_events", db) > 20)
            #expect(try compare(Complaint.self, "complaints", db) > 0)
            #expect(try compare(SurveyAnswer.self, "surveys", db) > 0)
            #expect(try compare(Review.self, "reviews", db) > 0)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM customers WHERE manager IS NOT NULL")! > 0)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM products WHERE maintenance IS NOT NULL")! > 0)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status = 'sent'")! > 0)
        }
    }
}

extension RowDecodingTests {
    @Test("dates are written as GRDB writes a Date (its DateFormatter) and read back to the same instant as GRDB reads them, in every century and at the edges of a second")
    func storedDates() {
        var dates: [Date] = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.0005), Date(timeIntervalSince1970: 0.9995),
                             Date(timeIntervalSince1970: -62_135_596_800), Date(timeIntervalSince1970: 253_402_300_799.999),
                             Date(timeIntervalSince1970: -62_135_596_801), Date(timeIntervalSince1970: 253_402_300_800), // years 0 and 10000: GRDB's path
                             Date(timeIntervalSince1970: 1_795_427_200), Date(timeIntervalSince1970: 1_795_427_200.123456)]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return state >> 11 }
        let fractions: [Double] = [0, 0.001, 0.0005, 0.4995, 0.5, 0.9994999, 0.9995, 0.999999, 0.1234567]
        for index in 0..<20_000 {
            // Whole seconds from year 1 to 9999, then a fraction: random or one of the awkward ones.
            let seconds = Double(Int64(next() % 315_538_070_400) - 62_135_596_800)
            let fraction = index % 2 == 0 ? fractions[index / 2 % fractions.count] : Double(next() % 1_000_000_000) / 1e9
            dates.append(Date(timeIntervalSince1970: seconds + fraction))
        }
        var mismatches = 0
        for date in dates where date.stored.databaseValue != date.databaseValue {
            mismatches += 1
            if mismatches <= 5 { Issue.record("\(date.timeIntervalSince1970): \(date.stored.databaseValue) != \(date.databaseValue)") }
        }
        #expect(mismatches == 0)
        #expect(StoredDate.fromDatabaseValue("2026-11-23 10:00:00.000".databaseValue)?.date == Date(timeIntervalSince1970: 1_795_428_000))
        // Read back: the same instant as GRDB reads, bit for bit, for every text it wrote; other shapes go to GRDB.
        var readMismatches = 0
        for date in dates {
            let text = date.databaseValue
            // (GRDB reads nothing back for year 10000; neither do we.)
            let ours = StoredDate.fromDatabaseValue(text)?.date, grdb = Date.fromDatabaseValue(text)
            if ours?.timeIntervalSinceReferenceDate.bitPattern != grdb?.timeIntervalSinceReferenceDate.bitPattern {
                readMismatches += 1
                if readMismatches <= 5 { Issue.record("\(text): \(String(describing: ours)) != \(String(describing: grdb))") }
            }
        }
        #expect(readMismatches == 0)
        for text in ["2026-11-23", "2026-11-23 10:00", "2026-11-23 10:00:00", "2026-11-23T10:00:00.000", "2026-02-30 10:00:00.000", "1500-01-01 00:00:00.000",
                     "2026-11-23 10:00:00.000Z", "2026-11-23 24:00:00.000"] {
            #expect(StoredDate.fromDatabaseValue(text.databaseValue)?.date == Date.fromDatabaseValue(text.databaseValue), "\(text)")
        }
    }
}

@Suite("Flat JSON columns")
struct FlatJSONTests {
    static let awkward: [String] = {
        var controls = ""
        for c in 0..<0x20 { controls.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        return ["", "plain", controls, "\"quoted\" \\ back/slash", "\u{7f}é中文🎉\u{2028}\u{FEFF}", "مرحبا", " spaced ", "{\"not\":\"json\"}"]
    }()

    @Test("arrays and objects of strings are written byte for byte as JSONEncoder writes them and read back as JSONDecoder reads them")
    func sameAsFoundation() throws {
        let encoder = Customer.databaseJSONEncoder(for: "cc")
        for strings in [[], Self.awkward, [Self.awkward[3]], Self.awkward.reversed()] as [[String]] {
            let ours = FlatJSON.encode(strings)
            #expect(ours == String(decoding: try encoder.encode(strings), as: UTF8.self))
            #expect(FlatJSON.strings(ours) == strings)
        }
        let object = Dictionary(uniqueKeysWithValues: Self.awkward.enumerated().map { ("k\($0.offset)", $0.element) })
            .merging(["B": "upper", "_": "underscore", "a": "lower"]) { $1 }
        let ours = try #require(FlatJSON.encode(object))
        #expect(ours == String(decoding: try encoder.encode(object), as: UTF8.self))
        #expect(FlatJSON.object(ours) == object)
        #expect(FlatJSON.encode(["é": "x"]) == nil, "a non-ASCII key is left to JSONEncoder")
        // Escapes JSONEncoder does not write but JSON allows, and whitespace.
        #expect(FlatJSON.strings(#" [ "a\u00e9\ud83c\udf89" , "\/\b" ] "#) == ["aé🎉", "/\u{08}"])
    }

    @Test("order lines are read as JSONDecoder reads them; other shapes of lines are left to it")
    func orderLines() throws {
        let encoder = Order.databaseJSONEncoder(for: "lines")
        let lines = [OrderLine(sku: "A-1", quantity: 3), OrderLine(sku: Self.awkward[3], quantity: 1, unitPriceMinor: 129_900),
                     OrderLine(sku: "é中", quantity: -2, unitPriceMinor: Int64.max), OrderLine(sku: "", quantity: 0, unitPriceMinor: Int64.min + 1)]
        for value in [[], lines, [lines[1]]] {
            let text = String(decoding: try encoder.encode(value), as: UTF8.self)
            #expect(FlatJSON.objects(text) != nil, "\(text)")
            #expect(try JSONColumn.decode([OrderLine].self, text) == value)
        }
        // What the fast path leaves to JSONDecoder, which still reads it the same way (or refuses it).
        for text in [#"[{"sku":"A","quantity":1.0}]"#, #"[{"sku":"A","quantity":1,"note":"x"}]"#, #"[{"quantity":1e0,"sku":"A"}]"#] {
            #expect(try JSONColumn.decode([OrderLine].self, text) == JSONDecoder().decode([OrderLine].self, from: Data(text.utf8)))
        }
        for text in ["[{\"n\":01}]", "[{\"n\":1.5}]", "[{\"n\":-}]", "[{\"n\":99999999999999999999}]", "[{\"n\":[1]}]", "[{\"n\":1}", "{\"n\":1}", "[1]"] {
            #expect(FlatJSON.objects(text) == nil, "\(text)")
        }
        #expect(FlatJSON.objects(#" [ { "a" : "b" , "n" : -7 } , { } ] "#) == [["a": .string("b"), "n": .integer(-7)], [:]])
    }

    @Test("anything but a flat array or object of strings is refused, so that JSONDecoder decides")
    func refusesOtherShapes() {
        for text in ["", "[", "[1]", "[\"a\",]", "[\"a\"] x", "{\"a\":1}", "[\"\\ud83c\"]", "[\"\\ud83c \\udf89\"]", "[\"\\x\"]", "[\"a\nb\"]", "{\"a\"}", "null"] {
            #expect(FlatJSON.strings(text) == nil && FlatJSON.object(text) == nil, "\(text)")
        }
    }
}
