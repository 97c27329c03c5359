import AftersalesDomain
import CSV
import Foundation

/// The rejects file of `--skip-invalid`: each refused row as CSV (CSV.swift's writer) under the native
/// column names, after its line in the imported file and the reasons, so that it can be fixed and imported.
final class RejectsWriter: @unchecked Sendable {
    private let writer: CSVWriter
    private let columns: [String]
    private let lock = NSLock()

    init(path: String, kind: ImportKind) throws(AftersalesError) {
        guard let stream = OutputStream(toFileAtPath: path, append: false) else {
            throw .failure("rejects file \"\(path)\" cannot be written; check the path")
        }
        do {
            writer = try CSVWriter(stream: stream)
            columns = kind.columns
            try writer.write(row: ["line", "errors"] + columns)
        } catch {
            throw .failure("rejects file \"\(path)\" cannot be written (\(error))")
        }
    }

    func write(_ rows: [ImportRow], _ errors: [ImportRowError]) {
        lock.withLock {
            let reasons = errors.map { InvalidInput(field: $0.column, value: $0.value, problem: $0.message).description }.joined(separator: "; ")
            for row in rows {
                try? writer.write(row: [String(row.line), reasons] + columns.map { row[$0] ?? "" })
            }
        }
    }

    func close() { lock.withLock { writer.stream.close() } }
}
