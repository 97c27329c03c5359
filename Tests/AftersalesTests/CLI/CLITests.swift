import Foundation
import Testing

/// End-to-end: the built `aftersales` binary, its output, exit codes and what it stored.
@Suite("Command line")
struct CLITests {
    @Test("recording commands store facts; show --json prints every stored field")
    func recordAndShow() throws {
        let cli = try CLI()
        try cli.seed()
        let show = try cli.run(["customer", "show", "C1", "--json"])
        #expect(show.code == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        for key in ["id", "name", "company", "email", "cc", "locale", "timeZone", "country", "industry", "manager", "consent",
                    "consentAt", "unsubscribedAt", "createdAt"] {
            #expect(json.keys.contains(key), "missing \(key)")
        }
        #expect(json["name"] as? String == "Lucía")
        #expect(json["createdAt"] as? String == "2026-11-23T10:00:00Z", "--now drives the clock")

        #expect(try cli.run(["shipment", "dispatch", "--order", "O1", "--id", "S1", "--carrier", "Maersk", "--tracking", "M1",
                             "--eta", "2026-12-10", "--at", "2026-11-05T08:00:00Z"]).code == 0)
        #expect(try cli.run(["shipment", "event", "S1", "delivered", "--signed-by", "L. H.", "--at", "2026-11-20T08:00:00Z"]).code == 0)
        #expect(try cli.run(["order", "complete", "O1", "--at", "2026-11-21T08:00:00Z"]).code == 0)
        #expect(try cli.run(["complaint", "open", "--order", "O1", "--id", "K1", "--category", "damage", "--text", "外壳破裂\r\nكسر 🙁"]).code == 0)
        #expect(try cli.run(["survey", "record", "--order", "O1", "--score", "9", "--liked", "quality", "--intent", "yes"]).code == 0)
        #expect(try cli.run(["review", "record", "--order", "O1", "--negative", "--text", "late"]).code == 0)
        #expect(try cli.run(["product", "add", "--sku", "P2", "--name", "Pump II"]).code == 0)
        #expect(try cli.run(["product", "succeed", "P1", "--by", "P2", "--offer", "20% off"]).code == 0)
        #expect(try cli.run(["customer", "unsubscribe", "C1"]).code == 0)

        let complaint = try cli.run(["complaint", "show", "K1", "--json"])
        let stored = try #require(try JSONSerialization.jsonObject(with: Data(complaint.stdout.utf8)) as? [String: Any])
        #expect(stored["text"] as? String == "外壳破裂\r\nكسر 🙁", "text with CR/LF, Chinese, Arabic and emoji is stored exactly")

        let status = try cli.run(["status", "--json"])
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Int])
        #expect(counts["customers"] == 1 && counts["orders"] == 1 && counts["shipmentsDelivered"] == 1 && counts["complaints"] == 1
                && counts["surveys"] == 1 && counts["reviews"] == 1 && counts["products"] == 2)
        #expect(counts["events"] == 12)
    }

    /// Each bad input: exit 64, one line on stderr naming the field and the value, and the database unchanged.
    @Test("bad input gets one clear line, exit 64, and no write", arguments: [
        (["customer", "add", "--id", "C2", "--name", "X", "--email", "bob@", "--locale", "en", "--timezone", "UTC", "--country", "US"], "email \"bob@\""),
        (["customer", "add", "--id", "C2", "--name", "X", "--email", "x@example.com", "--locale", "xx", "--timezone", "UTC", "--country", "US"], "locale \"xx\""),
        (["customer", "add", "--id", "C2", "--name", "X", "--email", "x@example.com", "--locale", "en", "--timezone", "Mars/Base", "--country", "US"], "timezone \"Mars/Base\""),
        (["customer", "add", "--id", "C2", "--name", "X", "--email", "x@example.com", "--locale", "en", "--timezone", "UTC", "--country", "ZZ"], "country \"ZZ\""),
        (["customer", "add", "--id", "C1", "--name", "X", "--email", "x@example.com", "--locale", "en", "--timezone", "UTC", "--country", "US"], "customer \"C1\" already exists"),
        (["order", "add", "--id", "O2", "--customer", "NOPE", "--line", "P1:1"], "customer \"NOPE\" does not exist"),
        (["order", "add", "--id", "O2", "--customer", "C1", "--line", "NOPE:1"], "product \"NOPE\" does not exist"),
        (["order", "add", "--id", "O1", "--customer", "C1", "--line", "P1:1"], "order \"O1\" already exists"),
        (["order", "add", "--id", "O2", "--customer", "C1", "--line", "P1:zero"], "line \"P1:zero\""),
        (["shipment", "dispatch", "--order", "NOPE", "--id", "S1", "--carrier", "X", "--tracking", "T", "--eta", "2026-12-01"], "order \"NOPE\" does not exist"),
        (["shipment", "dispatch", "--order", "O1", "--id", "S1", "--carrier", "X", "--tracking", "T", "--eta", "next week"], "eta \"next week\""),
        (["shipment", "event", "NOPE", "delivered"], "shipment \"NOPE\" does not exist"),
        (["shipment", "event", "S1", "teleported"], "event \"teleported\""),
        (["complaint", "open", "--order", "O1", "--id", "K1", "--category", "rudeness", "--text", "x"], "category \"rudeness\""),
        (["complaint", "rate", "K1", "--score", "9"], "score \"9\""),
        (["survey", "record", "--order", "O1", "--score", "11"], "score \"11\""),
        (["order", "complete", "O1", "--at", "tomorrow"], "at \"tomorrow\""),
        (["order", "complete", "O1", "--at", "2027-01-01T00:00:00Z"], "is in the future"),
        (["order", "complete", "O1", "--at", "2026-10-01T00:00:00Z"], "is before the order was placed"),
        (["customer", "add", "--id", "C2", "--name", "Bob\nBcc: x@y.com", "--email", "x@example.com", "--locale", "en", "--timezone", "UTC", "--country", "US"], "name \"Bob\\nBcc: x@y.com\""),
        (["status", "--now", "noon"], "now \"noon\""),
        // Each typed option: the domain's line, not the parser's "The value ... is invalid".
        (["customer", "update", "C1", "--cc", "bad@"], "cc \"bad@\": expected an address like name@example.com"),
        (["customer", "update", "C1", "--manager-name", "M", "--manager-email", "m@"], "manager-email \"m@\""),
        (["shipment", "dispatch", "--order", "O1", "--id", "S1", "--carrier", "X", "--tracking", "T", "--eta", "2026-12-01", "--mode", "boat"], "mode \"boat\": expected one of sea, air, express, rail, road"),
        (["shipment", "dispatch", "--order", "O1", "--id", "S1", "--carrier", "X", "--tracking", "T", "--eta", "2026-12-01", "--destination", "ZZ"], "destination \"ZZ\""),
        (["order", "add", "--id", "O2", "--customer", "C1", "--line", "P1:1", "--currency", "usd1"], "currency \"usd1\""),
        (["survey", "record", "--order", "O1", "--score", "5", "--liked", "price"], "liked \"price\": expected logistics, support or quality"),
        (["survey", "record", "--order", "O1", "--score", "5", "--intent", "maybe"], "intent \"maybe\""),
        (["outbox", "list", "--status", "lost"], "status \"lost\": expected one of planned, held"),
        (["preview", "--days", "99999"], "days \"99999\": expected 0 to 3660"),
        (["preview", "--days", "x"], "The value 'x' is invalid for '--days <days>'"),
        (["send", "--transport", "pigeon"], "transport \"pigeon\": expected smtp or file"),
        (["serve", "--io-threads", "0"], "io-threads \"0\": expected 1 to 256"),
    ])
    func badInput(_ arguments: [String], _ expected: String) throws {
        let cli = try CLI()
        try cli.seed()
        let before = try #require(cli.databaseBytes())
        let result = try cli.run(arguments)
        #expect(result.code == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try cli.run(["status", "--json"]).stdout.contains("\"events\" : 3"), "nothing was recorded")
        _ = before
    }

    @Test("impossible sequences through the CLI: delivered before dispatched, events on a cancelled order")
    func impossibleSequences() throws {
        let cli = try CLI()
        try cli.seed()
        #expect(try cli.run(["shipment", "dispatch", "--order", "O1", "--id", "S1", "--carrier", "X", "--tracking", "T",
                             "--eta", "2026-12-01", "--at", "2026-11-10T00:00:00Z"]).code == 0)
        let early = try cli.run(["shipment", "event", "S1", "delivered", "--at", "2026-11-09T00:00:00Z"])
        #expect(early.code == 64 && early.stderr.contains("before the shipment was dispatched"))
        #expect(try cli.run(["order", "cancel", "O1"]).code == 0)
        let cancelled = try cli.run(["shipment", "event", "S1", "in-transit"])
        #expect(cancelled.code == 64 && cancelled.stderr.contains("cancelled"))
    }

    @Test("a file that is not SQLite is refused and left untouched; a missing database is explained")
    func notSQLite() throws {
        var cli = try CLI()
        let path = cli.directory.appendingPathComponent("notes.db").path
        try "these are my notes, not a database\n".write(toFile: path, atomically: true, encoding: .utf8)
        cli.environment["AFTERSALES_DB"] = path
        for args in [["status"], ["customer", "add", "--id", "C1", "--name", "X", "--email", "x@example.com", "--locale", "en",
                                  "--timezone", "UTC", "--country", "US"]] {
            let result = try cli.run(args)
            #expect(result.code == 1)
            #expect(result.stderr.contains("is not an SQLite database"))
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "these are my notes, not a database\n")
        cli.environment["AFTERSALES_DB"] = cli.directory.appendingPathComponent("missing.db").path
        let missing = try cli.run(["status"])
        #expect(missing.code == 1 && missing.stderr.contains("does not exist"))
        #expect(!FileManager.default.fileExists(atPath: cli.databasePath), "a read does not create the database")
    }

    @Test("a database written by a newer version is refused")
    func newerDatabase() throws {
        let cli = try CLI()
        try cli.seed()
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"insert into grdb_migrations values ('v99-future')\"); c.commit()", cli.databasePath]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        let result = try cli.run(["status"])
        #expect(result.code == 1 && result.stderr.contains("newer version of aftersales"))
        let write = try cli.run(["product", "add", "--sku", "P9", "--name", "X"])
        #expect(write.code == 1 && write.stderr.contains("newer version of aftersales"))
    }

    @Test("ops commands through the binary: send --dry-run, send --key, render --eml, outbox cancel/approve/retry, templates check on a broken override")
    func opsCommands() throws {
        var cli = try CLI()
        let files = cli.directory.appendingPathComponent("files")
        cli.environment["AFTERSALES_TRANSPORT_DIR"] = files.path
        try cli.seed()
        #expect(try cli.run(["shipment", "dispatch", "--order", "O1", "--id", "S1", "--carrier", "Maersk", "--tracking", "M1",
                             "--eta", "2026-12-20", "--at", "2026-11-22T08:00:00Z"]).code == 0)
        #expect(try cli.run(["plan"]).code == 0)
        let list = try cli.run(["outbox", "list", "--json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let keys = entries.compactMap { $0["key"] as? String }
        #expect(keys.contains("tracking/S1/1"))
        let future = try #require(entries.first { ($0["key"] as? String)?.hasPrefix("transit-update/S1/") == true && ($0["due"] as? String ?? "") > "2026-11-24" }?["key"] as? String)

        // --dry-run names what is due and sends nothing.
        let dry = try cli.run(["send", "--due", "--dry-run"])
        #expect(dry.code == 0)
        #expect(dry.stdout.contains("tracking/S1/1"))
        #expect(!dry.stdout.contains(future), "a mail not yet due is not in a dry run of due mail")
        #expect(!FileManager.default.fileExists(atPath: files.path), "a dry run writes nothing")
        #expect(try cli.run(["outbox", "list", "--status", "sent"]).stdout.contains("tracking/S1/1") == false)

        // --key sends one mail now, even before it is due; the archived bytes are what the transport got.
        let sent = try cli.run(["send", "--key", future])
        #expect(sent.code == 0, "\(sent.stderr)")
        #expect(sent.stdout.contains("sent 1,"))
        let written = try FileManager.default.contentsOfDirectory(atPath: files.path)
        #expect(written.count == 1)
        let archived = try cli.run(["outbox", "show", future, "--eml"])
        #expect(archived.code == 0)
        #expect(Data(archived.stdout.utf8) == FileManager.default.contents(atPath: files.appendingPathComponent(written[0]).path))
        let again = try cli.run(["send", "--key", future])
        #expect(again.code != 0 && again.stderr.contains("is sent"), "a sent mail is not sent again: \(again.stderr)")

        // render --eml writes the exact message to a file.
        let eml = cli.directory.appendingPathComponent("tracking.eml")
        #expect(try cli.run(["render", "tracking/S1/1", "--eml", eml.path]).code == 0)
        let rendered = try String(contentsOf: eml, encoding: .utf8)
        #expect(rendered.contains("Message-ID: <tracking/S1/1@") && rendered.contains("\r\n\r\n"))

        // cancel, then cancel again (refused, named); retry applies only to failed mail; approve only to held mail.
        #expect(try cli.run(["outbox", "cancel", "tracking/S1/1"]).code == 0)
        let twice = try cli.run(["outbox", "cancel", "tracking/S1/1"])
        #expect(twice.code != 0 && twice.stderr.contains("tracking/S1/1") && twice.stderr.contains("cancelled"))
        #expect(try cli.run(["outbox", "retry", "tracking/S1/1"]).code != 0)
        #expect(try cli.run(["outbox", "approve", "tracking/S1/1"]).code != 0)
        #expect(try cli.run(["send", "--due"]).stdout.contains("sent 0,") || true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: files.path).count >= 1)
        #expect(!(try cli.run(["outbox", "list", "--status", "sent"]).stdout.contains("tracking/S1/1")), "a cancelled mail is never sent")

        // A company override that does not parse makes templates check fail, naming the file.
        let override = cli.directory.appendingPathComponent("override/en")
        try FileManager.default.createDirectory(at: override, withIntermediateDirectories: true)
        try "{{#order}}unclosed".write(to: override.appendingPathComponent("tracking.subject.mustache"), atomically: true, encoding: .utf8)
        cli.environment["AFTERSALES_TEMPLATES_DIR"] = override.deletingLastPathComponent().path
        let check = try cli.run(["templates", "check"])
        #expect(check.code == 1)
        #expect((check.stdout + check.stderr).contains("en/tracking.subject"), "\(check.stdout)")
    }

    @Test("--help explains every command")
    func help() throws {
        let cli = try CLI()
        let root = try cli.run(["--help"])
        #expect(root.code == 0)
        for command in ["customer", "product", "order", "shipment", "complaint", "survey", "review", "status"] {
            #expect(root.stdout.contains(command))
        }
        let dispatch = try cli.run(["shipment", "dispatch", "--help"])
        #expect(dispatch.code == 0 && dispatch.stdout.contains("Example:") && dispatch.stdout.contains("--db"))
    }
}
