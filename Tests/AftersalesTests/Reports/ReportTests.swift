import AftersalesDomain
@testable import AftersalesKit
import AftersalesPlanning
import Foundation
import GRDB
import Testing

/// A transport that writes files like the file transport, but answers some recipients or keys as a
/// server would refuse them: a permanent 550 at RCPT, or a transient 451.
struct RefusingTransport: MailTransport {
    var files: FileTransport
    var refused: Set<String> = []
    var transient: Set<String> = []
    var name: String { "refusing" }

    func openSession() -> any TransportSession { Session(self, files.openSession()) }

    final class Session: TransportSession {
        let transport: RefusingTransport
        let inner: any TransportSession
        init(_ transport: RefusingTransport, _ inner: any TransportSession) { self.transport = transport; self.inner = inner }

        func deliver(from: String, recipient: String, message: Data, key: String) -> DeliveryAttempt {
            if transport.refused.contains(recipient) { return .permanent("550 5.1.1 <\(recipient)>: mailbox unavailable", atRecipient: true) }
            if transport.transient.contains(key) { return .transient("451 4.3.0 try again later") }
            return inner.deliver(from: from, recipient: recipient, message: message, key: key)
        }

        func close() { inner.close() }
    }
}

/// The hand-built company of the report tests: three customers, facts recorded through the store at
/// fixed times, `run` (plan + send) at fixed instants. Only the rules the report measures are enabled
/// (a rules file turns the others off), so that every mail sent is listed below.
///
/// The period is November 2026, `[2026-11-01, 2026-12-01)`, judged at now = 2026-12-01T00:00Z.
/// Customers: C1 (GB, Europe/London = UTC in November), C2 (DE, Europe/Berlin), C3 (FR, refused by the server).
/// Products: P1 (cycle 30 days), P2 (cycle 60 days), P3 (no cycle).
/// Orders: O1 C1 P1 placed 10-20 10:00; O2 C2 P2 placed 09-20 10:00; O3 C1 P3 11-01; O4 C1 P1 11-16 09:00;
/// O5, O6, O7 C2 P3 11-01; O8 C2 P3 10-01; O9 C3 P3 11-01.
///
/// Mail sent (run instant, minutes from the trigger fact):
/// - tracking S1 (sea, dispatched 11-02 09:00) at 11-02 10:00: 60 min, met (2 h)
/// - delay-notice S1 (delay 11-03 08:00, ETA 11-10 00:00 -> 11-15) at 11-03 08:30: 30 min, met; 9,570 min before the ETA it corrects, met
/// - tracking S2 (sea, C2, 11-03 09:00) at 11-03 12:00: 180 min, BREACH
/// - tracking S3 (air, 11-04 09:00) at 11-04 09:30: 30 min, met
/// - repurchase-alert C1/P1 (predicted 11-19 10:00 from O1 + 30 days) and C2/P2 (O2 + 60 days), due 11-04 10:00, at 11-04 10:30
/// - complaint-ack K1 (quality, opened 11-05 10:00) at 11-05 10:20: 20 min, met
/// - complaint-solution K1 (solution 11-05 16:00) at 11-05 16:10: 10 min, met
/// - damage-reply K2 (damage, C2, opened 11-06 10:00) at 11-06 11:30: 90 min, BREACH
/// - complaint-solution K2 (solution 11-08 10:00) at 11-08 10:05: 5 min, met
/// - delay-notice S3 (delay 11-09 12:00, ETA 11-10 00:00 -> 11-14) at 11-09 12:10: 10 min, met; 710 min before the ETA: breach of the 24 h lead
/// - customs-held S1 (held 11-12 10:00, cleared 11-13 16:00: 30 h) at 11-12 10:30: 30 min, met
/// - inspection-guide S1 (delivered 11-16 10:00) at 11-16 11:00: 60 min, met
/// - inspection-guide S3 (delivered 11-17 10:00) at 11-17 10:30: 30 min, met
/// - review-response O2 (negative review 11-19 10:00) at 11-19 10:40: 40 min, met
/// - survey O1 and O2 (completed 11-16 12:00, due 3 days later) at 11-19 12:05; O2's gets a 451 (retry), sent at 11-20 10:30
/// - complaint-ack K3 (logistics-delay, opened 11-20 10:00, never solved) at 11-20 10:30: 30 min, met
/// - tracking S4 (C3, dispatched 11-21 09:00) at 11-21 09:30: 550 at RCPT, failed, address suppressed
/// That is 18 mails sent (16 transactional, 2 marketing), 1 retry, 1 failure.
struct ReportCompany {
    let scratch: ScratchDirectory
    var path: String { scratch.url.appendingPathComponent("report.db").path }
    var environment: [String: String] { ["AFTERSALES_RULES_FILE": scratch.url.appendingPathComponent("rules.yml").path] }
    static let measured: Set<String> = ["tracking", "delay-notice", "customs-held", "inspection-guide", "complaint-ack", "damage-reply",
                                        "complaint-solution", "review-response", "survey", "repurchase-alert"]
    static let from = t("2026-11-01T00:00:00Z"), to = t("2026-12-01T00:00:00Z"), now = t("2026-12-01T00:00:00Z")

