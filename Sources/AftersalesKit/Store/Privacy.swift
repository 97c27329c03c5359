import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

/// Everything stored about one customer (GDPR access): every row of every table that concerns them,
/// column by column as stored, and the archived bytes of every mail.
public struct CustomerRecords: Sendable {
    /// Table name → its rows about the customer, each a JSON object of every stored column.
    public var json: Data
    /// The archived bytes of each mail, by outbox key.
    public var mails: [(key: String, eml: Data)]
}

/// What an erase did.
public struct Erasure: Sendable, Hashable, Encodable {
    public var customerID: String
    /// Pending mail cancelled with the reason "erased".
    public var cancelled: [String] = []
    /// Archived messages whose bytes were deleted (their SHA-256 and Message-ID stay).
    public var archivesDeleted = 0
    /// Addresses now kept only as a hash in the suppression list.
    public var addressesHashed = 0
    /// Open orders and complaints erased anyway (`--force`).
    public var forcedOver: [String] = []
}

/// The personal data of one customer, as erase finds and replaces it.
enum PersonalData {
    /// What an erased text reads.
    static let erased = "(erased)"
    /// Keys of event payloads whose values are personal.
    static let payloadKeys: Set<String> = ["name", "company", "email", "cc", "manager", "text", "signedBy"]

    /// The suppression key of an address kept only as a hash: `sha256:` and 64 hex digits of the lowercased address.
    static func hash(_ address: String) -> String {
        "sha256:" + Workspace.sha256Hex(Array(address.lowercased().utf8))
    }

    /// The address an erased customer gets: no personal data, and a reserved domain (RFC 2606) that never receives mail.
    static func placeholder(_ customerID: String) -> String {
        "erased-" + hash(customerID).dropFirst("sha256:".count).prefix(12) + "@erased.invalid"
    }

    /// `text` with every personal string in it replaced.
    static func scrub(_ text: String, _ strings: [String]) -> String {
        strings.reduce(text) { $0.replacingOccurrences(of: $1, with: erased, options: .caseInsensitive) }
    }

