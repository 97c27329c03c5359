import AftersalesDomain
@testable import AftersalesKit
import Foundation
import Testing

/// A real Dovecot (Debian's dovecot-imapd) on free loopback ports: a passwd-file user, a Maildir in a
/// temporary folder, a self-signed certificate for STARTTLS (imap) and implicit TLS (imaps). Always stopped.
final class TestDovecot {
    let fixture: LoopbackDovecot
    var imapPort: Int { fixture.imapPort }
    var imapsPort: Int { fixture.imapsPort }
    var cert: String { fixture.certificate }
    var maildir: URL { fixture.maildir }
    private var seeded = 0
    private let master = Process()

    static var available: Bool { LoopbackDovecot.available }

    init() throws {
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("aftersales-dovecot-\(UUID().uuidString.prefix(8))")
        fixture = try LoopbackDovecot(directory: directory, imapPort: try freePort(), imapsPort: try freePort())
        // In the foreground, so that this process owns it. Through python3, which clears the signal mask
        // and dispositions the test process would pass on (Dovecot would then not stop on SIGTERM).
        master.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        master.arguments = ["-c", "import os, signal; signal.pthread_sigmask(signal.SIG_SETMASK, []); signal.signal(signal.SIGTERM, signal.SIG_DFL); "
                            + "os.execv('\(LoopbackDovecot.executable)', ['dovecot', '-F', '-c', '\(fixture.configPath)'])"]
        master.standardOutput = FileHandle.nullDevice
        master.standardError = FileHandle.nullDevice
        try master.run()
        // Ready when the port answers.
        let deadline = Date().addingTimeInterval(10)
        while !canConnect(imapPort), Date() < deadline { usleep(20_000) }
    }

    /// Puts a message into the Maildir directly (a file in new/), received at `at`.
    func seed(_ bytes: [UInt8], at: Date = t("2026-11-24T09:05:00Z")) throws {
        seeded += 1
        try fixture.deliver(Data(bytes), name: "\(1_790_000_000 + seeded).M\(seeded)P1.test", at: at)
    }

    /// Files in a Maildir folder (`""`: the inbox), new and cur.
    func files(_ folder: String = "") -> [String] { fixture.files(folder) }

    func stop() {
        guard master.isRunning else { return }
        master.terminate()
        let deadline = Date().addingTimeInterval(5)
        while master.isRunning, Date() < deadline { usleep(20_000) }
        if master.isRunning { kill(master.processIdentifier, SIGKILL) }
        master.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: fixture.directory)
    }
}

/// A free TCP port on 127.0.0.1 (bound, read and released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw CocoaError(.fileWriteUnknown) }
    return Int(UInt16(bigEndian: address.sin_port))
}

