import AftersalesDomain
import AftersalesPlanning
import Foundation
import Yams

/// The effective configuration, decoded once into typed values: the built-in defaults (the initial
/// values below), then `aftersales.yml`, then `AFTERSALES_*` environment variables over it (the key in
/// upper case, dots as underscores: `smtp.url` → `AFTERSALES_SMTP_URL`).
public struct Configuration: Sendable, Equatable, Codable {
    public var company = Company()
    public var links = Links()
    public var supervisor = Supervisor()
    public var departmentHead = DepartmentHead()
    public var support = Support()
    public var businessHours = BusinessHours()
    public var holidays = Holidays()
    public var marketing = Marketing()
    public var customs = Customs()
    public var rules = Rules()
    public var templates = Templates()
    public var documents = Documents()
    /// `import.*` (Config/ImportConfiguration.swift).
    public var importing = Import()
    public var transport = Transport()
    public var smtp = SMTP()
    public var send = Send()
    public var imap = IMAP()
    public var bounce = Bounce()
    var offerSection = OfferSection()

    /// The offer terms the templates quote (`offers.*`).
    public var offers: OfferTerms {
        get { offerSection.terms }
        set { offerSection.terms = newValue }
    }

    /// The SMTP password, from `AFTERSALES_SMTP_PASSWORD` or `smtp.password_file`; never stored or printed.
    public var smtpPassword: String?
    /// The IMAP password, from `AFTERSALES_IMAP_PASSWORD` or `imap.password_file`; never stored or printed.
    public var imapPassword: String?
    /// Every key with its value as text and where it came from, in the order of the reference.
    public var entries: [Entry] = []

    enum CodingKeys: String, CodingKey {
        case company, links, supervisor, departmentHead = "department_head", support, businessHours = "business_hours", holidays,
             marketing, customs, rules, templates, documents, importing = "import", transport, smtp, send, imap, bounce, offerSection = "offers"
    }

    /// The built-in defaults.
    public init() {}

    /// One key with its effective value and where that came from, for a listing (the password is never one).
    public struct Entry: Sendable, Equatable {
        /// The dotted key, `smtp.url`.
        public var key: String
        /// The value as text (a list comma-separated).
        public var value: String
        /// `default`, the file's path, or the environment variable.
        public var source: String
    }

    /// `company.*`
    public struct Company: Sendable, Equatable, Codable {
        /// The company's name: From display name, signatures.
        public var name = "Example Export Co."
        /// The From address of every mail.
        public var email = EmailAddress(unchecked: "aftersales@example.com")
        /// Domain for Message-IDs (empty: the domain of `email`).
        public var domain = ""
        /// The company's web site, shown in footers.
        public var website = "https://example.com"

