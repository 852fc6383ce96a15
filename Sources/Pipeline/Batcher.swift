import PersonalizeModel

/// Groups records into requests: events by tracking id + user + session, other records by destination; a batch is
/// ready when it holds ``Limits/maxRecordsPerCall`` records or has waited `maxWait`.
///
/// Pure and clock-injected: the engine passes `now` (milliseconds on a monotonic clock).
public struct Batcher: Sendable {
    public let maxWaitMillis: Int64
    public let maxPerCall: Int

    private var open: [BatchKey: (records: [PendingRecord], since: Int64)] = [:]
    /// Batches ready to send, oldest first.
    public private(set) var ready: [Batch] = []
    private var readyHead = 0
    /// Records held in open and ready batches.
    public private(set) var count = 0

    public init(maxWaitMillis: Int, maxPerCall: Int = Limits.maxRecordsPerCall) {
        self.maxWaitMillis = Int64(maxWaitMillis)
        self.maxPerCall = maxPerCall
    }

    public var openBatchCount: Int { open.count }
    public var readyCount: Int { ready.count - readyHead }

    public mutating func add(_ record: PendingRecord, now: Int64) {
        let key = record.record.batchKey
        count += 1
        if var entry = open.removeValue(forKey: key) {
            entry.records.append(record)
            if entry.records.count >= maxPerCall {
                ready.append(Batch(key: key, records: entry.records))
            } else {
                open[key] = entry
            }
        } else if maxPerCall == 1 {
            ready.append(Batch(key: key, records: [record]))
        } else {
            var records: [PendingRecord] = []
            records.reserveCapacity(maxPerCall)
            records.append(record)
            open[key] = (records, now)
        }
    }

    /// Moves batches that waited long enough (or all of them, with `all`) to the ready queue.
    /// Returns the earliest time an open batch will be due, if any remain.
    @discardableResult
    public mutating func flushDue(now: Int64, all: Bool = false) -> Int64? {
        var next: Int64?
        guard !open.isEmpty else { return nil }
        var due: [(BatchKey, Int64)] = []
        for (key, entry) in open {
            if all || now - entry.since >= maxWaitMillis {
                due.append((key, entry.since))
            } else {
                let at = entry.since + maxWaitMillis
                next = min(next ?? at, at)
            }
        }
        due.sort { $0.1 < $1.1 }
        for (key, _) in due {
            if let entry = open.removeValue(forKey: key) { ready.append(Batch(key: key, records: entry.records)) }
        }
        return next
    }

    /// Sends the oldest open batches early, to make room when the pending-record bound is reached.
    public mutating func flushOldest(_ n: Int) {
        let oldest = open.sorted { $0.value.since < $1.value.since }.prefix(n)
        for (key, _) in oldest {
            if let entry = open.removeValue(forKey: key) { ready.append(Batch(key: key, records: entry.records)) }
        }
    }

    public mutating func takeReady() -> Batch? {
        guard readyHead < ready.count else { return nil }
        let batch = ready[readyHead]
        ready[readyHead].records = []  // release the records now, not at the next compaction
        readyHead += 1
        count -= batch.records.count
        if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        } else if readyHead > 1024 {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        return batch
    }
}
