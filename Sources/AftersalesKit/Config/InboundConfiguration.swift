import Foundation

extension Configuration {
    /// `imap.*`: the reply mailbox `fetch` reads.
    public struct IMAP: Sendable, Equatable, Codable {
        /// `imap://host:port/MAILBOX` or `imaps://host:port/MAILBOX` (empty: no fetching; `run` then does not fetch).
        public var url = ""
        /// The login name (empty: none).
        public var user = ""
        /// starttls (required), tls (implicit), none (loopback test servers only).
        public var tls = CurlSMTPTransport.Security.starttls
        /// File holding the password (first line; empty: none). `AFTERSALES_IMAP_PASSWORD` wins.
        public var passwordFile = ""
        /// CA bundle to verify the server's certificate (empty: the system's).
        public var caFile = ""
        /// Where processed messages go (empty: they stay in place, flagged).
        public var processedFolder = "aftersales/processed"
        /// Messages larger than this many bytes are not downloaded; they stay for ops.
        public var maxBytes = 25 * 1024 * 1024
        /// Seconds to wait for a connection / for each command.
        public var timeout = 30
        /// Complaint keywords (comma-separated in the environment; empty: the built-in words in 8 locales).
        public var complaintKeywords: [String] = []

        enum CodingKeys: String, CodingKey {
            case url, user, tls, passwordFile = "password_file", caFile = "ca_file", processedFolder = "processed_folder",
                 maxBytes = "max_bytes", timeout, complaintKeywords = "complaint_keywords"
        }
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.value(.url)
            guard url.isEmpty || url.hasPrefix("imap://") || url.hasPrefix("imaps://") else {
                throw DecodingError.dataCorruptedError(forKey: .url, in: c, debugDescription: "imap://host:port/MAILBOX or imaps://host:port/MAILBOX")
            }
            user = try c.value(.user)
            tls = try c.value(.tls)
            passwordFile = try c.value(.passwordFile)
            caFile = try c.value(.caFile)
            processedFolder = try c.value(.processedFolder)
            maxBytes = try c.whole(.maxBytes, in: 1...Int(Int32.max), "a size in bytes, 1 or more")
            timeout = try c.whole(.timeout, in: 1...3600, "1 to 3600 seconds")
            complaintKeywords = try c.decode([String].self, forKey: .complaintKeywords).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// `bounce.*`: what a bounce does to the address.
    public struct Bounce: Sendable, Equatable, Codable {
        /// Soft bounces (4.x.x) of an address within `softDays` that suppress it.
        public var softLimit = 3
        public var softDays = 14
        /// Per status code: `5.7.1=soft`, `4.2.2=hard`, `5.2.2=ignore` (a code, a `class.subject` prefix like `5.7`, or a class).
        public var policy: [String] = []

        enum CodingKeys: String, CodingKey { case softLimit = "soft_limit", softDays = "soft_days", policy }
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            softLimit = try c.whole(.softLimit, in: 1...1000, "1 to 1000 bounces")
            softDays = try c.whole(.softDays, in: 1...3650, "1 to 3650 days")
            policy = try c.decode([String].self, forKey: .policy).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for entry in policy {
                let parts = entry.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, BounceEffect(rawValue: parts[1]) != nil,
                      parts[0].split(separator: ".").allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }), ["2", "4", "5"].contains(parts[0].prefix(1))
                else {
                    throw DecodingError.dataCorruptedError(forKey: .policy, in: c, debugDescription: "entries like 5.7.1=soft (hard, soft or ignore)")
                }
            }
        }

        /// What a bounce with `status` does: the most specific policy entry, else hard for 5.x.x and soft for 4.x.x.
        public func effect(of status: String) -> BounceEffect {
            let entries = policy.compactMap { entry -> (String, BounceEffect)? in
                let parts = entry.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let effect = BounceEffect(rawValue: parts[1]) else { return nil }
                return (parts[0], effect)
            }
            let pieces = status.split(separator: ".")
            for length in stride(from: pieces.count, through: 1, by: -1) {
                let prefix = pieces.prefix(length).joined(separator: ".")
                if let match = entries.last(where: { $0.0 == prefix }) { return match.1 }
            }
            if status.hasPrefix("5") { return .hard }
            if status.hasPrefix("4") { return .soft }
            return .ignore
        }
    }

    /// What a bounce does to the address.
    public enum BounceEffect: String, Sendable, Hashable, Codable {
        /// Suppressed at once, the mail marked bounced.
        case hard
        /// Counted; suppressed after `bounce.soft_limit` within `bounce.soft_days`.
        case soft
        /// Recorded only.
        case ignore
    }
}

extension Configuration {
    /// `AFTERSALES_IMAP_PASSWORD`, else the first line of `imap.password_file`, else nil.
    static func imapPassword(_ file: String, _ environment: [String: String]) throws(AftersalesError) -> String? {
        if let password = environment["AFTERSALES_IMAP_PASSWORD"] { return password }
        guard !file.isEmpty else { return nil }
        do {
            return try String(contentsOfFile: file, encoding: .utf8).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        } catch {
            throw .configuration("imap.password_file \"\(file)\": cannot be read (\(reason(error)))")
        }
    }
}
