import Foundation
import TestSupport
import Testing

@testable import Checkpoints

/// ``LineLedger`` directly: each path of `open`/`resolve`, then random sequences against a model that keeps every
/// line (the safe offset is the end of the longest resolved prefix, nothing cleverer).
@Suite struct LineLedgerTests {
    @Test func startsAtItsOffsetAndIsSettled() {
        let ledger = LineLedger(startOffset: 42)
        #expect(ledger.safeOffset == 42)
        #expect(ledger.isSettled)
        #expect(ledger.openCount == 0)
    }

    @Test func aLineWithoutRecordsMovesTheOffsetAtOnceWhenNothingIsOpen() {
        var ledger = LineLedger(startOffset: 0)
        #expect(ledger.open(end: 10, records: 0) == UInt64.max)
        #expect(ledger.safeOffset == 10)
        #expect(ledger.isSettled)
    }

    @Test func linesWithoutRecordsMergeIntoTheTailAndWaitBehindAnOpenLine() {
        var ledger = LineLedger(startOffset: 0)
        let a = ledger.open(end: 10, records: 1)
        ledger.open(end: 20, records: 0)
        ledger.open(end: 30, records: 0)
        ledger.open(end: 40, records: 0)
        #expect(ledger.openCount == 2, "the three empty lines are one entry")
        #expect(ledger.safeOffset == 0)
        ledger.resolve(a)
        #expect(ledger.safeOffset == 40)
        #expect(ledger.isSettled)
    }

    @Test func resolvedOutOfOrderTheOffsetWaitsForTheFirstLine() {
        var ledger = LineLedger(startOffset: 5)
        let a = ledger.open(end: 10, records: 1)
        let b = ledger.open(end: 20, records: 2)
        let c = ledger.open(end: 30, records: 1)
        ledger.resolve(c)
        ledger.resolve(b)
        #expect(ledger.safeOffset == 5)
        ledger.resolve(a)
        #expect(ledger.safeOffset == 10, "b still has a record outstanding")
        ledger.resolve(b)
        #expect(ledger.safeOffset == 30)
        #expect(ledger.isSettled)
    }

    @Test func aDuplicateResolveIsIgnored() {
        var ledger = LineLedger(startOffset: 0)
        let a = ledger.open(end: 10, records: 1)
        let b = ledger.open(end: 20, records: 1)
        let c = ledger.open(end: 30, records: 1)
        ledger.resolve(b)
        ledger.resolve(b)  // one record: the second is a duplicate and must not count for a or c
        #expect(ledger.safeOffset == 0)
        ledger.resolve(a)
        #expect(ledger.safeOffset == 20)
        ledger.resolve(a)
        ledger.resolve(b)
        #expect(ledger.safeOffset == 20, "c is still open")
        ledger.resolve(c)
        #expect(ledger.safeOffset == 30)
    }

    @Test func theNoRecordSequenceAndUnknownSequencesAreIgnored() {
        var ledger = LineLedger(startOffset: 0)
        let a = ledger.open(end: 10, records: 1)
        ledger.resolve(UInt64.max)
        ledger.resolve(a + 1)  // never handed out
        ledger.resolve(a + 1_000_000)
        #expect(ledger.safeOffset == 0)
        #expect(ledger.openCount == 1)
        ledger.resolve(a)
        #expect(ledger.safeOffset == 10)
    }

    @Test func storageIsReleasedWhenSettledAndSequencesContinue() {
        var ledger = LineLedger(startOffset: 0)
        let first = (0..<100).map { ledger.open(end: UInt64($0 + 1) * 10, records: 1) }
        #expect(ledger.storedEntries == 100)
        for s in first { ledger.resolve(s) }
        #expect(ledger.safeOffset == 1000)
        #expect(ledger.storedEntries == 0, "a settled ledger holds no queue")
        // New lines get new sequence numbers: a late duplicate of an old one cannot resolve them.
        let next = ledger.open(end: 1010, records: 1)
        #expect(next > first.last!)
        for s in first { ledger.resolve(s) }
        #expect(ledger.safeOffset == 1000)
        ledger.resolve(next)
        #expect(ledger.safeOffset == 1010)
    }

    @Test func sequencesContinueAcrossLinesWithoutRecords() {
        // Released, then a line without records (no queue at all), then a line with one: the numbering goes on.
        var ledger = LineLedger(startOffset: 0)
        let a = ledger.open(end: 10, records: 1)
        ledger.resolve(a)
        ledger.open(end: 20, records: 0)
        let b = ledger.open(end: 30, records: 1)
        #expect(b > a)
        ledger.resolve(a)
        #expect(ledger.safeOffset == 20)
        ledger.resolve(b)
        #expect(ledger.safeOffset == 30)
    }

