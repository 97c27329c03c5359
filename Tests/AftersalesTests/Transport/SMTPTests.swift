import Foundation
import GRDB
import Testing

/// A test SMTP server (Tests/tools/smtp_server.py) on a free loopback port, always stopped.
final class TestSMTPServer {
    let process = Process()
    let input = Pipe()
    let directory: URL
    private(set) var port = 0

    init(_ arguments: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("aftersales-smtp-\(UUID().uuidString)")
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let script = CLI.packageRoot.appendingPathComponent("Tests/tools/smtp_server.py").path
        process.arguments = [script] + arguments.map { $0 == "DIR" ? directory.path : $0 }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(20)
        while !line.contains(UInt8(ascii: "\n")), Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            stop()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "test SMTP server did not start: \(text)"])
        }
        self.port = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    var url: String { "smtp://127.0.0.1:\(port)" }

    /// What the server accepted: one entry per SMTP transaction.
    var received: [(rcpt: [String], messageID: String, bytes: Data)] {
        guard let log = try? String(contentsOf: directory.appendingPathComponent("log.jsonl"), encoding: .utf8) else { return [] }
        return log.split(separator: "\n").compactMap { line in
            guard let item = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let file = item["file"] as? String, let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path)
            else { return nil }
            return ((item["rcpt"] as? [String]) ?? [], (item["message_id"] as? String) ?? "", data)
        }
    }
}

/// A self-signed certificate for 127.0.0.1, made at test time with openssl.
func makeCertificate(in directory: URL) throws -> (cert: String, key: String) {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let cert = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return (cert, key)
}

extension CLI {
    /// A customer with a CC address and a shipment dispatched just now: its tracking mail is due.
    func seedDue(customers: Int = 1) throws {
        try seed()
        #expect(try run(["customer", "update", "C1", "--cc", "buying@ferrenorte.mx"]).code == 0)
        #expect(try run(["shipment", "dispatch", "--order", "O1", "--id", "S1", "--carrier", "DHL", "--tracking", "T1",
                         "--eta", "2026-12-20", "--at", "2026-11-23T09:30:00Z"]).code == 0)
    }

    /// Dispatches `count` shipments of order O1 just before now: as many tracking mails due.
    func dispatch(_ count: Int) throws {
        for i in 0..<count {
            let result = try run(["shipment", "dispatch", "--order", "O1", "--id", "S\(i)", "--carrier", "DHL", "--tracking", "T\(i)",
                                  "--eta", "2026-12-20", "--at", "2026-11-23T09:30:00Z"])
            #expect(result.code == 0, "\(result.stderr)")
        }
    }

    func outbox(_ status: String) throws -> [[String: Any]] {
        let result = try run(["outbox", "list", "--status", status, "--json"])
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    func smtp(_ server: TestSMTPServer, tls: String = "none") -> CLI {
        var copy = self
        copy.environment["AFTERSALES_SMTP_URL"] = server.url
        copy.environment["AFTERSALES_SMTP_TLS"] = tls
        copy.environment["AFTERSALES_SMTP_TIMEOUT"] = "3"
        copy.environment["AFTERSALES_SMTP_CONNECT_TIMEOUT"] = "3"
        copy.environment["AFTERSALES_TRANSPORT_KIND"] = "smtp"
        return copy
    }
}

@Suite("Sending over real SMTP", .serialized)
struct SMTPTests {
    @Test("STARTTLS and AUTH against aiosmtpd: every recipient in its own transaction, the exact archived bytes, evidence recorded")
    func realServer() throws {
        var cli = try CLI()
        try cli.seedDue()
        let tls = try makeCertificate(in: cli.directory.appendingPathComponent("tls"))
        let server = try TestSMTPServer(["real", "DIR", "--tls", tls.cert, tls.key, "--auth", "ops", "s3cret"])
        defer { server.stop() }
        cli = cli.smtp(server, tls: "starttls")
        cli.environment["AFTERSALES_SMTP_CA_FILE"] = tls.cert
        cli.environment["AFTERSALES_SMTP_USER"] = "ops"
        cli.environment["AFTERSALES_SMTP_PASSWORD"] = "s3cret"
        let run = try cli.run(["run"])
        #expect(run.code == 0, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("sent 1,"))
        #expect(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"), "the password never appears")
        let received = server.received
        #expect(received.map(\.rcpt) == [["lucia@ferrenorte.mx"], ["buying@ferrenorte.mx"]], "the To, then the Cc, one transaction each")
        #expect(Set(received.map(\.messageID)) == ["<tracking/S1/1@example.com>"])
        let archived = try cli.run(["outbox", "show", "tracking/S1/1", "--eml"])
        #expect(received.allSatisfy { $0.bytes == Data(archived.stdout.utf8) }, "the server got the archived bytes exactly")
        let sent = try cli.outbox("sent")
        #expect(sent.map { $0["key"] as? String } == ["tracking/S1/1"])
        let show = try cli.run(["outbox", "show", "tracking/S1/1"])
        #expect(show.stdout.contains("sending -> sent  250"))
        // A second run sends nothing again.
        #expect(try cli.run(["run"]).code == 0)
        #expect(server.received.count == 2)
        // The password is not in the database.
        let database = try #require(cli.databaseBytes())
        #expect(database.range(of: Data("s3cret".utf8)) == nil)
    }

