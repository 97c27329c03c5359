import AftersalesDomain
@testable import AftersalesKit
import AftersalesPlanning
import Foundation
import Mustache
import Testing

let templatesDirectory = CLI.packageRoot.appendingPathComponent("templates").path

/// Fixed generators so that whole messages can be compared byte for byte.
let fixedGenerators = MessageGenerators(boundary: { _, index in "=_boundary_\(index)" }, messageID: { key, domain in "<fixed.\(key.count)@\(domain)>" })

func sampleRenderer(_ environment: [String: String] = [:]) throws -> MailRenderer {
    MailRenderer(templates: try TemplateStore(builtIn: templatesDirectory), configuration: try Configuration.load(path: nil, environment: environment),
                 generators: fixedGenerators)
}

@Suite("MIME encoding")
struct MIMETests {
    @Test("long non-ASCII subjects become encoded words of at most 75 characters on lines of at most 78")
    func encodedWords() {
        for subject in [String(repeating: "您的订单已发货，请注意查收。", count: 6), String(repeating: "تم شحن طلبكم ", count: 10),
                        String(repeating: "Ваш заказ отправлен 🚢 ", count: 6), "Order SO-1 " + String(repeating: "x", count: 90)] {
            let header = MIME.encodedHeader(name: "Subject", subject)
            for line in header.components(separatedBy: "\r\n") { #expect(line.count <= 78, "\(line)") }
            for word in header.split(whereSeparator: { $0 == " " || $0 == "\r\n" }) where word.hasPrefix("=?") {
                #expect(word.count <= 75)
            }
        }
        #expect(MIME.encodedHeader(name: "Subject", "Order SO-1042 shipped") == "Subject: Order SO-1042 shipped")
    }

    @Test("CR/LF in a header value cannot inject a header")
    func injection() {
        for hostile in ["Hello\r\nBcc: victim@example.com", "Hi\nX-Evil: 1", "A\rB"] {
            let header = MIME.encodedHeader(name: "Subject", hostile)
            #expect(!header.contains("\r\nBcc") && !header.contains("\nX-Evil") && !header.contains("\rB"))
            let mailbox = MIME.mailbox(name: hostile, address: "a@example.com")
            #expect(!mailbox.contains("\r") && !mailbox.contains("\n"))
        }
    }

    @Test("internationalized domains are written in punycode")
    func punycode() {
        #expect(MIME.asciiAddress("ventas@münchen.de") == "ventas@xn--mnchen-3ya.de")
        #expect(MIME.asciiAddress("maria@ferretería.mx") == "maria@xn--ferretera-n5a.mx")
        #expect(MIME.asciiAddress("info@例え.jp") == "info@xn--r8jz45g.jp")
        #expect(MIME.asciiAddress("plain@example.com") == "plain@example.com")
    }

    @Test("quoted-printable keeps lines at 76 and encodes what must be encoded")
    func quotedPrintable() {
        let encoded = MIME.quotedPrintable(String(repeating: "ñ", count: 100) + "\nend = fin ")
        for line in encoded.components(separatedBy: "\r\n") { #expect(line.count <= 76) }
        #expect(encoded.contains("=3D") && encoded.hasSuffix("fin=20"))
    }

    /// Quoted-printable written plainly, byte by byte: the reference for the encoder's runs.
    static func referenceQuotedPrintable(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out = ""
        var lineLength = 0
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 13 || byte == 10 {
                if byte == 13, i + 1 < bytes.count, bytes[i + 1] == 10 { i += 1 }
                out += "\r\n"
                lineLength = 0
                i += 1
                continue
            }
            let atEnd = i + 1 == bytes.count || bytes[i + 1] == 13 || bytes[i + 1] == 10
            let literal = (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !atEnd)
            let piece = literal ? String(UnicodeScalar(byte)) : "=" + String(format: "%02X", byte)
            if lineLength + piece.utf8.count > 75 {
                out += "=\r\n"
                lineLength = 0
            }
            out += piece
            lineLength += piece.utf8.count
            i += 1
        }
        return out
    }

    @Test("quoted-printable equals a plain byte-by-byte encoder on texts of every shape: long lines, runs ending at the limit, breaks, spaces at ends")
    func quotedPrintableRuns() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "word", "=", " ", "\t", "\n", "\r\n", "\r", "ñ", "例", "é ", " \n", "\t\r\n", String(repeating: "x", count: 74),
                      String(repeating: "y", count: 75), String(repeating: "z", count: 76), String(repeating: "b ", count: 40)]
        var texts = ["", " ", "=", "\n", String(repeating: "q", count: 75) + "=", String(repeating: "q", count: 74) + " \n", String(repeating: "q", count: 75) + " "]
        for _ in 0..<400 {
            texts.append((0..<Int.random(in: 1...30, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined())
        }
        for text in texts {
            #expect(MIME.quotedPrintable(text) == Self.referenceQuotedPrintable(text), "\(text.debugDescription)")
        }
    }
}

@Suite("Templates and messages")
struct MailTests {
    @Test("templates check: every rule renders in every locale with the sample data")
    func templatesCheck() throws {
        let report = Workspace.check(renderer: try sampleRenderer(), rules: .defaults)
        #expect(report.problems == [], "\(report.problems.joined(separator: "\n"))")
        for locale in ["en", "es", "fr", "pt", "de", "ru", "ar", "zh-Hans"] { #expect(report.locales.contains(locale), "\(locale)") }
        // (+ 1: the transit update's late wording, `transit-late`)
        #expect(report.rendered == report.locales.count * (RuleSet.defaults.rules.count + 1))
    }

    @Test("locales compile side by side, yet a broken template is reported as a serial load would: the first in locale and name order")
    func firstBrokenTemplate() throws {
        let texts = (0..<12).map { String(format: "l%02d", $0) }.reduce(into: [String: [String: String]]()) { texts, locale in
            texts[locale] = ["a": "{{#open}}", "b": "{{ok}}", "c": "{{#x}}{{/y}}"]
        }
        for _ in 0..<5 {
            #expect {
                _ = try TemplateStore(texts: texts)
            } throws: { error in
                (error as? AftersalesError)?.description.contains("template l00/a:") == true
            }
        }
        let lenient = try TemplateStore(texts: texts, strict: false)
        #expect(lenient.broken.count == 24 && lenient.locales.count == 12)
        // Files read side by side: an unreadable one is reported as a serial read would, the first locale's.
        let scratch = try ScratchDirectory("aftersales-templates")
        for locale in texts.keys {
            let directory = scratch.url.appendingPathComponent(locale)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data([0xFF, 0xFE, 0x00]).write(to: directory.appendingPathComponent("x.text.mustache"))
        }
        for _ in 0..<5 {
            #expect {
                _ = try TemplateStore(builtIn: scratch.url.path)
            } throws: { error in
                (error as? AftersalesError)?.description.contains("template l00/x.text.mustache is not readable") == true
            }
        }
    }

