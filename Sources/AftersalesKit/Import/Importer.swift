import AftersalesDomain
import CSV
import Foundation

/// Imports files of facts (customers, products, orders, shipments, tracking events, complaints) from
/// ERP, OMS and carrier exports: every row through the store's recording methods, upserted by its
/// external id, the whole file in one transaction.
public struct Importer: Sendable {
    public let store: AftersalesStore
    public let configuration: Configuration
    public let now: Date

    public init(store: AftersalesStore, configuration: Configuration, now: Date) {
        self.store = store
        self.configuration = configuration
        self.now = now
    }

    /// Imports `path` (`-`: standard input). Invalid rows are in the summary (``ImportSummary/refused``
    /// when they stopped the whole file); a file that cannot be read at all is an error.
    /// `progress` is told the number of rows read every 10,000 rows.
    public func importFile(_ path: String, _ options: ImportOptions, progress: (@Sendable (Int) -> Void)? = nil) throws(AftersalesError) -> ImportSummary {
        var mapping: ImportMapping?
        if let name = options.mapping {
            guard let found = configuration.importing.mappings[name] else {
                let known = configuration.importing.mappings.keys.sorted()
                throw .invalid(InvalidInput(field: "mapping", value: name, problem: known.isEmpty
                    ? "no mappings are configured; add it under import.mappings in the configuration"
                    : "expected one of \(known.joined(separator: ", ")) (import.mappings)"))
            }
            if let kind = found.kind, kind != options.kind {
                throw .invalid(InvalidInput(field: "mapping", value: name, problem: "reads \(kind.rawValue), not \(options.kind.rawValue)"))
            }
            mapping = found
        }
        let format = options.format ?? mapping?.format ?? ImportFormat.guess(path: path) ?? .csv
        let encoding = options.encoding ?? mapping?.encoding ?? .utf8
        let delimiter = options.delimiter ?? mapping?.delimiter?.first ?? ","
        let source: RowSource
        do { source = try RowSource(path: path, format: format, kind: options.kind, mapping: mapping, encoding: encoding, delimiter: delimiter) } catch {
            throw error.unreadable ? .failure(error.message) : .conflict(error.message)
        }
        var rejects: RejectsWriter?
        if options.skipInvalid, let rejectsPath = options.rejectsPath {
            rejects = try RejectsWriter(path: rejectsPath, kind: options.kind)
        }
        let run = ImportRun(store: store, kind: options.kind, now: now, names: source.sourceNames)
        // The rows are read on a thread of their own while the rows before them are checked and written.
        let rows = RowPipeline(source)
        defer { rows.stop() }
        let dryRun = options.dryRun, skipInvalid = options.skipInvalid
        let rejectsBox = rejects
        var summary = try store.importing(commit: { (s: ImportSummary) in !dryRun && (s.invalid == 0 || skipInvalid) }) { store in
            var run = run
            run.store = store
            var summary = ImportSummary(kind: options.kind, file: path)
            var fileProblem: ImportFileProblem?
            do throws(ImportFileProblem) {
                while let row = try rows.next() {
                    summary.rows += 1
                    if summary.rows % 10_000 == 0 { progress?(summary.rows) }
                    run.take(row, into: &summary, rejects: rejectsBox)
                }
            } catch { fileProblem = error }
            run.finish(into: &summary, rejects: rejectsBox)
            if let fileProblem { throw AftersalesError.conflict(fileProblem.message) }
            return summary
        }
        rejects?.close()
        summary.dryRun = dryRun
        summary.refused = summary.invalid > 0 && !skipInvalid
        summary.written = !dryRun && !summary.refused
        return summary
    }
}

/// The state of one file's import: the order being gathered from its rows, caches, what was done.
struct ImportRun {
    var store: AftersalesStore
    let kind: ImportKind
    let now: Date
    /// The file's names of the native columns.
    let names: [String: String]
    private var order: (id: String, rows: [ImportRow])?
    /// Orders read, waiting to be upserted in one chunk.
    private var pendingOrders: [(rows: [ImportRow], order: Result<ImportedOrder, RowProblem>)] = []
    /// Hashes of the orders already seen, to refuse an order whose lines are not together (flat: 8 bytes an order).
    private var seenOrders = Set<UInt64>()
    private let zones = ZoneCache()

    init(store: AftersalesStore, kind: ImportKind, now: Date, names: [String: String]) {
        self.store = store
        self.kind = kind
        self.now = now
        self.names = names
    }

