import AftersalesDomain
import Foundation
import Mustache

/// The Mustache templates of every locale: the built-in `templates/` directory, with any file
/// of the same name in the company's override directory (`templates.dir`) taking its place.
public struct TemplateStore: Sendable {
    /// Template texts by locale, then by name (`tracking.subject`, `greeting.html`, ...).
    public let texts: [String: [String: String]]
    private let libraries: [String: MustacheLibrary]
    /// The tags of every template, tokenized once for the strict check.
    private let tags: [String: [String: [StrictCheck.Tag]]]

    /// A template problem: which template, which locale, what is wrong.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var locale: String
        public var template: String
        public var message: String
        public var description: String { "template \(locale)/\(template): \(message)" }
    }

    /// Loads `builtIn` and then `override` (either may be nil). Locales are the subdirectories.
    public init(builtIn: String?, override: String? = nil) throws(AftersalesError) {
        var texts: [String: [String: String]] = [:]
        for directory in [builtIn, override].compactMap({ $0 }) {
            guard let locales = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
                throw .configuration("templates directory \"\(directory)\" cannot be read; check templates.dir")
            }
            for locale in locales.sorted() {
                let path = (directory as NSString).appendingPathComponent(locale)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
                      let files = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
                for file in files where file.hasSuffix(".mustache") {
                    guard let text = try? String(contentsOfFile: (path as NSString).appendingPathComponent(file), encoding: .utf8) else {
                        throw .configuration("template \(locale)/\(file) is not readable UTF-8 text")
                    }
                    texts[locale, default: [:]][String(file.dropLast(".mustache".count))] = text
                }
            }
        }
        try self.init(texts: texts)
    }

    /// Templates given as texts (tests, samples).
    public init(texts: [String: [String: String]]) throws(AftersalesError) {
        self.texts = texts
        var libraries: [String: MustacheLibrary] = [:]
        for (locale, templates) in texts {
            var library = MustacheLibrary()
            for (name, text) in templates {
                do { try library.register(text, named: name) } catch {
                    throw .configuration("template \(locale)/\(name) does not parse: \(error)")
                }
            }
            libraries[locale] = library
        }
        self.libraries = libraries
        tags = texts.mapValues { $0.mapValues(StrictCheck.tokenize) }
    }

    /// The locales that have templates.
    public var locales: [String] { texts.keys.sorted() }

    /// The first locale along `chain` that has `template` (its subject, text and HTML).
    public func locale(for template: String, chain: [String]) -> String? {
        chain.first { locale in
            ["subject", "text", "html"].allSatisfy { texts[locale]?["\(template).\($0)"] != nil }
        }
    }

    /// Renders `name` of `locale` with `context`. Strict: every variable the rendered parts use
    /// must be in the context, else a ``Problem`` names it.
    public func render(_ name: String, locale: String, context: [String: Any]) throws(Problem) -> String {
        guard let library = libraries[locale], texts[locale]?[name] != nil else {
            throw Problem(locale: locale, template: name, message: "does not exist")
        }
        let missing = StrictCheck.missing(in: name, templates: tags[locale] ?? [:], context: context)
        if let first = missing.first {
            throw Problem(locale: locale, template: name, message: "variable \"\(first)\" is missing from the data" +
                          (missing.count > 1 ? " (and \(missing.dropFirst().joined(separator: ", ")))" : ""))
        }
        guard let output = library.render(context, withTemplate: name) else {
            throw Problem(locale: locale, template: name, message: "could not be rendered")
        }
        return output
    }
}

/// Finds the variables a template would use that the context does not have. It follows the
/// template as Mustache renders it: sections over lists look inside their elements, false or
/// empty sections are skipped (nothing in them is rendered), partials are followed.
enum StrictCheck {
    static func missing(in name: String, templates: [String: [Tag]], context: [String: Any]) -> [String] {
        var missing: [String] = []
        var visiting: Set<String> = []
        walk(name, templates: templates, stack: [context], missing: &missing, visiting: &visiting)
        return missing
    }

