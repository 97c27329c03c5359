import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

extension ImportKind: CheckedCase {}
extension ImportFormat: CheckedCase {}
extension ImportEncoding: CheckedCase {}

/// `--delimiter`: one character.
struct Delimiter: CheckedArgument {
    var character: Character
    init(checking text: String) throws(InvalidInput) {
        let unescaped = text == "\\t" ? "\t" : text
        guard unescaped.unicodeScalars.count == 1, let first = unescaped.first else {
            throw InvalidInput(field: "delimiter", value: text, problem: "expected one character, like , or ; (\\t for a tab)")
        }
        character = first
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import customers, products, orders, shipments, tracking events or complaints from a CSV or NDJSON export.",
        discussion: """
        Rows are upserted by their external id through the same checks and event log as the recording commands; \
        an identical row changes nothing, so importing a file twice records nothing the second time. \
        A file is imported whole or not at all: any invalid row refuses it (exit 64), every bad row listed.
        Examples:
          aftersales import orders orders.csv
          aftersales import orders erp.csv --mapping erp-orders --encoding gb18030
          aftersales import events feed.ndjson --skip-invalid --rejects rejected.csv
          aftersales import --from-dir inbox/
        """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "What the file holds: customers, products, orders, shipments, events or complaints.") var kind: ImportKind?
    @Argument(help: "The file (- for standard input).") var file: String?
    @Option(help: "csv or ndjson (default: from the extension).") var format: ImportFormat?
    @Option(help: "A mapping of import.mappings in the configuration.") var mapping: String?
    @Option(help: "utf-8 (default), gb18030 or windows-1252.") var encoding: ImportEncoding?
    @Option(help: "The CSV delimiter (default: ,).") var delimiter: Delimiter?
    @Flag(help: "Write nothing; report what would happen.") var dryRun = false
    @Flag(help: "Write the valid rows and leave out the invalid ones (listed in --rejects).") var skipInvalid = false
    @Option(help: ArgumentHelp("With --skip-invalid: write the rejected rows and their reasons to this CSV file.", valueName: "file")) var rejects: String?
    @Option(help: ArgumentHelp("Import every file of this folder (kind from the name's prefix), moving each to done/ or failed/.", valueName: "dir"))
    var fromDir: String?

    func validate() throws {
        if fromDir != nil {
            if kind != nil || file != nil { throw ValidationError("from-dir: give either KIND FILE or --from-dir, not both") }
        } else {
            if kind == nil { throw ValidationError("kind: expected one of \(ImportKind.allCases.map(\.rawValue).joined(separator: ", "))") }
            if file == nil { throw ValidationError("file: give the file to import (- for standard input)") }
        }
        if rejects != nil, !skipInvalid { throw ValidationError("rejects: --rejects goes with --skip-invalid") }
    }

    func run() throws {
        let ws = try global.workspace(.readWrite)
        let importer = Importer(store: ws.store, configuration: ws.configuration, now: ws.now)
        if let fromDir {
            let results = try importer.importFolder(fromDir)
            global.emit(results, TextReport.folderImport(results))
            if results.contains(where: { $0.outcome == .failed }) { throw ExitCode(64) }
            return
        }
        guard let kind, let file else { return }
        let options = ImportOptions(kind: kind, format: format, mapping: mapping, encoding: encoding, delimiter: delimiter?.character,
                                    dryRun: dryRun, skipInvalid: skipInvalid, rejectsPath: rejects)
        let showProgress = isatty(STDERR_FILENO) == 1
        let name = kind.rawValue
        let progress: @Sendable (Int) -> Void = { rows in FileHandle.standardError.write(Data("\rimporting \(name): \(rows) rows".utf8)) }
        let summary = try importer.importFile(file, options, progress: showProgress ? progress : nil)
        if showProgress, summary.rows >= 10_000 { FileHandle.standardError.write(Data("\n".utf8)) }
        if global.json {
            print(JSONOutput.string(summary))
        } else if summary.refused {
            FileHandle.standardError.write(Data((TextReport.importRefusal(summary) + "\n").utf8))
        } else {
            print(TextReport.importSummary(summary))
        }
        if summary.refused { throw ExitCode(64) }
    }
}