    init() throws {
        scratch = try ScratchDirectory("aftersales-report")
        let off = RuleSet.defaults.rules.map(\.id).filter { !Self.measured.contains($0) }
        try ("rules:\n" + off.map { "  \($0): {enabled: false}\n" }.joined()).write(to: URL(fileURLWithPath: environment["AFTERSALES_RULES_FILE"]!), atomically: true, encoding: .utf8)
    }

    func open(_ now: String) throws -> Workspace {
        try Workspace.open(Settings(databasePath: path, configPath: nil, now: t(now), environment: environment, templatesPath: templatesDirectory),
                           access: .readWrite)
    }

    func run(_ now: String, transport: RefusingTransport? = nil) throws {
        let ws = try open(now)
        let files = FileTransport(directory: scratch.url.appendingPathComponent("sent").path)
        _ = try ws.run(transport: transport ?? RefusingTransport(files: files))
    }

    /// Records the whole company and runs every send listed above.
    static func build() throws -> ReportCompany {
        let company = try ReportCompany()
        let store = try company.open("2026-09-01T00:00:00Z").store
        func at(_ text: String) -> Date { t(text) }
        let setup = at("2026-09-01T00:00:00Z")
        _ = try store.addCustomer(id: "C1", CustomerChanges(name: "Alice", email: "alice@example.co.uk", locale: "en", timeZone: "Europe/London", country: "GB", consent: true), now: setup)
        _ = try store.addCustomer(id: "C2", CustomerChanges(name: "Bernd", email: "bernd@example.de", locale: "de", timeZone: "Europe/Berlin", country: "DE", consent: true), now: setup)
        _ = try store.addCustomer(id: "C3", CustomerChanges(name: "Chloé", email: "bad@example.fr", locale: "fr", timeZone: "Europe/Paris", country: "FR", consent: true), now: setup)
        _ = try store.addProduct(sku: "P1", ProductChanges(name: "Pump", cycleDays: 30), now: setup)
        _ = try store.addProduct(sku: "P2", ProductChanges(name: "Valve", cycleDays: 60), now: setup)
        _ = try store.addProduct(sku: "P3", ProductChanges(name: "Seal kit"), now: setup)
        func order(_ id: String, _ customer: String, _ sku: String, _ placed: String) throws {
            _ = try store.addOrder(id: id, customerID: customer, lines: [OrderLine(sku: sku, quantity: 1)], currency: "USD", at: at(placed), now: at(placed))
        }
        func event(_ shipment: String, _ kind: ShipmentEventKind, _ time: String, eta: String? = nil) throws {
            _ = try store.recordShipmentEvent(ShipmentEvent(shipmentID: shipment, kind: kind, at: at(time), newETA: eta.map(at), cause: eta.map { _ in "port congestion" }), now: at(time))
        }
        func dispatch(_ id: String, _ order: String, _ mode: ShipmentMode, _ time: String, eta: String = "2026-11-10T00:00:00Z") throws {
            _ = try store.dispatch(Shipment(id: id, orderID: order, carrier: "Maersk", trackingNumber: "T-\(id)", mode: mode, dispatchedAt: at(time), eta: at(eta)), now: at(time))
        }
        func complaint(_ id: String, _ order: String, _ category: ComplaintCategory, _ time: String) throws {
            _ = try store.openComplaint(id: id, orderID: order, category: category, text: "Problem \(id)", at: at(time), now: at(time))
        }
        func step(_ id: String, _ step: AftersalesStore.ComplaintStep, _ time: String) throws {
            _ = try store.advanceComplaint(id: id, step, at: at(time), now: at(time))
        }
        func survey(_ order: String, _ score: Int, _ time: String) throws {
            _ = try store.recordSurvey(SurveyAnswer(orderID: order, score: score, answeredAt: at(time)), now: at(time))
        }
        try order("O2", "C2", "P2", "2026-09-20T10:00:00Z")
        try order("O8", "C2", "P3", "2026-10-01T10:00:00Z")
        try order("O1", "C1", "P1", "2026-10-20T10:00:00Z")
        try survey("O8", 0, "2026-10-25T10:00:00Z")             // before the period: not counted
        for (id, customer) in [("O3", "C1"), ("O5", "C2"), ("O6", "C2"), ("O7", "C2"), ("O9", "C3")] { try order(id, customer, "P3", "2026-11-01T09:00:00Z") }
        try dispatch("S1", "O1", .sea, "2026-11-02T09:00:00Z")
        try company.run("2026-11-02T10:00:00Z")
        try event("S1", .delayed, "2026-11-03T08:00:00Z", eta: "2026-11-15T00:00:00Z")
        try company.run("2026-11-03T08:30:00Z")
        try dispatch("S2", "O2", .sea, "2026-11-03T09:00:00Z")
        try company.run("2026-11-03T12:00:00Z")
        try dispatch("S3", "O3", .air, "2026-11-04T09:00:00Z")
        try company.run("2026-11-04T09:30:00Z")
        try company.run("2026-11-04T10:30:00Z")
        try complaint("K1", "O1", .quality, "2026-11-05T10:00:00Z")
        try company.run("2026-11-05T10:20:00Z")
        try step("K1", .offerSolution("replacement"), "2026-11-05T16:00:00Z")
        try company.run("2026-11-05T16:10:00Z")
        try complaint("K2", "O2", .damage, "2026-11-06T10:00:00Z")
        try company.run("2026-11-06T11:30:00Z")
        try step("K1", .resolve("replaced"), "2026-11-07T10:00:00Z")
        try step("K2", .offerSolution("refund"), "2026-11-08T10:00:00Z")
        try company.run("2026-11-08T10:05:00Z")
        try step("K1", .rate(5), "2026-11-08T12:00:00Z")
        try step("K2", .resolve("refunded"), "2026-11-09T10:00:00Z")
        try event("S3", .delayed, "2026-11-09T12:00:00Z", eta: "2026-11-14T00:00:00Z")
        try company.run("2026-11-09T12:10:00Z")
        try step("K2", .rate(2), "2026-11-10T10:00:00Z")
        try event("S1", .held, "2026-11-12T10:00:00Z")
        try company.run("2026-11-12T10:30:00Z")
        try event("S1", .cleared, "2026-11-13T16:00:00Z")
        try event("S1", .delivered, "2026-11-16T10:00:00Z")
        try order("O4", "C1", "P1", "2026-11-16T09:00:00Z")
        try company.run("2026-11-16T11:00:00Z")
        _ = try store.completeOrder(id: "O1", at: at("2026-11-16T12:00:00Z"), now: at("2026-11-16T12:00:00Z"))
        _ = try store.completeOrder(id: "O2", at: at("2026-11-16T12:00:00Z"), now: at("2026-11-16T12:00:00Z"))
        try event("S3", .delivered, "2026-11-17T10:00:00Z")
        try company.run("2026-11-17T10:30:00Z")
        _ = try store.recordReview(Review(orderID: "O2", positive: false, reviewedAt: at("2026-11-19T10:00:00Z")), now: at("2026-11-19T10:00:00Z"))
        try company.run("2026-11-19T10:40:00Z")
        try company.run("2026-11-19T12:05:00Z", transport: RefusingTransport(files: FileTransport(directory: company.scratch.url.path), transient: ["survey/O2/1"]))
        try survey("O1", 10, "2026-11-20T10:00:00Z")
        try complaint("K3", "O3", .logisticsDelay, "2026-11-20T10:00:00Z")
        try company.run("2026-11-20T10:30:00Z")
        try dispatch("S4", "O9", .road, "2026-11-21T09:00:00Z", eta: "2026-11-30T00:00:00Z")
        try company.run("2026-11-21T09:30:00Z", transport: RefusingTransport(files: FileTransport(directory: company.scratch.url.path), refused: ["bad@example.fr"]))
        for (order, score) in [("O3", 9), ("O4", 10), ("O5", 8), ("O6", 3), ("O7", 6)] { try survey(order, score, "2026-11-22T10:00:00Z") }
        _ = try store.unsubscribe(customerID: "C2", at: at("2026-11-25T10:00:00Z"), now: at("2026-11-25T10:00:00Z"))
        return company
    }

