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

    @Test("A value made outside the lock is kept, within the capacity, and found")
    func keptOutside() {
        let memo = Memo<Int, String>(capacity: 2)
        #expect(memo.cached(1) == nil && memo.hits == 0)
        memo.keep("one", for: 1)
        memo.keep("two", for: 2)
        #expect(memo.cached(1) == "one" && memo.hits == 1)
        memo.keep("three", for: 3)  // full: started again
        #expect(memo.count == 1 && memo.cached(1) == nil && memo.cached(3) == "three" && memo.hits == 2)
    }
}
