import Foundation

/// An email address, validated as an RFC 5322 addr-spec (dot-atom local part).
/// The domain may be internationalized (IDN); it is kept as typed.
public struct EmailAddress: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    public let value: String

    /// Validates `raw` (surrounding white space is trimmed) for the given field name.
    public init(_ raw: String, field: String = "email") throws(InvalidInput) {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let expected = "expected an address like name@example.com"
        guard let at = text.lastIndex(of: "@") else {
            throw InvalidInput(field: field, value: raw, problem: expected)
        }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, text.utf8.count <= 254,
              Self.isDotAtom(local), Self.isDomain(domain)
        else { throw InvalidInput(field: field, value: raw, problem: expected) }
        value = text
    }

    /// RFC 5322 atext characters, plus UTF-8 (RFC 6532) for internationalized local parts.
    private static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value > 0x7F { return scalar.properties.isAlphabetic || scalar.properties.numericType != nil }
        if ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) { return true }
        return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
    }

    private static func isDotAtom(_ text: Substring) -> Bool {
        let atoms = text.split(separator: ".", omittingEmptySubsequences: false)
        return atoms.allSatisfy { !$0.isEmpty && $0.unicodeScalars.allSatisfy(isAtext) }
    }

    private static func isDomain(_ text: Substring) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, text.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            guard !label.isEmpty, label.count <= 63, label.first != "-", label.last != "-" else { return false }
            return label.unicodeScalars.allSatisfy { s in
                s == "-" || ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s)
                    || (s.value > 0x7F && (s.properties.isAlphabetic || s.properties.numericType != nil))
            }
        } && labels.last!.unicodeScalars.allSatisfy { !("0"..."9").contains($0) }
    }

    public var description: String { value }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    /// A value read back from storage, validated when it was first stored.
    public init(unchecked value: String) { self.value = value }

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// A BCP 47 language tag such as `es-MX`, `ar` or `zh-Hans`, with a known ISO 639 language.
public struct LocaleTag: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ raw: String, field: String = "locale") throws(InvalidInput) {
        let parts = raw.replacingOccurrences(of: "_", with: "-").split(separator: "-", omittingEmptySubsequences: false)
        let problem = "expected a BCP 47 language tag with a known language, like en, es-MX, ar or zh-Hans"
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }),
              Self.knownLanguages.contains(first.lowercased())
        else { throw InvalidInput(field: field, value: raw, problem: problem) }
        var canonical = [first.lowercased()]
        var sawScript = false, sawRegion = false
        for part in parts.dropFirst() {
            if !sawScript, !sawRegion, part.count == 4, part.allSatisfy({ $0.isASCII && $0.isLetter }) {
                canonical.append(part.prefix(1).uppercased() + part.dropFirst().lowercased())
                sawScript = true
            } else if !sawRegion, part.count == 2, part.allSatisfy({ $0.isASCII && $0.isLetter }),
                      CountryCode.known.contains(part.uppercased()) {
                canonical.append(part.uppercased())
                sawRegion = true
            } else if !sawRegion, part.count == 3, part.allSatisfy({ $0.isASCII && $0.isNumber }) {
                canonical.append(String(part))
                sawRegion = true
            } else {
                throw InvalidInput(field: field, value: raw, problem: problem)
            }
        }
        value = canonical.joined(separator: "-")
    }

    /// The ISO 639 language subtag, e.g. `es` for `es-MX`.
    public var language: String { String(value.split(separator: "-")[0]) }

    /// The tag and its less specific ancestors, ending in `en`: `es-MX` → `es-MX`, `es`, `en`.
    public var fallbackChain: [String] {
        var chain: [String] = []
        var parts = value.split(separator: "-").map(String.init)
        while !parts.isEmpty {
            chain.append(parts.joined(separator: "-"))
            parts.removeLast()
        }
        if !chain.contains("en") { chain.append("en") }
        return chain
    }

    static let knownLanguages: Set<String> = Set(Locale.LanguageCode.isoLanguageCodes.map(\.identifier))

    public var description: String { value }

    /// A value read back from storage, validated when it was first stored.
    public init(unchecked value: String) { self.value = value }

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// An ISO 3166-1 alpha-2 country code such as `MX`, `SA` or `NG`.
public struct CountryCode: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ raw: String, field: String = "country") throws(InvalidInput) {
        let upper = raw.trimmingCharacters(in: .whitespaces).uppercased()
        guard upper.count == 2, Self.known.contains(upper) else {
            throw InvalidInput(field: field, value: raw, problem: "expected an ISO 3166 two-letter country code, like MX, SA or NG")
        }
        value = upper
    }

    static let known: Set<String> = Set(Locale.Region.isoRegions.map(\.identifier).filter { $0.count == 2 && $0.allSatisfy(\.isLetter) })

    public var description: String { value }

    /// A value read back from storage, validated when it was first stored.
    public init(unchecked value: String) { self.value = value }

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// An IANA time zone identifier such as `America/Mexico_City`.
public struct TimeZoneID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ raw: String, field: String = "timezone") throws(InvalidInput) {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard text == "UTC" || TimeZone.knownTimeZoneIdentifiers.contains(text), TimeZone(identifier: text) != nil else {
            throw InvalidInput(field: field, value: raw, problem: "expected an IANA time zone, like America/Mexico_City or Asia/Riyadh")
        }
        value = text
    }

    /// The Foundation time zone (always exists: validated at construction). Looked up once per identifier.
    public var timeZone: TimeZone { Self.zones.value(value) { TimeZone(identifier: value) ?? TimeZone(secondsFromGMT: 0)! } }

    static let zones = Memo<String, TimeZone>()

    public var description: String { value }

    /// A value read back from storage, validated when it was first stored.
    public init(unchecked value: String) { self.value = value }

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// Parsing and printing of instants: ISO 8601, always stored in UTC. Foundation does the work:
/// its ISO 8601 and verbatim format styles, and its Gregorian calendar for wall-clock times.
public enum Timestamp {
    /// Parses an ISO 8601 instant (`2026-11-23T09:30:00Z`, with an offset, with fractional
    /// seconds) or a calendar date (`2026-12-01`, taken as 00:00 UTC).
    public static func parse(_ raw: String, field: String) throws(InvalidInput) -> Date {
        guard let date = parseISO(raw.trimmingCharacters(in: .whitespaces)) else {
            throw InvalidInput(field: field, value: raw, problem: "expected an ISO 8601 time like 2026-11-23T09:30:00Z (or a date like 2026-12-01)")
        }
        return date
    }

