import AftersalesDomain
import CSV
import Foundation

/// One row of an import file, its cells under their native column names (empty cells left out).
struct ImportRow: Sendable {
    /// The line of the file where the row starts.
    var line: Int
    private var storage: Storage
    /// Set when the line is not a row at all (NDJSON that is not an object).
    var malformed: String?

    /// A CSV file's rows share their columns: each row keeps its cells in the columns' slots, not in a
    /// dictionary of its own (building one for every row, with a hash of each column's name, and freeing
    /// it was 8% of a re-import, perf, release). An NDJSON object's keys are its own.
    private enum Storage: Sendable {
        case cells([String: String])
        case slots([String?], ImportColumns)
    }

    init(line: Int, cells: [String: String], malformed: String? = nil) {
        self.line = line
        storage = .cells(cells)
        self.malformed = malformed
    }

    init(line: Int, values: [String?], columns: ImportColumns) {
        self.line = line
        storage = .slots(values, columns)
    }

    subscript(_ column: String) -> String? {
        switch storage {
        case .cells(let cells): cells[column]
        case .slots(let values, let columns): columns.slots[column].flatMap { values[$0] }
        }
    }

    /// The cells by native column name.
    var cells: [String: String] {
        switch storage {
        case .cells(let cells): return cells
        case .slots(let values, let columns):
            var cells: [String: String] = [:]
            for (column, slot) in columns.slots { if let value = values[slot] { cells[column] = value } }
            return cells
        }
    }
}

/// The native columns of a CSV file's rows, each at its slot in a row's values.
final class ImportColumns: Sendable {
    let slots: [String: Int]
    init(_ slots: [String: Int]) { self.slots = slots }
}

/// A problem with the file as a whole (cannot be read, not valid in its encoding, no header, a key
/// column missing): nothing is imported.
struct ImportFileProblem: Error {
    var message: String
    /// The file cannot be read at all (exit 1), as opposed to its content being wrong (exit 64).
    var unreadable = false
}

/// Reads the rows of an import file one at a time, streamed: CSV through CSV.swift, NDJSON a line at a
/// time through Foundation's JSONDecoder. Column names and values are translated by the mapping.
final class RowSource {
    private let columnsByHeader: [String: [String]]
    private let values: [String: [String: String]]
    private let defaults: [String: String]
    private let path: String
    private let encoding: ImportEncoding
    private var temporary: URL?
    private var csv: CSVReader?
    /// The native columns each of the file's columns gives (a mapping may read one column twice).
    private var header: [[String]] = []
    /// The slots of `header`'s native columns, the column of each slot, and the defaults' slots.
    private var headerSlots: [[Int]] = []
    private var slotColumns: [String] = []
    private var defaultSlots: [(Int, String)] = []
    private var columns = ImportColumns([:])
    private var headerNames: [String] = []
    private var lines: LineReader?
    private var nextLine = 1
    private let decoder = JSONDecoder()
    /// The native name of each column → the file's name for it (for error messages).
    let sourceNames: [String: String]

    /// Opens `path` (`-`: standard input).
    init(path: String, format: ImportFormat, kind: ImportKind, mapping: ImportMapping?, encoding: ImportEncoding,
         delimiter: Character) throws(ImportFileProblem) {
        self.path = path
        self.encoding = encoding
        var byHeader: [String: [String]] = [:]
        for (native, source) in mapping?.columns ?? [:] { byHeader[source, default: []].append(native) }
        columnsByHeader = byHeader
        sourceNames = mapping?.columns ?? [:]
        values = mapping?.values ?? [:]
        defaults = mapping?.defaults ?? [:]
        var readable = path
        do {
            // Another encoding, or standard input (which cannot be read twice), goes through iconv into a
            // temporary UTF-8 file first; a UTF-8 file is read as it is and checked only if CSV.swift fails.
            if encoding != .utf8 || path == "-" {
                let input = path == "-" ? FileHandle.standardInput : try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                let url = FileManager.default.temporaryDirectory.appendingPathComponent("aftersales-import-\(UUID().uuidString).csv")
                _ = FileManager.default.createFile(atPath: url.path, contents: nil)
                temporary = url
                let output = try FileHandle(forWritingTo: url)
                defer { try? output.close() }
                do { try Transcoding.convert(input, from: encoding, to: output) } catch let invalid as Transcoding.Invalid {
                    throw ImportFileProblem(message: Self.describe(invalid, path: path, encoding: encoding))
                }
                readable = url.path
            } else if !FileManager.default.isReadableFile(atPath: path) {
                throw ImportFileProblem(message: "file \"\(path)\" cannot be read; check the path and its permissions", unreadable: true)
            }
        } catch let problem as ImportFileProblem {
            throw problem
        } catch {
            throw ImportFileProblem(message: "file \"\(path)\" cannot be read (\((error as NSError).localizedDescription))", unreadable: true)
        }
        switch format {
        case .csv:
            guard let scalar = delimiter.unicodeScalars.first, delimiter.unicodeScalars.count == 1,
                  let stream = InputStream(fileAtPath: readable) else {
                throw ImportFileProblem(message: "file \"\(path)\" cannot be read")
            }
            do {
                let reader = try CSVReader(stream: stream, hasHeaderRow: true, trimFields: false, delimiter: scalar)
                csv = reader
                headerNames = (reader.headerRow ?? []).map { Self.trimmed($0) }
                header = (reader.headerRow ?? []).map { self.natives(Self.trimmed($0)) }
                var slots: [String: Int] = [:]
                for column in header.joined() + defaults.keys.sorted() where slots[column] == nil {
                    slots[column] = slotColumns.count
                    slotColumns.append(column)
                }
                headerSlots = header.map { $0.map { slots[$0]! } }
                defaultSlots = defaults.sorted { $0.key < $1.key }.map { (slots[$0.key]!, $0.value) }
                columns = ImportColumns(slots)
                nextLine = 2
            } catch {
                throw try problem(error)
            }
        case .ndjson:
            guard let handle = FileHandle(forReadingAtPath: readable) else { throw ImportFileProblem(message: "file \"\(path)\" cannot be read") }
            lines = LineReader(handle)
        }
        try checkColumns(kind: kind, format: format)
    }

