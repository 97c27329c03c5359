import AftersalesDomain
import AftersalesKit
import ArgumentParser

struct ShipmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shipment",
        abstract: "Record shipments and their tracking events.",
        discussion: "Example: aftersales shipment event SH-1 delivered --signed-by 'J. Pérez'",
        subcommands: [Dispatch.self, Event.self, Show.self]
    )
}

extension ShipmentCommand {
    struct Dispatch: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dispatch",
            abstract: "Record that a shipment of an order left (the tracking mail follows within 2 h).",
            discussion: "Example: aftersales shipment dispatch --order SO-1001 --id SH-1 --carrier Maersk --tracking MAEU123456 --eta 2026-12-10 --mode sea --document 'commercial invoice' --document 'packing list'"
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The order's id.") var order: String
        @Option(help: "The shipment's id.") var id: String
        @Option(help: "The carrier.") var carrier: String
        @Option(help: "The tracking number.") var tracking: String
        @Option(help: "Link to the carrier's tracking page.") var trackingUrl: String?
        @Option(help: ArgumentHelp("Estimated arrival, ISO 8601 date or time.", valueName: "time")) var eta: ETA
        @Option(help: "How it travels.") var mode = ShipmentMode.sea
        @Option(help: "Destination country (default: the customer's).") var destination: Destination?
        @Option(help: "Destination port or airport.") var port: String?
        @Option(help: "A customs document that goes with it (repeatable; default: invoice, certificate of origin, packing list, bill of lading).")
        var document: [String] = []
        @OptionGroup var at: AtOption

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let draft = Shipment(id: id, orderID: order, carrier: carrier, trackingNumber: tracking, trackingURL: trackingUrl,
                                 mode: mode, dispatchedAt: at.date(ws), eta: eta.date, destinationCountry: destination?.country,
                                 destinationPort: port, documents: document)
            let shipment = try ws.store.dispatch(draft, now: ws.now)
            global.emit(shipment, "Dispatched shipment \(shipment.id) of order \(shipment.orderID).")
        }
    }

    struct Event: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "event",
            abstract: "Record a tracking event: in-transit, delayed, at-customs, held, cleared or delivered.",
            discussion: """
            Examples:
              aftersales shipment event SH-1 in-transit --location 'Port of Singapore'
              aftersales shipment event SH-1 delayed --eta 2026-12-15 --cause 'port congestion' --remedy 'priority on the next vessel'
              aftersales shipment event SH-1 held --reason 'missing import licence'
              aftersales shipment event SH-1 delivered --signed-by 'J. Pérez'
            """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The shipment's id.") var id: String
        @Argument(help: "What happened.") var kind: ShipmentEventKind
        @Option(help: ArgumentHelp("The new ETA (delayed).", valueName: "time")) var eta: ETA?
        @Option(help: "Where it is.") var location: String?
        @Option(help: "A note.") var note: String?
        @Option(help: "Why it is delayed (delayed).") var cause: String?
        @Option(help: "What we do about the delay (delayed).") var remedy: String?
        @Option(help: "Why customs holds it (held).") var reason: String?
        @Option(help: "Who signed for it (delivered).") var signedBy: String?
        @OptionGroup var at: AtOption

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let event = ShipmentEvent(shipmentID: id, kind: kind, at: at.date(ws), location: location, note: note, newETA: eta?.date,
                                      cause: cause, remedy: remedy, reason: reason, signedBy: signedBy)
            let recorded = try ws.store.recordShipmentEvent(event, now: ws.now)
            global.emit(recorded, TextReport.shipmentEvent(recorded))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a shipment and its events.", discussion: "Example: aftersales shipment show SH-1")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The shipment's id.") var id: String

        func run() throws {
            let detail = try global.workspace(.readOnly).store.shipment(id: id)
            global.emit(detail, TextReport.shipment(detail))
        }
    }
}
