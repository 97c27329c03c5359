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
        #expect(config.company.name == "Shenzhen Pumps Export Ltd.")
        #expect(config.smtp.url == "smtp://127.0.0.1:2525")
        #expect(config.entries.first { $0.key == "smtp.url" }?.source == "AFTERSALES_SMTP_URL")
        #expect(config.entries.first { $0.key == "company.name" }?.source == path)
        #expect(config.entries.first { $0.key == "smtp.tls" } == Configuration.Entry(key: "smtp.tls", value: "starttls", source: "default"))
        #expect(config.smtp.tls == .starttls)
        #expect(config.holidays.extra == ["2026-12-24", "2026-12-31"])
        #expect(config.messageDomain == "szpumps.example")
        #expect(config.smtpPassword == "s3cret")
        #expect(!config.entries.contains { $0.value.contains("s3cret") }, "the password is not among the printable values")
        #expect(!String(describing: config).contains("s3cret") && !String(reflecting: config).contains("s3cret"))
        var dumped = ""
        dump(config, to: &dumped)
        #expect(!dumped.contains("s3cret"))
        #expect(!config.entries.contains { $0.key.contains("password") && !["smtp.password_file", "imap.password_file"].contains($0.key) })
    }

    @Test("every key has its default, its environment variable and its place in the reference")
    func keys() throws {
        let defaults = Configuration.defaults
        #expect(defaults.entries.map(\.key) == [
            "company.name", "company.email", "company.domain", "company.website", "links.base_url", "links.secret_file", "links.valid_days",
            "supervisor.name", "supervisor.email", "department_head.name",
            "support.hours_start", "support.hours_end", "support.time_zone", "business_hours.start", "business_hours.end",
            "holidays.extra", "marketing.cap_count", "marketing.cap_days", "customs.days_before_eta",
            "rules.file", "templates.dir", "documents.dir", "import.dir", "import.mappings_file", "transport.kind", "transport.dir",
            "smtp.url", "smtp.tls", "smtp.user", "smtp.password_file", "smtp.oauth_token_file", "smtp.ca_file",
            "smtp.connect_timeout", "smtp.timeout", "smtp.connections", "send.per_minute", "send.batch", "send.per_run",
            "send.in_doubt_after", "send.in_doubt.transactional", "send.in_doubt.marketing", "send.in_doubt.internal",
            "imap.url", "imap.user", "imap.tls", "imap.password_file", "imap.ca_file", "imap.processed_folder", "imap.max_bytes",
            "imap.timeout", "imap.complaint_keywords", "bounce.soft_limit", "bounce.soft_days", "bounce.policy",
            "offers.logistics_coupon_amount", "offers.logistics_coupon_months", "offers.survey_coupon_percent",
            "offers.trade_in_percent", "offers.review_coupon_percent", "offers.review_coupon_days", "offers.returns_days",
        ])
        #expect(defaults.entries.allSatisfy { $0.source == "default" })
        #expect(defaults == Configuration.defaults)
        #expect(defaults.company.email.value == "aftersales@example.com" && defaults.supervisor.email.value == "supervisor@example.com")
        #expect(defaults.support.hoursStart.minutes == 540 && defaults.support.hoursEnd.text == "18:00")
        #expect(defaults.support.timeZone.value == "Asia/Shanghai" && defaults.businessHours.start.minutes == 540 && defaults.businessHours.end.minutes == 1080)
        #expect(defaults.marketing.capCount == 2 && defaults.marketing.capDays == 7 && defaults.customs.daysBeforeETA == 3)
        #expect(defaults.transport.kind == .file && defaults.transport.dir == "outbox-files" && defaults.smtp.url == "smtp://127.0.0.1:25")
        #expect(defaults.smtp.connectTimeout == 10 && defaults.smtp.timeout == 60 && defaults.smtp.connections == 1)
        #expect(defaults.send.perMinute == 0 && defaults.send.batch == 50 && defaults.send.perRun == 0)
        #expect(defaults.send.inDoubtAfter == 900 && defaults.send.inDoubtPolicy(.transactional) == .resend
                && defaults.send.inDoubtPolicy(.internal) == .resend && defaults.send.inDoubtPolicy(.marketing) == .hold)
        #expect(defaults.rules.file.isEmpty && defaults.templates.dir.isEmpty && defaults.documents.dir.isEmpty && defaults.holidays.extra.isEmpty)
        #expect(defaults.messageDomain == "example.com" && defaults.smtpPassword == nil)
        #expect(Configuration.environmentName("offers.trade_in_percent") == "AFTERSALES_OFFERS_TRADE_IN_PERCENT")
        // Every key is overridden by its variable.
        for entry in defaults.entries where !["smtp.password_file", "links.secret_file", "imap.password_file"].contains(entry.key) {
            let name = Configuration.environmentName(entry.key)
            let value = entry.key == "holidays.extra" ? "2026-12-24" : entry.value
            let config = try Configuration.load(path: nil, environment: [name: value])
            #expect(config.entries.first { $0.key == entry.key }?.source == name, "\(name)")
        }
    }

    @Test("offer terms: the source documents' values by default, offers.* in the file, AFTERSALES_OFFERS_* over it")
    func offers() throws {
        #expect(Configuration.defaults.offers == OfferTerms())
        #expect(Configuration.defaults.offers == OfferTerms(logisticsCouponAmount: 200, logisticsCouponMonths: 3, surveyCouponPercent: 10,
                                                            tradeInPercent: 20, reviewCouponPercent: 5, reviewCouponDays: 30, returnsDays: 30))
        let path = try file("offers:\n  logistics_coupon_amount: 150\n  trade_in_percent: 25\n  returns_days: 15\n")
        let config = try Configuration.load(path: path, environment: ["AFTERSALES_OFFERS_SURVEY_COUPON_PERCENT": "12",
                                                                      "AFTERSALES_OFFERS_RETURNS_DAYS": "20"])
        #expect(config.offers == OfferTerms(logisticsCouponAmount: 150, surveyCouponPercent: 12, tradeInPercent: 25, returnsDays: 20))
        #expect(throws: AftersalesError.configuration("offers.trade_in_percent \"120\" (from AFTERSALES_OFFERS_TRADE_IN_PERCENT): expected 0 to 100 percent")) {
            try Configuration.load(path: nil, environment: ["AFTERSALES_OFFERS_TRADE_IN_PERCENT": "120"])
        }
        let typo = try file("offers:\n  trade_in: 25\n")
        #expect(throws: AftersalesError.configuration("config \"\(typo)\": unknown key \"offers.trade_in\"; see the configuration reference in README.md")) {
            try Configuration.load(path: typo, environment: [:])
        }
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
        // A bad value: one line naming the key, the value, where it came from and what is expected.
        let bad: [(String, String, String)] = [
            ("AFTERSALES_SMTP_TLS", "maybe", "smtp.tls \"maybe\" (from AFTERSALES_SMTP_TLS): expected starttls, tls or none"),
            ("AFTERSALES_BUSINESS_HOURS_START", "9am", "business_hours.start \"9am\" (from AFTERSALES_BUSINESS_HOURS_START): expected a time of day like 09:00"),
            ("AFTERSALES_SEND_BATCH", "0", "send.batch \"0\" (from AFTERSALES_SEND_BATCH): expected 1 to 1000 mails"),
            ("AFTERSALES_SEND_BATCH", "5000", "send.batch \"5000\" (from AFTERSALES_SEND_BATCH): expected 1 to 1000 mails"),
            ("AFTERSALES_SMTP_CONNECTIONS", "65", "smtp.connections \"65\" (from AFTERSALES_SMTP_CONNECTIONS): expected 1 to 64 connections"),
            ("AFTERSALES_SMTP_TIMEOUT", "-1", "smtp.timeout \"-1\" (from AFTERSALES_SMTP_TIMEOUT): expected a whole number, 0 or more"),
            ("AFTERSALES_MARKETING_CAP_DAYS", "0x10", "marketing.cap_days \"0x10\" (from AFTERSALES_MARKETING_CAP_DAYS): expected a whole number, 0 or more"),
            ("AFTERSALES_TRANSPORT_KIND", "pigeon", "transport.kind \"pigeon\" (from AFTERSALES_TRANSPORT_KIND): expected smtp or file"),
            ("AFTERSALES_SMTP_URL", "http://x", "smtp.url \"http://x\" (from AFTERSALES_SMTP_URL): expected smtp://host:port or smtps://host:port"),
            ("AFTERSALES_COMPANY_EMAIL", "nobody", "company.email \"nobody\" (from AFTERSALES_COMPANY_EMAIL): expected an email address"),
            ("AFTERSALES_SUPPORT_TIME_ZONE", "Mars/Base", "support.time_zone \"Mars/Base\" (from AFTERSALES_SUPPORT_TIME_ZONE): expected an IANA time zone like Asia/Shanghai"),
            ("AFTERSALES_HOLIDAYS_EXTRA", "2026-12-24, xmas", "holidays.extra \"2026-12-24, xmas\" (from AFTERSALES_HOLIDAYS_EXTRA): expected dates like 2026-12-24, comma-separated"),
        ]
        for (name, value, message) in bad {
            #expect(throws: AftersalesError.configuration(message)) { try Configuration.load(path: nil, environment: [name: value]) }
        }
        let octal = try file("customs:\n  days_before_eta: 010\n")
        #expect(try Configuration.load(path: octal, environment: [:]).customs.daysBeforeETA == 10, "decimal as written, not YAML's octal 8")
        #expect(throws: AftersalesError.self) { try Configuration.load(path: "/nonexistent/aftersales.yml", environment: [:]) }
        #expect(throws: AftersalesError.self) { try Configuration.load(path: try file("a: [unclosed"), environment: [:]) }
        let scalarSection = try file("smtp: mail.example.com\n")
        #expect(throws: AftersalesError.configuration("config \"\(scalarSection)\": unknown key \"smtp\"; see the configuration reference in README.md")) {
            try Configuration.load(path: scalarSection, environment: [:])
        }
        #expect(try Configuration.load(path: nil, environment: ["AFTERSALES_SEND_BATCH": "1"]).send.batch == 1)
        let typed = try Configuration.load(path: try file("smtp:\n  tls: tls\n  connections: 4\nbusiness_hours:\n  start: '8:30'\nholidays:\n  extra: 2026-12-24, 2026-12-31\n"),
                                           environment: ["AFTERSALES_TRANSPORT_KIND": "smtp"])
        #expect(typed.smtp.tls == .tls && typed.smtp.connections == 4 && typed.transport.kind == .smtp)
        #expect(typed.businessHours.start.minutes == 510 && typed.holidays.extra == ["2026-12-24", "2026-12-31"])
    }

    @Test("the password can come from a file")
    func passwordFile() throws {
        let secret = try file("from-file\n")
        let config = try Configuration.load(path: nil, environment: ["AFTERSALES_SMTP_PASSWORD_FILE": secret])
        #expect(config.smtpPassword == "from-file")
    }
}
