import AftersalesDomain
@testable import AftersalesKit
import AftersalesPlanning
import Foundation
import GRDB
import Testing

@Suite("In-doubt mail after a crash")
struct InDoubtTests {
    /// A workspace at `now` on the test database, with the built-in templates.
    func open(_ tw: TestWorkspace, _ now: String, environment: [String: String] = [:]) throws -> Workspace {
        try Workspace.open(Settings(databasePath: tw.path, configPath: nil, now: t(now), environment: environment, templatesPath: templatesDirectory),
                           access: .readWrite)
    }

    /// Seeds three shipments (three tracking mails due) and claims every due mail as run "run-dead", as a run killed mid-send leaves them.
    func killedRun(_ tw: TestWorkspace) throws -> [String] {
        try tw.seed()
        let ws = try open(tw, "2026-11-03T14:00:00Z")
        for id in ["S2", "S3"] {
            _ = try ws.store.dispatch(Shipment(id: id, orderID: "O1", carrier: "Maersk", trackingNumber: id,
                                               dispatchedAt: ws.now, eta: t("2026-11-30T00:00:00Z")), now: ws.now)
        }
        _ = try ws.plan()
        let due = try ws.store.dueMail(now: ws.now).map(\.key).filter { $0.hasPrefix("tracking/") }
        #expect(due.count == 3, "\(due)")
        let entries = try ws.store.outbox(keys: due)
        var step = SendStep()
        step.claims = entries.map { PreparedMail(entry: $0, bytes: Data("mail \($0.key)".utf8), sha256: "00", messageID: "<\($0.key)@example.com>") }
        let claimed = try ws.store.sendStep(step, runID: "run-dead", now: ws.now).claimed
        #expect(claimed.allSatisfy { $0 != nil })
        return due
    }

    func history(_ ws: Workspace, _ key: String) throws -> [String] { try ws.store.outboxHistory(key: key).compactMap(\.reason) }

    @Test("recovery by the journal: an answer it holds is recorded, a mail begun is in doubt, a mail never begun goes back to planned")
    func journalRecovery() throws {
        let tw = try TestWorkspace()
        let keys = try killedRun(tw)
        let journal = try #require(SendJournal(path: tw.path + ".inflight", runID: "run-dead"))
        journal.started(keys[0])
        journal.finished(keys[0], .accepted(reply: "250 2.0.0 queued", refused: [:]))
        journal.started(keys[1])
        // keys[2]: claimed, never begun.
        let ws = try open(tw, "2026-11-03T14:01:00Z")
        let recovery = try ws.store.recoverAbandonedClaims(journal: SendJournal.read(path: tw.path + ".inflight"), now: ws.now)
        #expect(recovery == { var r = Recovery(); r.inDoubt = 1; r.returned = 1; r.recorded = 1; return r }())
        let status = Dictionary(try ws.store.outbox(keys: keys).map { ($0.key, $0.status) }) { a, _ in a }
        #expect(status[keys[0]] == .sent && status[keys[1]] == .inDoubt && status[keys[2]] == .planned, "\(status)")
        #expect(try history(ws, keys[0]).last == "recovered from the stopped run's journal: 250 2.0.0 queued")
        #expect(try history(ws, keys[2]).last?.hasPrefix("recovered: the run stopped before this mail's SMTP transaction began") == true)
    }

    @Test("without a journal (or one of another run) every claim is in doubt, as before")
    func noJournal() throws {
        let tw = try TestWorkspace()
        let keys = try killedRun(tw)
        let ws = try open(tw, "2026-11-03T14:01:00Z")
        var other = ClaimJournal(runID: "run-other")
        other.started = []
        #expect(try ws.store.recoverAbandonedClaims(journal: other, now: ws.now).inDoubt == 3)
        #expect(try ws.store.outbox(keys: keys).allSatisfy { $0.status == .inDoubt })
        #expect(SendJournal.read(path: tw.path + ".missing") == nil)
    }

    @Test("a journal from before a reboot is ignored: its lines may not have reached the disk")
    func journalOfAnotherBoot() throws {
        let tw = try TestWorkspace()
        let path = tw.path + ".inflight"
        let encoder = JSONEncoder()
        let lines = [try encoder.encode(SendJournal.Record.header(boot: "another-boot", run: "run-dead")),
                     try encoder.encode(SendJournal.Record.started(key: "k"))]
        try Data(lines.map { $0 + Data("\n".utf8) }.joined()).write(to: URL(fileURLWithPath: path))
        #expect(SendJournal.read(path: path) == nil)
        #expect(SendJournal(path: path, runID: "run-now") != nil)
        #expect(SendJournal.read(path: path)?.runID == "run-now")
    }

