import AftersalesDomain
@testable import AftersalesKit
@testable import AftersalesPlanning
import Foundation
import GRDB
import Testing

@Suite("Outbox state machine")
struct OutboxMachineTests {
    static let now = t("2026-11-23T10:00:00Z")
    static let due = t("2026-11-24T09:00:00Z")

    static func state(_ status: OutboxStatus, attempts: Int = 1, staleAt: Date? = nil, sentAt: Date? = nil) -> OutboxMachine.State {
        OutboxMachine.State(key: "tracking/S1/1", status: status, attempts: attempts, due: due, staleAt: staleAt, sentAt: sentAt)
    }

    /// Every event, with the status it leads to from each state it applies to; every other state refuses it.
    static let table: [(event: OutboxMachine.Event, to: [OutboxStatus: OutboxStatus])] = [
        (.claim(runID: "run-1", sha256: "ab", messageID: "<m>"), [.planned: .sending, .retry: .sending]),
        (.outcome(.accepted(reply: "250 ok", refused: [:])), [.sending: .sent]),
        (.outcome(.transient(reply: "451 later")), [.sending: .retry]),
        (.outcome(.permanent(reply: "550 no", refused: ["a@example.com": "550 no"])), [.sending: .failed]),
        (.outcome(.unknown(reason: "timeout after DATA")), [.sending: .inDoubt]),
        (.release(to: .planned), [.sending: .planned]),
        (.release(to: .retry), [.sending: .retry]),
        (.abandoned(policy: nil), [.sending: .inDoubt]),
        (.unstarted(to: .planned), [.sending: .planned]),
        (.unstarted(to: .retry), [.sending: .retry]),
        (.journaled(.accepted(reply: "250 ok", refused: [:])), [.sending: .sent]),
        (.journaled(.unknown(reason: "no answer")), [.sending: .inDoubt]),
        (.resendByPolicy(setting: "send.in_doubt.transactional = resend"), [.inDoubt: .planned]),
        (.cancel(reason: "shipment S1 delivered"), [.planned: .cancelled, .held: .cancelled, .retry: .cancelled]),
        (.cancel(reason: "order O1 cancelled", byPlanner: true), [.planned: .cancelled, .held: .cancelled, .retry: .cancelled]),
        // Refused from every state here: these states were not cancelled by planning (see RevivalTests).
        (.revive(reason: "order O1 reinstated", due: due, needsApproval: false), [:]),
        (.approvalChanged(needed: true), [.planned: .held, .retry: .held]),
        (.approvalChanged(needed: false), [.held: .planned]),
        (.ops(.approve), [.held: .planned]),
        (.ops(.cancel), [.planned: .cancelled, .held: .cancelled, .retry: .cancelled, .failed: .cancelled]),
        (.ops(.retry), [.failed: .planned, .retry: .planned]),
        (.ops(.resolveSent), [.inDoubt: .sent]),
        (.ops(.resendInDoubt), [.inDoubt: .planned]),
    ]

    @Test("every event from every state: the status it leads to, guarded by the state it was worked out from, or a refusal", arguments: OutboxStatus.allCases)
    func everyPair(status: OutboxStatus) {
        for (event, to) in Self.table {
            let state = Self.state(status)
            let result = Result { () throws(OutboxMachine.Refusal) in try OutboxMachine.transition(event, from: state, now: Self.now) }
            switch (result, to[status]) {
            case (.success(let transition), let expected?):
                #expect(transition.to == expected, "\(event) from \(status)")
                #expect(transition.from == status && transition.attempts == 1, "the guard is the state it was worked out from")
                #expect(!transition.history.isEmpty)
            case (.failure(let refusal), nil):
                #expect(refusal.status == status && refusal.key == "tracking/S1/1" && refusal.event == event.name, "\(event) from \(status)")
            case (.success(let transition), nil):
                Issue.record("\(event) from \(status) should be refused, went to \(transition.to)")
            case (.failure(let refusal), let expected?):
                Issue.record("\(event) from \(status) should go to \(expected), refused: \(refusal)")
            }
        }
    }

