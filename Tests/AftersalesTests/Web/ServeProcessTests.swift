import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("serve: the binary, a real browser, and run beside it", .serialized)
struct ServeProcessTests {
    @Test("`aftersales serve --listen 127.0.0.1:0` prints its address, serves /healthz, logs, and stops on SIGTERM")
    func binary() async throws {
        let fixture = try WebFixture()
        try fixture.seed()
        var address: String?
        let serve = try await withServeBinary(fixture, now: "2026-11-23T10:00:00Z") { printed in
            address = printed
            guard let printed else { return }
            #expect(printed.hasPrefix("127.0.0.1:") && printed != "127.0.0.1:0")
            let health = try await request("GET", "http://\(printed)/healthz")
            #expect(health.status == 200)
        }
        guard address != nil else {
            Issue.record("no address printed (exit \(serve.process.terminationStatus), \(serve.process.terminationReason == .uncaughtSignal ? "signal" : "exit")): stdout \(serve.stdout) stderr \(serve.stderr)")
            return
        }
        #expect(serve.process.terminationStatus == 0, "a graceful stop exits 0")
        #expect(serve.stderr.contains("GET /healthz 200"))

        // Without a secret it refuses to start, saying why.
        var environment = fixture.serveEnvironment(now: "2026-11-23T10:00:00Z")
        environment["AFTERSALES_LINK_SECRET"] = nil
        let refused = try Child(CLI.binary, ["serve", "--listen", "127.0.0.1:0"], environment: environment)
        #expect(await refused.wait() == 64)
        #expect(refused.stderr.contains("links off"))
        let bad = try Child(CLI.binary, ["serve", "--listen", "localhost"], environment: environment)
        #expect(await bad.wait() == 64)
        #expect(bad.stderr.contains("listen \"localhost\""))
    }

    @Test("headless Chromium opens the Arabic survey page, screenshots it, submits the form; the answer is recorded",
          .enabled(if: chromium != nil, "chromium is not installed (make deps installs it): the browser test is skipped"))
    func browser() async throws {
        let fixture = try WebFixture()
        try fixture.seed()
        let ws = try fixture.workspace()
        let surveyKey = try fixture.key(ws, template: "survey")
        let link = try #require(try fixture.links(ws, key: surveyKey, action: "survey-score").dropFirst(8).first)
        let artifacts = CLI.packageRoot.appendingPathComponent(".build/artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts.appendingPathComponent("serve-survey-ar.png")
        try? FileManager.default.removeItem(at: screenshot)
        // The page comes from the `aftersales serve` binary, not a server in this process: while other suites
        // hold this process's two cooperative threads, an in-process server answered Chromium too late (a CI
        // run saw Page.navigate wait over 30 s).
        var address: String?
        let serve = try await withServeBinary(fixture, now: Timestamp.utc(fixture.now)) { printed in
            address = printed
            guard let printed else { return }
            let driver = try Child(URL(fileURLWithPath: "/usr/bin/python3"),
                                   [CLI.packageRoot.appendingPathComponent("Tests/tools/chromium_submit.py").path, try #require(chromium),
                                    link.replacingOccurrences(of: WebFixture.base, with: "http://\(printed)"), screenshot.path,
                                    "#liked-quality", "#intent-yes", "button[type=submit]"],
                                   environment: ["PATH": "/usr/bin:/bin", "HOME": fixture.scratch.url.path])
            let code = await driver.wait(timeout: 240)
            #expect(code == 0, "chromium driver: \(driver.stderr)")
            #expect(driver.stdout.contains("تم تسجيل إجابتك"), "the thank-you page in Arabic")
        }
        #expect(serve.process.terminationStatus == 0, "serve stops on SIGTERM")
        try #require(address != nil, "serve printed no address: \(serve.stderr)")
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 5_000, "the Arabic page's screenshot is kept in .build/artifacts")
        let survey = try #require(try ws.store.orderDetail(id: "O1").survey)
        #expect(survey.score == 8 && survey.liked == [.quality] && survey.intent == .yes)
    }

