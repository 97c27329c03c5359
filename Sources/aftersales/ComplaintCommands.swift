import AftersalesDomain
import AftersalesKit
import ArgumentParser

struct ComplaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complaint",
        abstract: "Record complaints and how they are handled.",
        discussion: "Example: aftersales complaint open --order SO-1001 --id K-1 --category damage --text 'Two pumps arrived cracked.'",
        subcommands: [Open.self, Acknowledge.self, Offer.self, Resolve.self, Rate.self, Show.self, List.self]
    )
}

/// A step of a complaint after it was opened: the complaint id and when it happened.
struct ComplaintStepOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The complaint's id.") var id: String
    @OptionGroup var at: AtOption

    func advance(_ step: AftersalesStore.ComplaintStep, done: String) throws {
        let ws = try global.workspace(.readWrite)
        let complaint = try ws.store.advanceComplaint(id: id, step, at: at.date(ws), now: ws.now)
        global.emit(complaint, "\(done) complaint \(complaint.id).")
    }
}

extension ComplaintCommand {
    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "open",
            abstract: "Record a complaint (acknowledgement goes within 1 h).",
            discussion: "Example: aftersales complaint open --order SO-1001 --id K-1 --category damage --text 'Two pumps arrived with cracked housings.'"
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The order's id.") var order: String
        @Option(help: "The complaint's id.") var id: String
        @Option(help: "What it is about.") var category: ComplaintCategory
        @Option(help: "The customer's own words, stored exactly.") var text: String
        @OptionGroup var at: AtOption

        func run() throws {
            let ws = try global.workspace(.readWrite)
            let complaint = try ws.store.openComplaint(id: id, orderID: order, category: category, text: text,
                                                       at: at.date(ws), now: ws.now)
            global.emit(complaint, "Opened complaint \(complaint.id) on order \(complaint.orderID).")
        }
    }

    struct Acknowledge: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "acknowledge", abstract: "Record that the complaint was acknowledged.",
                                                        discussion: "Example: aftersales complaint acknowledge K-1")
        @OptionGroup var step: ComplaintStepOptions
        func run() throws { try step.advance(.acknowledge, done: "Acknowledged") }
    }

    struct Offer: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "offer", abstract: "Record the solution offered (stops the escalation).",
                                                        discussion: "Example: aftersales complaint offer K-1 --solution 'free re-shipment of two pumps'")
        @OptionGroup var step: ComplaintStepOptions
        @Option(help: "The solution offered.") var solution: String
        func run() throws { try step.advance(.offerSolution(solution), done: "Recorded the solution for") }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Record that the complaint is resolved (satisfaction check follows).",
                                                        discussion: "Example: aftersales complaint resolve K-1 --resolution 'replacement pumps delivered'")
        @OptionGroup var step: ComplaintStepOptions
        @Option(help: "How it was resolved.") var resolution: String
        func run() throws { try step.advance(.resolve(resolution), done: "Resolved") }
    }

    struct Rate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rate", abstract: "Record the customer's 1-5 rating of how the complaint was handled.",
                                                        discussion: "Example: aftersales complaint rate K-1 --score 3")
        @OptionGroup var step: ComplaintStepOptions
        @Option(help: "1 to 5.") var score: Rating

        func run() throws { try step.advance(.rate(score.value), done: "Recorded the rating of") }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a complaint.", discussion: "Example: aftersales complaint show K-1")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The complaint's id.") var id: String

        func run() throws {
            let complaint = try global.workspace(.readOnly).store.complaint(id: id)
            global.emit(complaint, TextReport.complaint(complaint))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List complaints.", discussion: "Example: aftersales complaint list --json")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let complaints = try global.workspace(.readOnly).store.complaints()
            global.emit(complaints, complaints.isEmpty ? "No complaints." : complaints.map(TextReport.complaint).joined(separator: "\n\n"))
        }
    }
}
