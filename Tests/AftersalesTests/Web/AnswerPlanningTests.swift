import AftersalesDomain
@testable import AftersalesPlanning
import Foundation
import Testing

@Suite("Planner: a survey answered again")
struct AnswerPlanningTests {
    @Test("a changed segment cancels the old segment's pending mail with a reason and plans the new one")
    func changedSegment() throws {
        var b = FactsBuilder()
        b.order("O1", "2026-11-01T15:00:00Z") { $0.order.completedAt = t("2026-11-10T15:00:00Z") }
        b.orders[0].survey = SurveyAnswer(orderID: "O1", score: 10, answeredAt: t("2026-11-18T20:00:00Z"))
        let first = b.plan(now: "2026-11-18T21:00:00Z")
        #expect(first["survey-promoter/O1/1"]?.disposition == .send)
        #expect(first["survey-detractor/O1/1"] == nil)

        // The buyer follows another score link of the same mail: the answer is replaced, not added.
        b.orders[0].survey = SurveyAnswer(orderID: "O1", score: 3, reason: "slow customs paperwork", answeredAt: t("2026-11-19T09:00:00Z"))
        let stored = ExistingMail(key: "survey-promoter/O1/1", rule: "survey-promoter", stream: .marketing, pending: true, sentAt: nil)
        let plan = Planner.plan(b.facts, existing: [stored], rules: .defaults, settings: PlanningSettings(), now: t("2026-11-19T09:05:00Z"))
        let promoter = try #require(plan.mails["survey-promoter/O1/1"])
        #expect(promoter.disposition == .cancel("survey answer changed to 3 (detractor) at 2026-11-19T09:00:00Z"))
        #expect(plan.mails["survey-detractor/O1/1"]?.disposition == .send)

        // The diff cancels the stored entry with that reason, not as merely "no longer planned".
        let entry = OutboxEntry(new: try #require(first["survey-promoter/O1/1"]), now: t("2026-11-18T21:00:00Z"))
        let diff = OutboxDiff.diff(plan, stored: [entry], now: t("2026-11-19T09:05:00Z"))
        let cancelled = diff.changes.compactMap { change -> String? in
            guard case .cancel(let e, let transition) = change, e.mail.key == "survey-promoter/O1/1" else { return nil }
            return transition.set.compactMap { field -> String? in if case .reason(let why) = field { why } else { nil } }.first
        }
        #expect(cancelled == ["survey answer changed to 3 (detractor) at 2026-11-19T09:00:00Z"])
        #expect(diff.changes.contains { if case .insert(let e) = $0 { e.mail.key == "survey-detractor/O1/1" } else { false } })

        // Without a stored mail of the old segment nothing is cancelled (no noise in the plan).
        let fresh = b.plan(now: "2026-11-19T09:05:00Z")
        #expect(fresh["survey-promoter/O1/1"] == nil)
    }
}
