import Foundation

/// Reads the rows of a ``RowSource`` on a thread of its own, a batch at a time, while the import checks
/// and writes the rows before them: reading (CSV.swift) was 30% of a re-import's CPU and checking and
/// writing the rest (perf, release, bench row 6b), so on two cores the two overlap. The rows come out in
/// the file's order, and a problem with the file comes after the rows before it, as from the source
/// itself. At most ``maxBatches`` batches wait, so memory stays flat.
final class RowPipeline: @unchecked Sendable {
    static let batchRows = 1000
    static let maxBatches = 4

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var batches: [[ImportRow]] = []
    private var finished = false
    private var problem: ImportFileProblem?
    private var stopped = false
    private var exited = false
    // The consumer's own.
    private var current: [ImportRow] = []
    private var index = 0

    /// Starts reading `source` (which only the pipeline's thread uses from now on).
    init(_ source: RowSource) {
        let box = SourceBox(source)
        let thread = Thread { [self] in
            produce(box.source)
            condition.withLock {
                exited = true
                condition.broadcast()
            }
        }
        thread.start()
    }

    private final class SourceBox: @unchecked Sendable {
        let source: RowSource
        init(_ source: RowSource) { self.source = source }
    }

    private func produce(_ source: RowSource) {
        var batch: [ImportRow] = []
        batch.reserveCapacity(Self.batchRows)
        var failure: ImportFileProblem?
        do throws(ImportFileProblem) {
            while let row = try source.next() {
                batch.append(row)
                if batch.count == Self.batchRows {
                    guard push(batch) else { return }
                    batch.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            failure = error
        }
        condition.withLock {
            if !batch.isEmpty { batches.append(batch) }
            problem = failure
            finished = true
            condition.broadcast()
        }
    }

    /// Hands a full batch on, waiting while ``maxBatches`` wait; false when the consumer has stopped.
    private func push(_ batch: [ImportRow]) -> Bool {
        condition.withLock {
            while batches.count >= Self.maxBatches && !stopped { condition.wait() }
            guard !stopped else { return false }
            batches.append(batch)
            condition.broadcast()
            return true
        }
    }

    /// The next row, or nil at the end of the file (``RowSource/next()``).
    func next() throws(ImportFileProblem) -> ImportRow? {
        while index == current.count {
            let (batch, problem): ([ImportRow]?, ImportFileProblem?) = condition.withLock {
                while batches.isEmpty && !finished { condition.wait() }
                guard batches.isEmpty else {
                    condition.broadcast()
                    return (batches.removeFirst(), nil)
                }
                return (nil, self.problem)
            }
            guard let batch else {
                if let problem { throw problem }
                return nil
            }
            current = batch
            index = 0
        }
        index += 1
        return current[index - 1]
    }

    /// Stops the reading thread (if it has not finished) and waits for it to end.
    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
            while !exited { condition.wait() }
        }
    }
}
