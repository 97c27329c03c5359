import AftersalesDomain
import Foundation

/// What a file imported by `aftersales import` holds: one kind of fact per file.
public enum ImportKind: String, Sendable, Hashable, Codable, CaseIterable {
    case customers, products, orders, shipments, events, complaints

    /// Parses a kind's name (`orders`).
    public init(parsing raw: String) throws(InvalidInput) {
        guard let kind = Self(rawValue: raw.lowercased()) else {
            throw InvalidInput(field: "kind", value: raw, problem: "expected one of " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = kind
    }

    /// The native column names: the recording commands' option names in snake_case. Products also take
    /// `name.LOCALE` columns.
    public var columns: [String] {
        switch self {
        case .customers: ["id", "name", "email", "locale", "timezone", "country", "company", "cc", "industry", "manager_name", "manager_email", "consent"]
        case .products: ["sku", "name", "technical", "maintenance_days", "maintenance_text", "cycle_days", "manual_url", "video_url", "parts_url"]
        case .orders: ["id", "customer", "sku", "quantity", "unit_price", "currency", "placed_at", "completed_at", "cancelled"]
        case .shipments: ["order", "id", "carrier", "tracking", "tracking_url", "eta", "mode", "port", "dispatched_at", "documents"]
        case .events: ["shipment", "tracking", "kind", "at", "location", "note", "eta", "cause", "remedy", "reason", "signed_by"]
        case .complaints: ["id", "order", "category", "text", "opened_at"]
        }
    }

    /// The column that identifies a row's entity (the external id).
    var keyColumn: String {
        switch self {
        case .products: "sku"
        case .events: "shipment"
        default: "id"
        }
    }
}

/// How a file is written.
public enum ImportFormat: String, Sendable, Hashable, Codable, CaseIterable {
    case csv, ndjson

    public init(parsing raw: String) throws(InvalidInput) {
        guard let format = Self(rawValue: raw.lowercased()) else {
            throw InvalidInput(field: "format", value: raw, problem: "expected csv or ndjson")
        }
        self = format
    }

    /// The format a file's extension names (`.csv`, `.txt` and `.tsv` are CSV; `.ndjson`, `.jsonl`, `.json` NDJSON), or nil.
    public static func guess(path: String) -> ImportFormat? {
        switch (path as NSString).pathExtension.lowercased() {
        case "csv", "txt", "tsv": .csv
        case "ndjson", "jsonl", "json": .ndjson
        default: nil
        }
    }
}

/// The text encoding of a file.
public enum ImportEncoding: String, Sendable, Hashable, Codable, CaseIterable {
    case utf8 = "utf-8"
    case gb18030
    case windows1252 = "windows-1252"

    public init(parsing raw: String) throws(InvalidInput) {
        switch raw.lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "gb18030", "gbk", "gb2312": self = .gb18030
        case "windows-1252", "cp1252", "latin1": self = .windows1252
        default: throw InvalidInput(field: "encoding", value: raw, problem: "expected utf-8, gb18030 or windows-1252")
        }
    }

    /// The name iconv knows it by.
    var iconvName: String {
        switch self {
        case .utf8: "UTF-8"
        case .gb18030: "GB18030"
        case .windows1252: "WINDOWS-1252"
        }
    }
}

/// How to import one file.
public struct ImportOptions: Sendable, Equatable {
    public var kind: ImportKind
    /// nil: guessed from the file's extension (CSV when it names none).
    public var format: ImportFormat?
    /// A mapping of `import.mappings` by name.
    public var mapping: String?
    /// nil: the mapping's, else UTF-8.
    public var encoding: ImportEncoding?
    /// nil: the mapping's, else `,`.
    public var delimiter: Character?
    /// Write nothing; report what would happen.
    public var dryRun: Bool
    /// Write the valid rows; the invalid ones go to `rejectsPath` with their reasons.
    public var skipInvalid: Bool
    public var rejectsPath: String?

    public init(kind: ImportKind, format: ImportFormat? = nil, mapping: String? = nil, encoding: ImportEncoding? = nil,
                delimiter: Character? = nil, dryRun: Bool = false, skipInvalid: Bool = false, rejectsPath: String? = nil) {
        self.kind = kind
        self.format = format
        self.mapping = mapping
        self.encoding = encoding
        self.delimiter = delimiter
        self.dryRun = dryRun
        self.skipInvalid = skipInvalid
        self.rejectsPath = rejectsPath
    }
}

/// One refused row: where it is, the column and value at fault, and why.
public struct ImportRowError: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The line of the file where the row starts (1 is the first line: a CSV file's header).
    public var line: Int
    /// The column as the file names it.
    public var column: String
    public var value: String
    public var message: String

    public init(line: Int, column: String, value: String, message: String) {
        self.line = line
        self.column = column
        self.value = value
        self.message = message
    }

    /// `line 7: email "bob@": expected an address like name@example.com`
    public var description: String {
        "line \(line): " + InvalidInput(field: column, value: value, problem: message).description
    }
}

/// What an import did (or, with `--dry-run` or when refused, would have done) to one kind of fact.
public struct ImportSummary: Sendable, Equatable, Codable {
    public var kind: ImportKind
    /// The file, as given (`-` for stdin).
    public var file: String
    /// Rows read (an order's lines count one each).
    public var rows = 0
    /// Entities recorded for the first time, changed, left as they were (counted by entity: an order once).
    public var new = 0
    public var updated = 0
    public var unchanged = 0
    /// Rows refused.
    public var invalid = 0
    /// Whether the rows were written: false with `--dry-run` or when a refused row stopped the whole file.
    public var written = false
    public var dryRun = false
    /// Whole-file atomic: a row was invalid, so nothing was written (without `--skip-invalid`).
    public var refused = false
    public var errors: [ImportRowError] = []

    public init(kind: ImportKind, file: String) {
        self.kind = kind
        self.file = file
    }

    enum CodingKeys: String, CodingKey { case kind, file, rows, new, updated, unchanged, invalid, written, dryRun = "dry_run", refused, errors }
}

/// How a changed row was recorded.
public enum ImportOutcome: Sendable, Equatable {
    case new, updated, unchanged
}
