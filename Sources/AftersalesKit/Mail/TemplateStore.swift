import AftersalesDomain
import Foundation
import Mustache

/// The Mustache templates of every locale: the built-in `templates/` directory, with any file
/// of the same name in the company's override directory (`templates.dir`) taking its place.
/// swift-mustache parses and renders them; rendering is strict (see ``render(_:locale:context:)``).
public struct TemplateStore: Sendable {
    /// Template texts by locale, then by name (`tracking.subject`, `greeting.html`, ...).
    public let texts: [String: [String: String]]
    /// Every template parsed once, by locale: each locale's library holds its partials.
    private let libraries: [String: MustacheLibrary]
    /// The partials a template names, itself or through its partials, that the locale lacks.
    private let missingPartials: [String: [String: [String]]]

    /// A template problem: which template, which locale, what is wrong.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var locale: String
        public var template: String
        public var message: String
        public var description: String { "template \(locale)/\(template): \(message)" }
    }

    /// Templates that do not parse, by `locale/name`, with what is wrong (only when loaded with `strict: false`).
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
                loaded.texts[name] = text
                loaded.compiled[name] = Self.compile(text, named: name)
                next += Self.partialNames(text)
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

    /// A locale's texts, each parsed or with what is wrong with it.
    typealias Loaded = (texts: [String: String], compiled: [String: Result<MustacheTemplate, ParseFailure>])

    /// swift-mustache's parse error as one line.
    struct ParseFailure: Error { var message: String }

    static func compile(_ texts: [String: String]) -> Loaded {
        (texts, Dictionary(uniqueKeysWithValues: texts.map { ($0.key, compile($0.value, named: $0.key)) }))
    }

    /// Parses one template. Variables are HTML-escaped by swift-mustache's default content type (text
    /// parts print their values with `{{{…}}}`).
    static func compile(_ text: String, named name: String) -> Result<MustacheTemplate, ParseFailure> {
        do {
            return .success(try MustacheTemplate(string: text))
        } catch {
            return .failure(ParseFailure(message: describe(error)))
        }
    }

    /// The partials `text` names (`{{> name}}`), read from its tags: swift-mustache keeps its parse
    /// to itself. Dynamic partials (`{{>*name}}`) name none.
    static func partialNames(_ text: String) -> [String] { tags(text).partials }

    /// What one template's tags name: the partials it includes and the data names it looks up (sections'
    /// names too). `opaque` when its text alone cannot tell every name: a dynamic partial, a block or
    /// parent template, a transform, the implicit `.`, changed delimiters.
    struct Tags: Sendable {
        var partials: [String] = [], names: [String] = []
        var opaque = false
    }

    /// The tags of `text`, read from its `{{…}}`s (swift-mustache keeps its parse to itself).
    static func tags(_ text: String) -> Tags {
        var tags = Tags()
        for piece in text.components(separatedBy: "{{").dropFirst() {
            guard let end = piece.range(of: "}}") else { continue }
            var body = piece[..<end.lowerBound].drop { $0 == " " || $0 == "\t" }
            guard let sigil = body.first else { continue }
            switch sigil {
            case "!", "%": continue
            case ">":
                let name = body.dropFirst().trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("*") { tags.opaque = true } else if !name.isEmpty { tags.partials.append(name) }
                continue
            case "=", "$", "<":
                tags.opaque = true
                continue
            case "#", "^", "/", "&", "{": body = body.dropFirst()
            default: break
            }
            let name = body.trimmingCharacters(in: .whitespaces)
            if name.isEmpty || name.hasPrefix(".") || name.contains("(") { tags.opaque = true } else { tags.names.append(name) }
        }
        return tags
    }

    /// Every data name `name` of `locale` looks up, itself and through its partials, sorted; nil when its
    /// text cannot tell (``Tags/opaque``) or a template is missing.
    func lookedUpNames(_ name: String, locale: String) -> [String]? {
        guard let texts = texts[locale] else { return nil }
        var names: Set<String> = [], seen: Set<String> = []
        var next = [name]
        while let template = next.popLast() {
            guard seen.insert(template).inserted else { continue }
            guard let text = texts[template] else { return nil }
            let tags = Self.tags(text)
            if tags.opaque { return nil }
            names.formUnion(tags.names)
            next += tags.partials
        }
        return names.sorted()
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
        var libraries: [String: MustacheLibrary] = [:]
        var missingPartials: [String: [String: [String]]] = [:]
        var broken: [String: String] = [:]
        for (locale, templates) in loaded.sorted(by: { $0.key < $1.key }) {
            var library = MustacheLibrary()
            var problems: [(name: String, problem: String)] = []
            for (name, result) in templates.compiled {
                switch result {
                case .success(let template): library.register(template, named: name)
                case .failure(let error): problems.append((name, error.message))
                }
            }
            // The partials each template reaches; one that reaches itself would never end.
            let named = templates.texts.mapValues(Self.partialNames)
            for name in templates.texts.keys {
                var reached: [String] = []
                var next = named[name] ?? []
                while let partial = next.popLast() {
                    guard !reached.contains(partial) else { continue }
                    reached.append(partial)
                    next += named[partial] ?? []
                }
                if reached.contains(name) { problems.append((name, "includes itself through its partials (\(reached.sorted().joined(separator: ", ")))")) }
                let missing = reached.filter { templates.texts[$0] == nil }.sorted()
                if !missing.isEmpty { missingPartials[locale, default: [:]][name] = missing }
            }
            for (name, problem) in problems.sorted(by: { $0.name < $1.name }) {
                guard !strict else { throw .configuration("template \(locale)/\(name): \(problem)") }
                broken["\(locale)/\(name)"] = problem
            }
            libraries[locale] = library
        }
        self.libraries = libraries
        self.missingPartials = missingPartials
        self.broken = broken
    }

    /// Every template that does not parse, for `templates check`.
    public func loadProblems() -> [String] {
        broken.sorted { $0.key < $1.key }.map { "template \($0.key): \($0.value)" }
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

    /// Renders `name` of `locale` with `data`: a typed value whose objects are ``Mustache/MustacheParent``s
    /// (``MailContext`` for a mail; dictionaries in tests). Strict: every name the rendered parts
    /// look up must be in the data, and every partial the template names must exist, else a
    /// ``Problem`` names them.
    public func render(_ name: String, locale: String, context data: any MustacheParent) throws(Problem) -> String {
        guard let library = libraries[locale], let template = library.getTemplate(named: name) else {
            throw Problem(locale: locale, template: name, message: "does not exist")
        }
        if let missing = missingPartials[locale]?[name] {
            throw Problem(locale: locale, template: name, message: "partial \(missing.map { "\"\($0)\"" }.joined(separator: ", ")) does not exist")
        }
        let log = MissingNames()
        let output = template.render(log.root(data), library: library)
        let missing = log.finish()
        if let first = missing.first {
            throw Problem(locale: locale, template: name, message: "variable \"\(first)\" is missing from the data" +
                          (missing.count > 1 ? " (and \(missing.dropFirst().joined(separator: ", ")))" : ""))
        }
        return output
    }
}
