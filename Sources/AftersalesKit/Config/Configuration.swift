import AftersalesDomain
import Foundation
import Yams

/// The effective configuration: `aftersales.yml`, then `AFTERSALES_*` environment variables
/// over it, then built-in defaults. Every key is listed in ``Configuration/keys``.
public struct Configuration: Sendable, Equatable {
    /// Effective values by dotted key (`smtp.url`), after the file and the environment.
    public private(set) var values: [String: String]
    /// Where each value came from: `default`, the file's path, or the environment variable.
    public private(set) var sources: [String: String]
    /// The SMTP password, from `AFTERSALES_SMTP_PASSWORD` or `smtp.password_file`; never stored or printed.
    public let smtpPassword: String?

    /// One configuration key: its dotted name, default and meaning.
    public struct Key: Sendable, Equatable {
        public let name: String
        public let defaultValue: String
        public let help: String
        public let kind: Kind
        public enum Kind: Sendable, Equatable { case text, integer, boolean, email, time, zone, list, path }
        /// The environment variable that overrides it: `smtp.url` → `AFTERSALES_SMTP_URL`.
        public var environmentName: String {
            "AFTERSALES_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
        }
    }

    /// Every key the configuration understands.
    public static let keys: [Key] = [
        Key(name: "company.name", defaultValue: "Example Export Co.", help: "The company's name: From display name, signatures.", kind: .text),
        Key(name: "company.email", defaultValue: "aftersales@example.com", help: "The From address of every mail.", kind: .email),
        Key(name: "company.domain", defaultValue: "", help: "Domain for Message-IDs (default: the domain of company.email).", kind: .text),
        Key(name: "company.website", defaultValue: "https://example.com", help: "The company's web site, shown in footers.", kind: .text),
        Key(name: "company.unsubscribe_url", defaultValue: "https://example.com/unsubscribe", help: "Base https URL of the one-click unsubscribe (marketing mail).", kind: .text),
        Key(name: "supervisor.name", defaultValue: "After-sales supervisor", help: "Who receives complaint escalations.", kind: .text),
        Key(name: "supervisor.email", defaultValue: "supervisor@example.com", help: "Address of the supervisor (internal mail).", kind: .email),
        Key(name: "department_head.name", defaultValue: "Head of Customer Service", help: "Name improvement commitments are signed with.", kind: .text),
        Key(name: "support.hours_start", defaultValue: "09:00", help: "Support opens (in support.time_zone); converted to each buyer's zone in mails.", kind: .time),
        Key(name: "support.hours_end", defaultValue: "18:00", help: "Support closes (in support.time_zone).", kind: .time),
        Key(name: "support.time_zone", defaultValue: "Asia/Shanghai", help: "The support team's IANA time zone.", kind: .zone),
        Key(name: "business_hours.start", defaultValue: "09:00", help: "Start of the send window in the recipient's time zone.", kind: .time),
        Key(name: "business_hours.end", defaultValue: "18:00", help: "End of the send window in the recipient's time zone.", kind: .time),
        Key(name: "holidays.extra", defaultValue: "", help: "Extra non-working dates (YYYY-MM-DD, comma-separated in the environment).", kind: .list),
        Key(name: "marketing.cap_count", defaultValue: "2", help: "At most this many marketing mails per customer ...", kind: .integer),
        Key(name: "marketing.cap_days", defaultValue: "7", help: "... in this many days; the excess is postponed.", kind: .integer),
        Key(name: "customs.days_before_eta", defaultValue: "3", help: "Customs notes go this many days before the ETA (or on arrival at customs, if earlier).", kind: .integer),
        Key(name: "rules.file", defaultValue: "", help: "Optional YAML file that changes timings, disables or adds rules.", kind: .path),
        Key(name: "templates.dir", defaultValue: "", help: "Optional directory whose templates override the built-in ones.", kind: .path),
        Key(name: "documents.dir", defaultValue: "", help: "Files to attach: <dir>/<order id>/<document name>.pdf for shipping mail, <dir>/<SKU>/installation guide.pdf for technical products.", kind: .path),
        Key(name: "transport.kind", defaultValue: "file", help: "How mail leaves: smtp, or file (.eml files in transport.dir).", kind: .text),
        Key(name: "transport.dir", defaultValue: "outbox-files", help: "Directory the file transport writes .eml files into.", kind: .path),
        Key(name: "smtp.url", defaultValue: "smtp://127.0.0.1:25", help: "SMTP server: smtp://host:port or smtps://host:port.", kind: .text),
        Key(name: "smtp.tls", defaultValue: "starttls", help: "starttls (required), tls (implicit), or none (loopback test servers only).", kind: .text),
        Key(name: "smtp.user", defaultValue: "", help: "SMTP AUTH user name (the password comes from AFTERSALES_SMTP_PASSWORD or smtp.password_file).", kind: .text),
        Key(name: "smtp.password_file", defaultValue: "", help: "File holding the SMTP password (first line).", kind: .path),
        Key(name: "smtp.oauth_token_file", defaultValue: "", help: "File holding an XOAUTH2 bearer token, used instead of a password.", kind: .path),
        Key(name: "smtp.ca_file", defaultValue: "", help: "CA bundle to verify the server's certificate.", kind: .path),
        Key(name: "smtp.connect_timeout", defaultValue: "10", help: "Seconds to wait for a connection.", kind: .integer),
        Key(name: "smtp.timeout", defaultValue: "60", help: "Seconds one message may take.", kind: .integer),
        Key(name: "smtp.connections", defaultValue: "1", help: "Parallel SMTP connections.", kind: .integer),
        Key(name: "send.per_minute", defaultValue: "0", help: "At most this many messages a minute (0: no limit).", kind: .integer),
        Key(name: "send.batch", defaultValue: "50", help: "Mails rendered and claimed per transaction while sending (1: each alone). A killed run leaves at most about twice this many mails in doubt.", kind: .integer),
        Key(name: "send.per_run", defaultValue: "0", help: "At most this many messages a run (0: no limit).", kind: .integer),
    ]

