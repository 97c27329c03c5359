import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

@Suite("Complaints by mail: source, joining the open complaint, Chinese charsets", .serialized)
struct ComplaintByMailTests {
    @Test("a complaint records its source: email from fetch, command from complaint open, import from an import; shown in text and JSON")
    func source() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        mailbox.add(Corpus.bytes("complaint-es.eml"))
        let ws = try world.open("2026-11-24T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        let id = try #require(summary.messages.first?.complaintID)
        let byMail = try ws.store.complaint(id: id)
        #expect(byMail.source == .email)
        let byCommand = try ws.store.openComplaint(id: "K-CMD", orderID: "O1", category: .damage, text: "Cracked", at: ws.now, now: ws.now)
        #expect(byCommand.source == .command)
        #expect(try ws.store.complaint(id: "K-CMD").source == .command)
        _ = try ws.store.upsertComplaint(id: "K-IMP", orderID: "O1", category: .quality, text: "Leaks", openedAt: ws.now, now: ws.now)
        #expect(try ws.store.complaint(id: "K-IMP").source == .import)
        #expect(TextReport.complaint(byMail).contains("source") && TextReport.complaint(byMail).contains("email"))
        let detail = TextReport.orderDetail(try ws.store.orderDetail(id: "O1"))
        #expect(detail.contains("email") && detail.contains("command") && detail.contains("import"), "\(detail)")
        let json = String(decoding: try JSONOutput.encoder().encode(byMail), as: UTF8.self)
        #expect(json.contains("\"source\" : \"email\""), "\(json)")
        // A payload encoded before sources existed decodes as a command's.
        let old = try JSONDecoder().decode(Complaint.self, from: Data(#"{"id":"K","orderID":"O1","category":"other","text":"t","openedAt":0}"#.utf8))
        #expect(old.source == .command)
    }

    @Test("v7-19-complaint-source: complaints stored before are email when fetch opened them, command otherwise")
    func migration() throws {
        var configuration = GRDB.Configuration()
        configuration.foreignKeysEnabled = false  // complaints without their orders: only the migration is under test
        let queue = try DatabaseQueue(configuration: configuration)
        try Schema.migrator.migrate(queue, upTo: "v6-19-inbound")
        try queue.write { db in
            for id in ["K-CMD", "K-MAIL-1"] {
                try db.execute(sql: "INSERT INTO complaints (id, orderID, category, text, openedAt) VALUES (?, 'O1', 'other', 'x', '2026-11-24 09:00:00.000')", arguments: [id])
            }
            try db.execute(sql: """
                INSERT INTO inbound_messages (mailbox, uidValidity, uid, receivedAt, fetchedAt, disposition, complaintID, effects, size)
                VALUES ('INBOX', 1, 1, '2026-11-24 09:00:00.000', '2026-11-24 09:00:00.000', 'processed', 'K-MAIL-1', '[]', 10)
                """)
        }
        try Schema.migrator.migrate(queue)
        let sources = try queue.read { db in try [String: String](uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, source FROM complaints").map { ($0["id"], $0["source"]) }) }
        #expect(sources == ["K-CMD": "command", "K-MAIL-1": "email"])
    }

    @Test("a second complaint-keyword reply joins the order's open complaint: in the thread, linked, no new complaint or acknowledgement; after it is resolved, a new one opens")
    func joinsOpenComplaint() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        mailbox.add(Corpus.bytes("complaint-es.eml"), at: t("2026-11-24T09:05:00Z"))
        let first = try world.open("2026-11-24T10:00:00Z").fetch(session: mailbox)
        let opened = try #require(first.messages.first?.complaintID)
        #expect(first.complaintsOpened == 1 && first.complaintReplies == 0)

        mailbox.add(InboundWorld.variant("complaint-en.eml", id: "second@ferrenorte.mx"), at: t("2026-11-24T11:00:00Z"))
        let ws = try world.open("2026-11-24T11:30:00Z")
        let second = try ws.fetch(session: mailbox)
        #expect(second.replies == 1 && second.complaintsOpened == 0 && second.complaintReplies == 1)
        let joined = try #require(second.messages.first)
        #expect(joined.complaintID == opened && joined.complaintJoined && joined.disposition == .processed)
        #expect(joined.effects.contains { $0.contains("joined open complaint \(opened)") }, "\(joined.effects)")
        #expect(TextReport.fetch(second).contains("replies to open complaints 1"))
        #expect(try ws.store.complaints().map(\.id) == [opened])
        let replied = try ws.store.events().filter { $0.kind == .complaintReplied }
        #expect(replied.map(\.subject) == [opened] && replied.first?.orderID == "O1" && replied.first?.customerID != nil,
                "the complaint's history shows the reply: \(replied)")
        #expect(replied.first?.payload.contains("\"keyword\"") == true && replied.first?.occurredAt == t("2026-11-24T11:00:00Z"))
        #expect(try ws.orderThread(orderID: "O1").filter { $0.direction == "received" }.count == 2)
        let linked = try ws.store.read { db in try String.fetchAll(db, sql: "SELECT complaintID FROM inbound_messages ORDER BY id") }
        #expect(linked == [opened, opened])
        _ = try ws.plan()
        #expect(try ws.store.outbox(orderID: "O1").filter { $0.key.hasPrefix("complaint-ack/") }.count == 1, "one acknowledgement")

        // Resolved: the next complaint word opens a complaint of its own.
        for (step, at) in [(AftersalesStore.ComplaintStep.acknowledge, "2026-11-24T11:40:00Z"), (.resolve("replacement pumps shipped"), "2026-11-24T12:00:00Z")] {
            _ = try world.open("2026-11-24T12:00:00Z").store.advanceComplaint(id: opened, step, at: t(at), now: t("2026-11-24T12:00:00Z"))
        }
        mailbox.add(InboundWorld.variant("complaint-de.eml", id: "third@ferrenorte.mx"), at: t("2026-11-25T08:00:00Z"))
        let later = try world.open("2026-11-25T09:00:00Z")
        let third = try later.fetch(session: mailbox)
        #expect(third.complaintsOpened == 1 && third.complaintReplies == 0)
        let newID = try #require(third.messages.first?.complaintID)
        #expect(newID != opened && !(third.messages.first?.complaintJoined ?? true))
        #expect(try later.store.complaint(id: newID).source == .email)
        #expect(try later.store.complaints().count == 2)
    }

    @Test("GBK, GB2312, GB18030 and Big5 replies are decoded through iconv (no problem reported) and their complaint word found",
          arguments: [("complaint-zh-gbk.eml", "投诉", "我要投诉：两台水泵到货时已损坏，外壳有裂纹。", "回复：订单 O1"),
                      ("complaint-zh-gb2312.eml", "投诉", "我要投诉：两台水泵到货时已损坏。", "回复：订单 O1"),
                      ("complaint-zh-gb18030.eml", "投诉", "我要投诉：水泵坏了 😞。Lucía Hernández，120 € 的运费也要退。", "回复：订单 O1"),
                      ("complaint-zh-big5.eml", "投訴", "我要投訴：兩台水泵到貨時已損壞。", "回覆：訂單 O1")])
    func chineseCharsets(name: String, keyword: String, text: String, subject: String) {
        let c = Corpus.classify(name)
        #expect(c.kind == .reply)
        #expect(c.problems.isEmpty, "\(name): \(c.problems)")
        #expect(c.newText == text, "\(name)")
        #expect(c.subject == subject, "\(name)")
        #expect(c.complaintKeyword == keyword, "\(name)")
        #expect(c.ourKeys.first == "tracking/SH-1/1")
    }

    @Test("an invalid GBK sequence is replaced and reported, the rest read; a charset iconv does not know stays a problem")
    func invalidSequences() {
        let decoded = MIMEText.decode([0xB0, 0xA1, 0xFF, 0x41, 0xB0], charset: "GBK")
        #expect(decoded.text == "啊\u{FFFD}A\u{FFFD}")
        #expect(decoded.problem?.contains("2 invalid gbk") == true, "\(decoded.problem ?? "")")
        #expect(MIMEText.decode(Array("plain".utf8), charset: "big5").problem == nil)
        #expect(MIMEText.decode(Array("plain".utf8), charset: "x-unknown-42").problem?.contains("unknown charset") == true)
    }
}
