import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

extension LinkServer.Listen: CheckedArgument {
    public init(checking text: String) throws(InvalidInput) { try self.init(parsing: text) }
    public var defaultValueDescription: String { description }
}

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Answer the signed links in mail: one-click unsubscribe, survey, complaint rating, receipt, preferences.",
        discussion: """
        Needs links.base_url and the link secret (AFTERSALES_LINK_SECRET or links.secret_file). Prints the \
        address it listens on, then one access-log line a request on stderr (never a token). Stops \
        gracefully on SIGTERM or SIGINT. Put it behind nginx or Caddy for TLS (see README.md).
        Example: aftersales serve --listen 127.0.0.1:8080
        """
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Where to listen, HOST:PORT (port 0: any free port).", valueName: "host:port"))
    var listen = LinkServer.Listen()
    @Option(help: ArgumentHelp("Threads for network I/O, 1 to 256 (default: half the cores, at least 1); requests are answered on a pool of one thread a core.",
                               valueName: "n"))
    var ioThreads: IOThreads?

    func run() throws {
        let settings = try global.settings()
        let ws = try Workspace.open(settings, access: .readWrite)
        // `--now` (or AFTERSALES_NOW) fixes the clock; else each request reads the system clock.
        let fixed = global.now != nil || ProcessInfo.processInfo.environment["AFTERSALES_NOW"].map { !$0.isEmpty } == true
        let now = settings.now
        let clock: @Sendable () -> Date
        if fixed { clock = { now } } else { clock = { Date.now } }
        let server = try ws.linkServer(listen: listen, ioThreads: ioThreads?.value ?? LinkServer.defaultIOThreads, clock: clock, accessLog: { line in
            FileHandle.standardError.write(Data("aftersales serve: \(line)\n".utf8))
        })
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                // Written at once (not through print's buffer): a test or a supervisor reads the port from it.
                try await server.run(listening: { address in
                    FileHandle.standardOutput.write(Data("listening on \(address)\n".utf8))
                })
            } catch {
                outcome.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw AftersalesError.failure("serve: \(error)") }
    }

    /// The server's error, handed from its task to the command.
    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: (any Error)?
        func set(_ error: any Error) { lock.withLock { stored = error } }
        var error: (any Error)? { lock.withLock { stored } }
    }
}
