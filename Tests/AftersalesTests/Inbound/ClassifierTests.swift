@testable import AftersalesKit
import Foundation
import Testing

/// The inbound corpus (Tests/inbound), written from RFC 3464, RFC 5965, RFC 3834 and the public
/// descriptions of each MTA's bounce.
enum Corpus {
    static let directory = CLI.packageRoot.appendingPathComponent("Tests/inbound")

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
    }

    static func bytes(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) ?? Data())
    }

    static let classifier = InboundClassifier(domain: "example.com")

    static func classify(_ name: String) -> InboundClassification { classifier.classify(bytes(name)) }
}

@Suite("Inbound classifier")
struct ClassifierTests {
    @Test("the corpus is there: every MTA's bounce, ARF, auto-replies, replies and complaints in 8 locales, bad input")
    func corpusPresent() {
        let names = Corpus.names
        for prefix in ["bounce-postfix", "bounce-exim", "bounce-sendmail", "bounce-exchange", "bounce-gmail", "bounce-yahoo", "arf-", "auto-", "reply-",
                       "complaint-en", "complaint-es", "complaint-fr", "complaint-pt", "complaint-de", "complaint-ru", "complaint-ar", "complaint-zh",
                       "bad-broken-mime", "bad-unknown-charset", "bad-dsn-unknown-address", "bad-reply-unknown-id"] {
            #expect(names.contains { $0.hasPrefix(prefix) }, "missing \(prefix)")
        }
    }

    @Test("every bounce shape is read per recipient: address, action, status, diagnostic, and the bounced mail's key",
          arguments: ["bounce-postfix.eml", "bounce-exim.eml", "bounce-exim-old.eml", "bounce-qmail.eml", "bounce-yahoo.eml", "bounce-sendmail.eml",
                      "bounce-exchange.eml", "bounce-gmail.eml"])
    func bounces(name: String) {
        let c = Corpus.classify(name)
        #expect(c.kind == .bounce, "\(name): \(c.kind) \(c.note ?? "")")
        #expect(c.recipients.map(\.address) == ["lucia@ferrenorte.mx"], "\(name)")
        #expect(c.recipients.first?.isPermanent == true, "\(name): \(c.recipients)")
        #expect(c.recipients.first?.action == "failed")
        #expect(c.ourKeys.first == "tracking/SH-1/1", "\(name): \(c.references)")
        #expect(c.recipients.first?.diagnostic?.isEmpty == false, "\(name)")
    }

    @Test("status codes: Postfix 5.1.1 with its diagnostic, Exchange 5.1.10, old Exim 5.2.1 from the text, qmail from (#5.1.1), Yahoo's 554 as 5.0.0")
    func statusCodes() {
        #expect(Corpus.classify("bounce-postfix.eml").recipients.first?.status == "5.1.1")
        #expect(Corpus.classify("bounce-postfix.eml").recipients.first?.diagnostic?.hasPrefix("550 5.1.1 <lucia@ferrenorte.mx>: Recipient address rejected") == true)
        #expect(Corpus.classify("bounce-exchange.eml").recipients.first?.status == "5.1.10")
        #expect(Corpus.classify("bounce-exim-old.eml").recipients.first?.status == "5.2.1")
        #expect(Corpus.classify("bounce-qmail.eml").recipients.first?.status == "5.1.1")
        #expect(Corpus.classify("bounce-yahoo.eml").recipients.first?.status == "5.0.0")
        let soft = Corpus.classify("bounce-soft-postfix.eml")
        #expect(soft.kind == .bounce && soft.recipients.first?.status == "4.4.1" && soft.recipients.first?.action == "delayed")
        #expect(soft.recipients.first?.isTransient == true)
    }

    @Test("ARF reports: feedback type, the complaining address, the reported mail (full or headers only)")
    func spamReports() {
        let full = Corpus.classify("arf-abuse.eml")
        #expect(full.kind == .spamReport)
        #expect(full.spamReport?.feedbackType == "abuse")
        #expect(full.spamReport?.originalRecipient == "lucia@ferrenorte.mx")
        #expect(full.ourKeys == ["tracking/SH-1/1"])
        #expect(full.spamReport?.report.contains("Source-IP: 198.51.100.7") == true)
        let headers = Corpus.classify("arf-headers-only.eml")
        #expect(headers.kind == .spamReport && headers.ourKeys == ["repurchase-alert/C1/P1/O1"])
    }

    @Test("auto-replies: Auto-Submitted, X-Autoreply, Precedence, Exchange, and out-of-office subjects in 8 languages are ignored",
          arguments: Corpus.names.filter { $0.hasPrefix("auto-") })
    func autoReplies(name: String) {
        let c = Corpus.classify(name)
        #expect(c.kind == .autoReply, "\(name): \(c.kind) subject \(c.subject)")
        #expect(c.complaintKeyword == nil)
        #expect(c.autoReplyReason != nil)
    }

