import AftersalesDomain
import Foundation
import Yams

extension Configuration {
    /// Loads the configuration. `path` is the file to read (`nil`: none); a named file that
    /// does not exist is an error. `environment` supplies `AFTERSALES_*` overrides.
    ///
    /// The layers meet key by key as YAML nodes (so that each value's source is known and an unknown
    /// key is refused by name), then Yams' `YAMLDecoder` decodes the whole once.
    public static func load(path: String?, environment: [String: String]) throws(AftersalesError) -> Configuration {
        // The keys and their defaults: the built-in value, encoded.
        let defaults = Self.defaultLeaves
        var values = Dictionary(uniqueKeysWithValues: defaults.map { ($0.key, $0.node) })
        var sources = Dictionary(uniqueKeysWithValues: defaults.map { ($0.key, "default") })
        // A list given as one comma-separated text is shown as given.
        var written: [String: String] = [:]
        var mappings: [String: ImportMapping] = [:]
        func isList(_ key: String) -> Bool { values[key]?.sequence != nil }
        func list(_ text: String) -> Node {
            Node(text.split(separator: ",").map { Node($0.trimmingCharacters(in: .whitespaces)) }.filter { $0.string != "" })
        }
        if let path {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw .configuration("config \"\(path)\": cannot be read (\(Self.reason(error))); fix the path or pass --config")
            }
            mappings = try Import.mappings(yaml: text, path: path)
            for (key, node) in try leaves(yaml: text, path: path) {
                if key.hasPrefix(importMappingsKey + ".") { continue }  // decoded whole, just above
                if key == "links.secret" {
                    throw .configuration("config \"\(path)\": links.secret must not be in the file; set AFTERSALES_LINK_SECRET or links.secret_file")
                }
                if key == "smtp.password" || key == "imap.password" {
                    let section = key.prefix(4)
                    throw .configuration("config \"\(path)\": \(key) must not be in the file; set AFTERSALES_\(section.uppercased())_PASSWORD or \(section).password_file")
                }
                if let instead = Links.replacedKeys[key] {
                    throw .configuration("config \"\(path)\": \(key) was removed; \(instead)")
                }
                guard values[key] != nil else {
                    throw .configuration("config \"\(path)\": unknown key \"\(key)\"; see the configuration reference in README.md")
                }
                switch (isList(key), node) {
                case (true, .scalar(let scalar)): values[key] = list(scalar.string); written[key] = scalar.string
                case (false, .sequence(let sequence)): values[key] = Node(sequence.compactMap(\.string).joined(separator: ","))
                default: values[key] = node
                }
                sources[key] = path
            }
        }
        // A removed key's variable gets the same advice as the key in a file (other AFTERSALES_* names are
        // left alone: the CLI's own, such as AFTERSALES_DB, are not keys).
        for (key, instead) in Links.replacedKeys.sorted(by: { $0.key < $1.key }) where environment[environmentName(key)] != nil {
            let name = environmentName(key)
            throw .configuration("environment: \(name) (\(key)) was removed; \(instead); unset \(name)")
        }
        for (key, _) in defaults {
            let name = environmentName(key)
            if let value = environment[name] {
                values[key] = isList(key) ? list(value) : Node(value)
                written[key] = value
                sources[key] = name
            }
        }
        func text(_ key: String) -> String {
            if let text = written[key] { return text }
            guard let node = values[key] else { return "" }
            return node.sequence.map { $0.compactMap(\.string).joined(separator: ",") } ?? node.string ?? ""
        }
        var configuration: Configuration
        do {
            configuration = try YAMLDecoder().decode(Configuration.self, from: tree(defaults.map { ($0.key, values[$0.key] ?? $0.node) }))
        } catch let error as DecodingError {
            guard case .dataCorrupted(let context) = error else {
                throw .configuration("configuration: \(error.localizedDescription)")
            }
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .configuration("\(key) \"\(text(key))\" (from \(sources[key] ?? "default")): expected \(context.debugDescription)")
        } catch {
            throw .configuration("configuration: \(error)")
        }
        configuration.entries = defaults.map { Entry(key: $0.key, value: text($0.key), source: sources[$0.key] ?? "default") }
        if !configuration.importing.mappingsFile.isEmpty {
            let file = configuration.importing.mappingsFile
            mappings.merge(try Import.mappings(file: file, source: sources["import.mappings_file"] ?? "default")) { _, fromFile in fromFile }
        }
        configuration.importing.mappings = mappings
        var password = environment["AFTERSALES_SMTP_PASSWORD"]
        let file = configuration.smtp.passwordFile
        if password == nil, !file.isEmpty {
            do {
                password = try String(contentsOfFile: file, encoding: .utf8)
                    .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            } catch {
                throw .configuration("smtp.password_file \"\(file)\": cannot be read (\(Self.reason(error)))")
            }
        }
        configuration.smtpPassword = password
        try configuration.links.loadSecrets(environment: environment)
        configuration.imapPassword = try imapPassword(configuration.imap.passwordFile, environment)
        return configuration
    }

    /// Every key of the built-in configuration with its default, in declaration order (made once a load).
    static var defaultLeaves: [(key: String, node: Node)] {
        // The built-in value always encodes.
        guard let text = try? YAMLEncoder().encode(Configuration()), let node = try? Yams.compose(yaml: text) else { return [] }
        var out: [(key: String, node: Node)] = []
        func walk(_ node: Node, _ prefix: String) {
            if case .mapping(let mapping) = node {
                for (key, value) in mapping { walk(value, prefix.isEmpty ? key.string ?? "" : prefix + "." + (key.string ?? "")) }
            } else {
                out.append((prefix, node))
            }
        }
        walk(node, "")
        return out
    }

    /// The file's values by dotted key: scalars and sequences as written.
    static func leaves(yaml text: String, path: String) throws(AftersalesError) -> [(key: String, node: Node)] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw .configuration("config \"\(path)\": not valid YAML (\(String(describing: error).split(whereSeparator: \.isNewline).first ?? "")); fix the file")
        }
        guard let node else { return [] }
        guard case .mapping = node else { throw .configuration("config \"\(path)\": expected a mapping of keys at the top level") }
        var out: [(key: String, node: Node)] = []
        func walk(_ node: Node, _ prefix: String) throws(AftersalesError) {
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    let name = key.string ?? ""
                    try walk(value, prefix.isEmpty ? name : prefix + "." + name)
                }
            case .scalar, .sequence:
                out.append((prefix, node))
            case .alias:
                throw .configuration("config \"\(path)\": \(prefix): YAML aliases are not supported")
            }
        }
        try walk(node, "")
        return out
    }

    /// Nested mappings from dotted keys (in order).
    static func tree(_ leaves: [(key: String, node: Node)]) -> Node {
        var sections: [(name: String, pairs: [(Node, Node)])] = []
        for (key, node) in leaves {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            if sections.last?.name != parts[0] { sections.append((parts[0], [])) }
            sections[sections.count - 1].pairs.append((Node(parts[1]), node))
        }
        return Node.mapping(Node.Mapping(sections.map { (Node($0.name), Node.mapping(Node.Mapping($0.pairs))) }))
    }
}
