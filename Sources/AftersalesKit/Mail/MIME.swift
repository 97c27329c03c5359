import AftersalesDomain
import Foundation

/// Low-level MIME encodings: RFC 2047 encoded words, header folding, quoted-printable,
/// RFC 5322 dates and IDNA punycode. Everything produces CRLF line endings.
public enum MIME {
    static let crlf = "\r\n"

    /// `text` as a header value: plain ASCII when it fits, else RFC 2047 B encoded words of at
    /// most 75 characters each, folded so that no line exceeds 78 characters.
    /// CR and LF never reach the header (they are turned into spaces), so no value can inject a header.
    public static func encodedHeader(name: String, _ text: String) -> String {
        let clean = singleLine(text)
        let words = clean.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        // Plain when ASCII and every word fits on a folded line; otherwise encoded words.
        let plain = clean.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 } && !clean.contains("=?")
            && words.allSatisfy { $0.count <= 78 - name.count - 2 }
        if plain {
            return fold(name: name, words: words, separator: " ")
        }
        // Encode scalar by scalar so that no UTF-8 sequence is split between two words.
        var encoded: [String] = []
        var chunk: [UInt8] = []
        let firstBudget = 78 - name.count - 2
        func limit() -> Int { (((encoded.isEmpty ? min(firstBudget, 75) : 75) - 12) / 4) * 3 }
        for scalar in clean.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > limit() {
                encoded.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || encoded.isEmpty { encoded.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return "\(name): " + encoded.joined(separator: crlf + " ")
    }

    /// Header `name: words` folded at spaces so lines stay within 78 characters where possible.
    static func fold(name: String, words: [String], separator: String) -> String {
        var lines: [String] = []
        var line = "\(name):"
        for (index, word) in words.enumerated() {
            let piece = (index == 0 ? " " : separator) + word
            if line.count + piece.count > 78 {
                lines.append(line)
                line = " " + word
            } else {
                line += piece
            }
        }
        lines.append(line)
        return lines.joined(separator: crlf)
    }

    /// A mailbox: `"Display Name" <local@domain>`, the name encoded when not ASCII, the domain in punycode.
    public static func mailbox(name: String?, address: String) -> String {
        let addr = asciiAddress(address)
        guard let raw = name.map(singleLine), !raw.isEmpty else { return "<\(addr)>" }
        if raw.utf8.allSatisfy({ $0 < 0x80 && $0 >= 0x20 }) {
            let atext = raw.utf8.allSatisfy { byte in
                switch byte {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
                default: " !#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
                }
            }
            let phrase = atext ? raw : "\"" + escaping(raw) { $0 == 0x5C ? "\\\\" : $0 == 0x22 ? "\\\"" : nil } + "\""
            return "\(phrase) <\(addr)>"
        }
        return encodedWords(raw).joined(separator: " ") + " <\(addr)>"
    }

    /// RFC 2047 B words of at most 75 characters.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words
    }

    /// A header of mailboxes, one per folded line when they do not fit on one.
    public static func addressHeader(name: String, _ mailboxes: [String]) -> String {
        var words: [String] = []
        for (index, mailbox) in mailboxes.enumerated() {
            var pieces = mailbox.split(separator: " ").map(String.init)
            if index < mailboxes.count - 1, let last = pieces.popLast() { pieces.append(last + ",") }
            words += pieces
        }
        return fold(name: name, words: words, separator: " ")
    }

