import AftersalesDomain
@testable import AftersalesKit
@testable import AftersalesPlanning
import Foundation
import GRDB
import Testing

/// A reinstated order gets back the mail its cancellation cancelled: the machine's revival, the diff
/// that asks for it, and the whole path through the store and `import orders`.
@Suite("Revival of mail planning cancelled")
struct RevivalTests {
    static let now = t("2026-11-23T10:00:00Z")
    static let due = t("2026-11-24T09:00:00Z")

    static func state(_ status: OutboxStatus, byPlanner: Bool) -> OutboxMachine.State {
        OutboxMachine.State(key: "tracking/S1/1", status: status, attempts: 1, due: t("2026-11-20T09:00:00Z"), cancelledByPlanner: byPlanner)
    }

    /// (status, cancelled by planning, the rule needs approval) → the status a revival leads to, nil: refused.
    static let revivals: [(OutboxStatus, Bool, Bool, OutboxStatus?)] = {
        var cases: [(OutboxStatus, Bool, Bool, OutboxStatus?)] = [
            (.cancelled, true, false, .planned),
            (.cancelled, true, true, .held),
            // Cancelled by ops (`outbox cancel`, a rejected approval), the sender (stale) or an erasure: stays cancelled.
            (.cancelled, false, false, nil),
            (.cancelled, false, true, nil),
        ]
        // Never from any other state (sent, failed, in doubt, pending...), whatever the flag says.
        for status in OutboxStatus.allCases where status != .cancelled {
            cases += [(status, true, false, nil), (status, false, true, nil)]
        }
        return cases
    }()

