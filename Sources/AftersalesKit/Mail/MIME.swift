import AftersalesDomain
import Foundation

/// Low-level MIME encodings: RFC 2047 encoded words, header folding, quoted-printable,
/// RFC 5322 dates and IDNA punycode, which no dependency offers (base64 and percent-encoding are
/// Foundation's). Everything produces CRLF line endings.
public enum MIME {
    static let crlf = "\r\n"

    /// `text` as a header value: plain ASCII when it fits, else RFC 2047 B encoded words of at
    /// most 75 characters each, folded so that no line exceeds 78 characters.
    /// CR and LF never reach the header (they are turned into spaces), so no value can inject a header.
    public static func encodedHeader(name: String, _ text: String) -> String {
        let clean = singleLine(text)
        // Plain when ASCII and every word fits on a folded line; otherwise encoded words.
        let budget = 78 - name.utf8.count - 2
        if clean.utf8.allSatisfy({ $0 < 0x80 && $0 >= 0x20 }), !contains(clean.utf8, 0x3D, 0x3F) {
            let words = spaced(clean, omittingEmpty: false)
            if words.allSatisfy({ $0.utf8.count <= budget }) { return fold(name: name, words: words, separator: " ") }
        }
        // The first word shares its line with the name; each holds as many whole characters as fit.
        let encoded = encodedWords(clean, firstLimit: ((min(budget, 75) - 12) / 4) * 3, limit: ((75 - 12) / 4) * 3)
        return "\(name): " + encoded.joined(separator: crlf + " ")
    }

    /// `text` split at ASCII spaces, as `split(separator: " ")` would split it wherever a space
    /// cannot join the next character (in ASCII text, and before the `<` of an address), without
    /// walking characters.
    static func spaced(_ text: String, omittingEmpty: Bool) -> [String] {
        text.utf8.split(separator: 0x20, omittingEmptySubsequences: omittingEmpty).map { String(Substring($0)) }
    }

