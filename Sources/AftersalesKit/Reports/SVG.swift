import Foundation

/// A small SVG writer for the report's charts: inline `<svg>` elements, no scripts, no external
/// assets, coordinates in whole pixels (stable text for the golden file). No Swift package on the
/// machine's list draws charts as SVG text; this stays under 300 lines with the charts below.
struct SVG {
    let width: Int
    let height: Int
    private(set) var body: [String] = []

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// `text` with the five XML special characters escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func px(_ value: Double) -> String { String(Int(value.rounded())) }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, title: String? = nil) {
        let tip = title.map { "<title>\(Self.escape($0))</title>" } ?? ""
        body.append("<rect x=\"\(Self.px(x))\" y=\"\(Self.px(y))\" width=\"\(Self.px(max(width, 0)))\" height=\"\(Self.px(max(height, 0)))\" fill=\"\(fill)\">\(tip)</rect>")
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, dashed: Bool = false) {
        let dash = dashed ? " stroke-dasharray=\"6 4\"" : ""
        body.append("<line x1=\"\(Self.px(x1))\" y1=\"\(Self.px(y1))\" x2=\"\(Self.px(x2))\" y2=\"\(Self.px(y2))\" stroke=\"\(stroke)\" stroke-width=\"2\"\(dash)/>")
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ content: String, x: Double, y: Double, anchor: Anchor = .start, size: Int = 12, bold: Bool = false) {
        let weight = bold ? " font-weight=\"bold\"" : ""
        body.append("<text x=\"\(Self.px(x))\" y=\"\(Self.px(y))\" text-anchor=\"\(anchor.rawValue)\" font-size=\"\(size)\"\(weight)>\(Self.escape(content))</text>")
    }

    /// The finished element, with an accessible title.
    func document(title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" "
            + "font-family=\"sans-serif\"><title>\(Self.escape(title))</title>\n" + body.joined(separator: "\n") + "\n</svg>\n"
    }
}

/// The report's charts.
enum Charts {
    static let barColor = "#3b6ea5", negativeColor = "#b5483b", targetColor = "#d08a1e", axisColor = "#444", gridColor = "#ccc"

    /// Horizontal bars of percentages 0-100 with labels at the left; a dashed target line when given.
    static func percentBars(title: String, bars: [(label: String, value: Double, note: String)], target: Double?) -> String {
        let rowHeight = 26.0, left = 210.0, right = 90.0, top = 34.0, width = 760.0
        let height = top + Double(max(bars.count, 1)) * rowHeight + 30
        var svg = SVG(width: Int(width), height: Int(height))
        let plot = width - left - right
        svg.text(title, x: 8, y: 20, size: 14, bold: true)
        for tick in stride(from: 0.0, through: 100, by: 25) {
            let x = left + plot * tick / 100
            svg.line(x1: x, y1: top - 4, x2: x, y2: height - 26, stroke: gridColor)
            svg.text("\(Int(tick))%", x: x, y: height - 10, anchor: .middle, size: 11)
        }
        if bars.isEmpty { svg.text("nothing in the period", x: left + 8, y: top + 17) }
        for (index, bar) in bars.enumerated() {
            let y = top + Double(index) * rowHeight
            svg.text(bar.label, x: left - 8, y: y + 17, anchor: .end)
            svg.rect(x: left, y: y + 4, width: plot * min(max(bar.value, 0), 100) / 100, height: rowHeight - 8, fill: barColor, title: "\(bar.label): \(bar.note)")
            svg.text(bar.note, x: left + plot + 6, y: y + 17, size: 11)
        }
        if let target {
            let x = left + plot * target / 100
            svg.line(x1: x, y1: top - 6, x2: x, y2: height - 26, stroke: targetColor, dashed: true)
            svg.text("target \(ReportFormat.decimal(target))%", x: x, y: top - 10, anchor: .middle, size: 11)
        }
        return svg.document(title: title)
    }

    /// Vertical bars of values over labels (months, buckets), from `floor` to `ceiling`, with a zero line.
    static func columns(title: String, bars: [(label: String, value: Double, note: String)], floor: Double, ceiling: Double) -> String {
        let width = 760.0, height = 300.0, left = 50.0, right = 20.0, top = 34.0, bottom = 50.0
        var svg = SVG(width: Int(width), height: Int(height))
        let plotHeight = height - top - bottom, plotWidth = width - left - right
        let span = max(ceiling - floor, 1)
        func y(_ value: Double) -> Double { top + plotHeight * (ceiling - min(max(value, floor), ceiling)) / span }
        svg.text(title, x: 8, y: 20, size: 14, bold: true)
        for step in 0...4 {
            let value = floor + span * Double(step) / 4
            svg.line(x1: left, y1: y(value), x2: width - right, y2: y(value), stroke: gridColor)
            svg.text(ReportFormat.integer(Int(value.rounded())), x: left - 6, y: y(value) + 4, anchor: .end, size: 11)
        }
        let zero = y(min(max(0, floor), ceiling))
        svg.line(x1: left, y1: zero, x2: width - right, y2: zero, stroke: axisColor)
        if bars.isEmpty { svg.text("nothing in the period", x: left + 8, y: top + 20) }
        let slot = plotWidth / Double(max(bars.count, 1))
        for (index, bar) in bars.enumerated() {
            let x = left + slot * Double(index) + slot * 0.15
            let barTop = min(y(bar.value), zero), barBottom = max(y(bar.value), zero)
            svg.rect(x: x, y: barTop, width: slot * 0.7, height: barBottom - barTop, fill: bar.value < 0 ? negativeColor : barColor, title: "\(bar.label): \(bar.note)")
            svg.text(bar.note, x: x + slot * 0.35, y: bar.value < 0 ? barBottom + 14 : barTop - 4, anchor: .middle, size: 11)
            svg.text(bar.label, x: x + slot * 0.35, y: height - bottom + 18, anchor: .middle, size: 11)
        }
        return svg.document(title: title)
    }

    static func sla(_ rows: [SLARow]) -> String {
        percentBars(title: "SLA attainment per rule (sent within the deadline)",
                    bars: rows.map { ($0.rule, $0.percent, "\(ReportFormat.percent($0.percent)) of \($0.count)") }, target: Report.slaTargetPercent)
    }

    static func npsByMonth(_ nps: NPSSection) -> String {
        columns(title: "NPS by month", bars: nps.byMonth.map { ($0.month, $0.nps, ReportFormat.decimal($0.nps)) }, floor: -100, ceiling: 100)
    }

    static func resolution(_ complaints: ComplaintSection) -> String {
        let highest = Double(complaints.resolutionHistogram.map(\.count).max() ?? 0)
        return columns(title: "Complaints by time to resolution", bars: complaints.resolutionHistogram.map { ($0.name, Double($0.count), ReportFormat.integer($0.count)) },
                       floor: 0, ceiling: max(4, (highest / 4).rounded(.up) * 4))
    }

    static func repurchase(_ repurchase: RepurchaseSection) -> String {
        percentBars(title: "Repurchase conversion by product",
                    bars: repurchase.byProduct.map { ($0.sku, $0.conversionRate, "\(ReportFormat.percent($0.conversionRate)) of \($0.sent)") }, target: nil)
    }
}
