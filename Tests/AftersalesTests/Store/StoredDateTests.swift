@testable import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB
import Testing

/// ``Foundation/Date/storedValue`` writes a date as GRDB does, on the bulk writes' fast path: the same
/// text for every date, whichever way it goes. ``StoredTime`` reads it back as GRDB does.
@Suite("Stored dates: the same text and values as GRDB's")
struct StoredDateTests {
    @Test("Whole seconds, whole milliseconds either side of the reference date, and GRDB's own read-back")
    func sameText() throws {
        var random = SyntheticCompany.Random(state: 17)  // a fixed sequence, so a failure repeats
        let range: ClosedRange<Int64> = -60_000_000_000_000...60_000_000_000_000  // 0099 to 3901
        var dates: [Date] = [.distantPast, .distantFuture, Date(timeIntervalSince1970: 0), Date(timeIntervalSinceReferenceDate: 0)]
        for _ in 0..<20_000 {
            let milliseconds = Int64.random(in: range, using: &random)
            dates.append(Date(timeIntervalSinceReferenceDate: Double(milliseconds / 1000)))
            dates.append(Date(timeIntervalSinceReferenceDate: Double(milliseconds) / 1000))
            dates.append(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            dates.append(Date(timeIntervalSince1970: Double(milliseconds) / 1000).addingTimeInterval(Double(Int.random(in: 0...100_000, using: &random)) * 0.1))
        }
        for date in dates {
            let read = try #require(Date.fromDatabaseValue(date.databaseValue))
            for date in [date, read] where date.storedValue != date.databaseValue {
                Issue.record("\(date.timeIntervalSinceReferenceDate): \(date.storedValue) against GRDB's \(date.databaseValue)")
                return
            }
        }
    }

    @Test("Random instants: the few within a microsecond of a millisecond take the fast path, the rest are GRDB's")
    func betweenMilliseconds() {
        var random = SyntheticCompany.Random(state: 29)
        for _ in 0..<20_000 {
            let date = Date(timeIntervalSinceReferenceDate: Double.random(in: -1e9...1e9, using: &random))
            #expect(date.storedValue == date.databaseValue, "\(date.timeIntervalSinceReferenceDate)")
        }
    }

    /// Instants on whole milliseconds and seconds over the years 0099 to 3901, and the edges of the fast paths.
    static func instants(seed: UInt64) -> [Date] {
        var random = SyntheticCompany.Random(state: seed)
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSinceReferenceDate: 0), Date(timeIntervalSinceReferenceDate: -0.0005),
                     try? Timestamp.parse("1600-01-01", field: "t"), try? Timestamp.parse("1599-12-31T23:59:59Z", field: "t"), try? Timestamp.parse("9999-12-31T23:59:59.999Z", field: "t"),
                     try? Timestamp.parse("2024-02-29T12:00:00Z", field: "t"), try? Timestamp.parse("2100-03-01T00:00:00Z", field: "t"),
                     try? Timestamp.parse("2000-02-29T00:00:00Z", field: "t"), try? Timestamp.parse("2026-12-31T23:59:59.999Z", field: "t")].compactMap { $0 }
        for _ in 0..<20_000 {
            let milliseconds = Int64.random(in: -60_000_000_000_000...60_000_000_000_000, using: &random)
            dates.append(Date(timeIntervalSinceReferenceDate: Double(milliseconds) / 1000))
            dates.append(Date(timeIntervalSinceReferenceDate: Double(milliseconds / 1000)))
            dates.append(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        }
        return dates
    }

    @Test("A stored date reads back as GRDB reads it, to the last bit; other texts are GRDB's or refused")
    func sameValue() throws {
        let queue = try DatabaseQueue()
        for date in Self.instants(seed: 31) {
            let text = try #require(String.fromDatabaseValue(date.storedValue))
            let grdb = try #require(Date.fromDatabaseValue(text.databaseValue))
            let ours = text.utf8.withContiguousStorageIfAvailable(Timestamp.stored) ?? nil
            // Before 1600 (Foundation's calendar is Julian before 1582) the fast path leaves the text to GRDB.
            if let year = Int(text.prefix(4)), year < 1600 { #expect(ours == nil, "\(text)"); continue }
            guard ours?.timeIntervalSinceReferenceDate.bitPattern == grdb.timeIntervalSinceReferenceDate.bitPattern else {
                Issue.record("\(text): \(String(describing: ours?.timeIntervalSinceReferenceDate)) against GRDB's \(grdb.timeIntervalSinceReferenceDate)")
                return
            }
        }
        // Through a row: the stored format, GRDB's other formats, a number, NULL, and texts that are no date.
        try queue.read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT '2026-11-23 10:00:00.250', '2026-11-23 10:00', '2026-11-23T10:00:00.250', 1700000000, NULL, '2026-02-30 10:00:00.000', 'soon'"))
            #expect(try row.date(atIndex: 0) == Date(timeIntervalSince1970: 1_795_428_000.25))
            #expect(try row.date(atIndex: 1) == Date(timeIntervalSince1970: 1_795_428_000))
            #expect(try row.date(atIndex: 2) == Date(timeIntervalSince1970: 1_795_428_000.25))
            #expect(try row.date(atIndex: 3) == Date(timeIntervalSince1970: 1_700_000_000))
            #expect(try row.optionalDate(atIndex: 4) == nil)
            #expect(try row.optionalDate(atIndex: 5) == Date.fromDatabaseValue("2026-02-30 10:00:00.000".databaseValue))
            #expect(throws: (any Error).self) { try row.date(atIndex: 6) }
        }
        for text in ["2026-13-01 00:00:00.000", "2026-11-23 24:00:00.000", "2026-11-23 10:00:00.00x", "2026-11-23 10:00:00.0000", "1599-12-31 00:00:00.000",
                     "2026-02-29 00:00:00.000", "2100-02-29 00:00:00.000", "2026-04-31 00:00:00.000", "2026-12-32 00:00:00.000"] {
            #expect(text.utf8.withContiguousStorageIfAvailable(Timestamp.stored) == .some(nil), "\(text)")
        }
    }
}
