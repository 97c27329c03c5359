import AftersalesDomain
@testable import AftersalesKit
import AftersalesPlanning
import Foundation
import Testing

/// Which documents a mail attaches and whether it is bilingual are fields of its rule.
@Suite("Rule behaviour")
struct RuleBehaviourTests {
    /// A documents directory with the sample order's two shipment documents.
    func documents(_ scratch: ScratchDirectory) throws -> String {
        let documents = scratch.url.appendingPathComponent("documents")
        try FileManager.default.createDirectory(at: documents.appendingPathComponent("SO-1"), withIntermediateDirectories: true)
        try Data("%PDF-1.4 invoice".utf8).write(to: documents.appendingPathComponent("SO-1/commercial invoice.pdf"))
        try Data("%PDF-1.4 origin".utf8).write(to: documents.appendingPathComponent("SO-1/certificate-of-origin.pdf"))
        return documents.path
    }

    func attachments(rule id: String, rules: RuleSet, documents: String) throws -> [String] {
        let facts = Samples.facts(locale: "en")
        let plan = Planner.plan(facts, existing: [], rules: rules, settings: PlanningSettings(), now: Samples.now, leavingOut: false)
        let mail = try #require(plan.mails.first { $0.rule == id && $0.context["shipment"] == "SH-1" })
        let renderer = MailRenderer(templates: try TemplateStore(builtIn: templatesDirectory),
                                    configuration: try Configuration.load(path: nil, environment: ["AFTERSALES_DOCUMENTS_DIR": documents]),
                                    rules: rules)
        return try renderer.render(mail, facts: facts, now: Samples.now).attachments
    }

    @Test("the built-in rules keep today's documents and bilingual replies")
    func defaults() {
        let set = RuleSet.defaults
        for id in ["tracking", "customs-notes", "customs-held"] { #expect(set[id]?.attachments == [.shipmentDocuments], "\(id)") }
        #expect(set["inspection-guide"]?.attachments == [.installationGuide])
        #expect(set.rules.filter { !$0.attachments.isEmpty }.count == 4)
        #expect(set.rules.filter(\.bilingual).map(\.id).sorted() == ["complaint-ack", "complaint-solution", "satisfaction-check"])
    }

    @Test("a rule added through rules.file with the tracking template attaches the shipment documents")
    func addedRuleAttaches() throws {
        let scratch = try ScratchDirectory("aftersales-rule-docs")
        let dir = try documents(scratch)
        let set = try RulesFile.apply(yaml: """
        rules:
          tracking-copy:
            trigger: shipment.dispatched
            template: tracking
            window: immediate
        """, to: .defaults, path: "rules.yml")
        #expect(set["tracking-copy"]?.attachments == [.shipmentDocuments])
        #expect(try attachments(rule: "tracking-copy", rules: set, documents: dir) == ["commercial invoice.pdf", "certificate-of-origin.pdf"])
        #expect(try attachments(rule: "tracking", rules: set, documents: dir).count == 2, "the built-in rule still attaches them")
    }

    @Test("rules.file sets attachments and bilingual; unknown values are refused naming the rule and key")
    func fileSetsBehaviour() throws {
        let scratch = try ScratchDirectory("aftersales-rule-docs")
        let dir = try documents(scratch)
        let set = try RulesFile.apply(yaml: """
        rules:
          tracking:
            attachments: []
          tracking-quiet:
            trigger: shipment.dispatched
            template: tracking
            attachments: []
          late-ack:
            trigger: complaint.opened
            template: usage-follow-up
            attachments: [installation-guide]
            bilingual: true
        """, to: .defaults, path: "rules.yml")
        #expect(set["tracking"]?.attachments == [])
        #expect(try attachments(rule: "tracking", rules: set, documents: dir) == [], "no documents once the file says so")
        #expect(set["tracking-quiet"]?.attachments == [])
        #expect(set["late-ack"]?.attachments == [.installationGuide] && set["late-ack"]?.bilingual == true)
        #expect(throws: AftersalesError.configuration("rules file \"r\": rule tracking: attachments \"manual\": expected one of shipment-documents, installation-guide")) {
            try RulesFile.apply(yaml: "rules:\n  tracking:\n    attachments: [manual]\n", to: .defaults, path: "r")
        }
        #expect(throws: AftersalesError.configuration("rules file \"r\": rule tracking: bilingual \"often\": expected true or false")) {
            try RulesFile.apply(yaml: "rules:\n  tracking:\n    bilingual: often\n", to: .defaults, path: "r")
        }
    }
}
