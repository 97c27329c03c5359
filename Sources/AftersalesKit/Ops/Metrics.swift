import AftersalesDomain
import AftersalesPlanning
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `run --metrics FILE`: the run's counters in Prometheus' text format, for node_exporter's textfile
/// collector (the convention for jobs that cron starts), written atomically (a temporary file, then a rename).
public enum RunMetrics {
    /// The metric that carries the last success, read back from the previous file.
    static let lastSuccessName = "aftersales_last_success_timestamp_seconds"

    /// The exposition text. `summary` is nil when the run failed as a whole; `lastSuccess` is the
    /// time of the last successful run (this one's `now` when it succeeded).
    public static func text(summary: RunSummary?, durationSeconds: Double, gauges: OutboxGauges?, lastSuccess: Date?, now: Date) -> String {
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for (labels, value) in samples { lines.append(name + (labels.isEmpty ? "" : "{\(labels)}") + " " + value) }
        }
        func number(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value) }
        let streams = MailStream.allCases.map(\.rawValue)
        let counts = summary?.streams ?? [:]
        let counters: [(String, String, KeyPath<RunSummary.StreamCounts, Int>)] = [
            ("planned", "Mails the run planned.", \.planned), ("sent", "Mails the run sent.", \.sent),
            ("retried", "Attempts of the run that failed transiently and wait for a retry.", \.retried),
            ("failed", "Mails that failed permanently in the run.", \.failed),
            ("in_doubt", "Mails the run left in doubt (no answer after the final dot).", \.inDoubt),
        ]
        for (name, help, path) in counters {
            metric("aftersales_run_\(name)", "gauge", help,
                   streams.map { (labels: "stream=\"\($0)\"", value: String((counts[$0] ?? RunSummary.StreamCounts())[keyPath: path])) })
        }
        metric("aftersales_run_recovered_in_doubt", "gauge", "Mails a stopped run left that are now in doubt.", [("", String(summary?.recovered ?? 0))])
        metric("aftersales_run_resent_by_policy", "gauge", "In-doubt mails resent by the stream's policy.", [("", String(summary?.resentByPolicy ?? 0))])
        metric("aftersales_run_success", "gauge", "1 when the run finished (mail may wait for a retry), 0 when it failed as a whole.",
               [("", summary.map { $0.stoppedBy == nil ? "1" : "0" } ?? "0")])
        metric("aftersales_run_duration_seconds", "gauge", "How long the run took.", [("", String(format: "%.3f", durationSeconds))])
        metric("aftersales_run_timestamp_seconds", "gauge", "When the run ran (its now).", [("", number(now.timeIntervalSince1970))])
        if let lastSuccess {
            metric(lastSuccessName, "gauge", "When a run last succeeded.", [("", number(lastSuccess.timeIntervalSince1970))])
        }
        if let gauges {
            metric("aftersales_outbox_mails", "gauge", "Mails in the outbox by status and stream.",
                   gauges.counts.map { (labels: "status=\"\($0.status)\",stream=\"\($0.stream)\"", value: String($0.count)) })
            let age = gauges.oldestDueUnsent.map { max(0, now.timeIntervalSince($0)) } ?? 0
            metric("aftersales_oldest_due_unsent_seconds", "gauge", "Age of the oldest due mail not yet sent (0: none).", [("", number(age.rounded()))])
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The last success recorded in the metrics file at `path`, if any.
    public static func lastSuccess(inFile path: String) -> Date? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(lastSuccessName + " ") {
            if let seconds = Double(line.dropFirst(lastSuccessName.count + 1)) { return Date(timeIntervalSince1970: seconds) }
        }
        return nil
    }

    /// Writes `text` to `path` atomically: a temporary file in the same directory, then a rename, so
    /// that the collector never reads half a file.
    public static func write(_ text: String, to path: String) throws(AftersalesError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .failure("metrics file \"\(path)\": cannot be written (\((error as NSError).localizedDescription)); check --metrics names a writable directory")
        }
    }
}

extension Workspace {
    /// Writes the metrics of a run (nil: it failed as a whole) that took `durationSeconds` to `path`.
    public func writeMetrics(_ summary: RunSummary?, durationSeconds: Double, to path: String) throws(AftersalesError) {
        let succeeded = summary.map { $0.stoppedBy == nil } ?? false
        let lastSuccess = succeeded ? now : RunMetrics.lastSuccess(inFile: path)
        let gauges = try? store.outboxGauges(now: now)
        try RunMetrics.write(RunMetrics.text(summary: summary, durationSeconds: durationSeconds, gauges: gauges, lastSuccess: lastSuccess, now: now), to: path)
    }
}
