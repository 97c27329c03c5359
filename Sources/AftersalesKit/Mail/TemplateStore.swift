import AftersalesDomain
import Foundation
import Mustache

/// The Mustache templates of every locale: the built-in `templates/` directory, with any file
/// of the same name in the company's override directory (`templates.dir`) taking its place.
public struct TemplateStore: Sendable {
    /// Template texts by locale, then by name (`tracking.subject`, `greeting.html`, ...).
    public let texts: [String: [String: String]]
    /// Every template compiled once, by locale and name.
    private let compiled: [String: [String: CompiledTemplate]]

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
        var compiled: [String: [String: CompiledTemplate]] = [:]
        for (locale, templates) in texts {
            for (name, text) in templates {
                do throws(CompiledTemplate.CompileError) {
                    compiled[locale, default: [:]][name] = try CompiledTemplate(text)
                } catch {
                    // swift-mustache's message says where the template is wrong, when it also refuses it.
                    do { _ = try MustacheTemplate(string: text) } catch let parse {
                        throw .configuration("template \(locale)/\(name) does not parse: \(parse)")
                    }
                    throw .configuration("template \(locale)/\(name): \(error.message)")
                }
            }
        }
        self.compiled = compiled
    }

    /// Templates swift-mustache does not parse (a second opinion for `templates check`).
    public func libraryParseProblems() -> [String] {
        texts.sorted { $0.key < $1.key }.flatMap { locale, templates in
            templates.sorted { $0.key < $1.key }.compactMap { name, text in
                do { _ = try MustacheTemplate(string: text); return nil } catch { return "template \(locale)/\(name) does not parse: \(error)" }
            }
        }
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
        guard let templates = compiled[locale], let template = templates[name] else {
            throw Problem(locale: locale, template: name, message: "does not exist")
        }
        var missing: [String] = []
        let output = template.render(context, partials: templates, missing: &missing)
        if let first = missing.first {
            throw Problem(locale: locale, template: name, message: "variable \"\(first)\" is missing from the data" +
                          (missing.count > 1 ? " (and \(missing.dropFirst().joined(separator: ", ")))" : ""))
        }
        return output
    }
}