    func report(by: ReportDimension? = nil) throws -> Report {
        try Report.compute(ReportQuery(from: Self.from, to: Self.to, now: Self.now, by: by), store: try open("2026-12-01T00:00:00Z").store)
    }
}

@Suite("Report", .serialized)
struct ReportTests {
    /// Built once for the suite (a few seconds of planning and sending).
    static let company = Result { try ReportCompany.build() }

    func report(by: ReportDimension? = nil) throws -> Report { try Self.company.get().report(by: by) }

    @Test("sla: one row per rule with a deadline, the solution on facts and the delay notice's lead before the ETA")
    func sla() throws {
        let rows = try report().sections.sla
        func row(_ rule: String, _ deadline: Int, _ count: Int, _ met: Int, _ percent: Double, _ median: Int?, _ p90: Int?, _ breaches: [String] = []) -> SLARow {
            SLARow(rule: rule, deadlineMinutes: deadline, count: count, met: met, percent: percent, medianMinutes: median, p90Minutes: p90, breaches: breaches)
        }
        #expect(rows.map(\.rule) == ["complaint-ack", "complaint-solution", "customs-held", "damage-reply", "delay-notice", "delay-notice-before-eta",
                                     "inspection-guide", "review-response", "solution-offered", "tracking"])
        let expected = [
            // K1 20 min, K3 30 min: nearest rank median = the 1st of 2 (20), p90 = the 2nd (30).
            row("complaint-ack", 60, 2, 2, 100, 20, 30),
            // K2 5 min, K1 10 min.
            row("complaint-solution", 1440, 2, 2, 100, 5, 10),
            row("customs-held", 60, 1, 1, 100, 30, 30),
            // K2 sent 90 min after the complaint: the second breach.
            row("damage-reply", 60, 1, 0, 0, 90, 90, ["damage-reply/K2/1"]),
            // S3 10 min, S1 30 min.
            row("delay-notice", 60, 2, 2, 100, 10, 30),
            // S3's notice 11-09 12:10 is 710 min before the ETA it corrects (11-10 00:00); S1's 9,570 min (6 d 15 h 30 min).
            row("delay-notice-before-eta", 1440, 2, 1, 50, 710, 9570, ["delay-notice/S3/20261109T120000Z"]),
            // S3 30 min, S1 60 min.
            row("inspection-guide", 1440, 2, 2, 100, 30, 60),
            row("review-response", 60, 1, 1, 100, 40, 40),
            // K1 solved after 360 min (met), K2 after 2,880 (breach), K3 never and 24 h have passed (breach, no minutes): 1 of 3.
            row("solution-offered", 1440, 3, 1, 33.3, 360, 2880, ["K2", "K3"]),
            // S3 30, S1 60, S2 180 (the first breach): 2 of 3, median 60, p90 the 3rd of 3.
            row("tracking", 120, 3, 2, 66.7, 60, 180, ["tracking/S2/1"]),
        ]
        for (got, want) in zip(rows, expected) { #expect(got == want) }
    }

    @Test("nps: answers in the period, standard segments and the product's, survey mail sent and answered")
    func nps() throws {
        let nps = try report().sections.nps
        // Scores 10 (O1), 9, 10, 8, 3, 6; O8's 0 of October is outside the period.
        #expect(nps.answers == 6)
        #expect((nps.promoters, nps.passives, nps.detractors) == (3, 1, 2))
        #expect(nps.nps == 16.7, "(3 - 2) / 6 = 16.67%")
        #expect((nps.score10, nps.score7To9, nps.score0To6) == (2, 2, 2))
        // Survey mail of O1 and O2 sent (O2's after a retry); O1 answered the next day.
        #expect((nps.surveysSent, nps.responses, nps.responseRate) == (2, 1, 50))
        #expect(nps.byMonth == [NPSMonth(month: "2026-11", answers: 6, nps: 16.7)])
    }

    @Test("repurchase: alerts sent, converted within 30 days, days against the prediction")
    func repurchase() throws {
        let r = try report().sections.repurchase
        // C1 ordered P1 again on 11-16 09:00 (O4), 12 days after the alert; predicted 11-19 10:00: 3 days early. C2 did not.
        #expect((r.sent, r.converted, r.conversionRate, r.medianDaysEarlyOrLate) == (2, 1, 50, -3))
        #expect(r.byProduct == [ProductConversion(sku: "P1", sent: 1, converted: 1, conversionRate: 100),
                                ProductConversion(sku: "P2", sent: 1, converted: 0, conversionRate: 0)])
    }

    @Test("complaints: opened by category and market, hours to resolution, ratings")
    func complaints() throws {
        let c = try report().sections.complaints
        #expect(c.opened == 3)
        #expect(c.byCategory == [NamedCount(name: "damage", count: 1), NamedCount(name: "logistics-delay", count: 1), NamedCount(name: "quality", count: 1)])
        #expect(c.byMarket == [NamedCount(name: "GB", count: 2), NamedCount(name: "DE", count: 1)])
        // K1 resolved after 48 h, K2 after 72 h; K3 open.
        #expect((c.resolved, c.medianHoursToResolution, c.p90HoursToResolution) == (2, 48, 72))
        #expect(c.resolutionHistogram.map(\.count) == [0, 0, 0, 1, 1, 0], "48 h in 1-3 d, 72 h in 3-7 d")
        // K1 rated 5, K2 rated 2.
        #expect((c.rated, c.averageRating, c.ratedBelow4) == (2, 3.5, 1))
    }

    @Test("deliverability: the outbox history by stream, suppressions and unsubscribes")
    func deliverability() throws {
        let d = try report().sections.deliverability
        #expect(d.byStream == [StreamDelivery(stream: "transactional", sent: 16, failed: 1, retried: 1, inDoubt: 0, bounced: 0),
                               StreamDelivery(stream: "marketing", sent: 2, failed: 0, retried: 0, inDoubt: 0, bounced: 0),
                               StreamDelivery(stream: "internal", sent: 0, failed: 0, retried: 0, inDoubt: 0, bounced: 0)])
        #expect((d.sent, d.failed, d.retried, d.inDoubt, d.bounced) == (18, 1, 1, 0, 0))
        #expect((d.suppressedAddresses, d.unsubscribes) == (1, 1), "bad@example.fr refused at RCPT; C2 unsubscribed on 11-25")
    }

    @Test("deliverability.bounced counts outbox entries whose raw status is bounced")
    func bounced() throws {
        // A copy of the company's database, with one sent mail set to the status the inbound processing will write.
        let scratch = try ScratchDirectory("aftersales-bounced")
        let path = scratch.url.appendingPathComponent("copy.db").path
        let source = try Self.company.get()
        try source.open("2026-12-01T00:00:00Z").store.checkpoint()
        try FileManager.default.copyItem(atPath: source.path, toPath: path)
        let store = try AftersalesStore.open(path: path, access: .readWrite)
        try store.writer.write { db in
            try db.execute(sql: "UPDATE outbox SET status = 'bounced', updatedAt = ? WHERE key = 'tracking/S1/1'", arguments: [t("2026-11-20T00:00:00Z")])
        }
        let d = try Report.compute(ReportQuery(from: ReportCompany.from, to: ReportCompany.to, now: ReportCompany.now), store: store).sections.deliverability
        #expect(d.bounced == 1)
        #expect(d.byStream.first?.bounced == 1)
    }

    @Test("shipments: dispatched, delivered, transit by mode and market, delays, customs holds")
    func shipments() throws {
        let s = try report().sections.shipments
        #expect((s.dispatched, s.delivered, s.delays) == (4, 2, 2))
        // S3 air 11-04 09:00 -> 11-17 10:00: 313 h = 13.0 days; S1 sea 11-02 09:00 -> 11-16 10:00: 337 h = 14.0 days.
        #expect(s.transit == [TransitRow(mode: "air", market: "GB", delivered: 1, medianDays: 13),
                              TransitRow(mode: "sea", market: "GB", delivered: 1, medianDays: 14)])
        // S1 held 11-12 10:00, cleared 11-13 16:00.
        #expect((s.customsHolds, s.medianHoldHours) == (1, 30))
    }

    @Test("--by market splits every section; the groups add up to the whole")
    func byMarket() throws {
        let report = try report(by: .market)
        #expect(report.groups.map(\.group) == ["DE", "FR", "GB"])
        let de = try #require(report.groups.first { $0.group == "DE" }).sections
        #expect(de.sla.first { $0.rule == "tracking" }?.breaches == ["tracking/S2/1"])
        #expect(de.sla.first { $0.rule == "damage-reply" }?.count == 1)
        #expect(de.repurchase.sent == 1 && de.repurchase.converted == 0)
        #expect(de.nps.answers == 3 && de.nps.detractors == 2)
        let gb = try #require(report.groups.first { $0.group == "GB" }).sections
        #expect(gb.nps.answers == 3 && gb.nps.promoters == 3)
        #expect(report.groups.map(\.sections.deliverability.sent).reduce(0, +) == report.sections.deliverability.sent)
        #expect(report.groups.map(\.sections.complaints.opened).reduce(0, +) == 3)
        let fr = try #require(report.groups.first { $0.group == "FR" }).sections
        #expect(fr.deliverability.failed == 1 && fr.shipments.dispatched == 1 && fr.deliverability.suppressedAddresses == 1)
    }

    @Test("--by product and --by rule: mail by the SKUs of its order, facts without a rule in the group -")
    func byProductAndRule() throws {
        let product = try report(by: .product)
        let p1 = try #require(product.groups.first { $0.group == "P1" }).sections
        #expect(p1.repurchase.sent == 1 && p1.repurchase.converted == 1)
        #expect(p1.sla.first { $0.rule == "tracking" }?.count == 1, "S1 belongs to O1 (P1)")
        let rule = try report(by: .rule)
        let tracking = try #require(rule.groups.first { $0.group == "tracking" }).sections
        #expect(tracking.sla.map(\.rule) == ["tracking"])
        #expect(tracking.deliverability.sent == 3 && tracking.deliverability.failed == 1)
        #expect(rule.groups.first { $0.group == "-" }?.sections.complaints.opened == 3)
        let month = try report(by: .month)
        #expect(month.groups.map(\.group) == ["2026-11"])
        #expect(month.groups.first?.sections == month.sections)
    }

    @Test("an empty database gives zeros and nulls, no error")
    func empty() throws {
        let store = try AftersalesStore(writer: DatabaseQueue())
        for by in [nil] + ReportDimension.allCases {
            let report = try Report.compute(ReportQuery(from: ReportCompany.from, to: ReportCompany.to, now: ReportCompany.now, by: by), store: store)
            let s = report.sections
            #expect(s.sla.isEmpty)
            #expect(s.nps.answers == 0 && s.nps.nps == 0 && s.nps.responseRate == 0 && s.nps.byMonth.isEmpty)
            #expect(s.repurchase.sent == 0 && s.repurchase.conversionRate == 0 && s.repurchase.medianDaysEarlyOrLate == nil)
            #expect(s.complaints.opened == 0 && s.complaints.medianHoursToResolution == nil && s.complaints.averageRating == nil)
            #expect(s.deliverability.sent == 0 && s.deliverability.byStream.allSatisfy { $0.sent == 0 })
            #expect(s.shipments.dispatched == 0 && s.shipments.medianHoldHours == nil)
            #expect(report.groups.isEmpty)
            #expect(!TextReport.report(report).isEmpty && report.html.contains("</html>") && report.csvFiles.count == 6)
        }
    }

    @Test("the JSON has each section as a key, snake case")
    func json() throws {
        let text = try report().json
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        for key in ["sla", "nps", "repurchase", "complaints", "deliverability", "shipments", "from", "to", "groups"] { #expect(object[key] != nil, "\(key)") }
        let nps = try #require(object["nps"] as? [String: Any])
        #expect(nps["response_rate"] as? Double == 50 && nps["score_7_9"] as? Int == 2 && nps["surveys_sent"] as? Int == 2)
        let sla = try #require(object["sla"] as? [[String: Any]])
        #expect(sla.first?["median_minutes"] as? Int == 20)
        #expect((object["complaints"] as? [String: Any])?["rated_below_4"] as? Int == 1)
        #expect(object["from"] as? String == "2026-11-01T00:00:00Z")
    }

    @Test("text: aligned tables per section")
    func text() throws {
        let text = TextReport.report(try report())
        #expect(text.hasPrefix("Report 2026-11-01 to 2026-12-01 (exclusive)"))
        #expect(text.contains("tracking                 120               3      2    66.7     60              180          tracking/S2/1"), "\(text)")
        #expect(text.contains("SLA: mail sent within its deadline"))
        #expect(!text.split(separator: "\n").contains { $0.hasSuffix(" ") }, "no trailing spaces")
    }

    @Test("CSV: one file per section, UTF-8 with a BOM and CRLF, a group column with --by")
    func csv() throws {
        let files = try report(by: .market).csvFiles
        #expect(files.map(\.name) == ["sla.csv", "nps.csv", "repurchase.csv", "complaints.csv", "deliverability.csv", "shipments.csv"])
        let sla = try #require(files.first).contents
        #expect(Array(sla.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let text = String(decoding: sla.dropFirst(3), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.first == "group,rule,deadline_minutes,count,met,percent,median_minutes,p90_minutes,breaches")
        #expect(lines.contains("all,tracking,120,3,2,66.7,60,180,tracking/S2/1"))
        #expect(lines.contains("DE,tracking,120,1,0,0.0,180,180,tracking/S2/1"))
        let scratch = try ScratchDirectory("aftersales-csv")
        let written = try report().writeCSV(directory: scratch.url.appendingPathComponent("out").path)
        #expect(written.count == 6 && written.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        #expect(throws: AftersalesError.self) { try report().writeCSV(directory: scratch.url.appendingPathComponent("missing/out").path) }
    }

    @Test("a golden SVG: the SLA chart of the hand-built data")
    func goldenSVG() throws {
        let svg = Charts.sla(try report().sections.sla)
        let golden = CLI.packageRoot.appendingPathComponent("Tests/golden/report-sla-chart.svg")
        if ProcessInfo.processInfo.environment["AFTERSALES_UPDATE_GOLDEN"] == "1" { try svg.write(to: golden, atomically: true, encoding: .utf8) }
        #expect(svg == (try String(contentsOf: golden, encoding: .utf8)))
        #expect(!svg.contains("<script") && svg.contains("target 95.0%"))
    }

    @Test("HTML: self-contained, rendered by headless Chromium to a PNG that is not blank")
    func html() throws {
        let report = try report(by: .market)
        let html = report.html
        #expect(!html.contains("<script"), "no JavaScript")
        #expect(!html.contains("src=") && !html.contains("<link"), "no external assets")
        #expect(html.contains("@media print"))
        for id in ["chart-nps", "chart-sla", "chart-resolution", "chart-repurchase", "sla", "nps", "repurchase", "complaints", "deliverability", "shipments"] {
            #expect(html.contains("id=\"\(id)\""), "\(id)")
        }
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("chromium is not installed (make deps installs it)")
            return
        }
        let artifacts = CLI.packageRoot.appendingPathComponent(".build/artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let page = artifacts.appendingPathComponent("report.html"), png = artifacts.appendingPathComponent("report.png")
        try report.writeHTML(path: page.path)
        try? FileManager.default.removeItem(at: png)
        let profile = try ScratchDirectory("aftersales-chromium")
        func chromiumRun(_ arguments: [String]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: chromium)
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.url.path)"] + arguments + [page.absoluteString]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let (code, _) = try chromiumRun(["--screenshot=\(png.path)", "--window-size=1200,2000"])
        #expect(code == 0)
        let data = try Data(contentsOf: png)
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        #expect(data.count > 20_000, "a blank 1200x2000 page compresses to a few kB; charts and tables do not (\(data.count) bytes)")
        let (domCode, dom) = try chromiumRun(["--dump-dom"])
        #expect(domCode == 0)
        #expect(dom.contains("SLA attainment per rule") && dom.contains("<svg") && dom.contains("Deliverability"))
    }

    @Test("the command: JSON by default keys, files written, bad periods and dimensions refused with exit 64")
    func command() throws {
        let cli = try CLI(now: "2026-12-01T00:00:00Z")
        try cli.seed()
        let json = try cli.run(["report", "--json", "--by", "week"])
        #expect(json.code == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["from"] as? String == "2026-11-01T00:00:00Z" && object["by"] as? String == "week", "the 30 days before --now")
        let files = try cli.run(["report", "--from", "2026-11-01", "--to", "2026-12-01", "--csv", "out", "--html", "report.html"])
        #expect(files.code == 0, "\(files.stderr)")
        #expect(files.stdout.hasPrefix("Report 2026-11-01 to 2026-12-01 (exclusive)"))
        #expect(FileManager.default.fileExists(atPath: cli.directory.appendingPathComponent("out/nps.csv").path))
        #expect(FileManager.default.fileExists(atPath: cli.directory.appendingPathComponent("report.html").path))
        let before = cli.databaseBytes()
        for (arguments, message) in [
            (["report", "--from", "2026-12-01", "--to", "2026-11-01"], "--from 2026-12-01T00:00:00Z is not before --to"),
            (["report", "--by", "year"], "by"),
            (["report", "--from", "2026-13-01"], "from"),
            (["report", "--csv", "missing/dir"], "csv"),
            (["report", "--csv", "out2", "--html", "missing/report.html"], "html"),
        ] {
            let refused = try cli.run(arguments)
            #expect(refused.code == 64, "\(arguments): \(refused.stderr)")
            #expect(refused.stderr.contains(message) && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        }
        #expect(cli.databaseBytes() == before, "the report only reads")
        #expect(!FileManager.default.fileExists(atPath: cli.directory.appendingPathComponent("out2").path), "a refused --html writes no CSV either")
    }
}