        enum CodingKeys: String, CodingKey { case name, email, domain, website }
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.value(.name)
            email = try c.value(.email)
            domain = try c.value(.domain)
            website = try c.value(.website)
        }
    }

    /// `supervisor.*`: who receives complaint escalations.
    public struct Supervisor: Sendable, Equatable, Codable {
        public var name = "After-sales supervisor"
        /// Address of the supervisor (internal mail).
        public var email = EmailAddress(unchecked: "supervisor@example.com")

        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.value(.name)
            email = try c.value(.email)
        }
    }

    /// `department_head.*`
    public struct DepartmentHead: Sendable, Equatable, Codable {
        /// Name improvement commitments are signed with.
        public var name = "Head of Customer Service"
    }

    /// `support.*`: support hours in the support team's zone, converted to each buyer's zone in mails.
    public struct Support: Sendable, Equatable, Codable {
        public var hoursStart = TimeOfDay(minutes: 9 * 60)
        public var hoursEnd = TimeOfDay(minutes: 18 * 60)
        /// The support team's IANA time zone.
        public var timeZone = TimeZoneID(unchecked: "Asia/Shanghai")

        enum CodingKeys: String, CodingKey { case hoursStart = "hours_start", hoursEnd = "hours_end", timeZone = "time_zone" }
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            hoursStart = try c.value(.hoursStart)
            hoursEnd = try c.value(.hoursEnd)
            timeZone = try c.value(.timeZone)
        }
    }

    /// `business_hours.*`: the send window in the recipient's time zone.
    public struct BusinessHours: Sendable, Equatable, Codable {
        public var start = TimeOfDay(minutes: 9 * 60)
        public var end = TimeOfDay(minutes: 18 * 60)
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            start = try c.value(.start)
            end = try c.value(.end)
        }
    }

    /// `holidays.*`
    public struct Holidays: Sendable, Equatable, Codable {
        /// Extra non-working dates, `YYYY-MM-DD` (comma-separated in the environment).
        public var extra: [String] = []
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            extra = try c.decode([String].self, forKey: .extra).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for day in extra where day.count != 10 || (try? Timestamp.parse(day, field: "holidays.extra")) == nil {
                throw DecodingError.dataCorruptedError(forKey: .extra, in: c, debugDescription: "dates like 2026-12-24, comma-separated")
            }
        }
    }

    /// `marketing.*`: at most `capCount` marketing mails per customer in `capDays` days; the excess is postponed.
    public struct Marketing: Sendable, Equatable, Codable {
        public var capCount = 2
        public var capDays = 7
        enum CodingKeys: String, CodingKey { case capCount = "cap_count", capDays = "cap_days" }
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            capCount = try c.whole(.capCount)
            capDays = try c.whole(.capDays)
        }
    }

    /// `customs.*`
    public struct Customs: Sendable, Equatable, Codable {
        /// Customs notes go this many days before the ETA (or on arrival at customs, if earlier).
        public var daysBeforeETA = 3
        enum CodingKeys: String, CodingKey { case daysBeforeETA = "days_before_eta" }
        public init() {}
        public init(from decoder: any Decoder) throws {
            daysBeforeETA = try decoder.container(keyedBy: CodingKeys.self).whole(.daysBeforeETA)
        }
    }

    /// `rules.*`
    public struct Rules: Sendable, Equatable, Codable {
        /// Optional YAML file that changes timings, disables or adds rules (empty: none).
        public var file = ""
    }

    /// `templates.*`
    public struct Templates: Sendable, Equatable, Codable {
        /// Optional directory whose templates override the built-in ones (empty: none).
        public var dir = ""
    }

    /// `documents.*`
    public struct Documents: Sendable, Equatable, Codable {
        /// Files to attach (empty: none): `<dir>/<order id>/<document name>.pdf` for shipping mail,
        /// `<dir>/<SKU>/installation guide.pdf` for technical products.
        public var dir = ""
    }

    /// `transport.*`: how mail leaves.
    public struct Transport: Sendable, Equatable, Codable {
        public var kind = TransportKind.file
        /// Directory the file transport writes .eml files into.
        public var dir = "outbox-files"
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.value(.kind)
            dir = try c.value(.dir)
        }
    }

    /// How mail leaves: by SMTP, or as .eml files in `transport.dir`.
    public enum TransportKind: String, Sendable, Equatable, Codable, CaseIterable, ConfigurationValue {
        case smtp, file
    }

    /// `smtp.*`
    public struct SMTP: Sendable, Equatable, Codable {
        /// `smtp://host:port` or `smtps://host:port`.
        public var url = "smtp://127.0.0.1:25"
        /// starttls (required), tls (implicit), or none (loopback test servers only).
        public var tls = CurlSMTPTransport.Security.starttls
        /// SMTP AUTH user name (empty: none).
        public var user = ""
        /// File holding the SMTP password (first line; empty: none).
        public var passwordFile = ""
        /// File holding an XOAUTH2 bearer token, used instead of a password (empty: none).
        public var oauthTokenFile = ""
        /// CA bundle to verify the server's certificate (empty: the system's).
        public var caFile = ""
        /// Seconds to wait for a connection.
        public var connectTimeout = 10
        /// Seconds one message may take.
        public var timeout = 60
        /// Parallel SMTP connections, 1 to 64.
        public var connections = 1

        enum CodingKeys: String, CodingKey {
            case url, tls, user, passwordFile = "password_file", oauthTokenFile = "oauth_token_file", caFile = "ca_file",
                 connectTimeout = "connect_timeout", timeout, connections
        }
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.value(.url)
            guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                throw DecodingError.dataCorruptedError(forKey: .url, in: c, debugDescription: "smtp://host:port or smtps://host:port")
            }
            tls = try c.value(.tls)
            user = try c.value(.user)
            passwordFile = try c.value(.passwordFile)
            oauthTokenFile = try c.value(.oauthTokenFile)
            caFile = try c.value(.caFile)
            connectTimeout = try c.whole(.connectTimeout)
            timeout = try c.whole(.timeout)
            connections = try c.whole(.connections, in: 1...64, "1 to 64 connections")
        }
    }

    /// `send.*`
    public struct Send: Sendable, Equatable, Codable {
        /// At most this many messages a minute (0: no limit).
        public var perMinute = 0
        /// Mails rendered and claimed per transaction while sending, 1 to 1000 (1: each alone). A killed
        /// run's claims are settled by its journal (``SendJournal``): only mail in flight is left in doubt.
        public var batch = 50
        /// At most this many messages a run (0: no limit).
        public var perRun = 0
        /// What happens to each stream's in-doubt mail (`send.in_doubt.<stream>`): resent once for
        /// transactional and internal mail, held for a person for marketing.
        public var inDoubt: [MailStream: InDoubtPolicy] = [.transactional: .resend, .marketing: .hold, .internal: .resend]
        /// How long after its claim an in-doubt mail is resent by a `resend` policy, in seconds (`send.in_doubt_after`, 15m).
        public var inDoubtAfter = 900

        /// The policy of `stream`'s in-doubt mail.
        public func inDoubtPolicy(_ stream: MailStream) -> InDoubtPolicy { inDoubt[stream] ?? .hold }

        // The per-stream keys are flat in the section (`in_doubt.transactional`), as the loader nests two levels.
        enum CodingKeys: String, CodingKey {
            case perMinute = "per_minute", batch, perRun = "per_run", inDoubtAfter = "in_doubt_after"
            case transactional = "in_doubt.transactional", marketing = "in_doubt.marketing", `internal` = "in_doubt.internal"
            static func policy(_ stream: MailStream) -> CodingKeys {
                switch stream {
                case .transactional: return .transactional
                case .marketing: return .marketing
                case .internal: return .internal
                }
            }
        }
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            perMinute = try c.whole(.perMinute)
            batch = try c.whole(.batch, in: 1...1000, "1 to 1000 mails")
            perRun = try c.whole(.perRun)
            for stream in MailStream.allCases { inDoubt[stream] = try c.value(CodingKeys.policy(stream)) }
            let after = try c.decode(String.self, forKey: .inDoubtAfter)
            guard let seconds = try? DurationText.parse(after, field: "send.in_doubt_after"), seconds >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .inDoubtAfter, in: c, debugDescription: "a duration like 15m, 1h or 0s")
            }
            inDoubtAfter = seconds
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(perMinute, forKey: .perMinute)
            try c.encode(batch, forKey: .batch)
            try c.encode(perRun, forKey: .perRun)
            try c.encode(DurationText.format(inDoubtAfter), forKey: .inDoubtAfter)
            for stream in MailStream.allCases { try c.encode(inDoubtPolicy(stream).rawValue, forKey: CodingKeys.policy(stream)) }
        }
    }

    /// `offers.*`, decoded into ``OfferTerms``.
    struct OfferSection: Sendable, Equatable, Codable {
        var terms = OfferTerms()

        enum CodingKeys: String, CodingKey {
            case logisticsCouponAmount = "logistics_coupon_amount", logisticsCouponMonths = "logistics_coupon_months",
                 surveyCouponPercent = "survey_coupon_percent", tradeInPercent = "trade_in_percent",
                 reviewCouponPercent = "review_coupon_percent", reviewCouponDays = "review_coupon_days", returnsDays = "returns_days"
        }
        init() {}
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let percent = 0...100
            terms = OfferTerms(logisticsCouponAmount: try c.whole(.logisticsCouponAmount),
                               logisticsCouponMonths: try c.whole(.logisticsCouponMonths),
                               surveyCouponPercent: try c.whole(.surveyCouponPercent, in: percent, "0 to 100 percent"),
                               tradeInPercent: try c.whole(.tradeInPercent, in: percent, "0 to 100 percent"),
                               reviewCouponPercent: try c.whole(.reviewCouponPercent, in: percent, "0 to 100 percent"),
                               reviewCouponDays: try c.whole(.reviewCouponDays),
                               returnsDays: try c.whole(.returnsDays))
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(terms.logisticsCouponAmount, forKey: .logisticsCouponAmount)
            try c.encode(terms.logisticsCouponMonths, forKey: .logisticsCouponMonths)
            try c.encode(terms.surveyCouponPercent, forKey: .surveyCouponPercent)
            try c.encode(terms.tradeInPercent, forKey: .tradeInPercent)
            try c.encode(terms.reviewCouponPercent, forKey: .reviewCouponPercent)
            try c.encode(terms.reviewCouponDays, forKey: .reviewCouponDays)
            try c.encode(terms.returnsDays, forKey: .returnsDays)
        }
    }

    /// The domain used in Message-IDs.
    public var messageDomain: String {
        if !company.domain.isEmpty { return company.domain }
        return String(company.email.value.split(separator: "@").last ?? "localhost")
    }

    /// The built-in defaults with `default` as every key's source.
    public static var defaults: Configuration {
        // Defaults always decode.
        (try? load(path: nil, environment: [:])) ?? Configuration()
    }

    /// The environment variable that overrides `key`: `smtp.url` → `AFTERSALES_SMTP_URL`.
    public static func environmentName(_ key: String) -> String {
        "AFTERSALES_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Minutes after midnight of `HH:MM`, or nil.
    public static func minutes(_ text: String) -> Int? { TimeOfDay(text)?.minutes }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}

