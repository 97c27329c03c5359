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
    /// The names a mail's templates (subject, text and HTML, with their partials) use at their top
    /// level, by locale and template; absent where a template prints its whole context (`{{.}}`).
    private let needed: [String: [String: Set<String>]]

    /// A template problem: which template, which locale, what is wrong.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var locale: String
        public var template: String
        public var message: String
        public var description: String { "template \(locale)/\(template): \(message)" }
    }

    /// Templates that do not compile, by `locale/name`, with what is wrong (only when loaded with `strict: false`).
    public let broken: [String: String]

    /// Loads `builtIn` and then `override` (either may be nil). Locales are the subdirectories;
    /// with `locales`, only those are read, and with `templates` only those mails' subject, text and
    /// HTML with the partials they name (a send reads what its mails can be written with).
    /// Strict (the default): a template that does not compile is an error. Otherwise it is left out and named in ``broken``.
    public init(builtIn: String?, override: String? = nil, strict: Bool = true, locales only: Set<String>? = nil,
                templates wanted: Set<String>? = nil) throws(AftersalesError) {
        // The directories each locale's templates come from, the override's last (its files win).
        var sources: [String: [String]] = [:]
        for directory in [builtIn, override].compactMap({ $0 }) {
            guard let locales = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
                throw .configuration("templates directory \"\(directory)\" cannot be read; check templates.dir")
            }
            for locale in locales.sorted() where only?.contains(locale) ?? true {
                let path = (directory as NSString).appendingPathComponent(locale)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
                sources[locale, default: []].append(path)
            }
        }
        let directories = sources
        let loaded = try Self.perLocale(directories.keys.sorted()) { locale throws(AftersalesError) in
            // Each template's file, the override's where both have one.
            var files: [String: String] = [:]
            for path in directories[locale] ?? [] {
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
                for file in names where file.hasSuffix(".mustache") {
                    files[String(file.dropLast(".mustache".count))] = (path as NSString).appendingPathComponent(file)
                }
            }
            func read(_ name: String) throws(AftersalesError) -> String {
                guard let text = try? String(contentsOfFile: files[name] ?? "", encoding: .utf8) else {
                    throw .configuration("template \(locale)/\(name).mustache is not readable UTF-8 text")
                }
                return text
            }
            guard let wanted else {
                var texts: [String: String] = [:]
                for name in files.keys.sorted() { texts[name] = try read(name) }
                return Self.compile(texts)
            }
            // The mails' parts, then every partial they name, and the partials those name.
            var loaded: Loaded = ([:], [:])
            var next = wanted.flatMap { ["\($0).subject", "\($0).text", "\($0).html"] }
            while let name = next.popLast() {
                guard loaded.texts[name] == nil, files[name] != nil else { continue }
                let text = try read(name)
                let template = Self.compile(text)
                loaded.texts[name] = text
                loaded.compiled[name] = template
                if case .success(let compiled) = template { next += compiled.partialNames }
            }
            return loaded
        }
        // A directory without templates is no locale.
        try self.init(loaded: loaded.filter { !$0.value.texts.isEmpty }, strict: strict)
    }

    /// Templates given as texts (tests, samples).
    public init(texts: [String: [String: String]], strict: Bool = true) throws(AftersalesError) {
        try self.init(loaded: Self.perLocale(texts.keys.sorted()) { locale in Self.compile(texts[locale] ?? [:]) }, strict: strict)
    }

    /// A locale's texts, each with its compiled template or what is wrong with it.
    typealias Loaded = (texts: [String: String], compiled: [String: Result<CompiledTemplate, CompiledTemplate.CompileError>])

    static func compile(_ texts: [String: String]) -> Loaded {
        (texts, texts.mapValues(compile))
    }

    static func compile(_ text: String) -> Result<CompiledTemplate, CompiledTemplate.CompileError> {
        Result { () throws(CompiledTemplate.CompileError) in try CompiledTemplate(text) }
    }

    /// `work` for every locale, the locales shared out among the cores (a run waits for its templates
    /// before its first mail); the first error in the locales' order is thrown.
    static func perLocale(_ locales: [String], _ work: @Sendable (String) throws(AftersalesError) -> Loaded) throws(AftersalesError) -> [String: Loaded] {
        let results = Results<Loaded>(count: locales.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(locales.count, ProcessInfo.processInfo.activeProcessorCount))) { _ in
            while let index = results.claim() {
                results.set(index, Result { () throws(AftersalesError) in try work(locales[index]) })
            }
        }
        var loaded: [String: Loaded] = [:]
        for (locale, result) in zip(locales, results.values) {
            switch result {
            case .success(let value)?: loaded[locale] = value
            case .failure(let error)?: throw error
            case nil: break
            }
        }
        return loaded
    }

    private init(loaded: [String: Loaded], strict: Bool) throws(AftersalesError) {
        texts = loaded.mapValues(\.texts)
        var compiled: [String: [String: CompiledTemplate]] = [:]
        var broken: [String: String] = [:]
        for (locale, templates) in loaded.sorted(by: { $0.key < $1.key }) {
            for (name, result) in templates.compiled.sorted(by: { $0.key < $1.key }) {
                switch result {
                case .success(let template):
                    compiled[locale, default: [:]][name] = template
                case .failure(let error):
                    // swift-mustache's message says where the template is wrong, when it also refuses it.
                    let problem: String
                    do { _ = try MustacheTemplate(string: templates.texts[name] ?? ""); problem = error.message } catch let parse { problem = Self.describe(parse) }
                    guard !strict else { throw .configuration("template \(locale)/\(name): \(problem)") }
                    broken["\(locale)/\(name)"] = problem
                }
            }
        }
        self.compiled = compiled
        self.broken = broken
        var needed: [String: [String: Set<String>]] = [:]
        for (locale, templates) in compiled {
            for name in templates.keys where name.hasSuffix(".subject") {
                let template = String(name.dropLast(".subject".count))
                var names: Set<String> = []
                var everything = false
                for part in ["subject", "text", "html"] {
                    guard let roots = templates["\(template).\(part)"]?.roots(partials: templates) else { everything = true; break }
                    names.formUnion(roots)
                }
                if !everything { needed[locale, default: [:]][template] = names }
            }
        }
        self.needed = needed
    }

    /// The names the subject, text and HTML of `template` in `locale` use at their top level (nil:
    /// all of them, or the template is unknown): the data of a mail need hold no more.
    public func needs(_ template: String, locale: String) -> Set<String>? { needed[locale]?[template] }

    /// Every template that does not compile, and any that swift-mustache does not parse (a second opinion), for `templates check`.
    public func loadProblems() -> [String] {
        texts.sorted { $0.key < $1.key }.flatMap { locale, templates in
            templates.sorted { $0.key < $1.key }.compactMap { name, text in
                if let problem = broken["\(locale)/\(name)"] { return "template \(locale)/\(name): \(problem)" }
                do { _ = try MustacheTemplate(string: text); return nil } catch { return "template \(locale)/\(name): \(Self.describe(error))" }
            }
        }
    }

    /// swift-mustache's parse error as one line: where, and what.
    static func describe(_ error: any Error) -> String {
        guard let parse = error as? MustacheTemplate.ParserError else { return "does not parse: \(error)" }
        let what: String = switch parse.error {
        case MustacheTemplate.Error.sectionCloseNameIncorrect: "a section is closed with another name"
        case MustacheTemplate.Error.unfinishedName: "a tag is not closed with }}"
        case MustacheTemplate.Error.expectedSectionEnd: "a section is not closed"
        default: "\(parse.error)"
        }
        return "does not parse at line \(parse.context.lineNumber), column \(parse.context.columnNumber): \(what) (\"\(parse.context.line)\")"
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
        try render(name, locale: locale, context: TemplateValue(context))
    }

    /// Renders `name` of `locale` with a context already converted (once for a mail's three parts).
    func render(_ name: String, locale: String, context: TemplateValue) throws(Problem) -> String {
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
