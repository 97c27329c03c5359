import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation
import Logging

@main
struct Aftersales: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aftersales",
        abstract: "Plans and sends an export company's after-sales mail from recorded facts.",
        discussion: """
        Record orders, shipments, complaints and feedback; the rule engine plans every timed mail \
        in the buyer's language and hours. Exit codes: 0 success, 64 bad usage or invalid input, 1 other failures.
        Example: aftersales order add --id SO-1001 --customer C-MX-001 --line PUMP-200:4 && aftersales run
        """,
        subcommands: [
            CustomerCommand.self, ProductCommand.self, OrderCommand.self, ShipmentCommand.self,
            ComplaintCommand.self, SurveyCommand.self, ReviewCommand.self, StatusCommand.self,
            PlanCommand.self, PreviewCommand.self, OutboxCommand.self, RulesCommand.self, RenderCommand.self, TemplatesCommand.self,
            RunCommand.self, SendCommand.self, FetchCommand.self, ServeCommand.self, ImportCommand.self, ReportCommand.self,
            BackupCommand.self, DoctorCommand.self,
        ]
    )

    static func main() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            let level = ProcessInfo.processInfo.environment["AFTERSALES_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            handler.logLevel = level ?? .warning
            return handler
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as AftersalesError {
            FileHandle.standardError.write(Data("aftersales: error: \(error)\n".utf8))
            Foundation.exit(error.isUsageError ? 64 : 1)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            // Help and version requests exit 0 with their text; every other error is one line: the
            // domain's refusal of a value when there is one, else the parser's message.
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }
            let message = Refusal.first?.description
                ?? self.message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "invalid usage"
            FileHandle.standardError.write(Data("aftersales: error: \(message)\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The SQLite database (env AFTERSALES_DB).", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("The YAML configuration (env AFTERSALES_CONFIG; default ./aftersales.yml when present).", valueName: "path"))
    var config: String?

    @Option(help: ArgumentHelp("An ISO 8601 instant used as the current time everywhere (env AFTERSALES_NOW).", valueName: "time"))
    var now: Now?

    @Flag(help: "Print data as JSON.")
    var json = false

    func settings() throws -> Settings {
        try Settings.resolve(db: db, config: config, now: now?.date, environment: ProcessInfo.processInfo.environment,
                             executable: Bundle.main.executablePath ?? CommandLine.arguments.first, clock: { Date() })
    }

    /// Opens the workspace for writing (creating the database if needed) or for reading only.
    func workspace(_ access: AftersalesStore.Access) throws -> Workspace {
        try Workspace.open(try settings(), access: access, logger: Logger(label: "aftersales"))
    }

    /// Prints `value` as JSON with `--json`, else the text.
    func emit(_ value: some Encodable, _ text: String) {
        print(json ? JSONOutput.string(value) : text)
    }
}

/// `--at`: when a recorded fact happened.
struct AtOption: ParsableArguments {
    @Option(help: ArgumentHelp("When it happened, ISO 8601 (default: now).", valueName: "time"))
    var at: At?

    /// `--at`, else the workspace's now.
    func date(_ ws: Workspace) -> Date { ws.settings.instant(at?.date) }
}

/// Runs a domain check in `validate()`, reporting a refusal as a usage error naming field and value.
func check(_ body: () throws(InvalidInput) -> Void) throws {
    do { try body() } catch { throw ValidationError(error.description) }
}
