import AftersalesDomain
import Foundation

/// Working days, hours and holidays of a recipient's market, from Foundation's calendars:
/// Ramadan and Eid from the Islamic (Umm al-Qura) calendar, Chinese New Year from the Chinese
/// calendar, fixed-date holidays, and extra dates from configuration.
public struct MarketCalendar: Sendable, Hashable {
    /// Business hours as minutes after local midnight.
    public var opens: Int
    public var closes: Int
    /// Extra non-working dates (`YYYY-MM-DD`), in every market.
    public var extraHolidays: Set<String>

    public init(opens: Int = 9 * 60, closes: Int = 18 * 60, extraHolidays: Set<String> = []) {
        self.opens = opens
        self.closes = closes
        self.extraHolidays = extraHolidays
    }

    /// Countries whose weekend is Friday and Saturday.
    static let fridaySaturday: Set<String> = ["SA", "KW", "QA", "BH", "OM", "EG", "JO", "IQ", "DZ", "LY", "SD", "SY", "YE", "IL", "BD", "MV"]
    /// Countries with a Friday-only weekend.
    static let fridayOnly: Set<String> = ["IR", "AF"]
    /// Muslim-majority markets: Eid holidays, shorter hours in Ramadan, Ramadan as peak season.
    static let muslimMarkets: Set<String> = ["SA", "AE", "KW", "QA", "BH", "OM", "EG", "JO", "IQ", "DZ", "LY", "MA", "TN", "SD", "SY", "YE",
                                             "TR", "IR", "PK", "BD", "ID", "MY", "AF", "MV", "SN", "ML", "NE", "SO", "AZ", "UZ", "KZ"]
    /// Markets that keep Chinese New Year.
    static let lunarNewYearMarkets: Set<String> = ["CN", "TW", "HK", "MO", "SG", "VN", "KR"]
    /// Markets where Christmas is a public holiday (Europe, the Americas, much of Africa and Oceania).
    static let nonChristmasMarkets: Set<String> = muslimMarkets.union(["CN", "TW", "JP", "TH", "VN", "KR", "MO", "IL", "MN", "NP", "LA", "KH", "MM", "BT"])
        .subtracting(["EG", "SY", "JO", "ID", "MY", "KZ", "PK", "BD"])

    /// The market's weekend days (Gregorian weekday numbers, 1 = Sunday).
    public static func weekend(_ country: String) -> Set<Int> {
        if fridaySaturday.contains(country) { return [6, 7] }
        if fridayOnly.contains(country) { return [6] }
        return [1, 7]
    }

    /// A public holiday on this local date in this market, if any (by name).
    public func holiday(on components: DateComponents, date: Date, country: String, zone: TimeZone) -> String? {
        guard let month = components.month, let day = components.day, let year = components.year else { return nil }
        let iso = String(format: "%04d-%02d-%02d", year, month, day)
        if extraHolidays.contains(iso) { return "company holiday \(iso)" }
        if month == 1 && day == 1 { return "New Year's Day" }
        if !Self.nonChristmasMarkets.contains(country), month == 12, day == 25 { return "Christmas Day" }
        if Self.muslimMarkets.contains(country) {
            var islamic = Calendar(identifier: .islamicUmmAlQura)
            islamic.timeZone = zone
            let h = islamic.dateComponents([.month, .day], from: date)
            if h.month == 10, let d = h.day, d <= 3 { return "Eid al-Fitr" }
            if h.month == 12, let d = h.day, (10...12).contains(d) { return "Eid al-Adha" }
        }
        if Self.lunarNewYearMarkets.contains(country) {
            var chinese = Calendar(identifier: .chinese)
            chinese.timeZone = zone
            let c = chinese.dateComponents([.month, .day], from: date)
            let length = country == "CN" ? 7 : 3
            if c.month == 1, let d = c.day, d <= length { return "Chinese New Year" }
            // New Year's Eve (the last day of the 12th month).
            if c.month == 12, country == "CN", let next = chinese.date(byAdding: .day, value: 1, to: date),
               chinese.dateComponents([.month], from: next).month == 1 { return "Chinese New Year's Eve" }
        }
        return nil
    }

