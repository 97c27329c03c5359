import Foundation

/// One part of a received message (the message itself is the outermost part): its header fields,
/// its content type and its body, still transfer-encoded, with the parts of a multipart inside.
///
/// Written by hand: no package on this machine parses RFC 5322 / MIME messages (vapor/multipart-kit
/// reads multipart/form-data only). It reads what arrives without ever failing: a broken structure
/// is kept as text and noted in ``problems``.
public struct ReceivedPart: Sendable {
    /// Header fields in order, unfolded; names as written, values raw (encoded words not decoded).
    public var fields: [(name: String, value: String)]
    /// `type/subtype`, lower-cased (`text/plain` when absent or unreadable).
    public var contentType: String
    /// Content-Type parameters, names lower-cased.
    public var parameters: [String: String]
    /// The body as received (after the header), transfer-encoded.
    public var body: ArraySlice<UInt8>
    /// The parts of a multipart, or the message inside a `message/rfc822`.
    public var parts: [ReceivedPart]
    /// What was wrong with this part's structure or encoding (empty: nothing).
    public var problems: [String]

    /// Nesting deeper than this is left unparsed (a fuzzed message must not exhaust the stack).
    static let maxDepth = 12
    /// More parts than this in one multipart are left out, noted as a problem.
    static let maxParts = 200

    /// Parses a whole message.
    public init(message bytes: [UInt8]) {
        self.init(bytes[...], depth: 0)
    }

    init(_ bytes: ArraySlice<UInt8>, depth: Int, defaultType: String = "text/plain") {
        let (fields, body, headerProblem) = Self.splitHeader(bytes)
        self.fields = fields
        self.body = body
        parts = []
        problems = headerProblem.map { [$0] } ?? []
        let typeField = fields.last { $0.name.caseInsensitiveEquals("content-type") }?.value
        let (type, parameters) = typeField.map(Self.contentType) ?? (defaultType, [:])
        contentType = type
        self.parameters = parameters
        guard depth < Self.maxDepth else {
            if type.hasPrefix("multipart/") || type == "message/rfc822" { problems.append("nested deeper than \(Self.maxDepth) levels; left unread") }
            return
        }
        if type.hasPrefix("multipart/") {
            guard let boundary = parameters["boundary"], !boundary.isEmpty else {
                problems.append("multipart without a boundary")
                return
            }
            let childType = type == "multipart/digest" ? "message/rfc822" : "text/plain"
            let (bodies, closed) = Self.split(body, boundary: Array(boundary.utf8))
            if bodies.isEmpty { problems.append("multipart with no parts (boundary \"\(boundary)\" not found)") }
            if !closed, !bodies.isEmpty { problems.append("multipart not closed (no --\(boundary)--)") }
            if bodies.count > Self.maxParts { problems.append("more than \(Self.maxParts) parts; the rest left unread") }
            parts = bodies.prefix(Self.maxParts).map { ReceivedPart($0, depth: depth + 1, defaultType: childType) }
        } else if type == "message/rfc822" || type == "message/global" {
            let inner = ReceivedPart.decode(body, encoding: field("content-transfer-encoding"))
            parts = [ReceivedPart(inner[...], depth: depth + 1)]
        }
    }