    @Test("replies: quoted text (>, attribution, Outlook's original message, HTML blockquote/gmail_quote) and signatures are not the new text")
    func replies() {
        let text = Corpus.classify("reply-text-quote.eml")
        #expect(text.kind == .reply)
        #expect(text.newText == "Thank you, we will be waiting at the port.\n\nBest regards,")
        #expect(text.complaintKeyword == nil, "the quoted mail says broken/complaint; the buyer did not")
        #expect(text.ourKeys == ["tracking/SH-1/1"] && text.threadOrders == ["O1"])
        #expect(text.from == "lucia@ferrenorte.mx")
        let html = Corpus.classify("reply-html-gmail.eml")
        #expect(html.kind == .reply && html.newText == "Gracias, todo claro.")
        #expect(html.complaintKeyword == nil)
        let outlook = Corpus.classify("reply-outlook-quote.eml")
        #expect(outlook.newText == "Noted, thanks. We will sign the delivery note.")
        #expect(outlook.complaintKeyword == nil)
        let plain = Corpus.classify("reply-subject-order.eml")
        #expect(plain.kind == .reply && plain.ourKeys.isEmpty && plain.subject == "Question about order O1")
    }

    @Test("a complaint word in the new text, in each locale and charset", arguments: [
        ("complaint-en.eml", "broken"), ("complaint-es.eml", "queja"), ("complaint-fr.eml", "plainte"), ("complaint-pt.eml", "reclamação"),
        ("complaint-de.eml", "beschwerde"), ("complaint-ru.eml", "жалоба"), ("complaint-ar.eml", "شكوى"), ("complaint-zh.eml", "投诉"),
    ])
    func complaints(name: String, keyword: String) {
        let c = Corpus.classify(name)
        #expect(c.kind == .reply)
        #expect(c.complaintKeyword == keyword, "\(name): \(c.newText)")
        #expect(!c.newText.contains("Your order O1 has shipped"), "the quote is not the buyer's text")
        #expect(c.problems.isEmpty, "\(c.problems)")
    }

    @Test("bad input: broken MIME and an unknown charset are read and reported; odd bounces are left for ops, never guessed")
    func badInput() {
        let broken = Corpus.classify("bad-broken-mime.eml")
        #expect(broken.kind == .reply && !broken.problems.isEmpty)
        #expect(broken.problems.contains { $0.contains("not closed") })
        let charset = Corpus.classify("bad-unknown-charset.eml")
        #expect(charset.newText == "Todo bien, gracias.")
        #expect(charset.problems.contains { $0.contains("x-unknown-42") })
        let odd = Corpus.classify("bad-bounce-unrecognised.eml")
        #expect(odd.kind == .unrecognised && odd.recipients.isEmpty && odd.note != nil)
        let junk = Corpus.classify("bad-no-header.eml")
        #expect(junk.problems.contains("no header fields"))
        let unknown = Corpus.classify("bad-reply-unknown-id.eml")
        #expect(unknown.kind == .reply && unknown.ourKeys.isEmpty && unknown.threadOrders.isEmpty)
        #expect(unknown.complaintKeyword == "complaint")
    }

    @Test("encoded words, parameters and message ids")
    func pieces() {
        #expect(MIMEText.decodeWords("=?utf-8?B?6Ieq5Yqo5Zue5aSN?= =?utf-8?Q?_x?=") == "自动回复 x")
        #expect(MIMEText.decodeWords("=?iso-8859-1?q?R=E9ponse?= automatique") == "Réponse automatique")
        #expect(MIMEText.address("\"Wang, Lei\" <Compras@Ferrenorte.MX>") == "compras@ferrenorte.mx")
        #expect(MIMEText.messageIDs("<a@b> <c/d/1@example.com>") == ["a@b", "c/d/1@example.com"])
        #expect(Corpus.classifier.ours("customs-held/SH=2D1/1@example.com").map { if case .key(let k) = $0 { k } else { "" } } == "customs-held/SH-1/1")
        #expect(ReceivedPart.contentType("multipart/report; report-type=\"delivery-status\"; boundary=\"a;b\"").1["boundary"] == "a;b")
        #expect(Configuration.Bounce().effect(of: "5.1.1") == .hard)
        var policy = Configuration.Bounce()
        policy.policy = ["5.7=soft", "5.7.1=ignore", "4.2.2=hard"]
        #expect(policy.effect(of: "5.7.1") == .ignore && policy.effect(of: "5.7.26") == .soft && policy.effect(of: "4.2.2") == .hard)
        #expect(policy.effect(of: "4.4.1") == .soft)
    }
}
