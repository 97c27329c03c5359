import AftersalesDomain
import Foundation
import Hummingbird
import Logging
import NIOPosix
import ServiceLifecycle

/// `aftersales serve`: the signed links of the mail over HTTP, on Hummingbird 2. It shuts down
/// gracefully on SIGTERM and SIGINT (Hummingbird's ServiceGroup), serves `/healthz`, sets strict
/// security headers on every page and logs every request without its token.
public struct LinkServer: Sendable {
    /// Where to listen: `HOST:PORT` (port 0: any free port).
    public struct Listen: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String = "127.0.0.1", port: Int = 8080) {
            self.host = host
            self.port = port
        }

        /// `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces).
        public init(parsing text: String) throws(InvalidInput) {
            let problem = InvalidInput(field: "listen", value: text, problem: "expected HOST:PORT, e.g. 127.0.0.1:8080 (port 0 to 65535)")
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
                throw problem
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host.isEmpty { host = "0.0.0.0" }
            guard !host.contains(where: { $0 == " " || $0 == "/" }) else { throw problem }
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    let service: LinkService
    let listen: Listen
    /// How many threads do the network I/O (NIO's event loops); the requests are answered on Swift's
    /// concurrency pool, which has a thread a core.
    let ioThreads: Int

    /// Half the cores, at least one. Hummingbird's default, a thread a core, added a second busy thread
    /// per core beside the pool's: on 2 cores, one I/O thread cut an unsubscribe POST's CPU by about
    /// 10% and its p99 latency under wrk (bench row 8), with `/healthz` as fast.
    public static var defaultIOThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount / 2) }
    /// The largest request body read, in bytes; a larger one gets 413 and is not read.
    public static let bodyLimit = 16 * 1024
    let accessLog: @Sendable (String) -> Void
    let logger: Logger

    /// A server for `service` at `listen`; `accessLog` receives one line a request (no token, no query).
    public init(service: LinkService, listen: Listen, ioThreads: Int = LinkServer.defaultIOThreads, logger: Logger = Logger(label: "aftersales.serve"),
                accessLog: @escaping @Sendable (String) -> Void) {
        self.service = service
        self.listen = listen
        self.ioThreads = max(1, ioThreads)
        self.logger = logger
        self.accessLog = accessLog
    }

    /// Serves until SIGTERM or SIGINT (or `stop`), then finishes the requests in flight (Hummingbird's
    /// ServiceGroup). `listening` receives the bound address (`127.0.0.1:PORT`) once it accepts connections.
    public func run(listening: @escaping @Sendable (String) -> Void = { _ in }, stop: GracefulStop? = nil) async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: ioThreads)
        defer { loops.shutdownGracefully { _ in } }
        let app = Application(router: router(), configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil),
                              onServerRunning: { channel in
                                  let address = channel.localAddress
                                  let host = address?.ipAddress ?? listen.host
                                  listening(Listen(host: host, port: address?.port ?? listen.port).description)
                              }, eventLoopGroupProvider: .shared(loops), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        await stop?.attach(group)
        try await group.run()
    }

    /// Stops a running server from another task the way SIGTERM does: gracefully.
    public final class GracefulStop: @unchecked Sendable {
        private let lock = NSLock()
        private var group: ServiceGroup?
        private var requested = false

        public init() {}

        func attach(_ group: ServiceGroup) async {
            let now = lock.withLock { () -> Bool in
                self.group = group
                return requested
            }
            if now { await group.triggerGracefulShutdown() }
        }

        /// Asks the server to finish its requests and end.
        public func stop() async {
            let group = lock.withLock { () -> ServiceGroup? in
                requested = true
                return self.group
            }
            await group?.triggerGracefulShutdown()
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let service = self.service
        router.add(middleware: AccessLogMiddleware<BasicRequestContext>(log: accessLog))
        router.add(middleware: PageHeadersMiddleware<BasicRequestContext>(service: service))
        router.get("healthz") { _, _ in Self.text("ok\n") }
        router.on("healthz", method: .head) { _, _ in Self.text("ok\n") }
        for method in Self.refused + [.post] { router.on("healthz", method: method) { _, _ in Self.notAllowed("GET, HEAD") } }
        for purpose in LinkPurpose.allCases {
            let path = RouterPath("\(purpose.pathSegment)/:token")
            @Sendable func show(_ request: Request, _ context: BasicRequestContext) async -> Response {
                let token = context.parameters.get("token") ?? ""
                let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }) { _, last in last }
                let languages = Self.languages(request)
                return Self.page(await service.handle(purpose, token: token, post: false, query: query, form: [:], languages: languages))
            }
            router.get(path) { request, context in await show(request, context) }
            // HEAD: shown like a GET (writing nothing); PageHeadersMiddleware leaves the body out.
            router.on(path, method: .head) { request, context in await show(request, context) }
            router.post(path) { request, context in
                let token = context.parameters.get("token") ?? ""
                var request = request
                let body = try await request.collectBody(upTo: Self.bodyLimit)
                var form: [String: [String]] = [:]
                // RFC 8058's one-click POST carries `List-Unsubscribe=One-Click`: nothing to read.
                if purpose != .unsubscribe {
                    do {
                        form = try URLEncodedFormDecoder().decode(FormFields.self, from: String(buffer: body)).fields
                    } catch {
                        form = [LinkService.unreadable: ["\(error)"]]
                    }
                }
                let languages = Self.languages(request), fields = form
                return Self.page(await service.handle(purpose, token: token, post: true, query: [:], form: fields, languages: languages))
            }
            for method in Self.refused { router.on(path, method: method) { _, _ in Self.notAllowed("GET, HEAD, POST") } }
        }
        return router
    }

    static let refused: [HTTPRequest.Method] = [.put, .delete, .patch, .options, .trace, .connect]

    /// The fields the pages' forms send (others are ignored).
    struct FormFields: Decodable {
        var score: String?
        var liked: [String]?
        var intent: String?
        var reason: String?
        var locale: String?
        var marketing: String?

        var fields: [String: [String]] {
            var out: [String: [String]] = [:]
            if let score { out["score"] = [score] }
            if let liked { out["liked"] = liked }
            if let intent { out["intent"] = [intent] }
            if let reason { out["reason"] = [reason] }
            if let locale { out["locale"] = [locale] }
            if let marketing { out["marketing"] = [marketing] }
            return out
        }
    }

    /// The page locales the browser asks for, best first (`Accept-Language`), for pages without a buyer.
    static func languages(_ request: Request) -> [String] {
        guard let header = request.headers[.acceptLanguage] else { return [] }
        return header.split(separator: ",").prefix(8).compactMap { part in
            let tag = part.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) ?? ""
            let language = tag.split(separator: "-").first.map { $0.lowercased() } ?? ""
            if language == "zh" { return "zh-Hans" }
            return PageRenderer.languages.contains { $0.tag == language } ? language : nil
        }
    }

    static func page(_ reply: LinkService.Reply) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = reply.page.contentSecurityPolicy
        return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: reply.page.html)))
    }

    /// The answer to a HEAD: `response` without its body, its headers (Content-Length included) kept.
    static func headOnly(_ response: Response) -> Response {
        var headers = response.headers
        if let length = response.body.contentLength { headers[.contentLength] = String(length) }
        return Response(status: response.status, headers: headers, body: .init())
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func notAllowed(_ allow: String) -> Response {
        var response = text("method not allowed\n", status: .methodNotAllowed)
        response.headers[.allow] = allow
        return response
    }

    /// On every response: no referrer, no framing, no sniffing, no caching of a page reached by a token.
    static let securityHeaders: HTTPFields = [
        HTTPFields.Element.Name("Referrer-Policy")!: "no-referrer",
        HTTPFields.Element.Name("X-Frame-Options")!: "DENY",
        .xContentTypeOptions: "nosniff",
        .cacheControl: "no-store",
    ]
}