    /// Whether `date` falls in Ramadan in `zone`.
    public static func isRamadan(_ date: Date, zone: TimeZone) -> Bool {
        var islamic = Calendar(identifier: .islamicUmmAlQura)
        islamic.timeZone = zone
        return islamic.component(.month, from: date) == 9
    }

    /// The first instant at or after `date` inside business hours in the recipient's market,
    /// with the reasons for every move (weekend, holiday, outside hours, Ramadan hours).
    public func nextOpening(at date: Date, zone: TimeZone, country: String) -> (Date, [String]) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let weekend = Self.weekend(country)
        var reasons: [String] = []
        var candidate = date
        for _ in 0..<120 {
            let c = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute], from: candidate)
            let startOfDay = calendar.startOfDay(for: candidate)
            guard let nextDay = calendar.date(byAdding: .day, value: 1, to: startOfDay) else { break }
            let localDay = String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
            if let weekday = c.weekday, weekend.contains(weekday) {
                reasons.append("\(localDay) is a weekend day in \(country)")
                candidate = nextDay
                continue
            }
            if let name = holiday(on: c, date: candidate, country: country, zone: zone) {
                reasons.append("\(localDay) is a holiday in \(country) (\(name))")
                candidate = nextDay
                continue
            }
            var open = opens, close = closes
            if Self.muslimMarkets.contains(country), Self.isRamadan(candidate, zone: zone) {
                open = max(open, 10 * 60)
                close = min(close, 15 * 60)
            }
            let minute = (c.hour ?? 0) * 60 + (c.minute ?? 0)
            if minute < open {
                let opening = calendar.date(bySettingHour: open / 60, minute: open % 60, second: 0, of: candidate) ?? candidate
                reasons.append("before business hours (\(Self.clock(open)) local\(open != opens ? ", Ramadan hours" : ""))")
                return (opening, reasons)
            }
            if minute >= close {
                reasons.append("after business hours (\(Self.clock(close)) local\(close != closes ? ", Ramadan hours" : ""))")
                candidate = nextDay
                continue
            }
            return (candidate, reasons)
        }
        return (candidate, reasons)
    }

    static func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }

    /// The market's peak holidays starting in `year` (local start dates), for `peak-season`.
    public static func peakHolidays(country: String, year: Int, zone: TimeZone) -> [(id: String, name: String, start: Date)] {
        var result: [(String, String, Date)] = []
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = zone
        if muslimMarkets.contains(country) {
            var islamic = Calendar(identifier: .islamicUmmAlQura)
            islamic.timeZone = zone
            if let jan1 = gregorian.date(from: DateComponents(year: year, month: 1, day: 1)),
               let start = islamic.nextDate(after: jan1.addingTimeInterval(-1), matching: DateComponents(month: 9, day: 1), matchingPolicy: .strict),
               gregorian.component(.year, from: start) == year {
                result.append(("ramadan-\(year)", "Ramadan", start))
            }
        }
        if lunarNewYearMarkets.contains(country) {
            var chinese = Calendar(identifier: .chinese)
            chinese.timeZone = zone
            if let jan1 = gregorian.date(from: DateComponents(year: year, month: 1, day: 1)),
               let start = chinese.nextDate(after: jan1.addingTimeInterval(-1), matching: DateComponents(month: 1, day: 1), matchingPolicy: .strict),
               gregorian.component(.year, from: start) == year {
                result.append(("chinese-new-year-\(year)", "Chinese New Year", start))
            }
        }
        if !nonChristmasMarkets.contains(country), let christmas = gregorian.date(from: DateComponents(year: year, month: 12, day: 25)) {
            result.append(("christmas-\(year)", "Christmas", christmas))
        }
        return result
    }
}
