import Foundation

/// The new text of a reply: what the buyer wrote, without the quoted mail and the signature.
public enum InboundText {
    /// Lines that start the quoted original in the 8 locales and in the common mail programs
    /// (lower-cased; a line is cut when it starts with one of these).
    static let quoteStarts = [
        "-----original message-----", "----- original message -----", "-----mensaje original-----", "-------- message d'origine --------",
        "-----message d'origine-----", "-----mensagem original-----", "-----ursprüngliche nachricht-----", "-----исходное сообщение-----",
        "-----رسالة أصلية-----", "-----原始邮件-----", "------------------ 原始邮件 ------------------", "________________________________",
        "-------- forwarded message --------", "---------- forwarded message ---------",
    ]

    /// Outlook's header block of the quoted mail: "From:" (in each language) followed by "Sent:"/"Date:" lines.
    static let fromLines = ["from:", "de:", "von:", "от:", "من:", "发件人:", "发件人：", "寄件者:"]

    /// Attribution lines ("On ... wrote:") end with one of these.
    static let attributionEnds = ["wrote:", "escribió:", "a écrit :", "a écrit:", "escreveu:", "schrieb:", "пишет:", "написал:", "написала:",
                                  "كتب:", "写道：", "写道:"]

    /// A signature starts at the RFC 3676 delimiter or at the phone mail programs' lines.
    static let signatureStarts = ["-- ", "--", "sent from my", "enviado desde mi", "envoyé de mon", "enviado do meu", "von meinem", "отправлено с",
                                  "发自我的", "أرسلت من"]

    /// The new text of a plain-text reply.
    public static func newText(_ text: String) -> String {
        var kept: [Substring] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        var index = 0
        scan: while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let lowered = trimmed.lowercased()
            if trimmed.hasPrefix(">") { index += 1; continue }
            if quoteStarts.contains(where: { lowered.hasPrefix($0) }) { break scan }
            if attributionEnds.contains(where: { lowered.hasSuffix($0) }) { break scan }
            // An attribution wrapped over two lines: "On Mon, ... Lucía" / "<lucia@...> wrote:".
            if index + 1 < lines.count, lowered.hasPrefix("on ") || lowered.hasPrefix("el ") || lowered.hasPrefix("le ") || lowered.hasPrefix("am ") || lowered.hasPrefix("em "),
               attributionEnds.contains(where: { lines[index + 1].trimmingCharacters(in: .whitespaces).lowercased().hasSuffix($0) }) { break scan }
            if fromLines.contains(where: { lowered.hasPrefix($0) }), index + 1 < lines.count,
               lines[(index + 1)...].prefix(3).contains(where: { let l = $0.lowercased(); return ["sent:", "date:", "enviado:", "envoyé :", "envoyé:", "gesendet:", "отправлено:", "发送时间:", "fecha:", "to:", "para:", "an:", "à :"].contains { l.hasPrefix($0) } }) {
                break scan
            }
            if line == "-- " || trimmed == "--" || signatureStarts.dropFirst(2).contains(where: { lowered.hasPrefix($0) }) { break scan }
            kept.append(line)
            index += 1
        }
        return kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// HTML as text: quoted blocks (`<blockquote>`, Gmail's and Outlook's quote containers) dropped,
    /// tags removed, block ends as line breaks, the common entities decoded.
    public static func htmlToText(_ html: String) -> String {
        var out = ""
        var rest = Substring(html)
        // Cut at the first quote container: what follows it is the quoted mail.
        for marker in ["<blockquote", "<div class=\"gmail_quote", "<div id=\"divRplyFwdMsg", "<div id=\"appendonsend", "<hr id=\"stopSpelling",
                       "<div class=\"moz-cite-prefix", "<div style=\"border:none;border-top:solid"] {
            if let range = rest.range(of: marker, options: .caseInsensitive) { rest = rest[..<range.lowerBound] }
        }
        var skipping: String?
        while let open = rest.firstIndex(of: "<") {
            if skipping == nil { out += rest[..<open] }
            guard let close = rest[open...].firstIndex(of: ">") else { rest = rest[rest.endIndex...]; break }
            let tag = rest[rest.index(after: open)..<close].lowercased()
            let name = tag.split(whereSeparator: { $0 == " " || $0 == "/" || $0 == "\t" || $0 == "\n" }).first.map(String.init) ?? ""
            if let skip = skipping {
                if tag.hasPrefix("/" + skip) { skipping = nil }
            } else if name == "style" || name == "script" || name == "head" || name == "title" {
                skipping = name
            } else if ["br", "p", "/p", "div", "/div", "tr", "/tr", "li", "/h1", "/h2", "/h3"].contains(name) || tag.hasPrefix("/p") || tag.hasPrefix("br") {
                out += "\n"
            }
            rest = rest[rest.index(after: close)...]
        }
        if skipping == nil { out += rest }
        for (entity, value) in [("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&apos;", "'"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: entity, with: value)
        }
        return out.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: "\n")
            .replacingOccurrences(of: "\n\n\n", with: "\n\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