    /// The last value of the field `name` (case-insensitive), unfolded and trimmed.
    public func field(_ name: String) -> String? {
        fields.last { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Every value of the field `name`.
    public func fieldValues(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }

    /// The field's value with RFC 2047 encoded words decoded.
    public func decodedField(_ name: String) -> String? {
        field(name).map(MIMEText.decodeWords)
    }

    /// Every part in depth-first order, this one first.
    public var allParts: [ReceivedPart] {
        var out: [ReceivedPart] = [self]
        for part in parts { out += part.allParts }
        return out
    }

    /// The problems of this part and of every part inside it.
    public var allProblems: [String] { allParts.flatMap(\.problems) }

    /// The body with its transfer encoding undone.
    public var decodedBody: [UInt8] { Self.decode(body, encoding: field("content-transfer-encoding")) }

    /// The body as text in its charset; a charset this program cannot read is decoded as UTF-8
    /// (invalid bytes replaced) and named in `problem`.
    public var text: (text: String, problem: String?) {
        MIMEText.decode(decodedBody, charset: parameters["charset"])
    }

    // MARK: Header

    /// The header fields and the body. A message without the blank line is all header (or all body
    /// when its first line is no field).
    static func splitHeader(_ bytes: ArraySlice<UInt8>) -> ([(name: String, value: String)], ArraySlice<UInt8>, String?) {
        var fields: [(name: String, value: String)] = []
        var index = bytes.startIndex
        let end = bytes.endIndex
        var problem: String?
        var current: (name: String, value: [UInt8])?
        func flush() {
            if let field = current {
                fields.append((field.name, String(decoding: MIMEText.trim(field.value[...]), as: UTF8.self)))
            }
            current = nil
        }
        while index < end {
            // One line, without its CRLF or LF.
            var lineEnd = index
            while lineEnd < end, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < end ? lineEnd + 1 : end
            var contentEnd = lineEnd
            if contentEnd > index, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if contentEnd == index {
                // The blank line: the body follows.
                flush()
                return (fields, bytes[next..<end], problem)
            }
            let first = bytes[index]
            if first == 0x20 || first == 0x09 {
                if current != nil {
                    current!.value.append(0x20)
                    current!.value += MIMEText.trim(bytes[index..<contentEnd])
                } else if problem == nil {
                    problem = "header starts with a continuation line"
                }
            } else if let colon = bytes[index..<contentEnd].firstIndex(of: 0x3A), colon > index,
                      !bytes[index..<colon].contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
                flush()
                current = (String(decoding: bytes[index..<colon], as: UTF8.self), Array(bytes[(colon + 1)..<contentEnd]))
            } else {
                flush()
                if fields.isEmpty {
                    // No header at all: everything is body.
                    return ([], bytes, "no header fields")
                }
                if problem == nil { problem = "a header line that is no field; the rest is read as the body" }
                return (fields, bytes[index..<end], problem)
            }
            index = next
        }
        flush()
        return (fields, bytes[end..<end], fields.isEmpty ? "empty message" : problem)
    }

    /// `type/subtype` lower-cased and the parameters of a Content-Type value.
    static func contentType(_ value: String) -> (String, [String: String]) {
        let pieces = MIMEText.splitParameters(value)
        let type = pieces.first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            // RFC 2231: name*=charset''percent-encoded (continuations are not joined).
            if name.hasSuffix("*") {
                name.removeLast()
                if let quote = value.range(of: "''") { value = String(value[quote.upperBound...]).removingPercentEncoding ?? value }
            }
            parameters[name] = value
        }
        let valid = type.split(separator: "/").count == 2 && !type.contains(" ")
        return (valid ? type : "text/plain", parameters)
    }

    // MARK: Multipart

    /// The bodies between `--boundary` lines, and whether the closing `--boundary--` was seen.
    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> ([ArraySlice<UInt8>], Bool) {
        var bodies: [ArraySlice<UInt8>] = []
        var start: Int?
        var index = body.startIndex
        let end = body.endIndex
        let dash = UInt8(ascii: "-")
        while index < end {
            var lineEnd = index
            while lineEnd < end, body[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < end ? lineEnd + 1 : end
            let count = lineEnd - index
            if count >= boundary.count + 2, body[index] == dash, body[index + 1] == dash,
               body[(index + 2)..<(index + 2 + boundary.count)].elementsEqual(boundary) {
                let after = index + 2 + boundary.count
                let closing = after + 1 < lineEnd && body[after] == dash && body[after + 1] == dash
                // The CRLF before a boundary belongs to the boundary.
                if let s = start {
                    var bodyEnd = index
                    if bodyEnd > s, body[bodyEnd - 1] == 0x0A { bodyEnd -= 1 }
                    if bodyEnd > s, body[bodyEnd - 1] == 0x0D { bodyEnd -= 1 }
                    bodies.append(body[s..<bodyEnd])
                }
                if closing { return (bodies, true) }
                start = next
            }
            index = next
        }
        if let s = start, s < end { bodies.append(body[s..<end]) }
        return (bodies, false)
    }

    // MARK: Transfer encodings

    static func decode(_ body: ArraySlice<UInt8>, encoding: String?) -> [UInt8] {
        switch encoding?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "base64": return MIMEText.base64(body)
        case "quoted-printable": return MIMEText.quotedPrintable(body)
        default: return Array(body)
        }
    }
}

