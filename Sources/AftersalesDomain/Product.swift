import Foundation

/// A product's maintenance plan: how often, and what to do.
public struct MaintenancePlan: Sendable, Hashable, Codable {
    public var intervalDays: Int
    public var text: String
    public init(intervalDays: Int, text: String) {
        self.intervalDays = intervalDays
        self.text = text
    }
}

/// A product the company sells.
public struct Product: Sendable, Hashable, Codable, Identifiable {
    public var sku: String
    public var name: String
    /// Technical products get the installation guide and FAQ with the inspection guide.
    public var technical: Bool
    public var maintenance: MaintenancePlan?
    /// How many days a customer usually takes to re-order it.
    public var cycleDays: Int?
    public var manualURL: String?
    public var videoURL: String?
    public var partsURL: String?
    /// The model that succeeds this one, once announced, and the offer made to owners.
    public var successorSKU: String?
    public var successorOffer: String?
    public var succeededAt: Date?
    /// The name in other languages, by locale tag (`es`, `zh-Hans`): mail in that language uses it.
    public var localizedNames: [String: String]?

    public var id: String { sku }

    /// The name for mail in `locale`: its own tag's, else its language's, else ``name``.
    public func name(in locale: String) -> String {
        guard let names = localizedNames, !names.isEmpty else { return name }
        if let exact = names[locale] { return exact }
        let language = String(locale.split(separator: "-").first ?? "")
        return names[language] ?? name
    }

    public init(sku: String, name: String, technical: Bool = false, maintenance: MaintenancePlan? = nil,
                cycleDays: Int? = nil, manualURL: String? = nil, videoURL: String? = nil, partsURL: String? = nil,
                successorSKU: String? = nil, successorOffer: String? = nil, succeededAt: Date? = nil, localizedNames: [String: String]? = nil) {
        self.sku = sku
        self.name = name
        self.technical = technical
        self.maintenance = maintenance
        self.cycleDays = cycleDays
        self.manualURL = manualURL
        self.videoURL = videoURL
        self.partsURL = partsURL
        self.successorSKU = successorSKU
        self.successorOffer = successorOffer
        self.succeededAt = succeededAt
        self.localizedNames = localizedNames
    }

    /// The stored and encoded names of the fields (the store's `Columns` are made from them).
    public enum CodingKeys: String, CodingKey {
        case sku, name, technical, maintenance, cycleDays, manualURL, videoURL, partsURL, successorSKU, successorOffer, succeededAt, localizedNames
    }
}

/// The fields a `product add` or `product update` gives; `nil` leaves a field as it is.
public struct ProductChanges: Sendable, Equatable {
    public var name: String?
    public var technical: Bool?
    public var maintenanceDays: Int?
    public var maintenanceText: String?
    public var cycleDays: Int?
    public var manualURL: String?
    public var videoURL: String?
    public var partsURL: String?
    /// Names in other languages by locale tag, merged into the stored ones (`import products` reads `name.LOCALE` columns).
    public var localizedNames: [String: String]?

    public init(name: String? = nil, technical: Bool? = nil, maintenanceDays: Int? = nil, maintenanceText: String? = nil,
                cycleDays: Int? = nil, manualURL: String? = nil, videoURL: String? = nil, partsURL: String? = nil,
                localizedNames: [String: String]? = nil) {
        self.name = name
        self.technical = technical
        self.maintenanceDays = maintenanceDays
        self.maintenanceText = maintenanceText
        self.cycleDays = cycleDays
        self.manualURL = manualURL
        self.videoURL = videoURL
        self.partsURL = partsURL
        self.localizedNames = localizedNames
    }

    public func makeProduct(sku: String) throws(InvalidInput) -> Product {
        guard let name else { throw InvalidInput(field: "name", value: "", problem: "is required for a new product") }
        var changes = self
        changes.name = name
        return try changes.apply(to: Product(sku: try Text.identifier(sku, field: "sku"), name: "-"))
    }

    public func apply(to product: Product) throws(InvalidInput) -> Product {
        var p = product
        if let name { p.name = try Text.line(name, field: "name") }
        if let technical { p.technical = technical }
        switch (maintenanceDays, maintenanceText) {
        case (nil, nil): break
        case let (days?, text?):
            guard (1...3650).contains(days) else {
                throw InvalidInput(field: "maintenance-days", value: String(days), problem: "expected a number of days from 1 to 3650")
            }
            p.maintenance = MaintenancePlan(intervalDays: days, text: try Text.required(text, field: "maintenance-text", limit: 2000))
        case let (days?, nil):
            throw InvalidInput(field: "maintenance-days", value: String(days), problem: "needs --maintenance-text describing the plan")
        case let (nil, text?):
            throw InvalidInput(field: "maintenance-text", value: text, problem: "needs --maintenance-days giving the interval")
        }
        if let cycleDays {
            guard (1...3650).contains(cycleDays) else {
                throw InvalidInput(field: "cycle-days", value: String(cycleDays), problem: "expected a number of days from 1 to 3650")
            }
            p.cycleDays = cycleDays
        }
        if let manualURL { p.manualURL = try Text.url(manualURL, field: "manual-url") }
        if let videoURL { p.videoURL = try Text.url(videoURL, field: "video-url") }
        if let partsURL { p.partsURL = try Text.url(partsURL, field: "parts-url") }
        if let localizedNames, !localizedNames.isEmpty {
            var names = p.localizedNames ?? [:]
            for (tag, name) in localizedNames {
                let locale = try LocaleTag(tag, field: "name.\(tag)")
                names[locale.value] = try Text.line(name, field: "name.\(tag)")
            }
            p.localizedNames = names
        }
        return p
    }
}
