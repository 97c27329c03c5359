import Foundation

/// A Mustache template compiled once into a tree, rendered and checked in one pass.
///
/// Why not render with swift-mustache itself: it looks every name up through dynamic protocol
/// casts and splits dotted names on every lookup, which made it most of the cost of a mail
/// (see README, Performance). swift-mustache remains the reference: `templates check` parses
/// every template with it, its message (line and column) is reported when a template does not
/// compile, and the tests render every template of every locale with both and require the same
/// bytes. This tree follows swift-mustache's parser rule for rule (standalone lines, partial
/// indentation) for the subset aftersales supports: variables, sections, inverted sections,
/// partials and comments. Templates that use anything else (set delimiters, blocks, dynamic
/// partials, transforms, pragmas) are refused when loaded.
struct CompiledTemplate: Sendable {
    /// A dotted name, split once.
    struct Path: Sendable {
        let name: String
        let parts: [String]
        init(_ name: String) {
            self.name = name
            parts = name == "." ? [] : name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        }
    }

    indirect enum Node: Sendable {
        case text(String)
        case variable(Path, escaped: Bool)
        case section(Path, inverted: Bool, [Node])
        case partial(String, indentation: String?)
    }

    let nodes: [Node]

    /// Compiles `text`; throws a message naming what is not supported.
    init(_ text: String) throws(CompileError) {
        var cursor = Cursor(text)
        nodes = try Self.parse(&cursor, section: nil, newLine: true)
    }

    struct CompileError: Error, Sendable { var message: String }

    /// Visits every node of `nodes` in order, a section's body right after the section; stops, and
    /// answers false, as soon as `visit` answers false.
    static func walk(_ nodes: [Node], _ visit: (Node) -> Bool) -> Bool {
        for node in nodes {
            guard visit(node) else { return false }
            if case .section(_, _, let body) = node, !walk(body, visit) { return false }
        }
        return true
    }

    /// The first part of every name the template and its partials use: the top-level names of the
    /// data it can look up (a name inside a section may also be found at the top). Nil when it uses
    /// `.`, which can print the whole data.
    func roots(partials: [String: CompiledTemplate]) -> Set<String>? {
        var names: Set<String> = []
        var visited: Set<String> = []
        func collect(_ nodes: [Node]) -> Bool {
            Self.walk(nodes) { node in
                switch node {
                case .text: return true
                case .variable(let path, _), .section(let path, _, _):
                    guard let first = path.parts.first else { return false }
                    names.insert(first)
                    return true
                case .partial(let name, _):
                    guard visited.insert(name).inserted, let partial = partials[name] else { return true }
                    return collect(partial.nodes)
                }
            }
        }
        return collect(nodes) ? names : nil
    }

    /// The partials the template names itself (not those its partials name).
    var partialNames: Set<String> {
        var names: Set<String> = []
        _ = Self.walk(nodes) { node in
            if case .partial(let name, _) = node { names.insert(name) }
            return true
        }
        return names
    }

    // MARK: Parsing (swift-mustache's Template+Parser, restricted to the supported tags)

