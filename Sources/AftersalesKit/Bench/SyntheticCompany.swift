import AftersalesDomain
import Foundation

/// A deterministic generator of an export company's history (same seed, same data), written
/// through the same store methods the commands use. Scale 1 is about 1,000 orders and 100
/// customers; scale 1000 about 1,000,000 orders and 100,000 customers.
public struct SyntheticCompany: Sendable {
    public var scale: Double
    public var seed: UInt64
    /// The instant the history ends at.
    public var now: Date
    /// Years of history before `now`.
    public var years: Double = 3

    public init(scale: Double, seed: UInt64 = 42, now: Date) {
        self.scale = scale
        self.seed = seed
        self.now = now
    }

    /// What was generated.
    public struct Counts: Sendable, Codable, Equatable {
        public var customers = 0, products = 0, orders = 0, shipments = 0, events = 0, complaints = 0, surveys = 0, reviews = 0
    }

    /// SplitMix64: small, fast, and the same everywhere.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    }

    /// 26 markets: country, locale, time zone.
    static let markets: [(String, String, String)] = [
        ("MX", "es-MX", "America/Mexico_City"), ("BR", "pt-BR", "America/Sao_Paulo"), ("AR", "es-AR", "America/Argentina/Buenos_Aires"),
        ("CO", "es-CO", "America/Bogota"), ("US", "en-US", "America/New_York"), ("CA", "fr-CA", "America/Toronto"),
        ("DE", "de", "Europe/Berlin"), ("FR", "fr", "Europe/Paris"), ("ES", "es", "Europe/Madrid"), ("IT", "it", "Europe/Rome"),
        ("GB", "en-GB", "Europe/London"), ("RU", "ru", "Europe/Moscow"), ("TR", "tr", "Europe/Istanbul"), ("SA", "ar-SA", "Asia/Riyadh"),
        ("AE", "ar-AE", "Asia/Dubai"), ("EG", "ar-EG", "Africa/Cairo"), ("NG", "en-NG", "Africa/Lagos"), ("KE", "en-KE", "Africa/Nairobi"),
        ("ZA", "en-ZA", "Africa/Johannesburg"), ("IN", "en-IN", "Asia/Kolkata"), ("TH", "th", "Asia/Bangkok"), ("VN", "vi", "Asia/Ho_Chi_Minh"),
        ("ID", "id", "Asia/Jakarta"), ("CN", "zh-Hans", "Asia/Shanghai"), ("JP", "ja", "Asia/Tokyo"), ("AU", "en-AU", "Australia/Sydney"),
    ]

    /// Generates the history into `store`; customers are written in batches of one transaction each.
    public func generate(into store: AftersalesStore, batchSize: Int = 250) throws(AftersalesError) -> Counts {
        var random = Random(state: seed)
        var counts = Counts()
        let orderTarget = max(10, Int((1000 * scale).rounded()))
        let customerCount = max(5, orderTarget / 10)
        let start = now.addingTimeInterval(-years * 365 * 86_400)
        let productCount = 40
        try store.batch { store in
            for p in 0..<productCount {
                let maintenance = p % 2 == 0
                _ = try store.addProduct(sku: String(format: "P-%03d", p), ProductChanges(
                    name: "Product \(p)", technical: p % 3 == 0, maintenanceDays: maintenance ? 90 : nil,
                    maintenanceText: maintenance ? "Clean and lubricate" : nil, cycleDays: 30 + (p * 37) % 335,
                    manualURL: "https://example.com/manuals/\(p).pdf"), now: now)
            }
        }
        counts.products = productCount
        var customer = 0
        // Each customer's share of the orders, the remainder to the first ones.
        func share(_ index: Int) -> Int { orderTarget / customerCount + (index < orderTarget % customerCount ? 1 : 0) }
        while customer < customerCount {
            let end = min(customer + batchSize, customerCount)
            let range = customer..<end
            var local = random
            let batchCounts = try store.batch { store -> Counts in
                var c = Counts()
                for index in range {
                    c = Self.add(customer: index, orders: share(index), store: store, random: &local, counts: c, start: start, now: now, productCount: productCount)
                }
                return c
            }
            random = Random(state: random.state &+ UInt64(end))
            customer = end
            counts.customers += batchCounts.customers
            counts.orders += batchCounts.orders
            counts.shipments += batchCounts.shipments
            counts.events += batchCounts.events
            counts.complaints += batchCounts.complaints
            counts.surveys += batchCounts.surveys
            counts.reviews += batchCounts.reviews
        }
        return counts
    }

