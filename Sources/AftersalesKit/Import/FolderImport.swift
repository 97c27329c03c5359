import AftersalesDomain
import Foundation

/// What `import --from-dir` did with one file.
public struct FolderImportResult: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Equatable, Codable {
        /// Imported; moved to `done/`.
        case done
        /// Refused (a bad row, an unknown kind, an unreadable file); moved to `failed/` beside its `.errors.txt`.
        case failed
        /// Modified in the last few seconds, so perhaps still being written; left for the next run.
        case waiting
    }
    public var file: String
    public var outcome: Outcome
    /// The import's summary (none when the kind could not be told or the file could not be read).
    public var summary: ImportSummary?
    /// Why it failed.
    public var errors: [String] = []
}

extension Importer {
    /// A file modified less than this many seconds before now is left for the next run.
    public static let settleSeconds: TimeInterval = 5

    /// Imports the files of `directory` in name order, each whole-file atomic, the kind taken from the
    /// name's prefix (`orders-2026-12-01.csv`, `01-customers.ndjson`) or a mapping's name (`erp-orders.csv`).
    /// Each moves to `done/` or `failed/` (with `NAME.errors.txt`); a file modified within
    /// ``settleSeconds`` of now (the injected clock) stays.
    public func importFolder(_ directory: String) throws(AftersalesError) -> [FolderImportResult] {
        let fm = FileManager.default
        let root = URL(fileURLWithPath: directory)
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .invalid(InvalidInput(field: "from-dir", value: directory, problem: "is not a directory"))
        }
        let names: [String]
        do { names = try fm.contentsOfDirectory(atPath: directory).sorted() } catch {
            throw .failure("directory \"\(directory)\" cannot be read (\((error as NSError).localizedDescription))")
        }
        var results: [FolderImportResult] = []
        for name in names where !name.hasPrefix(".") && !name.hasSuffix(".errors.txt") {
            let url = root.appendingPathComponent(name)
            guard let attributes = try? fm.attributesOfItem(atPath: url.path), attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            if let modified = attributes[.modificationDate] as? Date, (-60..<Self.settleSeconds).contains(now.timeIntervalSince(modified)) {
                results.append(FolderImportResult(file: name, outcome: .waiting))
                continue
            }
            var result = FolderImportResult(file: name, outcome: .failed)
            if let (kind, mapping) = Self.kind(fileName: name, mappings: configuration.importing.mappings) {
                do {
                    let summary = try importFile(url.path, ImportOptions(kind: kind, mapping: mapping))
                    result.summary = summary
                    if summary.refused { result.errors = summary.errors.map(\.description) } else { result.outcome = .done }
                } catch {
                    result.errors = [error.description]
                }
            } else {
                let kinds = ImportKind.allCases.map(\.rawValue).joined(separator: ", ")
                result.errors = ["cannot tell what \"\(name)\" holds: start its name with a kind (\(kinds)) or a mapping's name"]
            }
            try move(url, to: result.outcome == .done ? "done" : "failed", errors: result.errors)
            results.append(result)
        }
        return results
    }

    /// The kind (and mapping) a file's name starts with, after an optional numeric prefix (`01-`).
    static func kind(fileName: String, mappings: [String: ImportMapping]) -> (ImportKind, String?)? {
        var name = Substring(fileName.lowercased())
        if let first = name.firstIndex(where: { !$0.isNumber }), first != name.startIndex, "-_. ".contains(name[first]) {
            name = name[name.index(after: first)...]
        }
        for mappingName in mappings.keys.sorted(by: { $0.count > $1.count }) where name.hasPrefix(mappingName.lowercased()) {
            if let kind = mappings[mappingName]?.kind { return (kind, mappingName) }
        }
        for kind in ImportKind.allCases where name.hasPrefix(kind.rawValue) { return (kind, nil) }
        return nil
    }

    private func move(_ url: URL, to folder: String, errors: [String]) throws(AftersalesError) {
        let fm = FileManager.default
        let target = url.deletingLastPathComponent().appendingPathComponent(folder)
        let destination = target.appendingPathComponent(url.lastPathComponent)
        do {
            try fm.createDirectory(at: target, withIntermediateDirectories: true)
            if fm.fileExists(atPath: destination.path) { try fm.removeItem(at: destination) }
            try fm.moveItem(at: url, to: destination)
            let report = target.appendingPathComponent(url.lastPathComponent + ".errors.txt")
            if errors.isEmpty {
                if fm.fileExists(atPath: report.path) { try fm.removeItem(at: report) }
            } else {
                try Data((errors.joined(separator: "\n") + "\n").utf8).write(to: report)
            }
        } catch {
            throw .failure("cannot move \"\(url.path)\" to \(folder)/ (\((error as NSError).localizedDescription))")
        }
    }
}
