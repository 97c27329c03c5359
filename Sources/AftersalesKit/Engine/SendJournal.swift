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
/// Group commit stays as it was: the journal costs one small write per mail, no transaction.
final class SendJournal: @unchecked Sendable {
    private let fd: Int32
    let path: String

    // One line per record, fields separated by tabs (tabs and line breaks inside a field become spaces):
    //   H boot run | S key (begins) | B key (put back untried) | A key reply [address why]... (accepted)
    //   T key reply (transient) | P key reply [address why]... (permanent) | U key reason (unknown)
    // Written by hand, not with JSONEncoder, on the connection's thread, for every mail: with JSONEncoder
    // the two lines of a mail took 23.7 µs, written so 9-10 µs, of which 4-6 µs are the two write(2)
    // calls (-O, 2 cores; a mail takes 350-700 µs on one connection).

    /// Starts the journal of `runID` (replacing the last one); nil when it cannot be written, so
    /// that recovery then treats every claim of the run as in doubt, as without a journal.
    init?(path: String, runID: String) {
        guard let boot = Self.bootID() else { return nil }
        fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0o600)
        guard fd >= 0 else { return nil }
        self.path = path
        append(["H", boot, runID])
    }

    deinit { _ = close(fd) }

    /// Before the first SMTP command of a mail.
    func started(_ key: String) { append(["S", key]) }

    /// After the mail's attempt: its outcome, or nil when it was put back untried.
    func finished(_ key: String, _ outcome: DeliveryOutcome?) {
        func pairs(_ refused: [String: String]) -> [String] { refused.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] } }
        switch outcome {
        case nil: append(["B", key])
        case .accepted(let reply, let refused)?: append(["A", key, reply] + pairs(refused))
        case .transient(let reply)?: append(["T", key, reply])
        case .permanent(let reply, let refused)?: append(["P", key, reply] + pairs(refused))
        case .unknown(let reason)?: append(["U", key, reason])
        }
    }

    /// The run ended with every claim recorded: nothing is left to recover.
    func remove() { unlink(path) }

    private func append(_ fields: [String]) {
        var line = fields.map { field in
            field.utf8.contains { $0 == 9 || $0 == 10 || $0 == 13 } || field.contains(where: \.isNewline)
                ? String(field.map { $0 == "\t" || $0.isNewline ? " " : $0 }) : field
        }.joined(separator: "\t")
        line.append("\n")
        line.withUTF8 { raw in _ = write(fd, raw.baseAddress, raw.count) }
    }

    /// The journal at `path`, when it was written since this boot and names a run; nil otherwise
    /// (none, unreadable, or from before a reboot, whose unsynced lines may be lost).
    static func read(path: String) -> ClaimJournal? {
        guard let data = FileManager.default.contents(atPath: path), let boot = bootID() else { return nil }
        var journal: ClaimJournal?
        // A line cut short by the kill has no line break: it is the last one, and says nothing.
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines.removeLast()
        for raw in lines {
            let fields = String(decoding: raw, as: UTF8.self).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 2 else { continue }
            let key = fields[1]
            func refused() -> [String: String] {
                var map: [String: String] = [:]
                var rest = fields.dropFirst(3)
                while rest.count >= 2 { map[rest.removeFirst()] = rest.removeFirst() }
                return map
            }
            switch (fields[0], fields.count) {
            case ("H", 3):
                guard fields[1] == boot else { return nil }
                journal = ClaimJournal(runID: fields[2])
            case ("S", _): journal?.started.insert(key)
            case ("B", _): journal?.returned.insert(key)
            case ("A", 3...): journal?.outcomes[key] = .accepted(reply: fields[2], refused: refused())
            case ("T", 3): journal?.outcomes[key] = .transient(reply: fields[2])
            case ("P", 3...): journal?.outcomes[key] = .permanent(reply: fields[2], refused: refused())
            case ("U", 3): journal?.outcomes[key] = .unknown(reason: fields[2])
            default: continue
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
