@testable import AftersalesDomain
import Testing

/// ``Memo``: each key's value made once, at most `capacity` kept, a failed make not kept.
@Suite("Memo")
struct MemoTests {
    struct Refused: Error {}

    @Test("A key's value is made once; with a capacity the memo starts again when full")
    func capacity() {
        let memo = Memo<Int, String>(capacity: 3)
        var made = 0
        for key in [1, 2, 1, 3, 2] { #expect(memo.value(key) { made += 1; return "v\(key)" } == "v\(key)") }
        #expect(made == 3)
        #expect(memo.count == 3)
        #expect(memo.value(4) { made += 1; return "v4" } == "v4")
        #expect(memo.count == 1)  // full: started again with the new value only
        #expect(memo.value(1) { made += 1; return "v1" } == "v1")
        #expect(made == 5)
        let unbounded = Memo<Int, Int>()
        for key in 0..<100 { _ = unbounded.value(key) { key } }
        #expect(unbounded.count == 100)
    }

    @Test("A make that throws keeps nothing: the next read makes the value again")
    func failedMake() throws {
        let memo = Memo<String, Int>(capacity: 2)
        #expect(throws: Refused.self) { try memo.value("a") { () throws(Refused) -> Int in throw Refused() } }
        #expect(memo.count == 0)
        #expect(try memo.value("a") { () throws(Refused) -> Int in 7 } == 7)
        #expect(memo.count == 1)
    }
}
