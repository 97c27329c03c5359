import AftersalesDomain
@testable import AftersalesKit
import AftersalesPlanning
import Foundation
import Testing

@Suite("Links in mail")
struct MailLinksTests {
    static let templates = CLI.packageRoot.appendingPathComponent("templates").path

    func renderer(linksOn: Bool) throws -> MailRenderer {
        let environment = linksOn ? ["AFTERSALES_LINKS_BASE_URL": "https://after.example.com", "AFTERSALES_LINK_SECRET": "golden-link-secret-0123456789"] : [:]
        return MailRenderer(templates: try TemplateStore(builtIn: Self.templates), configuration: try Configuration.load(path: nil, environment: environment))
    }

    func mail(_ rule: String, _ facts: CustomerFacts) throws -> PlannedMail {
        try #require(Samples.mails(facts: facts).first { $0.rule == rule }, "no sample \(rule) mail")
    }

    func hrefs(_ html: String, _ action: String) -> [String] {
        html.components(separatedBy: "data-aftersales=\"\(action)\"").dropLast().compactMap { part in
            part.components(separatedBy: "href=\"").last?.components(separatedBy: "\"").first
        }
    }

    @Test("links on: survey scores, ratings, receipt, preferences in every footer, unsubscribe; text forms too", arguments: ["en", "ar", "zh-Hans", "es-MX"])
    func on(locale: String) throws {
        let renderer = try renderer(linksOn: true)
        let facts = Samples.facts(locale: locale)
        let survey = try renderer.render(try mail("survey", facts), facts: facts, now: Samples.now)
        let scores = hrefs(survey.html, "survey-score")
        #expect(scores.count == 11 && scores.allSatisfy { $0.hasPrefix("https://after.example.com/s/") })
        #expect(scores.enumerated().allSatisfy { $0.element.hasSuffix("?score=\($0.offset)") })
        #expect(survey.html.contains(">10</a>") && survey.html.contains(">0</a>"), "each link's text is its score")
        #expect(Set(scores.map { $0.split(separator: "?")[0] }).count == 1, "one token for the eleven links")
        #expect(survey.text.contains("10: https://after.example.com/s/"))
        #expect(hrefs(survey.html, "preferences").count == 1 && survey.text.contains("https://after.example.com/p/"))

        let rating = try renderer.render(try mail("satisfaction-check", facts), facts: facts, now: Samples.now)
        // Five ratings (ten when the reply is bilingual: the English half has its own, with the same token).
        let ratings = hrefs(rating.html, "rating")
        #expect(!ratings.isEmpty && ratings.count % 5 == 0 && Set(ratings.map { $0.split(separator: "?")[0] }).count == 1)
        #expect(rating.text.contains("5: https://after.example.com/r/"))
        for rule in ["customs-held", "transit-update", "delay-notice"] {
            let rendered = try renderer.render(try mail(rule, facts), facts: facts, now: Samples.now)
            #expect(hrefs(rendered.html, "confirm-receipt").count == 1, "\(rule)")
            #expect(rendered.text.contains("https://after.example.com/c/"), "\(rule)")
        }
        let marketing = try renderer.render(try mail("repurchase-alert", facts), facts: facts, now: Samples.now)
        let raw = String(decoding: marketing.bytes, as: UTF8.self)
        let unsubscribe = try #require(hrefs(marketing.html, "unsubscribe").first)
        #expect(unsubscribe.hasPrefix("https://after.example.com/u/"))
        #expect(raw.contains("List-Unsubscribe:\r\n <\(unsubscribe)>,\r\n <mailto:unsubscribe@example.com?subject=unsubscribe%20C-SAMPLE>"))
        #expect(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
        // Staff mail carries no customer links.
        let staff = try renderer.render(try mail("complaint-escalation", facts), facts: facts, now: Samples.now)
        #expect(!staff.html.contains("data-aftersales") && !staff.text.contains("after.example.com"))
    }