/// Text in received mail: encoded words, transfer encodings, charsets, parameters.
public enum MIMEText {
    static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = bytes.startIndex, e = bytes.endIndex
        while s < e, bytes[s] == 0x20 || bytes[s] == 0x09 || bytes[s] == 0x0D { s += 1 }
        while e > s, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 || bytes[e - 1] == 0x0D { e -= 1 }
        return bytes[s..<e]
    }

    /// Splits a structured value at `;` outside quotes.
    static func splitParameters(_ value: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for c in value {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" && quoted { current.append(c); escaped = true; continue }
            if c == "\"" { quoted.toggle() }
            if c == ";" && !quoted { out.append(current); current = ""; continue }
            current.append(c)
        }
        out.append(current)
        return out
    }

    static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Base64, skipping anything outside the alphabet (line breaks, stray characters).
    static func base64(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in body {
            if byte == UInt8(ascii: "=") { break }
            let value = base64Values[Int(byte)]
            if value == 0xFF { continue }
            buffer = (buffer << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Quoted-printable (RFC 2045): `=XX`, soft line breaks; a malformed `=` is kept as it is.
    static func quotedPrintable(_ body: ArraySlice<UInt8>, underscoreIsSpace: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var i = body.startIndex
        let end = body.endIndex
        while i < end {
            let byte = body[i]
            if byte == UInt8(ascii: "=") {
                if i + 1 < end, body[i + 1] == 0x0A { i += 2; continue }
                if i + 2 < end, body[i + 1] == 0x0D, body[i + 2] == 0x0A { i += 3; continue }
                if i + 2 < end, let hi = hexValue(body[i + 1]), let lo = hexValue(body[i + 2]) {
                    out.append(hi << 4 | lo)
                    i += 3
                    continue
                }
                out.append(byte)
                i += 1
            } else if underscoreIsSpace && byte == UInt8(ascii: "_") {
                out.append(0x20)
                i += 1
            } else {
                out.append(byte)
                i += 1
            }
        }
        return out
    }

    /// Bytes in `charset` as text; an unknown charset is read as UTF-8 and named in `problem`.
    public static func decode(_ bytes: [UInt8], charset: String?) -> (text: String, problem: String?) {
        let name = (charset ?? "us-ascii").trimmingCharacters(in: .whitespaces).lowercased()
        switch name {
        case "utf-8", "utf8", "us-ascii", "ascii", "":
            return (String(decoding: bytes, as: UTF8.self), nil)
        case "iso-8859-1", "latin1", "iso_8859-1", "l1":
            return (String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })), nil)
        case "windows-1252", "cp1252":
            return (String(String.UnicodeScalarView(bytes.map { windows1252($0) })), nil)
        default:
            if let encoding = foundationEncodings[name], let text = String(data: Data(bytes), encoding: encoding) {
                return (text, nil)
            }
            // Chinese mail: through glibc's iconv (Foundation on Linux has no GBK or Big5), as import reads GB18030 files.
            if let iconvName = iconvEncodings[name], let decoded = Transcoding.utf8(bytes, fromIconv: iconvName) {
                let text = String(decoding: decoded.utf8, as: UTF8.self)
                return (text, decoded.invalid == 0 ? nil : "\(decoded.invalid) invalid \(name) sequence(s), replaced by U+FFFD")
            }
            // Most mail labelled with an unknown charset is in fact ASCII or UTF-8.
            return (String(decoding: bytes, as: UTF8.self), "unknown charset \"\(charset ?? "")\", read as UTF-8")
        }
    }

    static let foundationEncodings: [String: String.Encoding] = [
        "iso-8859-2": .isoLatin2, "windows-1250": .windowsCP1250, "cp1250": .windowsCP1250,
        "windows-1251": .windowsCP1251, "cp1251": .windowsCP1251, "windows-1253": .windowsCP1253,
        "windows-1254": .windowsCP1254, "shift_jis": .shiftJIS, "euc-jp": .japaneseEUC, "iso-2022-jp": .iso2022JP,
        "utf-16": .utf16, "utf-16be": .utf16BigEndian, "utf-16le": .utf16LittleEndian,
    ]

    /// Charsets read through iconv. GB2312 and GBK are subsets of GB18030, and Big5 of Big5-HKSCS: the larger
    /// table reads what senders label with the smaller one (as the WHATWG Encoding Standard does).
    static let iconvEncodings: [String: String] = [
        "gb2312": "GB18030", "gbk": "GB18030", "gb18030": "GB18030", "cp936": "GB18030", "x-gbk": "GB18030", "euc-cn": "GB18030",
        "csgb2312": "GB18030", "chinese": "GB18030", "big5": "BIG5-HKSCS", "big5-hkscs": "BIG5-HKSCS", "x-x-big5": "BIG5-HKSCS",
        "cn-big5": "BIG5-HKSCS", "csbig5": "BIG5-HKSCS", "cp950": "BIG5-HKSCS",
    ]

    /// Windows-1252's 0x80-0x9F; elsewhere it is ISO 8859-1.
    static func windows1252(_ byte: UInt8) -> Unicode.Scalar {
        let high: [UInt32] = [0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
                              0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178]
        if (0x80...0x9F).contains(byte) { return Unicode.Scalar(high[Int(byte - 0x80)]) ?? Unicode.Scalar(byte) }
        return Unicode.Scalar(byte)
    }

    /// A header value with its RFC 2047 encoded words (`=?utf-8?B?...?=`) decoded; whitespace between
    /// two encoded words is dropped, as the RFC says. Anything malformed is left as written.
    public static func decodeWords(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var out = ""
        var rest = Substring(value)
        var lastWasEncoded = false
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            let afterStart = rest[start.upperBound...]
            // charset ? encoding ? text ?=
            guard let q1 = afterStart.firstIndex(of: "?"),
                  afterStart.index(after: q1) < afterStart.endIndex,
                  let q2 = afterStart[afterStart.index(after: q1)...].firstIndex(of: "?"),
                  let close = afterStart[afterStart.index(after: q2)...].range(of: "?=") else {
                break
            }
            let charset = afterStart[..<q1].split(separator: "*").first.map(String.init) ?? ""
            let encoding = afterStart[afterStart.index(after: q1)..<q2].lowercased()
            let text = Array(afterStart[afterStart.index(after: q2)..<close.lowerBound].utf8)
            let bytes: [UInt8]
            switch encoding {
            case "b": bytes = base64(text[...])
            case "q": bytes = quotedPrintable(text[...], underscoreIsSpace: true)
            default:
                out += rest[..<close.upperBound]
                rest = rest[close.upperBound...]
                lastWasEncoded = false
                continue
            }
            if !(lastWasEncoded && before.allSatisfy({ $0 == " " || $0 == "\t" })) { out += before }
            out += decode(bytes, charset: charset).text
            rest = rest[close.upperBound...]
            lastWasEncoded = true
        }
        out += rest
        return out
    }

    /// The addr-spec of an address field (`"Name" <a@b>` or `a@b`), lower-cased, or nil.
    public static func address(_ value: String) -> String? {
        if let open = value.lastIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            let inner = value[value.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            return inner.contains("@") ? inner.lowercased() : nil
        }
        let token = value.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" }).first { $0.contains("@") }
        return token.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"'()")).lowercased() }
    }

    /// The message ids (`<...>`) in a field value such as References, in order, without brackets.
    public static func messageIDs(_ value: String) -> [String] {
        var ids: [String] = []
        var rest = Substring(value)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let id = rest[rest.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            if !id.isEmpty { ids.append(id) }
            rest = rest[rest.index(after: close)...]
        }
        return ids
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { ($0 | 0x20) == ($1 | 0x20) }
    }
}