func canConnect(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

@Suite("Fetch over IMAP (real Dovecot)", .serialized, .enabled(if: TestDovecot.available))
struct DovecotTests {
    func transport(_ server: TestDovecot, tls: CurlSMTPTransport.Security = .starttls, password: String = "secret") -> CurlIMAPTransport {
        let url = tls == .tls ? "imaps://127.0.0.1:\(server.imapsPort)/INBOX" : "imap://127.0.0.1:\(server.imapPort)/INBOX"
        return CurlIMAPTransport(url: url, security: tls, user: "buyer", password: password, caFile: server.cert, timeout: 10)
    }

    @Test("STARTTLS and IMAPS with the CA file: bounces, replies and unmatched mail; processed mail moves, unmatched stays; a second fetch reads nothing")
    func fetchOverIMAP() throws {
        let server = try TestDovecot()
        defer { server.stop() }
        let world = try InboundWorld()
        for name in ["bounce-postfix.eml", "complaint-de.eml", "bad-reply-unknown-id.eml", "auto-zh-subject.eml"] { try server.seed(Corpus.bytes(name)) }
        let ws = try world.open("2026-11-24T10:00:00Z")
        let session = transport(server).openSession()
        defer { session.close() }
        let summary = try ws.fetch(session: session)
        #expect(summary.exitStatus == 0 && summary.fetched == 4)
        #expect(summary.bounces == 1 && summary.replies == 1 && summary.complaintsOpened == 1 && summary.autoReplies == 1 && summary.unmatched == 1)
        #expect(server.files("aftersales/processed").count == 3)
        #expect(server.files().count == 1, "the unmatched reply stays in the inbox")
        // The exact bytes the server gave (IMAP lines end in CRLF), with their SHA-256, received at the server's INTERNALDATE.
        let thread = try ws.orderThread(orderID: "O1").filter { $0.direction == "received" }
        let german = try #require(thread.first { $0.subject == "Re: de order O1" })
        #expect(String(decoding: german.bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n") == String(decoding: Corpus.bytes("complaint-de.eml"), as: UTF8.self))
        #expect(german.at == t("2026-11-24T09:05:00Z"))
        #expect(german.sha256 == Workspace.evidenceHash(german.bytes))
        let again = try ws.fetch(session: session)
        #expect(again.fetched == 0 && again.exitStatus == 0)
        // Over implicit TLS, a new message only.
        try server.seed(Corpus.bytes("arf-abuse.eml"))
        let tls = transport(server, tls: .tls).openSession()
        defer { tls.close() }
        let third = try ws.fetch(session: tls)
        #expect(third.fetched == 1 && third.spamReports == 1)
    }

    @Test("a refused login and an unreachable server: exit status 1, nothing read or marked")
    func failures() throws {
        let server = try TestDovecot()
        defer { server.stop() }
        let world = try InboundWorld()
        try server.seed(Corpus.bytes("complaint-en.eml"))
        let ws = try world.open("2026-11-24T10:00:00Z")
        let refused = try ws.fetch(session: transport(server, password: "wrong").openSession())
        #expect(refused.exitStatus == 1 && refused.failure?.contains("refused the login") == true)
        let port = try freePort()
        let nowhere = CurlIMAPTransport(url: "imap://127.0.0.1:\(port)/INBOX", security: .starttls, user: "buyer", password: "secret", caFile: server.cert, timeout: 5)
        let unreachable = try ws.fetch(session: nowhere.openSession())
        #expect(unreachable.exitStatus == 1 && unreachable.failure?.contains("cannot reach") == true)
        // The certificate is verified: without the CA file, TLS fails.
        let unverified = CurlIMAPTransport(url: "imap://127.0.0.1:\(server.imapPort)/INBOX", security: .starttls, user: "buyer", password: "secret", caFile: nil)
        let tlsFailure = try ws.fetch(session: unverified.openSession())
        #expect(tlsFailure.exitStatus == 1 && tlsFailure.failure?.contains("TLS") == true, "\(tlsFailure.failure ?? "")")
        #expect(try ws.store.imapWatermark(mailbox: "INBOX", uidValidity: 0) == 0)
        #expect(server.files().count == 1 && server.files("aftersales/processed").isEmpty)
        #expect(try ws.store.complaints().isEmpty)
    }

    @Test("the CLI: fetch --json with the password from the environment, exit 0; the order thread and its .eml files; run fetches first")
    func commandLine() throws {
        let server = try TestDovecot()
        defer { server.stop() }
        let cli = try CLI(now: "2026-11-23T10:00:00Z")
        try cli.seed()
        var env = cli
        env.environment["AFTERSALES_TRANSPORT_DIR"] = cli.directory.appendingPathComponent("sent").path
        #expect(try env.run(["shipment", "dispatch", "--order", "O1", "--id", "SH-1", "--carrier", "Maersk", "--tracking", "M1",
                             "--eta", "2026-12-20", "--at", "2026-11-23T09:00:00Z"]).code == 0)
        #expect(try env.run(["run"]).code == 0)
        env.environment["AFTERSALES_IMAP_URL"] = "imap://127.0.0.1:\(server.imapPort)/INBOX"
        env.environment["AFTERSALES_IMAP_USER"] = "buyer"
        env.environment["AFTERSALES_IMAP_CA_FILE"] = server.cert
        env.environment["AFTERSALES_IMAP_PASSWORD"] = "secret"
        env.environment["AFTERSALES_NOW"] = "2026-11-24T10:00:00Z"
        // The CLI's customer is lucia@ferrenorte.mx with order O1, like the corpus.
        try server.seed(Corpus.bytes("complaint-zh.eml"))
        let fetched = try env.run(["fetch", "--json"])
        #expect(fetched.code == 0, "\(fetched.stderr)")
        #expect(fetched.stdout.contains("\"complaintsOpened\" : 1"), "\(fetched.stdout)")
        #expect(!fetched.stdout.contains("secret") && !fetched.stderr.contains("secret"))
        let emlDir = cli.directory.appendingPathComponent("dispute").path
        let thread = try env.run(["order", "thread", "O1", "--eml", emlDir])
        #expect(thread.code == 0 && thread.stdout.contains("received"), "\(thread.stdout) \(thread.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: emlDir)
        #expect(written.contains { $0.contains("received") } && written.contains { $0.contains("sent") })
        #expect(try env.run(["order", "show", "O1"]).stdout.contains("thread"))
        try server.seed(Corpus.bytes("auto-en-rfc3834.eml"))
        let run = try env.run(["run"])
        #expect(run.code == 0 && run.stdout.contains("auto-replies ignored 1"), "\(run.stdout) \(run.stderr)")
        env.environment["AFTERSALES_IMAP_PASSWORD"] = "wrong"
        let refused = try env.run(["fetch"])
        #expect(refused.code == 1 && refused.stdout.contains("fetch failed") && !refused.stdout.contains("wrong"))
    }
}
