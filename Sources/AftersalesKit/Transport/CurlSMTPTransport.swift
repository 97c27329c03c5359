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
        /// The last reply line, as bytes (made a String only when asked for: once per mail).
        var lastReplyBytes: [UInt8] = []
        var lastReply: String { String(decoding: lastReplyBytes, as: UTF8.self) }

        func reset(_ message: Data) {
            data = message
            offset = 0
            finished = false
            started = false
            stage = .connect
            errorReply = nil
            errorStage = nil
            lastReplyBytes.removeAll(keepingCapacity: true)
        }

        /// Reply lines from the server (one or more, each ending in CRLF).
        func received(_ bytes: UnsafeRawBufferPointer) {
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\r"), bytes[end] != UInt8(ascii: "\n") { end += 1 }
                if end > start {
                    let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                    lastReplyBytes.removeAll(keepingCapacity: true)
                    lastReplyBytes.append(contentsOf: line)
                    if errorReply == nil, line[0] == UInt8(ascii: "4") || line[0] == UInt8(ascii: "5"), stage != .quit {
                        errorReply = lastReply
                        errorStage = stage
                    }
                }
                start = end + 1
            }
        }

        /// A command we sent: only its verb is looked at (AUTH lines carry credentials).
        func sent(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count >= 4 else { return }
            // The verb's four letters, upper-cased, as one number.
            let verb = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[$1] & 0xDF) }
            if let next = Self.stages[verb] { stage = next }
        }

        static let stages: [UInt32: Stage] = Dictionary(uniqueKeysWithValues: [
            ("EHLO", Stage.ehlo), ("HELO", .ehlo), ("STARTTLS", .starttls), ("AUTH", .auth), ("MAIL FROM", .mail),
            ("RCPT TO", .rcpt), ("DATA", .data), ("QUIT", .quit),
        ].map { name, stage in (name.utf8.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, stage) })
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

        /// The options that stay the same for every mail of the session, set once.
        private var configured = false
        private var lastFrom: String?

        func configure(_ handle: UnsafeMutableRawPointer) {
            let box = Unmanaged.passUnretained(exchange).toOpaque()
            _ = aftersales_curl_setopt_string(handle, CURLOPT_URL, config.url)
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
            configured = true
        }

        func deliver(from: String, recipient: String, message: Data, key: String) -> DeliveryAttempt {
            guard let handle else { return .connectionFailed("libcurl could not create a handle") }
            if !configured { configure(handle) }
            exchange.reset(message)
            if from != lastFrom {
                _ = aftersales_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
                lastFrom = from
            }
            let recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "<\(recipient)>")
            defer { curl_slist_free_all(recipients) }
            _ = aftersales_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
            let result = curl_easy_perform(handle)
            // The list is freed after this mail: libcurl must not keep a pointer to it.
            _ = aftersales_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, nil)
            var code = 0
            _ = aftersales_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
            return Self.classify(result, code: code, exchange: exchange, error: String(cString: curl_easy_strerror(result)))
        }

        /// Turns libcurl's result and the SMTP replies into an attempt outcome.
        static func classify(_ result: CURLcode, code: Int, exchange: Exchange, error describe: @autoclosure () -> String) -> DeliveryAttempt {
            if result == CURLE_OK { return .accepted(exchange.lastReplyBytes.isEmpty ? "250" : exchange.lastReply) }
            let error = describe()
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
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if type == CURLINFO_HEADER_IN { exchange.received(bytes) } else { exchange.sent(bytes) }
    return 0
}
