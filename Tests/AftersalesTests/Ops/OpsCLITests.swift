import Foundation
@testable import AftersalesKit
import GRDB
import Testing

@Suite("Operations on the built binary")
struct OpsCLITests {
    /// The customer's personal strings, as the seed below writes them.
    static let personal = ["Lucía", "lucia@ferrenorte.mx", "Ferretería del Norte", "compras@ferrenorte.mx", "Wang Lei", "wang.lei@example.com",
                           "Two pumps arrived with cracked housings"]

    func seedPersonal(_ cli: CLI) throws {
        try cli.seed()
        for args in [
            ["customer", "update", "C1", "--company", "Ferretería del Norte", "--cc", "compras@ferrenorte.mx", "--manager-name", "Wang Lei",
             "--manager-email", "wang.lei@example.com", "--consent"],
            ["shipment", "dispatch", "--order", "O1", "--id", "S1", "--carrier", "DHL", "--tracking", "T1", "--eta", "2026-12-20", "--at", "2026-11-23T09:30:00Z"],
            ["complaint", "open", "--order", "O1", "--id", "K-1", "--category", "damage", "--text", "Two pumps arrived with cracked housings.",
             "--at", "2026-11-23T09:40:00Z"],
            ["run"],
        ] {
            let result = try cli.run(args)
            #expect(result.code == 0, "\(args) \(result.stderr)")
        }
    }

    /// Whether the database file or its write-ahead log holds `text`'s bytes.
    func stored(_ cli: CLI, _ text: String) -> [String] {
        ["", "-wal"].compactMap { suffix in
            guard let data = FileManager.default.contents(atPath: cli.databasePath + suffix) else { return nil }
            return data.range(of: Data(text.utf8)) != nil ? "test.db\(suffix)" : nil
        }
    }

    @Test("customer export writes every stored field and the archived mail; erase refuses open business, then leaves no byte of the person in the file")
    func exportAndErase() throws {
        let cli = try CLI()
        try seedPersonal(cli)
        let out = cli.directory.appendingPathComponent("export")
        let export = try cli.run(["customer", "export", "C1", "--out", out.path])
        #expect(export.code == 0, "\(export.stderr)")
        let json = try #require(FileManager.default.contents(atPath: out.appendingPathComponent("C1.json").path))
        let tables = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        for table in ["customers", "orders", "order_lines", "shipments", "complaints", "events", "outbox", "outbox_history", "suppressions"] {
            #expect(tables[table] != nil, "\(table) exported")
        }
        let customer = try #require((tables["customers"] as? [[String: Any]])?.first)
        #expect(customer["name"] as? String == "Lucía" && customer["company"] as? String == "Ferretería del Norte" && customer["consent"] as? Int == 1)
        let emls = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("mail").path)
        let outbox = (tables["outbox"] as? [[String: Any]]) ?? []
        let sent = outbox.filter { $0["status"] as? String == "sent" }
        #expect(!sent.isEmpty && emls.count == sent.count, "one .eml per archived mail: \(emls)")
        #expect(try cli.run(["customer", "export", "NOPE", "--out", out.path]).code == 64)

        let refused = try cli.run(["customer", "erase", "C1"])
        #expect(refused.code == 64)
        #expect(refused.stderr.contains("order O1") && refused.stderr.contains("complaint K-1") && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(!stored(cli, "Lucía").isEmpty, "a refused erase changes nothing")

