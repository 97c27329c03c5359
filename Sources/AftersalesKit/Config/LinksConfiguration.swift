import Foundation

extension Configuration {
    /// `links.*`: the signed links in mail that `aftersales serve` answers. Links are on only with a
    /// base URL and a secret; otherwise mail carries none (the survey asks for a reply, marketing mail a
    /// `mailto:` List-Unsubscribe).
    public struct Links: Sendable, Equatable, Codable, CustomReflectable {
        /// Where `aftersales serve` is reached from the internet, e.g. `https://after.example.com` (empty: links off).
        public var baseURL = ""
        /// File holding the link secret(s), one a line, the newest first (empty: `AFTERSALES_LINK_SECRET` only).
        public var secretFile = ""
        /// Days a link works after its mail was rendered.
        public var validDays = 180
        /// The secrets, from `AFTERSALES_LINK_SECRET` or `secretFile`; never stored, printed or encoded.
        public var secrets: [String] = []

        enum CodingKeys: String, CodingKey { case baseURL = "base_url", secretFile = "secret_file", validDays = "valid_days" }

        /// Keys of earlier versions that the links replace, with what to set instead: an old file gets
        /// that advice, not a bare "unknown key".
        static let replacedKeys = [
            "company.unsubscribe_url": "the unsubscribe link is now signed and answered by `aftersales serve`: set links.base_url "
                + "(e.g. https://after.example.com) and a secret (AFTERSALES_LINK_SECRET or links.secret_file), see \"The buyer's answers: serve\" in README.md",
        ]

        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            baseURL = try c.value(.baseURL)
            while baseURL.hasSuffix("/") { baseURL.removeLast() }
            if !baseURL.isEmpty {
                guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(), ["https", "http"].contains(scheme),
                      url.host?.isEmpty == false, url.query == nil, url.fragment == nil else {
                    throw DecodingError.dataCorruptedError(forKey: .baseURL, in: c, debugDescription: "an https URL like https://after.example.com")
                }
            }
            secretFile = try c.value(.secretFile)
            validDays = try c.whole(.validDays, in: 1...3650, "1 to 3650 days")
        }

        /// The signing keys when links are on (a base URL and at least one secret), else nil.
        public var keys: LinkKeys? {
            guard !baseURL.isEmpty, !secrets.isEmpty else { return nil }
            return try? LinkKeys(secrets: secrets)
        }

        /// Whether mail carries signed links.
        public var on: Bool { keys != nil }

        /// Why links are off, for `templates check` and `run`'s summary; nil when they are on.
        public var offReason: String? {
            if baseURL.isEmpty && secrets.isEmpty { return "links off: set links.base_url and AFTERSALES_LINK_SECRET (or links.secret_file)" }
            if baseURL.isEmpty { return "links off: set links.base_url" }
            if secrets.isEmpty { return "links off: set AFTERSALES_LINK_SECRET or links.secret_file" }
            return nil
        }

        public var customMirror: Mirror {
            Mirror(self, children: ["baseURL": baseURL, "secretFile": secretFile, "validDays": validDays,
                                    "secrets": secrets.isEmpty ? "none" : "(set)"])
        }

        /// Reads the secrets: `AFTERSALES_LINK_SECRET` (one a line), else `secretFile`. A secret shorter than
        /// ``LinkKeys/minimumLength`` is an error.
        mutating func loadSecrets(environment: [String: String]) throws(AftersalesError) {
            var text = environment["AFTERSALES_LINK_SECRET"]
            if text?.isEmpty != false, !secretFile.isEmpty {
                do { text = try String(contentsOfFile: secretFile, encoding: .utf8) } catch {
                    throw .configuration("links.secret_file \"\(secretFile)\": cannot be read (\(Configuration.reason(error)))")
                }
            }
            secrets = LinkKeys.secrets(in: text ?? "")
            if !secrets.isEmpty { _ = try LinkKeys(secrets: secrets) }
        }
    }
}