    @Test func theQueueIsCompactedPast4096PassedEntries() {
        var ledger = LineLedger(startOffset: 0)
        let n = 10_000
        let sequences = (0..<n).map { ledger.open(end: UInt64($0 + 1), records: 1) }
        for s in sequences.prefix(6_000) { ledger.resolve(s) }
        #expect(ledger.safeOffset == 6_000)
        #expect(ledger.storedEntries < n, "passed entries were dropped")
        #expect(ledger.openCount == 4_000)
        // The rest, resolved from the last: sequences still find their lines after the compaction.
        for (i, s) in sequences.enumerated().dropFirst(6_001).reversed() {
            ledger.resolve(s)
            #expect(ledger.safeOffset == 6_000, "line \(i)")
        }
        ledger.resolve(sequences[6_000])
        #expect(ledger.safeOffset == UInt64(n))
        #expect(ledger.isSettled)
    }

    // MARK: Model

    /// Every line with its end and outstanding records; the safe offset is the end of the longest resolved prefix.
    struct Model {
        var start: UInt64
        var lines: [(end: UInt64, remaining: Int)] = []

        var safeOffset: UInt64 {
            var safe = start
            for line in lines {
                guard line.remaining == 0 else { break }
                safe = max(safe, line.end)
            }
            return safe
        }

        var unresolved: Int { lines.reduce(0) { $0 + ($1.remaining > 0 ? 1 : 0) } }

        /// Lines from the first unresolved one on (what the ledger may still hold).
        var tail: Int { lines.firstIndex { $0.remaining > 0 }.map { lines.count - $0 } ?? 0 }
    }

    static let seeds: [UInt64] = {
        var seeds: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8, 0xDEAD_BEEF]
        if let text = ProcessInfo.processInfo.environment["LEDGER_SEED"], let seed = UInt64(text) { seeds.append(seed) }
        return seeds
    }()

    @Test(arguments: seeds) func matchesTheModelOnRandomSequences(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let start = rng.next() % 1000
        var ledger = LineLedger(startOffset: start)
        var model = Model(start: start)
        var sequences: [UInt64] = []  // per model line; UInt64.max for lines without records
        var handedOut = Set<UInt64>()
        var end = start
        // Resolves not yet made, one per outstanding record: (model line, sequence).
        var outstanding: [(line: Int, sequence: UInt64)] = []
        let steps = 3_000 + Int(rng.next() % 3_000)
        for step in 0..<steps {
            let roll = rng.next() % 100
            if roll < 45 || outstanding.isEmpty {
                end += 1 + rng.next() % 200
                let records = rng.next() % 4 == 0 ? 0 : Int(1 + rng.next() % 3)
                let sequence = ledger.open(end: end, records: records)
                if records == 0 {
                    #expect(sequence == UInt64.max, "seed \(seed) step \(step)")
                } else {
                    #expect(sequence != UInt64.max, "seed \(seed) step \(step)")
                    #expect(
                        handedOut.insert(sequence).inserted, "seed \(seed) step \(step): sequence \(sequence) reused")
                }
                model.lines.append((end, records))
                sequences.append(sequence)
                for _ in 0..<records { outstanding.append((model.lines.count - 1, sequence)) }
            } else if roll < 95 {
                // Mostly near the front (requests finish roughly in order), sometimes anywhere.
                let window = rng.next() % 3 == 0 ? outstanding.count : min(outstanding.count, 8)
                let pick = outstanding.remove(at: Int(rng.next() % UInt64(window)))
                ledger.resolve(pick.sequence)
                model.lines[pick.line].remaining -= 1
            } else {
                // A duplicate or stale answer: a line already fully resolved, or the no-record sequence.
                let resolved = model.lines.indices.filter { model.lines[$0].remaining == 0 }
                if let line = resolved.isEmpty ? nil : resolved[Int(rng.next() % UInt64(resolved.count))] {
                    ledger.resolve(sequences[line])
                }
                ledger.resolve(UInt64.max)
            }
            #expect(ledger.safeOffset == model.safeOffset, "seed \(seed) step \(step)")
            #expect(ledger.isSettled == (model.unresolved == 0), "seed \(seed) step \(step)")
            #expect(ledger.openCount <= model.tail, "seed \(seed) step \(step)")
            if ledger.safeOffset != model.safeOffset { return }  // the first divergence says it all
        }
        // Everything resolved, in random order: the offset reaches the last line's end.
        while !outstanding.isEmpty {
            let pick = outstanding.remove(at: Int(rng.next() % UInt64(outstanding.count)))
            ledger.resolve(pick.sequence)
            model.lines[pick.line].remaining -= 1
            #expect(ledger.safeOffset == model.safeOffset, "seed \(seed) draining")
        }
        #expect(ledger.safeOffset == end, "seed \(seed)")
        #expect(ledger.isSettled, "seed \(seed)")
        #expect(ledger.storedEntries == 0, "seed \(seed)")
    }
}
