@testable import AftersalesKit
import Foundation
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    let scratch: ScratchDirectory

    init() throws { scratch = try ScratchDirectory("aftersales-config") }

    func file(_ text: String) throws -> String {
        let path = scratch.url.appendingPathComponent("aftersales-\(UUID().uuidString).yml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("defaults, then the file, then AFTERSALES_* variables")
    func layering() throws {
        let path = try file("""
        company:
          name: Shenzhen Pumps Export Ltd.
          email: service@szpumps.example
        smtp:
          url: smtp://mail.szpumps.example:587
        holidays:
          extra: [2026-12-24, 2026-12-31]
        """)
        let config = try Configuration.load(path: path, environment: ["AFTERSALES_SMTP_URL": "smtp://127.0.0.1:2525", "AFTERSALES_SMTP_PASSWORD": "s3cret"])
        #expect(config["company.name"] == "Shenzhen Pumps Export Ltd.")
        #expect(config["smtp.url"] == "smtp://127.0.0.1:2525")
        #expect(config.sources["smtp.url"] == "AFTERSALES_SMTP_URL")
        #expect(config["smtp.tls"] == "starttls")
        #expect(config.list("holidays.extra") == ["2026-12-24", "2026-12-31"])
        #expect(config.messageDomain == "szpumps.example")
        #expect(config.smtpPassword == "s3cret")
        #expect(!config.values.values.contains("s3cret"), "the password is not among the printable values")
    }

    @Test("unknown keys, bad values and a password in the file are refused with the key named")
    func refusals() throws {
        let typo = try file("smtp:\n  pasword: x\n")
        #expect(throws: AftersalesError.configuration("config \"\(typo)\": unknown key \"smtp.pasword\"; see the configuration reference in README.md")) {
            try Configuration.load(path: typo, environment: [:])
        }
        do {
            _ = try Configuration.load(path: try file("smtp:\n  password: hunter2\n"), environment: [:])
            Issue.record("a password in the file must be refused")
        } catch {
            #expect(String(describing: error).contains("smtp.password must not be in the file"))
            #expect(!String(describing: error).contains("hunter2"))
        }
        #expect(throws: AftersalesError.self) { try Configuration.load(path: nil, environment: ["AFTERSALES_SMTP_TLS": "maybe"]) }
        #expect(throws: AftersalesError.self) { try Configuration.load(path: nil, environment: ["AFTERSALES_BUSINESS_HOURS_START": "9am"]) }
        #expect(throws: AftersalesError.self) { try Configuration.load(path: "/nonexistent/aftersales.yml", environment: [:]) }
        #expect(throws: AftersalesError.self) { try Configuration.load(path: try file("a: [unclosed"), environment: [:]) }
        for (key, value) in [("AFTERSALES_SEND_BATCH", "0"), ("AFTERSALES_SEND_BATCH", "5000"), ("AFTERSALES_SMTP_CONNECTIONS", "65")] {
            #expect(throws: AftersalesError.self, "\(key)=\(value)") { try Configuration.load(path: nil, environment: [key: value]) }
        }
        #expect(try Configuration.load(path: nil, environment: ["AFTERSALES_SEND_BATCH": "1"]).integer("send.batch") == 1)
    }

    @Test("the password can come from a file")
    func passwordFile() throws {
        let secret = try file("from-file\n")
        let config = try Configuration.load(path: nil, environment: ["AFTERSALES_SMTP_PASSWORD_FILE": secret])
        #expect(config.smtpPassword == "from-file")
    }
}