    /// `yyyy-MM-dd`, or `yyyy-MM-ddTHH:mm:ss[.fraction](Z|±HH:mm)` (`t` and `z` in either case).
    /// Foundation reads the value. Its parser is lenient (it reads 2026-04-31 as 1 May, 24:00 as the
    /// next day, and takes `+0300` or text after the offset), so the input must also be exactly what
    /// that value prints as in the input's own offset.
    static func parseISO(_ raw: String) -> Date? {
        let text = raw.uppercased()
        let bytes = Array(text.utf8)
        if bytes.count == 10 {
            guard let date = try? dayStyle.parse(text), dayStyle.format(date) == text else { return nil }
            return date
        }
        guard bytes.count >= 20, let date = try? instantStyle.parse(text) else { return nil }
        var zoneStart = 19
        if bytes[19] == UInt8(ascii: ".") {
            zoneStart = 20
            while zoneStart < bytes.count, (0x30...0x39).contains(bytes[zoneStart]) { zoneStart += 1 }
            guard zoneStart > 20 else { return nil }
        }
        let zone = bytes[zoneStart...]
        var offset = 0
        if zone.elementsEqual("Z".utf8) {
            offset = 0
        } else {
            let digits = Array(zone.dropFirst())
            guard let sign = zone.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), digits.count == 5, digits[2] == UInt8(ascii: ":"),
                  let hours = Int(String(decoding: digits[0..<2], as: UTF8.self)), let minutes = Int(String(decoding: digits[3..<5], as: UTF8.self)),
                  digits.allSatisfy({ $0 == UInt8(ascii: ":") || (0x30...0x39).contains($0) }), hours < 24, minutes < 60
            else { return nil }
            offset = (hours * 3600 + minutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        }
        guard let inputZone = TimeZone(secondsFromGMT: offset),
              wallClock(inputZone).format(date).utf8.elementsEqual(bytes[0..<19]) else { return nil }
        return date
    }