    /// One customer with a repeat-purchase pattern and everything that follows each order.
    static func add(customer index: Int, orders: Int, store: AftersalesStore, random: inout Random, counts: Counts,
                    start: Date, now: Date, productCount: Int) -> Counts {
        var c = counts
        let (country, locale, zone) = markets[index % markets.count]
        let id = String(format: "C%06d", index)
        do {
            _ = try store.addCustomer(id: id, CustomerChanges(
                name: "Buyer \(index)", company: "Company \(index)", email: "buyer\(index)@example-\(country.lowercased()).com",
                locale: locale, timeZone: zone, country: country, industry: random.pick(["agrochemicals", "water", "hardware", "construction"]),
                managerName: index % 4 == 0 ? "Manager \(index % 17)" : nil, managerEmail: index % 4 == 0 ? "manager\(index % 17)@example.com" : nil,
                consent: random.chance(0.6)), now: start)
            c.customers += 1
        } catch { return c }
        let favourite = String(format: "P-%03d", random.int(0...(productCount - 1)))
        let second = String(format: "P-%03d", random.int(0...(productCount - 1)))
        // The customer's own rhythm: their orders spread over the history, with some jitter, each
        // customer at its own phase, so that the latest orders of some are still on their way.
        let cycle = max(7 * 86_400, now.timeIntervalSince(start) / Double(max(orders, 1)))
        var placed = start.addingTimeInterval(cycle * Double(random.int(0...1000)) / 1000)
        for n in 0..<orders {
            if placed > now.addingTimeInterval(-3600) { break }
            let orderID = "\(id)-O\(n)"
            var lines = [OrderLine(sku: favourite, quantity: random.int(1...20), unitPriceMinor: Int64(random.int(1_000...200_000)))]
            if random.chance(0.3), second != favourite { lines.append(OrderLine(sku: second, quantity: random.int(1...5), unitPriceMinor: 5_000)) }
            guard (try? store.addOrder(id: orderID, customerID: id, lines: lines, currency: "USD", at: placed, now: now)) != nil else { break }
            c.orders += 1
            c.events += 1
            let dispatched = placed.addingTimeInterval(Double(random.int(1...3)) * 86_400)
            if dispatched < now {
                let mode = random.pick([ShipmentMode.sea, .sea, .air, .express, .rail])
                let transit = Double(mode == .sea ? random.int(20...40) : mode == .rail ? random.int(15...25) : random.int(3...8)) * 86_400
                let eta = dispatched.addingTimeInterval(transit)
                let shipmentID = "\(orderID)-S1"
                if (try? store.dispatch(Shipment(id: shipmentID, orderID: orderID, carrier: random.pick(["Maersk", "MSC", "DHL", "FedEx", "COSCO"]),
                                                 trackingNumber: "TRK\(index)\(n)", mode: mode, dispatchedAt: dispatched, eta: eta), now: now)) != nil {
                    c.shipments += 1
                    c.events += 1
                    var events: [ShipmentEvent] = []
                    events.append(ShipmentEvent(shipmentID: shipmentID, kind: .inTransit, at: dispatched.addingTimeInterval(2 * 86_400), location: "Hub"))
                    var arrival = eta
                    if random.chance(0.05) {
                        arrival = eta.addingTimeInterval(Double(random.int(2...10)) * 86_400)
                        events.append(ShipmentEvent(shipmentID: shipmentID, kind: .delayed, at: dispatched.addingTimeInterval(3 * 86_400),
                                                    newETA: arrival, cause: "port congestion", remedy: "priority on the next vessel"))
                    }
                    if random.chance(0.3) { events.append(ShipmentEvent(shipmentID: shipmentID, kind: .atCustoms, at: arrival.addingTimeInterval(-2 * 86_400))) }
                    if random.chance(0.03) { events.append(ShipmentEvent(shipmentID: shipmentID, kind: .held, at: arrival.addingTimeInterval(-86_400), reason: "missing licence")) }
                    events.append(ShipmentEvent(shipmentID: shipmentID, kind: .delivered, at: arrival, signedBy: "Receiver"))
                    for event in events where event.at < now {
                        if (try? store.recordShipmentEvent(event, now: now)) != nil { c.events += 1 }
                    }
                    let completed = arrival.addingTimeInterval(5 * 86_400)
                    if completed < now, (try? store.completeOrder(id: orderID, at: completed, now: now)) != nil {
                        c.events += 1
                        if random.chance(0.03) {
                            let complaintID = "\(orderID)-K"
                            let opened = arrival.addingTimeInterval(86_400)
                            if (try? store.openComplaint(id: complaintID, orderID: orderID, category: random.pick(ComplaintCategory.allCases),
                                                         text: "Problem with order \(orderID)", at: opened, now: now)) != nil {
                                c.complaints += 1
                                if opened.addingTimeInterval(3 * 86_400) < now {
                                    _ = try? store.advanceComplaint(id: complaintID, .resolve("replaced"), at: opened.addingTimeInterval(2 * 86_400), now: now)
                                    _ = try? store.advanceComplaint(id: complaintID, .rate(random.int(1...5)), at: opened.addingTimeInterval(3 * 86_400), now: now)
                                }
                            }
                        }
                        if random.chance(0.2), completed.addingTimeInterval(4 * 86_400) < now {
                            if (try? store.recordSurvey(SurveyAnswer(orderID: orderID, score: random.int(0...10), reason: "ok",
                                                                     answeredAt: completed.addingTimeInterval(4 * 86_400)), now: now)) != nil { c.surveys += 1 }
                        }
                        if random.chance(0.1), completed.addingTimeInterval(6 * 86_400) < now {
                            if (try? store.recordReview(Review(orderID: orderID, positive: random.chance(0.8), text: "fine",
                                                               reviewedAt: completed.addingTimeInterval(6 * 86_400)), now: now)) != nil { c.reviews += 1 }
                        }
                    }
                }
            }
            placed = placed.addingTimeInterval(cycle * (0.9 + Double(random.int(0...20)) / 100))
        }
        return c
    }

    /// Marks every planned mail due before `now` as sent: the history's mail already went out.
    public static func markPastMailSent(in store: AftersalesStore, now: Date) throws(AftersalesError) -> Int {
        try store.write { db in
            try db.execute(sql: "UPDATE outbox SET status = 'sent', sentAt = due, updatedAt = due WHERE status IN ('planned', 'held') AND due < ?",
                           arguments: [now])
            return db.changesCount
        }
    }
}