    @Test("a journal of the tab-separated format (before the JSON lines) is not read: its claims are in doubt, as without one")
    func journalOfTheOldFormat() throws {
        let tw = try TestWorkspace()
        let path = tw.path + ".inflight"
        let boot = try #require(SendJournal.bootID())
        try Data("H\t\(boot)\trun-old\nS\tk/1/1\nA\tk/1/1\t250 ok\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(SendJournal.read(path: path) == nil)
    }

    @Test("the journal reads back every outcome as written; a line cut short by the kill says nothing")
    func journalRoundTrip() throws {
        let tw = try TestWorkspace()
        let path = tw.path + ".inflight"
        let journal = try #require(SendJournal(path: path, runID: "run-1"))
        let outcomes: [String: DeliveryOutcome] = [
            "a/1/1": .accepted(reply: "250 ok", refused: ["cc@example.com": "550 no\tsuch\r\nuser"]),
            "b/1/1": .transient(reply: "451 later"), "c/1/1": .permanent(reply: "554 no", refused: [:]), "d/1/1": .unknown(reason: "no reply"),
        ]
        for (key, outcome) in outcomes { journal.started(key); journal.finished(key, outcome) }
        journal.started("e/1/1")
        journal.finished("e/1/1", nil)
        journal.started("f/1/1")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: try JSONEncoder().encode(SendJournal.Record.finished(key: "f/1/1", outcome: .transient(reply: "451 later"))).dropLast(3))
        try handle.close()
        let read = try #require(SendJournal.read(path: path))
        #expect(read.runID == "run-1" && read.outcomes == outcomes)
        #expect(read.started == Set(outcomes.keys).union(["e/1/1", "f/1/1"]) && read.returned == ["e/1/1"])
    }

    @Test("transactional in-doubt mail is resent once, with the same Message-ID, at the first run send.in_doubt_after after its claim; the history names the policy")
    func resendPolicy() throws {
        let tw = try TestWorkspace()
        let keys = try killedRun(tw)
        let out = try ScratchDirectory("aftersales-indoubt")
        defer { withExtendedLifetime(out) {} }
        let transport = FileTransport(directory: out.url.path)
        // No journal: all three in doubt at the next run, not resent yet (1 minute after the claim).
        var summary = try open(tw, "2026-11-03T14:01:00Z").run(transport: transport)
        #expect(summary.recovered == 3 && summary.resentByPolicy == 0 && summary.sent == 0, "\(summary)")
        summary = try open(tw, "2026-11-03T14:14:59Z").run(transport: transport)
        #expect(summary.resentByPolicy == 0)
        let ws = try open(tw, "2026-11-03T14:15:00Z")
        summary = try ws.run(transport: transport)
        #expect(summary.resentByPolicy == 3 && summary.sent == 3, "\(summary)")
        for entry in try ws.store.outbox(keys: keys) {
            #expect(entry.status == .sent)
            let reasons = try history(ws, entry.key)
            #expect(reasons.contains { $0.hasPrefix("in-doubt policy send.in_doubt.transactional = resend") }, "\(reasons)")
        }
        // Once: a mail resent by the policy that is in doubt again waits for a person.
        try ws.store.writer.write { db in try db.execute(sql: "UPDATE outbox SET status = 'in-doubt' WHERE key = ?", arguments: [keys[0]]) }
        #expect(try open(tw, "2026-11-03T15:00:00Z").run(transport: transport).resentByPolicy == 0)
        #expect(try ws.store.outboxEntry(key: keys[0]).status == .inDoubt)
    }

    @Test("send.in_doubt.transactional: hold leaves the mail for a person; resolve --all-in-doubt settles it in bulk")
    func holdAndBulkResolve() throws {
        let tw = try TestWorkspace()
        let keys = try killedRun(tw)
        let out = try ScratchDirectory("aftersales-indoubt")
        defer { withExtendedLifetime(out) {} }
        let hold = ["AFTERSALES_SEND_IN_DOUBT_TRANSACTIONAL": "hold"]
        _ = try open(tw, "2026-11-03T14:01:00Z", environment: hold).run(transport: FileTransport(directory: out.url.path))
        let later = try open(tw, "2026-11-04T14:01:00Z", environment: hold)
        #expect(try later.run(transport: FileTransport(directory: out.url.path)).resentByPolicy == 0)
        #expect(try later.store.outbox(keys: keys).allSatisfy { $0.status == .inDoubt })
        let reasons = try history(later, keys[0])
        #expect(reasons.contains { $0.contains("send.in_doubt.transactional = hold: it waits for a person") }, "the history names the policy: \(reasons)")
        #expect(try later.resolveInDoubt(.resolveSent, customerID: "C1", before: t("2026-11-03T14:00:00Z")).isEmpty, "none went in doubt before")
        #expect(throws: AftersalesError.self) { try later.resolveInDoubt(.resolveSent, customerID: "NOPE", before: nil) }
        let settled = try later.resolveInDoubt(.resolveSent, customerID: "C1", before: nil)
        #expect(settled.map(\.key).sorted() == keys.sorted() && settled.allSatisfy { $0.status == .sent })
        #expect(try later.resolveInDoubt(.resendInDoubt, customerID: nil, before: nil).isEmpty)
    }
}