        let erased = try cli.run(["customer", "erase", "C1", "--force", "--json"])
        #expect(erased.code == 0, "\(erased.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(erased.stdout.utf8)) as? [String: Any])
        #expect((result["cancelled"] as? [String])?.isEmpty == false, "pending mail cancelled: \(erased.stdout)")
        #expect(try cli.run(["run"]).code == 0)
        for text in Self.personal { #expect(stored(cli, text).isEmpty, "\"\(text)\" left in \(stored(cli, text))") }

        // Proof of what was sent stays, without its content; pending mail was cancelled as erased; planning and reporting still work.
        let db = try DatabaseQueue(path: cli.databasePath)
        let (archived, proofs, cancelledErased, hashed) = try db.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox_archive") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND sha256 IS NOT NULL AND messageID IS NOT NULL") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status = 'cancelled' AND reason = 'erased'") ?? -1,
             try String.fetchAll(db, sql: "SELECT address FROM suppressions").filter { $0.hasPrefix("sha256:") }.count)
        }
        #expect(archived == 0 && proofs == sent.count && cancelledErased > 0 && hashed == 2, "\(archived) \(proofs) \(cancelledErased) \(hashed)")
        try db.close()
        #expect(try cli.run(["status"]).code == 0 && cli.run(["preview", "--days", "30"]).code == 0 && cli.run(["customer", "show", "C1"]).code == 0)

        // The same address added again is not mailed without new consent.
        for args in [
            ["customer", "add", "--id", "C2", "--name", "L. H.", "--email", "lucia@ferrenorte.mx", "--locale", "es-MX", "--timezone", "America/Mexico_City", "--country", "MX"],
            ["order", "add", "--id", "O2", "--customer", "C2", "--line", "P1:1", "--at", "2026-11-01T00:00:00Z"],
            ["shipment", "dispatch", "--order", "O2", "--id", "S2", "--carrier", "DHL", "--tracking", "T2", "--eta", "2026-12-20", "--at", "2026-11-23T09:30:00Z"],
        ] { #expect(try cli.run(args).code == 0) }
        let again = try cli.run(["run", "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(summary["sent"] as? Int == 0 && summary["failed"] as? Int ?? 0 >= 1, "\(again.stdout)")
        let failed = try cli.outbox("failed").first { $0["customer"] as? String == "C2" }
        #expect((failed?["reason"] as? String)?.contains("erased (customer C1)") == true, "\(String(describing: failed))")
    }

    @Test("backup FILE: a consistent copy that opens; run --metrics writes the Prometheus file; resolve --all-in-doubt checks its options")
    func backupMetricsResolve() throws {
        let cli = try CLI()
        try cli.seed()
        try cli.dispatch(3)
        let metrics = cli.directory.appendingPathComponent("aftersales.prom").path
        let run = try cli.run(["run", "--metrics", metrics])
        #expect(run.code == 0, "\(run.stderr)")
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains("aftersales_run_sent{stream=\"transactional\"} 3\n") && text.contains("aftersales_run_success 1\n"), "\(text)")
        let copy = cli.directory.appendingPathComponent("copy.db").path
        let backup = try cli.run(["backup", copy])
        #expect(backup.code == 0 && backup.stdout.contains("integrity ok") && backup.stdout.contains("sent 3"), "\(backup.stdout) \(backup.stderr)")
        var restored = cli
        restored.environment["AFTERSALES_DB"] = copy
        #expect(try restored.outbox("sent").count == 3, "the copy opens as a database")
        let settled = try cli.run(["outbox", "resolve", "--all-in-doubt", "--customer", "C1", "--sent"])
        #expect(settled.code == 0 && settled.stdout.contains("0 in-doubt mail(s) settled"), "\(settled.stdout) \(settled.stderr)")
        #expect(try cli.run(["outbox", "resolve", "--sent"]).code == 64)
        #expect(try cli.run(["outbox", "resolve", "tracking/S0/1", "--customer", "C1", "--sent"]).code == 64)
        #expect(try cli.run(["outbox", "resolve", "--all-in-doubt", "--before", "yesterday", "--resend"]).stderr.contains("before"))
    }

    @Test("doctor: one line per check, exit 0 when all pass (SMTP probed without sending), 1 with the fix when one fails")
    func doctor() throws {
        var cli = try CLI()
        try cli.seed()
        let server = try TestSMTPServer(["real", "DIR"])
        defer { server.stop() }
        cli = cli.smtp(server)
        let good = try cli.run(["doctor"])
        #expect(good.code == 0, "\(good.stdout) \(good.stderr)")
        #expect(good.stdout.split(separator: "\n").count == Doctor.checks.count && good.stdout.contains("ok   smtp: "), "\(good.stdout)")
        #expect(server.received.isEmpty, "no mail sent")
        cli.environment["AFTERSALES_SMTP_URL"] = "smtp://127.0.0.1:1"
        let bad = try cli.run(["doctor"])
        #expect(bad.code == 1)
        #expect(bad.stdout.contains("FAIL smtp: ") && bad.stdout.contains("fix: check smtp.url"), "\(bad.stdout)")
    }

    @Test("plan shows progress on stderr when stderr is a terminal, nothing when it is not")
    func progress() throws {
        let cli = try CLI()
        try cli.seed()
        try cli.dispatch(2)
        let quiet = try cli.run(["plan"])
        #expect(quiet.code == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        try cli.run(["customer", "update", "C1", "--name", "Lucía H."])
        // script(1) gives the command a terminal.
        let command = "AFTERSALES_DB='\(cli.databasePath)' AFTERSALES_NOW=2026-11-23T10:00:00Z '\(CLI.binary.path)' plan"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("planning customers: 1/1 (100%)"), "\(text)")
    }

    @Test("shell completions come from argument-parser")
    func completions() throws {
        let cli = try CLI()
        for shell in ["bash", "zsh", "fish"] {
            let result = try cli.run(["--generate-completion-script", shell])
            #expect(result.code == 0 && result.stdout.contains("aftersales"), "\(shell)")
        }
    }
}
