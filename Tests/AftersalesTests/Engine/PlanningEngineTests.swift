import AftersalesDomain
@testable import AftersalesKit
@testable import AftersalesPlanning
import Foundation
import GRDB
import Testing

/// A workspace on a fresh database file, with a clock that tests move.
struct TestWorkspace {
    private let scratch: ScratchDirectory
    var directory: URL { scratch.url }
    var environment: [String: String] = [:]

    init() throws {
        scratch = try ScratchDirectory("aftersales-ws")
    }

    var path: String { directory.appendingPathComponent("plan.db").path }

    func open(_ now: String, access: AftersalesStore.Access = .readWrite) throws -> Workspace {
        try Workspace.open(Settings(databasePath: path, configPath: nil, now: t(now), environment: environment), access: access)
    }

    /// A synthetic company at `scale`, generated and planned as of 2026-11-23T10:00:00Z.
    func plannedCompany(scale: Double) throws -> Workspace {
        let ws = try open("2026-11-23T10:00:00Z")
        _ = try SyntheticCompany(scale: scale, now: ws.now).generate(into: ws.store)
        _ = try ws.plan()
        return ws
    }

    /// A planned synthetic company and the keys of its first `limit` pending mails, by due time.
    func pendingMail(scale: Double, limit: Int) throws -> (Workspace, [String]) {
        let ws = try plannedCompany(scale: scale)
        let keys = try ws.store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT key FROM outbox WHERE status IN ('planned', 'retry') ORDER BY due, key LIMIT ?", arguments: [limit])
        }
        return (ws, keys)
    }

    /// A Mexican customer with an order shipped on 2026-11-03.
    func seed() throws {
        let ws = try open("2026-11-03T14:00:00Z")
        let now = ws.now
        _ = try ws.store.addCustomer(id: "C1", CustomerChanges(name: "Lucía", email: "lucia@example.mx", locale: "es-MX",
                                                               timeZone: "America/Mexico_City", country: "MX", consent: true), now: now)
        _ = try ws.store.addProduct(sku: "PUMP", ProductChanges(name: "Pump", technical: true, cycleDays: 180), now: now)
        _ = try ws.store.addOrder(id: "O1", customerID: "C1", lines: [OrderLine(sku: "PUMP", quantity: 1)], currency: "USD",
                                  at: t("2026-11-01T15:00:00Z"), now: now)
        _ = try ws.store.dispatch(Shipment(id: "S1", orderID: "O1", carrier: "Maersk", trackingNumber: "M1",
                                           dispatchedAt: t("2026-11-03T14:00:00Z"), eta: t("2026-11-30T00:00:00Z")), now: now)
    }
}

