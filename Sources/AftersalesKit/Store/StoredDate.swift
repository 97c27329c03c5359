import AftersalesDomain
import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

/// A date written and read as GRDB writes and reads a `Date` (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), without
/// GRDB's shared DateFormatter or its calendar: through ICU they were a few percent of a send and of a
/// full plan, where every claim, outcome, history row, planned mail and fact has dates. Years 1600 to
/// 9999 are done by plain arithmetic (a test compares both ways with GRDB's own, bit for bit); any
/// other year, and any other text, goes through GRDB (ICU's calendar is Julian before 1583).
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
        Timestamp.appendDate(y, mo, d, &out); out.append(0x20); Timestamp.appendTime(h, mi, se, &out); out.append(0x2E); Timestamp.digits(Int(fraction), 3, &out)
        return String(decoding: out, as: UTF8.self).databaseValue
    }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoredDate? {
        if case .string(let text) = dbValue.storage {
            var text = text
            if let date = text.withUTF8({ parse($0) }) { return StoredDate(date) }
        }
        return Date.fromDatabaseValue(dbValue).map(StoredDate.init)
    }

    /// `yyyy-MM-dd HH:mm:ss.SSS` with a year from 1600 to 9999, read by plain arithmetic to the same
    /// instant as GRDB reads it (through a calendar); nil for anything else, which GRDB reads.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        guard bytes.count == 23, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x20, bytes[13] == 0x3A, bytes[16] == 0x3A, bytes[19] == 0x2E
        else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<start + count {
                let digit = Int(bytes[index]) - 0x30
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2), let milliseconds = number(20, 3),
              (1600...9999).contains(year), (1...12).contains(month), (1...Timestamp.daysIn(year, month)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        let seconds = Timestamp.daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + Double(milliseconds) / 1000)
    }
}

extension StoredDate: StatementColumnConvertible {
    /// Straight from SQLite's text, without a String or a calendar; anything else as GRDB reads it.
    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        if sqlite3_column_type(sqliteStatement, index) == SQLITE_TEXT, let text = sqlite3_column_text(sqliteStatement, index),
           let date = Self.parse(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(sqliteStatement, index)))) {
            self.init(date)
            return
        }
        guard let date = Date(sqliteStatement: sqliteStatement, index: index) else { return nil }
        self.init(date)
    }
}

extension Date {
    /// This date as the store writes it.
    var stored: StoredDate { StoredDate(self) }
}

/// A value stored as text: read straight from SQLite's text when the column holds text (GRDB's fast
/// path, no intermediate `DatabaseValue`), anything else as `fromDatabaseValue` reads it.
public protocol TextColumn: DatabaseValueConvertible, StatementColumnConvertible {
    /// The value for this text, or nil when the text is not one.
    init?(storedText: String)
}

extension TextColumn {
    public init?(sqliteStatement: SQLiteStatement, index: CInt) {
        if sqlite3_column_type(sqliteStatement, index) == SQLITE_TEXT {
            self.init(storedText: String(sqliteStatement: sqliteStatement, index: index))
        } else if let value = Self.fromDatabaseValue(DatabaseValue(sqliteStatement: sqliteStatement, index: index)) {
            self = value
        } else {
            return nil
        }
    }
}

extension TextColumn where Self: RawRepresentable, RawValue == String {
    public init?(storedText: String) { self.init(rawValue: storedText) }
}
