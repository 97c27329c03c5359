import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

/// `order add` and import's bulk path check a new order in one place (``AftersalesStore/placing``): the same
/// order is accepted or refused by both, with the same error.
@Suite("New orders: one set of checks for order add and import")
struct NewOrderChecksTests {
    let now = t("2026-11-23T10:00:00Z")

    func store() throws -> AftersalesStore {
        let store = try AftersalesStore(writer: DatabaseQueue())
        _ = try store.addCustomer(id: "C1", CustomerChanges(name: "Lucía", email: "lucia@example.mx", locale: "es-MX",
                                                            timeZone: "America/Mexico_City", country: "MX"), now: now)
        _ = try store.addProduct(sku: "P1", ProductChanges(name: "Pump"), now: now)
        return store
    }

    /// What `order add` and import make of the same new order: the stored order, or the error.
    func both(id: String = "O1", customer: String = "C1", lines: [OrderLine] = [OrderLine(sku: "P1", quantity: 2)], currency: String = "USD",
              at: Date? = nil) throws -> (added: Result<Order, AftersalesError>, imported: Result<Order, AftersalesError>) {
        let at = at ?? t("2026-11-20T10:00:00Z")
        let byCommand = try store(), byImport = try store()
        let added = Result { () throws(AftersalesError) in
            try byCommand.addOrder(id: id, customerID: customer, lines: lines, currency: currency, at: at, now: now)
        }
        let imported = Result { () throws(AftersalesError) in
            _ = try byImport.upsertOrder(ImportedOrder(id: id, customerID: customer, lines: lines, currency: currency, placedAt: at), now: now)
            return try byImport.orderDetail(id: id).order
        }
        return (added, imported)
    }

    @Test("the same refusal, word for word: future time, bad id, bad currency, no line, unknown customer or product")
    func refusals() throws {
        let cases: [(String, (added: Result<Order, AftersalesError>, imported: Result<Order, AftersalesError>))] = [
            ("at", try both(at: t("2026-11-23T11:00:00Z"))),
            ("id", try both(id: "O 1")),
            ("currency", try both(currency: "DOLLARS")),
            ("line", try both(lines: [])),
            ("customer", try both(customer: "C9")),
            ("product", try both(lines: [OrderLine(sku: "P9", quantity: 1)])),
        ]
        for (what, result) in cases {
            guard case .failure(let added) = result.added, case .failure(let imported) = result.imported else {
                Issue.record("\(what): both refuse; got \(result)")
                continue
            }
            #expect(added == imported, "\(what)")
        }
        guard case .failure(.invalid(let input)) = try both(lines: []).added else { Issue.record("no line: invalid input"); return }
        #expect(input.field == "line" && input.problem == "an order needs at least one --line SKU:QTY[:PRICE]")
    }

    @Test("the same order accepted by both, the currency in upper case")
    func accepted() throws {
        let (added, imported) = try both(currency: "eur")
        #expect(try added.get().currency == "EUR")
        #expect(try added.get() == imported.get())
    }

    @Test("import's remembered currencies: a code checked once is used again, a bad one is refused every time")
    func currencyCache() throws {
        let store = try store()
        let line = [OrderLine(sku: "P1", quantity: 1)]
        let results = try store.upsertOrders([
            ImportedOrder(id: "O1", customerID: "C1", lines: line, currency: "mxn", placedAt: now),
            ImportedOrder(id: "O2", customerID: "C1", lines: line, currency: "DOLLARS", placedAt: now),
            ImportedOrder(id: "O3", customerID: "C1", lines: line, currency: "mxn", placedAt: now),
            ImportedOrder(id: "O4", customerID: "C1", lines: line, currency: "DOLLARS", placedAt: now),
        ], now: now)
        #expect(results.map { (try? $0.get()) == .new } == [true, false, true, false])
        #expect(try store.orderDetail(id: "O3").order.currency == "MXN")
        let refusal = AftersalesError.invalid(InvalidInput(field: "currency", value: "DOLLARS", problem: "expected an ISO 4217 currency code, like USD, EUR or MXN"))
        for index in [1, 3] {
            guard case .failure(let error) = results[index] else { Issue.record("O\(index + 1) refused"); continue }
            #expect(error == refusal)
        }
    }
}
