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

@Suite("Store records")
struct StoreRecordTests {
    @Test("the outbox's JSON lists: plain text written directly reads back the same, the rest goes through the encoder")
    func outboxJSONLists() throws {
        let lists: [[String]] = [["ana@example.com"], ["a@b.co", "c@d.co"], ["order placed 2026-11-03T14:05:00Z; rule: tracking"],
                                 ["a/b"], ["say \"hi\""], ["back\\slash"], ["tab\there"], ["é"], ["", " "]]
        for list in lists {
            let text = try OutboxJSON.string(list)
            #expect(try JSONDecoder().decode([String].self, from: Data(text.utf8)) == list, "\(text)")
            if list.allSatisfy(OutboxJSON.isPlain) { #expect(text == String(decoding: try OutboxJSON.encoder.encode(list), as: UTF8.self)) }
        }
        #expect(!OutboxJSON.isPlain("a/b") && !OutboxJSON.isPlain("é") && OutboxJSON.isPlain("a b:c@d"))
    }

    @Test("the outbox's contexts: plain keys and values written directly read back the same and as the encoder writes them, the rest go through it")
    func outboxJSONContexts() throws {
        let contexts: [[String: String]] = [["order": "O1"], ["shipment": "S1", "order": "O1", "delayed-at": "2026-11-10T00:00:00Z"],
                                            ["sku": "P1", "predicted": "x", "holiday-start": "y", "season": "z"],
                                            ["Order": "O1"], ["order2": "O1"], ["note": "a/b"], ["é": "x"], ["order": "say \"hi\""]]
        for context in contexts {
            let text = try OutboxJSON.string(context)
            #expect(try JSONDecoder().decode([String: String].self, from: Data(text.utf8)) == context, "\(text)")
            #expect(text == String(decoding: try OutboxJSON.encoder.encode(context), as: UTF8.self), "\(text)")
        }
        #expect(OutboxJSON.isKey("delayed-at") && !OutboxJSON.isKey("Order") && !OutboxJSON.isKey("order2"))
    }

    let now = t("2026-11-23T10:00:00Z")

    @Test("an order's lines are stored in a table of their own, in their order, with and without prices")
    func orderLines() throws {
        let store = try seededStore()
        let lines = [OrderLine(sku: "P2", quantity: 3), OrderLine(sku: "P1", quantity: 1, unitPriceMinor: 0), OrderLine(sku: "P2", quantity: 7, unitPriceMinor: 4500)]
        let placed = try store.addOrder(id: "O2", customerID: "C1", lines: lines, currency: "EUR", at: t("2026-11-02T00:00:00Z"), now: now)
        #expect(try store.orderDetail(id: "O2").order == placed)
        #expect(try store.orders(customerID: "C1").map(\.lines) == [[OrderLine(sku: "P1", quantity: 2, unitPriceMinor: 12900)], lines])
        let completed = try store.completeOrder(id: "O2", at: t("2026-11-03T00:00:00Z"), now: now)
        #expect(completed.lines == lines, "a change of the order keeps its lines")
        let stored = try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT position, sku, quantity, unitPriceMinor FROM order_lines WHERE orderID = 'O2' ORDER BY position")
        }
        #expect(stored.map { "\($0["position"] as Int) \($0["sku"] as String) \($0["quantity"] as Int) \(($0["unitPriceMinor"] as Int64?).map(String.init) ?? "NULL")" }
                == ["0 P2 3 NULL", "1 P1 1 0", "2 P2 7 4500"])
    }

    @Test("a product's change makes its owners due: found through the order lines")
    func productOwners() throws {
        let store = try seededStore()
        _ = try store.addCustomer(id: "C2", CustomerChanges(name: "Wang Lei", email: "wang@example.cn", locale: "zh-Hans", timeZone: "Asia/Shanghai",
                                                            country: "CN"), now: now)
        _ = try store.addOrder(id: "O2", customerID: "C2", lines: [OrderLine(sku: "P2", quantity: 1)], currency: "USD", at: now, now: now)
        try store.advancePlannerCursor(to: try store.dirtyCustomers(now: now).lastEvent)
        _ = try store.updateProduct(sku: "P1", ProductChanges(name: "Pump II"), now: now)
        #expect(try store.dirtyCustomers(now: now).customers == ["C1"])
        _ = try store.succeedProduct(sku: "P2", by: "P1", offer: nil, at: now, now: now)
        #expect(try store.dirtyCustomers(now: now).customers == ["C1", "C2"])
    }

    @Test("upgrading keeps every order line: the lines move from the orders' JSON column to their own table, the column goes")
    func orderLinesMigration() throws {
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue, upTo: "v4-archive")
        // Rows as the previous version wrote them: GRDB's dates, lines as JSON with sorted keys and the price only when known.
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO customers (id, name, email, cc, locale, timeZone, country, consent, createdAt)
                VALUES ('C1', 'Lucía Hernández', 'lucia@ferrenorte.mx', '[]', 'es-MX', 'America/Mexico_City', 'MX', 1, '2026-10-01 00:00:00.000')
                """)
            try db.execute(sql: """
                INSERT INTO products (sku, name, technical, maintenance) VALUES ('P1', 'Pump', 1, '{"intervalDays":90,"text":"Lubricate"}'), ('P2', 'Valve', 0, NULL)
                """)
            try db.execute(sql: """
                INSERT INTO orders (id, customerID, lines, currency, placedAt, completedAt) VALUES
                ('O1', 'C1', '[{"quantity":4,"sku":"P1","unitPriceMinor":129900},{"quantity":1,"sku":"P2"}]', 'USD', '2026-11-01 09:00:00.000', NULL),
                ('O2', 'C1', '[{"quantity":2,"sku":"P2","unitPriceMinor":0}]', 'EUR', '2026-11-02 09:30:00.250', '2026-11-05 00:00:00.000')
                """)
        }
        let store = try AftersalesStore(writer: queue)
        let first = Order(id: "O1", customerID: "C1", lines: [OrderLine(sku: "P1", quantity: 4, unitPriceMinor: 129_900), OrderLine(sku: "P2", quantity: 1)],
                          currency: "USD", placedAt: t("2026-11-01T09:00:00Z"))
        let second = Order(id: "O2", customerID: "C1", lines: [OrderLine(sku: "P2", quantity: 2, unitPriceMinor: 0)], currency: "EUR",
                           placedAt: t("2026-11-02T09:30:00.250Z"), completedAt: t("2026-11-05T00:00:00Z"))
        #expect(try store.orders() == [first, second])
        #expect(try store.orderDetail(id: "O1").order == first)
        let facts = try #require(try queue.read { db in try AftersalesStore.customerFacts(db, "C1") })
        #expect(facts.orders.map(\.order) == [first, second])
        #expect(facts.products.keys.sorted() == ["P1", "P2"] && facts.products["P1"]?.maintenance?.intervalDays == 90)
        #expect(facts.customer.email.value == "lucia@ferrenorte.mx" && facts.customer.consent)
        let (columns, lines, migrations) = try queue.read { db in
            (try db.columns(in: "orders").map(\.name), try Int.fetchOne(db, sql: "SELECT count(*) FROM order_lines"),
             try Schema.migrator.appliedIdentifiers(db))
        }
        #expect(!columns.contains("lines") && columns.contains("currency"))
        #expect(lines == 3)
        #expect(migrations.contains("v5-order-lines"))
    }

    @Test("the records read by position are read from their columns in order, and miss none")
    func positionalReads() throws {
        let tw = try TestWorkspace()
        let ws = try tw.open("2026-11-23T10:00:00Z")
        typealias SQL = AftersalesStore.FactsSQL
        let (read, tables) = try ws.store.writer.read { db in
            (try [SQL.orders, SQL.orderLines, SQL.shipments, SQL.namedShipments, SQL.events, SQL.namedEvents].map { try db.makeStatement(sql: $0).columnNames },
             try ["orders", "order_lines", "shipments", "shipment_events"].map { try db.columns(in: $0).map(\.name) })
        }
        let order = Order.selected.map(\.name), line = OrderLineRecord.selected.map(\.name)
        let shipment = Shipment.selected.map(\.name), event = ShipmentEvent.selected.map(\.name)
        #expect(read == [order, line, shipment, shipment, event, event])
        #expect(tables == [order, line, shipment, ["rowid"] + event])
        let (answers, table) = try ws.store.writer.read { db in
            (try [SQL.surveys, SQL.reviews].map { try db.makeStatement(sql: $0).columnNames }, try ["surveys", "reviews"].map { try db.columns(in: $0).map(\.name) })
        }
        let survey = SurveyAnswer.selected.map(\.name), review = Review.selected.map(\.name)
        #expect(answers == [survey, review])
        #expect(table == [survey, ["rowid"] + review])
    }

    @Test("a customer's facts come in order: orders as placed, shipments as they left, events as they happened and, at one time, as recorded")
    func factsInOrder() throws {
        let store = try seededStore()
        _ = try store.addOrder(id: "O0", customerID: "C1", lines: [OrderLine(sku: "P2", quantity: 1, unitPriceMinor: 500), OrderLine(sku: "P1", quantity: 3, unitPriceMinor: 100)],
                               currency: "USD", at: t("2026-10-01T00:00:00Z"), now: now)
        for (id, day) in [("S2", "08"), ("S1", "05")] {
            _ = try store.dispatch(Shipment(id: id, orderID: "O1", carrier: "Maersk", trackingNumber: id, dispatchedAt: t("2026-11-\(day)T00:00:00Z"),
                                            eta: t("2026-12-10T00:00:00Z")), now: now)
        }
        for (kind, at) in [(ShipmentEventKind.atCustoms, "2026-11-20"), (.inTransit, "2026-11-09"), (.held, "2026-11-20"), (.cleared, "2026-11-12")] {
            _ = try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: kind, at: t("\(at)T00:00:00Z"), reason: kind == .held ? "papers" : nil), now: now)
        }
        let facts = try #require(try store.customerFacts(id: "C1"))
        #expect(facts.orders.map(\.order.id) == ["O0", "O1"])
        #expect(facts.orders[0].order.lines.map(\.sku) == ["P2", "P1"])
        #expect(facts.orders[1].shipments.map(\.shipment.id) == ["S1", "S2"])
        #expect(facts.orders[1].shipments[0].events.map(\.kind) == [.inTransit, .cleared, .atCustoms, .held])
    }

    @Test("a stored value that is not one of a type's cases is refused, not made up")
    func textValues() throws {
        let queue = try DatabaseQueue()
        let (rail, country) = try queue.read { db in
            (try ShipmentMode.fetchOne(db, sql: "SELECT 'rail'"), try CountryCode.fetchOne(db, sql: "SELECT 'MX'"))
        }
        #expect(rail == .rail && country?.value == "MX")
        #expect(throws: (any Error).self) { try queue.read { db in try ShipmentMode.fetchOne(db, sql: "SELECT 'boat'") } }
    }
}
