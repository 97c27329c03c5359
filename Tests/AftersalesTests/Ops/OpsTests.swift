import AftersalesDomain
@testable import AftersalesKit
import AftersalesPlanning
import Foundation
import GRDB
import Testing

/// A transport that takes a moment per mail, so that a send lasts long enough to be backed up during it.
final class SlowTransport: MailTransport, @unchecked Sendable {
    var name: String { "slow" }
    func openSession() -> any TransportSession { Session() }
    final class Session: TransportSession {
        func deliver(from: String, recipient: String, message: Data, key: String) -> DeliveryAttempt {
            Thread.sleep(forTimeInterval: 0.002)
            return .accepted("250 ok")
        }
        func close() {}
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

@Suite("Operations")
struct OpsTests {
    @Test("backup during a send: every copy opens, passes integrity_check, and every mail in it is in a state the outbox allows")
    func backupDuringSend() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        let ws = try Workspace.open(Settings(databasePath: tw.path, configPath: nil, now: t("2026-11-03T14:00:00Z"), environment: [:],
                                             templatesPath: templatesDirectory), access: .readWrite)
        for i in 0..<300 {
            _ = try ws.store.dispatch(Shipment(id: "X\(i)", orderID: "O1", carrier: "DHL", trackingNumber: "T\(i)",
                                               dispatchedAt: ws.now, eta: t("2026-11-30T00:00:00Z")), now: ws.now)
        }
        let done = Flag()
        let sending = Thread {
            _ = try? ws.run(transport: SlowTransport())
            done.set()
        }
        sending.start()
        var copies = 0
        var sawSending = false
        let backups = try ScratchDirectory("aftersales-backup")
        while !done.isSet || copies == 0 {
            let path = backups.url.appendingPathComponent("copy-\(copies).db").path
            let report = try ws.store.backup(to: path)
            #expect(report.integrity == "ok")
            let queue = try DatabaseQueue(path: path, configuration: { var c = GRDB.Configuration(); c.readonly = true; return c }())
            let (integrity, statuses, missingEvidence, sentWithoutTime, claimless, strayClaims) = try queue.read { db in
                (try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                 Set(try String.fetchAll(db, sql: "SELECT DISTINCT status FROM outbox")),
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status IN ('sent', 'sending') AND (sha256 IS NULL OR key NOT IN (SELECT key FROM outbox_archive))") ?? -1,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND sentAt IS NULL") ?? -1,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status = 'sending' AND claimedBy IS NULL") ?? -1,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status <> 'sending' AND claimedBy IS NOT NULL") ?? -1)
            }
            #expect(integrity == ["ok"])
            #expect(statuses.isSubset(of: Set(OutboxStatus.allCases.map(\.rawValue))), "\(statuses)")
            sawSending = sawSending || statuses.contains("sending")
            // A sent or claimed mail has its evidence; only claimed mail holds a claim.
            #expect(missingEvidence == 0 && sentWithoutTime == 0 && claimless == 0 && strayClaims == 0,
                    "\(missingEvidence) \(sentWithoutTime) \(claimless) \(strayClaims)")
            try queue.close()
            copies += 1
        }
        #expect(copies >= 2, "backed up while the send ran (\(copies) copies, saw mail in sending: \(sawSending))")
        #expect(!FileManager.default.fileExists(atPath: backups.url.appendingPathComponent("copy-0.db.partial").path))
        withExtendedLifetime(tw) {}
    }

    @Test("an erased address stays suppressed as a hash until it is given new consent; open business is named")
    func erasedAddressNeedsNewConsent() throws {
        let store = try seededStore()
        let now = t("2026-11-23T10:00:00Z")
        #expect(throws: AftersalesError.conflict("customer \"C1\" has open business: order O1; complete, cancel or resolve it first, or pass --force to erase anyway")) {
            try store.eraseCustomer(id: "C1", force: false, now: now)
        }
        let erasure = try store.eraseCustomer(id: "C1", force: true, now: now)
        #expect(erasure.forcedOver == ["order O1"] && erasure.addressesHashed == 1)
        let customer = try store.customer(id: "C1")
        #expect(customer.name == "(erased)" && customer.email.value.hasSuffix("@erased.invalid") && !customer.consent)
        let hash = PersonalData.hash("Lucia@Ferrenorte.mx")
        #expect(try store.suppressions()[hash] != nil && store.suppressions()["lucia@ferrenorte.mx"] == nil)
        #expect(AftersalesStore.suppression(of: "LUCIA@ferrenorte.mx", in: try store.suppressions())?.hasPrefix("erased (customer C1)") == true)
        let later = now.addingTimeInterval(3600)
        _ = try store.addCustomer(id: "C2", CustomerChanges(name: "L", email: "lucia@ferrenorte.mx", locale: "es", timeZone: "America/Mexico_City",
                                                            country: "MX"), now: later)
        #expect(try store.suppressions()[hash] != nil, "re-added without consent: still suppressed")
        _ = try store.updateCustomer(id: "C2", CustomerChanges(consent: true), now: later.addingTimeInterval(60))
        #expect(try store.suppressions()[hash] == nil, "new consent lifts it")
    }

    @Test("metrics: Prometheus text by stream, the oldest due mail, the last success kept from the previous file; written atomically")
    func metrics() throws {
        var summary = RunSummary()
        summary.streams["transactional"] = RunSummary.StreamCounts(planned: 3, sent: 2, retried: 1, failed: 0, inDoubt: 0)
        let now = t("2026-11-23T10:00:00Z")
        var gauges = OutboxGauges()
        gauges.counts = [(status: "planned", stream: "marketing", count: 4)]
        gauges.oldestDueUnsent = now.addingTimeInterval(-90)
        let text = RunMetrics.text(summary: summary, durationSeconds: 1.5, gauges: gauges, lastSuccess: now, now: now)
        #expect(text.contains("aftersales_run_sent{stream=\"transactional\"} 2\n"))
        #expect(text.contains("aftersales_run_retried{stream=\"transactional\"} 1\n"))
        #expect(text.contains("aftersales_run_sent{stream=\"marketing\"} 0\n"))
        #expect(text.contains("aftersales_run_planned{stream=\"transactional\"} 3\n"))
        #expect(text.contains("aftersales_outbox_mails{status=\"planned\",stream=\"marketing\"} 4\n"))
        #expect(text.contains("aftersales_oldest_due_unsent_seconds 90\n"))
        #expect(text.contains("aftersales_run_duration_seconds 1.500\n"))
        #expect(text.contains("aftersales_last_success_timestamp_seconds \(Int(now.timeIntervalSince1970))\n"))
        #expect(text.contains("# TYPE aftersales_run_success gauge\naftersales_run_success 1\n"))
        let scratch = try ScratchDirectory("aftersales-metrics")
        let path = scratch.url.appendingPathComponent("aftersales.prom").path
        try RunMetrics.write(text, to: path)
        #expect(RunMetrics.lastSuccess(inFile: path) == now)
        let failed = RunMetrics.text(summary: nil, durationSeconds: 0.1, gauges: nil, lastSuccess: RunMetrics.lastSuccess(inFile: path), now: now.addingTimeInterval(600))
        #expect(failed.contains("aftersales_run_success 0\n") && failed.contains("aftersales_last_success_timestamp_seconds \(Int(now.timeIntervalSince1970))\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["aftersales.prom"], "no temporary file left")
        #expect(throws: AftersalesError.self) { try RunMetrics.write(text, to: scratch.url.appendingPathComponent("missing/dir.prom").path) }
    }

    @Test("doctor's checks are a list of values: each reports one finding; a failure names its fix")
    func doctorChecks() throws {
        let tw = try TestWorkspace()
        let settings = Settings(databasePath: tw.path, configPath: nil, now: t("2026-11-03T14:00:00Z"), environment: [:], templatesPath: templatesDirectory)
        var findings = Doctor.run(settings)
        #expect(findings.map(\.check) == ["configuration", "templates", "database", "smtp", "imap", "links", "disk"])
        #expect(findings[2].verdict == .fail && findings[2].fix != nil, "no database yet: \(findings[2])")
        #expect(findings[3].verdict == .skip, "the file transport needs no SMTP check")
        try tw.seed()
        findings = Doctor.run(settings)
        #expect(findings.allSatisfy { $0.verdict != .fail }, "\(findings)")
        let extra = DoctorCheck("link secret") { _ throws(Doctor.Problem) in throw Doctor.Problem(detail: "missing", fix: "set it") }
        #expect(Doctor.run(settings, checks: Doctor.checks + [extra]).last == DoctorFinding(check: "link secret", verdict: .fail, detail: "missing", fix: "set it"))
        #expect(findings[4].verdict == .skip && findings[5].verdict == .skip, "no imap.url, no links.base_url: neither is used")
        var links = settings
        links.environment = ["AFTERSALES_LINKS_BASE_URL": "https://after.example.com"]
        #expect(Doctor.run(links, checks: [Doctor.linksCheck]).first?.verdict == .fail, "a base URL without a secret")
        links.environment["AFTERSALES_LINK_SECRET"] = "0123456789abcdef0123"
        let on = Doctor.run(links, checks: [Doctor.linksCheck]).first
        #expect(on?.verdict == .pass && on?.detail.contains("0123456789") == false, "\(String(describing: on))")
        let broken = Settings(databasePath: tw.path, configPath: nil, now: settings.now, environment: ["AFTERSALES_SEND_BATCH": "0"], templatesPath: templatesDirectory)
        findings = Doctor.run(broken)
        #expect(findings[0].verdict == .fail && findings[0].detail.contains("send.batch") && findings[1].verdict == .skip)
    }
}
