import AftersalesDomain
@testable import AftersalesKit
import Foundation
import Testing

/// HEAD on a link page: the GET's status and headers, no body, nothing written.
@Suite("serve: HEAD requests", .serialized)
struct HeadRequestTests {
    @Test("HEAD answers like GET without a body and writes nothing")
    func head() async throws {
        let fixture = try WebFixture()
        try fixture.seed()
        let ws = try fixture.workspace()
        try await withServer(ws, clock: { fixture.now }) { server in
            let surveyKey = try fixture.key(ws, template: "survey")
            let score = try #require(try fixture.links(ws, key: surveyKey, action: "survey-score").dropFirst(7).first)
            let marketingKey = try #require(try ws.store.outbox(customerID: "C1").first { $0.mail.stream == .marketing }?.mail.key)
            let unsubscribe = try #require(try fixture.links(ws, key: marketingKey, action: "unsubscribe").first)
            let before = try fixture.eventCount(ws)
            for link in [score, unsubscribe] {
                let get = try await request("GET", server.local(link))
                let head = try await request("HEAD", server.local(link))
                #expect(get.status == 200 && head.status == 200, "\(link)")
                #expect(head.body.isEmpty && !get.body.isEmpty)
                for name in ["Content-Type", "Content-Length", "Content-Security-Policy", "Referrer-Policy", "X-Frame-Options", "Cache-Control"] {
                    #expect(head.header(name) != nil && head.header(name) == get.header(name), "\(name): \(head.header(name) ?? "none")")
                }
                #expect(head.header("Content-Length") == String(get.body.utf8.count))
            }
            #expect(try ws.store.customer(id: "C1").unsubscribedAt == nil, "a HEAD unsubscribes no one")
            #expect(try fixture.eventCount(ws) == before, "a HEAD writes nothing")

            // A refused token: the same 404 as a GET, without the page.
            let token = String(score.split(separator: "/").last!.split(separator: "?")[0])
            let refused = try await request("HEAD", server.base + "/s/" + token.dropLast(3))
            #expect(refused.status == 404 && refused.body.isEmpty && refused.header("X-Frame-Options") == "DENY")
            let health = try await request("HEAD", server.base + "/healthz")
            #expect(health.status == 200 && health.body.isEmpty && health.header("Content-Length") == "3")
            let wrong = try await request("PUT", server.local(score), body: "")
            #expect(wrong.status == 405 && wrong.header("Allow") == "GET, HEAD, POST")
        }
    }
}
