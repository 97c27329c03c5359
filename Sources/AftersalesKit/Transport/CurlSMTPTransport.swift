import CCurl
import Foundation

/// SMTP through libcurl: STARTTLS required by default (never silently downgraded), implicit TLS
/// for `smtps://`, AUTH with a password or an XOAUTH2 token, certificate verification on,
/// timeouts, and one connection reused for every message of a session.
public struct CurlSMTPTransport: MailTransport {
    public enum Security: String, Sendable { case starttls, tls, none }

    public var url: String
    public var security: Security
    public var user: String?
    public var password: String?
    public var bearerToken: String?
    public var caFile: String?
    public var connectTimeout: Int
    public var timeout: Int

    public var name: String { "smtp:\(url)" }

    public init(url: String, security: Security, user: String? = nil, password: String? = nil, bearerToken: String? = nil,
                caFile: String? = nil, connectTimeout: Int = 10, timeout: Int = 60) {
        self.url = url
        self.security = security
        self.user = user
        self.password = password
        self.bearerToken = bearerToken
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        _ = Self.globalInit
    }

    static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK }()

    public func openSession() -> any TransportSession { Session(self) }

    /// The upload state and what the server said, shared with libcurl's C callbacks.
    final class Exchange {
        var data = Data()
        var offset = 0
        /// libcurl asked for more after the last byte: the whole message was handed over.
        var finished = false
        var started = false
        /// The SMTP stage of the last command we sent (never the command itself: AUTH lines carry credentials).
        var stage = Stage.connect
        /// The first error reply (4xx/5xx) and the stage it answered.
        var errorReply: String?
        var errorStage: Stage?
        var lastReply = ""

        func reset(_ message: Data) {
            data = message
            offset = 0
            finished = false
            started = false
            stage = .connect
            errorReply = nil
            errorStage = nil
            lastReply = ""
        }
    }

    /// Where in the SMTP dialogue a reply came.
    enum Stage: String {
        case connect = "the greeting", ehlo = "EHLO", starttls = "STARTTLS", auth = "authentication", mail = "MAIL FROM",
             rcpt = "RCPT TO", data = "DATA", quit = "QUIT"

        /// Before the mail transaction: a failure here is a failure of the whole session.
        var isSessionSetup: Bool { [.connect, .ehlo, .starttls, .auth].contains(self) }
    }

    final class Session: TransportSession {
        let config: CurlSMTPTransport
        var handle: UnsafeMutableRawPointer?
        let exchange = Exchange()

        init(_ config: CurlSMTPTransport) {
            self.config = config
            handle = curl_easy_init()
        }

        deinit { close() }

        func close() {
            // curl_easy_cleanup sends QUIT on a live connection; only once.
            if let handle { curl_easy_cleanup(handle) }
            handle = nil
        }

        func deliver(from: String, recipient: String, message: Data, key: String) -> DeliveryAttempt {
            guard let handle else { return .connectionFailed("libcurl could not create a handle") }
            exchange.reset(message)
            let box = Unmanaged.passUnretained(exchange).toOpaque()
            var recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "<\(recipient)>")
            defer { curl_slist_free_all(recipients) }
            _ = aftersales_curl_setopt_string(handle, CURLOPT_URL, config.url)
            _ = aftersales_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
            _ = aftersales_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            _ = aftersales_curl_setopt_callback(handle, CURLOPT_READFUNCTION, readCallback)
            _ = aftersales_curl_setopt_pointer(handle, CURLOPT_READDATA, box)
            _ = aftersales_curl_setopt_debug(handle, debugCallback)
            _ = aftersales_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, box)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_VERBOSE, 1)
            let ssl: Int = switch config.security {
            case .starttls: Int(CURLUSESSL_ALL.rawValue)
            case .tls: Int(CURLUSESSL_ALL.rawValue)
            case .none: Int(CURLUSESSL_NONE.rawValue)
            }
            _ = aftersales_curl_setopt_long(handle, CURLOPT_USE_SSL, ssl)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
            if let ca = config.caFile { _ = aftersales_curl_setopt_string(handle, CURLOPT_CAINFO, ca) }
            if let user = config.user { _ = aftersales_curl_setopt_string(handle, CURLOPT_USERNAME, user) }
            if let password = config.password { _ = aftersales_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
            if let token = config.bearerToken {
                _ = aftersales_curl_setopt_string(handle, CURLOPT_XOAUTH2_BEARER, token)
                _ = aftersales_curl_setopt_string(handle, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2")
            }
            _ = aftersales_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, config.connectTimeout)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_TIMEOUT, config.timeout)
            // Bounds every wait for a reply, also the QUIT when the session closes after a timeout.
            _ = aftersales_curl_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, config.timeout)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            let result = curl_easy_perform(handle)
            var code = 0
            _ = aftersales_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
            let error = String(cString: curl_easy_strerror(result))
            return Self.classify(result, code: code, exchange: exchange, error: error)
        }

        /// Turns libcurl's result and the SMTP replies into an attempt outcome.
        static func classify(_ result: CURLcode, code: Int, exchange: Exchange, error: String) -> DeliveryAttempt {
            if result == CURLE_OK { return .accepted(exchange.lastReply.isEmpty ? "250" : exchange.lastReply) }
            let stage = exchange.errorStage ?? exchange.stage
            let reply = exchange.errorReply ?? (code > 0 ? "\(code)" : "")
            let detail = reply.isEmpty ? error : "\(reply) (\(error))"
            switch result {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
                return .connectionFailed("cannot connect: \(error)")
            case CURLE_LOGIN_DENIED:
                return .connectionFailed("authentication refused: \(detail)")
            case CURLE_USE_SSL_FAILED:
                return .connectionFailed("the server does not offer STARTTLS, which is required (smtp.tls none is for loopback test servers only): \(detail)")
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
                return .connectionFailed("TLS failed: \(detail)")
            default:
                break
            }
            let replyCode = Int(reply.prefix(3)) ?? code
            if replyCode == 421 || stage.isSessionSetup {
                return .connectionFailed("the session failed at \(stage.rawValue): \(detail)")
            }
            if (400..<500).contains(replyCode) { return .transient(detail) }
            if (500..<600).contains(replyCode) { return .permanent(detail, atRecipient: stage == .rcpt) }
            // No final reply. Only silence after the whole message leaves it in doubt; a connection
            // that was lost (closed or reset) is a transient failure, as for any MTA.
            if exchange.finished, result == CURLE_OPERATION_TIMEDOUT { return .unknown("no reply after the end of the message: \(error)") }
            return .transient("connection lost before the final reply: \(error)")
        }
    }
}