    @Test("XOAUTH2: a bearer token from smtp.oauth_token_file instead of a password")
    func xoauth2() throws {
        var cli = try CLI()
        try cli.seedDue()
        let tls = try makeCertificate(in: cli.directory.appendingPathComponent("tls"))
        let server = try TestSMTPServer(["real", "DIR", "--tls", tls.cert, tls.key, "--xoauth2", "ops@example.com", "ya29.token-value"])
        defer { server.stop() }
        let tokenFile = cli.directory.appendingPathComponent("token").path
        try "ya29.token-value\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        cli = cli.smtp(server, tls: "starttls")
        cli.environment["AFTERSALES_SMTP_CA_FILE"] = tls.cert
        cli.environment["AFTERSALES_SMTP_USER"] = "ops@example.com"
        cli.environment["AFTERSALES_SMTP_OAUTH_TOKEN_FILE"] = tokenFile
        let run = try cli.run(["run"])
        #expect(run.code == 0 && run.stdout.contains("sent 1,"), "\(run.stdout) \(run.stderr)")
        #expect(server.received.count == 2)
        try "expired-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        #expect(try cli.run(["shipment", "dispatch", "--order", "O1", "--id", "S9", "--carrier", "DHL", "--tracking", "T9",
                             "--eta", "2026-12-20", "--at", "2026-11-23T09:40:00Z"]).code == 0)
        let refused = try cli.run(["run"])
        #expect(refused.code == 1 && refused.stdout.contains("stopped:"), "\(refused.stdout)")
        #expect(!refused.stdout.contains("expired-token"))
    }

    @Test("whole-run failures stop at once and leave every mail as it was", arguments: ["auth", "tls-refused", "untrusted-certificate", "greeting421", "refused"])
    func wholeRunFailures(_ failure: String) throws {
        var cli = try CLI()
        try cli.seedDue()
        let tls = try makeCertificate(in: cli.directory.appendingPathComponent("tls"))
        let server: TestSMTPServer
        switch failure {
        case "auth": server = try TestSMTPServer(["real", "DIR", "--tls", tls.cert, tls.key, "--auth", "ops", "s3cret"])
        case "untrusted-certificate": server = try TestSMTPServer(["real", "DIR", "--tls", tls.cert, tls.key])
        case "tls-refused": server = try TestSMTPServer(["fault", "tls-refused", "DIR"])
        case "greeting421": server = try TestSMTPServer(["fault", "greeting421", "DIR"])
        default: server = try TestSMTPServer(["fault", "none", "DIR"])
        }
        defer { server.stop() }
        cli = cli.smtp(server, tls: failure == "greeting421" || failure == "refused" ? "none" : "starttls")
        if failure == "auth" {
            cli.environment["AFTERSALES_SMTP_CA_FILE"] = tls.cert
            cli.environment["AFTERSALES_SMTP_USER"] = "ops"
            cli.environment["AFTERSALES_SMTP_PASSWORD"] = "wrong-password"
        }
        if failure == "refused" {
            server.stop()
        }
        let run = try cli.run(["run"])
        #expect(run.code == 1, "\(failure): \(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("stopped:"))
        #expect(!run.stdout.contains("wrong-password") && !run.stderr.contains("wrong-password"))
        let planned = try cli.outbox("planned")
        #expect(planned.contains { $0["key"] as? String == "tracking/S1/1" }, "\(failure): still planned")
        #expect(try cli.outbox("retry").isEmpty && cli.outbox("failed").isEmpty && cli.outbox("in-doubt").isEmpty)
        #expect(server.received.isEmpty)
    }

    @Test("faults end in the right state", arguments: [
        ("rcpt451", "retry"), ("rcpt550", "failed"), ("data452", "retry"), ("data552", "failed"), ("data554", "failed"),
        ("drop-mid-data", "retry"), ("no-answer-after-dot", "in-doubt"), ("slow", "sent"),
    ])
    func faults(_ mode: String, _ state: String) throws {
        var cli = try CLI()
        try cli.seedDue()
        let server = try TestSMTPServer(["fault", mode, "DIR"])
        defer { server.stop() }
        cli = cli.smtp(server)
        let run = try cli.run(["run"])
        #expect(run.code == (state == "retry" ? 75 : 0), "\(mode): \(run.stdout) \(run.stderr)")
        let rows = try cli.outbox(state)
        #expect(rows.contains { $0["key"] as? String == "tracking/S1/1" }, "\(mode) should leave the mail \(state): \(run.stdout)")
        if mode == "rcpt550" {
            let show = try cli.run(["outbox", "show", "tracking/S1/1"])
            #expect(show.stdout.contains("550 5.1.1"))
            // The hard bounce suppresses the address: a new mail to it fails without being tried.
            #expect(try cli.run(["shipment", "dispatch", "--order", "O1", "--id", "S2", "--carrier", "DHL", "--tracking", "T2",
                                 "--eta", "2026-12-20", "--at", "2026-11-23T09:40:00Z"]).code == 0)
            let before = server.received.count
            let rerun = try cli.run(["run"])
            let second = try cli.run(["outbox", "show", "tracking/S2/1"])
            #expect(second.stdout.contains("suppressed: 550"), "\(second.stdout)\nthe run: \(rerun.code) \(rerun.stdout) \(rerun.stderr)")
            #expect(server.received.count == before)
        }
        if state == "in-doubt" {
            // Never re-sent automatically; ops settle it.
            _ = try cli.run(["run", "--now", "2026-11-23T11:00:00Z"])
            #expect(try cli.outbox("in-doubt").count == 1)
            #expect(try cli.run(["outbox", "resolve", "tracking/S1/1", "--sent"]).code == 0)
            #expect(try cli.outbox("sent").count == 1)
        }
        if state == "retry" {
            let entry = try #require(try cli.outbox("retry").first)
            #expect((entry["reason"] as? String)?.contains("next at 2026-11-23T10:05:00Z") == true, "first retry after 5 minutes")
        }
    }

    @Test("one connection is reused for the whole run; N parallel connections when configured", arguments: [1, 4])
    func connections(_ count: Int) throws {
        var cli = try CLI()
        try cli.seed()
        try cli.dispatch(24)
        let server = try TestSMTPServer(["fault", "none", "DIR"])
        defer { server.stop() }
        cli = cli.smtp(server)
        cli.environment["AFTERSALES_SMTP_CONNECTIONS"] = String(count)
        let run = try cli.run(["run"])
        #expect(run.code == 0 && run.stdout.contains("sent 24,"), "\(run.stdout)")
        let sessions = (try? String(contentsOf: server.directory.appendingPathComponent("sessions.log"), encoding: .utf8))?
            .split(separator: "\n").count ?? 0
        #expect(sessions == count, "\(sessions) SMTP sessions for \(count) configured connection(s)")
        #expect(Set(server.received.map(\.messageID)).count == 24)
    }

    @Test("send.per_run caps a run; the rest goes on the next run")
    func perRunLimit() throws {
        var cli = try CLI()
        try cli.seed()
        try cli.dispatch(8)
        let server = try TestSMTPServer(["fault", "none", "DIR"])
        defer { server.stop() }
        cli = cli.smtp(server)
        cli.environment["AFTERSALES_SEND_PER_RUN"] = "5"
        #expect(try cli.run(["run"]).stdout.contains("sent 5,"))
        #expect(try cli.run(["run"]).stdout.contains("sent 3,"))
        #expect(Set(server.received.map(\.messageID)).count == 8)
    }

    @Test("two runs started together send each mail exactly once")
    func overlappingRuns() throws {
        var cli = try CLI()
        try cli.seed()
        try cli.dispatch(30)
        let server = try TestSMTPServer(["real", "DIR"])
        defer { server.stop() }
        cli = cli.smtp(server)
        let group = DispatchGroup()
        let results = ResultBox()
        let runner = cli
        for _ in 0..<2 {
            group.enter()
            DispatchQueue.global().async {
                results.append(try? runner.run(["run"]))
                group.leave()
            }
        }
        group.wait()
        #expect(results.items.count == 2 && results.items.allSatisfy { $0?.code == 0 })
        let ids = server.received.map(\.messageID)
        #expect(ids.count == 30 && Set(ids).count == 30, "each of the 30 tracking mails exactly once")
    }

    @Test("a run lock that cannot be opened is an error naming it, not a silent \"another run is in progress\"")
    func unopenableRunLock() throws {
        var cli = try CLI()
        try cli.seed()
        try cli.dispatch(1)
        let server = try TestSMTPServer(["real", "DIR"])
        defer { server.stop() }
        cli = cli.smtp(server)
        // A directory where the lock file goes: open(2) refuses it.
        try FileManager.default.createDirectory(atPath: cli.databasePath + ".lock", withIntermediateDirectories: false)
        for command in [["run"], ["send", "--transport", "smtp"]] {
            let result = try cli.run(command)
            #expect(result.code != 0)
            #expect(result.stderr.contains("cannot open the run lock \"\(cli.databasePath).lock\""), "\(result.stderr)")
            #expect(!result.stdout.contains("another run"), "\(result.stdout)")
        }
        #expect(server.received.isEmpty)
        #expect(try cli.outbox("sending").isEmpty && cli.outbox("sent").isEmpty)
    }

    @Test("kill -9 at random moments: never a Message-ID twice except mail resent by the in-doubt policy; in the end every mail is sent and none waits for a person")
    func crashSafety() throws {
        var cli = try CLI()
        try cli.seed()
        let count = 300
        try cli.dispatch(count)
        let server = try TestSMTPServer(["real", "DIR"])
        defer { server.stop() }
        cli = cli.smtp(server)
        // Planned first, so that the kills fall while mail is sent.
        #expect(try cli.run(["plan"]).code == 0)
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<12 {
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = ["run"]
            process.environment = cli.environment
            process.currentDirectoryURL = cli.directory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.6, using: &generator))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
        }
        let final = try cli.run(["run"])
        #expect(final.code == 0, "\(final.stdout) \(final.stderr)")
        // What recovery did with the claims the kills left: in doubt (begun), back to planned (never
        // begun), recorded from the journal. Without the journal every one of them was in doubt.
        let recovered = try DatabaseQueue(path: cli.databasePath).read { db in
            try ["in doubt: the sending process stopped%", "recovered: the run stopped before%", "recovered from the stopped run%"].map {
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox_history WHERE reason LIKE ?", arguments: [$0]) ?? 0
            }
        }
        let inDoubtBefore = try cli.outbox("in-doubt").count
        let perKill = { (n: Int) in kills == 0 ? "-" : String(format: "%.1f", Double(n) / Double(kills)) }
        print("crash test: \(kills) kills; mail left in doubt per kill \(perKill(recovered[0])) (without the journal: \(perKill(recovered.reduce(0, +)))); "
              + "back to planned \(recovered[1]), answers recorded from the journal \(recovered[2]); in doubt after the final run: \(inDoubtBefore)")
        #expect(recovered[0] <= kills, "at most one mail in flight per kill with one connection")
        // The in-doubt policy: transactional mail is resent once at the first run 15 minutes after its claim.
        var later = cli
        later.environment["AFTERSALES_NOW"] = "2026-11-23T10:15:00Z"
        let resend = try later.run(["run", "--json"])
        #expect(resend.code == 0, "\(resend.stdout) \(resend.stderr)")
        let resent = try DatabaseQueue(path: cli.databasePath).read { db in
            Set(try String.fetchAll(db, sql: "SELECT key FROM outbox_history WHERE reason LIKE 'in-doubt policy send.in_doubt.transactional = resend%'")
                .map { "<\($0)@example.com>" })
        }
        #expect(resent.count == inDoubtBefore)
        #expect(try cli.outbox("in-doubt").isEmpty, "no transactional mail waits for a person after the final run")
        let sent = Set(try cli.outbox("sent").compactMap { $0["key"] as? String }.map { "<\($0)@example.com>" })
        let received = server.received.map(\.messageID)
        var seen: [String: Int] = [:]
        for id in received { seen[id, default: 0] += 1 }
        let duplicates = seen.filter { $0.value > 1 }
        #expect(duplicates.allSatisfy { resent.contains($0.key) && $0.value == 2 }, "duplicates only for mail resent once by the policy: \(duplicates)")
        #expect(sent.count == count, "every mail is sent (\(sent.count), \(kills) kills)")
        #expect(sent.isSubset(of: Set(received)), "every mail recorded as sent was received")
        #expect(try cli.outbox("planned").filter { ($0["key"] as? String)?.hasPrefix("tracking/") == true }.isEmpty)
        #expect(try cli.outbox("sending").isEmpty)
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var items: [CLI.Result?] = []
    func append(_ item: CLI.Result?) {
        lock.lock()
        items.append(item)
        lock.unlock()
    }
}
