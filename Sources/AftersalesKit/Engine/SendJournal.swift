import AftersalesDomain
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the journal of a stopped run shows about the mails it claimed: which ones a connection
/// began (an SMTP transaction may have reached the server), which it put back untried, and the
/// answers it got that the run had not yet committed.
public struct ClaimJournal: Sendable, Hashable {
    /// The run that wrote it (the `claimedBy` of its claims).
    public var runID: String
    public var started: Set<String> = []
    public var returned: Set<String> = []
    public var outcomes: [String: DeliveryOutcome] = [:]

    public init(runID: String) { self.runID = runID }
}

/// The send journal, `<database>.inflight`: a connection appends a line before it begins a mail's
/// SMTP transaction and one with the server's answer after it, each with one `write(2)` (no fsync:
/// a killed process loses nothing the kernel has, and a journal from before a reboot is ignored).
/// After a `kill -9`, recovery (``AftersalesStore/recoverAbandonedClaims(journal:now:)``) returns
/// the claimed mail no connection began to planned and records the answers already received, so that
/// only the mail in flight at the kill is in doubt (at most one per connection), not two batches.
/// Group commit stays as it was: the journal costs one small write per mail, no transaction
/// (JSONEncoder's two lines of a mail take about 24 µs of the 350-700 µs a mail takes on one connection).
final class SendJournal: @unchecked Sendable {
    private let fd: Int32
    let path: String
    private let encoder = JSONEncoder()

    /// One line of the journal, as JSON.
    enum Record: Codable {
        /// The first line: the boot and the run that wrote the journal.
        case header(boot: String, run: String)
        /// A mail's SMTP transaction begins.
        case started(key: String)
        /// A mail's attempt ended: its outcome, or nil when it was put back untried.
        case finished(key: String, outcome: DeliveryOutcome?)
    }

    /// Starts the journal of `runID` (replacing the last one); nil when it cannot be written, so
    /// that recovery then treats every claim of the run as in doubt, as without a journal.
    init?(path: String, runID: String) {
        guard let boot = Self.bootID() else { return nil }
        fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0o600)
        guard fd >= 0 else { return nil }
        self.path = path
        append(.header(boot: boot, run: runID))
    }

    deinit { _ = close(fd) }

    /// Before the first SMTP command of a mail.
    func started(_ key: String) { append(.started(key: key)) }

    /// After the mail's attempt: its outcome, or nil when it was put back untried.
    func finished(_ key: String, _ outcome: DeliveryOutcome?) { append(.finished(key: key, outcome: outcome)) }

    /// The run ended with every claim recorded: nothing is left to recover.
    func remove() { unlink(path) }

    /// Writes one record as one line, with one `write(2)` (JSON escapes line breaks inside strings).
    private func append(_ record: Record) {
        guard var line = try? encoder.encode(record) else { return }
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { raw in _ = write(fd, raw.baseAddress, raw.count) }
    }

    /// The journal at `path`, when it was written since this boot and names a run; nil otherwise
    /// (none, unreadable, or from before a reboot, whose unsynced lines may be lost).
    static func read(path: String) -> ClaimJournal? {
        guard let data = FileManager.default.contents(atPath: path), let boot = bootID() else { return nil }
        let decoder = JSONDecoder()
        var journal: ClaimJournal?
        // A line cut short by the kill has no line break: it is the last one, and says nothing.
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines.removeLast()
        for line in lines {
            switch try? decoder.decode(Record.self, from: line) {
            case .header(let written, let run)?:
                guard written == boot else { return nil }
                journal = ClaimJournal(runID: run)
            case .started(let key)?: journal?.started.insert(key)
            case .finished(let key, nil)?: journal?.returned.insert(key)
            case .finished(let key, let outcome?)?: journal?.outcomes[key] = outcome
            case nil: continue
            }
        }
        return journal
    }

    /// This boot of the machine (Linux's random boot id); nil where unknown, and then no journal is trusted.
    static func bootID() -> String? {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
