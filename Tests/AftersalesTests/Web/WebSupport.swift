import AftersalesDomain
@testable import AftersalesKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import Testing

/// A workspace with links on, a buyer whose order has a survey, a customs hold, a resolved complaint
/// and a marketing mail in the outbox, and the tokens of those mails' links.
struct WebFixture {
    static let secret = "test-link-secret-0123456789abcdef"
    static let base = "https://after.example.com"
    let scratch: ScratchDirectory
    let now = t("2026-11-23T10:00:00Z")
    var environment: [String: String]

    init(linksOn: Bool = true) throws {
        scratch = try ScratchDirectory("aftersales-web")
        environment = linksOn ? ["AFTERSALES_LINKS_BASE_URL": Self.base, "AFTERSALES_LINK_SECRET": Self.secret] : [:]
    }

    var databasePath: String { scratch.url.appendingPathComponent("web.db").path }

    func workspace(now: Date? = nil) throws -> Workspace {
        try Workspace.open(Settings(databasePath: databasePath, configPath: nil, now: now ?? self.now, environment: environment,
                                    templatesPath: CLI.packageRoot.appendingPathComponent("templates").path), access: .readWrite)
    }

    /// Records the buyer's facts and plans; returns the workspace.
    @discardableResult
    func seed() throws -> Workspace {
        let ws = try workspace(now: t("2026-11-21T10:00:00Z"))
        let store = ws.store, at = ws.now
        _ = try store.addCustomer(id: "C1", CustomerChanges(name: "Fatima Al-Sayed", email: "fatima@example.ae", locale: "ar",
                                                            timeZone: "Asia/Dubai", country: "AE", consent: true), now: at)
        _ = try store.addProduct(sku: "PUMP", ProductChanges(name: "Pump", technical: true, cycleDays: 60), now: at)
        _ = try store.addOrder(id: "O1", customerID: "C1", lines: [OrderLine(sku: "PUMP", quantity: 2)], currency: "USD",
                               at: t("2026-10-01T08:00:00Z"), now: at)
        _ = try store.dispatch(Shipment(id: "S1", orderID: "O1", carrier: "Maersk", trackingNumber: "M1", dispatchedAt: t("2026-10-02T08:00:00Z"),
                                        eta: t("2026-12-10T00:00:00Z")), now: at)
        _ = try store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .held, at: t("2026-11-21T09:00:00Z"), reason: "missing licence"), now: at)
        _ = try store.completeOrder(id: "O1", at: t("2026-11-20T09:00:00Z"), now: at)
        _ = try store.openComplaint(id: "K1", orderID: "O1", category: .quality, text: "One seal leaks.", at: t("2026-11-05T08:00:00Z"), now: at)
        _ = try store.advanceComplaint(id: "K1", .resolve("seal kit sent"), at: t("2026-11-19T08:00:00Z"), now: at)
        _ = try ws.plan()
        return ws
    }

    /// The key of the customer's outbox entry of `template`.
    func key(_ ws: Workspace, template: String) throws -> String {
        try #require(try ws.store.outbox(customerID: "C1").first { $0.mail.template == template }?.mail.key, "no \(template) mail")
    }

    /// The URLs of the `data-aftersales="action"` links of the rendered mail `key`.
    func links(_ ws: Workspace, key: String, action: String) throws -> [String] {
        let html = try ws.render(key: key).html
        let pattern = try NSRegularExpression(pattern: "href=\"([^\"]+)\" data-aftersales=\"\(action)\"")
        return pattern.matches(in: html, range: NSRange(html.startIndex..., in: html)).compactMap {
            Range($0.range(at: 1), in: html).map { String(html[$0]).replacingOccurrences(of: "&amp;", with: "&") }
        }
    }

    /// The number of stored survey answers.
    func surveyCount(_ ws: Workspace) throws -> Int {
        try ws.store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM surveys") ?? 0 }
    }

    /// The number of events in the log (a refused request writes none).
    func eventCount(_ ws: Workspace) throws -> Int {
        try ws.store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0 }
    }
}

/// Lines of the access log, collected from the server's tasks.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}

/// `aftersales serve` in this process on a free loopback port; ``stop()`` always ends it.
struct RunningServer {
    let base: String
    let task: Task<Void, any Error>
    let log: LogLines
    let stopper: LinkServer.GracefulStop

    static func start(_ ws: Workspace, clock: @escaping @Sendable () -> Date) async throws -> RunningServer {
        let log = LogLines()
        let server = try ws.linkServer(listen: LinkServer.Listen(host: "127.0.0.1", port: 0), clock: clock, accessLog: { log.append($0) })
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let stopper = LinkServer.GracefulStop()
        let task = Task {
            defer { continuation.finish() }
            try await server.run(listening: { continuation.yield($0) }, stop: stopper)
        }
        var iterator = stream.makeAsyncIterator()
        guard let address = await iterator.next() else {
            _ = try await task.value
            throw AftersalesError.failure("server did not start")
        }
        return RunningServer(base: "http://\(address)", task: task, log: log, stopper: stopper)
    }