    @Test("links off: no link at all; the survey asks for a reply; marketing keeps a mailto List-Unsubscribe only")
    func off() throws {
        let renderer = try renderer(linksOn: false)
        let facts = Samples.facts(locale: "en")
        for rule in ["survey", "satisfaction-check", "customs-held", "transit-update", "delay-notice", "repurchase-alert", "tracking"] {
            let rendered = try renderer.render(try mail(rule, facts), facts: facts, now: Samples.now)
            #expect(!rendered.html.contains("data-aftersales=\"survey-score\"") && !rendered.html.contains("data-aftersales=\"preferences\""), "\(rule)")
            #expect(!rendered.text.contains("/survey?") && !rendered.text.contains("/rate?") && !rendered.text.contains("/unsubscribe?"), "\(rule): no unsigned link")
        }
        let survey = try renderer.render(try mail("survey", facts), facts: facts, now: Samples.now)
        #expect(survey.text.contains("reply to this email"))
        let raw = String(decoding: try renderer.render(try mail("repurchase-alert", facts), facts: facts, now: Samples.now).bytes, as: UTF8.self)
        #expect(raw.contains("List-Unsubscribe:\r\n <mailto:unsubscribe@example.com?subject=unsubscribe%20C-SAMPLE>\r\n"))
        #expect(!raw.contains("List-Unsubscribe-Post"), "RFC 8058 one-click needs an https link")
    }

    @Test("templates check renders with the links on and off and says when they are off")
    func check() throws {
        let cli = try CLI()
        let off = try cli.run(["templates", "check"])
        #expect(off.code == 0, "\(off.stdout)")
        #expect(off.stdout.contains("links off"))
        var on = cli
        on.environment["AFTERSALES_LINKS_BASE_URL"] = "https://after.example.com"
        on.environment["AFTERSALES_LINK_SECRET"] = "check-link-secret-0123456789"
        let checked = try on.run(["templates", "check"])
        #expect(checked.code == 0 && !checked.stdout.contains("links off"), "\(checked.stdout)")
        // `run`'s summary says so too.
        let run = try cli.run(["run"])
        #expect(run.code == 0 && run.stdout.contains("; links off: set links.base_url"), "\(run.stdout)")
        #expect(!(try on.run(["run"])).stdout.contains("links off"))
        // A page override that names a missing variable is a problem of the check, like a mail's.
        let override = cli.directory.appendingPathComponent("override/en")
        try FileManager.default.createDirectory(at: override, withIntermediateDirectories: true)
        try "{{> page-head}}<p>{{nickname}}</p>{{> page-foot}}".write(to: override.appendingPathComponent("page-done.mustache"), atomically: true, encoding: .utf8)
        on.environment["AFTERSALES_TEMPLATES_DIR"] = cli.directory.appendingPathComponent("override").path
        let broken = try on.run(["templates", "check"])
        #expect(broken.code == 1 && broken.stdout.contains("template en/page-done: variable \"nickname\" is missing from the data"), "\(broken.stdout)")
    }

    /// A whole survey message with its links, byte for byte (a fixed secret makes the tokens stable).
    @Test("golden survey with links")
    func golden() throws {
        let renderer = try renderer(linksOn: true)
        let facts = Samples.facts(locale: "es-MX")
        let bytes = try renderer.render(try mail("survey", facts), facts: facts, now: Samples.now).bytes
        let golden = CLI.packageRoot.appendingPathComponent("Tests/golden/survey-links-es-MX.eml")
        if ProcessInfo.processInfo.environment["AFTERSALES_UPDATE_GOLDEN"] == "1" { try bytes.write(to: golden) }
        let expected = try #require(FileManager.default.contents(atPath: golden.path), "missing golden file \(golden.path)")
        #expect(bytes == expected, "differs from \(golden.path); if the change is deliberate, rerun with AFTERSALES_UPDATE_GOLDEN=1")
    }
}
