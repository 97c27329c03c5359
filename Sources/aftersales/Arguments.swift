import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

/// A command-line value parsed and checked by the domain's validator, once, when the parser reads it.
///
/// `ExpressibleByArgument`'s initializer can only fail without a reason; the parser would then print
/// "The value 'x' is invalid for '--eta <time>'". The domain's refusal names the field and the value and
/// says what is expected, so it is kept, and `Aftersales.main` prints it instead.
public protocol CheckedArgument: ExpressibleByArgument {
    init(checking text: String) throws(InvalidInput)
}

extension CheckedArgument {
    public init?(argument: String) {
        guard let value = Refusal.keeping({ () throws(InvalidInput) in try Self(checking: argument) }) else { return nil }
        self = value
    }
}

/// The domain's enumerations, by their raw values (`in-transit`), as the domain parses them.
public protocol CheckedCase: CheckedArgument, RawRepresentable<String>, CaseIterable {
    init(parsing raw: String) throws(InvalidInput)
}

extension CheckedCase {
    public init(checking text: String) throws(InvalidInput) { try self.init(parsing: text) }
    public init?(argument: String) {
        guard let value = Refusal.keeping({ () throws(InvalidInput) in try Self(parsing: argument) }) else { return nil }
        self = value
    }
    public var defaultValueDescription: String { rawValue }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// The first value the domain refused while the command line was parsed.
enum Refusal {
    /// Set at most once, by the parser, which runs on the main thread before any command does.
    nonisolated(unsafe) private(set) static var first: InvalidInput?

    /// `parse()`'s value, or nil with its refusal kept.
    static func keeping<T>(_ parse: () throws(InvalidInput) -> T) -> T? {
        do { return try parse() } catch {
            if first == nil { first = error }
            return nil
        }
    }
}

extension ComplaintCategory: CheckedCase {}
extension ShipmentMode: CheckedCase {}
extension ShipmentEventKind: CheckedCase {}
extension OutboxStatus: CheckedCase {}
extension ServiceAspect: CheckedCase {}
extension RepurchaseIntent: CheckedCase {}

extension EmailAddress: CheckedArgument {
    public init(checking text: String) throws(InvalidInput) { try self.init(text) }
}

extension LocaleTag: CheckedArgument {
    public init(checking text: String) throws(InvalidInput) { try self.init(text) }
}

extension TimeZoneID: CheckedArgument {
    public init(checking text: String) throws(InvalidInput) { try self.init(text) }
}

extension CountryCode: CheckedArgument {
    public init(checking text: String) throws(InvalidInput) { try self.init(text) }
}

extension OrderLine: CheckedArgument {
    public init(checking text: String) throws(InvalidInput) { self = try OrderLine.parse(text) }
}

/// `--transport smtp|file`.
extension Configuration.TransportKind: CheckedCase {
    public init(parsing raw: String) throws(InvalidInput) {
        guard let kind = Self(rawValue: raw) else { throw InvalidInput(field: "transport", value: raw, problem: "expected smtp or file") }
        self = kind
    }
}

/// The name a refusal of an ``Instant`` option gives its field.
protocol OptionField { static var name: String { get } }

/// An option holding an ISO 8601 instant or date (`--at`, `--eta`, `--now`, `--from`, `--to`).
struct Instant<Field: OptionField>: CheckedArgument {
    var date: Date
    init(checking text: String) throws(InvalidInput) { date = try Timestamp.parse(text, field: Field.name) }
}

enum AtField: OptionField { static let name = "at" }
enum ETAField: OptionField { static let name = "eta" }
enum NowField: OptionField { static let name = "now" }
enum FromField: OptionField { static let name = "from" }
enum ToField: OptionField { static let name = "to" }
typealias At = Instant<AtField>
typealias ETA = Instant<ETAField>
typealias Now = Instant<NowField>
typealias ReportFrom = Instant<FromField>
typealias ReportTo = Instant<ToField>

/// `--destination`: an ISO 3166 country code.
struct Destination: CheckedArgument {
    var country: CountryCode
    init(checking text: String) throws(InvalidInput) { country = try CountryCode(text, field: "destination") }
}

/// `--cc`: an extra address.
struct CopyAddress: CheckedArgument {
    var address: EmailAddress
    init(checking text: String) throws(InvalidInput) { address = try EmailAddress(text, field: "cc") }
}

/// `--manager-email`: the account manager's address.
struct ManagerEmail: CheckedArgument {
    var address: EmailAddress
    init(checking text: String) throws(InvalidInput) { address = try EmailAddress(text, field: "manager-email") }
}

/// `--currency`: an ISO 4217 code.
struct Currency: CheckedArgument {
    var code: String
    init(code: String) { self.code = code }
    init(checking text: String) throws(InvalidInput) { code = try Order.currency(text) }
    var defaultValueDescription: String { code }
}

/// A whole number the domain checks; text that is not a number gets the parser's own line, as for a plain `Int`.
public protocol CheckedNumber: ExpressibleByArgument {
    init(checking number: Int) throws(InvalidInput)
}

extension CheckedNumber {
    public init?(argument: String) {
        guard let number = Int(argument),
              let value = Refusal.keeping({ () throws(InvalidInput) in try Self(checking: number) }) else { return nil }
        self = value
    }
}

/// `complaint rate --score`: 1 to 5.
struct Rating: CheckedNumber {
    var value: Int
    init(checking number: Int) throws(InvalidInput) { value = try Complaint.rating(number) }
}

/// `survey record --score`: 0 to 10.
struct SurveyScore: CheckedNumber {
    var value: Int
    init(checking number: Int) throws(InvalidInput) { value = try SurveyAnswer.score(number) }
}

/// `preview --days`: 0 to 3660.
struct DaysAhead: CheckedNumber {
    var value: Int
    init(_ value: Int) { self.value = value }
    init(checking number: Int) throws(InvalidInput) {
        guard (0...3660).contains(number) else { throw InvalidInput(field: "days", value: String(number), problem: "expected 0 to 3660") }
        value = number
    }
    var defaultValueDescription: String { String(value) }
}

/// `serve --io-threads`: 1 to 256.
struct IOThreads: CheckedNumber {
    var value: Int
    init(checking number: Int) throws(InvalidInput) {
        guard (1...256).contains(number) else { throw InvalidInput(field: "io-threads", value: String(number), problem: "expected 1 to 256") }
        value = number
    }
}