    @Test("the refusals of ops actions read as they always have")
    func refusalMessages() {
        func message(_ action: OutboxMachine.Action, _ status: OutboxStatus) -> String? {
            do {
                _ = try OutboxMachine.transition(.ops(action), from: Self.state(status), now: Self.now)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(message(.cancel, .cancelled) == "mail \"tracking/S1/1\" is cancelled; `cancel` applies only to failed or held or planned or retry mail")
        #expect(message(.approve, .planned) == "mail \"tracking/S1/1\" is planned; `approve` applies only to held mail")
        #expect(message(.retry, .sent) == "mail \"tracking/S1/1\" is sent; `retry` applies only to failed or retry mail")
        #expect(message(.resolveSent, .failed) == "mail \"tracking/S1/1\" is failed; `resolve --sent` applies only to in-doubt mail")
        #expect(message(.resendInDoubt, .sending) == "mail \"tracking/S1/1\" is sending; `resolve --resend` applies only to in-doubt mail")
        // A release goes back only to where a claim can come from.
        #expect(throws: OutboxMachine.Refusal.self) { try OutboxMachine.transition(.release(to: .sent), from: Self.state(.sending), now: Self.now) }
    }

    @Test("what each transition sets besides the status")
    func fields() throws {
        func transition(_ event: OutboxMachine.Event, _ state: OutboxMachine.State) throws -> OutboxMachine.Transition {
            try OutboxMachine.transition(event, from: state, now: Self.now)
        }
        let claim = try transition(.claim(runID: "run-1", sha256: "ab", messageID: "<m>"), Self.state(.retry))
        #expect(claim.set == [.claimedBy("run-1"), .sha256("ab"), .messageID("<m>")] && claim.history == "claimed by run-1")
        let sent = try transition(.outcome(.accepted(reply: "250 ok", refused: ["b@x.com": "451 busy", "a@x.com": "550 unknown"])), Self.state(.sending))
        #expect(sent.set == [.attempts(2), .nextAttemptAt(nil), .sentAt(Self.now), .serverReply("250 ok"), .reason(nil), .claimedBy(nil)])
        #expect(sent.history == "250 ok; refused: a@x.com (550 unknown), b@x.com (451 busy)")
        #expect(sent.suppress == ["a@x.com": "550 unknown (mail tracking/S1/1)"], "only hard bounces are suppressed")
        // A transient failure: retried on the schedule (5 min, then 15), or given up at the stale time.
        let retry = try transition(.outcome(.transient(reply: "451 later")), Self.state(.sending, attempts: 1))
        let next = Self.now.addingTimeInterval(900)
        #expect(retry.to == .retry && retry.set.contains(.nextAttemptAt(next)) && retry.set.contains(.attempts(2)))
        #expect(retry.history == "attempt 2 failed: 451 later; next at 2026-11-23T10:15:00Z")
        let givenUp = try transition(.outcome(.transient(reply: "451 later")), Self.state(.sending, attempts: 1, staleAt: next.addingTimeInterval(-1)))
        #expect(givenUp.to == .failed && givenUp.history == "gave up after 2 attempt(s), last: 451 later" && givenUp.set.contains(.nextAttemptAt(nil)))
        let unknown = try transition(.outcome(.unknown(reason: "no reply")), Self.state(.sending))
        #expect(unknown.set.contains(.reason("in doubt: no reply; settle with `aftersales outbox resolve KEY --sent` or `--resend`")))
        #expect(unknown.set.contains(.serverReply("no reply")))
        let permanent = try transition(.outcome(.permanent(reply: "554 rejected", refused: [:])), Self.state(.sending))
        #expect(permanent.set.contains(.reason("permanent failure: 554 rejected")) && permanent.suppress.isEmpty)
        let held = try transition(.abandoned(policy: "send.in_doubt.marketing = hold: it waits for a person"), Self.state(.sending))
        #expect(held.history == "in doubt: the sending process stopped before recording the outcome; send.in_doubt.marketing = hold: it waits for a person; or settle with `aftersales outbox resolve tracking/S1/1 --sent` or `--resend`")
        let abandoned = try transition(.abandoned(policy: nil), Self.state(.sending))
        #expect(abandoned.history == "in doubt: the sending process stopped before recording the outcome; settle with `aftersales outbox resolve tracking/S1/1 --sent` or `--resend`")
        #expect(try transition(.release(to: .retry), Self.state(.sending)).set == [.claimedBy(nil)])
        #expect(try transition(.cancel(reason: "stale"), Self.state(.held)).set == [.reason("stale")])
        // Ops actions: a retry or resend is due now at the latest; a confirmed send keeps an earlier send time.
        let late = Self.now.addingTimeInterval(-3600)
        #expect(try transition(.ops(.retry), Self.state(.failed)).set == [.reason(nil), .nextAttemptAt(nil), .due(Self.now)])
        #expect(try transition(.ops(.resendInDoubt), OutboxMachine.State(key: "k", status: .inDoubt, due: late)).set
                == [.reason("resend requested by ops (same Message-ID)"), .due(late)])
        #expect(try transition(.ops(.resolveSent), Self.state(.inDoubt, sentAt: late)).set == [.reason("confirmed sent by ops"), .sentAt(late)])
        #expect(try transition(.ops(.resolveSent), Self.state(.inDoubt)).set == [.reason("confirmed sent by ops"), .sentAt(Self.now)])
        #expect(try transition(.ops(.approve), Self.state(.held)).history == "ops: approve")
        #expect(OutboxMachine.firstStatus(needsApproval: true) == .held && OutboxMachine.firstStatus(needsApproval: false) == .planned)
    }
}

@Suite("Outbox diff")
struct OutboxDiffTests {
    static let now = t("2026-11-23T10:00:00Z")

