import AftersalesDomain
import Foundation

extension TextReport {
    /// `orders from orders.csv: 12 rows, 3 new, 1 updated, 0 unchanged, 0 invalid`, then each refused row.
    public static func importSummary(_ s: ImportSummary) -> String {
        var text = "\(s.kind.rawValue) from \(s.file): \(s.rows) rows, \(s.new) new, \(s.updated) updated, \(s.unchanged) unchanged, \(s.invalid) invalid"
        if s.dryRun { text += " (dry run: nothing written)" }
        for error in s.errors { text += "\n  " + error.description }
        return text
    }

    /// The refusal of a whole file: one line, then every bad row.
    public static func importRefusal(_ s: ImportSummary) -> String {
        var text = "aftersales: error: \(s.file): \(s.invalid) of \(s.rows) rows are invalid; nothing was imported"
            + " (fix them, or pass --skip-invalid --rejects FILE to import the rest)"
        for error in s.errors { text += "\n  " + error.description }
        return text
    }

    /// One line per file of `import --from-dir`.
    public static func folderImport(_ results: [FolderImportResult]) -> String {
        if results.isEmpty { return "No files to import." }
        return results.map { r in
            switch r.outcome {
            case .waiting: return "\(r.file): modified in the last \(Int(Importer.settleSeconds)) s, left for the next run"
            case .done: return "\(r.file): done" + (r.summary.map { ": " + importSummary($0) } ?? "")
            case .failed: return "\(r.file): failed, moved to failed/\n" + r.errors.map { "  " + $0 }.joined(separator: "\n")
            }
        }.joined(separator: "\n")
    }
}
