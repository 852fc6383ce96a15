/// Tracks which lines of one file are resolved, to know how far its checkpoint may move.
///
/// Lines are opened in file order, each with the number of records it produced that are still unresolved (in a
/// batch or in flight). A record is resolved when the service acknowledged it or it was dead-lettered. The safe
/// offset is the end of the longest prefix of lines that are all resolved: the checkpoint never passes a record
/// that could still be lost. Requests finish out of order; the ledger makes that harmless.
public struct LineLedger: Sendable {
    /// Offset below which everything is resolved.
    public private(set) var safeOffset: UInt64
    /// Unresolved lines in order: (end offset, records still outstanding). Resolved runs are merged into their
    /// successor's position, so the queue holds at most one entry per line with outstanding records (plus one).
    private var entries: [(end: UInt64, remaining: Int32)] = []
    private var head = 0
    /// Sequence number of `entries[0]`.
    private var baseSequence: UInt64 = 0

    public init(startOffset: UInt64) {
        safeOffset = startOffset
    }

    /// Lines opened and not yet resolved.
    public var openCount: Int { entries.count - head }
    public var isSettled: Bool { openCount == 0 }
    /// Entries held, including those already passed (tests: compaction and release of the queue).
    var storedEntries: Int { entries.count }

    /// Registers the line ending at `end` with `records` outstanding records; returns its sequence number, which
    /// ``resolve(_:)`` takes. A line with no outstanding record (skipped, dead-lettered) costs nothing.
    @discardableResult
    public mutating func open(end: UInt64, records: Int) -> UInt64 {
        if records == 0 {
            if head == entries.count {
                safeOffset = max(safeOffset, end)
            } else if entries[entries.count - 1].remaining == 0 {
                entries[entries.count - 1].end = end
            } else {
                entries.append((end, 0))
            }
            return UInt64.max
        }
        if head == entries.count, head > 0 {
            entries.removeAll(keepingCapacity: true)
            baseSequence += UInt64(head)
            head = 0
        }
        entries.append((end, Int32(records)))
        return baseSequence + UInt64(entries.count - 1)
    }

    /// Marks one record of line `sequence` resolved.
    public mutating func resolve(_ sequence: UInt64) {
        guard sequence != UInt64.max, sequence >= baseSequence else { return }
        let index = Int(sequence - baseSequence)
        guard index >= head, index < entries.count, entries[index].remaining > 0 else { return }
        entries[index].remaining -= 1
        advance()
    }

    private mutating func advance() {
        while head < entries.count, entries[head].remaining == 0 {
            safeOffset = max(safeOffset, entries[head].end)
            head += 1
        }
        if head == entries.count {
            // Settled: give the storage back, so an idle followed file holds no queue (one per file adds up).
            baseSequence += UInt64(head)
            entries = []
            head = 0
        } else if head > 4096, head * 2 > entries.count {
            entries.removeFirst(head)
            baseSequence += UInt64(head)
            head = 0
        }
    }
}
