import AftersalesDomain
import AftersalesPlanning
import Foundation

extension Settings {
    /// The built-in templates: `AFTERSALES_TEMPLATES`, else `share/aftersales/templates` next to
    /// an installed binary, else the `templates/` of the source tree the binary was built in.
    public static func builtInTemplates(executable: String?, environment: [String: String]) -> String? {
        if let explicit = environment["AFTERSALES_TEMPLATES"], !explicit.isEmpty { return explicit }
        guard let executable else { return nil }
        var directory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            for candidate in ["share/aftersales/templates", "templates"] {
                let url = directory.appendingPathComponent(candidate)
                if FileManager.default.fileExists(atPath: url.appendingPathComponent("en").path) { return url.path }
            }
            directory.deleteLastPathComponent()
        }
        return nil
    }
}

/// One problem found by `templates check`.
public struct TemplateCheckReport: Sendable, Codable {
    public var locales: [String]
    public var rendered: Int
    public var problems: [String]
    /// Nil when mail carries signed links; else why they are off (`links off: set links.base_url`).
    public var linksOff: String?
}

extension Workspace {
    /// The templates: built-in, with `templates.dir` over them; only `locales` and `templates` when given.
    public func templateStore(locales: Set<String>? = nil, templates: Set<String>? = nil) throws(AftersalesError) -> TemplateStore {
        guard let builtIn = settings.templatesPath else {
            throw .configuration("the built-in templates were not found; set AFTERSALES_TEMPLATES to the templates/ directory")
        }
        let override = configuration.templates.dir
        return try TemplateStore(builtIn: builtIn, override: override.isEmpty ? nil : override, locales: locales, templates: templates)
    }

    /// The renderer, with every template or only those of `templates` in `locales`.
    public func renderer(generators: MessageGenerators = .standard, locales: Set<String>? = nil, templates: Set<String>? = nil) throws(AftersalesError) -> MailRenderer {
        MailRenderer(templates: try templateStore(locales: locales, templates: templates), configuration: configuration, rules: try rules(),
                     generators: generators)
    }

    /// The exact message that would be sent for the outbox entry `key`, dated now.
    public func render(key: String, generators: MessageGenerators = .standard) throws(AftersalesError) -> RenderedMail {
        let entry = try store.outboxEntry(key: key)
        let facts = try store.customerFacts(id: entry.customerID)
        guard let facts else { throw .notFound(entity: "customer", id: entry.customerID) }
        return try renderer(generators: generators).render(entry.mail, facts: facts, now: now)
    }

    /// Renders every rule's template in every locale with sample data; returns each problem.
    /// Needs no database.
    public static func checkTemplates(_ settings: Settings) throws(AftersalesError) -> TemplateCheckReport {
        let configuration = try Configuration.load(path: settings.configPath, environment: settings.environment)
        guard let builtIn = settings.templatesPath else {
            throw .configuration("the built-in templates were not found; set AFTERSALES_TEMPLATES to the templates/ directory")
        }
        let override = configuration.templates.dir
        let templates = try TemplateStore(builtIn: builtIn, override: override.isEmpty ? nil : override, strict: false)
        let rulesPath = configuration.rules.file
        let rules = try RulesFile.load(path: rulesPath.isEmpty ? nil : rulesPath)
        var report = check(renderer: MailRenderer(templates: templates, configuration: configuration, rules: rules), rules: rules)
        report.linksOff = configuration.links.offReason
        return report
    }

    static func check(renderer: MailRenderer, rules: RuleSet) -> TemplateCheckReport {
        let templates = renderer.templates
        var problems = templates.loadProblems()
        var rendered = 0
        let facts = Samples.facts()
        let mails = Samples.mails(facts: facts)
        for rule in rules.rules where rule.enabled && !mails.contains(where: { $0.rule == rule.id }) {
            problems.append("rule \(rule.id): the sample facts do not trigger it, so its template \(rule.template) is not checked")
        }
        for locale in templates.locales {
            for mail in mails {
                guard let rule = rules[mail.rule] else { continue }
                var mail = mail
                mail.template = rule.template
                let names = ["subject", "text", "html"].map { "\(rule.template).\($0)" }
                let missing = names.filter { templates.texts[locale]?[$0] == nil }
                if !missing.isEmpty {
                    problems.append("template \(locale)/\(missing.joined(separator: ", ")): missing")
                    continue
                }
                // Already reported as not compiling.
                if names.contains(where: { templates.broken["\(locale)/\($0)"] != nil }) { continue }
                do {
                    // With the links off and on (sample links), whatever the configuration says.
                    _ = try renderer.parts(mail, facts: facts, locale: locale, links: MailLinks.sample(mail))
                    let parts = try renderer.parts(mail, facts: facts, locale: locale)
                    rendered += 1
                    if parts.subject.isEmpty { problems.append("template \(locale)/\(rule.template).subject: renders empty") }
                    if parts.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problems.append("template \(locale)/\(rule.template).text: renders empty") }
                } catch {
                    problems.append(error.description)
                }
            }
        }
        problems += PageRenderer(templates: templates).check(locales: templates.locales)
        return TemplateCheckReport(locales: templates.locales, rendered: rendered, problems: problems)
    }
}
