import Foundation

/// The result of one SMTP transaction (one envelope recipient), as a transport reports it.
public enum DeliveryAttempt: Sendable, Hashable {
    /// The server accepted the message; the reply line (e.g. `250 2.0.0 Ok: queued as ...`).
    case accepted(String)
    /// 4xx, or the connection was lost before the end of DATA: try again later.
    case transient(String)
    /// 5xx; `atRecipient` when the server refused the recipient itself (RCPT TO).
    case permanent(String, atRecipient: Bool)
    /// The whole message was handed over but no final reply came: the server may have it.
    case unknown(String)
    /// The connection itself failed (refused, TLS, AUTH, 421 greeting): stop the run.
    case connectionFailed(String)
}

/// A way to deliver messages. The engine declares it; the SMTP and file transports implement it.
public protocol MailTransport: Sendable {
    /// A short name for logs and summaries.
    var name: String { get }
    /// Opens a session (for SMTP, one connection reused for every message of the run).
    func openSession() -> any TransportSession
}

/// One connection's worth of deliveries. Used from one thread at a time.
public protocol TransportSession: AnyObject {
    func deliver(from: String, recipient: String, message: Data, key: String) -> DeliveryAttempt
    func close()
}

/// Writes each message as an `.eml` file into a directory: the demo's transport.
public struct FileTransport: MailTransport {
    public let directory: String
    public var name: String { "file:\(directory)" }

    public init(directory: String) {
        self.directory = directory
    }

    public func openSession() -> any TransportSession { Session(directory: directory) }

    final class Session: TransportSession {
        let directory: String
        init(directory: String) { self.directory = directory }

        func deliver(from: String, recipient: String, message: Data, key: String) -> DeliveryAttempt {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let name = key.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? String($0) : "_" }.joined() + ".eml"
                let path = (directory as NSString).appendingPathComponent(name)
                try message.write(to: URL(fileURLWithPath: path), options: .atomic)
                return .accepted("250 written to \(path)")
            } catch {
                return .connectionFailed("cannot write to \(directory): \(error.localizedDescription)")
            }
        }

        func close() {}
    }
}