    deinit {
        if let temporary { try? FileManager.default.removeItem(at: temporary) }
    }

    /// The next row with a value, or nil at the end; blank rows and lines are passed over.
    func next() throws(ImportFileProblem) -> ImportRow? {
        if let csv {
            // On Linux, Foundation's file InputStream says it has bytes until a read returns none, so
            // CSV.swift's reader always ends a file with `cannotReadFile` (a real failure of the stream
            // is `streamErrorHasOccurred`): the end of the file, not an error. Invalid UTF-8 ends the row
            // it is in and the reader goes on, so the error is looked at after every row.
            func failed() -> (any Error)? {
                guard let error = csv.error else { return nil }
                if case CSVError.cannotReadFile = error { return nil }
                return error
            }
            while let fields = csv.next() {
                if let error = failed() { throw try problem(error) }
                let line = nextLine
                var values = [String?](repeating: nil, count: slotColumns.count)
                var any = false
                for (index, raw) in fields.enumerated() {
                    nextLine += Self.lineBreaks(raw)
                    guard index < headerSlots.count else { continue }
                    let value = Self.trimmed(raw)
                    if !value.isEmpty {
                        any = true
                        for slot in headerSlots[index] { values[slot] = translate(slotColumns[slot], value) }
                    }
                }
                nextLine += 1
                if any {
                    for (slot, value) in defaultSlots where values[slot] == nil { values[slot] = value }
                    return ImportRow(line: line, values: values, columns: columns)
                }
            }
            if let error = failed() { throw try problem(error) }
            return nil
        }
        guard let lines else { return nil }
        while let (number, data) = try lines.next(path: path) {
            if data.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let object: [String: JSONCell]
            do { object = try decoder.decode([String: JSONCell].self, from: data) } catch {
                if String(data: data, encoding: .utf8) == nil { throw try problem(CSVError.unicodeDecoding) }
                return ImportRow(line: number, cells: [:], malformed: "expected one JSON object per line, like {\"id\": \"C-1\"}")
            }
            var cells: [String: String] = [:]
            for (key, value) in object {
                guard let text = value.text else { continue }
                let trimmed = Self.trimmed(text)
                if !trimmed.isEmpty { for column in natives(key) { cells[column] = translate(column, trimmed) } }
            }
            return ImportRow(line: number, cells: withDefaults(cells))
        }
        return nil
    }

    /// The native columns a file's column stands for: the mapping's, else the name itself.
    private func natives(_ name: String) -> [String] { columnsByHeader[name] ?? [name] }

    private func withDefaults(_ cells: [String: String]) -> [String: String] {
        defaults.isEmpty ? cells : cells.merging(defaults) { cell, _ in cell }
    }

    /// The mapping's value for `value` in `column`, or `value` (without a mapping's values, no look-up:
    /// a hash of every cell's column name, 3% of a re-import, perf, release).
    private func translate(_ column: String, _ value: String) -> String { values.isEmpty ? value : values[column]?[value] ?? value }

