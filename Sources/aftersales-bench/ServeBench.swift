import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

extension Bench {
    /// 6. `aftersales serve`, measured with wrk on loopback at 50 connections: the one-click unsubscribe
    /// POST (verifies a token, reads the outbox entry and the customer, writes the fact the first time)
    /// against the server's own `/healthz`, in the same run.
    func serveFigures() throws -> [Row] {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return [Row(figure: "8. serve: unsubscribe POST vs /healthz", measured: "skipped", reference: "no wrk (make deps installs it)",
                        ratio: "-", target: "-", verdict: "SKIP")]
        }
        let nowDate = try Timestamp.parse(Self.now, field: "now")
        let path = "\(work)/serve.db"
        let secret = "bench-link-secret-0123456789abcdef"
        let environment = ["AFTERSALES_LINK_SECRET": secret, "AFTERSALES_LINKS_BASE_URL": "https://after.example.com"]
        let ws = try Workspace.open(Settings(databasePath: path, configPath: nil, now: nowDate, environment: environment), access: .readWrite)
        _ = try SyntheticCompany(scale: smallScale, now: nowDate).generate(into: ws.store)
        _ = try ws.plan()
        try ws.store.checkpoint()
        // One token per customer (of one of its mails): the first POST of each writes, later ones find it done.
        let keys = try LinkKeys(secrets: [secret])
        var seen: Set<String> = []
        var tokens: [String] = []
        for entry in try ws.store.outbox() where seen.insert(entry.mail.customerID).inserted {
            tokens.append(keys.sign(LinkToken(purpose: .unsubscribe, mailKey: entry.mail.key, customerID: entry.mail.customerID,
                                              expires: nowDate.addingTimeInterval(86_400))))
        }
        let tokenFile = "\(work)/serve-tokens.txt"
        try tokens.joined(separator: "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let script = "\(work)/serve-unsubscribe.lua"
        // The requests are formatted once, up front (wrk's advice for `request`): formatting each in Lua
        // took wrk 2.4 times the CPU, on the cores the server shares, where /healthz's wrk runs no Lua at all.
        try """
        local requests = {}
        for line in io.lines("\(URL(fileURLWithPath: tokenFile).standardizedFileURL.path)") do
          requests[#requests + 1] = wrk.format("POST", "/u/" .. line, {["Content-Type"] = "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
        end
        local i = math.random(#requests)
        request = function()
          i = i % #requests + 1
          return requests[i]
        end
        """.write(toFile: script, atomically: true, encoding: .utf8)

        let server = Process()
        server.executableURL = URL(fileURLWithPath: binary)
        server.arguments = ["serve", "--listen", "127.0.0.1:0", "--db", path, "--now", Self.now]
        server.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard let address = line.split(separator: "\n").first?.replacingOccurrences(of: "listening on ", with: ""), address.contains(":") else {
            throw ValidationError("serve did not print its address: \(line)")
        }
        log("serve: \(tokens.count) customers' unsubscribe tokens, listening on \(address)")

        func measure(_ extra: [String], _ url: String) throws -> (rps: Double, p99: Double) {
            let wrkProcess = Process()
            wrkProcess.executableURL = URL(fileURLWithPath: wrk)
            // The render figure's time and a half, at least a second (3 s by default), a round.
            wrkProcess.arguments = ["-t2", "-c50", "-d\(max(1, Int(renderSeconds * 1.5)))s", "--latency"] + extra + [url]
            let pipe = Pipe()
            wrkProcess.standardOutput = pipe
            try wrkProcess.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            wrkProcess.waitUntilExit()
            return try Self.parseWrk(text)
        }
        let base = "http://\(address)"
        _ = try measure([], base + "/healthz")  // warm-up
        // Three rounds, the reference and the POST taking turns, and the median of each: this machine's
        // speed drifts by more than the margins (a single pair ranged from 0.26 to 0.37 in minutes).
        var healths: [(rps: Double, p99: Double)] = [], unsubscribes: [(rps: Double, p99: Double)] = []
        for _ in 0..<3 {
            healths.append(try measure([], base + "/healthz"))
            unsubscribes.append(try measure(["-s", script], base + "/"))
        }
        let health = (rps: median(healths.map(\.rps)), p99: median(healths.map(\.p99)))
        let unsubscribe = (rps: median(unsubscribes.map(\.rps)), p99: median(unsubscribes.map(\.p99)))
        let ratio = unsubscribe.rps / health.rps
        return [
            Row(figure: "8a. serve: unsubscribe POST vs /healthz (wrk, 50 conn., median of 3)", measured: "\(Int(unsubscribe.rps)) req/s",
                reference: "/healthz \(Int(health.rps)) req/s", ratio: fmt(ratio), target: ">= 0.3", verdict: ratio >= 0.3 ? "PASS" : "MISS"),
            Row(figure: "8b. serve: unsubscribe POST p99 latency, 50 conn.", measured: "\(fmt(unsubscribe.p99)) ms",
                reference: "/healthz \(fmt(health.p99)) ms", ratio: "-", target: "< 20 ms", verdict: unsubscribe.p99 < 20 ? "PASS" : "MISS"),
        ]
    }

    /// Requests per second and the 99th percentile latency (ms) of wrk's `--latency` report.
    static func parseWrk(_ text: String) throws -> (rps: Double, p99: Double) {
        var rps: Double?, p99: Double?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.first == "Requests/sec:", fields.count > 1 { rps = Double(fields[1]) }
            if fields.first == "99%", fields.count > 1 {
                let value = String(fields[1])
                for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where value.hasSuffix(unit) {
                    if let number = Double(value.dropLast(unit.count)) { p99 = number * scale; break }
                }
            }
        }
        guard let rps, let p99 else { throw ValidationError("wrk's report could not be read:\n\(text)") }
        if text.contains("Non-2xx") { throw ValidationError("wrk saw failed requests:\n\(text)") }
        return (rps, p99)
    }
}
