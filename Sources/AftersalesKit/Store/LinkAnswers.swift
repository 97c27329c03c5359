import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

/// The buyer's answers through the signed links of `aftersales serve`: the same facts, validation and
/// event log as the recording commands, made idempotent (a link may be followed twice, a form sent twice).
extension AftersalesStore {
    /// The reader of signed links' targets for `aftersales serve` (``LinkReader``): a read-only
    /// connection of its own on a database file, else (in memory) the store's own connection.
    public func linkReader() throws(AftersalesError) -> LinkReader {
        guard path != ":memory:" else { return LinkReader(reader: writer, path: path) }
        var config = GRDB.Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        let path = self.path
        return try Self.map(path: path) { LinkReader(reader: try DatabaseQueue(path: path, configuration: config), path: path) }
    }

    static let linkTargetSQL = """
        SELECT c.locale, c.consent, c.unsubscribedAt IS NOT NULL,
               o.template, o.orderID, json_extract(o.context, '$.complaint'), json_extract(o.context, '$.shipment')
        FROM outbox o JOIN customers c ON c.id = o.customerID WHERE o.key = ? AND o.customerID = ?
        """

    /// Records the buyer's survey answer for an order, or replaces the one recorded: answering again
    /// updates the answer (there is never a second one) and logs `survey.answered` again, so the
    /// planner re-plans the segment. `changed` is false when the same answer was already recorded.
    public func answerSurvey(_ answer: SurveyAnswer, now: Date) throws(AftersalesError) -> (answer: SurveyAnswer, changed: Bool) {
        try Self.check(answer, now: now)
        return try write { db in
            let order = try Self.order(db, answer.orderID)
            try Self.notBefore(answer.answeredAt, order.placedAt, "the order was placed")
            if let existing = try SurveyAnswer.fetchOne(db, key: answer.orderID) {
                var same = answer
                same.answeredAt = existing.answeredAt
                if same == existing { return (existing, false) }
                try answer.update(db)
            } else {
                try answer.insert(db)
            }
            try Self.log(db, .surveyAnswered, subject: order.id, customerID: order.customerID, orderID: order.id,
                         at: answer.answeredAt, now: now, payload: answer)
            return (answer, true)
        }
    }

    /// A survey answer's own checks, before the store is asked: not in the future, a score of 0-10, a reason of at most 5,000 characters.
    static func check(_ answer: SurveyAnswer, now: Date) throws(AftersalesError) {
        try notFuture(answer.answeredAt, now)
        try AftersalesError.checked { () throws(InvalidInput) in
            _ = try SurveyAnswer.score(answer.score)
            _ = try Text.optional(answer.reason, field: "reason", limit: 5000)
        }
    }

    /// Whether a complaint was already rated (then a second rating through a link changes nothing).
    public func complaintRated(id: String) throws(AftersalesError) -> Bool {
        try complaint(id: id).ratedAt != nil
    }

    /// The buyer's language and marketing choice from the preferences page. Consent given here is
    /// recorded with its time (`consentAt` and the event log, `via` naming the page) as consent evidence.
    public func setPreferences(customerID: String, locale: String, marketing: Bool, at: Date, now: Date) throws(AftersalesError) -> (customer: Customer, changed: Bool) {
        try Self.notFuture(at, now)
        return try write { db in
            let existing = try Self.customer(db, customerID)
            let changes = CustomerChanges(locale: locale, consent: marketing)
            let updated = try AftersalesError.checked { () throws(InvalidInput) in try changes.apply(to: existing, at: at) }
            guard updated != existing else { return (existing, false) }
            try updated.update(db)
            try Self.log(db, .customerUpdated, subject: customerID, customerID: customerID, orderID: nil, at: at, now: now,
                         payload: PreferencesRecord(locale: updated.locale.value, consent: updated.consent, consentAt: updated.consentAt,
                                                    unsubscribedAt: updated.unsubscribedAt, via: "preferences page (signed link)"))
            return (updated, true)
        }
    }

    /// What the event log keeps of a change made on the preferences page.
    struct PreferencesRecord: Encodable {
        var locale: String
        var consent: Bool
        var consentAt: Date?
        var unsubscribedAt: Date?
        var via: String
    }
}

/// What the checks and pages of a signed link need of the mail the link came in.
public struct LinkedMail: Sendable, Equatable {
    /// The mail's template (a survey link must come in the survey, ...).
    public var template: String
    public var orderID: String?
    /// The complaint and the shipment the mail is about (its context's `complaint` and `shipment`).
    public var complaintID: String?
    public var shipmentID: String?
}

/// Reads what a signed link's checks and page need, for `aftersales serve`, on a read-only connection of its
/// own. One cached statement, read on the calling thread without a transaction: a single SELECT is its own
/// snapshot, and a read of the write-ahead log does not wait for a writer (only in SQLite's rare cases, such
/// as the log being reset, does it wait, within the busy timeout). Through the store's pool of readers
/// each read also checked out a reader and ran `PRAGMA schema_version`: a GET of a valid link answered
/// 4,690 req/s against 11,600 for a link refused before any read (wrk, release, 2 cores).
public struct LinkReader: Sendable {
    let reader: any DatabaseReader
    let path: String

    /// The mail `mailKey` (if it is `customerID`'s) and what the link needs of its customer; nil when either is gone.
    public func target(mailKey: String, customerID: String) throws(AftersalesError) -> (mail: LinkedMail, customer: LinkedCustomer)? {
        try AftersalesStore.map(path: path) {
            try reader.unsafeRead { db in
                guard let row = try Row.fetchOne(db.cachedStatement(sql: AftersalesStore.linkTargetSQL), arguments: [mailKey, customerID]) else { return nil }
                // By position; only the columns a link needs (the whole customer, its JSON columns decoded,
                // was 4.5% of an unsubscribe POST's CPU under wrk: perf, release).
                let customer = LinkedCustomer(id: customerID, locale: try row.decode(atIndex: 0), consent: try row.decode(atIndex: 1),
                                              unsubscribed: try row.decode(atIndex: 2))
                let mail = LinkedMail(template: try row.decode(atIndex: 3), orderID: row[4], complaintID: row[5], shipmentID: row[6])
                return (mail, customer)
            }
        }
    }
}

/// What the checks and pages of a signed link need of the buyer (``LinkReader/target(mailKey:customerID:)``).
public struct LinkedCustomer: Sendable, Equatable {
    public var id: String
    public var locale: LocaleTag
    public var consent: Bool
    /// Whether the buyer has unsubscribed from marketing mail.
    public var unsubscribed: Bool

    /// As ``Customer/acceptsMarketing``: consent given and not withdrawn.
    public var acceptsMarketing: Bool { consent && !unsubscribed }
}
