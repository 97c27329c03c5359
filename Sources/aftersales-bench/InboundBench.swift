import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

extension Bench {
    /// 6. Classifying 10,000 stored inbound messages (the corpus of Tests/inbound, cycled) against Python's
    /// `email` package (policy.default) parsing the same files, in the same run; target: at least twice as fast.
    func inboundFigures() throws -> [Row] {
        let corpus = URL(fileURLWithPath: "Tests/inbound")
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".eml") }.sorted()
        guard !names.isEmpty else { throw ValidationError("no corpus in Tests/inbound (run from the package root)") }
        let directory = "\(work)/inbound"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let count = 10_000
        var paths: [String] = []
        for i in 0..<count {
            let path = "\(directory)/\(String(format: "%05d", i)).eml"
            try Data(contentsOf: corpus.appendingPathComponent(names[i % names.count])).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let classifier = InboundClassifier(domain: "example.com")
        func swiftRun() -> Double {
            let start = ContinuousClock.now
            var replies = 0
            for path in paths {
                let bytes = FileManager.default.contents(atPath: path) ?? Data()
                if classifier.classify(Array(bytes)).kind == .reply { replies += 1 }
            }
            precondition(replies > 0)
            let elapsed = ContinuousClock.now - start
            return elapsed.seconds
        }
        let script = """
            import email, email.policy, glob, sys, time
            paths = sorted(glob.glob(sys.argv[1] + '/*.eml'))
            start = time.perf_counter()
            for p in paths:
                with open(p, 'rb') as f:
                    m = email.message_from_binary_file(f, policy=email.policy.default)
                    m.get('subject'); m.get_content_type()
            print(time.perf_counter() - start)
            """
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
        var swiftTimes: [Double] = [], pythonTimes: [Double] = []
        for _ in 0..<max(1, min(runs, 3)) {
            swiftTimes.append(swiftRun())
            pythonTimes.append(Double(try shell(python, ["-c", script, directory]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? .infinity)
        }
        let swift = median(swiftTimes), py = median(pythonTimes)
        let ratio = py / swift
        log("inbound: Swift classifier \(fmt(swift)) s, Python email \(fmt(py)) s for \(count) messages")
        return [
            Row(figure: "9a. classify \(count) stored inbound messages", measured: "\(Int(Double(count) / swift)) msg/s",
                reference: "Python email \(Int(Double(count) / py)) msg/s", ratio: String(format: "%.2f", ratio), target: ">= 2",
                verdict: ratio >= 2 ? "PASS" : "MISS"),
            try fetchNothingNewFigure(corpus: corpus, names: names),
        ]
    }

    /// 9b. `aftersales fetch` with nothing new, as a process, against a real Dovecot on loopback
    /// (STARTTLS, the certificate verified): a few messages delivered and fetched once, then the median
    /// of `runs` fetches that find nothing above the watermark. Dovecot is stopped whatever happens.
    func fetchNothingNewFigure(corpus: URL, names: [String]) throws -> Row {
        let figure = "9b. fetch with nothing new, loopback (STARTTLS)"
        guard LoopbackDovecot.available else {
            return Row(figure: figure, measured: "skipped", reference: "no dovecot (make deps installs dovecot-imapd)", ratio: "-", target: "< 0.2 s", verdict: "SKIP")
        }
        guard getuid() == 0 else {
            return Row(figure: figure, measured: "skipped", reference: "Dovecot's mail user needs root to start it", ratio: "-", target: "< 0.2 s", verdict: "SKIP")
        }
        // In /tmp: Dovecot's mail user must be able to reach the Maildir.
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("aftersales-bench-dovecot-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        let dovecot = try LoopbackDovecot(directory: directory, imapPort: SinkServer.freePort(), imapsPort: SinkServer.freePort())
        let server = try SinkServer.start(executable: LoopbackDovecot.executable, arguments: ["-F", "-c", dovecot.configPath],
                                          environment: ProcessInfo.processInfo.environment, port: dovecot.imapPort)
        defer { server.stop() }
        let nowDate = try Timestamp.parse(Self.now, field: "now")
        for (index, name) in names.prefix(8).enumerated() {
            try dovecot.deliver(try Data(contentsOf: corpus.appendingPathComponent(name)), name: "\(1_790_000_000 + index).M\(index)P1.bench",
                                at: nowDate.addingTimeInterval(-3600))
        }
        // The small company: the fetch opens a real database.
        let path = "\(work)/fetch.db"
        let ws = try Workspace.open(Settings(databasePath: path, configPath: nil, now: nowDate, environment: [:]), access: .readWrite)
        _ = try SyntheticCompany(scale: smallScale, now: nowDate).generate(into: ws.store)
        try ws.store.checkpoint()
        let environment = ["AFTERSALES_IMAP_URL": "imap://127.0.0.1:\(dovecot.imapPort)/INBOX", "AFTERSALES_IMAP_USER": dovecot.user,
                           "AFTERSALES_IMAP_PASSWORD": "secret", "AFTERSALES_IMAP_CA_FILE": dovecot.certificate, "AFTERSALES_IMAP_TLS": "starttls"]
        let first = try timed(["fetch", "--db", path, "--now", Self.now], environment: environment)
        guard first.output.hasPrefix("fetched \(min(8, names.count)),") else { throw ValidationError("the first fetch did not read the delivered mail: \(first.output)") }
        var times: [Double] = []
        for _ in 0..<max(3, runs) {
            let again = try timed(["fetch", "--db", path, "--now", Self.now], environment: environment)
            guard again.output.hasPrefix("fetched 0,") else { throw ValidationError("a fetch with nothing new read something: \(again.output)") }
            times.append(again.seconds)
        }
        let seconds = median(times)
        log("inbound: first fetch (\(min(8, names.count)) messages) \(fmt(first.seconds)) s; nothing new \(times.map(fmt).joined(separator: ", ")) s")
        return Row(figure: figure, measured: "\(fmt(seconds)) s", reference: "first fetch of \(min(8, names.count)): \(fmt(first.seconds)) s", ratio: "-",
                   target: "< 0.2 s", verdict: seconds < 0.2 ? "PASS" : "MISS")
    }
}