    mutating func take(_ row: ImportRow, into summary: inout ImportSummary, rejects: RejectsWriter?) {
        if let malformed = row.malformed {
            reject([row], [ImportRowError(line: row.line, column: "", value: "", message: malformed)], into: &summary, rejects: rejects)
            return
        }
        if kind == .orders {
            let id = row["id"] ?? ""
            if let current = order, current.id == id {
                order?.rows.append(row)
                return
            }
            finishOrder(into: &summary, rejects: rejects)
            if !id.isEmpty, !seenOrders.insert(Text.fnv1a(id)).inserted {
                reject([row], [error(row, "id", "the lines of order \(id) are not together; an order's rows must follow one another")], into: &summary, rejects: rejects)
                return
            }
            order = (id, [row])
            return
        }
        record([row], into: &summary, rejects: rejects) { run in try run.single(row) }
    }

    /// Records what is left at the end of the file: the order gathered so far and the orders pending.
    mutating func finish(into summary: inout ImportSummary, rejects: RejectsWriter?) {
        finishOrder(into: &summary, rejects: rejects)
        flushOrders(into: &summary, rejects: rejects)
    }

    /// Orders are upserted in chunks of this many (``AftersalesStore/upsertOrders(_:now:)``): a chunk's stored
    /// orders are read in two queries; memory stays flat.
    static let orderChunk = 500

    /// Reads the order gathered so far into the pending chunk (refused there when its rows are invalid).
    private mutating func finishOrder(into summary: inout ImportSummary, rejects: RejectsWriter?) {
        guard let current = order else { return }
        order = nil
        let parsed: Result<ImportedOrder, RowProblem>
        do { parsed = .success(try importedOrder(current.rows)) } catch let problem as RowProblem {
            parsed = .failure(problem)
        } catch let error as AftersalesError {
            parsed = .failure(RowProblem(describe(error, current.rows[0])))
        } catch {
            parsed = .failure(RowProblem(ImportRowError(line: current.rows[0].line, column: "", value: "", message: "\(error)")))
        }
        pendingOrders.append((current.rows, parsed))
        if pendingOrders.count >= Self.orderChunk { flushOrders(into: &summary, rejects: rejects) }
    }

    /// Upserts the pending orders in one call of the store, then counts them in the file's order.
    private mutating func flushOrders(into summary: inout ImportSummary, rejects: RejectsWriter?) {
        guard !pendingOrders.isEmpty else { return }
        let pending = pendingOrders
        pendingOrders.removeAll(keepingCapacity: true)
        let valid = pending.compactMap { try? $0.order.get() }
        var results: [Result<ImportOutcome, AftersalesError>]
        do { results = try store.upsertOrders(valid, now: now) } catch {
            results = Array(repeating: .failure(error), count: valid.count)
        }
        var next = results.makeIterator()
        for (rows, parsed) in pending {
            switch parsed {
            case .failure(let problem): reject(rows, [problem.error], into: &summary, rejects: rejects)
            case .success:
                switch next.next() {
                case .success(.new)?: summary.new += 1
                case .success(.updated)?: summary.updated += 1
                case .success(.unchanged)?: summary.unchanged += 1
                case .failure(let error)?: reject(rows, [describe(error, rows[0])], into: &summary, rejects: rejects)
                case nil: break
                }
            }
        }
    }

    private mutating func record(_ rows: [ImportRow], into summary: inout ImportSummary, rejects: RejectsWriter?,
                                 _ body: @escaping (ImportRun) throws -> ImportOutcome) {
        let run = self
        do {
            switch try store.row({ try body(run) }) {
            case .new: summary.new += 1
            case .updated: summary.updated += 1
            case .unchanged: summary.unchanged += 1
            }
        } catch let problem as RowProblem {
            reject(rows, [problem.error], into: &summary, rejects: rejects)
        } catch let error as AftersalesError {
            reject(rows, [describe(error, rows[0])], into: &summary, rejects: rejects)
        } catch {
            reject(rows, [ImportRowError(line: rows[0].line, column: "", value: "", message: "\(error)")], into: &summary, rejects: rejects)
        }
    }

    private func reject(_ rows: [ImportRow], _ errors: [ImportRowError], into summary: inout ImportSummary, rejects: RejectsWriter?) {
        summary.invalid += rows.count
        summary.errors += errors
        rejects?.write(rows, errors)
    }

    // MARK: Rows to facts

