import CCurl
import Foundation

/// The state of a mailbox: its UIDVALIDITY and the next UID it will give.
public struct MailboxStatus: Sendable, Hashable {
    public var mailbox: String
    public var uidValidity: Int64
    public var uidNext: Int64
}

/// One message in the mailbox, before its bytes are read.
public struct MailboxMessage: Sendable, Hashable {
    public var uid: Int64
    public var size: Int
    /// When the server received it (IMAP INTERNALDATE), if it said.
    public var receivedAt: Date?
}

/// Why talking to the mailbox failed.
public enum MailboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Unreachable, TLS failure or login refused: nothing was read.
    case connection(String)
    /// A command the server refused, or a message that could not be read.
    case command(String)

    public var description: String {
        switch self {
        case .connection(let text), .command(let text): text
        }
    }
}

/// A connection to the reply mailbox. One thread at a time.
public protocol MailboxSession: AnyObject {
    func status() throws(MailboxError) -> MailboxStatus
    /// The messages with a UID above `uid`.
    func messages(after uid: Int64) throws(MailboxError) -> [MailboxMessage]
    /// The exact bytes of one message.
    func fetch(uid: Int64, maxBytes: Int) throws(MailboxError) -> Data
    /// Moves the message to `folder`, or flags it in place when `folder` is empty. Returns what was done.
    func markProcessed(uid: Int64, folder: String) throws(MailboxError) -> String
    func close()
}

/// IMAP through libcurl (`imap://` with STARTTLS required, `imaps://` or `imap.tls: tls` implicit TLS,
/// `none` for loopback test servers only), certificate verification always on, one connection reused.
public struct CurlIMAPTransport: Sendable {
    public var url: String
    public var security: CurlSMTPTransport.Security
    public var user: String?
    public var password: String?
    public var caFile: String?
    public var timeout: Int

    public init(url: String, security: CurlSMTPTransport.Security, user: String?, password: String?, caFile: String?, timeout: Int = 30) {
        var url = url
        if security == .tls, url.hasPrefix("imap://") { url = "imaps://" + url.dropFirst("imap://".count) }
        self.url = url
        self.security = security
        self.user = user
        self.password = password
        self.caFile = caFile
        self.timeout = timeout
        _ = CurlSMTPTransport.globalInit
    }

    /// `scheme://host:port` and the mailbox of the URL (INBOX when none).
    var parts: (server: String, mailbox: String) {
        let scheme = url.hasPrefix("imaps://") ? "imaps://" : "imap://"
        let rest = url.dropFirst(scheme.count)
        guard let slash = rest.firstIndex(of: "/") else { return (scheme + rest, "INBOX") }
        let mailbox = String(rest[rest.index(after: slash)...]).removingPercentEncoding ?? ""
        return (scheme + rest[..<slash], mailbox.isEmpty ? "INBOX" : mailbox)
    }

    public func openSession() -> any MailboxSession { Session(self) }

    /// What the server sent for one request (untagged responses or a message's bytes).
    final class Received {
        var data = Data()
        var limit = Int.max
        var overflow = false
    }

    final class Session: MailboxSession {
        let config: CurlIMAPTransport
        var handle: UnsafeMutableRawPointer?
        let received = Received()
        var createdFolder = false

        init(_ config: CurlIMAPTransport) {
            self.config = config
            handle = curl_easy_init()
            if let handle { configure(handle) }
        }

        deinit { close() }

        func close() {
            if let handle { curl_easy_cleanup(handle) }
            handle = nil
        }

