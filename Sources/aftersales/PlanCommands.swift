import Foundation
import AftersalesDomain
import AftersalesKit
import ArgumentParser

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Update the outbox from what was recorded since the last plan.",
        discussion: "Example: aftersales plan"
    )
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let report = try global.workspace(.readWrite).plan(progress: TerminalProgress.standardError(label: "planning customers"))
        global.emit(report, TextReport.plan(report))
    }
}

struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Show what would go out in the next days, without writing or sending anything.",
        discussion: """
        Due times are shown in UTC and in the recipient's local time. --explain says why each mail \
        is planned, why it was moved (business hours, weekend, holiday, marketing cap) and what \
        would be cancelled and why.
        Examples:
          aftersales preview --days 14 --explain
          aftersales preview --customer C-MX-001 --json
          aftersales preview --now 2026-12-01T00:00:00Z --order SO-1042
        """
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "How many days ahead, 0 to 3660.") var days = DaysAhead(7)
    @Option(help: "Only this customer.") var customer: String?
    @Option(help: "Only this order.") var order: String?
    @Flag(help: "Say why each mail is planned, moved or cancelled.") var explain = false

    func run() throws {
        let views = try global.workspace(.readOnly).preview(days: days.value, customerID: customer, orderID: order, explain: explain)
        global.emit(views, TextReport.mails(views, explain: explain, empty: "Nothing due in the next \(days.value) days."))
    }
}

struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Look at the stored plan and the mail sent.",
        discussion: "Example: aftersales outbox list --status held",
        subcommands: [List.self, Show.self, Approve.self, Cancel.self, Retry.self, Resolve.self]
    )
}

extension OutboxCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List outbox entries by due time.",
                                                        discussion: "Example: aftersales outbox list --status planned --json")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this status.") var status: OutboxStatus?
        @Option(help: "Only this customer.") var customer: String?
        @Option(help: "Only this order.") var order: String?

        func run() throws {
            let views = try global.workspace(.readOnly).outboxList(status: status, customerID: customer, orderID: order)
            global.emit(views, TextReport.mails(views, empty: "The outbox is empty" + (status.map { " for status \($0.rawValue)" } ?? "") + "."))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one outbox entry with its history; --eml prints the exact bytes that were sent.",
                                                        discussion: "Examples:\n  aftersales outbox show tracking/SH-1042-1/1\n  aftersales outbox show tracking/SH-1042-1/1 --eml > sent.eml")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The mail's key.") var key: String
        @Flag(help: "Print the archived message, byte for byte.") var eml = false

        func run() throws {
            let workspace = try global.workspace(.readOnly)
            let store = workspace.store
            if eml {
                FileHandle.standardOutput.write(try store.archivedMessage(key: key))
                return
            }
            let entry = try store.outboxEntry(key: key)
            let view = workspace.view(of: entry)
            global.emit(view, TextReport.outboxEntry(view, history: try store.outboxHistory(key: key)))
        }
    }
}

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Print the effective rules (defaults with rules.file applied).",
        discussion: "Example: aftersales rules show tracking",
        subcommands: [List.self, Show.self]
    )
}

extension RulesCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the effective rules.", discussion: "Example: aftersales rules list")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let set = try Workspace.rules(try global.settings())
            global.emit(set.rules.map(RuleView.init), TextReport.rules(set))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one rule.", discussion: "Example: aftersales rules show transit-update")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The rule's id, e.g. tracking.") var id: String

        func run() throws {
            let rule = try Workspace.rule(id, try global.settings())
            global.emit(RuleView(rule), TextReport.rule(rule))
        }
    }
}
