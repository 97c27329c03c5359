import AftersalesDomain
@testable import AftersalesKit
import AftersalesPlanning
import Foundation
import GRDB
import Testing

/// The delay notice is flagged when it goes out less than 24 h before the ETA it corrects: the ETA in
/// force just before the delay (the previous delay's new ETA, for the first one the ETA given at
/// dispatch), not the shipment's stored ETA, which every delay overwrites.
@Suite("Delay notices: the ETA a delay corrects")
struct DelayETATests {
    static let late = "less than 24 h before the ETA it corrects"

    /// A Mexican buyer's order O1, placed on 2026-11-01.
    static func order(_ ws: Workspace) throws {
        _ = try ws.store.addCustomer(id: "C1", CustomerChanges(name: "Lucía", email: "lucia@example.mx", locale: "es-MX",
                                                               timeZone: "America/Mexico_City", country: "MX", consent: true), now: ws.now)
        _ = try ws.store.addProduct(sku: "PUMP", ProductChanges(name: "Pump"), now: ws.now)
        _ = try ws.store.addOrder(id: "O1", customerID: "C1", lines: [OrderLine(sku: "PUMP", quantity: 1)], currency: "USD",
                                  at: t("2026-11-01T15:00:00Z"), now: ws.now)
    }

    @Test("recorded and planned through the store: the first delay is measured against the dispatch ETA, a later one against the previous delay's")
    func throughTheStore() throws {
        let tw = try TestWorkspace()
        var ws = try tw.open("2026-11-19T12:05:00Z")
        try Self.order(ws)
        _ = try ws.store.dispatch(Shipment(id: "S1", orderID: "O1", carrier: "Maersk", trackingNumber: "M1",
                                           dispatchedAt: t("2026-11-03T14:00:00Z"), eta: t("2026-11-20T00:00:00Z")), now: ws.now)
        // 12 h before the dispatch ETA: late. Then, 5 days before the new ETA: in time.
        for (at, eta, planned) in [("2026-11-19T12:00:00Z", "2026-11-30T00:00:00Z", "2026-11-19T12:05:00Z"),
                                   ("2026-11-25T00:00:00Z", "2026-12-05T00:00:00Z", "2026-11-25T00:05:00Z")] {
            ws = try tw.open(planned)
            _ = try ws.store.recordShipmentEvent(ShipmentEvent(shipmentID: "S1", kind: .delayed, at: t(at), newETA: t(eta), cause: "port congestion"),
                                                 now: ws.now)
            _ = try ws.plan()
        }
        let stored = try ws.store.shipment(id: "S1").shipment
        #expect(stored.eta == t("2026-12-05T00:00:00Z") && stored.dispatchETA == t("2026-11-20T00:00:00Z"))
        let first = try ws.store.outboxEntry(key: "delay-notice/S1/20261119T120000Z").mail
        #expect(first.flags.contains { $0.contains("\(Self.late) (2026-11-20T00:00:00Z)") }, "\(first.flags)")
        let second = try ws.store.outboxEntry(key: "delay-notice/S1/20261125T000000Z").mail
        #expect(!second.flags.contains { $0.contains(Self.late) }, "\(second.flags)")
        // The first notice quotes the dispatch ETA as the date it corrects (19 November in Mexico City), not the stored one.
        let facts = try #require(try ws.store.customerFacts(id: "C1"))
        let text = try sampleRenderer().parts(first, facts: facts, locale: "en").text
        let line = { (label: String) in text.split(separator: "\n").first { $0.hasPrefix(label) }.map(String.init) ?? "" }
        #expect(line("Previous arrival date:").contains("19") && line("New estimated arrival:").contains("29"), "\(text)")
    }

    @Test("an import's later ETA is a delay measured against the ETA the shipment was imported with")
    func throughAnImport() throws {
        let tw = try TestWorkspace()
        let ws = try tw.open("2026-11-19T12:00:00Z")
        let now = ws.now
        try Self.order(ws)
        let imported = ImportedShipment(id: "S1", orderID: "O1", carrier: "Maersk", tracking: "M1", eta: t("2026-11-20T00:00:00Z"),
                                        dispatchedAt: t("2026-11-03T14:00:00Z"))
        #expect(try ws.store.upsertShipment(imported, now: now) == .new)
        var revised = imported
        revised.eta = t("2026-11-30T00:00:00Z")
        #expect(try ws.store.upsertShipment(revised, now: now) == .updated)
        _ = try ws.plan()
        let notice = try ws.store.outboxEntry(key: "delay-notice/S1/20261119T120000Z").mail
        #expect(notice.flags.contains { $0.contains("\(Self.late) (2026-11-20T00:00:00Z)") }, "\(notice.flags)")
    }