    /// True when `bytes` has `first` followed by `second` somewhere.
    static func contains(_ bytes: String.UTF8View, _ first: UInt8, _ second: UInt8) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            if previous == first, byte == second { return true }
            previous = byte
        }
        return false
    }

    /// Header `name: words` folded at spaces so lines stay within 78 characters where possible.
    /// Lengths are counted in bytes: every word of a header is ASCII by the time it is folded.
    static func fold(name: String, words: [String], separator: String) -> String {
        var out = name
        out.reserveCapacity(name.utf8.count + words.reduce(0) { $0 + $1.utf8.count + 3 } + 8)
        out += ":"
        var lineLength = out.utf8.count
        for (index, word) in words.enumerated() {
            let gap = index == 0 ? " " : separator
            let length = gap.utf8.count + word.utf8.count
            if lineLength + length > 78 {
                out += crlf + " " + word
                lineLength = 1 + word.utf8.count
            } else {
                out += gap + word
                lineLength += length
            }
        }
        return out
    }

    /// A mailbox: `"Display Name" <local@domain>`, the name encoded when not ASCII, the domain in punycode.
    public static func mailbox(name: String?, address: String) -> String {
        let addr = asciiAddress(address)
        guard let raw = name.map(singleLine), !raw.isEmpty else { return "<\(addr)>" }
        if raw.utf8.allSatisfy({ $0 < 0x80 && $0 >= 0x20 }) {
            let atext = raw.utf8.allSatisfy { byte in
                switch byte {
                // Letters, digits, space and ! # $ % & ' * + - / = ? ^ _ ` { | } ~
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x20, 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2F, 0x3D, 0x3F, 0x5E...0x60, 0x7B...0x7E: true
                default: false
                }
            }
            let phrase = atext ? raw : "\"" + escaping(raw) { $0 == 0x5C ? "\\\\" : $0 == 0x22 ? "\\\"" : nil } + "\""
            return "\(phrase) <\(addr)>"
        }
        return encodedWords(raw).joined(separator: " ") + " <\(addr)>"
    }

    /// RFC 2047 B words of at most 75 characters.
    static func encodedWords(_ text: String) -> [String] {
        text.isEmpty ? [] : encodedWords(text, firstLimit: 45, limit: 45)
    }

    /// RFC 2047 B words holding at most `firstLimit` bytes of `text` in the first word and `limit` in
    /// each other, never splitting a character's UTF-8 sequence; one empty word for empty text.
    static func encodedWords(_ text: String, firstLimit: Int, limit: Int) -> [String] {
        var words: [String] = []
        let bytes = Array(text.utf8)
        var start = 0
        var i = 0
        while i < bytes.count {
            // The length of the character's UTF-8 sequence that starts here.
            var end = i + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            if end - start > (words.isEmpty ? firstLimit : limit), i > start {
                words.append(encodedWord(bytes[start..<i]))
                start = i
            }
            i = end
        }
        if start < bytes.count || words.isEmpty { words.append(encodedWord(bytes[start..<bytes.count])) }
        return words
    }

    /// One RFC 2047 B encoded word.
    static func encodedWord(_ bytes: ArraySlice<UInt8>) -> String { "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?=" }

    /// A header of mailboxes, one per folded line when they do not fit on one.
    public static func addressHeader(name: String, _ mailboxes: [String]) -> String {
        var words: [String] = []
        for (index, mailbox) in mailboxes.enumerated() {
            var pieces = spaced(mailbox, omittingEmpty: true)
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

    /// Percent-encoding for URL query values and RFC 2231 parameters: unreserved ASCII (RFC 3986) stays.
    static func percent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

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
        var text = text
        text.withUTF8 { bytes in
            guard let input = bytes.baseAddress else { return }
            let count = bytes.count
            // At most 3 bytes per input byte, plus a soft break (3 bytes) per 25 input bytes.
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: count * 3 + (count / 25 + 1) * 3 + 4)
            defer { buffer.deallocate() }
            let hex = hexUpper
            /// Whether the byte at `i` stays as it is: printable ASCII but `=`, and space and tab unless they end a line.
            func stays(_ i: Int) -> Bool {
                let byte = input[i]
                if byte &- 33 < 94 { return byte != 61 }
                return (byte == 32 || byte == 9) && i + 1 < count && input[i + 1] != 13 && input[i + 1] != 10
            }
            var n = 0
            var lineLength = 0
            var i = 0
            while i < count {
                // A run of bytes that stay (most of any text), up to the end of the line.
                let limit = min(count, i + 75 - lineLength)
                let start = i
                while i < limit, stays(i) { buffer[n] = input[i]; n += 1; i += 1 }
                lineLength += i - start
                guard i < count else { break }
                // The byte that ended the run: one that starts the next line, a line break, or one to encode.
                let byte = input[i]
                if stays(i) {
                    buffer[n] = 61; buffer[n + 1] = 13; buffer[n + 2] = 10; buffer[n + 3] = byte; n += 4
                    lineLength = 1
                } else if byte == 13 || byte == 10 {
                    // CRLF, CR or LF: one hard line break.
                    if byte == 13, i + 1 < count, input[i + 1] == 10 { i += 1 }
                    buffer[n] = 13; buffer[n + 1] = 10; n += 2
                    lineLength = 0
                } else {
                    if lineLength > 72 {
                        buffer[n] = 61; buffer[n + 1] = 13; buffer[n + 2] = 10; n += 3
                        lineLength = 0
                    }
                    buffer[n] = 61; buffer[n + 1] = hex[Int(byte >> 4)]; buffer[n + 2] = hex[Int(byte & 15)]; n += 3
                    lineLength += 3
                }
                i += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(start: buffer, count: n))
        }
    }

    /// Base64 in lines of 76 characters, CRLF between them (RFC 2045), none after the last.
    public static func base64Lines(_ data: Data) -> String {
        data.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
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
