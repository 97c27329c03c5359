import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

@Suite("Synthetic company and benchmark smoke run")
struct BenchTests {
    func generate(seed: UInt64) throws -> (SyntheticCompany.Counts, String, StoreStatus) {
        let store = try AftersalesStore(writer: DatabaseQueue())
        let counts = try SyntheticCompany(scale: 0.3, seed: seed, now: t("2026-11-23T10:00:00Z")).generate(into: store, batchSize: 7)
        let fingerprint = try store.events(limit: 100_000).map { "\($0.kind.rawValue)|\($0.subject)|\(Timestamp.utc($0.occurredAt))|\($0.payload)" }
            .joined(separator: "\n")
        return (counts, fingerprint, try store.status())
    }

    @Test("the generator is deterministic: same seed, same data; another seed, other data")
    func deterministic() throws {
        let (a, fingerprintA, statusA) = try generate(seed: 7)
        let (b, fingerprintB, _) = try generate(seed: 7)
        let (_, fingerprintC, _) = try generate(seed: 8)
        #expect(a == b && fingerprintA == fingerprintB)
        #expect(fingerprintA != fingerprintC)
        #expect(a.orders >= 250 && a.customers >= 25 && a.shipments > 0 && a.events > a.orders)
        #expect(statusA.orders == a.orders && statusA.customers == a.customers)
        let countries = Set(SyntheticCompany.markets.map(\.0))
        #expect(countries.count >= 20)
    }

    /// Runs aftersales-bench from the package root with `arguments` after `--binary`; its exit status, output and errors.
    func bench(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let scratch = try ScratchDirectory("aftersales-bench-errors")
        defer { withExtendedLifetime(scratch) {} }
        let errors = scratch.url.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = CLI.binary.deletingLastPathComponent().appendingPathComponent("aftersales-bench")
        process.currentDirectoryURL = CLI.packageRoot
        process.arguments = ["--binary", CLI.binary.path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text, try String(contentsOf: errors, encoding: .utf8))
    }

    @Test("an unknown figure in --only is refused with its name, not an empty table")
    func unknownFigure() throws {
        let (status, _, text) = try bench(["--only", "render,plann"])
        #expect(status == 64)
        #expect(text.contains("--only: unknown figure \"plann\""), "\(text)")
    }

    @Test("runs, messages and scales that cannot be measured are refused with the option and the value", arguments: [
        (["--runs", "0"], "--runs: 0"), (["--messages=-5"], "--messages: -5"), (["--scale", "0"], "--scale and --small-scale must be above 0"),
        (["--render-seconds", "0"], "--render-seconds: 0.0"), (["--import-lines", "500"], "--import-lines: 500 is below the small file's 10000 lines"),
    ])
    func unmeasurable(_ arguments: [String], _ message: String) throws {
        let (status, _, text) = try bench(arguments + ["--only", "render"])
        #expect(status == 64)
        #expect(text.contains(message), "\(text)")
    }

    @Test("make bench's code paths run at a tiny scale and print every figure with a verdict")
    func smoke() throws {
        let root = CLI.packageRoot
        let scratch = try ScratchDirectory("aftersales-bench")
        defer { withExtendedLifetime(scratch) {} }
        let work = scratch.url
        let server = try TestSMTPServer(["fault", "none", "DIR"])
        defer { server.stop() }
        // The reference C sender, compiled here as `make bench` does.
        let curlSend = work.appendingPathComponent("curl_send").path
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-O2", "-o", curlSend, root.appendingPathComponent("Benchmarks/curl_send.c").path, "-lcurl"]
        try cc.run()
        cc.waitUntilExit()
        #expect(cc.terminationStatus == 0)
        let (status, text, errors) = try bench(["--scale", "0.2", "--small-scale", "0.1", "--runs", "1", "--messages", "20", "--render-seconds", "0.2", "--import-lines", "10000",
                                                "--work", work.appendingPathComponent("w").path, "--smtp-url", server.url, "--curl-send", curlSend])
        #expect(status == 0, "\(text)\(errors.suffix(2000))")
        for figure in ["1. run, nothing to do", "2. normal day", "3. full plan", "4. render + MIME", "5a. send, 1 connection", "5c. send, 4 connections", "5d. C libcurl, 4 processes", "5e. send, 4 connections vs 1, replies 2 ms late", "6a. import", "6b. re-import", "6c. SQLite alone", "6d. CSV.swift alone", "7. report, one year", "serve: unsubscribe POST", "9a. classify"] {
            #expect(text.contains(figure), "missing \(figure) in\n\(text)")
        }
        #expect(text.contains("PASS") || text.contains("MISS"))
    }