/// Turns an error thrown on the way (a body over the limit, a path nothing serves) into a plain
/// page with the security headers.
struct PageHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let service: LinkService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // HTTPError (a path nothing serves), NIOTooManyBytesError (a body over the limit), ...
            if error.status == .notFound {
                response = LinkServer.page(service.invalid(expired: false, languages: LinkServer.languages(request)))
            } else {
                response = LinkServer.text(error.status == .contentTooLarge ? "request body too large\n" : "\(error.status.reasonPhrase.lowercased())\n",
                                           status: error.status)
            }
        }
        // A HEAD gets the headers of what a GET gets, never a body.
        return request.method == .head ? LinkServer.headOnly(response) : response
    }
}

/// One line a request: method, the path with its token left out, status and time. Never the token or the query.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let log: @Sendable (String) -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = Self.redacted(request.uri.path)
        do {
            let response = try await next(request, context)
            log("\(request.method) \(path) \(response.status.code) \(Self.milliseconds(since: start))")
            return response
        } catch {
            log("\(request.method) \(path) \((error as? any HTTPResponseError)?.status.code ?? 500) \(Self.milliseconds(since: start))")
            throw error
        }
    }

    /// `/s/TOKEN` → `/s/-`; any other path is cut to its first segment, so nothing secret is ever written.
    static func redacted(_ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let first = segments.first else { return "/" }
        if first == "healthz", segments.count == 1 { return "/healthz" }
        if segments.count > 1 || LinkPurpose.allCases.contains(where: { $0.pathSegment == first }) {
            return LinkPurpose.allCases.contains(where: { $0.pathSegment == first }) ? "/\(first)/-" : "/(other)"
        }
        return "/(other)"
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        // Tenths of a millisecond in integers (`String(format:)` was 1.7% of a POST under wrk).
        let tenths = elapsed.components.seconds * 10_000 + elapsed.components.attoseconds / 100_000_000_000_000
        return "\(tenths / 10).\(tenths % 10)ms"
    }
}

extension Workspace {
    /// The server of `aftersales serve` over this workspace's database and templates. `clock` is the
    /// time of token expiry and of every recorded answer (fixed under `--now`). Needs the link secret.
    public func linkServer(listen: LinkServer.Listen, ioThreads: Int = LinkServer.defaultIOThreads, clock: @escaping @Sendable () -> Date,
                           accessLog: @escaping @Sendable (String) -> Void) throws(AftersalesError) -> LinkServer {
        guard let keys = configuration.links.keys else {
            throw .configuration("serve: " + (configuration.links.offReason ?? "links off") + "; the links in mail and the server need both")
        }
        let pages = PageRenderer(templates: try templateStore())
        let service = try LinkService(store: store, keys: keys, pages: pages, companyName: configuration.company.name, clock: clock)
        return LinkServer(service: service, listen: listen, ioThreads: ioThreads, logger: logger, accessLog: accessLog)
    }
}
