import Crypto
import Foundation

/// What a signed link in a mail lets its reader do.
public enum LinkPurpose: UInt8, Sendable, Hashable, CaseIterable, Codable {
    case unsubscribe = 1
    case survey = 2
    case rating = 3
    case confirmReceipt = 4
    case preferences = 5

    /// The first segment of the link's path: `/u/TOKEN`.
    public var pathSegment: String {
        switch self {
        case .unsubscribe: "u"
        case .survey: "s"
        case .rating: "r"
        case .confirmReceipt: "c"
        case .preferences: "p"
        }
    }

    /// The `data-aftersales` name of the link in mail.
    public var actionName: String {
        switch self {
        case .unsubscribe: "unsubscribe"
        case .survey: "survey-score"
        case .rating: "rating"
        case .confirmReceipt: "confirm-receipt"
        case .preferences: "preferences"
        }
    }
}

/// The signed content of a link: purpose, the mail it came in, the customer and until when it works.
/// It holds ids only (a mail key and a customer id), no personal data.
public struct LinkToken: Sendable, Hashable {
    public var purpose: LinkPurpose
    /// The key of the outbox entry the link was sent in, e.g. `survey/SO-1001/1`.
    public var mailKey: String
    public var customerID: String
    /// The link stops working after this instant (whole seconds).
    public var expires: Date

    public init(purpose: LinkPurpose, mailKey: String, customerID: String, expires: Date) {
        self.purpose = purpose
        self.mailKey = mailKey
        self.customerID = customerID
        self.expires = Date(timeIntervalSince1970: expires.timeIntervalSince1970.rounded(.down))
    }

    /// Why a token was refused. The page the buyer sees is the same for all ("this link is no longer
    /// valid"); the reason is for tests and the log.
    public enum Refusal: Error, Sendable, Equatable {
        /// Not base64url, too short, a field cut off, or an unknown format.
        case malformed
        /// Signed with a key this server does not have (rotated out, or never ours).
        case unknownKey
        /// The signature does not match: the token was changed.
        case badSignature
        case expired
        case wrongPurpose
    }

    /// Format 1: `version(1) keyID(4) purpose(1) expires(4, big-endian seconds) keyLength(1) key customerLength(1) customer`,
    /// then the first 16 bytes of HMAC-SHA256 over all of it (a 128-bit tag, enough for a link that
    /// cannot be tried offline), all base64url without padding.
    static let version: UInt8 = 1
    static let tagLength = 16

    /// The payload to sign.
    func payload(keyID: [UInt8]) -> [UInt8]? {
        let key = Array(mailKey.utf8), customer = Array(customerID.utf8)
        let seconds = expires.timeIntervalSince1970
        guard key.count <= 255, customer.count <= 255, seconds >= 0, seconds <= Double(UInt32.max) else { return nil }
        let expiry = UInt32(seconds)
        var out: [UInt8] = [Self.version]
        out.reserveCapacity(12 + key.count + customer.count + Self.tagLength)
        out += keyID
        out.append(purpose.rawValue)
        out += [UInt8(expiry >> 24), UInt8((expiry >> 16) & 0xFF), UInt8((expiry >> 8) & 0xFF), UInt8(expiry & 0xFF)]
        out.append(UInt8(key.count))
        out += key
        out.append(UInt8(customer.count))
        out += customer
        return out
    }
}

/// The link secrets: the first signs new links, every one verifies (so a secret can be rotated: put the
/// new one first and keep the old one until its links have expired). Each key's id is the first four
/// bytes of SHA-256 of the secret, so tokens name their key without revealing it.
public struct LinkKeys: Sendable {
    /// A secret's id and key. (swift-crypto's SymmetricKey is immutable but not marked Sendable.)
    struct Key: @unchecked Sendable {
        let id: [UInt8]
        /// HMAC with the key already absorbed: a copy of it authenticates a token (setting up the key
        /// for each one was 1% of an unsubscribe POST's CPU under wrk).
        let mac: HMAC<SHA256>