        private func configure(_ handle: UnsafeMutableRawPointer) {
            let box = Unmanaged.passUnretained(received).toOpaque()
            _ = aftersales_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, writeCallback)
            _ = aftersales_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, box)
            let ssl = config.security == .none ? Int(CURLUSESSL_NONE.rawValue) : Int(CURLUSESSL_ALL.rawValue)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_USE_SSL, ssl)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
            if let ca = config.caFile { _ = aftersales_curl_setopt_string(handle, CURLOPT_CAINFO, ca) }
            if let user = config.user { _ = aftersales_curl_setopt_string(handle, CURLOPT_USERNAME, user) }
            if let password = config.password { _ = aftersales_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
            _ = aftersales_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, config.timeout)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, config.timeout)
            // A stalled transfer (under 1 byte/s for `timeout` seconds) fails; a large message may take its time.
            _ = aftersales_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, config.timeout)
            _ = aftersales_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        }

        /// One request: `command` (nil: fetch the URL's message) on `url`; returns what the server sent.
        private func perform(url: String, command: String?, limit: Int = 64 * 1024 * 1024) throws(MailboxError) -> Data {
            guard let handle else { throw .connection("libcurl could not create a handle") }
            received.data.removeAll(keepingCapacity: true)
            received.limit = limit
            received.overflow = false
            _ = aftersales_curl_setopt_string(handle, CURLOPT_URL, url)
            _ = aftersales_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, command)
            let result = curl_easy_perform(handle)
            if result == CURLE_OK { return received.data }
            let error = String(cString: curl_easy_strerror(result))
            switch result {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_RESOLVE_PROXY:
                throw .connection("cannot reach the IMAP server \(config.parts.server): \(error)")
            case CURLE_LOGIN_DENIED:
                throw .connection("the IMAP server refused the login of \(config.user ?? "(no user)"); check imap.user and the password")
            case CURLE_USE_SSL_FAILED:
                throw .connection("the IMAP server does not offer STARTTLS, which is required (imap.tls none is for loopback test servers only)")
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
                throw .connection("TLS with the IMAP server failed: \(error) (imap.ca_file names the CA bundle)")
            case CURLE_WRITE_ERROR where received.overflow:
                throw .command("the message is larger than \(limit) bytes")
            default:
                throw .command("\(command.map { $0.split(separator: " ").prefix(2).joined(separator: " ") } ?? "FETCH") failed: \(error)")
            }
        }

        var mailboxURL: String {
            let (server, mailbox) = config.parts
            return server + "/" + (mailbox.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? mailbox)
        }

        static func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }

        func status() throws(MailboxError) -> MailboxStatus {
            let (server, mailbox) = config.parts
            let reply = String(decoding: try perform(url: server + "/", command: "STATUS \(Self.quoted(mailbox)) (UIDVALIDITY UIDNEXT)"), as: UTF8.self)
            guard let validity = Self.number(after: "UIDVALIDITY", in: reply), let next = Self.number(after: "UIDNEXT", in: reply) else {
                throw .command("the IMAP server's STATUS of \(mailbox) gave no UIDVALIDITY/UIDNEXT: \(reply.prefix(200))")
            }
            return MailboxStatus(mailbox: mailbox, uidValidity: validity, uidNext: next)
        }

        func messages(after uid: Int64) throws(MailboxError) -> [MailboxMessage] {
            let reply = String(decoding: try perform(url: mailboxURL, command: "UID FETCH \(uid + 1):* (UID RFC822.SIZE INTERNALDATE)"), as: UTF8.self)
            var out: [MailboxMessage] = []
            for line in reply.split(whereSeparator: \.isNewline) where line.hasPrefix("* ") {
                guard let found = Self.number(after: "UID", in: line), found > uid else { continue }
                let size = Self.number(after: "RFC822.SIZE", in: line).map(Int.init) ?? 0
                var date: Date?
                if let start = line.range(of: "INTERNALDATE \"") , let end = line[start.upperBound...].firstIndex(of: "\"") {
                    date = Self.internalDate(String(line[start.upperBound..<end]))
                }
                out.append(MailboxMessage(uid: found, size: size, receivedAt: date))
            }
            return out.sorted { $0.uid < $1.uid }
        }

        func fetch(uid: Int64, maxBytes: Int) throws(MailboxError) -> Data {
            try perform(url: mailboxURL + "/;UID=\(uid)", command: nil, limit: maxBytes)
        }

        func markProcessed(uid: Int64, folder: String) throws(MailboxError) -> String {
            if !folder.isEmpty {
                if !createdFolder {
                    // Fails when it exists already: that is fine.
                    _ = try? perform(url: config.parts.server + "/", command: "CREATE \(Self.quoted(folder))")
                    createdFolder = true
                }
                if (try? perform(url: mailboxURL, command: "UID MOVE \(uid) \(Self.quoted(folder))")) != nil { return "moved to \(folder)" }
            }
            _ = try perform(url: mailboxURL, command: "UID STORE \(uid) +FLAGS (\\Seen $AftersalesProcessed)")
            return "flagged $AftersalesProcessed"
        }

        /// The number after `name ` in an IMAP response line.
        static func number(after name: String, in text: some StringProtocol) -> Int64? {
            guard let range = text.range(of: name + " ") else { return nil }
            return Int64(text[range.upperBound...].prefix { $0.isNumber })
        }

        /// `01-Dec-2026 11:00:00 +0000`.
        static func internalDate(_ text: String) -> Date? {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "d-MMM-yyyy HH:mm:ss Z"
            return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
        }
    }
}

/// What the server sends, gathered; more than the limit stops the transfer.
private let writeCallback: aftersales_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let received = Unmanaged<CurlIMAPTransport.Received>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * count
    if received.data.count + n > received.limit {
        received.overflow = true
        return 0
    }
    buffer.withMemoryRebound(to: UInt8.self, capacity: n) { received.data.append($0, count: n) }
    return n
}
