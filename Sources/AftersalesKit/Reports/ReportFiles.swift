import AftersalesDomain
import CSV
import Foundation

extension Report {
    /// One CSV per section (`sla.csv`, `nps.csv`, ...), for Excel: UTF-8 with a byte-order mark, CRLF
    /// line ends. With `--by`, a first column `group`: `all` for the whole period, then each group.
    public var csvFiles: [(name: String, contents: Data)] {
        let sections = [("all", self.sections)] + groups.map { ($0.group, $0.sections) }
        let split = by != nil
        return self.sections.tables.indices.map { index in
            let stream = OutputStream(toMemory: ())
            // Writing to memory cannot fail: CSVWriter throws only when its stream does.
            if let writer = try? CSVWriter(stream: stream, newline: .crlf) {
                let header = self.sections.tables[index].header
                try? writer.write(row: split ? ["group"] + header : header)
                for (group, section) in sections {
                    for row in section.tables[index].rows { try? writer.write(row: split ? [group] + row : row) }
                }
                writer.stream.close()
            }
            let body = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
            return (self.sections.tables[index].section + ".csv", Data([0xEF, 0xBB, 0xBF]) + body + Data("\r\n".utf8))
        }
    }

    /// Writes ``csvFiles`` into `directory` (created when missing; its parent must exist). Each file is
    /// written whole (atomically) or not at all.
    public func writeCSV(directory: String) throws(AftersalesError) -> [String] {
        let files = csvFiles
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        } catch {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw .invalid(InvalidInput(field: "csv", value: directory, problem: "cannot be created as a directory (does its parent exist?)"))
            }
        }
        var written: [String] = []
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file.name)
            do { try file.contents.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw .failure("cannot write \(path): \(error.localizedDescription)")
            }
            written.append(path)
        }
        return written
    }

    /// Writes the CSV files into `csvDirectory` and the page to `htmlPath` (either may be nil), after
    /// checking that both places can take them, so that a refused destination writes nothing.
    /// Returns the paths written.
    public func writeFiles(csvDirectory: String?, htmlPath: String?) throws(AftersalesError) -> [String] {
        func parentExists(_ path: String, field: String) throws(AftersalesError) {
            let parent = (path as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            guard parent.isEmpty || (FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) && isDirectory.boolValue) else {
                throw .invalid(InvalidInput(field: field, value: path, problem: "its directory \"\(parent)\" does not exist"))
            }
        }
        if let csvDirectory { try parentExists(csvDirectory, field: "csv") }
        if let htmlPath { try parentExists(htmlPath, field: "html") }
        var written: [String] = []
        if let csvDirectory { written = try writeCSV(directory: csvDirectory) }
        if let htmlPath {
            try writeHTML(path: htmlPath)
            written.append(htmlPath)
        }
        return written
    }

    /// Writes ``html`` to `path`, whole or not at all.
    public func writeHTML(path: String) throws(AftersalesError) {
        do { try Data(html.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .invalid(InvalidInput(field: "html", value: path, problem: "cannot be written (\(error.localizedDescription)); check the directory"))
        }
    }

    /// The report as one self-contained HTML page: inline SVG charts, then the tables. No script, no
    /// external asset (it can be mailed or opened offline); the CSS keeps it readable when printed.
    public var html: String {
        let e = SVG.escape
        func tables(_ sections: ReportSections, id prefix: String = "") -> String {
            sections.tables.map { table in
                var out = "<section id=\"\(prefix)\(table.section)\"><h3>\(e(table.title))</h3>\n"
                if table.rows.isEmpty { return out + "<p class=\"empty\">Nothing in the period.</p></section>" }
                out += "<table><thead><tr>" + table.header.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead><tbody>\n"
                for row in table.rows {
                    out += "<tr>" + row.enumerated().map { i, cell in i == 0 ? "<th>\(e(cell))</th>" : "<td>\(e(cell))</td>" }.joined() + "</tr>\n"
                }
                return out + "</tbody></table></section>"
            }.joined(separator: "\n")
        }
        let s = sections
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>After-sales report \(e(ReportFormat.period(self)))</title>
            <style>
            body { font-family: sans-serif; margin: 2em; color: #111; background: #fff; }
            h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 1.5em; border-bottom: 1px solid #999; } h3 { font-size: 1.05em; }
            .chart { margin: 1em 0; page-break-inside: avoid; break-inside: avoid; }
            .chart svg { max-width: 100%; height: auto; }
            table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; page-break-inside: avoid; break-inside: avoid; }
            th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; } td { text-align: right; }
            thead th { background: #e8eef5; }
            .empty { color: #666; }
            @media print { body { margin: 0; font-size: 10pt; } h2 { page-break-before: auto; } a { color: #000; } }
            </style></head><body>
            <h1>After-sales report</h1>
            <p>Period: \(e(ReportFormat.period(self))); deadlines judged at \(e(Timestamp.utc(now)))\(by.map { "; split by \($0.rawValue)" } ?? "").</p>
            <h2>Charts</h2>
            <div class="chart" id="chart-nps">\(Charts.npsByMonth(s.nps))</div>
            <div class="chart" id="chart-sla">\(Charts.sla(s.sla))</div>
            <div class="chart" id="chart-resolution">\(Charts.resolution(s.complaints))</div>
            <div class="chart" id="chart-repurchase">\(Charts.repurchase(s.repurchase))</div>
            <h2>Tables</h2>
            \(tables(s))

            """
        for (index, group) in groups.enumerated() {
            page += "<h2>\(e(by?.rawValue ?? "group")) \(e(group.group))</h2>\n" + tables(group.sections, id: "group-\(index)-") + "\n"
        }
        return page + "</body></html>\n"
    }
}
