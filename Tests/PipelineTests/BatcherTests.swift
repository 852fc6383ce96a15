import PersonalizeModel
import Testing

@testable import Engine
@testable import Pipeline

/// The batcher alone: full batches, time-due batches, and the catch-up age flush.
@Suite struct BatcherTests {
    static func key(_ user: String) -> BatchKey {
        BatchKey(operation: .putEvents, destination: "t", userId: user, sessionId: "s-\(user)")
    }

    static func pending(_ n: Int) -> PendingRecord {
        PendingRecord(
            element: Array("{}".utf8), mapping: "m", stream: 0, sequence: UInt64(n), offset: UInt64(n), line: [])
    }

    static func drain(_ batcher: inout Batcher) -> [Batch] {
        var out: [Batch] = []
        while let batch = batcher.takeReady() { out.append(batch) }
        return out
    }

    @Test func aBatchIsReadyWhenFullAndKeepsItsOrder() {
        var batcher = Batcher(maxWaitMillis: 100)
        for i in 0..<25 { batcher.add(Self.pending(i), key: Self.key("a"), now: 0) }
        let ready = Self.drain(&batcher)
        #expect(ready.map(\.records.count) == [10, 10])
        #expect(ready.flatMap(\.records).map(\.sequence) == (0..<20).map(UInt64.init))
        #expect(batcher.count == 5)
        #expect(batcher.openBatchCount == 1)
    }

    @Test func partialBatchesGoWhenDue() {
        var batcher = Batcher(maxWaitMillis: 100)
        batcher.add(Self.pending(0), key: Self.key("a"), now: 0)
        batcher.add(Self.pending(1), key: Self.key("b"), now: 50)
        #expect(batcher.flushDue(now: 99) == 100)
        #expect(Self.drain(&batcher).isEmpty)
        #expect(batcher.flushDue(now: 100) == 150)
        #expect(Self.drain(&batcher).map { $0.key.userId } == ["a"])
        #expect(batcher.flushDue(now: 150) == nil)
        #expect(Self.drain(&batcher).map { $0.key.userId } == ["b"])
    }

    @Test func openBatchesOlderThanNRecordsAreFlushedOldestFirst() {
        var batcher = Batcher(maxWaitMillis: 1_000_000_000)
        // "old" opens, then 30 records of other users follow (three full batches of "busy").
        batcher.add(Self.pending(0), key: Self.key("old"), now: 0)
        batcher.add(Self.pending(1), key: Self.key("quiet"), now: 0)
        for i in 2..<32 { batcher.add(Self.pending(i), key: Self.key("busy"), now: 0) }
        #expect(Self.drain(&batcher).count == 3)
        batcher.flushOpened(moreThan: 31)
        #expect(Self.drain(&batcher).isEmpty, "31 records came after \"old\", 30 after \"quiet\"")
        batcher.flushOpened(moreThan: 30)
        #expect(Self.drain(&batcher).map { $0.key.userId } == ["old"])
        batcher.flushOpened(moreThan: 29)
        #expect(Self.drain(&batcher).map { $0.key.userId } == ["quiet"])
        #expect(batcher.count == 0)
        // A batch that reopens for the same key is a new batch with its own age.
        batcher.add(Self.pending(40), key: Self.key("old"), now: 0)
        batcher.flushOpened(moreThan: 0)
        #expect(Self.drain(&batcher).isEmpty, "it opened with the last record added")
        batcher.add(Self.pending(41), key: Self.key("x"), now: 0)
        batcher.flushOpened(moreThan: 0)
        #expect(Self.drain(&batcher).map { $0.key.userId } == ["old"])
    }
}
