import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

/// A mailbox in memory: what the fetch logic does with a server's answers, without a server.
final class FakeMailbox: MailboxSession, @unchecked Sendable {
    var uidValidity: Int64 = 7
    var messages: [(uid: Int64, bytes: Data, receivedAt: Date?)] = []
    var processed: [Int64: String] = [:]
    var fetchedUIDs: [Int64] = []
    var listed = 0
    var unreachable = false

    func add(_ bytes: [UInt8], at: Date? = t("2026-11-24T09:05:00Z")) {
        messages.append(((messages.last?.uid ?? 0) + 1, Data(bytes), at))
    }

    func status() throws(MailboxError) -> MailboxStatus {
        if unreachable { throw .connection("cannot reach the IMAP server imap://127.0.0.1:1: Couldn't connect to server") }
        return MailboxStatus(mailbox: "INBOX", uidValidity: uidValidity, uidNext: (messages.last?.uid ?? 0) + 1)
    }

    func messages(after uid: Int64) throws(MailboxError) -> [MailboxMessage] {
        listed += 1
        return messages.filter { $0.uid > uid && processed[$0.uid] == nil }.map { MailboxMessage(uid: $0.uid, size: $0.bytes.count, receivedAt: $0.receivedAt) }
    }

    func fetch(uid: Int64, maxBytes: Int) throws(MailboxError) -> Data {
        fetchedUIDs.append(uid)
        return messages.first { $0.uid == uid }!.bytes
    }

    func markProcessed(uid: Int64, folder: String) throws(MailboxError) -> String {
        processed[uid] = folder
        return "moved to \(folder)"
    }

    func close() {}
}

/// A company with one order whose tracking mail `tracking/SH-1/1` went out (file transport).
struct InboundWorld {
    let scratch: ScratchDirectory
    var environment: [String: String] = [:]
    var path: String { scratch.url.appendingPathComponent("inbound.db").path }

    init() throws {
        scratch = try ScratchDirectory("aftersales-inbound")
        let ws = try open("2026-11-23T09:00:00Z")
        let now = ws.now
        _ = try ws.store.addCustomer(id: "C1", CustomerChanges(name: "Lucía Hernández", email: "lucia@ferrenorte.mx", cc: ["compras@ferrenorte.mx"],
                                                               locale: "es-MX", timeZone: "America/Mexico_City", country: "MX", consent: true), now: now)
        _ = try ws.store.addProduct(sku: "P1", ProductChanges(name: "Pump", technical: true, cycleDays: 180), now: now)
        _ = try ws.store.addOrder(id: "O1", customerID: "C1", lines: [OrderLine(sku: "P1", quantity: 2)], currency: "USD",
                                  at: t("2026-11-01T15:00:00Z"), now: now)
        _ = try ws.store.dispatch(Shipment(id: "SH-1", orderID: "O1", carrier: "Maersk", trackingNumber: "M1",
                                           dispatchedAt: t("2026-11-23T08:00:00Z"), eta: t("2026-12-20T00:00:00Z")), now: now)
        let sent = try open("2026-11-23T10:00:00Z").run(transport: FileTransport(directory: scratch.url.appendingPathComponent("sent").path))
        precondition(sent.sent > 0, "the tracking mail was not sent")
    }

    func open(_ now: String) throws -> Workspace {
        try Workspace.open(Settings(databasePath: path, configPath: nil, now: t(now), environment: environment, templatesPath: templatesDirectory), access: .readWrite)
    }

    /// A corpus message with its Message-ID replaced (a distinct copy).
    static func variant(_ name: String, id: String) -> [UInt8] {
        let text = String(decoding: Corpus.bytes(name), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.lowercased().hasPrefix("message-id:") ? "Message-ID: <\(id)>" : String(line)
        }
        // Only the first (the message's own) Message-ID: later ones are the original's.
        var replaced = false
        let out = zip(text.split(separator: "\n", omittingEmptySubsequences: false), lines).map { original, new -> String in
            if !replaced, new != String(original) { replaced = true; return new }
            return String(original)
        }
        return Array(out.joined(separator: "\n").utf8)
    }
}