@Suite("Planning engine")
struct PlanningEngineTests {
    @Test("a batch's results are taken in order as the workers set them; after a cancel no index is claimed")
    func resultsInOrder() throws {
        let results = Results<Int>(count: 50)
        let workers = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: workers) { while let index = results.claim() { results.set(index, .success(index * index)) } }
        }
        let taken = try (0..<50).map { try results.wait($0).get() }
        workers.wait()
        #expect(taken == (0..<50).map { $0 * $0 })
        let cancelled = Results<Int>(count: 3)
        #expect(cancelled.claim() == 0)
        cancelled.cancel()
        #expect(cancelled.claim() == nil)
    }

    @Test("planning twice creates nothing new; a second run with nothing new touches no customer")
    func replanning() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        let first = try tw.open("2026-11-03T14:05:00Z").plan()
        #expect(first.changes.planned > 5 && first.changes.customers == 1)
        let count = try tw.open("2026-11-03T14:05:00Z").store.outbox().count
        let second = try tw.open("2026-11-03T14:06:00Z").plan()
        #expect(second.changes.customers == 0 && second.changes.planned == 0 && second.eventsConsumed == 0)
        #expect(try tw.open("2026-11-03T14:06:00Z").store.outbox().count == count)
        #expect(try tw.open("2026-11-03T14:06:00Z").store.outbox(status: .planned).contains { $0.key == "tracking/S1/1" })
    }

    @Test("delivery cancels pending transit updates; the cancelled mail stays with its reason and history")
    func deliveryCancels() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        _ = try tw.open("2026-11-03T14:05:00Z").plan()
        let ws = try tw.open("2026-11-10T18:00:00Z")
        _ = try ws.store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delivered, at: t("2026-11-10T17:00:00Z")), now: ws.now)
        let report = try ws.plan()
        #expect(report.changes.customers == 1 && report.changes.cancelled > 0)
        let cancelled = try ws.store.outbox(status: .cancelled).filter { $0.rule == "transit-update" }
        #expect(!cancelled.isEmpty)
        #expect(cancelled.allSatisfy { $0.reason?.contains("delivered at 2026-11-10T17:00:00Z") == true || $0.reason?.hasPrefix("stale") == true })
        #expect(try ws.store.outbox(status: .planned).contains { $0.rule == "transit-update" } == false)
        #expect(try ws.store.outbox(status: .planned).contains { $0.key == "inspection-guide/S1/1" })
        let history = try ws.store.outboxHistory(key: "transit-update/S1/5")
        #expect(history.map(\.to) == [.planned, .cancelled])
    }

    @Test("a resolved complaint cancels its escalation; an order placed cancels the pending repurchase alert")
    func stateChanges() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        var ws = try tw.open("2026-11-05T10:00:00Z")
        _ = try ws.store.openComplaint(id: "K1", orderID: "O1", category: .quality, text: "Leaks", at: t("2026-11-05T10:00:00Z"), now: ws.now)
        _ = try ws.plan()
        #expect(try ws.store.outboxEntry(key: "complaint-escalation/K1/1").status == .planned)
        #expect(try ws.store.outboxEntry(key: "repurchase-alert/C1/PUMP/O1").status == .planned)
        ws = try tw.open("2026-11-05T20:00:00Z")
        _ = try ws.store.advanceComplaint(id: "K1", .resolve("replaced"), at: ws.now, now: ws.now)
        _ = try ws.store.addOrder(id: "O2", customerID: "C1", lines: [OrderLine(sku: "PUMP", quantity: 1)], currency: "USD", at: ws.now, now: ws.now)
        _ = try ws.plan()
        let escalation = try ws.store.outboxEntry(key: "complaint-escalation/K1/1")
        #expect(escalation.status == .cancelled && escalation.reason == "complaint resolved at 2026-11-05T20:00:00Z")
        let alert = try ws.store.outboxEntry(key: "repurchase-alert/C1/PUMP/O1")
        #expect(alert.status == .cancelled && alert.reason?.hasPrefix("re-ordered: order O2") == true)
        #expect(try ws.store.outboxEntry(key: "repurchase-alert/C1/PUMP/O2").status == .planned)
    }

    @Test("approval-required mail is held")
    func held() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        let ws = try tw.open("2026-11-20T10:00:00Z")
        _ = try ws.store.openComplaint(id: "K1", orderID: "O1", category: .quality, text: "Leaks", at: t("2026-11-10T10:00:00Z"), now: ws.now)
        _ = try ws.store.advanceComplaint(id: "K1", .resolve("replaced"), at: t("2026-11-12T10:00:00Z"), now: ws.now)
        _ = try ws.store.advanceComplaint(id: "K1", .rate(2), at: t("2026-11-20T09:00:00Z"), now: ws.now)
        _ = try ws.plan()
        #expect(try ws.store.outboxEntry(key: "improvement-commitment/K1/1").status == .held)
    }

    @Test("a plan of many batches copies the write-ahead log into the database beside the writer and turns automatic checkpoints back on")
    func checkpointsAroundAPlan() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        let store = try tw.open("2026-11-03T14:00:00Z").store
        for i in 0..<(AftersalesStore.factsBatch + 10) {
            _ = try store.addCustomer(id: "W\(i)", CustomerChanges(name: "W", email: "w\(i)@example.de", locale: "de", timeZone: "Europe/Berlin", country: "DE"),
                                      now: t("2026-11-03T14:00:00Z"))
        }
        let ws = try tw.open("2026-11-05T09:30:00Z")
        let mainFile = { (try FileManager.default.attributesOfItem(atPath: tw.path)[.size] as? Int) ?? 0 }
        let before = try mainFile()
        let report = try ws.plan()
        #expect(report.changes.customers == AftersalesStore.factsBatch + 11 && report.changes.planned > 0, "\(report)")
        // The log is far below SQLite's automatic checkpoint, and both workspaces are still open: only the
        // plan's own checkpoints can have written the database file.
        #expect(try mainFile() > before, "the plan's writes were copied into the database file")
        let pages = try ws.store.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
        #expect(pages == 1000)
    }

    @Test("a send copies the write-ahead log into the database beside the writer and turns automatic checkpoints back on")
    func checkpointsAroundASend() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        let mainFile = { (try FileManager.default.attributesOfItem(atPath: tw.path)[.size] as? Int) ?? 0 }
        // The background checkpointer alone: what was written with automatic checkpoints off reaches the file.
        let store = try tw.open("2026-11-03T14:00:00Z").store
        try store.autoCheckpoint(pages: 0)
        let before = try mainFile()
        for i in 0..<1000 {
            _ = try store.addCustomer(id: "W\(i)", CustomerChanges(name: String(repeating: "W", count: 150), email: "w\(i)@example.de", locale: "de",
                                                                   timeZone: "Europe/Berlin", country: "DE"), now: t("2026-11-03T14:00:00Z"))
        }
        #expect(try mainFile() == before, "nothing was checkpointed yet")
        let checkpointer = try #require(store.backgroundCheckpointer())
        checkpointer.request()
        checkpointer.stop()
        #expect(try mainFile() > before + 1000 * 150, "the log was copied into the database file")
        #expect(try AftersalesStore(writer: DatabaseQueue()).backgroundCheckpointer() == nil, "an in-memory database has no log")
        // A send: everything copied at the end, and SQLite's default back on the writer.
        let ws = try Workspace.open(Settings(databasePath: tw.path, configPath: nil, now: t("2026-11-05T09:30:00Z"), environment: [:],
                                             templatesPath: templatesDirectory), access: .readWrite)
        let scratch = try ScratchDirectory("aftersales-checkpoint")
        // Both directories must outlive the run: their deinit removes them.
        defer { withExtendedLifetime((tw, scratch)) {} }
        let summary = try ws.run(transport: FileTransport(directory: scratch.url.path))
        #expect(summary.sent > 0, "\(summary)")
        try ws.store.writer.writeWithoutTransaction { db in
            #expect(try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") == 1000)
            let row = try #require(try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)"))
            #expect(row[1] as Int == row[2] as Int, "every frame of the log was already in the database")
        }
    }

    @Test("while mail is sent every commit reaches the disk (a claim is durable before its mail leaves); afterwards SQLite's NORMAL again")
    func durableClaims() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        let ws = try Workspace.open(Settings(databasePath: tw.path, configPath: nil, now: t("2026-11-05T09:30:00Z"), environment: [:],
                                             templatesPath: templatesDirectory), access: .readWrite)
        defer { withExtendedLifetime(tw) {} }
        func level() throws -> Int? { try ws.store.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } }
        #expect(try level() == 1, "NORMAL outside a send")
        let probe = SyncProbe(level: level)
        let summary = try ws.run(transport: probe)
        #expect(summary.sent > 0, "\(summary)")
        #expect(!probe.levels.isEmpty && probe.levels.allSatisfy { $0 == 2 }, "FULL while each mail left: \(probe.levels)")
        #expect(try level() == 1)
    }

    @Test("orders whose every mail of a rule would be left out as history are not walked for it; walking them keeps nothing more")
    func settledOrders() throws {
        let tw = try TestWorkspace()
        let ws = try tw.plannedCompany(scale: 0.2)
        let settings = ws.planningSettings
        let rules = RuleSet.defaults
        var skipped = 0, compared = 0
        try ws.store.writer.read { db in
            for id in try String.fetchAll(db, sql: "SELECT id FROM customers ORDER BY id") {
                let facts = try #require(try AftersalesStore.customerFacts(db, id))
                let kinds = facts.orders.map { Planner.ProductKinds($0.order, products: facts.products) }
                let latest = facts.orders.map { Planner.latestAnchor($0, settings: settings) }
                // As planned from scratch (nothing stored), and as re-planned (what the plan stored).
                for existing in [[], try AftersalesStore.outboxEntries(db, customerIDs: [id])[0].map(ExistingMail.init)] {
                    let history = Planner.History(stored: Set(existing.map(\.key)), storedRules: Set(existing.map(\.rule)),
                                                  lookback: ws.now.addingTimeInterval(-Planner.cancellationLookback), calendar: settings.calendar,
                                                  zone: facts.customer.timeZone.timeZone, country: facts.customer.country.value)
                    for rule in rules.rules where rule.enabled {
                        let fast = Planner.triggers(rule, facts: facts, kinds: kinds, latest: latest, seasons: rules.seasons, settings: settings,
                                                    now: ws.now, history: history)
                        let walked = Planner.triggers(rule, facts: facts, kinds: kinds, latest: latest, seasons: rules.seasons, settings: settings,
                                                      now: ws.now, history: history, walkSettled: true)
                        #expect(fast.map { "\($0.subject)/\($0.occurrence)" } == walked.map { "\($0.subject)/\($0.occurrence)" }, "\(id) \(rule.id)")
                        skipped += facts.orders.indices.filter { history.settles(rule, latest: latest[$0]) }.count
                        compared += 1
                    }
                }
            }
        }
        #expect(compared > 100)
        #expect(skipped > 1000, "most of three years of history is settled")
    }

    @Test("history left out is never seen: planning with all of it stores and shows the same mail", arguments: [0, 20])
    func leftOutUnseen(daysLater: Int) throws {
        let tw = try TestWorkspace()
        let ws = try tw.plannedCompany(scale: 0.2)
        let settings = ws.planningSettings
        let rules = RuleSet.defaults
        let now = ws.now.addingTimeInterval(Double(daysLater * 86_400))
        let lookback = now.addingTimeInterval(-Planner.cancellationLookback)
        var compared = 0, leftOut = 0
        try ws.store.writer.read { db in
            for id in try String.fetchAll(db, sql: "SELECT id FROM customers ORDER BY id") {
                let facts = try #require(try AftersalesStore.customerFacts(db, id))
                // From scratch, and with what the plan stored (days later, much of it is stale).
                for existing in [[], try AftersalesStore.outboxEntries(db, customerIDs: [id])[0].map(ExistingMail.init)] {
                    let stored = Set(existing.map(\.key))
                    // What a plan stores or `preview --explain` shows: mail to send, stored mail, and cancellations in the window.
                    func seen(_ mails: [PlannedMail]) -> [PlannedMail] {
                        mails.filter { $0.disposition == .send || stored.contains($0.key) || $0.due >= lookback }
                    }
                    let fast = Planner.plan(facts, existing: existing, rules: rules, settings: settings, now: now)
                    let all = Planner.plan(facts, existing: existing, rules: rules, settings: settings, now: now, leavingOut: false)
                    #expect(seen(fast.mails) == seen(all.mails), "\(id)")
                    #expect(fast.wakeAt == all.wakeAt)
                    leftOut += all.mails.count - fast.mails.count
                    compared += 1
                }
            }
        }
        #expect(compared > 30)
        #expect(leftOut > 500, "most of three years of history is left out")
    }

    @Test("the facts of many customers read at once are each customer's facts read alone")
    func factsTogether() throws {
        let tw = try TestWorkspace()
        let ws = try tw.plannedCompany(scale: 0.2)
        try ws.store.writer.read { db in
            let ids = Array((try String.fetchAll(db, sql: "SELECT id FROM customers ORDER BY id") + ["nobody"]).reversed())
            var products = AftersalesStore.ProductMemo()
            let together = try AftersalesStore.customerFacts(db, ids, products: &products)
            let alone = try ids.compactMap { try AftersalesStore.customerFacts(db, $0) }
            #expect(together == alone)
            #expect(together.count == ids.count - 1)
            #expect(together.reduce(0) { $0 + $1.orders.count } > 100)
        }
    }

    @Test("the sender reads only the shipments its mails name, and every mail renders byte for byte as with all the facts")
    func namedShipments() throws {
        let tw = try TestWorkspace()
        let (ws, keys) = try tw.pendingMail(scale: 0.2, limit: 300)
        let renderer = try sampleRenderer()
        var named = 0
        for batch in stride(from: 0, to: keys.count, by: 50).map({ Array(keys[$0..<min($0 + 50, keys.count)]) }) {
            let (entries, facts) = try ws.store.sendingFacts(keys: batch)
            #expect(entries.count == batch.count)
            let wanted = Set(entries.values.compactMap { $0.context["shipment"] })
            for (id, lean) in facts {
                let shipments = Set(lean.orders.flatMap(\.shipments).map(\.shipment.id))
                #expect(shipments.isSubset(of: wanted), "\(id)")
                let whole = try #require(try ws.store.writer.read { db in try AftersalesStore.customerFacts(db, id) })
                #expect(lean.customer == whole.customer && lean.products == whole.products && lean.orders.map(\.order) == whole.orders.map(\.order))
            }
            for entry in entries.values {
                let lean = try #require(facts[entry.customerID])
                let whole = try #require(try ws.store.writer.read { db in try AftersalesStore.customerFacts(db, entry.customerID) })
                if let shipment = entry.context["shipment"] {
                    named += 1
                    #expect(lean.orders.contains { $0.shipment(shipment) != nil } == whole.orders.contains { $0.shipment(shipment) != nil })
                }
                let request = entry.mail
                #expect(try renderer.render(request, facts: lean, now: ws.now).bytes == renderer.render(request, facts: whole, now: ws.now).bytes, "\(entry.key)")
            }
        }
        #expect(named > 20)
    }

    @Test("a send reads only its mails' templates in the locales they can be written in, and every mail renders byte for byte as with all of them")
    func neededLocales() throws {
        let tw = try TestWorkspace()
        let (ws, keys) = try tw.pendingMail(scale: 0.3, limit: 400)
        let full = try sampleRenderer()
        let (entries, facts) = try ws.store.sendingFacts(keys: keys)
        let byCustomer = Dictionary(grouping: entries.values, by: \.customerID)
        var written: Set<String> = []
        var fellBack = 0
        for (customerID, mails) in byCustomer {
            let customer = try #require(facts[customerID]).customer
            let locales = try ws.store.customerLocales(customerIDs: [customerID])
            #expect(locales == [customer.locale], "\(customerID)")
            let wanted = MailRenderer.locales(for: locales)
            let templates = try TemplateStore(builtIn: templatesDirectory, locales: wanted, templates: Set(mails.map(\.template)))
            #expect(Set(templates.locales) == wanted.intersection(full.templates.locales), "\(customer.locale)")
            let lean = MailRenderer(templates: templates, configuration: full.configuration, generators: full.generators)
            for entry in mails {
                let request = entry.mail
                let mail = try lean.render(request, facts: facts[customerID]!, now: ws.now)
                #expect(mail.bytes == (try full.render(request, facts: facts[customerID]!, now: ws.now)).bytes, "\(entry.key)")
                written.insert(mail.locale)
                if mail.locale != customer.locale.value { fellBack += 1 }
            }
        }
        #expect(written.count >= 5, "\(written)")
        #expect(fellBack > 0, "regional locales (es-MX, pt-BR) fall back to their language")
        // All of a run's customers at once: every customer's locale, once.
        let all = try ws.store.customerLocales(customerIDs: Set(byCustomer.keys))
        #expect(Set(all) == Set(facts.values.map(\.customer.locale)) && all.count == Set(all).count)
        #expect(try ws.store.customerLocales(customerIDs: []).isEmpty)
        // The due mail names the customer of each mail, oldest first.
        let due = try ws.store.dueMail(now: ws.now.addingTimeInterval(400 * 86_400))
        #expect(due.count >= keys.count && Array(due.map(\.key).prefix(keys.count)) == keys)
        for mail in due.prefix(keys.count) {
            #expect(mail.customerID == entries[mail.key]?.customerID && mail.template == entries[mail.key]?.template, "\(mail.key)")
        }
    }

    @Test("outbox counts are SQLite's count of the entries with each status")
    func outboxCounts() throws {
        let tw = try TestWorkspace()
        let ws = try tw.plannedCompany(scale: 0.2)
        for status in OutboxStatus.allCases {
            #expect(try ws.store.outboxCount(status: status) == ws.store.outbox(status: status).count, "\(status)")
        }
        #expect(try ws.store.outboxCount(status: .planned) > 0)
    }

    @Test("two planners at once create nothing twice")
    func concurrentPlanners() async throws {
        let tw = try TestWorkspace()
        try tw.seed()
        // Add more customers so that the two passes overlap for a while.
        let ws = try tw.open("2026-11-03T14:00:00Z")
        for i in 0..<60 {
            _ = try ws.store.addCustomer(id: "X\(i)", CustomerChanges(name: "X", email: "x\(i)@example.de", locale: "de", timeZone: "Europe/Berlin",
                                                                      country: "DE", consent: true), now: ws.now)
            _ = try ws.store.addOrder(id: "XO\(i)", customerID: "X\(i)", lines: [OrderLine(sku: "PUMP", quantity: 1)], currency: "EUR",
                                      at: t("2026-11-02T10:00:00Z"), now: ws.now)
            _ = try ws.store.dispatch(Shipment(id: "XS\(i)", orderID: "XO\(i)", carrier: "DHL", trackingNumber: "\(i)",
                                               dispatchedAt: t("2026-11-03T10:00:00Z"), eta: t("2026-11-20T00:00:00Z")), now: ws.now)
        }
        let reports = try await withThrowingTaskGroup(of: PlanReport.self) { group in
            for _ in 0..<2 { group.addTask { try tw.open("2026-11-03T14:05:00Z").plan() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let total = try tw.open("2026-11-03T14:05:00Z").store.outbox()
        #expect(Set(total.map(\.key)).count == total.count)
        #expect(reports.map(\.changes.planned).reduce(0, +) == total.count, "each mail was inserted by exactly one planner")
        // The same as one planner on a copy of the facts would plan.
        #expect(total.filter { $0.rule == "tracking" }.count == 61)
    }

    @Test("preview writes nothing: the database files are byte-identical afterwards")
    func previewWritesNothing() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        _ = try tw.open("2026-11-03T14:05:00Z").plan()
        // Something new that preview will plan in memory.
        let ws = try tw.open("2026-11-04T10:00:00Z")
        _ = try ws.store.openComplaint(id: "K1", orderID: "O1", category: .damage, text: "Cracked", at: ws.now, now: ws.now)
        // The database and its write-ahead log (the -shm file is SQLite's shared-memory index of readers, not data).
        let files = [tw.path, tw.path + "-wal"]
        let before = files.map { FileManager.default.contents(atPath: $0) }
        let views = try tw.open("2026-11-04T10:00:00Z", access: .readOnly).preview(days: 7, explain: true)
        #expect(views.contains { $0.key == "damage-reply/K1/1" && $0.status == .planned })
        #expect(files.map { FileManager.default.contents(atPath: $0) } == before)
        #expect(try tw.open("2026-11-04T10:00:00Z", access: .readOnly).store.outbox().contains { $0.key == "damage-reply/K1/1" } == false)
    }

    @Test("a rules file changes timings, disables a rule and adds one; mistakes name the rule and key")
    func rulesFile() throws {
        let yaml = """
        rules:
          transit-update:
            every: 2d
            cap: 3
          review-request:
            enabled: false
          tracking-reminder:
            trigger: shipment.dispatched
            offset: 1d
            template: tracking
            cancel_on: [delivered]
        seasons:
          - {name: monsoon, industry: agrochemicals, countries: [IN], month: 6, day: 15}
        """
        let set = try RulesFile.apply(yaml: yaml, to: .defaults, path: "rules.yml")
        #expect(set["transit-update"]?.repeatEvery == 2 * 86_400 && set["transit-update"]?.repeatCap == 3)
        #expect(set["review-request"]?.enabled == false)
        #expect(set["tracking-reminder"]?.offset == 86_400 && set["tracking-reminder"]?.template == "tracking")
        #expect(set.seasons.map(\.name) == ["monsoon"])
        #expect(set.rules.count == RuleSet.defaults.rules.count + 1)
        #expect(throws: AftersalesError.configuration("rules file \"rules.yml\": rule tracking: offset \"soon\": expected a duration like 30m, 2h, 3d, 2w or -15d")) {
            try RulesFile.apply(yaml: "rules:\n  tracking:\n    offset: soon\n", to: .defaults, path: "rules.yml")
        }
        #expect(throws: AftersalesError.self) { try RulesFile.apply(yaml: "rules:\n  tracking:\n    window: lunch\n", to: .defaults, path: "r") }
        #expect(throws: AftersalesError.self) { try RulesFile.apply(yaml: "rules:\n  new-one:\n    offset: 1d\n", to: .defaults, path: "r") }
        #expect(throws: AftersalesError.self) { try RulesFile.apply(yaml: "rulez: {}\n", to: .defaults, path: "r") }
    }

    @Test("every rule id of SEQUENCES.md is in the default rule set")
    func defaultIDs() {
        let ids = ["tracking", "transit-update", "delay-notice", "customs-notes", "customs-held", "inspection-guide", "usage-follow-up",
                   "maintenance-reminder", "peak-season", "upgrade-notice", "policy-reminder", "complaint-ack", "complaint-solution",
                   "complaint-escalation", "satisfaction-check", "improvement-commitment", "damage-reply", "survey", "survey-promoter",
                   "survey-passive", "survey-detractor", "review-thanks", "review-response", "review-request", "repurchase-alert", "seasonal-alert"]
        // + issue 17's internal mail when a shipment's ETA passed without delivery.
        #expect(Set(RuleSet.defaults.rules.map(\.id)) == Set(ids + ["overdue-shipment"]))
    }
}

