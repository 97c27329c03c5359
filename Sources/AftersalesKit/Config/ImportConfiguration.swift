import AftersalesDomain
import Foundation
import Yams

extension Configuration {
    /// `import.*`: the folder cron imports from, and the mappings that read real exports as they are.
    public struct Import: Sendable, Equatable, Codable {
        /// A folder whose files `run` imports first (empty: none). See `aftersales import --from-dir`.
        public var dir = ""
        /// `import.mappings`, by name. Not a leaf of the listing: its keys are the company's own.
        public var mappings: [String: ImportMapping] = [:]
        /// A YAML file holding more mappings, by name (as under `import.mappings`), which replace the
        /// configuration's of the same name: the way in for `AFTERSALES_IMPORT_MAPPINGS_FILE` (empty: none).
        public var mappingsFile = ""

        enum CodingKeys: String, CodingKey { case dir, mappingsFile = "mappings_file" }
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            dir = try c.value(.dir)
            mappingsFile = try c.value(.mappingsFile)
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(dir, forKey: .dir)
            try c.encode(mappingsFile, forKey: .mappingsFile)
        }
    }

    /// The key under which the mappings sit; the loader hands that subtree to ``Import/decodeMappings(_:path:)``.
    static let importMappingsKey = "import.mappings"
}

/// One mapping of `import.mappings`: which kind it reads, the file's column for each native column,
/// and translations of cell values.
///
/// ```yaml
/// import:
///   mappings:
///     erp-orders:
///       kind: orders
///       encoding: gb18030
///       columns: {id: "订单号", customer: "客户编号", sku: "物料编码", quantity: "数量"}
///       values: {kind: {"已签收": delivered}}
///       defaults: {currency: CNY}
/// ```
public struct ImportMapping: Sendable, Equatable, Codable {
    public var kind: ImportKind?
    /// Native column → the file's column.
    public var columns: [String: String] = [:]
    /// Native column → (the file's value → the native value).
    public var values: [String: [String: String]] = [:]
    /// Native column → the value a row takes when the file has no such column or the cell is empty
    /// (e.g. `locale: en` for a shop export that has none).
    public var defaults: [String: String] = [:]
    public var encoding: ImportEncoding?
    /// One character, e.g. `;`.
    public var delimiter: String?
    public var format: ImportFormat?

    public init(kind: ImportKind? = nil, columns: [String: String] = [:], values: [String: [String: String]] = [:],
                defaults: [String: String] = [:], encoding: ImportEncoding? = nil, delimiter: String? = nil, format: ImportFormat? = nil) {
        self.kind = kind
        self.columns = columns
        self.values = values
        self.defaults = defaults
        self.encoding = encoding
        self.delimiter = delimiter
        self.format = format
    }

    enum CodingKeys: String, CodingKey { case kind, columns, values, defaults, encoding, delimiter, format }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func parsed<T>(_ key: CodingKeys, _ parse: (String) throws(InvalidInput) -> T) throws -> T? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
            do { return try parse(text) } catch {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: error.problem)
            }
        }
        kind = try parsed(.kind) { (t) throws(InvalidInput) in try ImportKind(parsing: t) }
        encoding = try parsed(.encoding) { (t) throws(InvalidInput) in try ImportEncoding(parsing: t) }
        format = try parsed(.format) { (t) throws(InvalidInput) in try ImportFormat(parsing: t) }
        columns = try c.decodeIfPresent([String: String].self, forKey: .columns) ?? [:]
        values = try c.decodeIfPresent([String: [String: String]].self, forKey: .values) ?? [:]
        defaults = try c.decodeIfPresent([String: String].self, forKey: .defaults) ?? [:]
        delimiter = try c.decodeIfPresent(String.self, forKey: .delimiter)
        if let delimiter, delimiter.unicodeScalars.count != 1 {
            throw DecodingError.dataCorruptedError(forKey: .delimiter, in: c, debugDescription: "one character, like ; or ,")
        }
    }

    /// Checks the mapping's columns against its kind's native columns.
    func check(name: String, origin: String? = nil) throws(AftersalesError) {
        guard let kind else { return }
        for native in columns.keys.sorted() + values.keys.sorted() + defaults.keys.sorted() where !kind.columns.contains(native) && !(kind == .products && native.hasPrefix("name.")) {
            throw .configuration((origin.map { $0 + ": " } ?? "") + "import.mappings.\(name): \"\(native)\" is not a column of \(kind.rawValue); expected one of \(kind.columns.joined(separator: ", "))")
        }
    }
}

extension Configuration.Import {
    /// The mappings under `import.mappings` in the YAML `text` of the file at `path` (none without the key).
    static func mappings(yaml text: String, path: String) throws(AftersalesError) -> [String: ImportMapping] {
        guard let root = try? Yams.compose(yaml: text), let section = root["import"], let node = section["mappings"] else { return [:] }
        guard case .mapping = node else { throw .configuration("config \"\(path)\": \(Configuration.importMappingsKey): expected a mapping of names to mappings") }
        return try decodeMappings(node, origin: "config \"\(path)\"")
    }

    /// The mappings of the file `import.mappings_file` names: its top level maps names to mappings, as
    /// `import.mappings` does. `source` is where the key was set (`AFTERSALES_IMPORT_MAPPINGS_FILE`, or the
    /// configuration file): every error names it.
    static func mappings(file: String, source: String) throws(AftersalesError) -> [String: ImportMapping] {
        let origin = "import.mappings_file \"\(file)\" (from \(source))"
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw .configuration("\(origin): cannot be read (\(Configuration.reason(error))); fix the path or unset it")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw .configuration("\(origin): not valid YAML (\(String(describing: error).split(whereSeparator: \.isNewline).first ?? "")); fix the file")
        }
        guard let node else { return [:] }
        guard case .mapping = node else {
            throw .configuration("\(origin): expected a mapping of names to mappings at the top level, as under import.mappings")
        }
        return try decodeMappings(node, origin: origin, nameOrigin: true)
    }

    /// The mappings from an `import.mappings` node; errors start with `origin` (the file, and how it was
    /// named; a wrong column too when `nameOrigin`).
    static func decodeMappings(_ node: Node, origin: String, nameOrigin: Bool = false) throws(AftersalesError) -> [String: ImportMapping] {
        let mappings: [String: ImportMapping]
        do { mappings = try YAMLDecoder().decode([String: ImportMapping].self, from: node) } catch let error as DecodingError {
            switch error {
            case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
                let key = ([Configuration.importMappingsKey] + context.codingPath.map(\.stringValue)).joined(separator: ".")
                throw .configuration("\(origin): \(key): expected \(context.debugDescription)")
            @unknown default:
                throw .configuration("\(origin): \(Configuration.importMappingsKey): \(error)")
            }
        } catch {
            throw .configuration("\(origin): \(Configuration.importMappingsKey): \(error)")
        }
        for (name, mapping) in mappings.sorted(by: { $0.key < $1.key }) { try mapping.check(name: name, origin: nameOrigin ? origin : nil) }
        return mappings
    }
}
