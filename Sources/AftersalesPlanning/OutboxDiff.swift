import AftersalesDomain
import Foundation

/// What applying one customer's plan to its stored outbox entries changes: worked out by
/// ``diff(_:stored:now:)`` for `plan` (which writes it) and `preview` (which shows it).
public struct OutboxDiff: Sendable, Hashable {
    /// One write.
    public enum Change: Sendable, Hashable {
        /// New mail to store (held when it needs approval).
        case insert(OutboxEntry)
        /// Pending mail whose time, recipients, locale, reasons, template, deadline or approval changed: the
        /// entry as it is to be stored, and the machine's transition when its rule's approval changed (held,
        /// or planned again) first.
        case move(OutboxEntry, OutboxMachine.Transition?)
        /// Pending mail cancelled, by the rules or because they no longer plan it: the machine's transition.
        case cancel(OutboxEntry, OutboxMachine.Transition)
        /// Mail planning had cancelled that the plan wants again (a reinstated order's): the entry as it
        /// is to be stored (the plan's time, recipients and reasons, back to planned or held) and the
        /// machine's transition.
        case revive(OutboxEntry, OutboxMachine.Transition)
    }

    /// A planned mail, a stored entry the plan no longer has, or both, and what changes.
    public struct Item: Sendable, Hashable {
        /// The mail as planned now; nil for a stored entry the rules no longer plan.
        public var mail: PlannedMail?
        /// The entry as stored before the change; nil for mail never stored.
        public var stored: OutboxEntry?
        /// Nil: nothing to write (the stored entry is left as it is, or a cancelled mail was never stored).
        public var change: Change?
    }

    public var customerID: String
    /// When time alone changes the customer's plan.
    public var wakeAt: Date
    /// Every planned mail in the plan's order, then the stored pending entries the plan no longer has.
    public var items: [Item]

    /// The writes, in order (read off the items as they are walked: copying them into an array of their
    /// own was part of the 1% below).
    public var changes: some Collection<Change> { items.lazy.compactMap { $0.change } }

    /// Stored mail the plan leaves as it is (pending and the same, or no longer pending): counted by
    /// ``diff(_:stored:now:)`` as it makes the items (counting them after, each copied, was 1% of a full
    /// plan's instructions).
    public let unchanged: Int

    /// The reason a pending entry the rules no longer plan is cancelled with.
    public static let noLongerPlanned = "no longer planned: the facts that triggered it changed"

    /// Applies a customer's plan to its stored entries: new mail is inserted, pending mail is moved or
    /// cancelled with its reason, and pending mail the rules no longer want is cancelled. Mail planning
    /// cancelled that the plan wants sent again is revived, as the plan has it: exactly as new mail would be
    /// inserted (mail gone stale meanwhile the plan has cancelled, so it stays cancelled). Mail already
    /// sent or failed, and mail ops, the sender or an erasure cancelled, is never touched.
    public static func diff(_ plan: CustomerPlan, stored entries: [OutboxEntry], now: Date) -> OutboxDiff {
        let stored = Dictionary(entries.map { ($0.mail.key, $0) }) { first, _ in first }
        var items: [Item] = []
        items.reserveCapacity(plan.mails.count)
        var wanted: Set<String> = []
        var unchanged = 0
        func cancel(_ entry: OutboxEntry, _ reason: String) -> Change? {
            (try? OutboxMachine.transition(.cancel(reason: reason, byPlanner: true), from: entry.state, now: now)).map { .cancel(entry, $0) }
        }
        func moved(_ entry: OutboxEntry, to mail: PlannedMail) -> Change {
            // Approval given by ops stays given: only a change of the rule's own need moves the status.
            var transition: OutboxMachine.Transition?
            if entry.mail.needsApproval != mail.needsApproval {
                transition = try? OutboxMachine.transition(.approvalChanged(needed: mail.needsApproval), from: entry.state, now: now)
            }
            var moved = transition.map { entry.applying($0, at: now) } ?? entry
            moved.mail = mail
            moved.updatedAt = now
            return .move(moved, transition)
        }
        func revive(_ entry: OutboxEntry, as mail: PlannedMail) -> Change? {
            let event = OutboxMachine.Event.revive(reason: revivalReason(entry, mail), due: mail.due, needsApproval: mail.needsApproval)
            guard let transition = try? OutboxMachine.transition(event, from: entry.state, now: now) else { return nil }
            // The whole planned mail (its template, approval and deadline too), as an insert would write it.
            var revived = entry.applying(transition, at: now)
            revived.mail = mail
            return .revive(revived, transition)
        }
        for mail in plan.mails {
            wanted.insert(mail.key)
            guard let entry = stored[mail.key] else {
                guard case .send = mail.disposition else { items.append(Item(mail: mail, stored: nil, change: nil)); continue }
                items.append(Item(mail: mail, stored: nil, change: .insert(OutboxEntry(new: mail, now: now))))
                continue
            }
            var change: Change?
            if entry.status.isPending {
                if case .cancel(let why) = mail.disposition {
                    change = cancel(entry, why)
                } else {
                    let target = Self.followed(entry.mail, mail)
                    // The context and the nominal time alone do not move a mail; they go with any other change.
                    var compared = target
                    (compared.context, compared.nominalDue) = (entry.mail.context, entry.mail.nominalDue)
                    if compared != entry.mail { change = moved(entry, to: target) }
                }
            } else if entry.cancelledByPlanner, entry.status == .cancelled, case .send = mail.disposition {
                change = revive(entry, as: mail)
            }
            items.append(Item(mail: mail, stored: entry, change: change))
            if change == nil { unchanged += 1 }
        }
        for entry in entries where entry.status.isPending && !wanted.contains(entry.mail.key) {
            items.append(Item(mail: nil, stored: entry, change: cancel(entry, noLongerPlanned)))
        }
        return OutboxDiff(customerID: plan.customerID, wakeAt: plan.wakeAt, items: items, unchanged: unchanged)
    }

    /// The stored pending mail as the plan has it now, which is what a move writes: its time, recipients,
    /// locale, reasons, flags, context, template, deadline and approval; its identity, trigger time and
    /// time zone stay as stored.
    static func followed(_ stored: PlannedMail, _ mail: PlannedMail) -> PlannedMail {
        var moved = stored
        (moved.due, moved.nominalDue, moved.staleAt, moved.to, moved.cc, moved.locale) = (mail.due, mail.nominalDue, mail.staleAt, mail.to, mail.cc, mail.locale)
        (moved.reasons, moved.flags, moved.context) = (mail.reasons, mail.flags, mail.context)
        (moved.template, moved.deadline, moved.needsApproval) = (mail.template, mail.deadline, mail.needsApproval)
        return moved
    }

    /// Why a cancelled mail is revived, for its history: the order reinstated, when its cancellation
    /// was the order's, else that what cancelled it no longer holds.
    static func revivalReason(_ entry: OutboxEntry, _ mail: PlannedMail) -> String {
        let was = entry.reason ?? "cancelled by planning"
        if let order = mail.orderID, was.hasPrefix(Planner.orderCancelledPrefix(order)) {
            return "order \(order) reinstated (\(was)); planned again"
        }
        return "planned again: what cancelled it no longer holds (\(was))"
    }
}
