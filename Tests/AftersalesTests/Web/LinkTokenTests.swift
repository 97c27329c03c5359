@testable import AftersalesKit
import Foundation
import Testing

@Suite("Link tokens")
struct LinkTokenTests {
    let keys = try! LinkKeys(secrets: ["secret-number-one-0123456789"])
    let now = t("2026-11-23T10:00:00Z")

    func token(_ purpose: LinkPurpose = .survey, key: String = "survey/O1/1", days: Double = 30) -> LinkToken {
        LinkToken(purpose: purpose, mailKey: key, customerID: "C-MX-001", expires: now.addingTimeInterval(days * 86_400))
    }

    @Test("sign and verify: base64url, purpose, mail key, customer and expiry, no personal data")
    func roundTrip() throws {
        let text = keys.sign(token())
        #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } && text.count < 100)
        #expect(try keys.verify(text, purpose: .survey, now: now) == token())
        let bytes = try #require(Base64URL.decode(text))
        #expect(String(decoding: bytes, as: UTF8.self).contains("survey/O1/1"), "ids only: the mail key and the customer id")
    }

    @Test("refused: cut, another key, another purpose, expired, a changed byte")
    func refusals() throws {
        let text = keys.sign(token())
        for cut in [1, 5, 17, text.count / 2, text.count - 1] {
            #expect(throws: LinkToken.Refusal.self) { try keys.verify(String(text.prefix(cut)), purpose: .survey, now: now) }
        }
        let other = try LinkKeys(secrets: ["someone-elses-secret-0123456789"])
        #expect(throws: LinkToken.Refusal.unknownKey) { try keys.verify(other.sign(token()), purpose: .survey, now: now) }
        #expect(throws: LinkToken.Refusal.wrongPurpose) { try keys.verify(keys.sign(token(.rating)), purpose: .survey, now: now) }
        #expect(throws: LinkToken.Refusal.expired) { try keys.verify(keys.sign(token(days: -1)), purpose: .survey, now: now) }
        var bytes = try #require(Base64URL.decode(text))
        bytes[12] ^= 1
        #expect(throws: LinkToken.Refusal.badSignature) { try keys.verify(Base64URL.encode(bytes), purpose: .survey, now: now) }
        #expect(throws: LinkToken.Refusal.malformed) { try keys.verify("not a token!", purpose: .survey, now: now) }
        #expect(throws: LinkToken.Refusal.malformed) { try keys.verify(String(repeating: "A", count: 5000), purpose: .survey, now: now) }
    }

    @Test("rotation: the new secret signs, the old one still verifies until it is removed")
    func rotation() throws {
        let old = try LinkKeys(secrets: ["the-old-secret-0123456789"])
        let rotated = try LinkKeys(secrets: ["the-new-secret-0123456789", "the-old-secret-0123456789"])
        let issued = old.sign(token())
        #expect(try rotated.verify(issued, purpose: .survey, now: now) == token())
        #expect(throws: LinkToken.Refusal.unknownKey, "a server with only the old secret refuses the new links") {
            try old.verify(rotated.sign(token()), purpose: .survey, now: now)
        }
    }

    @Test("a secret shorter than 16 bytes is refused; secrets are never shown")
    func secrets() throws {
        #expect(throws: AftersalesError.self) { try LinkKeys(secrets: ["short"]) }
        let config = try Configuration.load(path: nil, environment: ["AFTERSALES_LINK_SECRET": "s3cret-s3cret-s3cret", "AFTERSALES_LINKS_BASE_URL": "https://a.example/"])
        #expect(config.links.on && config.links.baseURL == "https://a.example")
        #expect(!String(reflecting: config).contains("s3cret") && !config.entries.contains { $0.value.contains("s3cret") })
        var dumped = ""
        dump(config, to: &dumped)
        #expect(!dumped.contains("s3cret"))
        #expect(Configuration.defaults.links.offReason != nil)
        #expect(throws: AftersalesError.self) { try Configuration.load(path: nil, environment: ["AFTERSALES_LINKS_BASE_URL": "ftp://x"]) }
    }
}
