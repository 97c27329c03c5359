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

/// Parsing and printing of instants: ISO 8601, always stored in UTC.
public enum Timestamp {
    /// Parses an ISO 8601 instant (`2026-11-23T09:30:00Z`, with an offset, with fractional
    /// seconds) or a calendar date (`2026-12-01`, taken as 00:00 UTC).
    public static func parse(_ raw: String, field: String) throws(InvalidInput) -> Date {
        guard let date = parseISO(Array(raw.trimmingCharacters(in: .whitespaces).utf8)) else {
            throw InvalidInput(field: field, value: raw, problem: "expected an ISO 8601 time like 2026-11-23T09:30:00Z (or a date like 2026-12-01)")
        }
        return date
    }

    /// `yyyy-MM-dd`, or `yyyy-MM-ddTHH:mm:ss[.fraction](Z|±HH:mm)`, checked field by field.
    /// Plain arithmetic, no formatter: this runs for every rendered mail.
    static func parseISO(_ b: [UInt8]) -> Date? {
        func number(_ at: Int, _ width: Int) -> Int? {
            guard at + width <= b.count else { return nil }
            var value = 0
            for byte in b[at..<at + width] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        func at(_ i: Int, _ char: Character) -> Bool { i < b.count && b[i] == char.asciiValue! }
        guard let year = number(0, 4), at(4, "-"), let month = number(5, 2), at(7, "-"), let day = number(8, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(year, month) else { return nil }
        let days = daysFromCivil(year, month, day)
        if b.count == 10 { return Date(timeIntervalSince1970: Double(days * 86_400)) }
        guard at(10, "T") || at(10, "t"), let hour = number(11, 2), at(13, ":"), let minute = number(14, 2), at(16, ":"),
              let second = number(17, 2), hour < 24, minute < 60, second < 60 else { return nil }
        var i = 19
        var fraction = 0.0
        if at(i, ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { fraction += Double(b[i] - 0x30) * scale; scale /= 10; i += 1 }
            guard i > start else { return nil }
        }
        var offset = 0
        if (at(i, "Z") || at(i, "z")), i + 1 == b.count {
            offset = 0
        } else if at(i, "+") || at(i, "-"), i + 6 == b.count, let oh = number(i + 1, 2), at(i + 3, ":"), let om = number(i + 4, 2), oh < 24, om < 60 {
            offset = (oh * 3600 + om * 60) * (at(i, "-") ? -1 : 1)
        } else {
            return nil
        }
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction)
    }

    /// Days in a month of the Gregorian calendar.
    public static func daysIn(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's days-from-civil).
    public static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The instant of a wall-clock time (`minutes` after midnight) on a date in `zone`
    /// (the later one across a DST gap).
    public static func instant(year: Int, month: Int, day: Int, minutes: Int, zone: TimeZone) -> Date {
        let local = Double(daysFromCivil(year, month, day) * 86_400 + minutes * 60)
        let guess = local - Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: local)))
        return Date(timeIntervalSince1970: local - Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: guess))))
    }

    /// RFC 5322 date-time in UTC: `Mon, 23 Nov 2026 10:00:00 +0000`.
    public static func rfc5322(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let (y, mo, d, h, mi, se) = civil(seconds)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        var out: [UInt8] = []
        out.reserveCapacity(31)
        // Three letters each, from 1970-01-01 (a Thursday) and from January.
        let weekday = (((days % 7) + 7) % 7) * 3, month = (mo - 1) * 3
        out += weekdayNames[weekday..<weekday + 3]; out += ", ".utf8
        digits(d, 2, &out); out.append(0x20)
        out += monthNames[month..<month + 3]; out.append(0x20)
        digits(y, 4, &out); out.append(0x20)
        appendTime(h, mi, se, &out); out += " +0000".utf8
        return String(decoding: out, as: UTF8.self)
    }

    private static let weekdayNames = Array("ThuFriSatSunMonTueWed".utf8)
    private static let monthNames = Array("JanFebMarAprMayJunJulAugSepOctNovDec".utf8)

    /// `2026-11-23T09:30:00Z`. Plain arithmetic: this runs for every planned mail.
    public static func utc(_ date: Date) -> String {
        let (y, mo, d, h, mi, se) = civil(Int(date.timeIntervalSince1970.rounded(.down)))
        var out: [UInt8] = []
        out.reserveCapacity(20)
        appendDate(y, mo, d, &out); out.append(0x54); appendTime(h, mi, se, &out); out.append(0x5A)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `yyyy-MM-dd`.
    public static func appendDate(_ year: Int, _ month: Int, _ day: Int, _ out: inout [UInt8]) {
        digits(year, 4, &out); out.append(0x2D); digits(month, 2, &out); out.append(0x2D); digits(day, 2, &out)
    }

    /// Appends `HH:mm:ss`.
    public static func appendTime(_ hour: Int, _ minute: Int, _ second: Int, _ out: inout [UInt8]) {
        digits(hour, 2, &out); out.append(0x3A); digits(minute, 2, &out); out.append(0x3A); digits(second, 2, &out)
    }

    /// Appends `value` in decimal with at least `width` digits (zero-padded).
    public static func digits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        if value < 0 { out.append(0x2D); digits(-value, width, &out); return }
        var divisor = 1, count = 1
        while divisor <= value / 10 { divisor *= 10; count += 1 }
        for _ in count..<max(width, count) { out.append(0x30) }
        var rest = value
        while divisor > 0 { out.append(UInt8(0x30 + rest / divisor)); rest %= divisor; divisor /= 10 }
    }

    /// `2026-11-23T12:30:00+03:00`: the instant as a wall-clock time in `zone`.
    public static func local(_ date: Date, in zone: TimeZone) -> String {
        let offset = zone.secondsFromGMT(for: date)
        let (y, mo, d, h, mi, se) = civil(Int(date.timeIntervalSince1970.rounded(.down)) + offset)
        // Written into one buffer: a string per field, joined, cost more than the time-zone lookup.
        var out: [UInt8] = []
        out.reserveCapacity(25)
        appendDate(y, mo, d, &out); out.append(0x54); appendTime(h, mi, se, &out)
        out.append(offset < 0 ? 0x2D : 0x2B); digits(abs(offset) / 3600, 2, &out); out.append(0x3A); digits(abs(offset) % 3600 / 60, 2, &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `yyyy-MM-dd` of a calendar date.
    public static func day(_ year: Int, _ month: Int, _ day: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(10)
        appendDate(year, month, day, &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Local calendar fields of an instant in `zone`: year, month, day, hour, minute.
    public static func fields(_ date: Date, in zone: TimeZone) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        let (y, mo, d, h, mi, _) = civil(Int(date.timeIntervalSince1970.rounded(.down)) + zone.secondsFromGMT(for: date))
        return (y, mo, d, h, mi)
    }

    /// Gregorian date and time of seconds since 1970 (Howard Hinnant's days-to-civil).
    public static func civil(_ seconds: Int) -> (Int, Int, Int, Int, Int, Int) {
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d, rest / 3600, rest % 3600 / 60, rest % 60)
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
