import AftersalesDomain
import AftersalesPlanning
import Foundation
import Yams

/// Reads a rules file (YAML) that changes timings, disables rules, adds rules built from the
/// same parts, and replaces the seasons. Every mistake names the file, the rule, the key and the value.
public enum RulesFile {
    static let ruleKeys: Set<String> = ["description", "stream", "trigger", "offset", "deadline", "every", "cap", "conditions",
                                        "cancel_on", "window", "audience", "approval", "template", "stale_after", "enabled",
                                        "attachments", "bilingual"]

    /// The default rules with the file at `path` applied (`nil`: the defaults).
    public static func load(path: String?) throws(AftersalesError) -> RuleSet {
        guard let path, !path.isEmpty else { return .defaults }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .configuration("rules file \"\(path)\": cannot be read (\(Configuration.reason(error))); fix rules.file")
        }
        return try apply(yaml: text, to: .defaults, path: path)
    }

    public static func apply(yaml text: String, to base: RuleSet, path: String) throws(AftersalesError) -> RuleSet {
        func bad(_ what: String) -> AftersalesError { .configuration("rules file \"\(path)\": \(what)") }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw bad("not valid YAML; fix the file") }
        guard let root else { return base }
        guard let top = root.mapping else { throw bad("expected a mapping with `rules:` and/or `seasons:`") }
        var set = base
        for (keyNode, value) in top {
            switch keyNode.string ?? "" {
            case "rules":
                guard let rules = value.mapping else { throw bad("`rules:` must map rule ids to their settings") }
                for (idNode, settings) in rules {
                    let id = idNode.string ?? ""
                    guard let fields = settings.mapping else { throw bad("rule \(id): expected a mapping of settings") }
                    var values: [String: Node] = [:]
                    for (k, v) in fields {
                        let name = k.string ?? ""
                        guard ruleKeys.contains(name) else {
                            throw bad("rule \(id): unknown key \"\(name)\"; expected one of \(ruleKeys.sorted().joined(separator: ", "))")
                        }
                        values[name] = v
                    }
                    if let index = set.rules.firstIndex(where: { $0.id == id }) {
                        set.rules[index] = try update(set.rules[index], with: values, path: path)
                    } else {
                        guard let trigger = values["trigger"]?.string else {
                            throw bad("rule \(id): a new rule needs a trigger (\(Trigger.allCases.map(\.rawValue).joined(separator: ", ")))")
                        }
                        guard let template = values["template"]?.string else { throw bad("rule \(id): a new rule needs a template (an existing rule's id)") }
                        let parsed = try parse(Trigger.self, trigger, rule: id, key: "trigger", path: path)
                        // The documents and the bilingual reply go with the template: those of the built-in
                        // rule that uses it, unless the file sets them.
                        let model = RuleSet.defaults.rules.first { $0.template == template }
                        let fresh = Rule(id: id, description: "Added by \(path).", stream: .transactional, trigger: parsed,
                                         attachments: model?.attachments ?? [], bilingual: model?.bilingual ?? false)
                        set.rules.append(try update(fresh, with: values, path: path))
                    }
                }
            case "seasons":
                guard let list = value.sequence else { throw bad("`seasons:` must be a list") }
                set.seasons = try list.map { node throws(AftersalesError) -> Season in
                    guard let m = node.mapping, let name = m["name"]?.string, let industry = m["industry"]?.string,
                          let countries = m["countries"]?.sequence?.compactMap(\.string), let month = m["month"]?.int, let day = m["day"]?.int,
                          (1...12).contains(month), (1...31).contains(day)
                    else { throw bad("each season needs name, industry, countries (a list), month (1-12) and day (1-31)") }
                    return Season(name: name, industry: industry, countries: countries.map { $0.uppercased() }, month: month, day: day)
                }
            case let other:
                throw bad("unknown top-level key \"\(other)\"; expected rules or seasons")
            }
        }
        return set
    }

    static func parse<T: RawRepresentable & CaseIterable>(_ type: T.Type, _ raw: String, rule: String, key: String, path: String) throws(AftersalesError) -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else {
            throw .configuration("rules file \"\(path)\": rule \(rule): \(key) \"\(raw)\": expected one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    static func update(_ rule: Rule, with values: [String: Node], path: String) throws(AftersalesError) -> Rule {
        var r = rule
        func text(_ key: String) -> String? { values[key]?.string }
        func duration(_ key: String) throws(AftersalesError) -> Int? {
            guard let raw = text(key) else { return nil }
            do { return try DurationText.parse(raw, field: key) } catch {
                throw .configuration("rules file \"\(path)\": rule \(rule.id): \(error.description)")
            }
        }
        func flag(_ key: String) throws(AftersalesError) -> Bool? {
            guard let node = values[key] else { return nil }
            guard let b = node.bool else { throw .configuration("rules file \"\(path)\": rule \(rule.id): \(key) \"\(node.string ?? "")\": expected true or false") }
            return b
        }
        func list<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(AftersalesError) -> [T]? where T.RawValue == String {
            guard let node = values[key] else { return nil }
            let items = node.sequence?.compactMap(\.string) ?? (node.string.map { [$0] } ?? [])
            return try items.map { item throws(AftersalesError) in try parse(T.self, item, rule: rule.id, key: key, path: path) }
        }
        if let v = text("description") { r.description = v }
        if let v = text("stream") { r.stream = try parse(MailStream.self, v, rule: rule.id, key: "stream", path: path) }
        if let v = text("trigger") { r.trigger = try parse(Trigger.self, v, rule: rule.id, key: "trigger", path: path) }
        if let v = try duration("offset") { r.offset = v }
        if let v = try duration("deadline") { r.deadline = v }
        if let v = try duration("every") { r.repeatEvery = v }
        if let node = values["cap"] {
            guard let cap = node.int, cap >= 1 else {
                throw .configuration("rules file \"\(path)\": rule \(rule.id): cap \"\(node.string ?? "")\": expected a whole number, 1 or more")
            }
            r.repeatCap = cap
        }
        if let v = try list("conditions", Condition.self) { r.conditions = v }
        if let v = try list("cancel_on", CancelCondition.self) { r.cancelOn = v }
        if let v = text("window") { r.window = try parse(SendWindow.self, v, rule: rule.id, key: "window", path: path) }
        if let v = text("audience") { r.audience = try parse(Audience.self, v, rule: rule.id, key: "audience", path: path) }
        if let v = try flag("approval") { r.approval = v }
        if let v = text("template") { r.template = v }
        if let v = try duration("stale_after") { r.staleAfter = v }
        if let v = try flag("enabled") { r.enabled = v }
        if let v = try list("attachments", Attachment.self) { r.attachments = v }
        if let v = try flag("bilingual") { r.bilingual = v }
        return r
    }
}
