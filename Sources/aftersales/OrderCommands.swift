import AftersalesDomain
import AftersalesKit
import ArgumentParser

struct OrderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Record orders and their completion or cancellation.",
        discussion: "Example: aftersales order add --id SO-1001 --customer C-MX-001 --line PUMP-200:4:129900",
        subcommands: [Add.self, Complete.self, Cancel.self, Show.self, List.self, Thread.self]
    )
}

extension OrderCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add",
            abstract: "Record a placed order.",
            discussion: "Example: aftersales order add --id SO-1001 --customer C-MX-001 --line PUMP-200:4:129900 --currency USD --at 2026-11-02T15:00:00Z"
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The order's external id.") var id: String
        @Option(help: "The customer's id.") var customer: String
        @Option(help: ArgumentHelp("SKU:QTY or SKU:QTY:UNIT_PRICE (minor units, e.g. cents); repeatable.", valueName: "line"))
        var line: [OrderLine] = []
        @Option(help: "ISO 4217 currency of the prices.") var currency = Currency(code: "USD")
        @OptionGroup var at: AtOption

        func validate() throws {
            if line.isEmpty { throw ValidationError("line: an order needs at least one --line SKU:QTY[:PRICE]") }
        }

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let order = try ws.store.addOrder(id: id, customerID: customer, lines: line, currency: currency.code,
                                              at: at.date(ws), now: ws.now)
            global.emit(order, "Added order \(order.id).\n" + TextReport.order(order))
        }
    }

    struct Complete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "complete", abstract: "Record that an order is completed (policy reminder and survey follow).",
                                                        discussion: "Example: aftersales order complete SO-1001")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order's id.") var id: String
        @OptionGroup var at: AtOption

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let order = try ws.store.completeOrder(id: id, at: at.date(ws), now: ws.now)
            global.emit(order, "Completed order \(order.id).")
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Record that an order is cancelled.",
                                                        discussion: "Example: aftersales order cancel SO-1001")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order's id.") var id: String
        @OptionGroup var at: AtOption

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let order = try ws.store.cancelOrder(id: id, at: at.date(ws), now: ws.now)
            global.emit(order, "Cancelled order \(order.id).")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an order with its shipments, complaints and feedback.",
                                                        discussion: "Example: aftersales order show SO-1001")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order's id.") var id: String

        func run() throws {
            let ws = try global.workspace(.readOnly)
            let detail = try ws.store.orderDetail(id: id)
            // The text ends with the order's thread (mail sent and received); the JSON stays the order's detail.
            global.emit(detail, TextReport.orderDetail(detail) + "\n\n" + TextReport.thread(try ws.orderThread(orderID: id)))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List orders.", discussion: "Example: aftersales order list --customer C-MX-001")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this customer's orders.") var customer: String?

        func run() throws {
            let orders = try global.workspace(.readOnly).store.orders(customerID: customer)
            global.emit(orders, TextReport.orders(orders))
        }
    }
}