    /// Loads the configuration. `path` is the file to read (`nil`: none); a named file that
    /// does not exist is an error. `environment` supplies `AFTERSALES_*` overrides.
    public static func load(path: String?, environment: [String: String]) throws(AftersalesError) -> Configuration {
        var values: [String: String] = [:]
        var sources: [String: String] = [:]
        for key in keys {
            values[key.name] = key.defaultValue
            sources[key.name] = "default"
        }
        if let path {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw .configuration("config \"\(path)\": cannot be read (\(Self.reason(error))); fix the path or pass --config")
            }
            let flat = try flatten(yaml: text, path: path)
            for (name, value) in flat {
                if name == "smtp.password" {
                    throw .configuration("config \"\(path)\": smtp.password must not be in the file; set AFTERSALES_SMTP_PASSWORD or smtp.password_file")
                }
                guard values[name] != nil else {
                    throw .configuration("config \"\(path)\": unknown key \"\(name)\"; see the configuration reference in README.md")
                }
                values[name] = value
                sources[name] = path
            }
        }
        for key in keys {
            if let value = environment[key.environmentName] {
                values[key.name] = value
                sources[key.name] = key.environmentName
            }
        }
        for key in keys { try check(key, values[key.name] ?? "", source: sources[key.name] ?? "default") }
        var password = environment["AFTERSALES_SMTP_PASSWORD"]
        if password == nil, let file = values["smtp.password_file"], !file.isEmpty {
            do {
                password = try String(contentsOfFile: file, encoding: .utf8)
                    .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            } catch {
                throw .configuration("smtp.password_file \"\(file)\": cannot be read (\(Self.reason(error)))")
            }
        }
        return Configuration(values: values, sources: sources, smtpPassword: password)
    }

    /// The built-in defaults only.
    public static var defaults: Configuration {
        // Defaults always validate.
        (try? load(path: nil, environment: [:])) ?? Configuration(values: [:], sources: [:], smtpPassword: nil)
    }

    public subscript(_ name: String) -> String { values[name] ?? "" }

    /// An integer key (validated at load time).
    public func integer(_ name: String) -> Int { Int(self[name]) ?? 0 }

    /// A list key (comma-separated).
    public func list(_ name: String) -> [String] {
        self[name].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The domain used in Message-IDs.
    public var messageDomain: String {
        let explicit = self["company.domain"]
        if !explicit.isEmpty { return explicit }
        return String(self["company.email"].split(separator: "@").last ?? "localhost")
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }

    private static func check(_ key: Key, _ value: String, source: String) throws(AftersalesError) {
        func bad(_ expected: String) -> AftersalesError {
            .configuration("\(key.name) \"\(value)\" (from \(source)): expected \(expected)")
        }
        switch key.kind {
        case .text, .path, .list: break
        case .integer:
            guard let n = Int(value), n >= 0 else { throw bad("a whole number, 0 or more") }
        case .boolean:
            guard ["true", "false", "yes", "no"].contains(value.lowercased()) else { throw bad("true or false") }
        case .email:
            do { _ = try EmailAddress(value, field: key.name) } catch { throw bad("an email address") }
        case .time:
            guard Self.minutes(value) != nil else { throw bad("a time of day like 09:00") }
        case .zone:
            do { _ = try TimeZoneID(value, field: key.name) } catch { throw bad("an IANA time zone like Asia/Shanghai") }
        }
        switch key.name {
        case "transport.kind": guard ["smtp", "file"].contains(value) else { throw bad("smtp or file") }
        case "smtp.tls": guard ["starttls", "tls", "none"].contains(value) else { throw bad("starttls, tls or none") }
        case "smtp.url":
            guard value.hasPrefix("smtp://") || value.hasPrefix("smtps://") else { throw bad("smtp://host:port or smtps://host:port") }
        case "send.batch": guard (1...1000).contains(Int(value) ?? 0) else { throw bad("1 to 1000 mails") }
        case "smtp.connections": guard (1...64).contains(Int(value) ?? 0) else { throw bad("1 to 64 connections") }
        case "holidays.extra":
            for day in value.split(separator: ",") {
                let text = day.trimmingCharacters(in: .whitespaces)
                guard text.count == 10, (try? Timestamp.parse(text, field: key.name)) != nil else { throw bad("dates like 2026-12-24, comma-separated") }
            }
        default: break
        }
    }

    /// Minutes after midnight of `HH:MM`, or nil.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0...59).contains(m),
              h * 60 + m <= 24 * 60 else { return nil }
        return h * 60 + m
    }

    /// Flattens a YAML mapping into dotted keys; sequences become comma-separated lists.
    private static func flatten(yaml text: String, path: String) throws(AftersalesError) -> [String: String] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw .configuration("config \"\(path)\": not valid YAML (\(String(describing: error).split(whereSeparator: \.isNewline).first ?? "")); fix the file")
        }
        guard let node else { return [:] }
        guard case .mapping = node else { throw .configuration("config \"\(path)\": expected a mapping of keys at the top level") }
        var out: [String: String] = [:]
        func walk(_ node: Node, _ prefix: String) throws(AftersalesError) {
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    let name = key.string ?? ""
                    try walk(value, prefix.isEmpty ? name : prefix + "." + name)
                }
            case .sequence(let sequence):
                out[prefix] = sequence.compactMap(\.string).joined(separator: ",")
            case .scalar(let scalar):
                out[prefix] = scalar.string
            case .alias:
                throw .configuration("config \"\(path)\": \(prefix): YAML aliases are not supported")
            }
        }
        try walk(node, "")
        return out
    }
}