    /// Reads UTF-8 bytes: every byte of Mustache syntax is ASCII, so text is never split inside a character.
    struct Cursor {
        let bytes: [UInt8]
        var i = 0
        init(_ text: String) { bytes = Array(text.utf8) }
        var atEnd: Bool { i == bytes.count }
        var current: UInt8 { atEnd ? 0 : bytes[i] }
        func at(_ j: Int) -> UInt8 { j < bytes.count ? bytes[j] : 0 }
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        /// The length of the line break at `j` (LF or CRLF, as swift-mustache reads text), else 0.
        func lineBreak(_ j: Int) -> Int { at(j) == 0x0A ? 1 : (at(j) == 0x0D && at(j + 1) == 0x0A ? 2 : 0) }
        /// The length of any newline character at `j` (`Character.isNewline`), else 0.
        func newline(_ j: Int) -> Int {
            switch at(j) {
            case 0x0A, 0x0B, 0x0C: return 1
            case 0x0D: return at(j + 1) == 0x0A ? 2 : 1
            case 0xC2: return at(j + 1) == 0x85 ? 2 : 0
            case 0xE2: return at(j + 1) == 0x80 && (at(j + 2) == 0xA8 || at(j + 2) == 0xA9) ? 3 : 0
            default: return 0
            }
        }
        mutating func skip(while predicate: (UInt8) -> Bool) -> Range<Int> {
            let start = i
            while i < bytes.count, predicate(bytes[i]) { i += 1 }
            return start..<i
        }
        mutating func skipWhiteSpace() { _ = skip { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) } }
        /// Text up to a line break (not consumed) or the opening `{{` (consumed).
        mutating func readText() -> String {
            let start = i
            while i < bytes.count {
                if lineBreak(i) > 0 { return string(start..<i) }
                if bytes[i] == 0x7B, at(i + 1) == 0x7B { i += 2; return string(start..<i - 2) }
                i += 1
            }
            return string(start..<i)
        }
        /// Only spaces or tabs up to the end of the line: consumes them and the newline.
        mutating func lineFinished() -> Bool {
            if atEnd { return true }
            var j = i
            while at(j) == 0x20 || at(j) == 0x09 { j += 1 }
            let length = newline(j)
            if length > 0 { i = j + length; return true }
            return false
        }
        /// At `}}`.
        var atClose: Bool { current == 0x7D && at(i + 1) == 0x7D }
    }

    static func isNameByte(_ byte: UInt8, partial: Bool) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2E, 0x2D, 0x5F, 0x3F, 0x2A: return true
        case 0x2F: return partial
        default: return false
        }
    }

    static func name(_ cursor: inout Cursor, partial: Bool = false) throws(CompileError) -> String {
        cursor.skipWhiteSpace()
        let name = cursor.string(cursor.skip { isNameByte($0, partial: partial) })
        cursor.skipWhiteSpace()
        guard cursor.atClose else {
            throw CompileError(message: "tag \"\(name)\" is not closed with }} (transforms and other names are not supported)")
        }
        cursor.i += 2
        guard !name.isEmpty, !name.contains("*") else {
            throw CompileError(message: "tag name \"\(name)\" is not supported")
        }
        return name
    }

    static func parse(_ cursor: inout Cursor, section: String?, newLine startsOnNewLine: Bool) throws(CompileError) -> [Node] {
        var nodes: [Node] = []
        var newLine = startsOnNewLine
        var whiteSpaceBefore = ""
        while !cursor.atEnd {
            if newLine { whiteSpaceBefore = cursor.string(cursor.skip { $0 == 0x20 || $0 == 0x09 }) }
            let text = cursor.readText()
            let lineBreak = cursor.lineBreak(cursor.i)
            if lineBreak > 0 {
                nodes.append(.text(whiteSpaceBefore + text + cursor.string(cursor.i..<cursor.i + lineBreak)))
                newLine = true
                cursor.i += lineBreak
                continue
            }
            if !text.isEmpty {
                nodes.append(.text(whiteSpaceBefore + text))
                whiteSpaceBefore = ""
                newLine = false
            }
            if cursor.atEnd { break }
            func flushWhiteSpace() {
                if !whiteSpaceBefore.isEmpty { nodes.append(.text(whiteSpaceBefore)); whiteSpaceBefore = "" }
            }
            var setNewLine = false
            switch cursor.current {
            case 0x23, 0x5E: // # ^
                let inverted = cursor.current == 0x5E
                cursor.i += 1
                let name = try name(&cursor)
                if newLine && cursor.lineFinished() { setNewLine = true } else { flushWhiteSpace() }
                let body = try parse(&cursor, section: name, newLine: setNewLine)
                nodes.append(.section(Path(name), inverted: inverted, body))
            case 0x2F: // /
                cursor.i += 1
                let name = try name(&cursor)
                guard name == section else {
                    throw CompileError(message: section.map { "section \"\($0)\" is closed by \"\(name)\"" } ?? "\"\(name)\" closes no open section")
                }
                if !(newLine && cursor.lineFinished()) { flushWhiteSpace() }
                return nodes
            case 0x21: // !
                while !cursor.atEnd, !cursor.atClose { cursor.i += 1 }
                guard !cursor.atEnd else { throw CompileError(message: "a comment is not closed with }}") }
                cursor.i += 2
                setNewLine = newLine && cursor.lineFinished()
            case 0x7B: // {
                flushWhiteSpace()
                cursor.i += 1
                let name = try name(&cursor)
                guard cursor.current == 0x7D else { throw CompileError(message: "{{{\(name)}} is not closed with }}}") }
                cursor.i += 1
                nodes.append(.variable(Path(name), escaped: false))
            case 0x26: // &
                flushWhiteSpace()
                cursor.i += 1
                nodes.append(.variable(Path(try name(&cursor)), escaped: false))
            case 0x3E: // >
                cursor.i += 1
                cursor.skipWhiteSpace()
                guard cursor.current != 0x2A else { throw CompileError(message: "dynamic partials are not supported") }
                let name = try name(&cursor, partial: true)
                let indentation = whiteSpaceBefore
                flushWhiteSpace()
                if newLine && cursor.lineFinished() {
                    setNewLine = true
                    nodes.append(.partial(name, indentation: indentation))
                } else {
                    nodes.append(.partial(name, indentation: nil))
                }
            case 0x3C, 0x24, 0x3D, 0x25: // < $ = %
                throw CompileError(message: "{{\(Character(UnicodeScalar(cursor.current))) tags (blocks, inheritance, set delimiters, pragmas) are not supported")
            default:
                flushWhiteSpace()
                nodes.append(.variable(Path(try name(&cursor)), escaped: true))
            }
            newLine = setNewLine
        }
        if let section { throw CompileError(message: "section \"\(section)\" is not closed") }
        return nodes
    }

    // MARK: Rendering

    /// Renders with `context`; partials come from `partials`. Every name the rendered parts use
    /// and the context lacks is appended to `missing`.
    func render(_ context: TemplateValue, partials: [String: CompiledTemplate], missing: inout [String]) -> String {
        var output = ""
        output.reserveCapacity(2048)
        var renderer = Renderer(partials: partials, stack: [Renderer.Frame(context)], missing: [], depth: 0)
        renderer.render(nodes, indentation: nil, into: &output)
        missing = renderer.missing
        return output
    }

    struct Renderer {
        /// A context on the stack, with its dictionary when it is one.
        struct Frame {
            let value: TemplateValue
            let dictionary: [String: TemplateValue]?
            init(_ value: TemplateValue) {
                self.value = value
                if case .object(let dictionary) = value { self.dictionary = dictionary } else { dictionary = nil }
            }
        }

        let partials: [String: CompiledTemplate]
        var stack: [Frame]
        var missing: [String]
        var depth: Int

        /// Looks `path` up as Mustache does: the first part anywhere up the stack, the rest inside it.
        func lookup(_ path: Path) -> TemplateValue? {
            guard let first = path.parts.first else { return stack.last?.value }
            for frame in stack.reversed() {
                guard let dict = frame.dictionary, let found = dict[first] else { continue }
                var value = found
                for part in path.parts.dropFirst() {
                    guard case .object(let d) = value, let next = d[part] else { return nil }
                    value = next
                }
                return value
            }
            return nil
        }

        mutating func render(_ nodes: [Node], indentation: String?, into output: inout String) {
            guard let indentation, !indentation.isEmpty else {
                for node in nodes { render(node, indentation: indentation, into: &output) }
                return
            }
            // As swift-mustache: inside an indented partial, each piece that starts a line gets the indentation.
            var local = ""
            for node in nodes {
                var piece = ""
                render(node, indentation: indentation, into: &piece)
                if !piece.isEmpty, local.last == "\n" { local += indentation }
                local += piece
            }
            output += local
        }

        mutating func render(_ node: Node, indentation: String?, into output: inout String) {
            switch node {
            case .text(let text):
                output += text
            case .variable(let path, let escaped):
                guard let value = lookup(path) else { missing.append(path.name); return }
                let text: String
                switch value {
                case .string(let s): text = s
                case .int(let i): text = String(i)
                case .bool(let b): text = b ? "true" : "false"
                case .list, .object, .other: text = value.description
                }
                output += escaped ? Self.escapeHTML(text) : text
            case .section(let path, let inverted, let body):
                let value = lookup(path)
                if value == nil { missing.append(path.name) }
                let renders: Bool
                var pushed: TemplateValue?
                switch value {
                case .list(let list):
                    if inverted {
                        renders = list.isEmpty
                        pushed = value
                    } else {
                        for element in list {
                            stack.append(Frame(element))
                            render(body, indentation: indentation, into: &output)
                            stack.removeLast()
                        }
                        return
                    }
                case .bool(let flag): renders = flag != inverted
                case .some(let v): renders = !inverted; pushed = v
                case .none: renders = inverted
                }
                guard renders else { return }
                if let pushed { stack.append(Frame(pushed)) }
                render(body, indentation: indentation, into: &output)
                if pushed != nil { stack.removeLast() }
            case .partial(let name, let indented):
                guard let partial = partials[name] else { missing.append("partial \(name)"); return }
                guard depth < 50 else { missing.append("partial \(name) (nested too deep)"); return }
                depth += 1
                let combined = indented.map { (indentation ?? "") + $0 } ?? indentation
                render(partial.nodes, indentation: combined, into: &output)
                depth -= 1
            }
        }

        /// swift-mustache's HTML escaping: & < > " '.
        static func escapeHTML(_ text: String) -> String {
            MIME.escaping(text) { byte in
                switch byte {
                case 0x26: "&amp;"
                case 0x3C: "&lt;"
                case 0x3E: "&gt;"
                case 0x22: "&quot;"
                case 0x27: "&#39;"
                default: nil
                }
            }
        }
    }
}

