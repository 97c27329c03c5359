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

    /// Runs aftersales-bench with `arguments`; its exit status and standard error.
    func bench(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = CLI.binary.deletingLastPathComponent().appendingPathComponent("aftersales-bench")
        process.arguments = ["--binary", CLI.binary.path] + arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test("an unknown figure in --only is refused with its name, not an empty table")
    func unknownFigure() throws {
        let (status, text) = try bench(["--only", "render,plann"])
        #expect(status == 64)
        #expect(text.contains("--only: unknown figure \"plann\""), "\(text)")
    }

    @Test("runs, messages and scales that cannot be measured are refused with the option and the value", arguments: [
        (["--runs", "0"], "--runs: 0"), (["--messages=-5"], "--messages: -5"), (["--scale", "0"], "--scale and --small-scale must be above 0"),
        (["--render-seconds", "0"], "--render-seconds: 0.0"),
    ])
    func unmeasurable(_ arguments: [String], _ message: String) throws {
        let (status, text) = try bench(arguments + ["--only", "render"])
        #expect(status == 64)
        #expect(text.contains(message), "\(text)")
    }

    @Test("make bench's code paths run at a tiny scale and print every figure with a verdict")
    func smoke() throws {
        let root = CLI.packageRoot
        let bench = CLI.binary.deletingLastPathComponent().appendingPathComponent("aftersales-bench")
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
        let process = Process()
        process.executableURL = bench
        process.currentDirectoryURL = root
        process.arguments = ["--scale", "0.2", "--small-scale", "0.1", "--runs", "1", "--messages", "20", "--render-seconds", "0.2",
                             "--work", work.appendingPathComponent("w").path, "--binary", CLI.binary.path,
                             "--smtp-url", server.url, "--curl-send", curlSend]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        for figure in ["1. run, nothing to do", "2. normal day", "3. full plan", "4. render + MIME", "5a. send, 1 connection", "5c. send, 4 connections", "5d. C libcurl, 4 processes"] {
            #expect(text.contains(figure), "missing \(figure) in\n\(text)")
        }
        #expect(text.contains("PASS") || text.contains("MISS"))
    }
}