    /// The text on one line: CRLF, CR and LF each become one space; trimmed.
    static func singleLine(_ text: String) -> String {
        let utf8 = text.utf8
        let clean = !utf8.contains { $0 == 0x0D || $0 == 0x0A }
        if clean, let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
           !first.properties.isWhitespace, !last.properties.isWhitespace {
            return text
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var previous: UInt8 = 0
        for byte in utf8 {
            if byte == 0x0A, previous == 0x0D { previous = byte; continue }
            out.append(byte == 0x0D || byte == 0x0A ? 0x20 : byte)
            previous = byte
        }
        return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    /// `text` with each ASCII byte for which `replacement` returns a string replaced by it; the text
    /// itself when nothing is replaced.
    static func escaping(_ text: String, _ replacement: (UInt8) -> String?) -> String {
        guard text.utf8.contains(where: { $0 < 0x80 && replacement($0) != nil }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            if byte < 0x80, let r = replacement(byte) { out += r.utf8 } else { out.append(byte) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static let hexUpper = Array("0123456789ABCDEF".utf8)
    static let hexLower = Array("0123456789abcdef".utf8)

    /// Percent-encoding for URL query values and RFC 2231 parameters: unreserved ASCII stays.
    static func percent(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.append(byte)
            default: out += [0x25, hexUpper[Int(byte >> 4)], hexUpper[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The address with an internationalized domain in IDNA punycode (`xn--`).
    public static func asciiAddress(_ address: String) -> String {
        if address.utf8.allSatisfy({ $0 < 0x80 }) { return address }
        guard let at = address.lastIndex(of: "@") else { return address }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        let labels = domain.split(separator: ".").map { label -> String in
            label.unicodeScalars.allSatisfy(\.isASCII) ? String(label) : "xn--" + Punycode.encode(label.lowercased())
        }
        return local + "@" + labels.joined(separator: ".")
    }

    /// Quoted-printable (RFC 2045) of UTF-8 text with CRLF line breaks; lines at most 76 characters.
    /// Works on bytes: it runs for every body of every message.
    public static func quotedPrintable(_ text: String) -> String {
        var out: [UInt8] = []
        quotedPrintable(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Quoted-printable of `text` appended to `out`, written through a buffer sized for the worst case.
    static func quotedPrintable(_ text: String, into out: inout [UInt8]) {
        let hex = hexUpper
        var text = text
        let encoded: [UInt8] = text.withUTF8 { bytes in
            // At most 3 bytes per input byte, plus a soft break (3 bytes) per 25 input bytes.
            let capacity = bytes.count * 3 + (bytes.count / 25 + 1) * 3 + 4
            return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, written in
                var n = 0
                var lineLength = 0
                var i = 0
                while i < bytes.count {
                    let byte = bytes[i]
                    if byte == 13 || byte == 10 {
                        // CRLF, CR or LF: one hard line break.
                        if byte == 13, i + 1 < bytes.count, bytes[i + 1] == 10 { i += 1 }
                        buffer[n] = 13; buffer[n + 1] = 10; n += 2
                        lineLength = 0
                        i += 1
                        continue
                    }
                    let atEnd = i + 1 == bytes.count || bytes[i + 1] == 13 || bytes[i + 1] == 10
                    let literal = (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !atEnd)
                    let width = literal ? 1 : 3
                    if lineLength + width > 75 {
                        buffer[n] = 61; buffer[n + 1] = 13; buffer[n + 2] = 10; n += 3
                        lineLength = 0
                    }
                    if literal {
                        buffer[n] = byte; n += 1
                    } else {
                        buffer[n] = 61; buffer[n + 1] = hex[Int(byte >> 4)]; buffer[n + 2] = hex[Int(byte & 15)]; n += 3
                    }
                    lineLength += width
                    i += 1
                }
                written = n
            }
        }
        out += encoded
    }

    /// Base64 in lines of 76 characters.
    public static func base64Lines(_ data: Data) -> String {
        let text = data.base64EncodedString()
        var lines: [Substring] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            lines.append(rest.prefix(76))
            rest = rest.dropFirst(76)
        }
        return lines.joined(separator: crlf)
    }

    /// RFC 5322 date: `Mon, 23 Nov 2026 10:00:00 +0000`.
    public static func date(_ date: Date) -> String { Timestamp.rfc5322(date) }
}

/// RFC 3492 punycode, for internationalized domain names.
enum Punycode {
    static func encode(_ input: String) -> String {
        let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = scalars.filter { $0 < 0x80 }.map { String(UnicodeScalar(UInt8($0))) }.joined()
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output += "-" }
        var n = 0x80, delta = 0, bias = 72
        func digit(_ d: Int) -> Character { Character(UnicodeScalar(UInt8(d < 26 ? d + 97 : d + 22))) }
        func adapt(_ delta: Int, _ count: Int, _ first: Bool) -> Int {
            var d = first ? delta / damp : delta / 2
            d += d / count
            var k = 0
            while d > ((base - tMin) * tMax) / 2 {
                d /= base - tMin
                k += base
            }
            return k + (base - tMin + 1) * d / (d + skew)
        }
        while handled < scalars.count {
            let m = scalars.filter { $0 >= n }.min()!
            delta += (m - n) * (handled + 1)
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }
}