    @Test("support hours are converted once per zone, locale and day: every answer is the conversion's, across zones, days and daylight saving changes")
    func supportHoursMemo() throws {
        let configuration = try Configuration.load(path: nil, environment: [:])
        let later = try Configuration.load(path: nil, environment: ["AFTERSALES_SUPPORT_HOURS_START": "07:30"])
        let support = try #require(TimeZone(identifier: configuration.support.timeZone.value))
        var answers: Set<String> = []
        for zone in ["Europe/Berlin", "America/Mexico_City", "Pacific/Auckland", "Asia/Kolkata", "America/Sao_Paulo"] {
            let buyer = try #require(TimeZone(identifier: zone))
            let dates = MailDates(buyer: LocaleTag(unchecked: zone == "Europe/Berlin" ? "de" : "en"), template: "en", zone: buyer)
            // Around the spring and autumn changes of both hemispheres, at several hours of each day.
            for day in ["2026-03-28", "2026-03-30", "2026-04-04", "2026-04-06", "2026-09-26", "2026-09-28", "2026-10-24", "2026-10-26"] {
                for hour in ["00:30", "12:00", "23:59"] {
                    let date = t("\(day)T\(hour):00Z")
                    var calendar = Calendar(identifier: .gregorian)
                    calendar.timeZone = support
                    let fields = calendar.dateComponents([.year, .month, .day], from: date)
                    for config in [configuration, later] {
                        let direct = MailContext.convertedSupportHours(start: config.support.hoursStart.text, end: config.support.hoursEnd.text,
                                                                       from: support, dates: dates, on: fields)
                        #expect(MailContext.supportHours(config, dates: dates, on: date) == direct, "\(zone) \(day) \(hour)")
                        answers.insert(direct)
                    }
                }
            }
        }
        #expect(answers.count > 10, "the answers differ by zone and configuration (10), and by day across a change: \(answers.count)")
    }