    private func single(_ row: ImportRow) throws -> ImportOutcome {
        switch kind {
        case .customers:
            let id = try required(row, "id")
            let changes = CustomerChanges(name: row["name"], company: row["company"], email: row["email"], cc: row["cc"].map(Self.list),
                                          locale: row["locale"], timeZone: row["timezone"], country: row["country"], industry: row["industry"],
                                          managerName: row["manager_name"], managerEmail: row["manager_email"], consent: try bool(row, "consent"))
            return try checked(row) { () throws in try store.upsertCustomer(id: id, changes, now: now) }
        case .products:
            let sku = try required(row, "sku")
            let changes = ProductChanges(name: row["name"], technical: try bool(row, "technical"), maintenanceDays: try whole(row, "maintenance_days"),
                                         maintenanceText: row["maintenance_text"], cycleDays: try whole(row, "cycle_days"),
                                         manualURL: row["manual_url"], videoURL: row["video_url"], partsURL: row["parts_url"],
                                         localizedNames: Self.localizedNames(row))
            return try checked(row) { () throws in try store.upsertProduct(sku: sku, changes, now: now) }
        case .shipments:
            let id = try required(row, "id")
            let orderID = try required(row, "order")
            var mode: ShipmentMode?
            if let text = row["mode"] { mode = try domain(row, "mode") { () throws(InvalidInput) in try ShipmentMode(parsing: text) } }
            let imported = ImportedShipment(id: id, orderID: orderID, carrier: row["carrier"], tracking: row["tracking"], trackingURL: row["tracking_url"],
                                            eta: try time(row, "eta", order: orderID), mode: mode, port: row["port"],
                                            dispatchedAt: try time(row, "dispatched_at", order: orderID), documents: row["documents"].map(Self.list))
            return try checked(row) { () throws in try store.upsertShipment(imported, now: now) }
        case .events:
            let shipmentID: String
            if let id = row["shipment"] {
                shipmentID = id
            } else if let tracking = row["tracking"] {
                guard let id = try store.shipmentID(tracking: tracking) else {
                    throw RowProblem(error(row, "tracking", "no shipment has this tracking number; import the shipment first"))
                }
                shipmentID = id
            } else {
                throw RowProblem(error(row, "shipment", "is required (or tracking)"))
            }
            let kindText = try required(row, "kind")
            let eventKind = try domain(row, "kind") { () throws(InvalidInput) in try ShipmentEventKind(parsing: kindText) }
            guard let at = try time(row, "at", shipment: shipmentID) else { throw RowProblem(error(row, "at", "is required: when it happened")) }
            let event = ShipmentEvent(shipmentID: shipmentID, kind: eventKind, at: at, location: row["location"], note: row["note"],
                                      newETA: try time(row, "eta", shipment: shipmentID), cause: row["cause"], remedy: row["remedy"],
                                      reason: row["reason"], signedBy: row["signed_by"])
            return try checked(row) { () throws in try store.importShipmentEvent(event, now: now) }
        case .complaints:
            let id = try required(row, "id")
            let orderID = try required(row, "order")
            let categoryText = try required(row, "category")
            let category = try domain(row, "category") { () throws(InvalidInput) in try ComplaintCategory(parsing: categoryText) }
            let text = try required(row, "text")
            let opened = try time(row, "opened_at", order: orderID)
            return try checked(row) { () throws in
                try store.upsertComplaint(id: id, orderID: orderID, category: category, text: text, openedAt: opened, now: now)
            }
        case .orders:
            return try checked(row) { () throws in try store.upsertOrder(try importedOrder([row]), now: now) }
        }
    }

    /// The order of rows sharing an id, checked cell by cell.
    private func importedOrder(_ rows: [ImportRow]) throws -> ImportedOrder {
        let first = rows[0]
        let id = try required(first, "id")
        let customer = try required(first, "customer")
        var lines: [OrderLine] = []
        for row in rows {
            if let other = row["customer"], other != customer {
                throw RowProblem(error(row, "customer", "differs from the customer of the order's first line (\(customer))"))
            }
            let sku = try required(row, "sku")
            guard let quantity = Int(try required(row, "quantity")), (1...1_000_000).contains(quantity) else {
                throw RowProblem(error(row, "quantity", "expected a whole number from 1 to 1000000"))
            }
            let price = try self.price(row, currency: first["currency"])
            lines.append(OrderLine(sku: try domain(row, "sku") { () throws(InvalidInput) in try Text.identifier(sku, field: "sku") },
                                   quantity: quantity, unitPriceMinor: price))
        }
        return ImportedOrder(id: id, customerID: customer, lines: lines, currency: first["currency"],
                             placedAt: try time(first, "placed_at", customer: customer),
                             completedAt: try time(first, "completed_at", customer: customer), cancelled: try bool(first, "cancelled"))
    }