        init(id: [UInt8], key: SymmetricKey) {
            self.id = id
            self.mac = HMAC<SHA256>(key: key)
        }

        func code(_ bytes: some DataProtocol) -> HMAC<SHA256>.MAC {
            var mac = self.mac
            mac.update(data: bytes)
            return mac.finalize()
        }
    }

    let keys: [Key]

    /// The shortest secret accepted, in bytes.
    public static let minimumLength = 16

    /// Keys from secrets, newest first; nil when there are none. Throws on a secret that is too short.
    public init(secrets: [String]) throws(AftersalesError) {
        var keys: [Key] = []
        for secret in secrets {
            guard secret.utf8.count >= Self.minimumLength else {
                throw .configuration("link secret: a secret has \(secret.utf8.count) bytes; use at least \(Self.minimumLength) random bytes (e.g. `openssl rand -base64 32`)")
            }
            let digest = SHA256.hash(data: Array(("aftersales-link-key:" + secret).utf8))
            keys.append(Key(id: Array(digest.prefix(4)), key: SymmetricKey(data: Array(secret.utf8))))
        }
        guard !keys.isEmpty else { throw .configuration("link secret: none given") }
        self.keys = keys
    }

    /// The secrets of a text: one a line (blank lines and surrounding spaces ignored).
    public static func secrets(in text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The token's text, signed with the newest key.
    public func sign(_ token: LinkToken) -> String {
        let key = keys[0]
        guard var bytes = token.payload(keyID: key.id) else { return "" }
        let tag = key.code(bytes)
        bytes += tag.prefix(LinkToken.tagLength)
        return Base64URL.encode(bytes)
    }

    /// The token in `text`, if it is well formed, signed by one of the keys, of `purpose` and not expired at `now`.
    public func verify(_ text: String, purpose: LinkPurpose, now: Date) throws(LinkToken.Refusal) -> LinkToken {
        guard text.utf8.count <= 1024, let bytes = Base64URL.decode(text), bytes.count > 12 + LinkToken.tagLength,
              bytes[0] == LinkToken.version else { throw .malformed }
        let signed = bytes[..<(bytes.count - LinkToken.tagLength)], tag = bytes[(bytes.count - LinkToken.tagLength)...]
        let id = Array(bytes[1..<5])
        let candidates = keys.filter { $0.id == id }
        guard !candidates.isEmpty else { throw .unknownKey }
        // The truncated tag compared in constant time.
        guard candidates.contains(where: { key in
            key.code(signed).withUnsafeBytes { full in
                constantTimeEqual(Array(full.prefix(LinkToken.tagLength)), Array(tag))
            }
        }) else { throw .badSignature }
        var index = 5
        guard let rawPurpose = LinkPurpose(rawValue: bytes[index]) else { throw .malformed }
        index += 1
        let expiry = bytes[index..<index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        index += 4
        func field() throws(LinkToken.Refusal) -> String {
            guard index < signed.count else { throw .malformed }
            let length = Int(bytes[index])
            index += 1
            guard index + length <= signed.count, let text = String(validating: bytes[index..<index + length], as: UTF8.self) else { throw .malformed }
            index += length
            return text
        }
        let key = try field(), customer = try field()
        guard index == signed.count, !key.isEmpty, !customer.isEmpty else { throw .malformed }
        let token = LinkToken(purpose: rawPurpose, mailKey: key, customerID: customer, expires: Date(timeIntervalSince1970: Double(expiry)))
        guard token.purpose == purpose else { throw .wrongPurpose }
        guard now <= token.expires else { throw .expired }
        return token
    }

    private func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// base64url without padding (RFC 4648 §5), over Foundation's base64.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else { return nil }
        // The alphabet mapped byte by byte (`replacingOccurrences` twice was 3.6% of a POST under wrk).
        var base64 = text.utf8.map { $0 == 0x2D ? 0x2B : $0 == 0x5F ? 0x2F : $0 }
        if base64.count % 4 == 1 { return nil }
        while base64.count % 4 != 0 { base64.append(0x3D) }
        return Data(base64Encoded: Data(base64)).map(Array.init)
    }
}