    @Test("a store of some mails' templates holds their parts and every partial they name, through partials, and renders them as the whole store")
    func templatesByName() throws {
        let whole = try TemplateStore(builtIn: templatesDirectory)
        let chosen: Set<String> = ["tracking", "complaint-ack"]
        let lean = try TemplateStore(builtIn: templatesDirectory, locales: ["en", "es"], templates: chosen)
        #expect(lean.locales == ["en", "es"])
        for locale in lean.locales {
            let texts = try #require(whole.texts[locale])
            var expected: Set<String> = []
            var next = chosen.flatMap { ["\($0).subject", "\($0).text", "\($0).html"] }
            while let name = next.popLast() {
                guard let text = texts[name], expected.insert(name).inserted else { continue }
                next += TemplateStore.partialNames(text)
            }
            #expect(Set(lean.texts[locale]?.keys ?? [:].keys) == expected, "\(locale)")
            #expect(expected.count > 6 && expected.count < texts.count, "\(locale): partials are loaded, other mails are not")
        }
        let configuration = try Configuration.load(path: nil, environment: [:])
        var compared = 0
        for locale in lean.locales {
            let facts = Samples.facts(locale: locale)
            for mail in Samples.mails(facts: facts) where chosen.contains(mail.template) {
                let request = mail
                let bytes = try MailRenderer(templates: lean, configuration: configuration, generators: fixedGenerators).render(request, facts: facts, now: Samples.now).bytes
                #expect(bytes == (try MailRenderer(templates: whole, configuration: configuration, generators: fixedGenerators).render(request, facts: facts, now: Samples.now)).bytes)
                compared += 1
            }
        }
        #expect(compared >= 4)
        // A partial named only by a partial is loaded too; a template no chosen mail names is not.
        let scratch = try ScratchDirectory("aftersales-templates")
        let en = scratch.url.appendingPathComponent("en")
        try FileManager.default.createDirectory(at: en, withIntermediateDirectories: true)
        for (name, text) in ["a.subject": "{{#s}}{{> p}}{{/s}}", "a.text": "t", "a.html": "h", "p": "{{> q}}", "q": "x", "b.subject": "b", "b.text": "b", "b.html": "b", "r": "{{#"] {
            try text.write(to: en.appendingPathComponent("\(name).mustache"), atomically: true, encoding: .utf8)
        }
        let small = try TemplateStore(builtIn: scratch.url.path, templates: ["a"])
        #expect(Set(small.texts["en"]?.keys ?? [:].keys) == ["a.subject", "a.text", "a.html", "p", "q"])
        #expect(try small.render("a.subject", locale: "en", context: ["s": true]) == "x")
        #expect(throws: AftersalesError.self, "the whole store still refuses the broken template") { try TemplateStore(builtIn: scratch.url.path) }
    }

    @Test("strict: a variable missing from the data is an error, not an empty string")
    func strict() throws {
        let store = try TemplateStore(texts: ["en": ["x.subject": "Order {{order.id}}", "x.text": "Dear {{customer.nmae}}", "x.html": "{{#list}}{{name}}{{/list}}",
                                                     "p": "{{> greeting}}", "greeting": "Hi {{who}}"]])
        #expect(throws: TemplateStore.Problem.self) { try store.render("x.text", locale: "en", context: ["customer": ["name": "A"]]) }
        do {
            _ = try store.render("x.text", locale: "en", context: ["customer": ["name": "A"]])
        } catch {
            #expect(error.description == "template en/x.text: variable \"customer.nmae\" is missing from the data")
        }
        #expect(try store.render("x.subject", locale: "en", context: ["order": ["id": "SO-1"]]) == "Order SO-1")
        #expect(try store.render("x.html", locale: "en", context: ["list": [] as [Any]]) == "", "an empty section renders nothing, checks nothing")
        #expect(throws: TemplateStore.Problem.self) { try store.render("x.html", locale: "en", context: ["list": [["nome": "a"]]]) }
        #expect(throws: TemplateStore.Problem.self) { try store.render("p", locale: "en", context: [String: String]()) }
    }

