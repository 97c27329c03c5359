import AftersalesDomain
import AftersalesPlanning
import Foundation
import Mustache

/// `links.*` of a mail's templates: the signed links `aftersales serve` answers, made once per mail
/// (one token per action; the survey's eleven scores and the five ratings share theirs). Off (every
/// URL empty) without `links.base_url` and a secret, and in staff mail.
public struct MailLinks: MustacheParent, Sendable {
    /// One link of a scale: the score it records and its URL.
    public struct Scored: MustacheParent, Sendable {
        public var score: Int
        public var url: String
        public func child(named name: String) -> Any? {
            switch name {
            case "score": score
            case "url": url
            default: nil
            }
        }
    }

    public var on = false
    /// The survey page, and its eleven scores (survey mail).
    public var survey = ""
    public var surveyScores: [Scored] = []
    /// The rating page, and its five ratings (satisfaction-check mail).
    public var rating = ""
    public var ratings: [Scored] = []
    /// "I have received the goods" (customs-held, transit-update and its late form, delay-notice).
    public var confirmReceipt = ""
    /// The preferences page (every mail to a customer).
    public var preferences = ""
    /// The one-click unsubscribe (marketing mail).
    public var unsubscribe = ""

    /// Links off.
    public static let off = MailLinks()

    public init() {}

    public func child(named name: String) -> Any? {
        switch name {
        case "on": on
        case "survey": survey
        case "survey_scores": surveyScores
        case "rating": rating
        case "ratings": ratings
        case "confirm_receipt": confirmReceipt
        case "preferences": preferences
        case "unsubscribe": unsubscribe
        default: nil
        }
    }

    /// The links of `mail` to its customer, signed with `keys`, valid `validDays` from `now`.
    public static func make(_ mail: PlannedMail, baseURL: String, keys: LinkKeys?, validDays: Int, now: Date) -> MailLinks {
        guard let keys, mail.audience == .customer else { return .off }
        let expires = now.addingTimeInterval(Double(validDays) * 86_400)
        func link(_ purpose: LinkPurpose) -> String {
            let token = keys.sign(LinkToken(purpose: purpose, mailKey: mail.key, customerID: mail.customerID, expires: expires))
            return "\(baseURL)/\(purpose.pathSegment)/\(token)"
        }
        var links = MailLinks()
        links.on = true
        links.preferences = link(.preferences)
        if mail.stream == .marketing { links.unsubscribe = link(.unsubscribe) }
        if mail.template == "survey", mail.orderID != nil {
            links.survey = link(.survey)
            links.surveyScores = (0...10).map { Scored(score: $0, url: "\(links.survey)?score=\($0)") }
        }
        if mail.template == "satisfaction-check", mail.context["complaint"] != nil {
            links.rating = link(.rating)
            links.ratings = (1...5).map { Scored(score: $0, url: "\(links.rating)?score=\($0)") }
        }
        if LinkService.receiptTemplates.contains(mail.template), mail.context["shipment"] != nil {
            links.confirmReceipt = link(.confirmReceipt)
        }
        return links
    }
}

extension MailRenderer {
    /// The links of `mail`, as this renderer's configuration makes them (off without base URL and secret).
    public func links(_ mail: PlannedMail, now: Date) -> MailLinks {
        MailLinks.make(mail, baseURL: configuration.links.baseURL, keys: linkKeys, validDays: configuration.links.validDays, now: now)
    }
}

extension MailLinks {
    /// Links signed with a sample key, for `templates check` to render every template with the links on.
    static func sample(_ mail: PlannedMail) -> MailLinks {
        make(mail, baseURL: "https://links.example", keys: sampleKeys, validDays: 1, now: Date(timeIntervalSince1970: 1_800_000_000))
    }

    static let sampleKeys = try? LinkKeys(secrets: ["templates-check-sample-secret"])
}