    static func mail(_ key: String, due: String = "2026-11-24T09:00:00Z", approval: Bool = false, cancel: String? = nil) -> PlannedMail {
        PlannedMail(key: key, rule: String(key.split(separator: "/")[0]), stream: .transactional, audience: .customer, customerID: "C1", orderID: "O1",
                    subject: "S1", occurrence: "1", triggeredAt: now, nominalDue: t(due), due: t(due), deadline: nil, staleAt: nil,
                    to: ["lucia@example.mx"], cc: [], locale: "es-MX", timeZone: "America/Mexico_City", template: "tracking", needsApproval: approval,
                    disposition: cancel.map { .cancel($0) } ?? .send, reasons: ["why"], flags: [], context: ["shipment": "S1"])
    }

    static func stored(_ mail: PlannedMail, _ status: OutboxStatus) -> OutboxEntry {
        var entry = OutboxEntry(new: mail, now: now.addingTimeInterval(-86_400))
        entry.status = status
        return entry
    }

    @Test("a change of the context or the nominal time alone moves nothing; with another change they are written too")
    func contextAlone() throws {
        let stored = [Self.stored(Self.mail("tracking/S1/1"), .planned)]
        var replanned = Self.mail("tracking/S1/1")
        replanned.context["shipment"] = "S1-renamed"
        replanned.nominalDue = t("2026-11-24T08:00:00Z")
        let alone = OutboxDiff.diff(CustomerPlan(customerID: "C1", mails: [replanned], wakeAt: Self.now), stored: stored, now: Self.now)
        #expect(alone.changes.isEmpty && alone.unchanged == 1)
        replanned.due = t("2026-11-25T09:00:00Z")
        let moved = OutboxDiff.diff(CustomerPlan(customerID: "C1", mails: [replanned], wakeAt: Self.now), stored: stored, now: Self.now)
        guard case .move(let entry, nil)? = moved.changes.first else { Issue.record("\(moved.changes)"); return }
        #expect(entry.mail.due == replanned.due && entry.mail.context == replanned.context && entry.mail.nominalDue == replanned.nominalDue)
        #expect(entry.mail.triggeredAt == stored[0].mail.triggeredAt && entry.createdAt == stored[0].createdAt)
    }

    @Test("an entry after a transition has the status and every column the transition sets, and nothing else changed")
    func applyingTransition() throws {
        let later = Self.now.addingTimeInterval(3600)
        var sending = Self.stored(Self.mail("tracking/S1/1"), .sending)
        sending.attempts = 1
        let sent = try OutboxMachine.transition(.outcome(.accepted(reply: "250 ok", refused: [:])), from: sending.state, now: later)
        let afterSend = sending.applying(sent, at: later)
        #expect(afterSend.status == .sent && afterSend.attempts == 2 && afterSend.sentAt == later && afterSend.serverReply == "250 ok")
        #expect(afterSend.updatedAt == later && afterSend.reason == nil && afterSend.mail == sending.mail && afterSend.createdAt == sending.createdAt)
        var failed = Self.stored(Self.mail("tracking/S1/1", due: "2026-11-24T09:00:00Z"), .failed)
        failed.reason = "permanent failure: 554"
        failed.nextAttemptAt = later
        let retried = failed.applying(try OutboxMachine.transition(.ops(.retry), from: failed.state, now: Self.now), at: Self.now)
        #expect(retried.status == .planned && retried.reason == nil && retried.nextAttemptAt == nil && retried.mail.due == Self.now)
        var cancelled = Self.stored(Self.mail("tracking/S1/1"), .planned)
        cancelled = cancelled.applying(try OutboxMachine.transition(.cancel(reason: "stale", byPlanner: true), from: cancelled.state, now: Self.now), at: Self.now)
        #expect(cancelled.status == .cancelled && cancelled.reason == "stale" && cancelled.cancelledByPlanner)
        let revived = cancelled.applying(try OutboxMachine.transition(.revive(reason: "again", due: later, needsApproval: true), from: cancelled.state, now: Self.now),
                                         at: Self.now)
        #expect(revived.status == .held && revived.reason == nil && !revived.cancelledByPlanner && revived.mail.due == later)
    }

