import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

extension ReportDimension: CheckedCase {
    public init(parsing raw: String) throws(InvalidInput) {
        guard let dimension = Self(rawValue: raw) else {
            throw InvalidInput(field: "by", value: raw, problem: "expected one of " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = dimension
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "SLA attainment, NPS, repurchase, complaints, deliverability and shipments over a period.",
        discussion: """
        The period is [--from, --to): --to is exclusive (--from 2026-11-01 --to 2026-12-01 is November); by default \
        the 30 days before --now. Text tables by default; --json, one CSV per section (--csv DIR), a self-contained \
        HTML page with charts (--html FILE). Example: aftersales report --from 2026-11-01 --to 2026-12-01 --by market --html nov.html
        """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Start of the period, ISO 8601 (default: 30 days before --to).", valueName: "date")) var from: ReportFrom?
    @Option(help: ArgumentHelp("End of the period, exclusive, ISO 8601 (default: now).", valueName: "date")) var to: ReportTo?
    @Option(help: "Split every section by month, week, market, product or rule.") var by: ReportDimension?
    @Option(help: ArgumentHelp("Write one CSV per section (UTF-8 with BOM) into this directory.", valueName: "dir")) var csv: String?
    @Option(help: ArgumentHelp("Write the report as one self-contained HTML file.", valueName: "file")) var html: String?

    func validate() throws {
        if let from, let to, from.date >= to.date {
            throw ValidationError("--from \(Timestamp.utc(from.date)) is not before --to \(Timestamp.utc(to.date)); the period [from, to) would be empty")
        }
        if csv?.isEmpty == true { throw ValidationError("--csv: expected a directory") }
        if html?.isEmpty == true { throw ValidationError("--html: expected a file path") }
    }

    func run() throws {
        let ws = try global.workspace(.readOnly)
        let end = to?.date ?? ws.now
        let start = from?.date ?? end.addingTimeInterval(-30 * 86_400)
        guard start < end else {
            throw AftersalesError.invalid(InvalidInput(field: "from", value: Timestamp.utc(start), problem: "is not before the end of the period \(Timestamp.utc(end))"))
        }
        let report = try Report.compute(ReportQuery(from: start, to: end, now: ws.now, by: by), store: ws.store)
        let notes = try report.writeFiles(csvDirectory: csv, htmlPath: html).map { "wrote \($0)" }
        print(global.json ? report.json : ([TextReport.report(report)] + notes).joined(separator: "\n"))
    }
}
