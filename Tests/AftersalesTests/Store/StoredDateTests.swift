@testable import AftersalesKit
import Foundation
import GRDB
import Testing

/// ``Foundation/Date/storedValue`` writes a date as GRDB does, on the bulk writes' fast path: the same
/// text for every date, whichever way it goes.
@Suite("Stored dates: the same text as GRDB's")
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
}