    @Test("v8-shipment-dispatch-eta: stored shipments get the ETA they were dispatched with, from the event log when a delay overwrote it")
    func migration() throws {
        var configuration = GRDB.Configuration()
        configuration.foreignKeysEnabled = false  // shipments without their orders: only the migration is under test
        let queue = try DatabaseQueue(configuration: configuration)
        try Schema.migrator.migrate(queue, upTo: "v7-19-complaint-source")
        // Rows as the previous version wrote them: GRDB's dates; the dispatch logged with its payload (ISO 8601 dates), a delay
        // inserted as an event and written over the shipment's ETA.
        try queue.write { db in
            for (id, eta) in [("S-PLAIN", "2026-11-20 00:00:00.000"), ("S-DELAYED", "2026-11-30 00:00:00.000"), ("S-UNLOGGED", "2026-11-30 00:00:00.000")] {
                try db.execute(sql: """
                    INSERT INTO shipments (id, orderID, carrier, trackingNumber, mode, dispatchedAt, eta, destinationCountry, documents)
                    VALUES (?, 'O1', 'Maersk', 'M1', 'sea', '2026-11-03 14:00:00.000', ?, 'MX', '["packing list"]')
                    """, arguments: [id, eta])
            }
            for id in ["S-PLAIN", "S-DELAYED"] {
                let eta = id == "S-PLAIN" ? "2026-11-20T00:00:00Z" : "2026-11-19T06:30:00Z"
                try db.execute(sql: """
                    INSERT INTO events (kind, subject, customerID, orderID, occurredAt, recordedAt, payload)
                    VALUES ('shipment.dispatched', ?, 'C1', 'O1', '2026-11-03 14:00:00.000', '2026-11-03 14:00:00.000', ?)
                    """, arguments: [id, #"{"carrier":"Maersk","destinationCountry":"MX","dispatchedAt":"2026-11-03T14:00:00Z","documents":["packing list"],"eta":"\#(eta)","id":"\#(id)","mode":"sea","orderID":"O1","trackingNumber":"M1"}"#])
            }
            for id in ["S-DELAYED", "S-UNLOGGED"] {
                try db.execute(sql: """
                    INSERT INTO shipment_events (shipmentID, kind, at, newETA, cause) VALUES (?, 'delayed', '2026-11-19 00:00:00.000', '2026-11-30 00:00:00.000', 'port congestion')
                    """, arguments: [id])
            }
        }
        try Schema.migrator.migrate(queue)
        let (shipments, events) = try queue.read { db in
            (Dictionary(uniqueKeysWithValues: try Shipment.fetchAll(db).map { ($0.id, $0) }),
             try ShipmentEvent.filter(ShipmentEvent.Columns.shipmentID == "S-DELAYED").fetchAll(db))
        }
        #expect(shipments["S-PLAIN"]?.dispatchETA == t("2026-11-20T00:00:00Z"))
        #expect(shipments["S-DELAYED"]?.dispatchETA == t("2026-11-19T06:30:00Z") && shipments["S-DELAYED"]?.eta == t("2026-11-30T00:00:00Z"))
        #expect(shipments["S-UNLOGGED"]?.dispatchETA == t("2026-11-30T00:00:00Z"), "no dispatch in the log: the stored ETA, the best left")
        // The planner, on the migrated shipment: the delay came less than 24 h before the dispatch ETA.
        var b = FactsBuilder()
        let delayed = try #require(shipments["S-DELAYED"])
        b.order("O1", "2026-11-01T15:00:00Z") { o in o.shipments = [TrackedShipment(shipment: delayed, events: events)] }
        let notice = try #require(b.plan(now: "2026-11-19T00:05:00Z")["delay-notice/S-DELAYED/20261119T000000Z"])
        #expect(notice.flags.contains { $0.contains("\(Self.late) (2026-11-19T06:30:00Z)") }, "\(notice.flags)")
    }
}
