import PersonalizeModel

/// Groups records into requests: events by tracking id + user + session, other records by destination; a batch is
/// ready when it holds ``Limits/maxRecordsPerCall`` records or has waited `maxWait`.
///
/// Pure and clock-injected: the engine passes `now` (milliseconds on a monotonic clock).
public struct Batcher: Sendable {
    public let maxWaitMillis: Int64
    public let maxPerCall: Int

    private var open: [BatchKey: (records: [PendingRecord], since: Int64, seq: Int64)] = [:]
    /// Open batches in creation order (entries whose batch has since been sent are skipped lazily), so that finding
    /// the oldest or the due ones never sorts the whole table.
    private var openOrder: [(key: BatchKey, since: Int64, seq: Int64)] = []
    /// Records added so far: a batch's `seq` is the count when it opened (unique, and an age in records).
    private var added: Int64 = 0
    private var openOrderHead = 0
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

    public mutating func add(_ record: PendingRecord, key: BatchKey, now: Int64) {
        count += 1
        added += 1
        if let index = open.index(forKey: key) {
            // In place: one hash lookup, no copy of the batch's records.
            open.values[index].records.append(record)
            if open.values[index].records.count >= maxPerCall {
                let entry = open.remove(at: index)
                ready.append(Batch(key: key, records: entry.value.records))
            }
        } else if maxPerCall == 1 {
            ready.append(Batch(key: key, records: [record]))
        } else {
            var records: [PendingRecord] = []
            records.reserveCapacity(maxPerCall)
            records.append(record)
            open[key] = (records, now, added)
            openOrder.append((key, now, added))
        }
    }

    /// Moves batches that waited long enough (or all of them, with `all`) to the ready queue.
    /// Returns the earliest time an open batch will be due, if any remain.
    @discardableResult
    public mutating func flushDue(now: Int64, all: Bool = false) -> Int64? {
        while let (key, since, _) = oldestOpen() {
            if !all && now - since < maxWaitMillis { return since + maxWaitMillis }
            sendOldest(key)
        }
        return nil
    }

    /// Sends the open batches that opened more than `records` records ago. A batch that will never fill (a session
    /// that ended with three events) holds its file's checkpoint back, and the lines read after it count against
    /// the pending bound: in a catch-up run, where batches have no time limit, this keeps that window short.
    public mutating func flushOpened(moreThan records: Int) {
        while let (key, _, seq) = oldestOpen(), added - seq > Int64(records) {
            sendOldest(key)
        }
    }

    /// Sends the oldest open batches early, to make room when the pending-record bound is reached.
    public mutating func flushOldest(_ n: Int) {
        var sent = 0
        while sent < n, let (key, _, _) = oldestOpen() {
            sendOldest(key)
            sent += 1
        }
    }

    /// The oldest batch still open, skipping order entries of batches that filled up and left.
    private mutating func oldestOpen() -> (BatchKey, Int64, Int64)? {
        while openOrderHead < openOrder.count {
            let entry = openOrder[openOrderHead]
            if let batch = open[entry.key], batch.seq == entry.seq { return (entry.key, entry.since, entry.seq) }
            openOrderHead += 1
        }
        openOrder.removeAll(keepingCapacity: true)
        openOrderHead = 0
        return nil
    }

    private mutating func sendOldest(_ key: BatchKey) {
        openOrderHead += 1
        if let entry = open.removeValue(forKey: key) { ready.append(Batch(key: key, records: entry.records)) }
        if openOrderHead > 4096, openOrderHead * 2 > openOrder.count {
            openOrder.removeFirst(openOrderHead)
            openOrderHead = 0
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