    // MARK: Cells

    /// The `name.LOCALE` cells of a product row, by locale tag (nil when there are none).
    static func localizedNames(_ row: ImportRow) -> [String: String]? {
        var names: [String: String] = [:]
        for (column, value) in row.cells where column.hasPrefix("name.") { names[String(column.dropFirst(5))] = value }
        return names.isEmpty ? nil : names
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func required(_ row: ImportRow, _ column: String) throws -> String {
        guard let value = row[column] else { throw RowProblem(error(row, column, "is required")) }
        return value
    }

    private func bool(_ row: ImportRow, _ column: String) throws -> Bool? {
        guard let text = row[column] else { return nil }
        switch text.lowercased() {
        case "yes", "true", "1", "y": return true
        case "no", "false", "0", "n": return false
        default: throw RowProblem(error(row, column, "expected yes or no (true/false, 1/0)"))
        }
    }

    private func whole(_ row: ImportRow, _ column: String) throws -> Int? {
        guard let text = row[column] else { return nil }
        guard let number = Int(text) else { throw RowProblem(error(row, column, "expected a whole number")) }
        return number
    }

    /// A unit price: a whole number is in minor units (cents), a number with a decimal point in the
    /// currency's major units (`129.00` is 12900 cents of USD).
    private func price(_ row: ImportRow, currency: String?) throws -> Int64? {
        guard let cell = row["unit_price"] else { return nil }
        // Foundation's replacing was 5% of a re-import (perf, release); most prices have no thousands separator.
        let text = cell.utf8.contains(UInt8(ascii: ",")) ? cell.replacingOccurrences(of: ",", with: "") : cell
        if let minor = Int64(text), minor >= 0 { return minor }
        guard text.contains("."), let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), decimal >= 0 else {
            throw RowProblem(error(row, "unit_price", "expected a price: minor units (12900) or with a decimal point (129.00)"))
        }
        let digits = Self.minorDigits(currency ?? "USD")
        var scaled = decimal * Decimal(sign: .plus, exponent: digits, significand: 1)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    /// Digits after the decimal point of a currency (2 for USD, 0 for JPY), from Foundation's formatter.
    static func minorDigits(_ currency: String) -> Int {
        let formatter = NumberFormatter()
        formatter.numberStyle = .currency
        formatter.currencyCode = currency.uppercased()
        return formatter.maximumFractionDigits
    }

    /// A time: ISO 8601, or `YYYY-MM-DD HH:MM[:SS]` (also with `/`) in the customer's time zone.
    private func time(_ row: ImportRow, _ column: String, customer: String? = nil, order: String? = nil,
                               shipment: String? = nil) throws -> Date? {
        guard let text = row[column] else { return nil }
        // Each distinct text is parsed once an import: Foundation's ISO 8601 parse and the check that it
        // prints back as written were 8% of a re-import (perf, release, bench row 6b).
        if let date = zones.times[text] { return date }
        if let date = try? Timestamp.parse(text, field: column) {
            if zones.times.count >= 10_000 { zones.times.removeAll(keepingCapacity: true) }
            zones.times[text] = date
            return date
        }
        if text.split(separator: " ").count == 3, let date = Self.localTime(text, TimeZone(secondsFromGMT: 0)!) { return date }
        let key = customer.map { "c:" + $0 } ?? order.map { "o:" + $0 } ?? shipment.map { "s:" + $0 } ?? ""
        let zone: TimeZone?
        if let cached = zones.zones[key] {
            zone = cached
        } else {
            zone = try store.timeZone(customerID: customer, orderID: order, shipmentID: shipment)
            if zones.zones.count > 10_000 { zones.zones.removeAll() }
            zones.zones[key] = .some(zone)
        }
        guard let zone, let date = Self.localTime(text, zone) else {
            throw RowProblem(error(row, column, zone == nil && Self.localTime(text, TimeZone(secondsFromGMT: 0)!) != nil
                ? "a local time needs the customer's time zone, and the customer is not known; use ISO 8601 with an offset"
                : "expected an ISO 8601 time like 2026-11-23T09:30:00Z, or 2026-11-23 09:30 in the customer's time zone"))
        }
        return date
    }

    /// `YYYY-MM-DD HH:MM[:SS]` or `YYYY/MM/DD HH:MM[:SS]` as a wall-clock time in `zone`, or with a
    /// numeric offset after it (`2026-11-02 10:15:00 -0500`, as shop exports write it).
    static func localTime(_ text: String, _ zone: TimeZone) -> Date? {
        var parts = text.split(separator: " ", omittingEmptySubsequences: true)
        var zone = zone
        if parts.count == 3 {
            let offset = Array(parts[2].utf8)
            guard offset.count == 5, offset[0] == UInt8(ascii: "+") || offset[0] == UInt8(ascii: "-"),
                  let hours = Int(parts[2].dropFirst().prefix(2)), let minutes = Int(parts[2].suffix(2)), hours < 24, minutes < 60,
                  let fixed = TimeZone(secondsFromGMT: (hours * 3600 + minutes * 60) * (offset[0] == UInt8(ascii: "-") ? -1 : 1))
            else { return nil }
            zone = fixed
            parts.removeLast()
        }
        guard parts.count == 2 else { return nil }
        let day = parts[0].split(separator: parts[0].contains("/") ? "/" : "-", omittingEmptySubsequences: false).compactMap { Int($0) }
        let clock = parts[1].split(separator: ":", omittingEmptySubsequences: false).compactMap { Int($0) }
        guard day.count == 3, parts[0].count == 10, (2...3).contains(clock.count), parts[1].count == clock.count * 3 - 1,
              (1...12).contains(day[1]), (1...Timestamp.daysIn(day[0], day[1])).contains(day[2]),
              (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...59).contains(clock.count == 3 ? clock[2] : 0)
        else { return nil }
        return Timestamp.instant(year: day[0], month: day[1], day: day[2], minutes: clock[0] * 60 + clock[1], zone: zone)
            .addingTimeInterval(Double(clock.count == 3 ? clock[2] : 0))
    }

    // MARK: Errors

    private func error(_ row: ImportRow, _ column: String, _ message: String) -> ImportRowError {
        ImportRowError(line: row.line, column: names[column] ?? column, value: row[column] ?? "", message: message)
    }

    private func domain<T>(_ row: ImportRow, _ column: String, _ body: () throws(InvalidInput) -> T) throws -> T {
        do { return try body() } catch { throw RowProblem(self.error(row, column, error.problem)) }
    }

    private func checked<T>(_ row: ImportRow, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as AftersalesError { throw RowProblem(describe(error, row)) }
    }

    /// The column a store's refusal is about, with its value.
    private func describe(_ error: AftersalesError, _ row: ImportRow) -> ImportRowError {
        switch error {
        case .invalid(let input):
            let column = column(forField: input.field)
            return ImportRowError(line: row.line, column: names[column] ?? column, value: input.value, message: input.problem)
        case .notFound(let entity, let id):
            let column = switch entity {
            case "customer": "customer"
            case "product": "sku"
            case "order": kind == .orders ? "id" : "order"
            default: kind == .events && row["shipment"] == nil ? "tracking" : "shipment"
            }
            return ImportRowError(line: row.line, column: names[column] ?? column, value: id,
                                  message: "\(entity) \"\(id)\" does not exist; import the \(entity)s first")
        default:
            let column = kind.keyColumn
            return ImportRowError(line: row.line, column: names[column] ?? column, value: row[column] ?? "", message: error.description)
        }
    }

    private func column(forField field: String) -> String {
        switch (field, kind) {
        case ("at", .orders): "placed_at"
        case ("at", .shipments): "dispatched_at"
        case ("at", .complaints): "opened_at"
        case ("event", _): "kind"
        case ("line", _): "sku"
        case ("document", _): "documents"
        default: field.hasPrefix("name.") ? field : field.replacingOccurrences(of: "-", with: "_")
        }
    }
}

/// The time zones of the customers whose local times a file gives (a file's rows share them), and the
/// ISO 8601 times already read (a file's rows repeat them), each bounded.
final class ZoneCache: @unchecked Sendable {
    var zones: [String: TimeZone?] = [:]
    var times: [String: Date] = [:]
}

/// A refused row, with its line and column (never leaves the importer).
struct RowProblem: Error {
    var error: ImportRowError
    init(_ error: ImportRowError) { self.error = error }
}