    @Test("a plan against what is stored: inserts (held when approval is needed), moves, cancellations, and what is left alone")
    func changes() throws {
        let stored = [
            Self.stored(Self.mail("moved/a/1"), .planned),
            Self.stored(Self.mail("same/a/1"), .retry),
            Self.stored(Self.mail("cancelled-by-rule/a/1"), .held),
            Self.stored(Self.mail("gone/a/1"), .planned),
            Self.stored(Self.mail("sent/a/1"), .sent),
            Self.stored(Self.mail("sent-gone/a/1"), .sent),
        ]
        let plan = CustomerPlan(customerID: "C1", mails: [
            Self.mail("new/a/1"), Self.mail("approve/a/1", approval: true), Self.mail("never-stored/a/1", cancel: "delivered"),
            Self.mail("moved/a/1", due: "2026-11-25T09:00:00Z"), Self.mail("same/a/1"), Self.mail("cancelled-by-rule/a/1", cancel: "resolved"),
            Self.mail("sent/a/1", due: "2026-11-30T09:00:00Z"),
        ], wakeAt: t("2027-01-02T00:00:00Z"))
        let diff = OutboxDiff.diff(plan, stored: stored, now: Self.now)
        #expect(diff.customerID == "C1" && diff.wakeAt == plan.wakeAt)
        #expect(diff.items.map { $0.mail?.key ?? $0.stored!.mail.key } == plan.mails.map(\.key) + ["gone/a/1"], "the plan's order, then what it no longer has")
        var inserted: [String: OutboxStatus] = [:], moved: [OutboxEntry] = [], cancelled: [String: String] = [:]
        for change in diff.changes {
            switch change {
            case .insert(let entry): inserted[entry.mail.key] = entry.status
            case .move(let entry, let transition):
                #expect(transition == nil, "no approval changed")
                moved.append(entry)
            case .revive(let entry, _): Issue.record("nothing here was cancelled by planning: \(entry.mail.key) revived")
            case .cancel(let entry, let transition):
                #expect(transition.from == entry.status && transition.to == .cancelled)
                cancelled[entry.mail.key] = transition.history
            }
        }
        #expect(inserted == ["new/a/1": .planned, "approve/a/1": .held])
        #expect(moved.map(\.mail.key) == ["moved/a/1"] && moved.first?.mail.due == t("2026-11-25T09:00:00Z") && moved.first?.updatedAt == Self.now)
        #expect(cancelled == ["cancelled-by-rule/a/1": "resolved", "gone/a/1": OutboxDiff.noLongerPlanned])
        #expect(diff.unchanged == 2, "the retry planned the same, and the sent mail (never touched, even when the plan moved it)")
    }

    @Test("pending mail follows a change of its rule: template, deadline and approval (held, or planned again); approval ops gave stays given")
    func ruleChanged() throws {
        func with(_ mail: PlannedMail, _ change: (inout PlannedMail) -> Void) -> PlannedMail {
            var mail = mail
            change(&mail)
            return mail
        }
        var retried = Self.stored(Self.mail("retried/a/1"), .retry)
        retried.nextAttemptAt = Self.now
        let stored = [
            Self.stored(Self.mail("template/a/1"), .planned),
            Self.stored(Self.mail("now-approval/a/1"), .planned),
            retried,
            Self.stored(Self.mail("no-approval/a/1", approval: true), .held),
            Self.stored(Self.mail("approved/a/1", approval: true), .planned),
        ]
        let plan = CustomerPlan(customerID: "C1", mails: [
            with(Self.mail("template/a/1")) { $0.template = "tracking-v2"; $0.deadline = t("2026-11-30T00:00:00Z") },
            Self.mail("now-approval/a/1", approval: true), Self.mail("retried/a/1", approval: true),
            Self.mail("no-approval/a/1"), Self.mail("approved/a/1", approval: true),
        ], wakeAt: Self.now)
        let diff = OutboxDiff.diff(plan, stored: stored, now: Self.now)
        var moved: [String: (entry: OutboxEntry, transition: OutboxMachine.Transition?)] = [:]
        for change in diff.changes {
            guard case .move(let entry, let transition) = change else { Issue.record("only moves here: \(change)"); continue }
            moved[entry.mail.key] = (entry, transition)
        }
        #expect(Set(moved.keys) == ["template/a/1", "now-approval/a/1", "retried/a/1", "no-approval/a/1"])
        let template = try #require(moved["template/a/1"])
        #expect(template.transition == nil && template.entry.status == .planned)
        #expect(template.entry.mail.template == "tracking-v2" && template.entry.mail.deadline == t("2026-11-30T00:00:00Z"))
        for key in ["now-approval/a/1", "retried/a/1"] {
            let held = try #require(moved[key])
            #expect(held.transition?.to == .held && held.entry.status == .held && held.entry.mail.needsApproval && held.entry.nextAttemptAt == nil, "\(key)")
            #expect(held.transition?.history == "its rule now needs approval: held for `aftersales outbox approve \(key)`")
        }
        let released = try #require(moved["no-approval/a/1"])
        #expect(released.transition?.from == .held && released.entry.status == .planned && !released.entry.mail.needsApproval)
        #expect(diff.unchanged == 1, "the mail ops approved stays approved")
    }