    /// `2026-11-23T09:30:00Z` (fractional seconds are read too).
    static let instantStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    /// `2026-12-01`, midnight UTC.
    static let dayStyle = Date.ISO8601FormatStyle().year().month().day()
    /// `2026-11-23T09:30:00`, the wall-clock time in `zone`, without the offset.
    static func wallClock(_ zone: TimeZone) -> Date.ISO8601FormatStyle {
        Date.ISO8601FormatStyle(timeZone: zone).year().month().day().dateTimeSeparator(.standard).time(includingFractionalSeconds: false)
    }

    /// The Gregorian calendar in UTC.
    static let gmt = TimeZone(secondsFromGMT: 0)!
    static let gregorianUTC = calendar(gmt)

    /// The Gregorian calendar in `zone` (one per zone, made once).
    public static func calendar(_ zone: TimeZone) -> Calendar {
        calendars.value(zone.identifier) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            return calendar
        }
    }

    static let calendars = Memo<String, Calendar>()

    /// The instant of a wall-clock time (`minutes` after midnight, up to 24 hours) on a date in
    /// `zone`, by Foundation's calendar: a time that daylight saving skips moves forward by the
    /// gap (02:30 is 03:30 when clocks jump from 02:00 to 03:00, and where they jump at midnight
    /// the day starts at 01:00); a time that occurs twice is the first.
    public static func instant(year: Int, month: Int, day: Int, minutes: Int, zone: TimeZone) -> Date {
        instant(year: year, month: month, day: day, minutes: minutes, calendar: calendar(zone))
    }

    /// ``instant(year:month:day:minutes:zone:)`` with the zone's ``calendar(_:)`` at hand.
    public static func instant(year: Int, month: Int, day: Int, minutes: Int, calendar: Calendar) -> Date {
        calendar.date(from: DateComponents(year: year, month: month, day: day, hour: minutes / 60, minute: minutes % 60)) ?? Date(timeIntervalSince1970: 0)
    }

    /// RFC 5322 date-time in UTC: `Mon, 23 Nov 2026 10:00:00 +0000`.
    public static func rfc5322(_ date: Date) -> String {
        rfc5322Style.format(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }

    static let rfc5322Style = Date.VerbatimFormatStyle(
        format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .padded(4)) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) +0000",
        locale: Locale(identifier: "en_US_POSIX"), timeZone: gmt, calendar: gregorianUTC)

    /// `2026-11-23T09:30:00Z`.
    public static func utc(_ date: Date) -> String { utcStyle.format(date) }

    static let utcStyle = Date.ISO8601FormatStyle()

    /// `2026-11-23T12:30:00+03:00`: the instant as a wall-clock time in `zone` (`+00:00` where the
    /// offset is zero, where Foundation writes `Z`).
    public static func local(_ date: Date, in zone: TimeZone) -> String {
        if zone.secondsFromGMT(for: date) == 0 { return wallClock(zone).format(date) + "+00:00" }
        return Date.ISO8601FormatStyle(timeZone: zone).timeZoneSeparator(.colon).format(date)
    }

    /// `yyyy-MM-dd` of a calendar date.
    public static func day(_ year: Int, _ month: Int, _ day: Int) -> String {
        dayStyle.format(gregorianUTC.date(from: DateComponents(year: year, month: month, day: day)) ?? Date(timeIntervalSince1970: 0))
    }

    /// Local calendar fields of an instant in `zone`: year, month, day, hour, minute.
    public static func fields(_ date: Date, in zone: TimeZone) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        let f = calendar(zone).dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return (f.year ?? 0, f.month ?? 0, f.day ?? 0, f.hour ?? 0, f.minute ?? 0)
    }
}

// MARK: The stored format, by day count

