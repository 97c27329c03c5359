import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Read the reply mailbox (IMAP): bounces, spam reports, auto-replies, buyers' replies and complaints by mail.",
        discussion: """
        Uses imap.url, imap.user, imap.tls and the password from AFTERSALES_IMAP_PASSWORD or imap.password_file. \
        Only what is new since the last fetch is read; processed mail moves to imap.processed_folder, unmatched mail \
        stays for ops and is listed. Exit 0 when the mailbox was read, 1 when the server could not be reached or \
        refused the login (nothing is marked processed then).
        Example: AFTERSALES_IMAP_PASSWORD=... aftersales fetch --json
        """
    )
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let summary = try global.workspace(.readWrite).fetch()
        global.emit(summary, TextReport.fetch(summary))
        if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
    }
}

extension OrderCommand {
    struct Thread: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "thread",
            abstract: "Every mail sent for the order and every reply and bounce received, in time order, with SHA-256.",
            discussion: "Example: aftersales order thread SO-1001 --eml dispute/")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order's id.") var id: String
        @Option(help: ArgumentHelp("Also write every message as an .eml file into this directory.", valueName: "dir")) var eml: String?

        func run() throws {
            let thread = try global.workspace(.readOnly).orderThread(orderID: id, emlDirectory: eml)
            global.emit(thread, TextReport.thread(thread) + (eml.map { "\n\(thread.count) message(s) written to \($0)" } ?? ""))
        }
    }
}
