import AftersalesDomain
import AftersalesPlanning
import Foundation

/// Makes MIME boundaries and Message-IDs. Injectable so that tests can compare whole messages.
public struct MessageGenerators: Sendable {
    /// The boundary of the `index`-th multipart of the mail with `key`.
    public var boundary: @Sendable (_ key: String, _ index: Int) -> String
    /// The Message-ID (with angle brackets) of the mail with `key`, for `domain`.
    public var messageID: @Sendable (_ key: String, _ domain: String) -> String

    public init(boundary: @escaping @Sendable (String, Int) -> String, messageID: @escaping @Sendable (String, String) -> String) {
        self.boundary = boundary
        self.messageID = messageID
    }

    /// Stable values derived from the key: the same mail always gets the same Message-ID, and
    /// boundaries start with `=_`, which quoted-printable and base64 bodies can never contain.
    public static let standard = MessageGenerators(
        boundary: { key, index in "=_aftersales_\(String(Text.fnv1a(key), radix: 16))_\(index)" },
        messageID: { key, domain in "<\(idText(key))@\(domain)>" })

    /// The key as RFC 5322 dot-atom text: characters outside atext become `=XX`.
    static func idText(_ key: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: out.append(byte)
            case _ where byte < 0x80 && "!#$%&'*+-/?^_`{|}~".utf8.contains(byte): out.append(byte)
            default: out += [0x3D, MIME.hexUpper[Int(byte >> 4)], MIME.hexUpper[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A rendered mail: the parts and the exact bytes to send.
public struct RenderedMail: Sendable {
    public var key: String
    /// The template locale used (after falling back along the buyer's locale chain).
    public var locale: String
    public var subject: String
    public var text: String
    public var html: String
    public var messageID: String
    public var recipients: [String]
    public var attachments: [String]
    /// The whole message, CRLF line endings.
    public var bytes: Data
}

/// Renders planned mail into messages: templates, then MIME.
public struct MailRenderer: Sendable {
    public let templates: TemplateStore
    public let configuration: Configuration
    /// The effective rules: which documents a mail attaches and whether it is bilingual.
    public let rules: RuleSet
    public let generators: MessageGenerators

    /// The domain of Message-IDs and thread ids, in ASCII.
    let domain: String
    /// The company's `From` header, the same in every mail.
    let fromHeader: String
    /// The keys that sign the links in mail; nil when links are off (no `links.base_url` or no secret).
    let linkKeys: LinkKeys?

    public init(templates: TemplateStore, configuration: Configuration, rules: RuleSet = .defaults, generators: MessageGenerators = .standard) {
        self.templates = templates
        self.configuration = configuration
        self.rules = rules
        self.generators = generators
        domain = MIME.asciiAddress("x@" + configuration.messageDomain).split(separator: "@").last.map(String.init) ?? "localhost"
        fromHeader = MIME.addressHeader(name: "From", [MIME.mailbox(name: configuration.company.name, address: configuration.company.email.value)])
        linkKeys = configuration.links.keys
    }

    /// Every locale a mail to customers with these locales can be written in: their fallback
    /// chains, and English (staff mail, and the English half of a bilingual reply).
    public static func locales(for customers: [LocaleTag]) -> Set<String> {
        Set(customers.flatMap(\.fallbackChain) + ["en"])
    }

    /// The template locale for a mail to this customer.
    public func locale(for mail: PlannedMail, customer: Customer) -> String? {
        let chain = mail.audience == .customer ? customer.locale.fallbackChain : ["en"]
        return templates.locale(for: mail.template, chain: chain)
    }

    /// The data `mail`'s templates of `locale` see, with its signed links (off by default).
    public func context(_ mail: PlannedMail, facts: CustomerFacts, locale: String, links: MailLinks = .off) -> MailContext {
        MailContext.build(mail, facts: facts, configuration: configuration, locale: locale, links: links,
                          mailtoUnsubscribe: mailtoUnsubscribe(customerID: facts.customer.id))
    }

    /// The `mailto:` of List-Unsubscribe, and of the unsubscribe link when links are off.
    func mailtoUnsubscribe(customerID: String) -> String {
        "mailto:unsubscribe@\(domain)?subject=unsubscribe%20\(MIME.percent(MessageGenerators.idText(customerID)))"
    }

    /// Renders the subject, text and HTML of a mail in a locale.
    public func parts(_ mail: PlannedMail, facts: CustomerFacts, locale: String, links: MailLinks = .off) throws(TemplateStore.Problem) -> (subject: String, text: String, html: String) {
        let context = context(mail, facts: facts, locale: locale, links: links)
        let subject = MIME.singleLine(try templates.render("\(mail.template).subject", locale: locale, context: context))
        let text = try templates.render("\(mail.template).text", locale: locale, context: context)
        let html = try templates.render("\(mail.template).html", locale: locale, context: context)
        return (subject, text, html)
    }

    /// The message for `mail` (a planned mail, or an outbox entry's `mail`), dated `now`.
    public func render(_ mail: PlannedMail, facts: CustomerFacts, now: Date) throws(AftersalesError) -> RenderedMail {
        let customer = facts.customer
        guard let locale = locale(for: mail, customer: customer) else {
            throw .configuration("no template \"\(mail.template)\" for locale \(customer.locale.value) or its fallbacks; add templates/<locale>/\(mail.template).{subject,text,html}.mustache")
        }
        var (subject, text, html): (String, String, String)
        // The tokens are signed once per mail, whatever the templates look up.
        let links = links(mail, now: now)
        do {
            (subject, text, html) = try parts(mail, facts: facts, locale: locale, links: links)
            let complaint = facts.orders.flatMap(\.complaints).first { $0.id == mail.context["complaint"] }
            if complaint?.category == .communication, rules[mail.rule]?.bilingual == true, !locale.hasPrefix("en"),
               templates.locale(for: mail.template, chain: ["en"]) != nil {
                let english = try parts(mail, facts: facts, locale: "en", links: links)
                subject += " / " + english.subject
                text += "\n\n----------------------------------------\nEnglish\n----------------------------------------\n\n" + english.text
                html = "<table role=\"presentation\" width=\"100%\"><tr><td valign=\"top\" width=\"50%\" dir=\"\(Self.direction(locale))\">\(html)</td>"
                    + "<td valign=\"top\" width=\"50%\" dir=\"ltr\" lang=\"en\">\(english.html)</td></tr></table>"
            }
        } catch {
            throw .configuration(error.description)
        }
        let attachments = attachmentFiles(mail, facts: facts)
        let bytes = compose(mail, customer: customer, locale: locale, subject: subject, text: text, html: html,
                            attachments: attachments, now: now, links: links)
        return RenderedMail(key: mail.key, locale: locale, subject: subject, text: text, html: html,
                            messageID: messageID(mail.key), recipients: mail.to + mail.cc,
                            attachments: attachments.map(\.lastPathComponent), bytes: bytes)
    }

    public func messageID(_ key: String) -> String { generators.messageID(key, domain) }


    static func direction(_ locale: String) -> String {
        ["ar", "he", "fa", "ur"].contains(String(locale.split(separator: "-")[0])) ? "rtl" : "ltr"
    }

    /// Files to attach: shipment documents from `documents.dir/<order>/<document>.*` for shipping and
    /// customs mails, and `documents.dir/<sku>/installation guide.*` for technical products' inspection guides.
    func attachmentFiles(_ request: PlannedMail, facts: CustomerFacts) -> [URL] {
        let dir = configuration.documents.dir
        guard !dir.isEmpty else { return [] }
        var wanted: [(folder: String, name: String)] = []
        let order = facts.orders.first { $0.order.id == request.orderID }
        let attachments = rules[request.rule]?.attachments ?? []
        if attachments.contains(.shipmentDocuments), let order,
           let shipmentID = request.context["shipment"], let shipment = order.shipment(shipmentID) {
            wanted += shipment.shipment.documents.map { (order.order.id, $0) }
        }
        if attachments.contains(.installationGuide), let order {
            for line in order.order.lines where facts.products[line.sku]?.technical == true {
                wanted.append((line.sku, "installation guide"))
            }
        }
        var files: [URL] = []
        for (folder, name) in wanted {
            let base = URL(fileURLWithPath: dir).appendingPathComponent(folder)
            guard let entries = try? FileManager.default.contentsOfDirectory(at: base, includingPropertiesForKeys: nil) else { continue }
            let slug = { (s: String) in s.lowercased().replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "_", with: " ") }
            if let match = entries.sorted(by: { $0.path < $1.path }).first(where: { slug($0.deletingPathExtension().lastPathComponent) == slug(name) }) {
                files.append(match)
            }
        }
        return files
    }

    func compose(_ request: PlannedMail, customer: Customer, locale: String, subject: String, text: String, html: String,
                 attachments: [URL], now: Date, links: MailLinks = .off) -> Data {
        let crlf = "\r\n"
        var headers: [String] = []
        headers.append(fromHeader)
        if request.audience == .customer, let manager = customer.manager {
            headers.append(MIME.addressHeader(name: "Reply-To", [MIME.mailbox(name: manager.name, address: manager.email.value)]))
        }
        let toName = request.audience == .customer ? customer.name : nil
        headers.append(MIME.addressHeader(name: "To", request.to.map { MIME.mailbox(name: toName, address: $0) }))
        if !request.cc.isEmpty { headers.append(MIME.addressHeader(name: "Cc", request.cc.map { MIME.mailbox(name: nil, address: $0) })) }
        headers.append(MIME.encodedHeader(name: "Subject", subject))
        headers.append("Date: " + MIME.date(now))
        headers.append("Message-ID: " + messageID(request.key))
        let thread = "<" + MessageGenerators.idText(request.orderID.map { "order-" + $0 } ?? "customer-" + customer.id) + "@" + domain + ">"
        headers.append("In-Reply-To: " + thread)
        headers.append("References: " + thread)
        headers.append("MIME-Version: 1.0")
        headers.append("Auto-Submitted: auto-generated")
        if request.stream == .marketing {
            // RFC 8058: the one-click https link first, with List-Unsubscribe-Post; without links only the mailto.
            let mailto = "<" + mailtoUnsubscribe(customerID: customer.id) + ">"
            if links.unsubscribe.isEmpty {
                headers.append(MIME.fold(name: "List-Unsubscribe", words: [mailto], separator: " "))
            } else {
                headers.append(MIME.fold(name: "List-Unsubscribe", words: ["<\(links.unsubscribe)>,", mailto], separator: " "))
                headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
            }
        }
        headers.append("Content-Language: " + locale)
        let alternative = generators.boundary(request.key, 1)
        let dir = Self.direction(locale)
        let document = "<!DOCTYPE html>\n<html lang=\"\(locale)\" dir=\"\(dir)\">\n<head>\n<meta charset=\"utf-8\">\n<title>\(escapeHTML(subject))</title>\n</head>\n"
            + "<body>\n<div dir=\"\(dir)\" style=\"font-family: Arial, sans-serif; line-height: 1.5;\">\n\(html)\n</div>\n</body>\n</html>\n"
        var body: [UInt8] = []
        body.reserveCapacity(text.utf8.count + document.utf8.count * 2 + 1024)
        body += "--\(alternative)\(crlf)Content-Type: text/plain; charset=utf-8\(crlf)Content-Transfer-Encoding: quoted-printable\(crlf)\(crlf)".utf8
        MIME.quotedPrintable(text, into: &body)
        body += "\(crlf)--\(alternative)\(crlf)Content-Type: text/html; charset=utf-8\(crlf)Content-Transfer-Encoding: quoted-printable\(crlf)\(crlf)".utf8
        MIME.quotedPrintable(document, into: &body)
        body += "\(crlf)--\(alternative)--\(crlf)".utf8
        if attachments.isEmpty {
            headers.append("Content-Type: multipart/alternative;\(crlf) boundary=\"\(alternative)\"")
        } else {
            let mixed = generators.boundary(request.key, 0)
            headers.append("Content-Type: multipart/mixed;\(crlf) boundary=\"\(mixed)\"")
            var parts = Array("--\(mixed)\(crlf)Content-Type: multipart/alternative;\(crlf) boundary=\"\(alternative)\"\(crlf)\(crlf)".utf8) + body
            for file in attachments {
                let data = (try? Data(contentsOf: file)) ?? Data()
                let name = file.lastPathComponent
                let type = ["pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "txt": "text/plain"][file.pathExtension.lowercased()]
                    ?? "application/octet-stream"
                let ascii = name.unicodeScalars.allSatisfy { $0.isASCII && $0 != "\"" && $0 != "\\" }
                let parameter = ascii ? "filename=\"\(name)\"" : "filename*=UTF-8''\(MIME.percent(name))"
                parts += ("--\(mixed)\(crlf)Content-Type: \(type)\(crlf)Content-Disposition: attachment;\(crlf) \(parameter)\(crlf)"
                    + "Content-Transfer-Encoding: base64\(crlf)\(crlf)" + MIME.base64Lines(data) + crlf).utf8
            }
            body = parts + "--\(mixed)--\(crlf)".utf8
        }
        var message = Array((headers.joined(separator: crlf) + crlf + crlf).utf8)
        message += body
        return Data(message)
    }

    func escapeHTML(_ text: String) -> String {
        MIME.escaping(text) { byte in
            switch byte {
            case 0x26: "&amp;"
            case 0x3C: "&lt;"
            case 0x3E: "&gt;"
            case 0x22: "&quot;"
            default: nil
            }
        }
    }
}