    @Test("values print as text: numbers and flags as such, a list in Swift's notation")
    func printedValues() throws {
        let store = try TemplateStore(texts: ["en": ["x": "{{n}} {{f}} {{{list}}}"]])
        let context: [String: Any] = ["n": 42, "f": true, "list": ["a", 1, false] as [Any]]
        #expect(try store.render("x", locale: "en", context: context) == #"42 true ["a", 1, false]"#)
    }

    @Test("HTML parts escape the five HTML characters of every value, in partials and sections too; text parts print {{{values}}} as they are; a parse error names the file's own line")
    func htmlEscaping() throws {
        let store = try TemplateStore(texts: ["en": [
            "x.html": "<p>{{v}}</p>\n{{> p.html}}{{#list}}[{{.}}]{{/list}}", "p.html": "<b>{{v}}</b>\n", "x.text": "{{{v}}}",
            "broken.html": "line 1\n{{#open}}",
        ]], strict: false)
        let context: [String: Any] = ["v": #"a<b>&"c"'d é 中"#, "list": ["<", "plain"]]
        #expect(try store.render("x.html", locale: "en", context: context)
                == "<p>a&lt;b&gt;&amp;&quot;c&quot;&#39;d é 中</p>\n<b>a&lt;b&gt;&amp;&quot;c&quot;&#39;d é 中</b>\n[&lt;][plain]")
        #expect(try store.render("x.text", locale: "en", context: context) == #"a<b>&"c"'d é 中"#)
        #expect(store.broken["en/broken.html"]?.contains("line 2") == true, "\(store.broken)")
    }

    @Test("strict with the typed data: a part the mail does not have, a name no part has, and a name found lower on the stack")
    func strictTyped() throws {
        let facts = Samples.facts(locale: "en")
        let mail = try #require(Samples.mails(facts: facts).first { $0.rule == "review-thanks" })
        let data = try sampleRenderer().context(mail, facts: facts, locale: "en")
        let store = try TemplateStore(texts: ["en": [
            "a": "{{shipment.carrier}}", "b": "{{customer.nmae}}", "c": "{{#order.products}}{{name}} {{customer.name}} {{sku}}{{/order.products}}",
            "d": "{{#order.products}}{{nmae}}{{/order.products}}", "e": "{{#customer}}{{company.name}}{{/customer}}",
        ]])
        func problem(_ name: String) -> String? {
            do { _ = try store.render(name, locale: "en", context: data); return nil } catch { return error.message }
        }
        #expect(problem("a") == "variable \"shipment\" is missing from the data")
        #expect(problem("b") == "variable \"customer.nmae\" is missing from the data")
        #expect(problem("c") == nil)
        let line = try #require(data.order.products.first)
        #expect(try store.render("c", locale: "en", context: data) == "\(line.name) \(data.customer.name) \(line.sku)")
        #expect(problem("d") == "variable \"nmae\" is missing from the data")
        #expect(problem("e") == nil, "a name the section's object lacks is found below it")
    }

