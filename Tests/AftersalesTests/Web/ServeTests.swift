import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

/// `aftersales serve` on a free loopback port, driven over HTTP with the links of the rendered mail.
@Suite("serve: the buyer's answers over HTTP", .serialized)
struct ServeTests {
    @Test("the links in mail record the answers through the recording path; pages are safe and in the buyer's language")
    func answers() async throws {
        let fixture = try WebFixture()
        try fixture.seed()
        let ws = try fixture.workspace()
        try await withServer(ws, clock: { fixture.now }) { server in try await run(fixture, ws, server) }
    }

    func run(_ fixture: WebFixture, _ ws: Workspace, _ server: RunningServer) async throws {
        let health = try await request("GET", server.base + "/healthz")
        #expect(health.status == 200 && health.body == "ok\n")

        // Survey: eleven score links, each `<a>` with its score as text.
        let surveyKey = try fixture.key(ws, template: "survey")
        let scores = try fixture.links(ws, key: surveyKey, action: "survey-score")
        #expect(scores.count == 11 && scores.allSatisfy { $0.hasPrefix(WebFixture.base + "/s/") })
        let page = try await request("GET", server.local(scores[9]))
        #expect(page.status == 200)
        #expect(page.body.contains("<html lang=\"ar\" dir=\"rtl\">"))
        #expect(page.body.contains("value=\"9\" checked"))
        #expect(page.body.contains("<label for=\"liked-quality\">") || page.body.contains("for=\"liked-quality\""))
        #expect(!page.body.contains("<script") && !page.body.contains("http://") && !page.body.contains("https://"), "no script, no external asset")
        let csp = try #require(page.header("Content-Security-Policy"))
        #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && csp.contains("style-src 'sha256-"))
        #expect(page.header("Referrer-Policy") == "no-referrer" && page.header("X-Frame-Options") == "DENY")
        #expect(try ws.store.orderDetail(id: "O1").survey == nil, "a GET records nothing")

        let action = server.local(String(scores[9].split(separator: "?")[0]))
        let posted = try await request("POST", action, body: "score=9&liked[]=quality&liked[]=support&intent=yes&reason=fast%20reply")
        #expect(posted.status == 200)
        let survey = try #require(try ws.store.orderDetail(id: "O1").survey)
        #expect(survey.score == 9 && survey.liked == [.support, .quality] && survey.intent == .yes && survey.reason == "fast reply")
        #expect(survey.answeredAt == fixture.now, "--now is the time of the recorded answer")
        _ = try ws.plan()
        #expect(try ws.store.outbox(customerID: "C1").first { $0.mail.rule == "survey-passive" }?.status == .held)

        // Answering again updates the answer; the planner moves the buyer to the new segment.
        #expect(try await request("POST", action, body: "score=3&intent=no").status == 200)
        #expect(try ws.store.orderDetail(id: "O1").survey?.score == 3)
        #expect(try fixture.surveyCount(ws) == 1)
        let same = try fixture.eventCount(ws)
        #expect(try await request("POST", action, body: "score=3&intent=no").status == 200)
        #expect(try fixture.eventCount(ws) == same, "the same answer again writes nothing")
        _ = try ws.plan()
        let outbox = try ws.store.outbox(customerID: "C1")
        #expect(outbox.contains { $0.mail.rule == "survey-detractor" })
        #expect(outbox.first { $0.mail.rule == "survey-passive" }.map { $0.status == .cancelled && $0.reason?.contains("survey answer changed to 3") == true } ?? false)

        // Complaint rating: five links; below 4 plans the improvement commitment for approval.
        let ratingKey = try fixture.key(ws, template: "satisfaction-check")
        let ratings = try fixture.links(ws, key: ratingKey, action: "rating")
        #expect(ratings.count == 5)
        #expect(try await request("GET", server.local(ratings[2])).body.contains("value=\"3\" checked"))
        #expect(try await request("POST", server.local(String(ratings[2].split(separator: "?")[0])), body: "score=3").status == 200)
        #expect(try ws.store.complaint(id: "K1").rating == 3)
        let again = try await request("POST", server.local(String(ratings[2].split(separator: "?")[0])), body: "score=5")
        #expect(again.status == 200)
        #expect(try ws.store.complaint(id: "K1").rating == 3, "a second rating changes nothing")
        _ = try ws.plan()
        #expect(try ws.store.outbox(customerID: "C1").first { $0.mail.rule == "improvement-commitment" }?.status == .held)

        // Receipt: the customs-held mail's link records a delivery confirmed by the buyer.
        let receiptKey = try fixture.key(ws, template: "customs-held")
        let receipt = try #require(try fixture.links(ws, key: receiptKey, action: "confirm-receipt").first)
        #expect(try await request("GET", server.local(receipt)).status == 200)
        #expect(try await request("POST", server.local(receipt), body: "").status == 200)
        let delivered = try #require(try ws.store.shipment(id: "S1").events.last)
        #expect(delivered.kind == .delivered && delivered.note == "confirmed by the buyer")
        #expect(try await request("POST", server.local(receipt), body: "").status == 200, "idempotent")
        _ = try ws.plan()
        #expect(try ws.store.outbox(customerID: "C1").filter { $0.mail.rule == "transit-update" && $0.status.isPending }.isEmpty)

        // Preferences: in every footer; consent given there is recorded with its time.
        let preferences = try #require(try fixture.links(ws, key: receiptKey, action: "preferences").first)
        #expect(try await request("GET", server.local(preferences)).body.contains("<option value=\"ar\" selected>"))
        #expect(try await request("POST", server.local(preferences), body: "locale=de").status == 200)
        #expect(try ws.store.customer(id: "C1").consent == false, "an unticked box turns marketing off")
        #expect(try await request("POST", server.local(preferences), body: "locale=de&marketing=on").status == 200)
        let customer = try ws.store.customer(id: "C1")
        #expect(customer.locale.value == "de" && customer.consent && customer.consentAt == fixture.now, "consent with its time")
        #expect(try ws.store.events(after: 0, limit: 10_000).last { $0.kind == .customerUpdated }?.payload.contains("preferences page") == true)

        // One-click unsubscribe (RFC 8058): the header, a GET that only shows a button, a POST that unsubscribes.
        let marketingKey = try #require(try ws.store.outbox(customerID: "C1").first { $0.mail.stream == .marketing }?.mail.key)
        let message = String(decoding: try ws.render(key: marketingKey).bytes, as: UTF8.self)
        #expect(message.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
        let header = try #require(message.range(of: "List-Unsubscribe:\r\n <").map { message[$0.upperBound...] })
        let https = String(header.prefix { $0 != ">" })
        #expect(https.hasPrefix(WebFixture.base + "/u/"))
        #expect(header.prefix(400).contains("<mailto:unsubscribe@"))
        #expect(try fixture.links(ws, key: marketingKey, action: "unsubscribe") == [https])
        let button = try await request("GET", server.local(https))
        #expect(button.status == 200 && button.body.contains("method=\"post\""))
        #expect(try ws.store.customer(id: "C1").unsubscribedAt == nil, "a GET (a link scanner) unsubscribes no one")
        let oneClick = try await request("POST", server.local(https), body: "List-Unsubscribe=One-Click")
        #expect(oneClick.status == 200)
        #expect(try ws.store.customer(id: "C1").unsubscribedAt == fixture.now)
        let events = try fixture.eventCount(ws)
        #expect(try await request("POST", server.local(https), body: "List-Unsubscribe=One-Click").status == 200)
        #expect(try fixture.eventCount(ws) == events, "idempotent")

        // The access log has a line for every request and never a token.
        let log = server.log.lines
        #expect(log.count >= 15 && log.contains { $0.hasPrefix("POST /u/- 200") })
        let tokens = (scores + ratings + [receipt, preferences, https]).map { String($0.split(separator: "/").last!.split(separator: "?")[0]) }
        #expect(!log.contains { line in tokens.contains { line.contains($0) } })
    }