    @Test("preview shows the diff as plan would write it")
    func preview() throws {
        let window = PreviewWindow(from: Self.now.addingTimeInterval(-7 * 86_400), to: Self.now.addingTimeInterval(3 * 86_400))
        let stored = [Self.stored(Self.mail("retry/a/1"), .retry), Self.stored(Self.mail("gone/a/1"), .held), Self.stored(Self.mail("sent/a/1"), .sent)]
        let plan = CustomerPlan(customerID: "C1", mails: [
            Self.mail("new/a/1"), Self.mail("approve/a/1", approval: true), Self.mail("later/a/1", due: "2026-12-20T09:00:00Z"),
            Self.mail("retry/a/1"), Self.mail("sent/a/1"), Self.mail("never-stored/a/1", cancel: "delivered"),
        ], wakeAt: Self.now)
        let items = OutboxDiff.diff(plan, stored: stored, now: Self.now).items
        let plain = items.compactMap { Workspace.shown($0, explain: false, window: window) }
        #expect(plain.map(\.key) == ["new/a/1", "approve/a/1", "retry/a/1"], "pending mail in the window only")
        #expect(plain.map(\.status) == [.planned, .held, .retry])
        #expect(plain[1].reason == "waiting for approval (aftersales outbox approve approve/a/1)" && plain[2].reason == nil)
        let explained = items.compactMap { Workspace.shown($0, explain: true, window: window) }
        #expect(explained.map(\.key) == ["new/a/1", "approve/a/1", "retry/a/1", "sent/a/1", "never-stored/a/1", "gone/a/1"])
        #expect(explained[3].status == .sent && explained[4].status == .cancelled && explained[4].reason == "delivered")
        #expect(explained[5].status == .cancelled && explained[5].reason == OutboxDiff.noLongerPlanned)
    }
}

@Suite("Outbox store")
struct OutboxStoreTests {
    @Test("a batch's entries are read in one query: each customer's own, in the order written, none for a customer without")
    func entriesOfCustomers() throws {
        let store = try AftersalesStore(writer: DatabaseQueue())
        var entries: [OutboxEntry] = []
        for (key, customer) in [("tracking/S2/1", "C1"), ("survey/O2/1", "C2"), ("tracking/S1/1", "C1")] {
            var entry = OutboxEntry(new: OutboxDiffTests.mail(key), now: OutboxDiffTests.now)
            entry.mail.customerID = customer
            entries.append(entry)
        }
        try store.writer.write { db in for entry in entries { try entry.insert(db) } }
        let read = try store.writer.read { db in try AftersalesStore.outboxEntries(db, customerIDs: ["C2", "C3", "C1"]) }
        #expect(read == [[entries[1]], [], [entries[0], entries[2]]])
        #expect(try store.outboxEntries(customerID: "C1") == [entries[0], entries[2]])
    }