/// libcurl asks for the message in pieces; when the whole message was handed over it asks once more.
private let readCallback: aftersales_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let exchange = Unmanaged<CurlSMTPTransport.Exchange>.fromOpaque(userdata).takeUnretainedValue()
    exchange.started = true
    let room = size * count
    let remaining = exchange.data.count - exchange.offset
    if remaining <= 0 {
        exchange.finished = true
        return 0
    }
    let n = min(room, remaining)
    exchange.data.withUnsafeBytes { raw in
        let base = raw.baseAddress!.advanced(by: exchange.offset).assumingMemoryBound(to: CChar.self)
        buffer.update(from: base, count: n)
    }
    exchange.offset += n
    return n
}

/// Follows the dialogue: the stage of each command we send, and the server's replies.
private let debugCallback: aftersales_curl_debug_callback = { _, type, data, size, userdata in
    // Only the dialogue matters; the message body (DATA_OUT) is not looked at.
    guard let data, let userdata, type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT else { return 0 }
    let exchange = Unmanaged<CurlSMTPTransport.Exchange>.fromOpaque(userdata).takeUnretainedValue()
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    if type == CURLINFO_HEADER_IN {
        for line in text.split(whereSeparator: \.isNewline) where !line.isEmpty {
            let reply = String(line)
            exchange.lastReply = reply
            if exchange.errorReply == nil, let first = reply.first, first == "4" || first == "5", exchange.stage != .quit {
                exchange.errorReply = reply
                exchange.errorStage = exchange.stage
            }
        }
    } else if type == CURLINFO_HEADER_OUT {
        let upper = text.uppercased()
        let stages: [(String, CurlSMTPTransport.Stage)] = [("EHLO", .ehlo), ("HELO", .ehlo), ("STARTTLS", .starttls), ("AUTH", .auth),
                                                          ("MAIL FROM", .mail), ("RCPT TO", .rcpt), ("DATA", .data), ("QUIT", .quit)]
        if let stage = stages.first(where: { upper.hasPrefix($0.0) })?.1 { exchange.stage = stage }
    }
    return 0
}
