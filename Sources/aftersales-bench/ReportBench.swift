import AftersalesDomain
import AftersalesKit
import ArgumentParser
import Foundation

extension Bench {
    /// 6. `aftersales report` for the year before now, on the large company, against the sqlite3 shell
    /// running the report's own statements (``ReportSQL/statements(_:)``, the very same text) on the same
    /// file; memory against the same report on the small company (flat: the aggregates are grouped in SQL).
    func reportFigure(large: Company, small: Company) throws -> Row {
        let now = try Timestamp.parse(Self.now, field: "now")
        let from = now.addingTimeInterval(-365 * 86_400)
        let script = "\(work)/report.sql"
        let statements = ReportSQL.statements(ReportQuery(from: from, to: now, now: now))
        try statements.map { $0.sql + ";\n" }.joined().write(toFile: script, atomically: true, encoding: .utf8)
        func report(_ path: String) throws -> (seconds: Double, kb: Int) {
            let result = try timed(["report", "--db", path, "--now", Self.now, "--from", Timestamp.utc(from), "--json"])
            return (result.seconds, result.kb)
        }
        func reference(_ path: String) throws -> Double {
            try self.sqlite(["-readonly", path], input: script).seconds
        }
        _ = try report(large.path)
        _ = try reference(large.path)
        var times: [Double] = [], kbs: [Double] = [], references: [Double] = []
        for _ in 0..<runs {
            let run = try report(large.path)
            times.append(run.seconds)
            kbs.append(Double(run.kb))
            references.append(try reference(large.path))
        }
        let smallKB = try report(small.path).kb
        let seconds = median(times), sqlite = median(references), kb = Int(median(kbs))
        let ratio = seconds / sqlite, memory = Double(kb) / Double(max(smallKB, 1))
        return Row(figure: "7. report, one year, \(large.orders) orders", measured: "\(fmt(seconds)) s, \(kb / 1024) MB",
                   reference: "sqlite3 \(fmt(sqlite)) s; \(smallKB / 1024) MB at \(small.orders) orders", ratio: "\(fmt(ratio)); mem \(fmt(memory))",
                   target: "<= 3; mem flat (<= 1.5)", verdict: ratio <= 3 && memory <= 1.5 ? "PASS" : "MISS")
    }
}