    /// A stand-in for smtp-sink in `work`: it notes its process and session in `work/session`, then
    /// serves SMTP (Tests/tools/smtp_server.py, writing to `received`) on the port given with -c.
    func fakeSink(in work: URL) throws -> (sink: URL, received: URL) {
        let received = work.appendingPathComponent("received")
        let server = CLI.packageRoot.appendingPathComponent("Tests/tools/smtp_server.py").path
        let sink = work.appendingPathComponent("fake-sink")
        try """
            #!/bin/sh
            while [ $# -gt 0 ]; do case "$1" in -c) address=$2; shift 2;; *) shift;; esac; done
            echo "$$ $(cut -d' ' -f6 /proc/$$/stat)" > \(work.path)/session
            exec /usr/bin/python3 \(server) real \(received.path) --port ${address##*:}
            """.write(to: sink, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sink.path)
        return (sink, received)
    }

    @Test("a sink that exits at start is an error naming it and its port, not a wait or a table of failures")
    func sinkExitsAtStart() throws {
        let scratch = try ScratchDirectory("aftersales-bench-dead-sink")
        defer { withExtendedLifetime(scratch) {} }
        let sink = scratch.url.appendingPathComponent("dead-sink")
        try "#!/bin/sh\nexit 3\n".write(to: sink, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sink.path)
        let (status, _, errors) = try bench(["--only", "smtp", "--runs", "1", "--messages", "3", "--work", scratch.url.appendingPathComponent("w").path,
                                             "--smtp-sink", sink.path])
        #expect(status != 0)
        #expect(errors.contains("\(sink.path) exited at start with status 3; is port"), "\(errors)")
    }

    @Test("Ctrl-C during the bench stops the sink too, though it runs in a session of its own")
    func sinkStoppedOnInterrupt() throws {
        let scratch = try ScratchDirectory("aftersales-bench-interrupt")
        defer { withExtendedLifetime(scratch) {} }
        let work = scratch.url
        let (sink, received) = try fakeSink(in: work)
        let process = Process()
        process.executableURL = CLI.binary.deletingLastPathComponent().appendingPathComponent("aftersales-bench")
        process.currentDirectoryURL = CLI.packageRoot
        process.arguments = ["--binary", CLI.binary.path, "--only", "smtp", "--runs", "3", "--messages", "300",
                             "--work", work.appendingPathComponent("w").path, "--smtp-sink", sink.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Interrupted once the sink has received mail: it is listening, its handlers set up.
        let log = received.appendingPathComponent("log.jsonl")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: log.path), process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(process.isRunning, "the bench was still measuring when interrupted")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + SIGINT)
        let stopped = received.appendingPathComponent("stopped")
        let until = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: stopped.path), Date() < until { Thread.sleep(forTimeInterval: 0.02) }
        #expect(FileManager.default.fileExists(atPath: stopped.path), "the sink got SIGTERM from the interrupted bench")
    }

    @Test("the sink runs in a session of its own, as a mail server does, and is stopped when the bench ends")
    func sinkSession() throws {
        let scratch = try ScratchDirectory("aftersales-bench-sink")
        defer { withExtendedLifetime(scratch) {} }
        let work = scratch.url
        let (sink, received) = try fakeSink(in: work)
        let (status, text, errors) = try bench(["--only", "smtp", "--runs", "1", "--messages", "3", "--work", work.appendingPathComponent("w").path,
                                                "--smtp-sink", sink.path])
        #expect(status == 0, "\(text)\(errors.suffix(2000))")
        #expect(text.contains("5c. send, 4 connections"), "\(text)")
        let noted = try String(contentsOf: work.appendingPathComponent("session"), encoding: .utf8).split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(noted.count == 2)
        let (pid, session) = (noted[0], noted[1])
        #expect(session == pid, "the sink leads a session of its own")
        #expect(session != getsid(0), "the sink is not in the bench's session")
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "the sink was stopped and reaped")
        #expect(FileManager.default.fileExists(atPath: received.appendingPathComponent("stopped").path), "the sink stopped on SIGTERM, not killed")
        // 1 and 4 connections and smtplib each sent the 3 messages through it, then 1 and 4 connections through the delay proxy.
        let log = try String(contentsOf: received.appendingPathComponent("log.jsonl"), encoding: .utf8)
        #expect(log.split(separator: "\n").count == 15)
    }
}
