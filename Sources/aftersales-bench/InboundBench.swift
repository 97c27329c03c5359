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
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
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
            Row(figure: "9b. fetch with nothing new, loopback", measured: "not measured here", reference: "-", ratio: "-", target: "< 0.2 s",
                verdict: "SKIP"),
        ]
    }
}