@Suite("Fetch: effects, watermark, exit codes", .serialized)
struct FetchEffectTests {
    @Test("a hard bounce suppresses the address and marks the mail bounced with code and diagnostic; the message moves to the processed folder")
    func hardBounce() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        mailbox.add(Corpus.bytes("bounce-postfix.eml"))
        let ws = try world.open("2026-11-24T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        #expect(summary.fetched == 1 && summary.bounces == 1 && summary.exitStatus == 0)
        #expect(try ws.store.suppressions()["lucia@ferrenorte.mx"]?.contains("5.1.1") == true)
        let entry = try ws.store.outboxEntry(key: "tracking/SH-1/1")
        #expect(entry.status == .bounced)
        #expect(entry.reason?.contains("550 5.1.1") == true)
        let history = try ws.store.outboxHistory(key: "tracking/SH-1/1")
        #expect(history.last?.from == .sent && history.last?.to == .bounced && history.last?.reason?.contains("5.1.1") == true)
        #expect(mailbox.processed[1] == "aftersales/processed")
        #expect(try ws.store.outboxCount(status: .bounced) == 1)
    }

    @Test("every corpus bounce shape finds the mail and suppresses", arguments: ["bounce-exim.eml", "bounce-exim-old.eml", "bounce-qmail.eml",
                                                                               "bounce-yahoo.eml", "bounce-sendmail.eml", "bounce-exchange.eml", "bounce-gmail.eml"])
    func everyBounce(name: String) throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        mailbox.add(Corpus.bytes(name))
        let ws = try world.open("2026-11-24T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        #expect(summary.bounces == 1, "\(name): \(summary.messages)")
        #expect(try ws.store.outboxEntry(key: "tracking/SH-1/1").status == .bounced)
    }

    @Test("soft bounces are counted: the third within 14 days suppresses; the mail stays sent")
    func softBounces() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        for i in 1...3 { mailbox.add(InboundWorld.variant("bounce-soft-postfix.eml", id: "soft-\(i)@mail.example.com"), at: t("2026-11-2\(3 + i)T09:00:00Z")) }
        let ws = try world.open("2026-11-27T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        #expect(summary.bounces == 3)
        #expect(summary.messages[1].effects.contains { $0.hasPrefix("soft bounce 2 of 3") })
        #expect(try ws.store.suppressions()["lucia@ferrenorte.mx"]?.contains("3 soft bounces") == true)
        #expect(try ws.store.outboxEntry(key: "tracking/SH-1/1").status == .sent)
    }

    @Test("a spam report unsubscribes the customer from marketing with the report as the reason (the customer unsubscribe fact)")
    func spamReport() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        mailbox.add(Corpus.bytes("arf-abuse.eml"))
        let ws = try world.open("2026-11-26T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        #expect(summary.spamReports == 1)
        #expect(try ws.store.customer(id: "C1").unsubscribedAt == t("2026-11-24T09:05:00Z"))
        let payload = try ws.store.writer.read { db in
            try String.fetchOne(db, sql: "SELECT payload FROM events WHERE kind = 'customer.unsubscribed'")
        }
        #expect(payload?.contains("Feedback-Type: abuse") == true)
    }