extension Configuration: CustomReflectable {
    /// Every section but the password, so that a printed or dumped configuration never shows it.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "company": company, "links": links, "supervisor": supervisor, "departmentHead": departmentHead, "support": support,
            "businessHours": businessHours, "holidays": holidays, "marketing": marketing, "customs": customs, "rules": rules,
            "templates": templates, "documents": documents, "import": importing, "transport": transport, "smtp": smtp, "send": send, "imap": imap, "bounce": bounce, "offers": offers,
            "smtpPassword": smtpPassword == nil ? "none" : "(set)", "imapPassword": imapPassword == nil ? "none" : "(set)",
        ])
    }
}

/// A time of day, `HH:MM` from 00:00 to 24:00.
public struct TimeOfDay: Sendable, Hashable, Codable, CustomStringConvertible, ConfigurationValue {
    /// Minutes after midnight.
    public var minutes: Int

    public init(minutes: Int) { self.minutes = minutes }

    /// `HH:MM`, or nil.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0...59).contains(m),
              h * 60 + m <= 24 * 60 else { return nil }
        minutes = h * 60 + m
    }

    /// `HH:MM`.
    public var text: String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }
    public var description: String { text }

    init(configuration text: String) throws(ConfigurationProblem) {
        guard let value = TimeOfDay(text) else { throw ConfigurationProblem(expected: "a time of day like 09:00") }
        self = value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = TimeOfDay(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a time of day like 09:00")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// What a configuration value should have been.
struct ConfigurationProblem: Error {
    var expected: String
}

/// A value of one configuration key, read from its text (the YAML scalar or the environment variable).
protocol ConfigurationValue {
    init(configuration text: String) throws(ConfigurationProblem)
}

extension String: ConfigurationValue {
    init(configuration text: String) { self = text }
}

extension EmailAddress: ConfigurationValue {
    init(configuration text: String) throws(ConfigurationProblem) {
        do { try self.init(text) } catch { throw ConfigurationProblem(expected: "an email address") }
    }
}

extension TimeZoneID: ConfigurationValue {
    init(configuration text: String) throws(ConfigurationProblem) {
        do { try self.init(text) } catch { throw ConfigurationProblem(expected: "an IANA time zone like Asia/Shanghai") }
    }
}

extension InDoubtPolicy: ConfigurationValue {}

extension CurlSMTPTransport.Security: Codable, CaseIterable, ConfigurationValue {
    public static let allCases: [Self] = [.starttls, .tls, .none]
}

extension ConfigurationValue where Self: RawRepresentable<String> & CaseIterable {
    init(configuration text: String) throws(ConfigurationProblem) {
        guard let value = Self(rawValue: text) else {
            let names = Self.allCases.map(\.rawValue)
            throw ConfigurationProblem(expected: names.dropLast().joined(separator: ", ") + " or " + (names.last ?? ""))
        }
        self = value
    }
}

extension KeyedDecodingContainer {
    /// The value of `key`, read from its text.
    func value<T: ConfigurationValue>(_ key: Key) throws -> T {
        do { return try T(configuration: try decode(String.self, forKey: key)) } catch let problem as ConfigurationProblem {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: problem.expected)
        }
    }

    /// A whole number written in decimal digits (not YAML's `0x10`, `010` or `1_000`), within `range`.
    func whole(_ key: Key, in range: ClosedRange<Int> = 0...Int.max, _ expected: String = "a whole number, 0 or more") throws -> Int {
        guard let n = Int(try decode(String.self, forKey: key)), range.contains(n) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: expected)
        }
        return n
    }
}
