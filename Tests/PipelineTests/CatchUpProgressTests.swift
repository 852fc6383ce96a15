import Engine
import Metrics
import Pipeline
import Testing

/// Catch-up progress counts records resolved, so it cannot reach 100 % while records are unacknowledged.
@Suite struct CatchUpProgressTests {
    static func snapshot(read bytes: UInt64, of planned: UInt64, mapped: Int, pending: Int) -> MetricsSnapshot {
        var m = MetricsSnapshot()
        m.stats.bytesRead = bytes
        m.stats.bytesPlanned = planned
        m.stats.recordsMapped = mapped
        m.pendingRecords = pending
        return m
    }

    @Test func everyByteReadButRecordsUnacknowledgedIsNotDone() {
        let p = CatchUpProgress(
            Self.snapshot(read: 1 << 20, of: 1 << 20, mapped: 10_000, pending: 3_000), elapsedSeconds: 7)
        #expect(p.resolved == 7_000)
        #expect(p.estimatedTotal == 10_000)
        #expect(abs(p.fraction - 0.7) < 1e-9)
        #expect(p.etaSeconds.map { abs($0 - 3) < 1e-9 } == true)
        // One record left: shown as 99 %, never 100 %.
        let last = CatchUpProgress(
            Self.snapshot(read: 1 << 20, of: 1 << 20, mapped: 10_000, pending: 1), elapsedSeconds: 7)
        #expect(last.fraction < 1 && Int(last.fraction * 100) == 99)
    }

    @Test func theTotalIsEstimatedFromTheBytesReadSoFar() {
        let p = CatchUpProgress(Self.snapshot(read: 250, of: 1_000, mapped: 2_500, pending: 500), elapsedSeconds: 2)
        #expect(p.estimatedTotal == 10_000)
        #expect(abs(p.fraction - 0.2) < 1e-9)
        #expect(p.etaSeconds.map { abs($0 - 8) < 1e-9 } == true)
    }

    @Test func doneOnlyWhenEverythingIsReadAndResolved() {
        let done = CatchUpProgress(Self.snapshot(read: 1_000, of: 1_000, mapped: 40, pending: 0), elapsedSeconds: 1)
        #expect(done.fraction == 1 && done.etaSeconds == 0)
        // Every record read so far resolved, but bytes left: not done.
        let more = CatchUpProgress(Self.snapshot(read: 999, of: 1_000, mapped: 40, pending: 0), elapsedSeconds: 1)
        #expect(more.fraction < 1)
        // Nothing mapped yet: the bytes are all there is to go by, and nothing is resolved to time an ETA.
        let start = CatchUpProgress(Self.snapshot(read: 100, of: 1_000, mapped: 0, pending: 0), elapsedSeconds: 1)
        #expect(abs(start.fraction - 0.1) < 1e-9 && start.etaSeconds == nil)
    }
}
