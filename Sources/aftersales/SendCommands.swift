import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

/// `--transport smtp|file`.
struct TransportOption: ParsableArguments {
    @Option(help: "How mail leaves: smtp, or file (.eml files in transport.dir). Default: transport.kind (file).")
    var transport: Configuration.TransportKind?

    /// The transport chosen, else `transport.kind`'s.
    func make(_ ws: Workspace) throws -> any MailTransport { try ws.transport(kind: transport?.rawValue) }
}

/// Prints the summary and exits with its status (see ``RunSummary/exitStatus``).
func finish(_ summary: RunSummary, _ global: GlobalOptions) throws {
    global.emit(summary, TextReport.run(summary))
    if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "What cron calls: plan, then send everything due.",
        discussion: """
        Prints one summary line (--json for monitoring). Exit 0 when all is done, 75 when some mail \
        waits for a retry, 1 when the whole run failed (connection refused, TLS or AUTH failure). \
        Overlapping runs are safe: a second run leaves at once and nothing goes twice.
        Example (crontab): */10 * * * * cd /srv/aftersales && aftersales run --transport smtp >> run.log 2>&1
        """
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var transport: TransportOption
    @Option(help: ArgumentHelp("Write the run's counters here in Prometheus' text format (node_exporter's textfile collector).", valueName: "file"))
    var metrics: String?

    func run() throws {
        let ws = try global.workspace(.readWrite)
        guard let metrics else { return try finish(try ws.run(transport: try transport.make(ws)), global) }
        try withMetrics(ws, global, file: metrics) { try ws.run(transport: try transport.make(ws)) }
    }
}

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send now: what is due, or particular mails (also ones not yet due).",
        discussion: """
        Examples:
          aftersales send --due --dry-run
          aftersales send --key damage-reply/K-2001/1 --transport smtp
          aftersales send --customer C-MX-001
        """
    )
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Send everything that is due (the default without --key).") var due = false
    @Option(help: "Send this mail now, even if not yet due (repeatable).") var key: [String] = []
    @Option(help: "Only this customer's due mail.") var customer: String?
    @Flag(help: "Show what would go, send nothing.") var dryRun = false
    @OptionGroup var transport: TransportOption

    func validate() throws {
        if due && !key.isEmpty { throw ValidationError("key: --due and --key exclude each other") }
    }

    func run() throws {
        let ws = try global.workspace(.readWrite)
        let summary = try ws.send(SendSelection(keys: key, customerID: customer, dryRun: dryRun), transport: try transport.make(ws))
        try finish(summary, global)
    }
}

/// An ops action on one outbox entry.
struct OutboxActionOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The mail's key.") var key: String

    func apply(_ action: OutboxMachine.Action) throws {
        let workspace = try global.workspace(.readWrite)
        let entry = try workspace.outboxAction(action, key: key)
        global.emit(workspace.view(of: entry), "\(entry.key): \(entry.status.rawValue)" + (entry.reason.map { " (\($0))" } ?? ""))
    }
}

extension OutboxCommand {
    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a held mail (it is then sent when due).",
                                                        discussion: "Example: aftersales outbox approve improvement-commitment/K-1/1")
        @OptionGroup var options: OutboxActionOptions
        func run() throws { try options.apply(.approve) }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a mail that has not been sent.",
                                                        discussion: "Example: aftersales outbox cancel survey/SO-1001/1")
        @OptionGroup var options: OutboxActionOptions
        func run() throws { try options.apply(.cancel) }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retry", abstract: "Try a failed mail again at the next run.",
                                                        discussion: "Example: aftersales outbox retry tracking/SH-1/1")
        @OptionGroup var options: OutboxActionOptions
        func run() throws { try options.apply(.retry) }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resolve",
            abstract: "Settle in-doubt mail: it was sent (--sent), or send it again with the same Message-ID (--resend).",
            discussion: """
            Examples:
              aftersales outbox resolve tracking/SH-1/1 --sent
              aftersales outbox resolve --all-in-doubt --customer C-MX-001 --before 2026-12-01T08:00:00Z --resend
            """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The mail's key (or --all-in-doubt).") var key: String?
        @Flag(help: "Every in-doubt mail (narrowed by --customer and --before).") var allInDoubt = false
        @Option(help: "With --all-in-doubt: only this customer's mail.") var customer: String?
        @Option(help: ArgumentHelp("With --all-in-doubt: only mail that went in doubt before this instant, ISO 8601.", valueName: "time"))
        var before: Before?
        @Flag(help: "How it is settled.") var outcome: Outcome

        enum Outcome: String, EnumerableFlag { case sent, resend }

        func validate() throws {
            if (key == nil) == !allInDoubt { throw ValidationError("key: give one mail's key or --all-in-doubt") }
            if !allInDoubt, customer != nil || before != nil { throw ValidationError("customer: --customer and --before go with --all-in-doubt") }
        }

        func run() throws {
            let action: OutboxMachine.Action = outcome == .sent ? .resolveSent : .resendInDoubt
            let workspace = try global.workspace(.readWrite)
            guard allInDoubt else {
                let entry = try workspace.outboxAction(action, key: key ?? "")
                global.emit(workspace.view(of: entry), "\(entry.key): \(entry.status.rawValue)" + (entry.reason.map { " (\($0))" } ?? ""))
                return
            }
            let settled = try workspace.resolveInDoubt(action, customerID: customer, before: before?.date)
            let lines = settled.map { "\($0.key): \($0.status.rawValue)" } + ["\(settled.count) in-doubt mail(s) settled (\(action.rawValue))."]
            global.emit(settled.map { workspace.view(of: $0) }, lines.joined(separator: "\n"))
        }
    }
}