    static func lookup(_ name: String, in stack: [Any]) -> (found: Bool, value: Any?) {
        if name == "." { return (true, stack.last) }
        let parts = name.split(separator: ".").map(String.init)
        for frame in stack.reversed() {
            guard let dict = frame as? [String: Any], let first = dict[parts[0]] else { continue }
            var value: Any? = first
            for part in parts.dropFirst() {
                guard let d = value as? [String: Any], let next = d[part] else { return (false, nil) }
                value = next
            }
            return (true, value)
        }
        return (false, nil)
    }

    static func isTruthy(_ value: Any?) -> Bool {
        switch value {
        case nil: return false
        case let b as Bool: return b
        case let a as [Any]: return !a.isEmpty
        case let s as String: return !s.isEmpty
        default: return true
        }
    }

    static func walk(_ name: String, templates: [String: [Tag]], stack: [Any], missing: inout [String], visiting: inout Set<String>) {
        guard let tags = templates[name], !visiting.contains(name) else {
            if templates[name] == nil { missing.append("partial \(name)") }
            return
        }
        visiting.insert(name)
        defer { visiting.remove(name) }
        var index = 0
        check(tags, &index, until: nil, templates: templates, stack: stack, render: true, missing: &missing, visiting: &visiting)
    }

    enum Tag: Sendable { case variable(String), section(String, inverted: Bool), close(String), partial(String) }

    static func tokenize(_ text: String) -> [Tag] {
        var tags: [Tag] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            let triple = rest.hasPrefix("{")
            guard let close = rest.range(of: triple ? "}}}" : "}}") else { break }
            var body = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            if triple { body.removeFirst(); tags.append(.variable(body.trimmingCharacters(in: .whitespaces))); continue }
            guard let sigil = body.first else { continue }
            let name = body.dropFirst().trimmingCharacters(in: .whitespaces)
            switch sigil {
            case "#": tags.append(.section(name, inverted: false))
            case "^": tags.append(.section(name, inverted: true))
            case "/": tags.append(.close(name))
            case ">": tags.append(.partial(name))
            case "&": tags.append(.variable(name))
            case "!", "=": break
            default: tags.append(.variable(body))
            }
        }
        return tags
    }

    static func check(_ tags: [Tag], _ index: inout Int, until: String?, templates: [String: [Tag]], stack: [Any], render: Bool,
                      missing: inout [String], visiting: inout Set<String>) {
        while index < tags.count {
            let tag = tags[index]
            index += 1
            switch tag {
            case .close(let name) where name == until: return
            case .close: continue
            case .variable(let name):
                if render, !lookup(name, in: stack).found { missing.append(name) }
            case .partial(let name):
                if render { walk(name, templates: templates, stack: stack, missing: &missing, visiting: &visiting) }
            case .section(let name, let inverted):
                let (found, value) = lookup(name, in: stack)
                if render, !found { missing.append(name) }
                let rendersBody = render && found && (inverted ? !isTruthy(value) : isTruthy(value))
                if rendersBody, !inverted, let list = value as? [Any] {
                    let start = index
                    for element in list {
                        index = start
                        check(tags, &index, until: name, templates: templates, stack: stack + [element], render: true, missing: &missing, visiting: &visiting)
                    }
                    if list.isEmpty { check(tags, &index, until: name, templates: templates, stack: stack, render: false, missing: &missing, visiting: &visiting) }
                } else if rendersBody, !inverted, let dict = value as? [String: Any] {
                    check(tags, &index, until: name, templates: templates, stack: stack + [dict], render: true, missing: &missing, visiting: &visiting)
                } else {
                    check(tags, &index, until: name, templates: templates, stack: stack, render: rendersBody, missing: &missing, visiting: &visiting)
                }
            }
        }
    }
}
