// BRIDGE: deleted at merge. Stand-ins for what the "outbox" helper (OutboxEntry embeds PlannedMail)
// and the "config" helper (Configuration.offers) add on their branches.
import AftersalesPlanning
import Foundation

// BRIDGE: deleted at merge
extension OutboxEntry {
    /// The planned mail the entry holds (the outbox helper's OutboxEntry stores it as `mail`).
    public var mail: PlannedMail {
        struct Mirror: Encodable {
            var key, rule: String
            var stream: MailStream
            var audience: Audience
            var customerID: String
            var orderID: String?
            var subject, occurrence: String
            var triggeredAt, nominalDue, due: Date
            var deadline, staleAt: Date?
            var to, cc: [String]
            var locale, timeZone, template: String
            var needsApproval: Bool
            var disposition: PlannedMail.Disposition
            var reasons, flags: [String]
            var context: [String: String]
        }
        let mirror = Mirror(key: key, rule: rule, stream: stream, audience: audience, customerID: customerID, orderID: orderID,
                            subject: subject, occurrence: occurrence, triggeredAt: triggeredAt, nominalDue: nominalDue, due: due,
                            deadline: deadline, staleAt: staleAt, to: toAddresses, cc: ccAddresses, locale: locale, timeZone: timeZone,
                            template: template, needsApproval: needsApproval, disposition: reason.map { .cancel($0) } ?? .send,
                            reasons: reasons, flags: flags, context: context)
        // PlannedMail has no public memberwise initializer on this branch.
        return try! JSONDecoder().decode(PlannedMail.self, from: JSONEncoder().encode(mirror))
    }
}

// BRIDGE: deleted at merge
extension Configuration {
    /// The offer terms the templates quote (the config helper decodes them from `offers.*`).
    public var offers: OfferTerms { OfferTerms() }
}