    @Test("a revival applies only to mail planning cancelled: back to planned, or held when the rule needs approval; never sent, failed or in-doubt mail")
    func machine() throws {
        for (status, byPlanner, approval, expected) in Self.revivals {
            let state = Self.state(status, byPlanner: byPlanner)
            let event = OutboxMachine.Event.revive(reason: "order O1 reinstated", due: Self.due, needsApproval: approval)
            let result = Result { () throws(OutboxMachine.Refusal) in try OutboxMachine.transition(event, from: state, now: Self.now) }
            switch (result, expected) {
            case (.success(let transition), let expected?):
                #expect(transition.to == expected && transition.from == .cancelled && transition.attempts == 1, "\(status) \(byPlanner) \(approval)")
                #expect(transition.set == [.reason(nil), .nextAttemptAt(nil), .due(Self.due), .cancelledByPlanner(false)], "the plan's due, even in the past")
                #expect(transition.history == "revived: order O1 reinstated")
            case (.failure(let refusal), nil):
                #expect(refusal.status == status && refusal.event == "revive by planning", "\(status) \(byPlanner)")
            case (.success(let transition), nil):
                Issue.record("revival from \(status) (by planner: \(byPlanner)) should be refused, went to \(transition.to)")
            case (.failure(let refusal), let expected?):
                Issue.record("revival from \(status) should go to \(expected), refused: \(refusal)")
            }
        }
        func refusal(_ state: OutboxMachine.State) -> String? {
            do {
                _ = try OutboxMachine.transition(.revive(reason: "x", due: Self.due, needsApproval: false), from: state, now: Self.now)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(refusal(Self.state(.cancelled, byPlanner: false))
                == "mail \"tracking/S1/1\" is cancelled; `revive by planning` does not apply: it was not cancelled by planning (ops, the sender or an erasure did), so it stays cancelled")
        #expect(refusal(Self.state(.sent, byPlanner: true)) == "mail \"tracking/S1/1\" is sent; `revive by planning` applies only to cancelled mail")
        // Planning's cancellation marks the mail as planning's; the others do not.
        let planning = try OutboxMachine.transition(.cancel(reason: "order O1 cancelled at 2026-11-22T00:00:00Z", byPlanner: true), from: Self.state(.retry, byPlanner: false), now: Self.now)
        #expect(planning.set == [.reason("order O1 cancelled at 2026-11-22T00:00:00Z"), .cancelledByPlanner(true)])
        #expect(try OutboxMachine.transition(.cancel(reason: "erased"), from: Self.state(.planned, byPlanner: false), now: Self.now).set == [.reason("erased")])
        #expect(!(try OutboxMachine.transition(.ops(.cancel), from: Self.state(.held, byPlanner: false), now: Self.now).set.contains(.cancelledByPlanner(true))))
    }

    static func cancelled(_ mail: PlannedMail, byPlanner: Bool, reason: String) -> OutboxEntry {
        var entry = OutboxDiffTests.stored(mail, .cancelled)
        (entry.reason, entry.cancelledByPlanner, entry.attempts) = (reason, byPlanner, 1)
        return entry
    }

    @Test("the diff revives what planning cancelled when the plan wants it sent again, with the plan's time and data; nothing else")
    func diff() throws {
        let orderCancelled = "order O1 cancelled at 2026-11-22T00:00:00Z"
        let stored = [
            Self.cancelled(OutboxDiffTests.mail("tracking/S1/1"), byPlanner: true, reason: orderCancelled),
            Self.cancelled(OutboxDiffTests.mail("approve/S1/1", approval: false), byPlanner: true, reason: orderCancelled),
            Self.cancelled(OutboxDiffTests.mail("gone-back/S1/1"), byPlanner: true, reason: OutboxDiff.noLongerPlanned),
            Self.cancelled(OutboxDiffTests.mail("by-ops/S1/1"), byPlanner: false, reason: "cancelled by ops"),
            Self.cancelled(OutboxDiffTests.mail("stale-now/S1/1"), byPlanner: true, reason: orderCancelled),
            Self.cancelled(OutboxDiffTests.mail("not-wanted/S1/1"), byPlanner: true, reason: orderCancelled),
        ]
        var tracking = OutboxDiffTests.mail("tracking/S1/1", due: "2026-11-23T08:00:00Z")
        tracking.to = ["compras@example.mx"]
        tracking.reasons = ["shipment S1 dispatched", "moved"]
        (tracking.template, tracking.deadline) = ("tracking-v2", t("2026-11-23T09:00:00Z"))
        let plan = CustomerPlan(customerID: "C1", mails: [
            tracking, OutboxDiffTests.mail("approve/S1/1", approval: true), OutboxDiffTests.mail("gone-back/S1/1"), OutboxDiffTests.mail("by-ops/S1/1"),
            OutboxDiffTests.mail("stale-now/S1/1", cancel: "stale: due 2026-11-20T09:00:00Z, no longer worth sending after 2026-11-22T09:00:00Z"),
        ], wakeAt: t("2027-01-02T00:00:00Z"))
        let diff = OutboxDiff.diff(plan, stored: stored, now: Self.now)
        var revived: [String: (OutboxEntry, OutboxMachine.Transition)] = [:]
        for change in diff.changes {
            guard case .revive(let entry, let transition) = change else { Issue.record("only revivals: \(change)"); continue }
            revived[entry.mail.key] = (entry, transition)
        }
        #expect(Set(revived.keys) == ["tracking/S1/1", "approve/S1/1", "gone-back/S1/1"])
        let (entry, transition) = try #require(revived["tracking/S1/1"])
        #expect(entry.status == .planned && transition.to == .planned && entry.reason == nil && !entry.cancelledByPlanner && entry.updatedAt == Self.now)
        #expect(entry.mail.due == t("2026-11-23T08:00:00Z") && transition.set.contains(.due(t("2026-11-23T08:00:00Z"))), "due in the past: as new mail would be")
        #expect(entry.mail.to == ["compras@example.mx"] && entry.mail.reasons == tracking.reasons && entry.attempts == 1)
        #expect(transition.history == "revived: order O1 reinstated (order O1 cancelled at 2026-11-22T00:00:00Z); planned again")
        #expect(entry.mail == tracking, "the whole planned mail, its template and deadline too")
        #expect(revived["approve/S1/1"]?.0.status == .held && revived["approve/S1/1"]?.0.mail.needsApproval == true,
                "held for approval, as a fresh plan stores it")
        #expect(revived["gone-back/S1/1"]?.1.history == "revived: planned again: what cancelled it no longer holds (\(OutboxDiff.noLongerPlanned))")
        #expect(diff.unchanged == 2, "the mail ops cancelled and the mail gone stale stay as they are")

        // Preview shows the revived mail as plan will write it.
        let window = PreviewWindow(from: Self.now.addingTimeInterval(-7 * 86_400), to: Self.now.addingTimeInterval(3 * 86_400))
        let shown = diff.items.compactMap { Workspace.shown($0, explain: false, window: window) }
        #expect(Dictionary(shown.map { ($0.key, $0.status) }) { a, _ in a } == ["tracking/S1/1": .planned, "approve/S1/1": .held, "gone-back/S1/1": .planned])

        // Applied, the same plan changes nothing more.
        let after = stored.map { revived[$0.mail.key]?.0 ?? $0 }
        #expect(OutboxDiff.diff(plan, stored: after, now: Self.now).changes.isEmpty)
    }

    @Test("v9-outbox-cancelled-by-planner: mail cancelled before is planning's unless ops, the sender (stale), or an erasure cancelled it")
    func migration() throws {
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue, upTo: "v8-shipment-dispatch-eta")
        let rows: [(String, String, String?)] = [
            ("order/1", "cancelled", "order O1 cancelled at 2026-11-04T10:00:00Z"), ("gone/1", "cancelled", OutboxDiff.noLongerPlanned),
            ("ops/1", "cancelled", "cancelled by ops"), ("erased/1", "cancelled", "erased"),
            ("stale/1", "cancelled", "stale: due 2026-11-03T14:00:00Z, no longer worth sending after 2026-11-05T14:00:00Z"),
            ("planned/1", "planned", nil), ("sent/1", "sent", nil),
        ]
        try queue.write { db in
            for (key, status, reason) in rows {
                try db.execute(sql: """
                    INSERT INTO outbox (key, rule, stream, audience, customerID, subject, occurrence, triggeredAt, nominalDue, due, toAddresses,
                    ccAddresses, locale, timeZone, template, needsApproval, status, reason, reasons, flags, context, createdAt, updatedAt)
                    VALUES (?, 'tracking', 'transactional', 'customer', 'C1', 'S1', '1', '2026-11-03 14:00:00.000', '2026-11-03 14:00:00.000',
                    '2026-11-03 14:00:00.000', '["a@example.com"]', '[]', 'en', 'UTC', 'tracking', 0, ?, ?, '[]', '[]', '{}',
                    '2026-11-03 14:00:00.000', '2026-11-03 14:00:00.000')
                    """, arguments: [key, status, reason])
            }
        }
        try Schema.migrator.migrate(queue)
        let revivable = try queue.read { db in
            Set(try OutboxEntry.fetchAll(db).filter(\.cancelledByPlanner).map(\.mail.key))
        }
        #expect(revivable == ["order/1", "gone/1"])
    }