    @Test("serve under load while run plans and sends: no answer lost, no \"database is locked\"")
    func concurrency() async throws {
        let fixture = try WebFixture()
        let ws = try fixture.workspace(now: t("2026-11-10T10:00:00Z"))
        let customers = 24
        _ = try ws.store.addProduct(sku: "PUMP", ProductChanges(name: "Pump", cycleDays: 30), now: ws.now)
        for i in 1...customers {
            _ = try ws.store.addCustomer(id: "C\(i)", CustomerChanges(name: "Buyer \(i)", email: "b\(i)@example.com", locale: "en",
                                                                      timeZone: "UTC", country: "GB", consent: true), now: ws.now)
            _ = try ws.store.addOrder(id: "O\(i)", customerID: "C\(i)", lines: [OrderLine(sku: "PUMP", quantity: 1)], currency: "USD",
                                      at: t("2026-10-01T10:00:00Z"), now: ws.now)
            _ = try ws.store.completeOrder(id: "O\(i)", at: t("2026-11-09T10:00:00Z"), now: ws.now)
        }
        _ = try ws.plan()
        let keys = try LinkKeys(secrets: [WebFixture.secret])
        let expires = fixture.now.addingTimeInterval(86_400)
        var runEnvironment = fixture.environment
        runEnvironment["AFTERSALES_DB"] = fixture.databasePath
        runEnvironment["AFTERSALES_TRANSPORT_DIR"] = fixture.scratch.url.appendingPathComponent("sent").path
        let environment = runEnvironment
        let served = try fixture.workspace()
        try await withServer(served, clock: { fixture.now }) { server in
            // `run` plans and sends (file transport) in a loop while the buyers answer.
            let runs = Task { () -> [(Int32, String)] in
                var results: [(Int32, String)] = []
                for day in 0..<4 {
                    var env = environment
                    env["AFTERSALES_NOW"] = "2026-11-2\(3 + day)T10:00:00Z"
                    let run = try Child(CLI.binary, ["run"], environment: env, directory: fixture.scratch.url)
                    results.append((await run.wait(), run.stderr + run.stdout))
                }
                return results
            }
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for i in 1...customers {
                    group.addTask {
                        let survey = keys.sign(LinkToken(purpose: .survey, mailKey: "survey/O\(i)/1", customerID: "C\(i)", expires: expires))
                        let unsubscribe = keys.sign(LinkToken(purpose: .unsubscribe, mailKey: "survey/O\(i)/1", customerID: "C\(i)", expires: expires))
                        var codes: [Int] = []
                        codes.append(try await request("POST", server.base + "/s/" + survey, body: "score=\(i % 11)&intent=yes").status)
                        codes.append(try await request("POST", server.base + "/u/" + unsubscribe, body: "List-Unsubscribe=One-Click").status)
                        codes.append(try await request("POST", server.base + "/s/" + survey, body: "score=\((i + 5) % 11)&liked[]=quality").status)
                        return codes
                    }
                }
                var all: [Int] = []
                for try await codes in group { all += codes }
                return all
            }
            let results = try await runs.value
            #expect(statuses.count == customers * 3 && statuses.allSatisfy { $0 == 200 }, "\(statuses.filter { $0 != 200 })")
            for (code, output) in results {
                #expect([0, 75].contains(code), "run: \(output)")
                #expect(!output.contains("locked") && !output.contains("busy"), "run: \(output)")
            }
        }
        for i in 1...customers {
            let survey = try ws.store.orderDetail(id: "O\(i)").survey
            #expect(survey?.score == (i + 5) % 11 && survey?.liked == [.quality], "the last answer of O\(i) is kept")
            #expect(try ws.store.customer(id: "C\(i)").unsubscribedAt != nil)
        }
        #expect(try fixture.surveyCount(ws) == customers)
    }
}
