import AftersalesDomain
import AftersalesKit
import ArgumentParser

struct ProductCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "product",
        abstract: "Record the products the company sells.",
        discussion: "Example: aftersales product add --sku PUMP-200 --name 'Centrifugal pump 200' --technical",
        subcommands: [Add.self, Update.self, Show.self, List.self, Succeed.self]
    )
}

/// The product fields shared by `add` and `update`.
struct ProductFields: ParsableArguments {
    @Option(help: "Product name.") var name: String?
    @Option(help: "Days between maintenance (with --maintenance-text).") var maintenanceDays: Int?
    @Option(help: "What the maintenance is, e.g. 'lubricate the bearings'.") var maintenanceText: String?
    @Option(help: "Usual re-order cycle in days.") var cycleDays: Int?
    @Option(help: "Link to the manual.") var manualUrl: String?
    @Option(help: "Link to the unboxing video.") var videoUrl: String?
    @Option(help: "Link to the parts shop.") var partsUrl: String?

    func changes(technical: Bool?) -> ProductChanges {
        ProductChanges(name: name, technical: technical, maintenanceDays: maintenanceDays, maintenanceText: maintenanceText,
                       cycleDays: cycleDays, manualURL: manualUrl, videoURL: videoUrl, partsURL: partsUrl)
    }
}

extension ProductCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add",
            abstract: "Add a product.",
            discussion: "Example: aftersales product add --sku PUMP-200 --name 'Centrifugal pump 200' --technical --maintenance-days 90 --maintenance-text 'Lubricate the bearings' --cycle-days 180"
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The stock-keeping unit.") var sku: String
        @OptionGroup var fields: ProductFields
        @Flag(help: "A technical product (its buyers get the installation guide and FAQ).") var technical = false

        func validate() throws {
            try check { () throws(InvalidInput) in _ = try fields.changes(technical: technical).makeProduct(sku: sku) }
        }

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let product = try ws.store.addProduct(sku: sku, fields.changes(technical: technical), now: ws.now)
            global.emit(product, "Added product \(product.sku).\n" + TextReport.product(product))
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Change a product's fields.",
                                                        discussion: "Example: aftersales product update PUMP-200 --cycle-days 120")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The SKU.") var sku: String
        @OptionGroup var fields: ProductFields
        @Flag(inversion: .prefixedNo, help: "Mark as technical or not.") var technical: Bool?

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let product = try ws.store.updateProduct(sku: sku, fields.changes(technical: technical), now: ws.now)
            global.emit(product, "Updated product \(product.sku).\n" + TextReport.product(product))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a product.", discussion: "Example: aftersales product show PUMP-200")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The SKU.") var sku: String

        func run() throws {
            let product = try global.workspace(.readOnly).store.product(sku: sku)
            global.emit(product, TextReport.product(product))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List products.", discussion: "Example: aftersales product list --json")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let products = try global.workspace(.readOnly).store.products()
            global.emit(products, TextReport.products(products))
        }
    }

    struct Succeed: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "succeed",
            abstract: "Record that a newer model succeeds a product (its owners get an upgrade notice).",
            discussion: "Example: aftersales product succeed PUMP-200 --by PUMP-300 --offer '20% off with trade-in'"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The SKU being succeeded.") var sku: String
        @Option(help: "The SKU of the successor.") var by: String
        @Option(help: "The offer made to existing owners.") var offer: String?
        @OptionGroup var at: AtOption

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let product = try ws.store.succeedProduct(sku: sku, by: by, offer: offer, at: at.date(ws), now: ws.now)
            global.emit(product, "Recorded \(by) as the successor of \(sku).")
        }
    }
}