    @Test("an entry is written and read back as it was; its JSON columns are written as GRDB's Codable support writes them")
    func roundTrip() throws {
        let store = try AftersalesStore(writer: DatabaseQueue())
        var entry = OutboxEntry(new: OutboxDiffTests.mail("tracking/S1/1"), now: OutboxDiffTests.now)
        entry.mail.cc = ["a/b@example.com", "\"quoted\"@example.com"]
        entry.mail.context = ["z": "last", "a": "first", "é": "accent"]
        entry.mail.deadline = t("2026-11-25T00:00:00Z")
        (entry.attempts, entry.sentAt, entry.messageID, entry.serverReply, entry.sha256, entry.reason) = (2, OutboxDiffTests.now, "<m>", "250 ok", "ab", "why")
        try store.writer.write { db in try entry.insert(db) }
        #expect(try store.outboxEntry(key: "tracking/S1/1") == entry)
        #expect(try store.outbox(keys: ["nope", "tracking/S1/1"]) == [entry])
        #expect(try store.outboxEntries(customerID: "C1") == [entry])
        try store.writer.read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT ccAddresses, context, deadline FROM outbox"))
            let encoder = OutboxEntry.databaseJSONEncoder(for: "context")
            #expect(row["ccAddresses"] == String(decoding: try encoder.encode(entry.mail.cc), as: UTF8.self))
            #expect(row["context"] == String(decoding: try encoder.encode(entry.mail.context), as: UTF8.self))
            #expect(row["deadline"] == "2026-11-25 00:00:00.000", "dates as GRDB stores them")
            // Every column of the table is read, but the sender's claim.
            #expect(Set(try db.columns(in: "outbox").map(\.name)).subtracting(OutboxEntry.columns) == ["claimedBy"])
        }
    }

    @Test("a claim applies only to the mail as it was read: changed since (attempts, status), it does nothing")
    func guardedClaim() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        let ws = try tw.open("2026-11-03T14:05:00Z")
        _ = try ws.plan()
        let entry = try ws.store.outboxEntry(key: "tracking/S1/1")
        func claim(_ read: OutboxEntry) throws -> ClaimedMail? {
            var step = SendStep()
            step.claims = [PreparedMail(entry: read, bytes: Data("x".utf8), sha256: "x", messageID: "<m>")]
            return try ws.store.sendStep(step, runID: "run", now: ws.now).claimed.first ?? nil
        }
        var stale = entry
        stale.attempts += 1
        #expect(try claim(stale) == nil, "other attempts: no claim")
        let claimed = try #require(try claim(entry))
        #expect(try claim(entry) == nil, "claimed already")
        #expect(try ws.store.outboxEntry(key: entry.mail.key).status == .sending)
        var release = SendStep()
        release.releases = [claimed]
        _ = try ws.store.sendStep(release, runID: "run", now: ws.now)
        #expect(try ws.store.outboxEntry(key: entry.mail.key).status == .planned)
        #expect(try ws.store.outboxHistory(key: entry.mail.key).map(\.to) == [.planned, .sending, .planned])
        #expect(throws: AftersalesError.conflict("mail \"tracking/S1/1\" is planned; `approve` applies only to held mail")) {
            try ws.store.apply(.approve, key: "tracking/S1/1", now: ws.now)
        }
    }

    @Test("planning does not depend on the templates: without them, or with a broken one, it stores the same rows; the views show the template locale")
    func planningWithoutTemplates() throws {
        let broken = try ScratchDirectory("aftersales-broken-templates")
        let locale = broken.url.appendingPathComponent("es")
        try FileManager.default.createDirectory(at: locale, withIntermediateDirectories: true)
        try Data("{{#unclosed}}".utf8).write(to: locale.appendingPathComponent("tracking.subject.mustache"))
        var outboxes: [[OutboxEntry]] = []
        for templates in [templatesDirectory, nil, broken.url.path] as [String?] {
            let tw = try TestWorkspace()
            try tw.seed()
            let ws = try Workspace.open(Settings(databasePath: tw.path, configPath: nil, now: t("2026-11-03T14:05:00Z"), environment: [:],
                                                 templatesPath: templates), access: .readWrite)
            _ = try ws.plan()
            outboxes.append(try ws.store.outbox())
            if templates == templatesDirectory {
                let views = try ws.outboxList()
                #expect(views.first { $0.key == "tracking/S1/1" }?.locale == "es", "es-MX is written in es")
                #expect(ws.view(of: try ws.store.outboxEntry(key: "tracking/S1/1")).locale == "es")
            }
            withExtendedLifetime(tw) {}
        }
        #expect(outboxes[0].count > 5)
        #expect(outboxes[0] == outboxes[1] && outboxes[1] == outboxes[2])
        #expect(outboxes[0].allSatisfy { $0.mail.audience != .customer || $0.mail.locale == "es-MX" }, "the recipient's locale is stored")
    }
}