    /// A graceful stop, as SIGTERM: the requests in flight finish.
    func stop() async {
        await stopper.stop()
        _ = try? await task.value
    }

    /// A link of the mail (`https://after.example.com/…`) pointed at this server.
    func local(_ link: String) -> String { link.replacingOccurrences(of: WebFixture.base, with: base) }
}

/// One HTTP exchange.
struct HTTPReply: Sendable {
    var status: Int
    var body: String
    var headers: [String: String]
    func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
}

let http: URLSession = {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    configuration.httpCookieStorage = nil
    // Generous: a full suite on 2 cores can keep the in-process server waiting for a thread (tests check behaviour, not speed).
    configuration.timeoutIntervalForRequest = 300
    return URLSession(configuration: configuration)
}()

func request(_ method: String, _ url: String, body: String? = nil, contentType: String = "application/x-www-form-urlencoded",
             headers: [String: String] = [:]) async throws -> HTTPReply {
    var request = URLRequest(url: try #require(URL(string: url)))
    request.httpMethod = method
    if let body {
        request.httpBody = Data(body.utf8)
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
    }
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let (data, response) = try await http.data(for: request)
    let reply = try #require(response as? HTTPURLResponse)
    var fields: [String: String] = [:]
    for (name, value) in reply.allHeaderFields { fields["\(name)"] = "\(value)" }
    return HTTPReply(status: reply.statusCode, body: String(decoding: data, as: UTF8.self), headers: fields)
}

/// Runs `body` with a started server and stops it whatever happens.
func withServer(_ ws: Workspace, clock: @escaping @Sendable () -> Date, _ body: (RunningServer) async throws -> Void) async throws {
    let server = try await RunningServer.start(ws, clock: clock)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

/// Runs `body` with the `aftersales serve` binary listening on a free loopback port (over the fixture's
/// database, at `now`) and the address it printed (nil: none in time); then stops it with SIGTERM, whatever
/// happens, and returns the stopped process (its exit status and output).
func withServeBinary(_ fixture: WebFixture, now: String, _ body: (_ address: String?) async throws -> Void) async throws -> Child {
    let serve = try Child(CLI.binary, ["serve", "--listen", "127.0.0.1:0"], environment: fixture.serveEnvironment(now: now), directory: fixture.scratch.url)
    let address = await serve.line(containing: "listening on ")?.replacingOccurrences(of: "listening on ", with: "")
    do {
        try await body(address)
    } catch {
        _ = await serve.stop()
        throw error
    }
    _ = await serve.stop()
    return serve
}

extension WebFixture {
    /// The environment of a command over the fixture's database at `now`.
    func serveEnvironment(now: String) -> [String: String] {
        var environment = self.environment
        environment["AFTERSALES_DB"] = databasePath
        environment["AFTERSALES_NOW"] = now
        return environment
    }
}

/// A child process whose output is read off the cooperative threads (the server in this process needs them).
final class Child: @unchecked Sendable {
    let process = Process()
    private let out = Pipe(), err = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data(), stderrData = Data()

    init(_ executable: URL, _ arguments: [String], environment: [String: String], directory: URL? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.stdoutData.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.stderrData.append(data) }
        }
        try process.run()
    }

    var stdout: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// Waits (off the cooperative threads) until the process ends; its exit status.
    func wait(timeout: TimeInterval = 120) async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [self] in
                let deadline = Date().addingTimeInterval(timeout)
                while process.isRunning, Date() < deadline { usleep(10_000) }
                if process.isRunning { process.terminate(); process.waitUntilExit() }
                // The last output, once the pipes are drained.
                usleep(50_000)
                out.fileHandleForReading.readabilityHandler = nil
                err.fileHandleForReading.readabilityHandler = nil
                continuation.resume(returning: process.terminationStatus)
            }
        }
    }

    /// Stops the process with SIGTERM and waits up to 20 s for it; its exit status.
    func stop() async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        return await wait(timeout: 20)
    }

    /// Waits until stdout has a whole line containing `text`; that line.
    func line(containing text: String, timeout: TimeInterval = 60) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning {
                // The pipe may still hold the last output of a process that has ended: read it once more.
                try? await Task.sleep(for: .milliseconds(300))
                return stdout.split(separator: "\n").first(where: { $0.contains(text) }).map(String.init)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        // A busy suite may resume this task only after the deadline: look once more before giving up.
        return stdout.split(separator: "\n").first(where: { $0.contains(text) }).map(String.init)
    }
}