    // MARK: Through the store and `import orders`

    static let header = "id,customer,sku,quantity,unit_price,currency,placed_at,completed_at,cancelled\n"

    /// Imports O1 as the seed has it, cancelled or not.
    static func importOrder(_ tw: TestWorkspace, cancelled: Bool, at now: String) throws {
        let ws = try tw.open(now)
        let file = tw.directory.appendingPathComponent("orders-\(cancelled).csv")
        try Data((header + "O1,C1,PUMP,1,,USD,2026-11-01T15:00:00Z,,\(cancelled ? "yes" : "no")\n").utf8).write(to: file)
        let summary = try Importer(store: ws.store, configuration: ws.configuration, now: ws.now).importFile(file.path, ImportOptions(kind: .orders))
        #expect(summary.updated == 1 && summary.written, "\(summary.errors)")
    }

    /// The outbox as a comparison sees it: each key's status, and the due time of pending mail.
    static func outbox(_ ws: Workspace) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try ws.store.outbox().map { entry in
            (entry.mail.key, entry.status.rawValue + (entry.status.isPending ? " " + Timestamp.utc(entry.mail.due) + " \(entry.mail.template)"
                + " approval \(entry.mail.needsApproval) " + (entry.mail.deadline.map(Timestamp.utc) ?? "-") : ""))
        })
    }

    @Test("pending mail planned by older rules (another template, no deadline, approval needed) is stored as the rules plan it now, and released")
    func olderRules() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        _ = try tw.open("2026-11-03T14:05:00Z").plan()
        let fresh = try Self.outbox(try tw.open("2026-11-03T15:00:00Z"))
        let older = try DatabaseQueue(path: tw.path)
        try older.write { db in
            try db.execute(sql: "UPDATE outbox SET template = template || '-old', needsApproval = 1, status = 'held', deadline = NULL WHERE key = 'tracking/S1/1'")
            // Planned by a version that kept no fingerprint of its rules: the next plan plans every customer.
            try db.execute(sql: "DELETE FROM planner_state WHERE name = 'rules'")
        }
        try older.close()
        let ws = try tw.open("2026-11-03T15:00:00Z")
        #expect(try ws.store.outboxEntry(key: "tracking/S1/1").status == .held)
        let report = try ws.plan()
        #expect(report.changes.moved == 1 && !report.rulesChanged, "\(report.changes)")
        #expect(try Self.outbox(ws) == fresh, "as the rules plan it now")
        #expect(try ws.store.outboxHistory(key: "tracking/S1/1").contains { $0.reason == "its rule no longer needs approval: planned" })
        #expect(try ws.plan().changes.moved == 0, "and then left alone")
    }

    @Test("a changed rules file re-plans every customer once: planned mail of a rule that now needs approval is held, then released when it no longer does")
    func rulesFileChanged() throws {
        var tw = try TestWorkspace()
        try tw.seed()
        _ = try tw.open("2026-11-03T14:05:00Z").plan()
        let before = try tw.open("2026-11-03T15:00:00Z").store.outboxEntry(key: "tracking/S1/1")
        #expect(before.status == .planned && !before.mail.needsApproval)
        #expect(try tw.open("2026-11-03T15:00:00Z").plan().changes.customers == 0, "no event, same rules: nothing to plan")

        let rules = tw.directory.appendingPathComponent("rules.yml")
        try "rules:\n  tracking: {approval: true}\n".write(to: rules, atomically: true, encoding: .utf8)
        tw.environment["AFTERSALES_RULES_FILE"] = rules.path
        let held = try tw.open("2026-11-03T15:00:00Z").plan()
        #expect(held.changes.customers == 1 && held.changes.moved == 1 && held.rulesChanged, "\(held.changes)")
        #expect(TextReport.plan(held).hasSuffix(" The rules or planning settings changed since the last plan: every customer was planned."))
        let entry = try tw.open("2026-11-03T15:00:00Z").store.outboxEntry(key: "tracking/S1/1")
        #expect(entry.status == .held && entry.mail.needsApproval)
        #expect(try tw.open("2026-11-03T15:00:00Z").plan().changes.customers == 0, "the rules are planned once")

        try "rules:\n  tracking: {approval: false}\n".write(to: rules, atomically: true, encoding: .utf8)
        let released = try tw.open("2026-11-03T15:00:00Z").plan()
        #expect(released.changes.moved == 1, "\(released.changes)")
        #expect(try tw.open("2026-11-03T15:00:00Z").store.outboxEntry(key: "tracking/S1/1").status == .planned)
        let history = try tw.open("2026-11-03T15:00:00Z").store.outboxHistory(key: "tracking/S1/1").compactMap(\.reason)
        #expect(history.contains("its rule now needs approval: held for `aftersales outbox approve tracking/S1/1`"))
        #expect(history.contains("its rule no longer needs approval: planned"))
    }

    @Test("a changed planning setting alone (business hours, no rules file) re-plans every customer once and moves pending mail to the new window")
    func settingChanged() throws {
        var tw = try TestWorkspace()
        try tw.seed()
        _ = try tw.open("2026-11-03T14:05:00Z").plan()
        let before = Dictionary(uniqueKeysWithValues: try tw.open("2026-11-03T15:00:00Z").store.outbox(status: .planned).map { ($0.key, $0.mail.due) })
        #expect(try tw.open("2026-11-03T15:00:00Z").plan().changes.customers == 0, "no event, same settings: nothing to plan")

        // The send window starts two hours later: mail due in the window moves; the fingerprint changed.
        tw.environment["AFTERSALES_BUSINESS_HOURS_START"] = "11:00"
        let replanned = try tw.open("2026-11-03T15:00:00Z").plan()
        #expect(replanned.rulesChanged && replanned.changes.customers == 1 && replanned.changes.moved >= 1, "\(replanned.changes)")
        let after = try tw.open("2026-11-03T15:00:00Z").store.outbox(status: .planned)
        let moved = after.filter { entry in before[entry.key].map { $0 != entry.mail.due } ?? false }
        #expect(!moved.isEmpty && moved.allSatisfy { $0.mail.due > before[$0.key]! }, "\(after.map { ($0.key, $0.mail.due) })")
        #expect(try tw.open("2026-11-03T15:00:00Z").plan().changes.customers == 0, "the new settings are planned once")
    }

    @Test("run, not only plan, reports the mail a reinstated order got back")
    func runCountsRevived() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        _ = try tw.open("2026-11-03T14:05:00Z").plan()
        try Self.importOrder(tw, cancelled: true, at: "2026-11-04T10:00:00Z")
        _ = try tw.open("2026-11-04T10:00:00Z").plan()
        try Self.importOrder(tw, cancelled: false, at: "2026-11-05T10:00:00Z")
        let ws = try Workspace.open(Settings(databasePath: tw.path, configPath: nil, now: t("2026-11-05T10:00:00Z"), environment: [:],
                                             templatesPath: templatesDirectory), access: .readWrite)
        let scratch = try ScratchDirectory("aftersales-revived")
        defer { withExtendedLifetime((tw, scratch)) {} }
        let summary = try ws.run(transport: FileTransport(directory: scratch.url.path))
        #expect(summary.revived > 0 && summary.planned == 0, "\(summary)")
        #expect(TextReport.run(summary).hasPrefix("planned 0, revived \(summary.revived), sent "))
    }

    @Test("order planned, cancelled (mail cancelled), reinstated by import: the mail is back as a fresh plan has it, overdue mail too; ops' cancellation stays",
          arguments: ["2026-11-05T10:00:00Z", "2026-11-06T10:00:00Z"])
    func reinstatedOrder(reinstatedAt: String) throws {
        let byOps = "transit-update/S1/3"
        // The same company and plans, but for the cancellation: what the outbox should be after reinstatement.
        let fresh = try TestWorkspace()
        try fresh.seed()
        _ = try fresh.open("2026-11-03T14:05:00Z").plan()
        _ = try fresh.open("2026-11-03T15:00:00Z").store.apply(.cancel, key: byOps, now: t("2026-11-03T15:00:00Z"))
        _ = try fresh.open(reinstatedAt).store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .inTransit, at: t("2026-11-04T09:00:00Z")),
                                                                  now: t(reinstatedAt))
        _ = try fresh.open(reinstatedAt).plan()

        let tw = try TestWorkspace()
        try tw.seed()
        _ = try tw.open("2026-11-03T14:05:00Z").plan()
        let ops = try tw.open("2026-11-03T15:00:00Z")
        _ = try ops.store.apply(.cancel, key: byOps, now: ops.now)
        // The order's pending mail (the customer's seasonal mail is about no order and stays as it is).
        let pending = try ops.store.outbox().filter { $0.status.isPending && $0.mail.orderID == "O1" }.map(\.mail.key)
        #expect(pending.contains("tracking/S1/1") && pending.contains("repurchase-alert/C1/PUMP/O1"))

        try Self.importOrder(tw, cancelled: true, at: "2026-11-04T10:00:00Z")
        let cancel = try tw.open("2026-11-04T10:00:00Z").plan()
        #expect(cancel.changes.cancelled == pending.count && cancel.changes.revived == 0)
        #expect(try tw.open("2026-11-04T10:00:00Z").store.outbox(orderID: "O1").allSatisfy { $0.status == .cancelled })
        #expect(try tw.open("2026-11-04T10:00:00Z").store.outboxEntry(key: "tracking/S1/1").reason == "order O1 cancelled at 2026-11-04T10:00:00Z")

        // As if planned by an older version of the rules: the revival writes the plan's mail, not what was stored.
        let older = try DatabaseQueue(path: tw.path)
        try older.write { db in
            try db.execute(sql: "UPDATE outbox SET template = template || '-old', needsApproval = 1, deadline = NULL WHERE orderID = 'O1' AND cancelledByPlanner = 1")
        }
        try older.close()

        try Self.importOrder(tw, cancelled: false, at: reinstatedAt)
        let ws = try tw.open(reinstatedAt)
        _ = try ws.store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .inTransit, at: t("2026-11-04T09:00:00Z")), now: ws.now)
        let report = try ws.plan()
        #expect(try Self.outbox(ws) == (try Self.outbox(try fresh.open(reinstatedAt))), "exactly as if the order had never been cancelled")
        let back = try ws.store.outbox(orderID: "O1").filter(\.status.isPending)
        #expect(report.changes.revived > 0 && report.changes.planned == 0, "\(report.changes)")
        #expect(TextReport.plan(report).hasPrefix("Planned 0 new mail (0 held for approval), revived \(report.changes.revived), moved "))
        #expect(report.changes.revived == back.count, "every pending mail is a revived one")
        #expect(back.contains { $0.mail.key == "repurchase-alert/C1/PUMP/O1" }, "mail the cancellation dropped from the plan is back too")
        #expect(try ws.store.outboxEntry(key: byOps).status == .cancelled, "what ops cancelled by hand stays cancelled")
        #expect(try ws.store.outboxEntry(key: byOps).reason == "cancelled by ops")

        let tracking = try ws.store.outboxEntry(key: "tracking/S1/1")
        let history = try ws.store.outboxHistory(key: "tracking/S1/1")
        if reinstatedAt == "2026-11-05T10:00:00Z" {
            // Overdue but not stale (2 days after 2026-11-03T14:05): planned at its time, sent at the next run, as new mail would be.
            #expect(tracking.status == .planned && tracking.mail.due < ws.now && tracking.reason == nil)
            #expect(history.map(\.to) == [.planned, .cancelled, .planned])
            #expect(history.last?.reason == "revived: order O1 reinstated (order O1 cancelled at 2026-11-04T10:00:00Z); planned again")
            #expect(try ws.store.dueMail(now: ws.now, limit: nil).contains { $0.key == "tracking/S1/1" })
        } else {
            // Stale by then: it stays cancelled, as a fresh plan would not send it.
            #expect(tracking.status == .cancelled && history.map(\.to) == [.planned, .cancelled])
        }

        // A second plan changes nothing: the fresh plan's diff against the outbox is empty.
        var products = AftersalesStore.ProductMemo()
        for (facts, entries) in try ws.store.planningInputs(["C1"], products: &products) {
            let plan = Planner.plan(facts, existing: entries.map(ExistingMail.init), rules: try ws.rules(), settings: ws.planningSettings, now: ws.now)
            #expect(OutboxDiff.diff(plan, stored: entries, now: ws.now).changes.isEmpty)
        }
        #expect(try ws.plan().changes == PlanChanges())
    }

    @Test("an erased customer's mail is never revived: the erasure clears planning's mark")
    func erasure() throws {
        let tw = try TestWorkspace()
        try tw.seed()
        _ = try tw.open("2026-11-03T14:05:00Z").plan()
        try Self.importOrder(tw, cancelled: true, at: "2026-11-04T10:00:00Z")
        let ws = try tw.open("2026-11-04T10:00:00Z")
        _ = try ws.plan()
        #expect(try ws.store.outbox(orderID: "O1").contains(where: \.cancelledByPlanner))
        _ = try ws.store.eraseCustomer(id: "C1", force: true, now: ws.now)
        #expect(try ws.store.outbox().allSatisfy { !$0.cancelledByPlanner && !$0.status.isPending })
    }
}
