import AftersalesDomain
import AftersalesKit
import ArgumentParser

struct CustomerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customer",
        abstract: "Record and look up buyers.",
        discussion: "Example: aftersales customer add --id C-MX-001 --name 'Lucía Hernández' --email lucia@ferremex.mx --locale es-MX --timezone America/Mexico_City --country MX",
        subcommands: [Add.self, Update.self, Show.self, List.self, Unsubscribe.self, Export.self, Erase.self]
    )
}

/// The customer fields shared by `add` and `update`.
struct CustomerFields: ParsableArguments {
    @Option(help: "Contact person's name.") var name: String?
    @Option(help: "Company name.") var company: String?
    @Option(help: "Email address.") var email: EmailAddress?
    @Option(help: "Extra address copied on every mail (repeatable; on update replaces the list).") var cc: [CopyAddress] = []
    @Option(help: "BCP 47 language tag: en, es-MX, ar, zh-Hans, ...") var locale: LocaleTag?
    @Option(help: "IANA time zone, e.g. America/Mexico_City.") var timezone: TimeZoneID?
    @Option(help: "ISO 3166 two-letter country code, e.g. MX.") var country: CountryCode?
    @Option(help: "Industry, for seasonal alerts (e.g. agrochemicals).") var industry: String?
    @Option(help: "Account manager's name.") var managerName: String?
    @Option(help: "Account manager's email (Reply-To of the customer's mail).") var managerEmail: ManagerEmail?

    func changes(consent: Bool?) -> CustomerChanges {
        CustomerChanges(name: name, company: company, email: email?.value, cc: cc.isEmpty ? nil : cc.map(\.address.value), locale: locale?.value,
                        timeZone: timezone?.value, country: country?.value, industry: industry, managerName: managerName,
                        managerEmail: managerEmail?.address.value, consent: consent)
    }
}

extension CustomerCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add",
            abstract: "Add a customer.",
            discussion: "Example: aftersales customer add --id C-MX-001 --name 'Lucía Hernández' --email lucia@ferremex.mx --locale es-MX --timezone America/Mexico_City --country MX --consent"
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The customer's external id.") var id: String
        @OptionGroup var fields: CustomerFields
        @Flag(help: "The customer agreed to marketing mail.") var consent = false

        func validate() throws {
            try check { () throws(InvalidInput) in _ = try fields.changes(consent: consent).makeCustomer(id: id, at: .distantPast) }
        }

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let customer = try ws.store.addCustomer(id: id, fields.changes(consent: consent), now: ws.now)
            global.emit(customer, "Added customer \(customer.id).\n" + TextReport.customer(customer))
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update",
            abstract: "Change a customer's fields; fields not given stay as they are.",
            discussion: "Example: aftersales customer update C-MX-001 --locale es --no-consent"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The customer's id.") var id: String
        @OptionGroup var fields: CustomerFields
        @Flag(inversion: .prefixedNo, help: "Give or withdraw marketing consent.") var consent: Bool?

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let customer = try ws.store.updateCustomer(id: id, fields.changes(consent: consent), now: ws.now)
            global.emit(customer, "Updated customer \(customer.id).\n" + TextReport.customer(customer))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show every stored field of a customer.",
                                                        discussion: "Example: aftersales customer show C-MX-001 --json")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The customer's id.") var id: String

        func run() throws {
            let customer = try global.workspace(.readOnly).store.customer(id: id)
            global.emit(customer, TextReport.customer(customer))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List customers.", discussion: "Example: aftersales customer list")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let customers = try global.workspace(.readOnly).store.customers()
            global.emit(customers, TextReport.customers(customers))
        }
    }

    struct Unsubscribe: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unsubscribe", abstract: "Record that a customer wants no more marketing mail.",
                                                        discussion: "Example: aftersales customer unsubscribe C-MX-001")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The customer's id.") var id: String
        @OptionGroup var at: AtOption

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let customer = try ws.store.unsubscribe(customerID: id, at: at.date(ws), now: ws.now)
            global.emit(customer, "Customer \(customer.id) unsubscribed from marketing mail.")
        }
    }
}
