import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

/// `--before`: an ISO 8601 instant or date.
struct Before: CheckedArgument {
    var date: Date
    init(checking text: String) throws(InvalidInput) { date = try Timestamp.parse(text, field: "before") }
}

extension CustomerCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export",
            abstract: "GDPR access: everything stored about a customer, as JSON and .eml files.",
            discussion: """
            Writes DIR/<customer>.json (every stored field of the customer, their orders, shipments, events, complaints, \
            surveys, reviews, consent history and outbox entries) and DIR/mail/<key>.eml (the archived bytes of every mail).
            Example: aftersales customer export C-MX-001 --out export-C-MX-001
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The customer's id.") var id: String
        @Option(help: ArgumentHelp("The directory to write (created if needed).", valueName: "dir")) var out: String

        func run() throws {
            let ws = try global.workspace(.readOnly)
            let export = try ws.exportCustomer(id: id, to: out)
            global.emit(export, "\(export.json)\n\(export.mails.count) archived mail(s) in \(out)/mail")
        }
    }

    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "erase",
            abstract: "GDPR erasure: replace a customer's personal data, keep only hashes and proof of what was sent.",
            discussion: """
            Name, company, email, cc and manager fields are replaced; the free texts of complaints, surveys and reviews \
            are erased; archived mail bytes are deleted (their SHA-256 and Message-ID stay); pending mail is cancelled \
            with the reason "erased"; the addresses stay in the suppression list only as hashes (mail to them again \
            needs new consent). Refuses while orders or complaints are open, unless --force. Nothing of the erased \
            data stays in the database file or its write-ahead log.
            Example: aftersales customer erase C-MX-001
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The customer's id.") var id: String
        @Flag(help: "Erase even while orders or complaints are open.") var force = false

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let erasure = try ws.eraseCustomer(id: id, force: force)
            var text = "customer \(id) erased: \(erasure.cancelled.count) pending mail(s) cancelled, \(erasure.archivesDeleted) archived message(s) deleted, "
                + "\(erasure.addressesHashed) address(es) kept as hashes"
            if !erasure.forcedOver.isEmpty { text += "; erased with open \(erasure.forcedOver.joined(separator: ", ")) (--force)" }
            global.emit(erasure, text)
        }
    }
}

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup",
        abstract: "An online, consistent copy of the database (safe while run or serve write).",
        discussion: """
        The copy is checked with integrity_check before it replaces FILE. Restore: stop the cron job, then \
        cp FILE aftersales.db (and remove aftersales.db-wal and aftersales.db-shm).
        Example (crontab): 15 3 * * * cd /srv/aftersales && aftersales backup /backup/aftersales-$(date +\\%a).db
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file to write.") var file: String

    func run() throws {
        let ws = try global.workspace(.readWrite)
        let report = try ws.store.backup(to: file)
        let counts = report.outbox.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        global.emit(report, "\(report.path): \(report.bytes) bytes, integrity \(report.integrity); outbox: \(counts.isEmpty ? "empty" : counts)")
    }
}

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "doctor",
        abstract: "Check the set-up: configuration, templates, database, SMTP (no mail sent), disk.",
        discussion: "One line per check; exit 0 only when all pass, 1 otherwise. Example: aftersales doctor")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let findings = Doctor.run(try global.settings())
        let text = findings.map { finding in
            let mark = switch finding.verdict { case .pass: "ok  "; case .fail: "FAIL"; case .skip: "skip" }
            return "\(mark) \(finding.check): \(finding.detail)" + (finding.fix.map { "; fix: \($0)" } ?? "")
        }.joined(separator: "\n")
        global.emit(findings, text)
        if findings.contains(where: { $0.verdict == .fail }) { throw ExitCode(1) }
    }
}

/// Runs `body` (a run), writes its metrics to `file` whether it succeeded or failed, then finishes as `run` does.
func withMetrics(_ ws: Workspace, _ global: GlobalOptions, file: String, _ body: () throws -> RunSummary) throws {
    let start = ContinuousClock.now
    let summary: RunSummary
    do {
        summary = try body()
    } catch {
        try? ws.writeMetrics(nil, durationSeconds: seconds(since: start), to: file)
        throw error
    }
    try ws.writeMetrics(summary, durationSeconds: seconds(since: start), to: file)
    try finish(summary, global)
}

/// Real seconds elapsed since `start` (how long a run took, for its metrics).
func seconds(since start: ContinuousClock.Instant) -> Double {
    let (whole, fraction) = (ContinuousClock.now - start).components
    return Double(whole) + Double(fraction) / 1e18
}

/// Progress of a long command on stderr, only when stderr is a terminal (nothing in a log or a pipe).
enum TerminalProgress {
    /// A reporter that rewrites one line, `label: done/total (percent)`, and ends it when done; nil when stderr is not a terminal.
    static func standardError(label: String) -> ((Int, Int) -> Void)? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        return { done, total in
            let percent = total > 0 ? done * 100 / total : 100
            let end = done >= total ? "\n" : ""
            FileHandle.standardError.write(Data("\r\(label): \(done)/\(total) (\(percent)%)\(end)".utf8))
        }
    }
}