    private func checkColumns(kind: ImportKind, format: ImportFormat) throws(ImportFileProblem) {
        guard format == .csv else { return }
        let present = Set(header.joined()).union(defaults.keys)
        let needed: [[String]] = switch kind {
        case .customers: [["id"]]
        case .products: [["sku"]]
        case .orders: [["id"], ["customer"], ["sku"], ["quantity"]]
        case .shipments: [["order"], ["id"]]
        case .events: [["shipment", "tracking"], ["kind"], ["at"]]
        case .complaints: [["id"], ["order"]]
        }
        for alternatives in needed where !alternatives.contains(where: present.contains) {
            let names = alternatives.map { sourceNames[$0].map { "\"\($0)\"" } ?? $0 }.joined(separator: " or ")
            throw ImportFileProblem(message: "file \"\(path)\" line 1: the header has no column \(names) for \(kind.rawValue); it has \(headerNames.joined(separator: ", "))")
        }
    }

    /// Turns a CSV.swift error into the problem to report; invalid UTF-8 is found again by iconv, which knows where.
    private func problem(_ error: any Error) throws(ImportFileProblem) -> ImportFileProblem {
        if case CSVError.unicodeDecoding = error, let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            do { try Transcoding.convert(handle, from: .utf8, to: nil) } catch let invalid as Transcoding.Invalid {
                return ImportFileProblem(message: Self.describe(invalid, path: path, encoding: encoding))
            } catch {}
        }
        if case CSVError.cannotReadHeaderRow = error { return ImportFileProblem(message: "file \"\(path)\" is empty: expected a header row naming the columns") }
        return ImportFileProblem(message: "file \"\(path)\" cannot be read as CSV (\(error))")
    }

    static func describe(_ invalid: Transcoding.Invalid, path: String, encoding: ImportEncoding) -> String {
        let hint = encoding == .utf8 ? "; if it is not UTF-8, give its encoding (--encoding gb18030 or windows-1252)" : "; check --encoding"
        return "file \"\(path)\" is not valid \(encoding.rawValue): \(invalid.truncated ? "it ends inside a character" : "invalid byte sequence") at byte offset \(invalid.offset)\(hint)"
    }

    /// The text without white space at either end. Foundation trims only a cell with white space at an
    /// end (the standard library's Unicode `White_Space` property is the set Foundation trims): Foundation's
    /// trimming bridges every cell through NSString, and on every cell it was 33% of a re-import's CPU
    /// (perf, release, 200,000 lines; bench row 6b: 12.9 s trimming every cell, 4.5 s with this check).
    static func trimmed(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
              first.properties.isWhitespace || last.properties.isWhitespace else { return text }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Line breaks inside a quoted cell (CRLF counted once).
    static func lineBreaks(_ text: String) -> Int {
        var count = 0
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == 0x0A, previous != 0x0D { count += 1 } else if byte == 0x0D { count += 1 }
            previous = byte
        }
        return count
    }
}

/// The lines of a file, a buffer at a time (NDJSON is one JSON value per line).
final class LineReader {
    private let handle: FileHandle
    private var buffer = Data()
    private var number = 0
    private var atEnd = false

    init(_ handle: FileHandle) { self.handle = handle }
    deinit { try? handle.close() }

    func next(path: String) throws(ImportFileProblem) -> (Int, Data)? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = buffer[(newline + 1)...]
                number += 1
                return (number, Data(number == 1 ? Self.dropBOM(line) : line))
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                let line = buffer
                buffer = Data()
                number += 1
                return (number, Data(number == 1 ? Self.dropBOM(line) : line))
            }
            do {
                let chunk = try handle.read(upToCount: 1 << 16) ?? Data()
                if chunk.isEmpty { atEnd = true } else { buffer = Data(buffer) + chunk }
            } catch {
                throw ImportFileProblem(message: "file \"\(path)\" cannot be read (\((error as NSError).localizedDescription))")
            }
        }
    }

    static func dropBOM(_ line: Data) -> Data {
        line.starts(with: [0xEF, 0xBB, 0xBF]) ? line.dropFirst(3) : line
    }
}

/// A value of an NDJSON object, as the text of a cell: lists joined with `|`, like a CSV cell.
enum JSONCell: Decodable {
    case text(String?)
    case list([JSONCell])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .text(nil) }
        else if let bool = try? c.decode(Bool.self) { self = .text(bool ? "true" : "false") }
        else if let whole = try? c.decode(Int64.self) { self = .text(String(whole)) }
        else if let number = try? c.decode(Double.self) { self = .text(String(number)) }
        else if let string = try? c.decode(String.self) { self = .text(string) }
        else { self = .list(try c.decode([JSONCell].self)) }
    }

    var text: String? {
        switch self {
        case .text(let text): text
        case .list(let cells): cells.compactMap(\.text).joined(separator: "|")
        }
    }
}