    @Test("a reply with a complaint word opens a complaint (other, the buyer's words, 1 h from the mail's arrival); the supervisor's mail is planned")
    func complaintByMail() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        mailbox.add(Corpus.bytes("complaint-es.eml"), at: t("2026-11-24T09:05:00Z"))
        let ws = try world.open("2026-11-24T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        #expect(summary.replies == 1 && summary.complaintsOpened == 1)
        let id = try #require(summary.messages.first?.complaintID)
        let complaint = try ws.store.complaint(id: id)
        #expect(complaint.category == .other && complaint.orderID == "O1")
        #expect(complaint.text == "Quiero presentar una queja: dos bombas llegaron dañadas.")
        #expect(complaint.openedAt == t("2026-11-24T09:05:00Z"))
        _ = try ws.plan()
        let mails = try ws.store.outbox(orderID: "O1")
        let ack = try #require(mails.first { $0.key.hasPrefix("complaint-ack/\(id)") })
        #expect(ack.deadline == t("2026-11-24T10:05:00Z"))
        #expect(mails.contains { $0.key.hasPrefix("complaint-escalation/\(id)") && $0.audience == .supervisor })
        let thread = try ws.orderThread(orderID: "O1")
        #expect(thread.map(\.direction).contains("received") && thread.map(\.direction).contains("sent"))
        #expect(thread.allSatisfy { $0.sha256.count == 64 })
    }

    @Test("auto-replies are ignored; a reply without a complaint word joins the thread only; a reply matched by sender and order id in the subject")
    func repliesAndAutoReplies() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        mailbox.add(Corpus.bytes("auto-es-subject.eml"))
        mailbox.add(Corpus.bytes("reply-text-quote.eml"))
        mailbox.add(Corpus.bytes("reply-subject-order.eml"))
        let ws = try world.open("2026-11-24T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        #expect(summary.autoReplies == 1 && summary.replies == 2 && summary.complaintsOpened == 0 && summary.unmatched == 0)
        #expect(summary.messages[2].orderID == "O1")
        #expect(try ws.store.complaints().isEmpty)
        let received = try ws.orderThread(orderID: "O1").filter { $0.direction == "received" }
        #expect(received.count == 3, "\(received.map(\.reference)) \(summary.messages.map { ($0.orderID, $0.messageID) })")
    }

    @Test("bad input: a DSN for an address never mailed, a reply to an unknown Message-ID, broken MIME, an unrecognised bounce stay for ops, stored")
    func leftForOps() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        for name in ["bad-dsn-unknown-address.eml", "bad-reply-unknown-id.eml", "bad-bounce-unrecognised.eml", "bad-no-header.eml", "bad-unknown-charset.eml"] {
            mailbox.add(Corpus.bytes(name))
        }
        let ws = try world.open("2026-11-24T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        #expect(summary.exitStatus == 0)
        #expect(summary.unmatched == 4, "\(summary.messages.map { ($0.uid, $0.disposition, $0.note ?? "") })")
        #expect(summary.replies == 1, "the unknown charset reply still answers our mail")
        #expect(mailbox.processed.keys.sorted() == [5], "unmatched mail stays in the mailbox")
        #expect(try ws.store.suppressions().isEmpty)
        #expect(try ws.store.complaints().isEmpty, "a complaint word in an unmatched reply opens nothing")
        #expect(try ws.store.inboundForOps().count == 4)
        #expect(TextReport.fetch(summary).contains("left for ops: UID 1 bounce"))
    }

