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
        if fridaySaturday.contains(country) { return fridaySaturdayWeekend }
        if fridayOnly.contains(country) { return fridayWeekend }
        return saturdaySundayWeekend
    }

    static let fridaySaturdayWeekend: Set<Int> = [6, 7], fridayWeekend: Set<Int> = [6], saturdaySundayWeekend: Set<Int> = [1, 7]

    /// The market's holidays and Ramadan days of one year, by local date (``dayKey(_:_:_:)``), computed
    /// once from Foundation's Islamic (Umm al-Qura) and Chinese calendars and cached.
    struct Year: Sendable, Equatable {
        var holidays: [Int: String] = [:]
        var ramadan: Set<Int> = []
    }

    /// A local date as the key of the holiday tables: 20261124 for 24 November 2026 (a number, where a
    /// `yyyy-MM-dd` text made for every day `nextOpening` looked at was 1% of a full plan's instructions).
    static func dayKey(_ year: Int, _ month: Int, _ day: Int) -> Int { (year * 100 + month) * 100 + day }

    /// Whether the market has holidays and hours of its own (else its year tables are empty).
    static func hasOwnYear(_ country: String) -> Bool { muslimMarkets.contains(country) || lunarNewYearMarkets.contains(country) }

    /// A market's year in a zone: the key of the holiday tables (a struct, not a string made per lookup).
    struct YearKey: Hashable, Sendable {
        var country: String
        var year: Int
        var zone: String
    }

    static let cache = Memo<YearKey, Year>()

    static func year(_ year: Int, country: String, zone: TimeZone) -> Year {
        // Only Muslim and lunar-new-year markets have holidays and hours of their own: the rest skip the cache.
        guard hasOwnYear(country) else { return Year() }
        return cache.value(YearKey(country: country, year: year, zone: zone.identifier)) { computeYear(year, country: country, zone: zone) }
    }

    /// The holidays and Ramadan days of `year`, from the dates the Islamic and Chinese calendars give
    /// for the start of each (a few calendar look-ups, where asking for every day of the year took
    /// hundreds; a test compares both ways).
    static func computeYear(_ year: Int, country: String, zone: TimeZone) -> Year {
        var result = Year()
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = zone
        guard let first = gregorian.date(from: DateComponents(year: year, month: 1, day: 1, hour: 12)),
              let last = gregorian.date(from: DateComponents(year: year, month: 12, day: 31, hour: 12)) else { return result }
        // `count` local days from `noon` (a time of day that daylight saving cannot push into another day), those in `year`.
        func days(from noon: Date, count: Int) -> [Int] {
            (0..<max(count, 0)).compactMap { offset in
                guard let date = gregorian.date(byAdding: .day, value: offset, to: noon) else { return nil }
                let c = gregorian.dateComponents([.year, .month, .day], from: date)
                guard c.year == year, let month = c.month, let day = c.day else { return nil }
                return dayKey(year, month, day)
            }
        }
        if muslimMarkets.contains(country) {
            var islamic = Calendar(identifier: .islamicUmmAlQura)
            islamic.timeZone = zone
            for hijri in islamic.component(.year, from: first)...islamic.component(.year, from: last) {
                func noon(_ month: Int, _ day: Int) -> Date? { islamic.date(from: DateComponents(year: hijri, month: month, day: day, hour: 12)) }
                if let ramadan = noon(9, 1), let shawwal = noon(10, 1) {
                    days(from: ramadan, count: Int((shawwal.timeIntervalSince(ramadan) / 86_400).rounded())).forEach { result.ramadan.insert($0) }
                    days(from: shawwal, count: 3).forEach { result.holidays[$0] = "Eid al-Fitr" }
                }
                if let adha = noon(12, 10) { days(from: adha, count: 3).forEach { result.holidays[$0] = "Eid al-Adha" } }
            }
        }
        if lunarNewYearMarkets.contains(country) {
            var chinese = Calendar(identifier: .chinese)
            chinese.timeZone = zone
            // Chinese New Year falls between 21 January and 20 February: its days and its eve are in `year`.
            if let jan1 = gregorian.date(from: DateComponents(year: year, month: 1, day: 1)),
               let start = chinese.nextDate(after: jan1.addingTimeInterval(-1), matching: DateComponents(month: 1, day: 1), matchingPolicy: .strict),
               let noon = gregorian.date(bySettingHour: 12, minute: 0, second: 0, of: start) {
                days(from: noon, count: country == "CN" ? 7 : 3).forEach { result.holidays[$0] = "Chinese New Year" }
                if country == "CN" { days(from: noon.addingTimeInterval(-86_400), count: 1).forEach { result.holidays[$0] = "Chinese New Year's Eve" } }
            }
        }
        return result
    }

    /// A public holiday on this local date in this market, if any (by name).
    public func holiday(year: Int, month: Int, day: Int, country: String, zone: TimeZone) -> String? {
        holiday(year: year, month: month, day: day, country: country, tables: Self.year(year, country: country, zone: zone))
    }

    /// ``holiday(year:month:day:country:zone:)`` with the market's tables of that year at hand.
    func holiday(year: Int, month: Int, day: Int, country: String, tables: Year) -> String? {
        if !extraHolidays.isEmpty {
            let iso = Timestamp.day(year, month, day)
            if extraHolidays.contains(iso) { return "company holiday \(iso)" }
        }
        if month == 1 && day == 1 { return "New Year's Day" }
        if !Self.nonChristmasMarkets.contains(country), month == 12, day == 25 { return "Christmas Day" }
        return tables.holidays.isEmpty ? nil : tables.holidays[Self.dayKey(year, month, day)]
    }

    /// Whether `date` falls in Ramadan in `zone`.
    public static func isRamadan(_ date: Date, zone: TimeZone, country: String = "SA") -> Bool {
        let f = Timestamp.calendar(zone).dateComponents([.year, .month, .day], from: date)
        guard let y = f.year, let m = f.month, let d = f.day else { return false }
        return year(y, country: muslimMarkets.contains(country) ? country : "SA", zone: zone).ramadan.contains(dayKey(y, m, d))
    }

    /// What `nextOpening` reads of each day it looks at (made once: a set made per call was 1% of a full plan's instructions).
    static let localFields: Set<Calendar.Component> = [.year, .month, .day, .hour, .minute, .weekday]

    /// How many days `nextOpening` looks ahead.
    static let searchDays = 120

    /// The most `nextOpening` can move a time: each day it looks at moves it to the next local
    /// midnight at most (a day, or 25 hours on a daylight-saving day), with a day to spare.
    public static let maxMove: TimeInterval = Double(searchDays + 1) * 25 * 3600 + 86_400

    /// The first instant at or after `date` inside business hours in the recipient's market,
    /// with the reasons for every move (weekend, holiday, outside hours, Ramadan hours).
    public func nextOpening(at date: Date, zone: TimeZone, country: String) -> (Date, [String]) {
        nextOpening(at: date, zone: zone, country: country, explain: true)
    }

    /// ``nextOpening(at:zone:country:)`` without its reasons, for deciding what to leave out.
    public func opening(at date: Date, zone: TimeZone, country: String) -> Date {
        nextOpening(at: date, zone: zone, country: country, explain: false).0
    }

    /// The opening, with the reasons for every move only when `explain`.
    func nextOpening(at date: Date, zone: TimeZone, country: String, explain: Bool) -> (Date, [String]) {
        let weekend = Self.weekend(country)
        let muslim = Self.muslimMarkets.contains(country), ownYear = Self.hasOwnYear(country)
        var reasons: [String] = []
        var candidate = date
        let calendar = Timestamp.calendar(zone)
        // The market's tables of the year the candidate is in, looked up once per year the search crosses.
        var tables: (year: Int, days: Year) = (0, Year())
        for _ in 0..<Self.searchDays {
            let c = calendar.dateComponents(Self.localFields, from: candidate)
            let f = (year: c.year ?? 0, month: c.month ?? 0, day: c.day ?? 0, hour: c.hour ?? 0, minute: c.minute ?? 0)
            let weekday = c.weekday ?? 0
            // (Worked out only when the day is skipped.) The next local midnight, or the first instant
            // of that day where daylight saving skips midnight.
            var nextDay: Date { Timestamp.instant(year: f.year, month: f.month, day: f.day, minutes: 24 * 60, calendar: calendar) }
            var localDay: String { Timestamp.day(f.year, f.month, f.day) }
            if weekend.contains(weekday) {
                if explain { reasons.append("\(localDay) is a weekend day in \(country)") }
                candidate = nextDay
                continue
            }
            if ownYear, tables.year != f.year { tables = (f.year, Self.year(f.year, country: country, zone: zone)) }
            if let name = holiday(year: f.year, month: f.month, day: f.day, country: country, tables: tables.days) {
                if explain { reasons.append("\(localDay) is a holiday in \(country) (\(name))") }
                candidate = nextDay
                continue
            }
            var open = opens, close = closes
            if muslim, tables.days.ramadan.contains(Self.dayKey(f.year, f.month, f.day)) {
                open = max(open, 10 * 60)
                close = min(close, 15 * 60)
            }
            let minute = f.hour * 60 + f.minute
            if minute < open {
                if explain { reasons.append("before business hours (\(Self.clock(open)) local\(open != opens ? ", Ramadan hours" : ""))") }
                return (Timestamp.instant(year: f.year, month: f.month, day: f.day, minutes: open, calendar: calendar), reasons)
            }
            if minute >= close {
                if explain { reasons.append("after business hours (\(Self.clock(close)) local\(close != closes ? ", Ramadan hours" : ""))") }
                candidate = nextDay
                continue
            }
            return (candidate, reasons)
        }
        return (candidate, reasons)
    }

    /// `09:00` for 540 minutes after midnight, for the reasons of a move. Business hours are a few
    /// values, so each is formatted once.
    static func clock(_ minutes: Int) -> String {
        clocks.value(minutes) {
            Duration.seconds(minutes * 60).formatted(.time(pattern: .hourMinute(padHourToLength: 2)).locale(Locale(identifier: "en_US_POSIX")))
        }
    }

    static let clocks = Memo<Int, String>()

    /// The market's peak holidays starting in `year` (local start dates), for `peak-season`.
    public static func peakHolidays(country: String, year: Int, zone: TimeZone) -> [(id: String, name: String, start: Date)] {
        peaks.value(YearKey(country: country, year: year, zone: zone.identifier)) { computePeakHolidays(country: country, year: year, zone: zone) }
    }

    /// The peak holidays per market and year (they need ICU calendars, costly to make).
    static let peaks = Memo<YearKey, [(id: String, name: String, start: Date)]>()

    static func computePeakHolidays(country: String, year: Int, zone: TimeZone) -> [(id: String, name: String, start: Date)] {
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