    @Test("bad input: each gets a clear page and writes nothing")
    func badInput() async throws {
        let fixture = try WebFixture()
        try fixture.seed()
        let ws = try fixture.workspace()
        try await withServer(ws, clock: { fixture.now }) { server in try await corpus(fixture, ws, server) }
    }

    func corpus(_ fixture: WebFixture, _ ws: Workspace, _ server: RunningServer) async throws {
        let surveyKey = try fixture.key(ws, template: "survey")
        let survey = try #require(try fixture.links(ws, key: surveyKey, action: "survey-score").first)
        let token = String(survey.split(separator: "/").last!.split(separator: "?")[0])
        let keys = try LinkKeys(secrets: [WebFixture.secret])
        let other = try LinkKeys(secrets: ["another-server-secret-0123456789"])
        let valid = LinkToken(purpose: .survey, mailKey: surveyKey, customerID: "C1", expires: fixture.now.addingTimeInterval(86_400))
        var changedKey = valid
        changedKey.mailKey = try fixture.key(ws, template: "customs-held")
        var otherCustomer = valid
        otherCustomer.customerID = "C2"
        var expired = valid
        expired.expires = fixture.now.addingTimeInterval(-1)
        let before = try fixture.eventCount(ws)
        let bigBody = "score=9&reason=" + String(repeating: "x", count: 40_000)
        let cases: [(String, String, String?, [Int])] = [
            ("cut short", "POST /s/" + token.prefix(token.count - 3), "score=9", [404]),
            ("cut to nothing", "POST /s/" + token.prefix(4), "score=9", [404]),
            ("re-signed with another key", "POST /s/" + other.sign(valid), "score=9", [404]),
            ("another purpose", "POST /r/" + token, "score=3", [404]),
            ("another mail's key", "POST /s/" + keys.sign(changedKey), "score=9", [404]),
            ("another customer", "POST /s/" + keys.sign(otherCustomer), "score=9", [404]),
            ("expired", "POST /s/" + keys.sign(expired), "score=9", [410]),
            ("score 11", "POST /s/" + token, "score=11", [400]),
            ("score -1", "POST /s/" + token, "score=-1", [400]),
            ("score abc", "POST /s/" + token, "score=abc", [400]),
            ("no score", "POST /s/" + token, "intent=yes", [400]),
            ("unknown aspect", "POST /s/" + token, "score=9&liked[]=price", [400]),
            ("duplicate fields", "POST /s/" + token, "score=9&score=3", [400]),
            ("score 11 in the link", "GET /s/" + token + "?score=11", nil, [400]),
            ("oversized body", "POST /s/" + token, bigBody, [413]),
            ("wrong method", "PUT /s/" + token, "score=9", [405]),
            ("wrong method", "DELETE /u/" + token, nil, [405]),
            ("wrong method on healthz", "POST /healthz", "", [405]),
            ("unknown path", "GET /admin", nil, [404]),
        ]
        for (name, line, body, statuses) in cases {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            let reply = try await request(parts[0], server.base + parts[1], body: body)
            #expect(statuses.contains(reply.status), "\(name): \(reply.status)")
            #expect(reply.header("X-Frame-Options") == "DENY", "\(name): security headers")
            if [404, 410].contains(reply.status), parts[1] != "/admin" {
                #expect(reply.body.contains("هذا الرابط لم يعد صالحًا") || reply.body.contains("This link is no longer valid"), "\(name)")
            }
            if reply.status == 400 { #expect(reply.body.contains("score") || reply.body.contains("liked") || reply.body.contains("form"), "\(name): names the field") }
        }
        #expect(try fixture.eventCount(ws) == before, "nothing was written")
        #expect(try ws.store.orderDetail(id: "O1").survey == nil)
    }
}