    @Test("dates and times are written in the buyer's locale and time zone; staff mail and English halves in English")
    func localeDates() throws {
        let renderer = try sampleRenderer()
        func ack(_ facts: CustomerFacts) throws -> PlannedMail {
            let plan = Planner.plan(facts, existing: [], rules: .defaults, settings: PlanningSettings(), now: Samples.now)
            return try #require(plan.mails.first { $0.rule == "complaint-ack" && $0.context["complaint"] == "K-1" })
        }
        for (locale, placed, due) in [("es-MX", "1 de octubre de 2026", "22 de noviembre de 2026"), ("zh-Hans", "2026年10月1日", "2026年11月22日"),
                                      ("en", "October 1, 2026", "November 22, 2026"), ("de", "1. Oktober 2026", "22. November 2026")] {
            let facts = Samples.facts(locale: locale)
            let mail = try ack(facts)
            let data = renderer.context(mail, facts: facts, locale: try #require(renderer.locale(for: mail, customer: facts.customer)))
            #expect(data.order.placed == placed, "\(locale)")
            #expect(data.complaint?.due.hasPrefix(due) == true, "\(locale): \(data.complaint?.due ?? "")")
        }
        let facts = Samples.facts(locale: "es-MX")
        let mail = try ack(facts)
        // ICU puts a no-break space (or a narrow one) before the AM/PM mark.
        func spaced(_ text: String?) -> String? { text?.replacingOccurrences(of: "\u{202F}", with: " ").replacingOccurrences(of: "\u{A0}", with: " ") }
        #expect(spaced(renderer.context(mail, facts: facts, locale: "es").complaint?.due) == "22 de noviembre de 2026, 07:00 a.m.")
        #expect(spaced(renderer.context(mail, facts: facts, locale: "en").complaint?.due) == "November 22, 2026 at 07:00 AM")
        #expect(renderer.context(mail, facts: facts, locale: "es").supportHours.hasSuffix("(America/Sao_Paulo)"))
    }

    @Test("the offer terms come from configuration.offers: coupons, trade-in, returns window")
    func offers() throws {
        let renderer = try sampleRenderer()
        let facts = Samples.facts(locale: "en")
        let mails = Samples.mails(facts: facts)
        let terms = renderer.configuration.offers
        let mail = try #require(mails.first { $0.rule == "complaint-solution" })
        let data = renderer.context(mail, facts: facts, locale: "en")
        #expect(data.complaint?.coupon == "USD \(terms.logisticsCouponAmount)")
        #expect((89...92).contains(data.complaint?.couponDays ?? 0), "3 months in days")
        #expect(data.survey.coupon == "\(terms.surveyCouponPercent)%" && data.review.coupon == "\(terms.reviewCouponPercent)%")
        #expect(data.review.validDays == terms.reviewCouponDays)
        let store = try TemplateStore(texts: ["en": ["x": "{{offers.returns_days}} {{policy.returns_days}} {{offers.trade_in_percent}} {{offers.logistics_coupon}} {{offers.logistics_coupon_months}}"]])
        #expect(try store.render("x", locale: "en", context: data) == "\(terms.returnsDays) \(terms.returnsDays) \(terms.tradeInPercent) USD \(terms.logisticsCouponAmount) \(terms.logisticsCouponMonths)")
        // An upgrade notice for a product without an offer of its own quotes the trade-in terms.
        var plain = facts
        plain.products["PUMP-200"]?.successorOffer = nil
        let upgrade = try #require(Samples.mails(facts: plain).first { $0.rule == "upgrade-notice" })
        let offer = try #require(renderer.context(upgrade, facts: plain, locale: "es").successor)
        #expect(offer.hasOffer && offer.offer.hasPrefix("\(terms.tradeInPercent)% de descuento"))
        #expect(try renderer.render(upgrade, facts: plain, now: Samples.now).text.contains("\(terms.tradeInPercent)%"))
    }

    @Test("base64 attachments come in lines of 76 characters with CRLF between them")
    func base64Lines() {
        let data = Data((0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let text = MIME.base64Lines(data)
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.dropLast().allSatisfy { $0.count == 76 } && lines.last!.count <= 76 && !text.hasSuffix("\r\n"))
        #expect(Data(base64Encoded: lines.joined()) == data)
        #expect(MIME.percent("a b/ñ~") == "a%20b%2F%C3%B1~")
    }

    @Test("a company's templates.dir overrides single files; the rest stays built in")
    func overrideDirectory() throws {
        let scratch = try ScratchDirectory("aftersales-override")
        defer { withExtendedLifetime(scratch) {} }
        let dir = scratch.url
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("en"), withIntermediateDirectories: true)
        try "Your order {{{order.id}}} is on its way with {{{shipment.carrier}}}".write(
            to: dir.appendingPathComponent("en/tracking.subject.mustache"), atomically: true, encoding: .utf8)
        let renderer = MailRenderer(templates: try TemplateStore(builtIn: templatesDirectory, override: dir.path),
                                    configuration: try Configuration.load(path: nil, environment: [:]))
        let facts = Samples.facts(locale: "en")
        let mail = try #require(Samples.mails(facts: facts).first { $0.rule == "tracking" })
        let parts = try renderer.parts(mail, facts: facts, locale: "en")
        #expect(parts.subject == "Your order SO-1 is on its way with Maersk")
        #expect(parts.text == (try sampleRenderer().parts(mail, facts: facts, locale: "en")).text)
    }

    @Test("locale fallback: es-MX → es, a language without templates → en")
    func fallback() throws {
        let renderer = try sampleRenderer()
        let mail = try #require(Samples.mails().first { $0.rule == "tracking" })
        #expect(renderer.locale(for: mail, customer: Samples.facts(locale: "es-MX").customer) == "es")
        #expect(renderer.locale(for: mail, customer: Samples.facts(locale: "th").customer) == "en")
        #expect(renderer.locale(for: mail, customer: Samples.facts(locale: "zh-Hans-CN").customer) == "zh-Hans")
    }

    /// Renders every rule in every locale and has Python's email package check each message.
    @Test("every rule in every locale parses strictly in an independent parser, headers decode back to the original")
    func independentParser() throws {
        let scratch = try ScratchDirectory("aftersales-docs")
        defer { withExtendedLifetime(scratch) {} }
        let documents = scratch.url.appendingPathComponent("documents")
        try FileManager.default.createDirectory(at: documents.appendingPathComponent("SO-1"), withIntermediateDirectories: true)
        try Data("%PDF-1.4 invoice".utf8).write(to: documents.appendingPathComponent("SO-1/commercial invoice.pdf"))
        try Data("%PDF-1.4 origin".utf8).write(to: documents.appendingPathComponent("SO-1/certificate-of-origin.pdf"))
        let renderer = try sampleRenderer(["AFTERSALES_DOCUMENTS_DIR": documents.path])
        let out = scratch.url.appendingPathComponent("eml")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var manifest: [[String: Any]] = []
        let locales = ["en", "es-MX", "fr", "pt-BR", "de", "ru", "ar-SA", "zh-Hans"]
        for locale in locales {
            let facts = Samples.facts(locale: locale)
            for mail in Samples.mails(facts: facts) {
                let rendered = try renderer.render(mail, facts: facts, now: Samples.now)
                let path = out.appendingPathComponent("\(locale)-\(mail.template).eml").path
                try rendered.bytes.write(to: URL(fileURLWithPath: path))
                var item: [String: Any] = ["path": path, "subject": rendered.subject, "parts": ["text/plain", "text/html"],
                                           "marketing": mail.stream == .marketing]
                item["to_name"] = mail.audience == .customer ? facts.customer.name : NSNull()
                if mail.rule == "tracking" && mail.context["shipment"] == "SH-1" {
                    item["attachments"] = ["commercial invoice.pdf", "certificate-of-origin.pdf"]
                    item["parts"] = ["multipart/mixed", "text/plain", "text/html", "application/pdf"]
                }
                if ["complaint-ack", "damage-reply"].contains(mail.rule) {
                    item["html_contains"] = ["&lt;b&gt;Two&lt;/b&gt;"]
                    item["text_contains"] = ["<b>Two</b> pumps cracked 🙁"]
                }
                manifest.append(item)
            }
        }
        #expect(manifest.count == locales.count * (RuleSet.defaults.rules.count + 1), "every rule, and the late transit update")
        let manifestPath = out.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestPath)
        let result = try runPython(CLI.packageRoot.appendingPathComponent("Tests/tools/check_mail.py").path, manifestPath.path)
        #expect(result.code == 0, "\(result.output)")
        #expect(result.output.contains("checked \(manifest.count) messages: 0 problems"))
    }