/// Mustache data with its types known, so that a lookup never casts. `RenderContext` builds it
/// directly; a `[String: Any]` context (tests, `TemplateStore.render`) is converted once.
enum TemplateValue: Sendable, CustomStringConvertible, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([TemplateValue])
    case object([String: TemplateValue])
    /// Any other value, as Mustache would print it.
    case other(String)

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }

    init(_ value: Any) {
        switch value {
        case let s as String: self = .string(s)
        case let i as Int: self = .int(i)
        case let b as Bool: self = .bool(b)
        case let d as [String: Any]: self = .object(d.mapValues(TemplateValue.init))
        case let l as [Any]: self = .list(l.map(TemplateValue.init))
        default: self = .other(String(describing: value))
        }
    }

    /// The value as plain Swift values (`String`, `Int`, `Bool`, arrays and dictionaries), as
    /// swift-mustache takes them: the tests render the same data with it.
    var plain: Any {
        switch self {
        case .string(let s): s
        case .int(let i): i
        case .bool(let b): b
        case .other(let text): text
        case .list(let list): list.map(\.plain)
        case .object(let object): object.mapValues(\.plain)
        }
    }

    /// The value as text. A list or an object printed as a variable (a template mistake) comes out in
    /// Swift's notation, an object's keys sorted so that the output is the same in every run.
    var description: String {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        case .other(let text): text
        case .list(let list): "[" + list.map(\.quoted).joined(separator: ", ") + "]"
        case .object(let object):
            object.isEmpty ? "[:]" : "[" + object.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value.quoted)" }.joined(separator: ", ") + "]"
        }
    }

    private var quoted: String {
        if case .string(let s) = self { return "\"" + s + "\"" }
        return description
    }
}
