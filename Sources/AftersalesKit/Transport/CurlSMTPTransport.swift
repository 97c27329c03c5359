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
        var lastReply = ""
        var lastCommand = ""
    }

    final class Session: TransportSession {
        let config: CurlSMTPTransport
        let handle: UnsafeMutableRawPointer?
        let exchange = Exchange()

        init(_ config: CurlSMTPTransport) {
            self.config = config
            handle = curl_easy_init()
        }

        deinit { close() }

        func close() {
            // curl_easy_cleanup sends QUIT on a live connection.
            if let handle { curl_easy_cleanup(handle) }
        }

        func deliver(from: String, recipient: String, message: Data, key: String) -> DeliveryAttempt {
            guard let handle else { return .connectionFailed("libcurl could not create a handle") }
            exchange.data = message
            exchange.offset = 0
            exchange.finished = false
            exchange.started = false
            exchange.lastReply = ""
            exchange.lastCommand = ""
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
            _ = aftersales_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            let result = curl_easy_perform(handle)
            var code = 0
            _ = aftersales_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
            let reply = exchange.lastReply.isEmpty ? (code > 0 ? "\(code)" : "") : exchange.lastReply
            let error = String(cString: curl_easy_strerror(result))
            return Self.classify(result, code: code, reply: reply, error: error, finished: exchange.finished,
                                 started: exchange.started, lastCommand: exchange.lastCommand)
        }

        /// Turns libcurl's result and the SMTP reply into an attempt outcome.
        static func classify(_ result: CURLcode, code: Int, reply: String, error: String, finished: Bool, started: Bool, lastCommand: String) -> DeliveryAttempt {
            let detail = reply.isEmpty ? error : "\(reply) (\(error))"
            switch result {
            case CURLE_OK:
                return .accepted(reply.isEmpty ? "250" : reply)
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
                return .connectionFailed("cannot connect: \(error)")
            case CURLE_LOGIN_DENIED:
                return .connectionFailed("authentication refused: \(detail)")
            case CURLE_USE_SSL_FAILED:
                return .connectionFailed("the server does not offer STARTTLS, which is required (set smtp.tls only for a loopback test server): \(detail)")
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
                return .connectionFailed("TLS failed: \(detail)")
            default:
                break
            }
            if code == 421 || (!started && lastCommand.isEmpty && (result == CURLE_WEIRD_SERVER_REPLY || result == CURLE_RECV_ERROR || result == CURLE_GOT_NOTHING)) {
                return .connectionFailed("the server refused the session: \(detail)")
            }
            if (400..<500).contains(code) { return .transient(detail) }
            if (500..<600).contains(code) { return .permanent(detail, atRecipient: lastCommand.hasPrefix("RCPT")) }
            // No SMTP reply code: the connection broke or timed out.
            if finished { return .unknown("no reply after the end of the message: \(error)") }
            return .transient("connection lost before the end of the message: \(error)")
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

/// Keeps the last reply line from the server and the last command we sent.
private let debugCallback: aftersales_curl_debug_callback = { _, type, data, size, userdata in
    guard let data, let userdata else { return 0 }
    let exchange = Unmanaged<CurlSMTPTransport.Exchange>.fromOpaque(userdata).takeUnretainedValue()
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    if type == CURLINFO_HEADER_IN, !text.isEmpty {
        exchange.lastReply = String(text.split(whereSeparator: \.isNewline).last ?? "")
    } else if type == CURLINFO_HEADER_OUT, !text.isEmpty {
        exchange.lastCommand = text
    }
    return 0
}