    /// A JSON text with its personal values replaced: the values of ``payloadKeys`` wholly, personal strings anywhere.
    static func scrubJSON(_ text: String, _ strings: [String]) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return scrub(text, strings) }
        func walk(_ value: Any, key: String?) -> Any {
            if let key, payloadKeys.contains(key), !(value is NSNull) {
                if value is [Any] { return [String]() }
                return value is String ? erased : NSNull()
            }
            switch value {
            case let s as String: return scrub(s, strings)
            case let a as [Any]: return a.map { walk($0, key: nil) }
            case let d as [String: Any]: return Dictionary(uniqueKeysWithValues: d.map { ($0.key, walk($0.value, key: $0.key)) })
            default: return value
            }
        }
        let cleaned = walk(object, key: nil)
        guard let data = try? JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) else {
            return scrub(text, strings)
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension AftersalesStore {
    /// The SQL that chooses the customer's rows in each table (one argument: the customer's id), in export order.
    static let customerTables: [(table: String, where: String)] = [
        ("customers", "id = ?1"),
        ("orders", "customerID = ?1"),
        ("order_lines", "orderID IN (SELECT id FROM orders WHERE customerID = ?1)"),
        ("shipments", "orderID IN (SELECT id FROM orders WHERE customerID = ?1)"),
        ("shipment_events", "shipmentID IN (SELECT s.id FROM shipments s JOIN orders o ON o.id = s.orderID WHERE o.customerID = ?1)"),
        ("complaints", "orderID IN (SELECT id FROM orders WHERE customerID = ?1)"),
        ("surveys", "orderID IN (SELECT id FROM orders WHERE customerID = ?1)"),
        ("reviews", "orderID IN (SELECT id FROM orders WHERE customerID = ?1)"),
        ("events", "customerID = ?1 OR orderID IN (SELECT id FROM orders WHERE customerID = ?1)"),
        ("outbox", "customerID = ?1"),
        ("outbox_history", "key IN (SELECT key FROM outbox WHERE customerID = ?1)"),
        // Issue 19: the replies and bounces received from them (their bytes go in the JSON as base64).
        ("inbound_messages", "customerID = ?1 OR orderID IN (SELECT id FROM orders WHERE customerID = ?1)"),
    ]

    /// Every stored field of the customer and of everything about them (orders, lines, shipments and
    /// their events, complaints, surveys, reviews, the event log with the consent history, every outbox
    /// entry with its history, the suppressions of their addresses), and every archived mail's bytes.
    public func customerRecords(id: String) throws(AftersalesError) -> CustomerRecords {
        try read { db in
            let customer = try Self.customer(db, id)
            var tables: [String: Any] = [:]
            for (table, condition) in Self.customerTables {
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) WHERE \(condition)", arguments: [id])
                tables[table] = rows.map(Self.jsonObject)
            }
            let addresses = ([customer.email] + customer.cc).map(\.value).map { $0.lowercased() }
            let suppressions = try Row.fetchAll(db, sql: "SELECT * FROM suppressions WHERE address IN (SELECT value FROM json_each(?))",
                                                arguments: [OutboxJSON.array(addresses + addresses.map(PersonalData.hash))])
            tables["suppressions"] = suppressions.map(Self.jsonObject)
            let mails = try Row.fetchAll(db, sql: """
                SELECT a.key, a.eml FROM outbox_archive a JOIN outbox o ON o.key = a.key WHERE o.customerID = ? ORDER BY a.key
                """, arguments: [id]).map { (key: $0["key"] as String, eml: $0["eml"] as Data) }
            let json = try JSONSerialization.data(withJSONObject: tables, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return CustomerRecords(json: json, mails: mails)
        }
    }

    /// A row as a JSON object: every column as stored (JSON columns parsed, blobs in base64).
    static func jsonObject(_ row: Row) -> [String: Any] {
        var object: [String: Any] = [:]
        for (column, value) in row {
            switch value.storage {
            case .null: object[column] = NSNull()
            case .int64(let n): object[column] = n
            case .double(let d): object[column] = d
            case .string(let s):
                if let first = s.first, first == "[" || first == "{", let parsed = try? JSONSerialization.jsonObject(with: Data(s.utf8)) {
                    object[column] = parsed
                } else {
                    object[column] = s
                }
            case .blob(let data): object[column] = data.base64EncodedString()
            }
        }
        return object
    }

    /// The customer's open orders and open complaints, by id (what erase refuses to erase without `--force`).
    static func openBusiness(_ db: Database, customerID: String) throws -> [String] {
        let orders = try String.fetchAll(db, sql: "SELECT id FROM orders WHERE customerID = ? AND completedAt IS NULL AND cancelledAt IS NULL ORDER BY id",
                                         arguments: [customerID])
        let complaints = try String.fetchAll(db, sql: """
            SELECT c.id FROM complaints c JOIN orders o ON o.id = c.orderID WHERE o.customerID = ? AND c.resolvedAt IS NULL ORDER BY c.id
            """, arguments: [customerID])
        return orders.map { "order \($0)" } + complaints.map { "complaint \($0)" }
    }

    /// Erases the customer's personal data (GDPR): name, company, email, cc and manager fields are
    /// replaced, the free texts of their complaints, surveys, reviews and shipment receipts and every
    /// copy in the event log and outbox are scrubbed, archived mail bytes are deleted (their SHA-256
    /// and Message-ID stay), pending mail is cancelled with the reason "erased" (by the outbox machine),
    /// and their addresses stay in the suppression list only as hashes. Refuses while orders or
    /// complaints are open, naming them, unless `force`. SQLite's `secure_delete` zeroes what the
    /// writes free, then the file is rebuilt (VACUUM) and the write-ahead log emptied, so that no byte
    /// of the erased data stays in the database file or its log.
    public func eraseCustomer(id: String, force: Bool, now: Date) throws(AftersalesError) -> Erasure {
        let writer = self.writer
        let erasure = try Self.map(path: path) { () throws -> Erasure in
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA secure_delete = ON")
                defer { try? db.execute(sql: "PRAGMA secure_delete = OFF") }
                var erasure = Erasure(customerID: id)
                try db.inTransaction(.immediate) {
                    erasure = try Self.erase(db, id: id, force: force, now: now)
                    return .commit
                }
                return erasure
            }
        }
        // Outside any transaction: rebuild the file (nothing freed survives) and empty the log.
        guard path != ":memory:" else { return erasure }
        try Self.map(path: path) {
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                try db.checkpoint(.truncate)
            }
        }
        return erasure
    }

    static func erase(_ db: Database, id: String, force: Bool, now: Date) throws -> Erasure {
        var customer = try Self.customer(db, id)
        var erasure = Erasure(customerID: id)
        let open = try openBusiness(db, customerID: id)
        if !open.isEmpty {
            guard force else {
                throw AftersalesError.conflict("customer \"\(id)\" has open business: \(open.joined(separator: ", ")); complete, cancel or resolve it first, or pass --force to erase anyway")
            }
            erasure.forcedOver = open
        }
        let orders = "SELECT id FROM orders WHERE customerID = ?1"
        // Every personal string, longest first (a name inside an address is replaced with the address).
        var strings = [customer.name, customer.company ?? "", customer.email.value] + customer.cc.map(\.value)
        if let manager = customer.manager { strings += [manager.name, manager.email.value] }
        for (table, column) in [("complaints", "text"), ("complaints", "solution"), ("complaints", "resolution")] {
            strings += try String.fetchAll(db, sql: "SELECT \(column) FROM \(table) WHERE orderID IN (\(orders)) AND \(column) IS NOT NULL", arguments: [id])
        }
        strings += try String.fetchAll(db, sql: "SELECT reason FROM surveys WHERE orderID IN (\(orders)) AND reason IS NOT NULL", arguments: [id])
        strings += try String.fetchAll(db, sql: "SELECT text FROM reviews WHERE orderID IN (\(orders)) AND text IS NOT NULL", arguments: [id])
        strings += try String.fetchAll(db, sql: """
            SELECT signedBy FROM shipment_events WHERE signedBy IS NOT NULL AND shipmentID IN (SELECT id FROM shipments WHERE orderID IN (\(orders)))
            """, arguments: [id])
        strings = Array(Set(strings.filter { $0.count >= 2 })).sorted { $0.count > $1.count }
        let addresses = ([customer.email] + customer.cc).map { $0.value.lowercased() }

        // Pending mail: cancelled by the outbox machine, with the reason "erased".
        for entry in try OutboxEntry.filter(OutboxEntry.Columns.customerID == id).fetchAll(db) where entry.status.isPending {
            let transition = try OutboxMachine.transition(.cancel(reason: "erased"), from: entry.state, now: now)
            if try apply(db, transition, key: entry.key, now: now) { erasure.cancelled.append(entry.key) }
        }
        // Nothing of an erased customer is revived by a later plan.
        try db.execute(sql: "UPDATE outbox SET cancelledByPlanner = 0 WHERE customerID = ?", arguments: [id])
        // The customer.
        let placeholder = EmailAddress(unchecked: PersonalData.placeholder(id))
        customer.name = PersonalData.erased
        customer.company = nil
        customer.email = placeholder
        customer.cc = []
        customer.manager = nil
        customer.consent = false
        customer.unsubscribedAt = customer.unsubscribedAt ?? now
        try customer.update(db)
        // Free texts.
        let text = PersonalData.erased
        try db.execute(sql: "UPDATE complaints SET text = ?2, solution = CASE WHEN solution IS NULL THEN NULL ELSE ?2 END, resolution = CASE WHEN resolution IS NULL THEN NULL ELSE ?2 END WHERE orderID IN (\(orders))", arguments: [id, text])
        try db.execute(sql: "UPDATE surveys SET reason = ?2 WHERE orderID IN (\(orders)) AND reason IS NOT NULL", arguments: [id, text])
        try db.execute(sql: "UPDATE reviews SET text = ?2 WHERE orderID IN (\(orders)) AND text IS NOT NULL", arguments: [id, text])
        try db.execute(sql: "UPDATE shipment_events SET signedBy = ?2 WHERE signedBy IS NOT NULL AND shipmentID IN (SELECT id FROM shipments WHERE orderID IN (\(orders)))", arguments: [id, text])
        // Copies in the event log and the outbox.
        for row in try Row.fetchAll(db, sql: "SELECT seq, payload FROM events WHERE customerID = ?1 OR orderID IN (\(orders))", arguments: [id]) {
            try db.execute(sql: "UPDATE events SET payload = ? WHERE seq = ?", arguments: [PersonalData.scrubJSON(row["payload"], strings), row["seq"] as Int64])
        }
        let outboxRows = try Row.fetchAll(db, sql: "SELECT key, reasons, context, reason, serverReply FROM outbox WHERE customerID = ?", arguments: [id])
        for row in outboxRows {
            let key: String = row["key"]
            try db.execute(sql: "UPDATE outbox SET toAddresses = ?, ccAddresses = '[]', reasons = ?, context = ?, reason = ?, serverReply = ? WHERE key = ?",
                           arguments: [OutboxJSON.array([placeholder.value]), PersonalData.scrubJSON(row["reasons"], strings),
                                       PersonalData.scrubJSON(row["context"], strings), (row["reason"] as String?).map { PersonalData.scrub($0, strings) },
                                       (row["serverReply"] as String?).map { PersonalData.scrub($0, strings) }, key])
            for history in try Row.fetchAll(db, sql: "SELECT id, reason FROM outbox_history WHERE key = ? AND reason IS NOT NULL", arguments: [key]) {
                let reason: String = history["reason"]
                let scrubbed = PersonalData.scrub(reason, strings)
                if scrubbed != reason { try db.execute(sql: "UPDATE outbox_history SET reason = ? WHERE id = ?", arguments: [scrubbed, history["id"] as Int64]) }
            }
        }
        // Received mail (issue 19): its bytes, sender and subject go; SHA-256, Message-ID and times stay.
        try db.execute(sql: """
            UPDATE inbound_messages SET eml = NULL, fromAddress = ?2, subject = ?3, note = NULL
            WHERE customerID = ?1 OR orderID IN (\(orders))
            """, arguments: [id, placeholder.value, text])
        for address in Set(addresses) {
            try db.execute(sql: "UPDATE soft_bounces SET address = ? WHERE lower(address) = ?", arguments: [PersonalData.hash(address), address])
        }
        // Archived bytes go; their SHA-256 and Message-ID stay in the outbox row.
        try db.execute(sql: "DELETE FROM outbox_archive WHERE key IN (SELECT key FROM outbox WHERE customerID = ?)", arguments: [id])
        erasure.archivesDeleted = db.changesCount
        // Suppressions: the addresses only as hashes, so that the same address added again is not mailed without new consent.
        try db.execute(sql: "DELETE FROM suppressions WHERE address IN (SELECT value FROM json_each(?))", arguments: [OutboxJSON.array(addresses)])
        for address in Set(addresses) {
            try db.execute(sql: "INSERT OR REPLACE INTO suppressions (address, reason, at) VALUES (?, ?, ?)",
                           arguments: [PersonalData.hash(address), "erased (customer \(id)); mail to this address needs new consent", now])
            erasure.addressesHashed += 1
        }
        try db.execute(sql: "INSERT OR REPLACE INTO suppressions (address, reason, at) VALUES (?, ?, ?)",
                       arguments: [placeholder.value, "erased customer \(id)", now])
        // A fact like any other, so that the planner re-plans the customer over the anonymised record.
        try log(db, .customerUpdated, subject: id, customerID: id, orderID: nil, at: now, now: now, payload: ["erased": Timestamp.utc(now)])
        return erasure
    }

    /// New consent lifts the hashed suppression of an erased customer's addresses (called when a customer is added or updated).
    static func liftErasure(_ db: Database, _ customer: Customer, now: Date) throws {
        guard customer.consent, customer.consentAt == now else { return }
        let hashes = ([customer.email] + customer.cc).map { PersonalData.hash($0.value) }
        try db.execute(sql: "DELETE FROM suppressions WHERE address IN (SELECT value FROM json_each(?))", arguments: [OutboxJSON.array(hashes)])
    }

    /// The suppression of `address`, plain (a hard bounce) or hashed (an erased customer), among `suppressed`.
    static func suppression(of address: String, in suppressed: [String: String]) -> String? {
        let lowered = address.lowercased()
        return suppressed[lowered] ?? suppressed[PersonalData.hash(lowered)]
    }
}
