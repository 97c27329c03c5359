import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

/// The importer on an in-memory store: file quirks, upserts, atomicity, errors, mappings.
@Suite("Import")
struct ImportTests {
    let now = t("2026-11-23T10:00:00Z")
    let scratch: ScratchDirectory

    init() throws { scratch = try ScratchDirectory("aftersales-import") }

    func file(_ name: String, _ text: String) throws -> String {
        try bytes(name, Data(text.utf8))
    }

    func bytes(_ name: String, _ data: Data) throws -> String {
        let url = scratch.url.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    func importer(_ store: AftersalesStore, mappings: [String: ImportMapping] = [:]) -> Importer {
        var configuration = AftersalesKit.Configuration()
        configuration.importing.mappings = mappings
        return Importer(store: store, configuration: configuration, now: now)
    }

    static let customersHeader = "id,name,email,locale,timezone,country,company,cc,industry,manager_name,manager_email,consent"

    @Test("CSV as real exports write it: BOM, CRLF, quoted newlines and delimiters, blank trailing lines")
    func quirks() throws {
        let store = try AftersalesStore(writer: DatabaseQueue())
        let text = "\u{FEFF}" + Self.customersHeader + "\r\n"
            + "C1,Lucía,lucia@example.mx,es-MX,America/Mexico_City,MX,\"Ferretería, del Norte\",a@example.mx|b@example.mx,hardware,Wang Lei,wang@example.com,yes\r\n"
            + "C2,\"Bob\",bob@example.com,en,UTC,US,\"Multi\r\nline\",,,,,no\r\n"
            + "C3,Chen,chen@example.cn,zh-Hans,Asia/Shanghai,CN,,,,,,1\r\n\r\n\r\n"
        let summary = try importer(store).importFile(try file("customers.csv", text), ImportOptions(kind: .customers))
        // Line 3 holds a quoted line break: C2's row is one row, invalid, and C3 starts on line 5.
        #expect(summary.rows == 3 && summary.invalid == 1, "\(summary.errors)")
        #expect(summary.errors == [ImportRowError(line: 3, column: "company", value: "Multi\r\nline", message: "must be a single line (no line breaks)")])
        #expect(summary.refused && !summary.written)
        #expect(try store.customers().isEmpty, "a refused file writes nothing")

        let fixed = text.replacingOccurrences(of: "\"Multi\r\nline\"", with: "\"Multi; line\"")
        let ok = try importer(store).importFile(try file("customers2.csv", fixed), ImportOptions(kind: .customers))
        #expect(ok.new == 3 && ok.invalid == 0 && ok.written)
        let c1 = try store.customer(id: "C1")
        #expect(c1.company == "Ferretería, del Norte" && c1.cc.map(\.value) == ["a@example.mx", "b@example.mx"] && c1.consent)
        #expect(c1.manager?.email.value == "wang@example.com")
        #expect(try store.customer(id: "C3").consent)

        // `;` as the delimiter.
        let semicolons = "id;name;email;locale;timezone;country\nC4;Ana;ana@example.pt;pt;Europe/Lisbon;PT\n"
        let s = try importer(store).importFile(try file("c.csv", semicolons), ImportOptions(kind: .customers, delimiter: ";"))
        let c4 = try store.customer(id: "C4")
        #expect(s.new == 1 && c4.country.value == "PT")
    }

    @Test("upsert: an identical row changes nothing, a changed one updates and logs, a re-import records nothing")
    func upsert() throws {
        let store = try AftersalesStore(writer: DatabaseQueue())
        let path = try file("customers.csv", Self.customersHeader + "\nC1,Lucía,lucia@example.mx,es-MX,America/Mexico_City,MX,,,,,,yes\n")
        let first = try importer(store).importFile(path, ImportOptions(kind: .customers))
        #expect(first.new == 1)
        let events = try store.events().count
        let again = try importer(store).importFile(path, ImportOptions(kind: .customers))
        #expect(again.unchanged == 1 && again.new == 0 && again.updated == 0)
        #expect(try store.events().count == events, "nothing recorded the second time")

        let changed = try file("customers2.csv", Self.customersHeader + "\nC1,Lucía H.,lucia@example.mx,es-MX,America/Mexico_City,MX,,,,,,yes\n")
        let third = try importer(store).importFile(changed, ImportOptions(kind: .customers))
        #expect(third.updated == 1)
        #expect(try store.customer(id: "C1").name == "Lucía H.")
        #expect(try store.events().last?.kind == .customerUpdated)
    }

    @Test("orders: rows sharing an id form one order; local times in the customer's zone; completion recorded once")
    func orders() throws {
        let store = try seededStore(now: now)
        let text = """
            id,customer,sku,quantity,unit_price,currency,placed_at,completed_at,cancelled
            SO-1,C1,P1,2,129.00,USD,2026-11-02 09:30,,
            SO-1,C1,P2,5,1990,USD,2026-11-02 09:30,,
            SO-2,C1,P2,1,,MXN,2026-11-03T10:00:00Z,2026-11-20T10:00:00Z,no

            """
        let path = try file("orders.csv", text)
        let summary = try importer(store).importFile(path, ImportOptions(kind: .orders))
        #expect(summary.rows == 3 && summary.new == 2 && summary.invalid == 0, "\(summary.errors)")
        let order = try store.orderDetail(id: "SO-1").order
        #expect(order.lines == [OrderLine(sku: "P1", quantity: 2, unitPriceMinor: 12900), OrderLine(sku: "P2", quantity: 5, unitPriceMinor: 1990)])
        #expect(order.placedAt == t("2026-11-02T15:30:00Z"), "09:30 in Mexico City is 15:30 UTC")
        #expect(try store.orderDetail(id: "SO-2").order.completedAt == t("2026-11-20T10:00:00Z"))
        let events = try store.events().count
        let again = try importer(store).importFile(path, ImportOptions(kind: .orders))
        #expect(again.unchanged == 2)
        #expect(try store.events().count == events)

        // A changed line updates the order (order.updated).
        let changed = try file("orders2.csv", text.replacingOccurrences(of: "SO-1,C1,P2,5", with: "SO-1,C1,P2,6"))
        let third = try importer(store).importFile(changed, ImportOptions(kind: .orders))
        #expect(third.updated == 1 && third.unchanged == 1)
        #expect(try store.orderDetail(id: "SO-1").order.lines[1].quantity == 6)
        #expect(try store.events().last?.kind == .orderUpdated)
    }

    @Test("atomic: every bad row is listed with line, column, value and reason, and nothing is written")
    func atomic() throws {
        let store = try seededStore(now: now)
        let text = """
            id,customer,sku,quantity
            SO-1,C1,P1,2
            SO-2,NOPE,P1,1
            SO-3,C1,P1,zero
            SO-4,C1,GHOST,1
            """
        let summary = try importer(store).importFile(try file("orders.csv", text), ImportOptions(kind: .orders))
        #expect(summary.refused && summary.invalid == 3 && summary.rows == 4)
        #expect(summary.errors.map(\.line) == [3, 4, 5])
        #expect(summary.errors.map(\.column) == ["customer", "quantity", "sku"])
        #expect(summary.errors.map(\.value) == ["NOPE", "zero", "GHOST"])
        #expect(summary.errors[0].message.contains("does not exist"))
        #expect(try store.orders().map(\.id) == ["O1"], "SO-1 was valid but the file was refused whole")

        let skipping = try importer(store).importFile(try file("orders2.csv", text), ImportOptions(kind: .orders, skipInvalid: true,
                                                                                                 rejectsPath: scratch.url.appendingPathComponent("rejects.csv").path))
        #expect(skipping.written && skipping.new == 1 && skipping.invalid == 3)
        #expect(try store.orders().map(\.id).sorted() == ["O1", "SO-1"])
        let rejects = try String(contentsOf: scratch.url.appendingPathComponent("rejects.csv"), encoding: .utf8)
        #expect(rejects.split(separator: "\n").count == 4 && rejects.contains("GHOST") && rejects.hasPrefix("line,errors,id,customer"))

        // A row refused halfway (placed, then its completion refused) leaves nothing of it.
        let halfway = try importer(store).importFile(try file("orders4.csv", "id,customer,sku,quantity,placed_at,completed_at\nSO-7,C1,P1,1,2026-11-10T00:00:00Z,2026-11-01T00:00:00Z\n"),
                                                     ImportOptions(kind: .orders, skipInvalid: true))
        #expect(halfway.invalid == 1 && halfway.errors.first?.column == "completed_at", "\(halfway.errors)")
        #expect(try !store.orders().contains { $0.id == "SO-7" })

        let dry = try importer(store).importFile(try file("orders3.csv", "id,customer,sku,quantity\nSO-9,C1,P1,1\n"), ImportOptions(kind: .orders, dryRun: true))
        #expect(dry.new == 1 && !dry.written && dry.dryRun)
        #expect(try !store.orders().contains { $0.id == "SO-9" })
    }

    @Test("shipments and carrier events: tracking lookup, deduplicated by (shipment, kind, time), a later ETA is a delay")
    func shipmentsAndEvents() throws {
        let store = try seededStore(now: now)
        let shipments = try file("shipments.ndjson", """
            {"order": "O1", "id": "S1", "carrier": "Maersk", "tracking": "MAEU1", "eta": "2026-12-10", "mode": "sea", "dispatched_at": "2026-11-05T08:00:00Z", "documents": ["commercial invoice", "packing list"]}

            """)
        let s = try importer(store).importFile(shipments, ImportOptions(kind: .shipments))
        #expect(s.new == 1, "\(s.errors)")
        #expect(try store.shipment(id: "S1").shipment.documents == ["commercial invoice", "packing list"])
        let feed = """
            tracking,kind,at,location,eta,cause
            MAEU1,in-transit,2026-11-10T08:00:00Z,Singapore,,
            MAEU1,delayed,2026-11-12T08:00:00Z,Singapore,2026-12-15,port congestion
            """
        let first = try importer(store).importFile(try file("feed1.csv", feed), ImportOptions(kind: .events))
        #expect(first.new == 2, "\(first.errors)")
        let second = try importer(store).importFile(try file("feed2.csv", feed + "\nMAEU1,at-customs,2026-11-20T08:00:00Z,Manzanillo,,\n"), ImportOptions(kind: .events))
        #expect(second.new == 1 && second.unchanged == 2)
        #expect(try store.shipment(id: "S1").events.map(\.kind) == [.inTransit, .delayed, .atCustoms])
        // The ERP's shipment file still has the old ETA: nothing changes.
        let again = try importer(store).importFile(shipments, ImportOptions(kind: .shipments))
        #expect(again.unchanged == 1)
        // A later one is news: a delay with the import's cause.
        let later = try file("later.ndjson", #"{"order": "O1", "id": "S1", "eta": "2026-12-20"}"#)
        #expect(try importer(store).importFile(later, ImportOptions(kind: .shipments)).updated == 1)
        let last = try #require(try store.shipment(id: "S1").events.last)
        #expect(last.kind == .delayed && last.newETA == t("2026-12-20") && last.cause == AftersalesStore.importedETACause)
    }

    @Test("complaints and products from NDJSON; a changed complaint is updated (complaint.updated), one about another order refused")
    func complaintsAndProducts() throws {
        let store = try seededStore(now: now)
        let products = try file("products.ndjson", #"{"sku": "P9", "name": "Valve 9", "technical": true, "cycle_days": 120}"#)
        #expect(try importer(store).importFile(products, ImportOptions(kind: .products)).new == 1)
        #expect(try store.product(sku: "P9").cycleDays == 120 && (try store.product(sku: "P9")).technical)
        // `name.LOCALE` columns: the names mail in that language uses.
        let localized = try file("localized.csv", "sku,name,name.es,name.zh-Hans\nP9,Valve 9,Válvula 9,阀门 9\n")
        #expect(try importer(store).importFile(localized, ImportOptions(kind: .products)).updated == 1)
        #expect(try importer(store).importFile(localized, ImportOptions(kind: .products)).unchanged == 1)
        let p9 = try store.product(sku: "P9")
        #expect(p9.name(in: "es-MX") == "Válvula 9" && p9.name(in: "zh-Hans") == "阀门 9" && p9.name(in: "de") == "Valve 9")
        let badLocale = try file("bad-locale.csv", "sku,name.xx\nP9,Zzz\n")
        let refusedLocale = try importer(store).importFile(badLocale, ImportOptions(kind: .products))
        #expect(refusedLocale.errors.first?.column == "name.xx", "\(refusedLocale.errors)")
        let complaints = try file("complaints.ndjson", #"{"id": "K1", "order": "O1", "category": "damage", "text": "外壳破裂", "opened_at": "2026-11-20T10:00:00Z"}"#)
        #expect(try importer(store).importFile(complaints, ImportOptions(kind: .complaints)).new == 1)
        #expect(try importer(store).importFile(complaints, ImportOptions(kind: .complaints)).unchanged == 1)
        let events = try store.events().count
        let changed = try file("complaints2.ndjson", #"{"id": "K1", "order": "O1", "category": "quality", "text": "外壳破裂，漏水"}"#)
        let updated = try importer(store).importFile(changed, ImportOptions(kind: .complaints))
        #expect(updated.updated == 1 && !updated.refused && updated.written, "\(updated.errors)")
        let k1 = try store.complaint(id: "K1")
        #expect(k1.category == .quality && k1.text == "外壳破裂，漏水" && k1.openedAt == t("2026-11-20T10:00:00Z"), "no opened_at: the stored one stays")
        let logged = try store.events(after: 0, limit: 10_000)
        #expect(logged.count == events + 1 && logged.last?.kind == .complaintUpdated && logged.last?.customerID == "C1", "the planner re-plans C1")
        #expect(try importer(store).importFile(changed, ImportOptions(kind: .complaints)).unchanged == 1)
        #expect(try store.events(after: 0, limit: 10_000).count == events + 1, "the same row again records nothing")
        // A complaint is about one order, and its opening stays before it was handled and not in the future.
        let otherOrder = try file("complaints3.ndjson", #"{"id": "K1", "order": "O2", "category": "quality", "text": "外壳破裂，漏水"}"#)
        let moved = try importer(store).importFile(otherOrder, ImportOptions(kind: .complaints))
        #expect(moved.refused && moved.errors.first?.message.contains("is about order O1") == true, "\(moved.errors)")
        let future = try file("complaints4.ndjson", #"{"id": "K1", "order": "O1", "category": "quality", "text": "x", "opened_at": "2026-12-20T10:00:00Z"}"#)
        let refusedFuture = try importer(store).importFile(future, ImportOptions(kind: .complaints))
        #expect(refusedFuture.refused && refusedFuture.errors.first?.column == "opened_at", "\(refusedFuture.errors)")
        #expect(try store.complaint(id: "K1").text == "外壳破裂，漏水")
        let broken = try file("broken.ndjson", "{\"id\": \"K2\"\n")
        let refused = try importer(store).importFile(broken, ImportOptions(kind: .complaints))
        #expect(refused.refused && refused.errors.first?.line == 1)
    }

    @Test("mappings rename columns and translate values; GB18030 is read through iconv")
    func mappingAndEncoding() throws {
        let store = try seededStore(now: now)
        _ = try importer(store).importFile(try file("s.csv", "order,id,carrier,tracking,eta,dispatched_at\nO1,S1,COSCO,CSLU1,2026-12-10,2026-11-05T08:00:00Z\n"), ImportOptions(kind: .shipments))
        let mapping = ImportMapping(kind: .events, columns: ["tracking": "提单号", "kind": "状态", "at": "时间", "signed_by": "签收人"],
                                    values: ["kind": ["已签收": "delivered"]], encoding: .gb18030)
        let text = "提单号,状态,时间,签收人\nCSLU1,已签收,2026-11-20 14:30,王磊\n"
        let data = try #require(Self.gb18030(text))
        #expect(data != Data(text.utf8))
        let summary = try importer(store, mappings: ["erp-events": mapping]).importFile(try bytes("feed.csv", data), ImportOptions(kind: .events, mapping: "erp-events"))
        #expect(summary.new == 1, "\(summary.errors)")
        let event = try #require(try store.shipment(id: "S1").events.first)
        #expect(event.kind == .delivered && event.signedBy == "王磊" && event.at == t("2026-11-20T20:30:00Z"), "14:30 in Mexico City")

        // Bytes that are not GB18030 (nor UTF-8): the byte offset is named.
        var bad = Data("tracking,kind,at\n".utf8)
        let offset = bad.count
        bad.append(contentsOf: [0xFF, 0xFF, 0x0A])
        #expect(throws: AftersalesError.self) { try importer(store).importFile(try bytes("bad.csv", bad), ImportOptions(kind: .events)) }
        do { _ = try importer(store).importFile(try bytes("bad2.csv", bad), ImportOptions(kind: .events)) } catch let error as AftersalesError {
            #expect(error.description.contains("byte offset \(offset)"), "\(error)")
        }
        do { _ = try importer(store).importFile(try bytes("bad3.csv", bad), ImportOptions(kind: .events, encoding: .gb18030)) } catch let error as AftersalesError {
            #expect(error.description.contains("not valid gb18030") && error.description.contains("byte offset"), "\(error)")
        }
    }

    @Test("Windows-1252 with --encoding: é and ñ come through; read as UTF-8 the same bytes are refused at their offset")
    func windows1252() throws {
        let store = try AftersalesStore(writer: DatabaseQueue())
        var data = Data("id,name,email,locale,timezone,country\nC1,".utf8)
        let offset = data.count
        data.append(contentsOf: [0x4A, 0x6F, 0x73, 0xE9, 0x20, 0x4E, 0xFA, 0xF1, 0x65, 0x7A])  // "José Núñez"
        data.append(contentsOf: Data(",jose@example.es,es,Europe/Madrid,ES\r\n".utf8))
        let path = try bytes("cp1252.csv", data)
        let summary = try importer(store).importFile(path, ImportOptions(kind: .customers, encoding: .windows1252))
        #expect(summary.new == 1, "\(summary.errors)")
        #expect(try store.customer(id: "C1").name == "José Núñez")
        do {
            _ = try importer(store).importFile(path, ImportOptions(kind: .customers))
            Issue.record("UTF-8 was expected to refuse the file")
        } catch {
            #expect(error.description.contains("byte offset \(offset + 3)") && error.description.contains("--encoding"), "\(error)")
        }
    }

    @Test("mail in the buyer's language names the product by its localized name; staff mail and other languages by its name")
    func localizedNameInMail() throws {
        var facts = Samples.facts(locale: "es-MX")
        facts.products["VALVE-50"]?.localizedNames = ["es": "Válvula de compuerta DN50"]
        let mail = try #require(Samples.mails(facts: facts).first { $0.rule == "tracking" && $0.orderID == "SO-1" })
        let spanish = try sampleRenderer().parts(mail, facts: facts, locale: "es")
        #expect(spanish.text.contains("Válvula de compuerta DN50") && !spanish.text.contains("Brass gate valve"))
        let english = try sampleRenderer().parts(mail, facts: facts, locale: "en")
        #expect(english.text.contains("Brass gate valve DN50"))
    }

    @Test("the kind from a file's name in folder mode")
    func kindFromName() {
        let mappings = ["erp-orders": ImportMapping(kind: .orders)]
        #expect(Importer.kind(fileName: "orders-2026-12-01.csv", mappings: mappings)! == (.orders, nil))
        #expect(Importer.kind(fileName: "01-customers.ndjson", mappings: mappings)! == (.customers, nil))
        #expect(Importer.kind(fileName: "erp-orders-1201.csv", mappings: mappings)! == (.orders, "erp-orders"))
        #expect(Importer.kind(fileName: "notes.txt", mappings: mappings) == nil)
    }

    @Test("mappings in the configuration: import.mappings decoded whole, a wrong column refused by name")
    func configuration() throws {
        let path = try file("aftersales.yml", """
            import:
              dir: inbox
              mappings:
                erp-orders:
                  kind: orders
                  encoding: gb18030
                  columns: {id: "订单号", customer: "客户编号"}
                  values: {currency: {"美元": USD}}
            """)
        let config = try AftersalesKit.Configuration.load(path: path, environment: [:])
        #expect(config.importing.dir == "inbox")
        #expect(config.importing.mappings["erp-orders"] == ImportMapping(kind: .orders, columns: ["id": "订单号", "customer": "客户编号"],
                                                                         values: ["currency": ["美元": "USD"]], encoding: .gb18030))
        let wrong = try file("wrong.yml", "import:\n  mappings:\n    x: {kind: orders, columns: {colour: Farbe}}\n")
        #expect(throws: AftersalesError.configuration("import.mappings.x: \"colour\" is not a column of orders; expected one of id, customer, sku, quantity, unit_price, currency, placed_at, completed_at, cancelled")) {
            try AftersalesKit.Configuration.load(path: wrong, environment: [:])
        }
    }

    @Test("a cancellation is undone by a row saying cancelled no: the order is open again (order.reinstated) and can be dispatched")
    func reinstate() throws {
        let store = try seededStore(now: now)
        let header = "id,customer,sku,quantity,unit_price,currency,placed_at,completed_at,cancelled\n"
        let cancel = try file("cancel.csv", header + "O1,C1,P1,2,12900,USD,2026-11-01T00:00:00Z,,yes\n")
        #expect(try importer(store).importFile(cancel, ImportOptions(kind: .orders)).updated == 1)
        #expect(try store.orderDetail(id: "O1").order.cancelledAt == now)
        #expect(try importer(store).importFile(cancel, ImportOptions(kind: .orders)).unchanged == 1, "cancelled once")
        let shipment = try file("s.csv", "order,id,carrier,tracking,eta,dispatched_at\nO1,S1,COSCO,CSLU1,2026-12-10,2026-11-05T08:00:00Z\n")
        #expect(try importer(store).importFile(shipment, ImportOptions(kind: .shipments)).refused, "nothing is dispatched for a cancelled order")

        let events = try store.events(after: 0, limit: 10_000).count
        let reinstate = try file("reinstate.csv", header + "O1,C1,P1,2,12900,USD,2026-11-01T00:00:00Z,,no\n")
        let summary = try importer(store).importFile(reinstate, ImportOptions(kind: .orders))
        #expect(summary.updated == 1 && summary.written, "\(summary.errors)")
        #expect(try store.orderDetail(id: "O1").order.cancelledAt == nil)
        let logged = try store.events(after: 0, limit: 10_000)
        #expect(logged.count == events + 1 && logged.last?.kind == .orderReinstated && logged.last?.customerID == "C1", "the planner re-plans C1")
        #expect(try importer(store).importFile(reinstate, ImportOptions(kind: .orders)).unchanged == 1, "reinstated once")
        #expect(try importer(store).importFile(shipment, ImportOptions(kind: .shipments)).new == 1, "the open order ships")

        // Cancelled, then reinstated and completed by the same row: both recorded, in that order.
        _ = try store.addOrder(id: "O2", customerID: "C1", lines: [OrderLine(sku: "P2", quantity: 1)], currency: "USD", at: t("2026-11-02T00:00:00Z"), now: now)
        _ = try store.cancelOrder(id: "O2", at: t("2026-11-03T00:00:00Z"), now: now)
        let done = try file("done.csv", header + "O2,C1,P2,1,,USD,2026-11-02T00:00:00Z,2026-11-20T00:00:00Z,no\n")
        #expect(try importer(store).importFile(done, ImportOptions(kind: .orders)).updated == 1)
        #expect(try store.events(after: 0, limit: 10_000).suffix(2).map(\.kind) == [.orderReinstated, .orderCompleted])
        #expect(try store.orderDetail(id: "O2").order.completedAt == t("2026-11-20T00:00:00Z"))
        // Without the column the cancellation is left as it is.
        _ = try store.cancelOrder(id: "O1", at: now, now: now)
        let silent = try file("silent.csv", "id,customer,sku,quantity,unit_price,currency,placed_at\nO1,C1,P1,2,12900,USD,2026-11-01T00:00:00Z\n")
        #expect(try importer(store).importFile(silent, ImportOptions(kind: .orders)).unchanged == 1)
        #expect(try store.orderDetail(id: "O1").order.cancelledAt == now)
    }

    @Test("AFTERSALES_IMPORT_MAPPINGS_FILE: mappings from a YAML file of their own, over the configuration's; a bad file names the variable")
    func mappingsFile() throws {
        let config = try file("aftersales.yml", """
            import:
              mappings:
                erp-orders: {kind: orders, columns: {id: "订单号"}}
                shop-customers: {kind: customers, defaults: {locale: en}}
            """)
        let mappings = try file("mappings.yml", """
            erp-orders:
              kind: orders
              encoding: gb18030
              columns: {id: "单号", customer: "客户"}
            carrier-events:
              kind: events
              values: {kind: {"已签收": delivered}}
            """)
        let loaded = try AftersalesKit.Configuration.load(path: config, environment: ["AFTERSALES_IMPORT_MAPPINGS_FILE": mappings])
        #expect(loaded.importing.mappings.keys.sorted() == ["carrier-events", "erp-orders", "shop-customers"])
        #expect(loaded.importing.mappings["erp-orders"] == ImportMapping(kind: .orders, columns: ["id": "单号", "customer": "客户"], encoding: .gb18030),
                "the file's mapping replaces the configuration's of the same name")
        #expect(loaded.importing.mappings["shop-customers"] == ImportMapping(kind: .customers, defaults: ["locale": "en"]))
        #expect(loaded.entries.first { $0.key == "import.mappings_file" }.map { [$0.value, $0.source] } == [mappings, "AFTERSALES_IMPORT_MAPPINGS_FILE"])
        // Without the configuration file, and named in it.
        #expect(try AftersalesKit.Configuration.load(path: nil, environment: ["AFTERSALES_IMPORT_MAPPINGS_FILE": mappings]).importing.mappings.count == 2)
        let naming = try file("naming.yml", "import:\n  mappings_file: \(mappings)\n")
        #expect(try AftersalesKit.Configuration.load(path: naming, environment: [:]).importing.mappings["carrier-events"]?.kind == .events)

        func refusal(_ text: String?) throws -> String {
            let path = try text.map { try file("bad-\(UUID().uuidString).yml", $0) } ?? scratch.url.appendingPathComponent("missing.yml").path
            do {
                _ = try AftersalesKit.Configuration.load(path: nil, environment: ["AFTERSALES_IMPORT_MAPPINGS_FILE": path])
                return ""
            } catch { return error.description }
        }
        let missing = try refusal(nil)
        #expect(missing.hasPrefix("import.mappings_file \"") && missing.contains("(from AFTERSALES_IMPORT_MAPPINGS_FILE): cannot be read"), "\(missing)")
        let notYAML = try refusal("erp: [unclosed\n")
        #expect(notYAML.contains("(from AFTERSALES_IMPORT_MAPPINGS_FILE): not valid YAML"), "\(notYAML)")
        let list = try refusal("- erp-orders\n")
        #expect(list.contains("(from AFTERSALES_IMPORT_MAPPINGS_FILE): expected a mapping of names to mappings"), "\(list)")
        let badKind = try refusal("x: {kind: invoices}\n")
        #expect(badKind.contains("(from AFTERSALES_IMPORT_MAPPINGS_FILE): import.mappings.x.kind: expected"), "\(badKind)")
        let badColumn = try refusal("x: {kind: orders, columns: {colour: Farbe}}\n")
        #expect(badColumn.contains("(from AFTERSALES_IMPORT_MAPPINGS_FILE): import.mappings.x: \"colour\" is not a column of orders"), "\(badColumn)")
        // Named in the configuration file, the error names that file.
        let gone = try file("gone.yml", "import:\n  mappings_file: /nonexistent/mappings.yml\n")
        #expect(throws: AftersalesError.self) { try AftersalesKit.Configuration.load(path: gone, environment: [:]) }
        do { _ = try AftersalesKit.Configuration.load(path: gone, environment: [:]) } catch {
            #expect(error.description.hasPrefix("import.mappings_file \"/nonexistent/mappings.yml\" (from \(gone)): cannot be read"), "\(error)")
        }
    }

    static func gb18030(_ text: String) -> Data? {
        let input = Pipe(), output = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/iconv")
        process.arguments = ["-f", "UTF-8", "-t", "GB18030"]
        process.standardInput = input
        process.standardOutput = output
        guard (try? process.run()) != nil else { return nil }
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }
}
