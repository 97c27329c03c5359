import AftersalesDomain
import AftersalesKit
import ArgumentParser
import CSV
import Foundation

/// Issue 17's figure: importing order lines from CSV against the sqlite3 shell's `.import` of the same
/// file into a plain table, the re-import with nothing to change, and the peak memory against a small file.
extension Bench {
    /// The small file the peak memory is compared with.
    static let importSmallLines = 10_000

    func importFigures() throws -> [Row] {
        let dir = "\(work)/import"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let customers = 1000, products = 100
        var text = "id,name,email,locale,timezone,country\n"
        for c in 0..<customers { text += "C\(c),Buyer \(c),buyer\(c)@example.com,en,America/New_York,US\n" }
        try text.write(toFile: "\(dir)/customers.csv", atomically: true, encoding: .utf8)
        text = "sku,name,cycle_days\n"
        for p in 0..<products { text += "P\(p),Product \(p),90\n" }
        try text.write(toFile: "\(dir)/products.csv", atomically: true, encoding: .utf8)
        let large = try ordersFile("\(dir)/orders-large.csv", lines: importLines, customers: customers, products: products)
        let small = try ordersFile("\(dir)/orders-small.csv", lines: Self.importSmallLines, customers: customers, products: products)

        // A database with the customers and products, copied for each timed import.
        let base = "\(dir)/base.db"
        for kind in ["customers", "products"] { _ = try timed(["import", kind, "\(dir)/\(kind).csv", "--db", base, "--now", Self.now]) }
        var importTimes: [Double] = [], reimportTimes: [Double] = [], sqliteTimes: [Double] = [], floorTimes: [Double] = [], csvTimes: [Double] = []
        var largeKB: [Double] = [], smallKB: [Double] = []
        let runs = importLines > 200_000 ? 1 : self.runs
        for run in 0..<runs {
            let db = try copyDatabase(base, to: "\(dir)/import-\(run).db")
            defer { removeDatabase(db) }
            let first = try timed(["import", "orders", large, "--db", db, "--now", Self.now])
            importTimes.append(first.seconds)
            largeKB.append(Double(first.kb))
            reimportTimes.append(try timed(["import", "orders", large, "--db", db, "--now", Self.now]).seconds)
            let smallDB = try copyDatabase(base, to: "\(dir)/small-\(run).db")
            defer { removeDatabase(smallDB) }
            smallKB.append(Double(try timed(["import", "orders", small, "--db", smallDB, "--now", Self.now]).kb))
            sqliteTimes.append(try sqliteImport(large, run: run, dir: dir))
            floorTimes.append(try sqliteFloor(base: base, run: run, dir: dir))
            csvTimes.append(try csvFloor(large))
        }
        let importSeconds = median(importTimes), reimportSeconds = median(reimportTimes), sqliteSeconds = median(sqliteTimes)
        let floorSeconds = median(floorTimes), csvSeconds = median(csvTimes)
        let memory = median(largeKB) / max(median(smallKB), 1)
        let ratio = importSeconds / sqliteSeconds, reRatio = reimportSeconds / sqliteSeconds
        log("import: \(importLines) lines in \(fmt(importSeconds)) s, re-import \(fmt(reimportSeconds)) s, sqlite3 .import \(fmt(sqliteSeconds)) s")
        return [
            Row(figure: "6a. import \(importLines) order lines from CSV", measured: "\(fmt(importSeconds)) s, \(Int(Double(importLines) / importSeconds)) lines/s, \(Int(median(largeKB)) / 1024) MB",
                reference: "sqlite3 .import \(fmt(sqliteSeconds)) s; \(Int(median(smallKB)) / 1024) MB at \(Self.importSmallLines) lines",
                ratio: "\(fmt(ratio)); mem \(fmt(memory))", target: "<= 3; mem flat (<= 1.5)", verdict: ratio <= 3 && memory <= 1.5 ? "PASS" : "MISS"),
            Row(figure: "6b. re-import, nothing to change", measured: "\(fmt(reimportSeconds)) s", reference: "sqlite3 .import \(fmt(sqliteSeconds)) s",
                ratio: fmt(reRatio), target: "<= 1.5", verdict: reRatio <= 1.5 ? "PASS" : "MISS"),
            Row(figure: "6c. SQLite alone: 6a's rows by INSERT ... SELECT", measured: "\(fmt(floorSeconds)) s", reference: "sqlite3 .import \(fmt(sqliteSeconds)) s",
                ratio: fmt(floorSeconds / sqliteSeconds), target: "(the floor under 6a)", verdict: "-"),
            Row(figure: "6d. CSV.swift alone: 6a's file read row by row", measured: "\(fmt(csvSeconds)) s", reference: "sqlite3 .import \(fmt(sqliteSeconds)) s",
                ratio: fmt(csvSeconds / sqliteSeconds), target: "(the floor under 6b)", verdict: "-"),
        ]
    }

