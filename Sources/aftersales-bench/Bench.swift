import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

/// `make bench`: builds a synthetic company, measures the five figures of the performance issue
/// against their references in the same run (medians of several runs), and prints one table.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "aftersales-bench", abstract: "Measure aftersales against its performance targets.")

    @Option(help: "Scale of the large company (1 = about 1,000 orders).") var scale: Double = 20
    @Option(help: "Scale of the small company the incremental run is compared with.") var smallScale: Double = 1
    @Option(help: "Runs per timed figure (the median is reported).") var runs: Int = 5
    @Option(help: "Messages for the SMTP figures (a batch of a few thousand).") var messages: Int = 3000
    @Option(help: "Work directory (deleted and made anew).") var work: String = ".build/bench-work"
    @Option(help: "The aftersales binary to measure.") var binary: String
    @Option(help: "Postfix's smtp-sink binary, started in a session of its own as a mail server runs (SMTP figures are skipped without it or --smtp-url).") var smtpSink: String?
    @Option(help: "An SMTP server already listening (smtp://127.0.0.1:PORT), used instead of smtp-sink.") var smtpURL: String?
    @Option(help: "The reference C sender (Benchmarks/curl_send.c, compiled).") var curlSend: String?
    @Option(help: "Seconds of rendering for the render figure (five windows of a fifth each; the median is reported).") var renderSeconds: Double = 2
    @Option(help: "Order lines of the import figure's large file (issue 17 names 1,000,000).") var importLines: Int = 1_000_000
    @Option(help: "Only these figures, comma-separated (plan, idle, day, render, smtp, import, report, serve, inbound); all when absent.") var only: String?

    static let figures = ["plan", "idle", "day", "render", "smtp", "import", "report", "serve", "inbound"]

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs: \(runs) is not a number of runs; expected 1 or more") }
        guard messages >= 1 else { throw ValidationError("--messages: \(messages) is not a number of messages; expected 1 or more") }
        guard scale > 0, smallScale > 0 else { throw ValidationError("--scale and --small-scale must be above 0 (got \(scale) and \(smallScale))") }
        guard importLines >= 10_000 else { throw ValidationError("--import-lines: \(importLines) is below the small file's 10000 lines") }
        guard renderSeconds > 0 else { throw ValidationError("--render-seconds: \(renderSeconds) must be above 0") }
        for name in only?.split(separator: ",", omittingEmptySubsequences: false) ?? [] where !Self.figures.contains(String(name)) {
            throw ValidationError("--only: unknown figure \"\(name)\"; expected some of \(Self.figures.joined(separator: ", "))")
        }
    }

    func wants(_ figure: String) -> Bool { only.map { $0.split(separator: ",").contains(Substring(figure)) } ?? true }

    static let now = "2026-11-23T10:00:00Z"

    struct Row {
        var figure: String, measured: String, reference: String, ratio: String, target: String, verdict: String
    }

    func run() throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: work)
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        var rows: [Row] = []
        let nowDate = try Timestamp.parse(Self.now, field: "now")

        // The companies: generated through the store, then a full plan measured as a process.
        func company(_ scale: Double, _ name: String) throws -> Company {
            let path = "\(work)/\(name).db"
            let ws = try Workspace.open(Settings(databasePath: path, configPath: nil, now: nowDate, environment: [:]), access: .readWrite)
            let counts = try SyntheticCompany(scale: scale, now: nowDate).generate(into: ws.store)
            try ws.store.checkpoint()
            // The unplanned company is kept, for the full-plan figure's runs.
            _ = try copyDatabase(path, to: "\(work)/\(name)-unplanned.db")
            let plan = try timed(["plan", "--db", path, "--now", Self.now])
            let rowsCount = try ws.store.outbox().count
            _ = try SyntheticCompany.markPastMailSent(in: ws.store, now: nowDate)
            try ws.store.checkpoint()
            log("\(name): \(counts.orders) orders, \(counts.customers) customers, \(rowsCount) planned mails; full plan \(fmt(plan.seconds)) s")
            return (path, counts.orders, plan.kb, rowsCount)
        }
        if wants("plan") || wants("idle") || wants("day") || wants("report") {
            let large = try company(scale, "large")
            let small = try company(smallScale, "small")
            if wants("idle") { rows.append(try idleFigure(large: large, small: small)) }
            if wants("day") { rows.append(try normalDayFigure(large: large, now: nowDate)) }
            if wants("plan") { rows.append(try fullPlanFigure(large: large, small: small)) }
            if wants("report") { rows.append(try reportFigure(large: large, small: small)) }
        }
        if wants("render") {
            let rate = try renderRate()
            rows.append(Row(figure: "4. render + MIME, one core (median of 5 windows)", measured: "\(Int(rate.cpu)) msg/s (windows \(Int(rate.low))-\(Int(rate.high)))",
                            reference: "-", ratio: "-", target: ">= 3000 msg/s", verdict: rate.cpu >= 3000 ? "PASS" : "MISS"))
        }
        if wants("smtp") {
            if smtpURL != nil || (smtpSink.map { fm.isExecutableFile(atPath: $0) } ?? false) {
                rows += try smtpFigures(sink: smtpSink)
            } else {
                rows.append(Row(figure: "5. SMTP throughput", measured: "skipped", reference: "no smtp-sink", ratio: "-", target: "-", verdict: "SKIP"))
            }
        }
        if wants("import") { rows += try importFigures() }  // issue 17, Sources/aftersales-bench/ImportBench.swift
        if wants("serve") { rows += try serveFigures() }
        if wants("inbound") { rows += try inboundFigures() }
        print(table(rows))
    }

    /// A generated company: its database, its size, the peak memory of the plan that built it, the mail planned.
    typealias Company = (path: String, orders: Int, planKB: Int, outboxRows: Int)

    /// 1. A run with nothing new and nothing due, on the large company against the small one.
    func idleFigure(large: Company, small: Company) throws -> Row {
        func idleRun(_ path: String) throws -> Double {
            try timed(["run", "--transport", "file", "--db", path, "--now", Self.now], environment: ["AFTERSALES_TRANSPORT_DIR": "\(work)/files-idle"]).seconds
        }
        _ = try idleRun(large.path)
        _ = try idleRun(small.path)
        // Alternating, so that both see the same machine; three times the runs: a run with nothing
        // to do takes tens of milliseconds, where noise is large.
        var largeTimes: [Double] = [], smallTimes: [Double] = []
        for _ in 0..<runs * 3 {
            largeTimes.append(try idleRun(large.path))
            smallTimes.append(try idleRun(small.path))
        }
        let idleLarge = median(largeTimes), idleSmall = median(smallTimes)
        let ratio = idleLarge / idleSmall
        return Row(figure: "1. run, nothing to do, \(large.orders) vs \(small.orders) orders", measured: "\(fmt(idleLarge)) s",
                   reference: "\(fmt(idleSmall)) s", ratio: fmt(ratio), target: "<= 1.5", verdict: ratio <= 1.5 ? "PASS" : "MISS")
    }

    /// 2. A normal day: 0.1% of orders get an event, then run.
    func normalDayFigure(large: Company, now: Date) throws -> Row {
        let day = now.addingTimeInterval(3600)
        let ws = try Workspace.open(Settings(databasePath: large.path, configPath: nil, now: day, environment: [:]), access: .readWrite)
        let open = try ws.store.openShipmentIDs(limit: max(1, large.orders / 1000))
        for id in open { _ = try? ws.store.recordShipmentEvent(ShipmentEvent(shipmentID: id, kind: .inTransit, at: day, location: "Transshipment hub"), now: day) }
        try ws.store.checkpoint()
        let normal = try timed(["run", "--transport", "file", "--db", large.path, "--now", Timestamp.utc(day)], environment: ["AFTERSALES_TRANSPORT_DIR": "\(work)/files-day"])
        return Row(figure: "2. normal day: \(open.count) events, plan + file transport", measured: "\(fmt(normal.seconds)) s, \(normal.kb / 1024) MB peak",
                   reference: "-", ratio: "-", target: "< 10 s, < 250 MB", verdict: normal.seconds < 10 && normal.kb < 250 * 1024 ? "PASS" : "MISS")
    }

    /// 3. The full plan from scratch against the sqlite3 shell inserting as many outbox rows in one transaction.
    func fullPlanFigure(large: Company, small: Company) throws -> Row {
        // A plan of a fresh copy of the unplanned company and the sqlite3 shell's insert take turns,
        // so that both see the same machine; the medians are compared.
        var planTimes: [Double] = [], planKB: [Double] = [], sqliteTimes: [Double] = []
        let script = try sqliteScript(rows: large.outboxRows, schemaFrom: large.path)
        for run in 0..<runs {
            let copy = try copyDatabase("\(work)/large-unplanned.db", to: "\(work)/large-plan-\(run).db")
            defer { removeDatabase(copy) }
            let plan = try timed(["plan", "--db", copy, "--now", Self.now])
            planTimes.append(plan.seconds)
            planKB.append(Double(plan.kb))
            sqliteTimes.append(try sqliteInsert(script, run: run))
        }
        let planSeconds = median(planTimes), sqliteSeconds = median(sqliteTimes), kb = Int(median(planKB))
        let planRatio = planSeconds / sqliteSeconds
        let memoryRatio = Double(kb) / Double(max(small.planKB, 1))
        return Row(figure: "3. full plan, \(large.orders) orders (\(large.outboxRows) mails)",
                   measured: "\(fmt(planSeconds)) s, \(Int(Double(large.orders) / planSeconds)) orders/s, \(kb / 1024) MB",
                   reference: "sqlite3 \(fmt(sqliteSeconds)) s; \(small.planKB / 1024) MB at \(small.orders) orders", ratio: "\(fmt(planRatio)); mem \(fmt(memoryRatio))",
                   target: "<= 3; mem flat (<= 1.5)", verdict: planRatio <= 3 && memoryRatio <= 1.5 ? "PASS" : "MISS")
    }

    // MARK: Measuring

    /// Removes a scratch database with its log, shared memory and run lock.
    func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// A fresh copy of the database at `source`, written back to disk before any timed run uses it.
    /// A copy made just before a run is otherwise written back during it: SQLite's first sync of the
    /// write-ahead log makes the file system flush the whole copy (tens of milliseconds charged to the
    /// run, not its work).
    func copyDatabase(_ source: String, to path: String) throws -> String {
        removeDatabase(path)
        try FileManager.default.copyItem(atPath: source, toPath: path)
        sync()
        return path
    }

    func log(_ text: String) { FileHandle.standardError.write(Data("bench: \(text)\n".utf8)) }
    func fmt(_ value: Double) -> String { String(format: value < 10 ? "%.3f" : "%.1f", value) }
    func median(_ values: [Double]) -> Double { let s = values.sorted(); return s[s.count / 2] }

    /// Runs the aftersales binary under /usr/bin/time: wall seconds and peak resident kilobytes.
    func timed(_ arguments: [String], environment: [String: String] = [:], executable: String? = nil) throws -> (seconds: Double, kb: Int, output: String) {
        // The peak memory from /usr/bin/time (a small process forking the measured one): wait4's own figure
        // starts from the bench's resident memory, which a spawned child's count inherits at exec.
        let result = try Spawned.run("/usr/bin/time", ["-f", "BENCH %M", executable ?? binary] + arguments, environment: environment, directory: work)
        if result.status != 0 && result.status != 75 {
            throw ValidationError("\(arguments.joined(separator: " ")) failed (\(result.status)): \(result.errors.prefix(400))")
        }
        let line = result.errors.split(separator: "\n").last { $0.hasPrefix("BENCH ") } ?? ""
        return (result.seconds, Int(line.split(separator: " ").last ?? "") ?? 0, result.output)
    }

    /// The script for the sqlite3 shell: the outbox schema, then `rows` outbox rows inserted in one transaction.
    func sqliteScript(rows: Int, schemaFrom path: String) throws -> String {
        let schema = try shell("/usr/bin/sqlite3", [path, ".schema outbox"])
        var sql = schema + "\nBEGIN;\n"
        for i in 0..<rows {
            sql += "INSERT INTO outbox (key, rule, stream, audience, customerID, orderID, subject, occurrence, triggeredAt, nominalDue, due, toAddresses, ccAddresses, locale, timeZone, template, needsApproval, status, reasons, flags, context, createdAt, updatedAt) VALUES ('transit-update/S\(i)/1', 'transit-update', 'transactional', 'customer', 'C\(i % 1000)', 'O\(i)', 'S\(i)', '1', '2026-11-23 10:00:00.000', '2026-11-23 10:00:00.000', '2026-11-23 10:00:00.000', '[\"a@example.com\"]', '[]', 'en', 'UTC', 'transit-update', 0, 'planned', '[\"why\"]', '[]', '{\"shipment\":\"S\(i)\"}', '2026-11-23 10:00:00.000', '2026-11-23 10:00:00.000');\n"
        }
        sql += "COMMIT;\n"
        let script = "\(work)/insert.sql"
        try sql.write(toFile: script, atomically: true, encoding: .utf8)
        return script
    }

    /// Seconds for the sqlite3 shell to run `script` on a new database.
    func sqliteInsert(_ script: String, run: Int) throws -> Double {
        let db = "\(work)/reference-\(run).db"
        try? FileManager.default.removeItem(atPath: db)
        return try sqlite([db], input: script).seconds
    }

    /// The sqlite3 shell with `arguments` (and `input` as its standard input), which must succeed.
    func sqlite(_ arguments: [String], input: String? = nil) throws -> Spawned {
        let result = try Spawned.run("/usr/bin/sqlite3", arguments, input: input, directory: work)
        guard result.status == 0 else { throw ValidationError("sqlite3 \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.errors.prefix(400))") }
        return result
    }

    /// What `executable` prints (its errors are dropped).
    @discardableResult
    func shell(_ executable: String, _ arguments: [String]) throws -> String {
        try Spawned.run(executable, arguments, directory: work).output
    }

    /// Messages rendered and composed per second on one thread, over the sample mails of every locale:
    /// per second of the thread's CPU time ("on one core": a machine busy with other work takes turns
    /// on the core, which wall time would charge to the render). Five windows of a fifth of
    /// `--render-seconds` each: the median, and the lowest and highest window (one 2-second window
    /// measured the same code at 2,333 to 3,290 msg/s on this shared machine).
    func renderRate() throws -> (cpu: Double, low: Double, high: Double) {
        let settings = try Settings.resolve(db: nil, config: nil, now: nil, environment: ["AFTERSALES_NOW": Self.now], executable: binary, clock: { Date() })
        guard let templates = settings.templatesPath else { throw ValidationError("templates not found next to \(binary)") }
        let renderer = MailRenderer(templates: try TemplateStore(builtIn: templates), configuration: Configuration.defaults)
        let cases = ["en", "es-MX", "ar-SA", "zh-Hans", "ru", "de"].flatMap { locale in
            let facts = Samples.facts(locale: locale)
            return Samples.mails(facts: facts).map { ($0, facts) }
        }
        let now = try Timestamp.parse(Self.now, field: "now")
        func threadCPUSeconds() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        let limit = Duration.milliseconds(Int(renderSeconds * 200))
        var rates: [Double] = []
        for _ in 0..<5 {
            var count = 0
            let start = ContinuousClock.now, cpuStart = threadCPUSeconds()
            while ContinuousClock.now - start < limit {
                for (request, facts) in cases {
                    _ = try renderer.render(request, facts: facts, now: now)
                    count += 1
                }
            }
            rates.append(Double(count) / (threadCPUSeconds() - cpuStart))
        }
        return (median(rates), rates.min() ?? 0, rates.max() ?? 0)
    }

    /// aftersales send with 1 and 4 connections, the plain C libcurl sender and Python's smtplib,
    /// all against the same smtp-sink and the same messages; then 1 and 4 connections through a
    /// proxy that delays the server's replies (row 5e).
    func smtpFigures(sink: String?) throws -> [Row] {
        var port = 20_000 + Int(ProcessInfo.processInfo.processIdentifier % 20_000)
        var server: SinkServer?
        if let smtpURL, let given = Int(smtpURL.split(separator: ":").last ?? "") {
            port = given
        } else if let sink {
            var env = ProcessInfo.processInfo.environment
            env["LD_LIBRARY_PATH"] = URL(fileURLWithPath: sink).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("lib/postfix").path
            server = try SinkServer.start(executable: sink, arguments: (getuid() == 0 ? ["-u", "nobody"] : []) + ["-c", "127.0.0.1:\(port)", "1024"],
                                          environment: env, port: port)
        }
        defer { server?.stop() }
        let nowDate = try Timestamp.parse(Self.now, field: "now")
        let count = messages
        let base = try smtpBase("\(work)/smtp-base.db", messages: count, now: nowDate)
        let url = "smtp://127.0.0.1:\(port)"
        var sends = 0
        /// Messages per second of `aftersales send --due` on a copy of `base` (`count` due mails) to `url`.
        func send(_ connections: Int, base: String = base, count: Int = count, url: String = url) throws -> Double {
            sends += 1
            let path = try copyDatabase(base, to: "\(work)/smtp-\(connections)-\(sends).db")
            defer { removeDatabase(path) }
            let result = try timed(["send", "--due", "--transport", "smtp", "--db", path, "--now", Self.now],
                                   environment: ["AFTERSALES_SMTP_URL": url, "AFTERSALES_SMTP_TLS": "none", "AFTERSALES_SMTP_CONNECTIONS": "\(connections)"])
            guard result.output.contains("sent \(count),") else { throw ValidationError("send did not send all: \(result.output)") }
            return Double(count) / result.seconds
        }
        // The same messages as files, for the references.
        let files = "\(work)/smtp-files"
        _ = try timed(["run", "--transport", "file", "--db", try copyDatabase(base, to: "\(work)/smtp-files.db"), "--now", Self.now],
                      environment: ["AFTERSALES_TRANSPORT_DIR": files])
        // Every sender once per round, so that all see the same machine (it is shared: its speed
        // drifts by a quarter over a minute); the medians of the rounds are compared.
        var ones: [Double] = [], fours: [Double] = [], cs: [Double] = [], cFours: [Double] = [], pythons: [Double] = []
        for _ in 0..<runs {
            ones.append(try send(1))
            if let curlSend { cs.append(Double(count) / (try timed([url, files], executable: curlSend)).seconds) }
            fours.append(try send(4))
            if let curlSend { cFours.append(Double(count) / (try parallelCurl(curlSend, url: url, files: files, ways: 4))) }
            pythons.append(Double(count) / (try timed(["Benchmarks/smtplib_send.py", "127.0.0.1:\(port)", files], executable: "/usr/bin/python3")).seconds)
        }
        let one = median(ones), four = median(fours), python = median(pythons)
        var rows: [Row] = []
        var ceiling: Row?
        if !cs.isEmpty {
            let c = median(cs), cFour = median(cFours)
            rows.append(Row(figure: "5a. send, 1 connection, \(count) messages", measured: "\(Int(one)) msg/s", reference: "C libcurl \(Int(c)) msg/s",
                            ratio: fmt(one / c), target: ">= 0.8", verdict: one / c >= 0.8 ? "PASS" : "MISS"))
            // What this machine allows 4 connections at all: the C sender as 4 processes on a quarter each.
            ceiling = Row(figure: "5d. C libcurl, 4 processes vs 1 (this machine's ceiling for 5c)", measured: "\(Int(cFour)) msg/s",
                          reference: "\(Int(c)) msg/s", ratio: fmt(cFour / c), target: "(reference)", verdict: "-")
        }
        rows.append(Row(figure: "5b. send, 1 connection vs Python smtplib", measured: "\(Int(one)) msg/s", reference: "smtplib \(Int(python)) msg/s",
                        ratio: fmt(one / python), target: "(reference)", verdict: "-"))
        rows.append(Row(figure: "5c. send, 4 connections vs 1", measured: "\(Int(four)) msg/s", reference: "\(Int(one)) msg/s",
                        ratio: fmt(four / one), target: "(reference)", verdict: "-"))
        if let ceiling { rows.append(ceiling) }
        // Over a network the replies take time, and that is what more connections divide: the same
        // sends through a proxy that delays every reply of the server by 2 ms.
        let latent = min(count, 300)
        let latentBase = try smtpBase("\(work)/smtp-latency-base.db", messages: latent, now: nowDate)
        let proxyPort = SinkServer.freePort()
        let proxy = try SinkServer.start(executable: "/usr/bin/python3", arguments: ["Benchmarks/delay_proxy.py", "\(proxyPort)", "\(port)", "2"],
                                         environment: ProcessInfo.processInfo.environment, port: proxyPort)
        defer { proxy.stop() }
        var latentOnes: [Double] = [], latentFours: [Double] = []
        for _ in 0..<min(runs, 3) {
            latentOnes.append(try send(1, base: latentBase, count: latent, url: "smtp://127.0.0.1:\(proxyPort)"))
            latentFours.append(try send(4, base: latentBase, count: latent, url: "smtp://127.0.0.1:\(proxyPort)"))
        }
        rows.append(Row(figure: "5e. send, 4 connections vs 1, replies 2 ms late (\(latent) messages)", measured: "\(Int(median(latentFours))) msg/s",
                        reference: "\(Int(median(latentOnes))) msg/s", ratio: fmt(median(latentFours) / median(latentOnes)), target: "(reference)", verdict: "-"))
        return rows
    }

    /// A database at `path` with `messages` tracking mails due now, all to one buyer.
    func smtpBase(_ path: String, messages: Int, now: Date) throws -> String {
        let ws = try Workspace.open(Settings(databasePath: path, configPath: nil, now: now, environment: [:]), access: .readWrite)
        try ws.store.batch { store in
            _ = try store.addCustomer(id: "B1", CustomerChanges(name: "Bench Buyer", email: "bench@example.com", locale: "es", timeZone: "America/Mexico_City", country: "MX"), now: now)
            _ = try store.addProduct(sku: "B-P", ProductChanges(name: "Bench pump"), now: now)
            _ = try store.addOrder(id: "B-O", customerID: "B1", lines: [OrderLine(sku: "B-P", quantity: 1)], currency: "USD", at: now.addingTimeInterval(-86_400), now: now)
            for i in 0..<messages {
                _ = try store.dispatch(Shipment(id: String(format: "B-S%05d", i), orderID: "B-O", carrier: "DHL", trackingNumber: "T\(i)",
                                                dispatchedAt: now.addingTimeInterval(-600), eta: now.addingTimeInterval(10 * 86_400)), now: now)
            }
        }
        _ = try ws.plan()
        try ws.store.checkpoint()
        return path
    }

    /// Seconds for `ways` C senders, each on its share of the message files, run at once.
    func parallelCurl(_ curlSend: String, url: String, files: String, ways: Int) throws -> Double {
        let names = try FileManager.default.contentsOfDirectory(atPath: files).filter { $0.hasSuffix(".eml") }.sorted()
        var parts: [String] = []
        for way in 0..<ways {
            let part = "\(work)/smtp-part-\(way)"
            try? FileManager.default.removeItem(atPath: part)
            try FileManager.default.createDirectory(atPath: part, withIntermediateDirectories: true)
            for (index, name) in names.enumerated() where index % ways == way {
                let target = URL(fileURLWithPath: "\(files)/\(name)").standardizedFileURL.path // absolute: --work may be relative
                try FileManager.default.createSymbolicLink(atPath: "\(part)/\(name)", withDestinationPath: target)
            }
            parts.append(part)
        }
        let start = ContinuousClock.now
        var started: [Spawned.Child] = []
        for part in parts { started.append(try Spawned.start(curlSend, [url, part], directory: work)) }
        var sent = 0
        for child in started {
            // In the order started; one that exited earlier is reaped at once, so the loop ends when the last does.
            let result = child.wait()
            guard result.status == 0 else { throw ValidationError("curl_send failed (\(result.status))") }
            sent += Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        let elapsed = ContinuousClock.now - start
        guard sent == names.count else { throw ValidationError("the C senders sent \(sent) of \(names.count) messages") }
        return elapsed.seconds
    }

    func table(_ rows: [Row]) -> String {
        let header = Row(figure: "figure", measured: "measured", reference: "reference", ratio: "ratio", target: "target", verdict: "verdict")
        let all = [header] + rows
        let paths: [KeyPath<Row, String>] = [\Row.figure, \Row.measured, \Row.reference, \Row.ratio, \Row.target, \Row.verdict]
        let columns: [(Row) -> String] = paths.map { path in { $0[keyPath: path] } }
        let widths = columns.map { column in all.map { column($0).count }.max() ?? 0 }
        func line(_ row: Row) -> String {
            "| " + zip(columns, widths).map { column, width in column(row).padding(toLength: width, withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |"
        }
        return ([line(header), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"] + rows.map(line)).joined(separator: "\n")
    }
}
