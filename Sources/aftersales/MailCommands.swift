import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the exact bytes of the message that would be sent for a planned mail.",
        discussion: """
        Examples:
          aftersales render tracking/SH-1042-1/1
          aftersales render damage-reply/K-2001/1 --eml damage-reply.eml
        """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The mail's key (see `aftersales outbox list`).") var key: String
    @Option(help: ArgumentHelp("Write the message to this .eml file instead of standard output.", valueName: "file")) var eml: String?

    func run() throws {
        let mail = try global.workspace(.readOnly).render(key: key)
        if let eml {
            do { try mail.bytes.write(to: URL(fileURLWithPath: eml)) } catch {
                throw AftersalesError.failure("eml \"\(eml)\": cannot be written (\(error.localizedDescription))")
            }
            print("Wrote \(mail.bytes.count) bytes (\(mail.locale)) to \(eml).")
        } else {
            FileHandle.standardOutput.write(mail.bytes)
        }
    }
}

struct TemplatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "templates", abstract: "Work with the mail templates.",
                                                    discussion: "Example: aftersales templates check", subcommands: [Check.self])
}

extension TemplatesCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check",
            abstract: "Render every rule's template in every locale with sample data and report each problem.",
            discussion: "Exit 1 when any template has a problem. Example: aftersales templates check"
        )
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let settings = try global.settings()
            let report = try Workspace.checkTemplates(settings)
            if global.json { print(JSONOutput.string(report)) } else {
                for problem in report.problems { print(problem) }
                if let off = report.linksOff { print("\(off) (mail carries no signed links; the survey asks for a reply)") }
                print("Checked \(report.rendered) renderings in \(report.locales.count) locales (\(report.locales.joined(separator: ", "))): \(report.problems.count) problem(s).")
            }
            if !report.problems.isEmpty { throw ExitCode.failure }
        }
    }
}