    @Test("customer text is escaped in HTML; a 5,000-character complaint and emoji survive; Arabic HTML is right-to-left")
    func hardCases() throws {
        let renderer = try sampleRenderer()
        var facts = Samples.facts(locale: "ar-SA", zone: "Asia/Riyadh", country: "SA")
        let long = "<script>alert(1)</script> 🙁 " + String(repeating: "ж", count: 5_000)
        facts.orders[1].complaints[0].text = long
        let ack = try #require(Samples.mails(facts: facts).first { $0.rule == "damage-reply" })
        let rendered = try renderer.render(ack, facts: facts, now: Samples.now)
        #expect(rendered.locale == "ar")
        #expect(!rendered.html.contains("<script>") && rendered.html.contains("&lt;script&gt;"))
        #expect(rendered.text.contains(long))
        let raw = String(decoding: rendered.bytes, as: UTF8.self)
        #expect(raw.contains("dir=3D\"rtl\"") || raw.contains("dir=3D=22rtl"))
        #expect(!raw.contains("\nBcc:"))
        for line in raw.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 998) }
    }

    @Test("a communication complaint is answered in the buyer's language and English side by side")
    func bilingual() throws {
        let renderer = try sampleRenderer()
        let facts = Samples.facts(locale: "es-MX")
        let plan = Planner.plan(facts, existing: [], rules: .defaults, settings: PlanningSettings(), now: Samples.now)
        let ack = try #require(plan.mails.first { $0.rule == "complaint-ack" && $0.context["complaint"] == "K-5" })
        let rendered = try renderer.render(ack, facts: facts, now: Samples.now)
        #expect(rendered.locale == "es")
        #expect(rendered.text.contains("English"))
        #expect(rendered.html.contains("lang=\"en\""))
        let other = try #require(plan.mails.first { $0.rule == "complaint-ack" && $0.context["complaint"] == "K-1" })
        #expect(!(try renderer.render(other, facts: facts, now: Samples.now)).text.contains("\nEnglish\n"))
    }

    @Test("headers: From, Reply-To the account manager, Cc, stable Message-ID, thread per order, marketing unsubscribe")
    func headers() throws {
        let renderer = MailRenderer(templates: try TemplateStore(builtIn: templatesDirectory), configuration: try Configuration.load(path: nil, environment: [:]))
        let facts = Samples.facts(locale: "en")
        let mails = Samples.mails(facts: facts)
        let tracking = try renderer.render((try #require(mails.first { $0.rule == "tracking" })), facts: facts, now: Samples.now)
        let raw = String(decoding: tracking.bytes, as: UTF8.self)
        #expect(raw.contains("Reply-To: =?UTF-8?B?"))
        #expect(raw.contains("Cc: <compras@ferrenorte.mx>"))
        #expect(raw.contains("To: =?UTF-8?B?") && raw.contains("<maria@xn--ferretera-n5a.mx>"))
        #expect(raw.contains("Message-ID: <tracking/SH-1/1@example.com>"))
        #expect(raw.contains("In-Reply-To: <order-SO-1@example.com>") && raw.contains("References: <order-SO-1@example.com>"))
        #expect(raw.contains("Auto-Submitted: auto-generated") && !raw.contains("List-Unsubscribe"))
        let again = try renderer.render((try #require(mails.first { $0.rule == "tracking" })), facts: facts, now: Samples.now)
        #expect(again.bytes == tracking.bytes, "rendering is deterministic")
        let marketing = try renderer.render((try #require(mails.first { $0.rule == "repurchase-alert" })), facts: facts, now: Samples.now)
        let text = String(decoding: marketing.bytes, as: UTF8.self)
        // Links off (no links.base_url and secret): the mailto only, and no one-click POST (RFC 8058 needs https).
        #expect(text.contains("List-Unsubscribe:\r\n <mailto:unsubscribe@example.com?subject=unsubscribe%20C-SAMPLE>\r\n"))
        #expect(!text.contains("List-Unsubscribe-Post"))
    }

    /// Golden files: whole messages, byte for byte. Regenerate with AFTERSALES_UPDATE_GOLDEN=1 after a deliberate change.
    @Test("golden messages", arguments: [("tracking", "en"), ("damage-reply", "ar-SA"), ("repurchase-alert", "zh-Hans"), ("customs-held", "ru"),
                                         ("inspection-guide", "de"), ("complaint-escalation", "es-MX")])
    func golden(rule: String, locale: String) throws {
        let renderer = try sampleRenderer()
        let facts = Samples.facts(locale: locale)
        let mail = try #require(Samples.mails(facts: facts).first { $0.rule == rule })
        let bytes = try renderer.render(mail, facts: facts, now: Samples.now).bytes
        let golden = CLI.packageRoot.appendingPathComponent("Tests/golden/\(rule)-\(locale).eml")
        if ProcessInfo.processInfo.environment["AFTERSALES_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try bytes.write(to: golden)
        }
        let expected = try #require(FileManager.default.contents(atPath: golden.path), "missing golden file \(golden.path)")
        #expect(bytes == expected, "differs from \(golden.path); if the change is deliberate, rerun with AFTERSALES_UPDATE_GOLDEN=1")
    }
}

/// Runs a Python script with the system interpreter (Debian's, which has the packages the tests use).
func runPython(_ arguments: String...) throws -> (code: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "/usr/bin/env")
    process.arguments = process.executableURL?.path == "/usr/bin/env" ? ["python3"] + arguments : arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
