import AftersalesDomain
import Foundation
import GRDB

/// A date written as GRDB writes a `Date` (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), without GRDB's shared
/// DateFormatter: formatting through ICU was a few percent of a send and of a full plan, where every
/// claim, outcome, history row and planned mail writes dates. Years 1 to 9999 are made by plain
/// arithmetic (a test compares them with GRDB's own text); any other year goes through GRDB.
struct StoredDate: DatabaseValueConvertible {
    let date: Date

    init(_ date: Date) { self.date = date }

    var databaseValue: DatabaseValue {
        // The milliseconds as Foundation hands them to ICU, rounded to the nearest (halves upwards).
        let milliseconds = ((date.timeIntervalSinceReferenceDate + Date.timeIntervalBetween1970AndReferenceDate) * 1000 + 0.5).rounded(.down)
        guard milliseconds.magnitude < 2.5e14 else { return date.databaseValue }
        let total = Int64(milliseconds)
        var seconds = total / 1000, fraction = total % 1000
        if fraction < 0 { fraction += 1000; seconds -= 1 }
        let (y, mo, d, h, mi, se) = Timestamp.civil(Int(seconds))
        guard (1600...9999).contains(y) else { return date.databaseValue }
        var out: [UInt8] = []
        out.reserveCapacity(23)
        Timestamp.digits(y, 4, &out); out.append(0x2D); Timestamp.digits(mo, 2, &out); out.append(0x2D); Timestamp.digits(d, 2, &out)
        out.append(0x20)
        Timestamp.digits(h, 2, &out); out.append(0x3A); Timestamp.digits(mi, 2, &out); out.append(0x3A); Timestamp.digits(se, 2, &out)
        out.append(0x2E); Timestamp.digits(Int(fraction), 3, &out)
        return String(decoding: out, as: UTF8.self).databaseValue
    }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoredDate? {
        Date.fromDatabaseValue(dbValue).map(StoredDate.init)
    }
}

extension Date {
    /// This date as the store writes it.
    var stored: StoredDate { StoredDate(self) }
}