// The one place with calendar arithmetic of its own: the instant of a stored date's UTC fields, by Howard
// Hinnant's day count (the Gregorian calendar, which Foundation's follows from 1582), for the dates read by the
// hundred thousand. GRDB's date parser with Calendar took 2,100 instructions a date, 5.4% of a full plan's
// (callgrind, bench row 3 at 3.4x sqlite3 against a target of 3x). Years before 1600 are left to GRDB.
extension Timestamp {
    /// The instant of `yyyy-MM-dd HH:mm:ss.SSS` in UTC (GRDB's stored format), or nil for any other text, a field
    /// out of range or a year before 1600. The value is GRDB's for those fields, to the last bit (StoredDateTests).
    public static func stored(_ text: UnsafeBufferPointer<UInt8>) -> Date? {
        @inline(__always) func number(_ from: Int, _ count: Int) -> Int {  // -1 where a byte is not a digit
            var value = 0
            for i in from..<from + count { let digit = Int(text[i]) - 0x30; value = (0...9).contains(digit) && value >= 0 ? value * 10 + digit : -1 }
            return value
        }
        guard text.count == 23, text[4] == 0x2D, text[7] == 0x2D, text[10] == 0x20, text[13] == 0x3A, text[16] == 0x3A, text[19] == 0x2E else { return nil }
        let (year, month, day, hour, minute, second, ms) = (number(0, 4), number(5, 2), number(8, 2), number(11, 2), number(14, 2), number(17, 2), number(20, 3))
        // The month's length from the same day count: the days from its first to the next month's first.
        guard year >= 1600, (1...12).contains(month), (1...(days(year + month / 12, month % 12 + 1, 1) - days(year, month, 1))).contains(day),
              (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second), ms >= 0 else { return nil }
        return Date(timeIntervalSinceReferenceDate: Double((days(year, month, day) - 11_323) * 86_400 + hour * 3600 + minute * 60 + second) + Double(ms) / 1000)
    }

    /// Days since 1970-01-01 of a Gregorian date.
    static func days(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year, era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400
        return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1 - 719_468
    }
}

extension Timestamp {
    /// Days in a month of the Gregorian calendar.
    public static func daysIn(_ year: Int, _ month: Int) -> Int {
        guard let date = gregorianUTC.date(from: DateComponents(year: year, month: month, day: 1)),
              let days = gregorianUTC.range(of: .day, in: .month, for: date) else { return 0 }
        return days.count
    }
}

/// Shared checks for free text and identifiers.
public enum Text {
    /// FNV-1a of the UTF-8 bytes: a hash that is the same in every process (Swift's `Hasher` is seeded per process).
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// An identifier: non-empty, at most 100 characters, no white space or control characters.
    public static func identifier(_ raw: String, field: String) throws(InvalidInput) -> String {
        guard !raw.isEmpty, raw.count <= 100,
              raw.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && !($0.value < 0x20) && $0.value != 0x7F })
        else {
            throw InvalidInput(field: field, value: raw, problem: "expected an identifier of 1 to 100 characters without spaces")
        }
        return raw
    }

    /// Required free text: non-empty after trimming, at most `limit` characters. Stored exactly.
    public static func required(_ raw: String, field: String, limit: Int = 20_000) throws(InvalidInput) -> String {
        guard !raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw InvalidInput(field: field, value: raw, problem: "must not be empty")
        }
        guard raw.count <= limit else {
            throw InvalidInput(field: field, value: raw, problem: "is longer than \(limit) characters")
        }
        return raw
    }

    /// Optional free text: `nil` stays `nil`; otherwise as `required`.
    public static func optional(_ raw: String?, field: String, limit: Int = 20_000) throws(InvalidInput) -> String? {
        guard let raw else { return nil }
        return try required(raw, field: field, limit: limit)
    }

    /// A single-line value (names, carriers): no CR or LF, which could break mail headers.
    public static func line(_ raw: String, field: String, limit: Int = 200) throws(InvalidInput) -> String {
        let text = try required(raw, field: field, limit: limit)
        guard !text.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            throw InvalidInput(field: field, value: raw, problem: "must be a single line (no line breaks)")
        }
        return text
    }

    /// An absolute http(s) URL.
    public static func url(_ raw: String?, field: String) throws(InvalidInput) -> String? {
        guard let raw else { return nil }
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              url.host?.isEmpty == false, !raw.contains(where: \.isWhitespace)
        else { throw InvalidInput(field: field, value: raw, problem: "expected an http(s) URL like https://example.com/manual.pdf") }
        return raw
    }
}