@Suite("Planning from the command line")
struct PlanningCLITests {
    @Test("preview --json and outbox list --json carry the documented keys; preview leaves the file untouched")
    func jsonKeys() throws {
        let cli = try CLI(now: "2026-11-05T10:00:00Z")
        try cli.seed()
        #expect(try cli.run(["shipment", "dispatch", "--order", "O1", "--id", "S1", "--carrier", "Maersk", "--tracking", "M1",
                             "--eta", "2026-11-30", "--at", "2026-11-05T09:00:00Z"]).code == 0)
        let before = cli.databaseBytes()
        let preview = try cli.run(["preview", "--json", "--days", "30"])
        #expect(preview.code == 0, "\(preview.stderr)")
        #expect(cli.databaseBytes() == before)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(preview.stdout.utf8)) as? [[String: Any]])
        #expect(!items.isEmpty)
        for key in ["key", "rule", "stream", "customer", "order", "to", "due", "local_due", "status", "reason"] {
            #expect(items.allSatisfy { $0.keys.contains(key) || key == "reason" || key == "order" }, "\(key)")
        }
        let tracking = try #require(items.first { ($0["key"] as? String) == "tracking/S1/1" })
        #expect(tracking["due"] as? String == "2026-11-05T09:00:00Z")
        #expect(tracking["local_due"] as? String == "2026-11-05T03:00:00-06:00")
        #expect(try cli.run(["plan"]).code == 0)
        let list = try cli.run(["outbox", "list", "--json", "--status", "planned"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["key"] as? String }).isSuperset(of: ["tracking/S1/1", "transit-update/S1/1"]))
        let bad = try cli.run(["outbox", "list", "--status", "lost"])
        #expect(bad.code == 64 && bad.stderr.contains("status \"lost\""))
        let rules = try cli.run(["rules", "show", "transit-update"])
        #expect(rules.code == 0 && rules.stdout.contains("every") && rules.stdout.contains("3d"))
        #expect(!rules.stdout.contains("attachments") && !rules.stdout.contains("bilingual"))
        // A rule's own behaviour is shown too: the documents it attaches, and whether it is bilingual.
        let trackingRule = try cli.run(["rules", "show", "tracking"])
        #expect(trackingRule.code == 0 && trackingRule.stdout.contains("attachments") && trackingRule.stdout.contains("shipment-documents"))
        let ack = try cli.run(["rules", "show", "complaint-ack", "--json"])
        let ackRule = try #require(try JSONSerialization.jsonObject(with: Data(ack.stdout.utf8)) as? [String: Any])
        #expect(ackRule["bilingual"] as? Bool == true && (ackRule["attachments"] as? [String])?.isEmpty == true)
        let explain = try cli.run(["preview", "--explain", "--customer", "C1"])
        #expect(explain.stdout.contains("why:"))
    }
}

/// A transport that, for each mail, notes the writer's `synchronous` level at that moment.
final class SyncProbe: MailTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var noted: [Int?] = []
    private let level: () throws -> Int?
    init(level: @escaping () throws -> Int?) { self.level = level }
    var name: String { "sync-probe" }
    var levels: [Int?] { lock.withLock { noted } }
    func openSession() -> any TransportSession { Session(probe: self) }

    final class Session: TransportSession {
        let probe: SyncProbe
        init(probe: SyncProbe) { self.probe = probe }
        func deliver(from: String, recipient: String, message: Data, key: String) -> DeliveryAttempt {
            let level = try? probe.level()
            probe.lock.withLock { probe.noted.append(level ?? nil) }
            return .accepted("250 noted")
        }
        func close() {}
    }
}
