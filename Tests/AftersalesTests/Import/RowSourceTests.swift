import AftersalesDomain
@testable import AftersalesKit
import CSV
import Foundation
import Testing

/// The import's fast paths (issue 17, fourth round) give what the library paths they stand in for give:
/// CSV.swift fed a block at a time reads the rows its stream reader reads, and an event's payload is
/// the JSON that JSONOutput's encoder writes.
@Suite("Import fast paths")
struct ImportFastPathTests {
    let scratch: ScratchDirectory

    init() throws { scratch = try ScratchDirectory("aftersales-import-fast") }

    func file(_ name: String, _ data: Data) throws -> String {
        let url = scratch.url.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// The rows and their lines as RowSource reads them with blocks of `blockSize` bytes.
    func rows(_ path: String, blockSize: Int) throws -> [ImportRow] {
        let source = try RowSource(path: path, format: .csv, kind: .orders, mapping: nil, encoding: .utf8, delimiter: ",", blockSize: blockSize)
        var rows: [ImportRow] = []
        while let row = try source.next() { rows.append(row) }
        return rows
    }

    static let header = "id,customer,sku,quantity,unit_price,currency,placed_at\r\n"

    @Test("Blocks cut at line ends read the rows and lines that one stream reads", arguments: [7, 64, 1000, 1 << 20])
    func blocks(blockSize: Int) throws {
        var text = "\u{FEFF}" + Self.header
        for line in 0..<300 {
            text += "SO-\(line / 3),C\(line % 7),P\(line % 11),\(1 + line % 9),\(1000 + line),USD,2026-11-0\(1 + line % 9)T10:00:00Z"
            text += line % 50 == 0 ? "\r\n\r\n" : (line % 2 == 0 ? "\r\n" : "\n")
        }
        // A quoted cell with a line break, a delimiter and a quote, after many blocks: the rest goes to the stream.
        text += "SO-200,C1,\"P\n1\",2,\"1,200\",USD,2026-11-02T10:00:00Z\nSO-201,C1,P\"2,1,5,USD,2026-11-02T10:00:00Z\nSO-202,C2,P3,1,7,USD,2026-11-02T10:00:00Z"
        let path = try file("orders-\(blockSize).csv", Data(text.utf8))
        let whole = try rows(path, blockSize: 1 << 24)
        let cut = try rows(path, blockSize: blockSize)
        #expect(cut.map(\.line) == whole.map(\.line))
        #expect(cut.map(\.cells) == whole.map(\.cells))
        #expect(whole.count == 303)
        #expect(whole.first?.cells["id"] == "SO-0")
        #expect(whole.first?.line == 2)
        #expect(whole[1].line == 4)  // the blank line after the first row is counted
        #expect(whole[300].cells["sku"] == "P\n1")
        #expect(whole[300].cells["unit_price"] == "1,200")
        #expect(whole[301].line == whole[300].line + 2)
        #expect(whole[301].cells["sku"] == "P\"2")

        // The same file through CSV.swift's stream reader alone (as the import read every file before).
        let reader = try CSVReader(stream: InputStream(fileAtPath: path)!, hasHeaderRow: true, trimFields: false, delimiter: ",")
        var streamed: [[String]] = []
        while let fields = reader.next() { if fields != [""] { streamed.append(fields) } }
        #expect(streamed.map { $0[2] } == whole.map { $0.cells["sku"] ?? "" })
    }

    @Test("A file without a quote, cut anywhere, and one quoted from its header on")
    func quotedHeader() throws {
        var plain = "id,customer,sku,quantity\n"
        for line in 0..<100 { plain += "SO-\(line),C1,P\(line),1\n" }
        let path = try file("plain.csv", Data(plain.utf8))
        #expect(try rows(path, blockSize: 10).map(\.line) == Array(2...101))
        #expect(try rows(path, blockSize: 10).map { $0.cells["sku"] } == (0..<100).map { "P\($0)" })
        let quoted = try file("quoted.csv", Data("\"id\",\"customer\",\"sku\",\"quantity\"\n\"SO-1\",C1,P1,1\n".utf8))
        #expect(try rows(quoted, blockSize: 8).map(\.cells) == [["id": "SO-1", "customer": "C1", "sku": "P1", "quantity": "1"]])
    }

    @Test("Invalid UTF-8 in a later block is the file's error, naming the byte offset")
    func invalidLater() throws {
        var data = Data("id,customer,sku,quantity\nSO-1,C1,P1,1\nSO-2,C1,P2,1\n".utf8)
        let offset = data.count + 8
        data += Data("SO-3,C1,".utf8) + Data([0xFF]) + Data("P3,1\n".utf8)
        let path = try file("bad.csv", data)
        #expect {
            _ = try rows(path, blockSize: 16)
        } throws: { error in
            (error as? ImportFileProblem)?.message.contains("byte offset \(offset)") == true
        }
    }

    @Test("An empty file and a BOM alone: no header")
    func empty() throws {
        for (name, data) in [("empty.csv", Data()), ("bom.csv", Data([0xEF, 0xBB, 0xBF]))] {
            let path = try file(name, data)
            #expect {
                _ = try rows(path, blockSize: 4)
            } throws: { error in
                (error as? ImportFileProblem)?.message.contains("is empty") == true
            }
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
                let source = try RowSource(path: path, format: .csv, kind: .orders, mapping: nil, encoding: .utf8, delimiter: ",", blockSize: 4096)
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
        let source = try RowSource(path: good, format: .csv, kind: .orders, mapping: nil, encoding: .utf8, delimiter: ",", blockSize: 4096)
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

    @Test("An order's event payload is written as JSONOutput's encoder writes it")
    func payload() throws {
        let placed = t("2026-11-02T10:00:00Z"), done = t("2026-11-20T08:30:00Z")
        let orders = [
            Order(id: "SO-1", customerID: "C1", lines: [OrderLine(sku: "P1", quantity: 2, unitPriceMinor: 1000), OrderLine(sku: "P2", quantity: 1)],
                  currency: "USD", placedAt: placed),
            Order(id: "SO-2", customerID: "C-2", lines: [OrderLine(sku: "X", quantity: 1_000_000, unitPriceMinor: 0)], currency: "JPY",
                  placedAt: placed, completedAt: done),
            Order(id: "SO-3", customerID: "C3", lines: [OrderLine(sku: "P1", quantity: 1)], placedAt: placed, cancelledAt: done),
            // Text that is not plain goes through the encoder.
            Order(id: "订单/1", customerID: "C\"4", lines: [OrderLine(sku: "P\\1", quantity: 3)], placedAt: placed),
        ]
        let encoder = JSONOutput.encoder(pretty: false)
        let writing = AftersalesStore.ChunkWriting(encoder: encoder)
        for order in orders {
            #expect(try writing.json(order) == String(decoding: try encoder.encode(order), as: UTF8.self))
        }
    }
}
