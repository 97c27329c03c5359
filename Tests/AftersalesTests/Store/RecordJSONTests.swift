@testable import AftersalesKit
import Foundation
import Testing

/// ``RecordJSON/strings(_:)``: a shipment's documents read through a memo of up to 16 lists.
@Suite("Record JSON: the memo of text lists")
struct RecordJSONTests {
    @Test("Each text gives its own list, whether kept, new or read after the memo started again")
    func listsByText() throws {
        // More texts than the memo keeps, read twice in turn: every read must give that text's list.
        let lists = (0..<40).map { n in (0..<(n % 5)).map { "doc \(n)-\($0) \"quoted\" ü" } }
        for _ in 0..<2 {
            for list in lists {
                let json = try JSONEncoder().encode(list)
                #expect(try RecordJSON.strings(json) == list)
                #expect(try RecordJSON.strings(json) == list)
            }
        }
    }

    @Test("A text that is not a list of text is refused every time, not kept")
    func refusal() {
        for _ in 0..<2 {
            #expect(throws: DecodingError.self) { try RecordJSON.strings(Data("[1, 2]".utf8)) }
            #expect(throws: DecodingError.self) { try RecordJSON.strings(Data("[\"a\"".utf8)) }
        }
    }
}