    /// `lines` order lines, three to an order, streamed to `path`.
    func ordersFile(_ path: String, lines: Int, customers: Int, products: Int) throws -> String {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var chunk = "id,customer,sku,quantity,unit_price,currency,placed_at\n"
        for line in 0..<lines {
            let order = line / 3
            chunk += "SO-\(order),C\(order % customers),P\((line * 7) % products),\(1 + line % 9),\(1000 + line % 5000),USD,2026-11-0\(1 + order % 9)T10:00:00Z\n"
            if chunk.utf8.count > 1 << 16 {
                try handle.write(contentsOf: Data(chunk.utf8))
                chunk = ""
            }
        }
        try handle.write(contentsOf: Data(chunk.utf8))
        return path
    }

    /// Seconds for the sqlite3 shell to write 6a's rows itself into a copy of `base` (aftersales' schema,
    /// its indexes and foreign keys): the orders, their lines and the `order.placed` events with the same
    /// payload text the import writes, by INSERT ... SELECT from the table ``sqliteImport(_:run:dir:)`` made
    /// (three lines to an order, as ``ordersFile(_:lines:customers:products:)`` writes them). No parsing,
    /// no checks and no statement per row: what the schema alone costs, against which 6a's target is set.
    func sqliteFloor(base: String, run: Int, dir: String) throws -> Double {
        let db = try copyDatabase(base, to: "\(dir)/floor-\(run).db")
        defer { removeDatabase(db) }
        let time = "replace(replace(o.placed_at, 'T', ' '), 'Z', '.000')"
        return try sqlite([db, "PRAGMA foreign_keys = ON", "ATTACH '\(dir)/reference-\(run).db' AS file", "BEGIN IMMEDIATE", """
            INSERT INTO orders (id, customerID, currency, placedAt)
            SELECT o.id, o.customer, o.currency, \(time) FROM file.order_lines o WHERE o.rowid % 3 = 1 ORDER BY o.rowid
            """, """
            INSERT INTO order_lines (orderID, position, sku, quantity, unitPriceMinor)
            SELECT id, (rowid - 1) % 3, sku, quantity, unit_price FROM file.order_lines ORDER BY rowid
            """, """
            INSERT INTO events (kind, subject, customerID, orderID, occurredAt, recordedAt, payload)
            SELECT 'order.placed', o.id, o.customer, o.id, \(time), '\(Self.now.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: ".000"))',
                json_object('currency', o.currency, 'customerID', o.customer, 'id', o.id, 'lines',
                    (SELECT json_group_array(json_object('quantity', l.quantity + 0, 'sku', l.sku, 'unitPriceMinor', l.unit_price + 0))
                     FROM file.order_lines l WHERE l.rowid BETWEEN o.rowid AND o.rowid + 2 AND l.id = o.id), 'placedAt', o.placed_at)
            FROM file.order_lines o WHERE o.rowid % 3 = 1 ORDER BY o.rowid
            """, "COMMIT"]).seconds
    }

    /// Seconds for CSV.swift alone to read the CSV file row by row, in this process, from one `String` (its
    /// faster input; the import hands it blocks of whole lines): the floor under 6b, whose reading goes
    /// through the same library before any cell is checked or any stored order compared.
    func csvFloor(_ csv: String) throws -> Double {
        let start = ContinuousClock.now
        let reader = try CSVReader(string: try String(contentsOfFile: csv, encoding: .utf8), hasHeaderRow: true, trimFields: false)
        var rows = 0
        while reader.next() != nil { rows += 1 }
        guard rows == importLines else { throw ValidationError("CSV.swift read \(rows) of the \(importLines) rows of \(csv)") }
        let elapsed = ContinuousClock.now - start
        return elapsed.seconds
    }

    /// Seconds for the sqlite3 shell to `.import` the CSV file into a new plain table.
    func sqliteImport(_ csv: String, run: Int, dir: String) throws -> Double {
        let db = "\(dir)/reference-\(run).db"
        try? FileManager.default.removeItem(atPath: db)
        return try sqlite([db, ".mode csv", ".import \(csv) order_lines"]).seconds
    }
}
