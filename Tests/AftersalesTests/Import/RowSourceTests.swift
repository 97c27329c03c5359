import AftersalesDomain
@testable import AftersalesKit
import Foundation
import Testing

/// How the import reads a file's rows: CSV.swift's stream reader, the rows' line numbers, the file's
/// problems, the reading thread, and a mapping.
@Suite("Import rows")
struct RowSourceTests {
    let scratch: ScratchDirectory

    init() throws { scratch = try ScratchDirectory("aftersales-import-rows") }

    func file(_ name: String, _ data: Data) throws -> String {
        let url = scratch.url.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// The rows and their lines as RowSource reads them.
    func rows(_ path: String) throws -> [ImportRow] {
        let source = try RowSource(path: path, format: .csv, kind: .orders, mapping: nil, encoding: .utf8, delimiter: ",")
        var rows: [ImportRow] = []
        while let row = try source.next() { rows.append(row) }
        return rows
    }

    /// The file's problem that reading `path` ends with (nil: none, or an error of another kind).
    func problem(_ path: String) -> String? {
        do { _ = try rows(path); return nil } catch { return (error as? ImportFileProblem)?.message }
    }

    static let header = "id,customer,sku,quantity,unit_price,currency,placed_at\r\n"

    @Test("Rows and their lines: a BOM, CRLF and LF, blank lines, quoted cells with a line break, a delimiter and a quote")
    func lines() throws {
        var text = "\u{FEFF}" + Self.header
        for line in 0..<300 {
            text += "SO-\(line / 3),C\(line % 7),P\(line % 11),\(1 + line % 9),\(1000 + line),USD,2026-11-0\(1 + line % 9)T10:00:00Z"
            text += line % 50 == 0 ? "\r\n\r\n" : (line % 2 == 0 ? "\r\n" : "\n")
        }
        // A quoted cell with a line break, a delimiter and a quote, after many rows.
        text += "SO-200,C1,\"P\n1\",2,\"1,200\",USD,2026-11-02T10:00:00Z\nSO-201,C1,P\"2,1,5,USD,2026-11-02T10:00:00Z\nSO-202,C2,P3,1,7,USD,2026-11-02T10:00:00Z"
        let path = try file("orders.csv", Data(text.utf8))
        let whole = try rows(path)
        #expect(whole.count == 303)
        #expect(whole.first?.cells["id"] == "SO-0")
        #expect(whole.first?.line == 2)
        #expect(whole[1].line == 4)  // the blank line after the first row is counted
        #expect(whole[300].cells["sku"] == "P\n1")
        #expect(whole[300].cells["unit_price"] == "1,200")
        #expect(whole[301].line == whole[300].line + 2)
        #expect(whole[301].cells["sku"] == "P\"2")
    }

    @Test("A plain file, and one quoted from its header on")
    func quotedHeader() throws {
        var plain = "id,customer,sku,quantity\n"
        for line in 0..<100 { plain += "SO-\(line),C1,P\(line),1\n" }
        let path = try file("plain.csv", Data(plain.utf8))
        #expect(try rows(path).map(\.line) == Array(2...101))
        #expect(try rows(path).map { $0.cells["sku"] } == (0..<100).map { "P\($0)" })
        let quoted = try file("quoted.csv", Data("\"id\",\"customer\",\"sku\",\"quantity\"\n\"SO-1\",C1,P1,1\n".utf8))
        #expect(try rows(quoted).map(\.cells) == [["id": "SO-1", "customer": "C1", "sku": "P1", "quantity": "1"]])
    }

    @Test("Invalid UTF-8 after some rows is the file's error, naming the byte offset")
    func invalidLater() throws {
        var data = Data("id,customer,sku,quantity\nSO-1,C1,P1,1\nSO-2,C1,P2,1\n".utf8)
        let offset = data.count + 8
        data += Data("SO-3,C1,".utf8) + Data([0xFF]) + Data("P3,1\n".utf8)
        let path = try file("bad.csv", data)
        #expect(problem(path)?.contains("byte offset \(offset)") == true)
    }

    @Test("An empty file and a BOM alone: no header")
    func empty() throws {
        for (name, data) in [("empty.csv", Data()), ("bom.csv", Data([0xEF, 0xBB, 0xBF]))] {
            #expect(problem(try file(name, data))?.contains("is empty") == true)
        }
    }

    @Test("The pipeline gives the source's rows in order, then the file's problem; stopped early, it ends its thread")
    func pipeline() throws {
        var data = Data("id,customer,sku,quantity\n".utf8)
        for line in 0..<(RowPipeline.batchRows * (RowPipeline.maxBatches + 2) + 500) { data += Data("SO-\(line),C1,P\(line % 5),1\n".utf8) }
        let good = try file("pipeline.csv", data)
        data += Data("SO-x,C1,".utf8) + Data([0xC3]) + Data(",1\n".utf8)
        let bad = try file("pipeline-bad.csv", data)
        func read(_ path: String, piped: Bool) -> (rows: [ImportRow], problem: String?) {
            var rows: [ImportRow] = []
            do {
                let source = try RowSource(path: path, format: .csv, kind: .orders, mapping: nil, encoding: .utf8, delimiter: ",")
                if piped {
                    let pipeline = RowPipeline(source)
                    defer { pipeline.stop() }
                    while let row = try pipeline.next() { rows.append(row) }
                } else {
                    while let row = try source.next() { rows.append(row) }
                }
                return (rows, nil)
            } catch {
                return (rows, error.message)
            }
        }
        for path in [good, bad] {
            let direct = read(path, piped: false), piped = read(path, piped: true)
            #expect(piped.rows.map(\.line) == direct.rows.map(\.line))
            #expect(piped.rows.map(\.cells) == direct.rows.map(\.cells))
            #expect(piped.problem == direct.problem)
        }
        #expect(read(good, piped: true).rows.count == RowPipeline.batchRows * (RowPipeline.maxBatches + 2) + 500)
        #expect(read(bad, piped: true).problem?.contains("byte offset") == true)
        // Read one row and stop: the thread, waiting with full batches, ends.
        let source = try RowSource(path: good, format: .csv, kind: .orders, mapping: nil, encoding: .utf8, delimiter: ",")
        let pipeline = RowPipeline(source)
        #expect(try pipeline.next()?.cells["id"] == "SO-0")
        pipeline.stop()
    }

    @Test("A mapping's columns (one read twice), values and defaults give a row's cells; a file's cell wins over a default")
    func mappedRow() throws {
        let mapping = ImportMapping(kind: .customers, columns: ["id": "Code", "company": "Code", "locale": "Lang"],
                                    values: ["locale": ["English": "en"]], defaults: ["locale": "fr", "timezone": "Europe/Paris"])
        let path = try file("mapped.csv", Data("Code,Lang,name\nK-1,English,Ann\nK-2,,Bob\n,,\n".utf8))
        let source = try RowSource(path: path, format: .csv, kind: .customers, mapping: mapping, encoding: .utf8, delimiter: ",")
        var rows: [ImportRow] = []
        while let row = try source.next() { rows.append(row) }
        #expect(rows.map(\.cells) == [
            ["id": "K-1", "company": "K-1", "locale": "en", "timezone": "Europe/Paris", "name": "Ann"],
            ["id": "K-2", "company": "K-2", "locale": "fr", "timezone": "Europe/Paris", "name": "Bob"],
        ])
        #expect(rows.map(\.line) == [2, 3])
        #expect(rows[0]["locale"] == "en")
        #expect(rows[1]["Lang"] == nil)
        #expect(rows[1]["email"] == nil)
    }
}