    @Test("a second fetch reads only what is new (UID watermark), a copy with a known Message-ID is not processed twice")
    func watermarkAndDuplicates() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        mailbox.add(Corpus.bytes("complaint-en.eml"))
        let ws = try world.open("2026-11-24T10:00:00Z")
        #expect(try ws.fetch(session: mailbox).complaintsOpened == 1)
        let again = try ws.fetch(session: mailbox)
        #expect(again.fetched == 0 && mailbox.listed == 1, "nothing new: STATUS only")
        mailbox.add(Corpus.bytes("complaint-en.eml"))
        let copy = try ws.fetch(session: mailbox)
        #expect(copy.duplicates == 1 && copy.complaintsOpened == 0)
        #expect(try ws.store.complaints().count == 1)
        #expect(mailbox.fetchedUIDs == [1, 2])
        // A new UIDVALIDITY is a new mailbox: read again from the start, but the Message-IDs are known.
        mailbox.uidValidity = 8
        mailbox.processed = [:]
        let reset = try ws.fetch(session: mailbox)
        #expect(reset.fetched == 2 && reset.duplicates == 2 && reset.complaintsOpened == 0)
    }

    @Test("an unreachable server: exit status 1, nothing marked processed, the watermark unchanged")
    func unreachable() throws {
        let world = try InboundWorld()
        let mailbox = FakeMailbox()
        mailbox.add(Corpus.bytes("complaint-en.eml"))
        mailbox.unreachable = true
        let ws = try world.open("2026-11-24T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        #expect(summary.exitStatus == 1 && summary.fetched == 0 && summary.failure?.contains("cannot reach") == true)
        #expect(try ws.store.imapWatermark(mailbox: "INBOX", uidValidity: 7) == 0)
        #expect(TextReport.fetch(summary).hasPrefix("fetch failed"))
    }

    @Test("a message over imap.max_bytes is not downloaded: listed for ops, left in the mailbox")
    func oversize() throws {
        var world = try InboundWorld()
        world.environment["AFTERSALES_IMAP_MAX_BYTES"] = "1000"
        let mailbox = FakeMailbox()
        mailbox.add(Array(repeating: UInt8(ascii: "a"), count: 5000))
        let ws = try world.open("2026-11-24T10:00:00Z")
        let summary = try ws.fetch(session: mailbox)
        #expect(summary.unmatched == 1 && mailbox.fetchedUIDs.isEmpty && mailbox.processed.isEmpty)
        #expect(summary.messages.first?.disposition == .refused)
    }
}

@Suite("imap.* and bounce.* configuration")
struct InboundConfigurationTests {
    @Test("the IMAP password comes from AFTERSALES_IMAP_PASSWORD or imap.password_file, never from the file or into the listing; bad values name the key")
    func password() throws {
        let scratch = try ScratchDirectory("aftersales-imap-config")
        let secret = scratch.url.appendingPathComponent("pw").path
        try "fromfile\nignored\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let config = try Configuration.load(path: nil, environment: ["AFTERSALES_IMAP_PASSWORD_FILE": secret])
        #expect(config.imapPassword == "fromfile")
        #expect(try Configuration.load(path: nil, environment: ["AFTERSALES_IMAP_PASSWORD_FILE": secret, "AFTERSALES_IMAP_PASSWORD": "env"]).imapPassword == "env")
        #expect(!config.entries.contains { $0.value.contains("fromfile") })
        var dumped = ""
        dump(config, to: &dumped)
        #expect(!dumped.contains("fromfile"))
        let file = scratch.url.appendingPathComponent("a.yml").path
        try "imap:\n  password: x\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: AftersalesError.configuration("config \"\(file)\": imap.password must not be in the file; set AFTERSALES_IMAP_PASSWORD or imap.password_file")) {
            try Configuration.load(path: file, environment: [:])
        }
        #expect(throws: AftersalesError.configuration("bounce.policy \"5.7.1=maybe\" (from AFTERSALES_BOUNCE_POLICY): expected entries like 5.7.1=soft (hard, soft or ignore)")) {
            try Configuration.load(path: nil, environment: ["AFTERSALES_BOUNCE_POLICY": "5.7.1=maybe"])
        }
        #expect(throws: AftersalesError.configuration("imap.url \"http://x\" (from AFTERSALES_IMAP_URL): expected imap://host:port/MAILBOX or imaps://host:port/MAILBOX")) {
            try Configuration.load(path: nil, environment: ["AFTERSALES_IMAP_URL": "http://x"])
        }
        #expect(Configuration.defaults.bounce.softLimit == 3 && Configuration.defaults.bounce.softDays == 14)
        #expect(Configuration.defaults.imap.processedFolder == "aftersales/processed")
    }
}
