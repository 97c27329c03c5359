import Foundation

/// The person at the buyer's company that after-sales mail is written to.
public struct AccountManager: Sendable, Hashable, Codable {
    public var name: String
    public var email: EmailAddress
    public init(name: String, email: EmailAddress) {
        self.name = name
        self.email = email
    }
}

/// A buyer: who they are, how to reach them, in which language and time zone.
public struct Customer: Sendable, Hashable, Codable, Identifiable {
    /// The external id (from the company's ERP or CRM).
    public var id: String
    /// The contact person's name, used in greetings.
    public var name: String
    public var company: String?
    public var email: EmailAddress
    /// Extra addresses copied on every mail (purchasing, logistics).
    public var cc: [EmailAddress]
    public var locale: LocaleTag
    public var timeZone: TimeZoneID
    public var country: CountryCode
    public var industry: String?
    /// Our account manager for this customer: Reply-To of their mail, told of detractors.
    public var manager: AccountManager?
    /// Whether the customer agreed to marketing mail, and when.
    public var consent: Bool
    public var consentAt: Date?
    /// When the customer unsubscribed from marketing mail; `nil` while subscribed.
    public var unsubscribedAt: Date?
    public var createdAt: Date

    public init(id: String, name: String, company: String? = nil, email: EmailAddress, cc: [EmailAddress] = [],
                locale: LocaleTag, timeZone: TimeZoneID, country: CountryCode, industry: String? = nil,
                manager: AccountManager? = nil, consent: Bool = false, consentAt: Date? = nil,
                unsubscribedAt: Date? = nil, createdAt: Date) {
        self.id = id
        self.name = name
        self.company = company
        self.email = email
        self.cc = cc
        self.locale = locale
        self.timeZone = timeZone
        self.country = country
        self.industry = industry
        self.manager = manager
        self.consent = consent
        self.consentAt = consentAt
        self.unsubscribedAt = unsubscribedAt
        self.createdAt = createdAt
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case id, name, company, email, cc, locale, timeZone, country, industry, manager, consent, consentAt, unsubscribedAt, createdAt
    }

    /// Encodes every field, absent ones as `null`, so that `customer show --json` shows them all.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(company, forKey: .company)
        try c.encode(email, forKey: .email)
        try c.encode(cc, forKey: .cc)
        try c.encode(locale, forKey: .locale)
        try c.encode(timeZone, forKey: .timeZone)
        try c.encode(country, forKey: .country)
        try c.encode(industry, forKey: .industry)
        try c.encode(manager, forKey: .manager)
        try c.encode(consent, forKey: .consent)
        try c.encode(consentAt, forKey: .consentAt)
        try c.encode(unsubscribedAt, forKey: .unsubscribedAt)
        try c.encode(createdAt, forKey: .createdAt)
    }

    /// Whether marketing mail may be planned for this customer.
    public var acceptsMarketing: Bool { consent && unsubscribedAt == nil }
}

/// The fields a `customer add` or `customer update` gives; `nil` leaves a field as it is.
public struct CustomerChanges: Sendable, Equatable {
    public var name: String?
    public var company: String?
    public var email: String?
    public var cc: [String]?
    public var locale: String?
    public var timeZone: String?
    public var country: String?
    public var industry: String?
    public var managerName: String?
    public var managerEmail: String?
    public var consent: Bool?

    public init(name: String? = nil, company: String? = nil, email: String? = nil, cc: [String]? = nil,
                locale: String? = nil, timeZone: String? = nil, country: String? = nil, industry: String? = nil,
                managerName: String? = nil, managerEmail: String? = nil, consent: Bool? = nil) {
        self.name = name
        self.company = company
        self.email = email
        self.cc = cc
        self.locale = locale
        self.timeZone = timeZone
        self.country = country
        self.industry = industry
        self.managerName = managerName
        self.managerEmail = managerEmail
        self.consent = consent
    }

    /// A new, validated customer from these fields; name, email, locale, time zone and country are required.
    public func makeCustomer(id: String, at now: Date) throws(InvalidInput) -> Customer {
        func need(_ value: String?, _ field: String) throws(InvalidInput) -> String {
            guard let value else { throw InvalidInput(field: field, value: "", problem: "is required for a new customer") }
            return value
        }
        let base = Customer(id: try Text.identifier(id, field: "id"), name: "-",
                            email: try EmailAddress(need(email, "email")), locale: try LocaleTag(need(locale, "locale")),
                            timeZone: try TimeZoneID(need(timeZone, "timezone")), country: try CountryCode(need(country, "country")),
                            createdAt: now)
        var changes = self
        changes.name = try need(name, "name")
        return try changes.apply(to: base, at: now)
    }

    /// `customer` with these changes applied, every changed field validated.
    public func apply(to customer: Customer, at now: Date) throws(InvalidInput) -> Customer {
        var c = customer
        if let name { c.name = try Text.line(name, field: "name") }
        if let company { c.company = company.isEmpty ? nil : try Text.line(company, field: "company") }
        if let email { c.email = try EmailAddress(email, field: "email") }
        if let cc {
            var list: [EmailAddress] = []
            for raw in cc { list.append(try EmailAddress(raw, field: "cc")) }
            c.cc = list
        }
        if let locale { c.locale = try LocaleTag(locale) }
        if let timeZone { c.timeZone = try TimeZoneID(timeZone) }
        if let country { c.country = try CountryCode(country) }
        if let industry { c.industry = industry.isEmpty ? nil : try Text.line(industry, field: "industry") }
        switch (managerName, managerEmail) {
        case (nil, nil): break
        case let (name?, email?):
            c.manager = AccountManager(name: try Text.line(name, field: "manager-name"),
                                       email: try EmailAddress(email, field: "manager-email"))
        case let (nil, email?):
            guard let existing = c.manager else {
                throw InvalidInput(field: "manager-email", value: email, problem: "needs --manager-name too")
            }
            c.manager = AccountManager(name: existing.name, email: try EmailAddress(email, field: "manager-email"))
        case let (name?, nil):
            guard let existing = c.manager else {
                throw InvalidInput(field: "manager-name", value: name, problem: "needs --manager-email too")
            }
            c.manager = AccountManager(name: try Text.line(name, field: "manager-name"), email: existing.email)
        }
        if let consent, consent != c.consent || (consent && c.unsubscribedAt != nil) {
            c.consent = consent
            c.consentAt = now
            if consent { c.unsubscribedAt = nil }
        }
        return c
    }
}
