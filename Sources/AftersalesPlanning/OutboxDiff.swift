import AftersalesDomain
import Foundation

/// What applying one customer's plan to its stored outbox entries changes: worked out by
/// ``diff(_:stored:now:)`` for `plan` (which writes it) and `preview` (which shows it).
public struct OutboxDiff: Sendable, Hashable {
    /// One write.
    public enum Change: Sendable, Hashable {
        /// New mail to store (held when it needs approval).
        case insert(OutboxEntry)
        /// Pending mail whose time, recipients, locale or reasons changed: the entry as it is to be stored.
        case move(OutboxEntry)
        /// Pending mail cancelled, by the rules or because they no longer plan it: the machine's transition.
        case cancel(OutboxEntry, OutboxMachine.Transition)
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

    /// The writes, in order.
    public var changes: [Change] { items.compactMap(\.change) }

    /// Stored mail the plan leaves as it is (pending and the same, or no longer pending).
    public var unchanged: Int { items.filter { $0.mail != nil && $0.stored != nil && $0.change == nil }.count }

    /// The reason a pending entry the rules no longer plan is cancelled with.
    public static let noLongerPlanned = "no longer planned: the facts that triggered it changed"

    /// Applies a customer's plan to its stored entries: new mail is inserted, pending mail is moved or
    /// cancelled with its reason, and pending mail the rules no longer want is cancelled. Mail already
    /// sent, failed or cancelled is never touched.
    public static func diff(_ plan: CustomerPlan, stored entries: [OutboxEntry], now: Date) -> OutboxDiff {
        let stored = Dictionary(entries.map { ($0.mail.key, $0) }) { first, _ in first }
        var items: [Item] = []
        items.reserveCapacity(plan.mails.count)
        var wanted: Set<String> = []
        func cancel(_ entry: OutboxEntry, _ reason: String) -> Change? {
            (try? OutboxMachine.transition(.cancel(reason: reason), from: entry.state, now: now)).map { .cancel(entry, $0) }
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
                } else if entry.mail.due != mail.due || entry.mail.staleAt != mail.staleAt || entry.mail.to != mail.to || entry.mail.cc != mail.cc
                            || entry.mail.reasons != mail.reasons || entry.mail.flags != mail.flags || entry.mail.locale != mail.locale {
                    var moved = entry
                    moved.mail.due = mail.due
                    moved.mail.nominalDue = mail.nominalDue
                    moved.mail.staleAt = mail.staleAt
                    moved.mail.to = mail.to
                    moved.mail.cc = mail.cc
                    moved.mail.locale = mail.locale
                    moved.mail.reasons = mail.reasons
                    moved.mail.flags = mail.flags
                    moved.mail.context = mail.context
                    moved.updatedAt = now
                    change = .move(moved)
                }
            }
            items.append(Item(mail: mail, stored: entry, change: change))
        }
        for entry in entries where entry.status.isPending && !wanted.contains(entry.mail.key) {
            items.append(Item(mail: nil, stored: entry, change: cancel(entry, noLongerPlanned)))
        }
        return OutboxDiff(customerID: plan.customerID, wakeAt: plan.wakeAt, items: items)
    }
}
