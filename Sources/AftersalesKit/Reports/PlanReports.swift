import AftersalesDomain
import AftersalesPlanning
import Foundation

extension TextReport {
    public static func mails(_ views: [MailView], explain: Bool = false, empty: String) -> String {
        if views.isEmpty { return empty }
        if !explain {
            return TextTable(header: ["DUE (UTC)", "LOCAL", "RULE", "STATUS", "TO", "KEY", "SUBJECT"],
                             rows: views.map { [$0.due, $0.local_due, $0.rule, $0.status.rawValue,
                                                $0.to.joined(separator: ","), $0.key, $0.subject ?? "-"] }).text
        }
        return views.map { v in
            var lines = ["\(v.due)  (\(v.local_due) local)  \(v.rule)  [\(v.stream.rawValue), \(v.status.rawValue)]",
                         "  key:    \(v.key)", "  subject: \(v.subject ?? "-") (\(v.locale))", "  to:     \(v.to.joined(separator: ", "))" + (v.cc.isEmpty ? "" : "  cc: \(v.cc.joined(separator: ", "))")]
            if let order = v.order { lines.append("  order:  \(order)") }
            for why in v.explain { lines.append("  why:    \(why)") }
            for flag in v.flags { lines.append("  flag:   \(flag)") }
            if let reason = v.reason { lines.append("  \(v.status == .cancelled ? "cancel" : "note"):  \(reason)") }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    public static func plan(_ report: PlanReport) -> String {
        let c = report.changes
        return "Planned \(c.planned) new mail (\(c.held) held for approval), " + (c.revived > 0 ? "revived \(c.revived), " : "")
            + "moved \(c.moved), cancelled \(c.cancelled), "
            + "\(c.unchanged) unchanged, for \(c.customers) customer(s) from \(report.eventsConsumed) new event(s)."
            + (report.rulesChanged ? " The rules or planning settings changed since the last plan: every customer was planned." : "")
    }

    public static func rules(_ set: RuleSet) -> String {
        TextTable(header: ["RULE", "STREAM", "TRIGGER", "OFFSET", "WINDOW", "AUDIENCE", "ENABLED"],
                  rows: set.rules.map { r in
                      [r.id, r.stream.rawValue, r.trigger.rawValue,
                       DurationText.format(r.offset) + (r.repeatEvery.map { ", every \(DurationText.format($0))" } ?? ""),
                       r.window.rawValue, r.audience.rawValue, r.enabled ? "yes" : "no"]
                  }).text
    }

    public static func rule(_ r: Rule) -> String {
        fields([
            ("id", r.id), ("description", r.description), ("stream", r.stream.rawValue), ("trigger", r.trigger.rawValue),
            ("offset", DurationText.format(r.offset)), ("deadline", r.deadline.map(DurationText.format)),
            ("every", r.repeatEvery.map(DurationText.format)), ("cap", r.repeatCap.map(String.init)),
            ("conditions", r.conditions.isEmpty ? nil : r.conditions.map(\.rawValue).joined(separator: ", ")),
            ("cancel on", r.cancelOn.isEmpty ? nil : r.cancelOn.map(\.rawValue).joined(separator: ", ")),
            ("window", r.window.rawValue), ("audience", r.audience.rawValue), ("approval", r.approval ? "required" : "no"),
            ("template", r.template), ("attachments", r.attachments.isEmpty ? nil : r.attachments.map(\.rawValue).joined(separator: ", ")),
            ("bilingual", r.bilingual ? "yes (with English)" : nil),
            ("stale after", r.staleAfter.map(DurationText.format)), ("enabled", r.enabled ? "yes" : "no"),
        ])
    }

    /// One outbox entry (see ``Workspace/view(of:)``) with its history.
    public static func outboxEntry(_ view: MailView, history: [OutboxTransition]) -> String {
        var text = mails([view], explain: true, empty: "")
        for h in history {
            text += "\n  \(Timestamp.utc(h.at))  \(h.from?.rawValue ?? "-") -> \(h.to.rawValue)" + (h.reason.map { "  \($0)" } ?? "")
        }
        return text
    }
}

/// A rule as JSON.
public struct RuleView: Codable, Sendable {
    public var id, description, stream, trigger, offset, window, audience, template: String
    public var deadline, every, stale_after: String?
    public var cap: Int?
    public var conditions, cancel_on, attachments: [String]
    public var approval, enabled, bilingual: Bool

    public init(_ r: Rule) {
        id = r.id
        description = r.description
        stream = r.stream.rawValue
        trigger = r.trigger.rawValue
        offset = DurationText.format(r.offset)
        window = r.window.rawValue
        audience = r.audience.rawValue
        template = r.template
        deadline = r.deadline.map(DurationText.format)
        every = r.repeatEvery.map(DurationText.format)
        stale_after = r.staleAfter.map(DurationText.format)
        cap = r.repeatCap
        conditions = r.conditions.map(\.rawValue)
        cancel_on = r.cancelOn.map(\.rawValue)
        approval = r.approval
        enabled = r.enabled
        attachments = r.attachments.map(\.rawValue)
        bilingual = r.bilingual
    }
}

extension TextReport {
    /// One line: what a run did.
    public static func run(_ s: RunSummary) -> String {
        if let left = s.leftBecause { return "Nothing done: \(left)." }
        if s.dryRun {
            return mails(s.wouldSend, empty: "Nothing would be sent.") + (s.wouldSend.isEmpty ? "" : "\n\(s.wouldSend.count) mail(s) would be sent (dry run: nothing sent).")
        }
        var line = "planned \(s.planned)" + (s.revived > 0 ? ", revived \(s.revived)" : "") + ", sent \(s.sent), retried \(s.retried), failed \(s.failed), in-doubt \(s.inDoubt)"
        if s.cancelled > 0 { line += ", cancelled as stale \(s.cancelled)" }
        if s.recovered > 0 { line += ", recovered from a stopped run \(s.recovered) (in doubt)" }
        if s.returnedUnstarted > 0 { line += ", back to planned (never begun by a stopped run) \(s.returnedUnstarted)" }
        if s.recordedFromJournal > 0 { line += ", answers recorded from a stopped run's journal \(s.recordedFromJournal)" }
        if s.resentByPolicy > 0 { line += ", resent by the in-doubt policy \(s.resentByPolicy)" }
        if s.skipped > 0 { line += ", skipped (taken by another process) \(s.skipped)" }
        if s.waitingForRetry > 0 { line += "; \(s.waitingForRetry) waiting for a retry" }
        if let off = s.linksOff { line += "; \(off)" }
        if let stop = s.stoppedBy { line += "\nstopped: \(stop); the remaining mail is untouched and goes on the next run" }
        if let fetch = s.fetch { line += "\n" + TextReport.fetch(fetch) }
        return line
    }
}
