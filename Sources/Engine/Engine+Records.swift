import Checkpoints
import Foundation
import JSON
import Logging
import Mapping
import PersonalizeModel
import Tailing

extension Engine {
    /// Handles one event of the reader outside a chunk: a line is mapped and handled at once, a skipped or damaged
    /// stretch is dead-lettered (and registered with the stream's ledger).
    func handleEvent(_ stream: Stream, _ event: LineEvent) {
        switch event {
        case .line(let line):
            handleChunk(stream, [line])
        case .tooLong(let sample, let length, let offset, let end):
            stats.linesRead += 1
            var letter = DeadLetter(
                kind: .lineTooLong,
                reason: "line is \(length) bytes, the limit is \(stream.source.maxLineBytes) (sources[].maxLineBytes)",
                source: stream.source.name, path: stream.path, offset: offset, mapping: nil, line: sample)
            letter.lineTruncated = true
            letter.lineLength = length
            record(letter)
            openLine(stream, end: end, records: 0)
        case .corrupt(let message, let offset, let compressedOffset):
            deadLetter(
                .corruptGzip,
                "gzip data damaged at compressed byte \(compressedOffset): \(message); "
                    + "lines after it cannot be read", stream, offset: offset, mapping: nil, line: [])
            table.update(stream.entry) { $0.damagedAt = compressedOffset }
            logger.error(
                "damaged gzip file; read what could be decoded",
                metadata: [
                    "file.path": "\(stream.path)", "file.compressed_offset": "\(compressedOffset)",
                ])
        }
    }

    /// Turns one framed line, with what mapping made of it (``handleChunk(_:_:)``), into records (or a dead letter),
    /// and registers it with the stream's ledger.
    func handleLine(_ stream: Stream, _ line: FramedLine, _ mapped: Premapped, now time: Int64? = nil) {
        let bytes = line.bytes
        let offset = line.offset
        let end = line.end
        stats.linesRead += 1
        if sessionJournal != nil, !mapper.sessionTouches.isEmpty { noteSessions(stream, end: end) }
        let results: [Premapped.Mapped]
        let raw: [UInt8]
        switch mapped {
        case .blank:
            stats.emptyLines += 1
            openLine(stream, end: end, records: 0)
            return
        case .invalid(let error):
            let kind: DeadLetterKind = error.message.contains("UTF-8") ? .invalidUTF8 : .malformedJSON
            deadLetter(
                kind, "\(kind == .invalidUTF8 ? "invalid UTF-8" : "not valid JSON"): \(error)", stream,
                offset: offset, mapping: nil, line: Array(bytes))
            openLine(stream, end: end, records: 0)
            return
        case .mapped(let r, let copy):
            results = r
            raw = copy
        }
        if results.isEmpty {
            if config.unmatched == .deadLetter {
                deadLetter(
                    .unmatched, "no mapping matched this record", stream, offset: offset, mapping: nil,
                    line: Array(bytes))
            } else {
                stats.skipped += 1
            }
            openLine(stream, end: end, records: 0)
            return
        }
        // Two passes instead of a list of the records to keep: failures are dead-lettered and the records in
        // the time range counted (the ledger needs the count first), then those records are batched.
        var kept = 0
        for result in results {
            switch result {
            case .record(_, _, let time):
                if let time, !inTimeRange(time) {
                    stats.outsideTimeRange += 1
                } else {
                    kept += 1
                }
            case .failure(let mapping, let failure):
                let kind: DeadLetterKind = failure.kind == .limit ? .limitExceeded : .mappingFailed
                deadLetter(kind, failure.description, stream, offset: offset, mapping: mapping, line: raw)
            }
        }
        let sequence = openLine(stream, end: end, records: kept)
        guard kept > 0 else { return }
        let t = time ?? now
        for case .record(let mapping, let record, let time) in results {
            if let time, !inTimeRange(time) { continue }
            stats.recordsMapped += 1
            unresolvedRecords += 1
            batcher.add(
                PendingRecord(
                    element: record.element, mapping: mapping, stream: stream.id, sequence: sequence, offset: offset,
                    line: raw),
                key: record.key, now: t)
        }
    }

    func context(of stream: Stream, offset: UInt64) -> RecordContext {
        var meta: RecordMeta?
        if stream.decoder != nil, mapper.readsMeta {
            meta = RecordMeta(namespace: stream.pod?.namespace, pod: stream.pod?.pod, container: stream.pod?.container)
        }
        return RecordContext(
            sourceName: stream.source.name, path: stream.path, fingerprint: stream.key, offset: offset,
            meta: meta)
    }

    /// Handles the lines framed from one read, in order; a large chunk is mapped on two threads first (see
    /// ``MappingWorker``). The lines' bytes are only valid during this call.
    func handleChunk(_ stream: Stream, _ lines: [FramedLine]) {
        guard !lines.isEmpty else { return }
        guard let worker = mappingWorker, lines.count >= MappingWorker.minimumChunk else {
            var c = context(of: stream, offset: 0)
            for line in lines {
                line.locate(&c)
                handleLine(stream, line, Premapped.make(line.bytes, context: c, mapper: mapper))
            }
            return
        }
        // The worker reads (and inflates) the next block ahead first: the engine maps meanwhile.
        let t = now
        worker.map(
            lines, context: context(of: stream, offset: 0), engineMapper: mapper, readAhead: stream.reader?.blocks
        ) {
            i, result in
            handleLine(stream, lines[i], result, now: t)
            // Requests go as their batches fill (answers making room), while the worker maps the rest of the chunk;
            // not after a stop or wake-up came in (the loop sees to those first).
            if i % Self.launchEvery == Self.launchEvery - 1 {
                takeCompletions()
                if deferredMessages.isEmpty { launchReady() }
            }
        }
    }

    func inTimeRange(_ time: Timestamp) -> Bool {
        if let since = options.since, time < since { return false }
        if let until = options.until, time >= until { return false }
        return true
    }

    func deadLetter(
        _ kind: DeadLetterKind, _ reason: String, _ stream: Stream, offset: UInt64, mapping: String?, line: [UInt8]
    ) {
        record(
            DeadLetter(
                kind: kind, reason: reason, source: stream.source.name, path: stream.path, offset: offset,
                mapping: mapping, line: line))
    }

    func record(_ letter: DeadLetter) {
        stats.deadLettered[letter.kind.rawValue, default: 0] += 1
        if let deadLetters {
            deadLetters.append(letter)
            if let suppressed = deadLetterLog.admit(now: now) {
                var metadata: Logger.Metadata = [
                    "kind": "\(letter.kind.rawValue)", "file.path": "\(letter.path)", "file.offset": "\(letter.offset)",
                    "reason": "\(String(letter.reason.prefix(300)))",
                ]
                if suppressed > 0 { metadata["dead_letters.not_logged"] = "\(suppressed)" }
                logger.warning("dead-lettered a record", metadata: metadata)
            }
        } else {
            logger.info(
                "dry run: would dead-letter",
                metadata: [
                    "file.path": "\(letter.path)", "file.offset": "\(letter.offset)", "kind": "\(letter.kind.rawValue)",
                    "reason": "\(letter.reason)",
                ])
        }
    }

    /// Applies the answer for one batch: acknowledged records resolve their lines; refused ones are dead-lettered
    /// (which resolves them too); unanswered ones stay unresolved and hold their file's checkpoint back.
    func complete(_ batch: Batch, _ result: BatchResult) {
        stats.requests += result.requests
        stats.retries += result.retries
        stats.throttles += result.throttles
        outcomeCounts[batch.key.operation, default: OutcomeCounts()].add(result)
        batchSizes[min(batch.records.count, 10)] += 1
        let wall = Double(wallMillis()) / 1000
        if result.fates.contains(where: { $0 != .unresolved }) { stallMark = now }
        if result.accepted > 0 {
            lastDeliveryTime = wall
            failingSince = nil
        } else if result.retries > 0 || result.fatal != nil {
            failingSince = failingSince ?? wall
        }
        if let message = result.fatal, fatal == nil {
            fatal = message
        }
        // By index: a record is not copied out of the batch (each copy retains its buffers).
        for i in batch.records.indices {
            let fate = i < result.fates.count ? result.fates[i] : .unresolved
            switch fate {
            case .acknowledged:
                stats.recordsSent += 1
            case .rejected(let message):
                recordFailure(.rejectedByService, "rejected by the service: \(message)", batch.records[i])
            case .exhausted(let message):
                recordFailure(.retriesExhausted, message, batch.records[i])
            case .unresolved:
                stats.unresolved += 1
                continue
            }
            unresolvedRecords -= 1
            if let stream = streams[batch.records[i].stream] { resolveLine(stream, batch.records[i].sequence) }
        }
    }

    private func recordFailure(_ kind: DeadLetterKind, _ reason: String, _ pending: PendingRecord) {
        let stream = streams[pending.stream]
        record(
            DeadLetter(
                kind: kind, reason: reason, source: stream?.source.name ?? "", path: stream?.path ?? "",
                offset: pending.offset, mapping: pending.mapping, line: pending.line))
    }

    /// Writes checkpoints (at most every `flushIntervalMillis`, or now with `force`), after making dead letters
    /// durable: a checkpoint never moves past a dead letter that is not on disk.
    func saveCheckpoints(force: Bool) {
        let t = now
        let due = force || t - lastSave >= Int64(config.state.flushIntervalMillis)
        commitSessions(all: due)
        guard due else { return }
        lastSave = t
        for stream in streams.values {
            let offset = stream.ledger.safeOffset
            let path = stream.path
            guard let c = table.entries[stream.entry] else { continue }
            var size = c.size
            if let s = stream.reader?.currentSize() { size = s }
            if c.offset != offset || c.path != path || c.size != size {
                table.update(stream.entry) {
                    $0.offset = offset
                    $0.path = path
                    $0.size = size
                    $0.updatedAt = wallMillis()
                }
            }
            growFingerprint(stream)
        }
        guard table.dirty, let store, !options.readOnly else { return }
        do {
            try deadLetters?.sync()
            if let sessions = sessionJournal?.state.serialized() {
                try store.save(table.all, sessions: sessions)
            } else {
                try store.save(table.all)
            }
            table.dirty = false
            if stateFailure != nil {
                logger.notice("state can be written again; resuming")
                stateFailure = nil
            }
        } catch {
            stateFailure = "\(error)"
            if t - stateFailureLogged > 10_000 {
                stateFailureLogged = t
                logger.critical(
                    "cannot write state; holding position and reading nothing more until it can",
                    metadata: ["error": "\(error)"])
            }
        }
    }

    /// A short file's fingerprint grows with it, up to the full length.
    private func growFingerprint(_ stream: Stream) {
        guard !stream.fingerprint.isComplete, !stream.detached,
            let size = stream.reader?.currentSize() ?? Optional(stream.size),
            size > UInt64(stream.fingerprint.length) || stream.compressed
        else { return }
        guard let head = try? Fingerprint.readHead(path: stream.path, count: Fingerprint.fullLength),
            head.count > stream.fingerprint.length, stream.fingerprint.matches(prefixOf: head),
            let st = FileStat.of(path: stream.path), stream.file.isSameFile(st)
        else { return }
        let grown = Fingerprint.of(head)
        stream.fingerprint = grown
        table.update(stream.entry) {
            $0.fingerprint = grown.hash
            $0.fingerprintLength = grown.length
        }
    }
}

extension Engine {
    /// Publishes a snapshot for `/metrics`, `/health` and progress, at most four times a second.
    func publishMetrics(force: Bool, stopping: Bool = false, fatal: String? = nil) {
        guard let metrics else { return }
        let t = now
        guard force || t - lastPublish >= 250 else { return }
        lastPublish = t
        syncAttemptCounters()
        let files = streams.values.sorted { $0.id < $1.id }.map { stream in
            MetricsSnapshot.FileState(
                path: stream.path, source: stream.source.name, offset: stream.ledger.safeOffset,
                bytesRead: stream.reader?.bytesConsumed ?? stream.size,
                size: stream.reader?.currentSize() ?? stream.size,
                compressed: stream.compressed)
        }
        let pending = unresolvedRecords
        let checkpointEntries = table.entries.count
        var failingSince = self.failingSince
        var lastDeliveryTime = self.lastDeliveryTime
        if let health = sender.deliveryHealth?.snapshot {
            // Attempts, not only finished batches: during an outage with endless retries no batch finishes.
            failingSince = inFlight > 0 || failingSince != nil ? health.failingSince : nil
            if let success = health.lastSuccess { lastDeliveryTime = max(lastDeliveryTime ?? 0, success) }
        }
        metrics.update { m in
            m.stats = stats
            m.pendingRecords = pending
            m.inFlightRequests = inFlight
            m.requestsByOutcome = requestsByOutcome
            m.latency = latency
            m.batchSizes = batchSizes
            m.files = files
            m.checkpointEntries = checkpointEntries
            m.currentFile = currentFile
            m.lastDeliveryTime = lastDeliveryTime
            m.failingSince = failingSince
            m.stopping = m.stopping || stopping || self.stopping
            if let fatal { m.fatal = fatal }
        }
    }
}

/// Requests of one operation by outcome (kept as plain counters: this is updated for every batch).
struct OutcomeCounts {
    var accepted = 0
    var rejected = 0
    var throttled = 0
    var failed = 0

    mutating func add(_ result: BatchResult) {
        accepted += result.accepted
        rejected += result.rejected
        throttled += result.throttles
        failed += max(0, result.retries - result.throttles)
    }
}

extension Engine {
    /// Takes the sender's attempt counters (counted as attempts happen, not when batches finish, so that an outage
    /// with endless retries shows in the summary, the report and the metrics).
    func syncAttemptCounters() {
        guard let health = sender.deliveryHealth?.snapshot else { return }
        stats.requests = health.totalAttempts
        stats.retries = health.retries
        stats.throttles = health.throttles
        stats.connectionErrors = health.connectionErrors
        stats.lastError = health.lastError
    }

    /// The request latency histogram, when the sender measures it.
    var latency: (buckets: [Int], sum: Double)? {
        sender.deliveryHealth.map { h in
            let s = h.snapshot
            return (s.latencyBuckets, s.latencySum)
        }
    }

    /// The counters as `/metrics` labels them: operation -> outcome -> requests.
    var requestsByOutcome: [String: [String: Int]] {
        if let health = sender.deliveryHealth?.snapshot {
            var out: [String: [String: Int]] = [:]
            for (operation, counts) in health.attempts {
                var row = ["accepted": 0, "rejected": 0, "throttled": 0, "failed": 0, "connection_error": 0]
                for (outcome, n) in counts { row[outcome] = n }
                out[operation] = row
            }
            return out
        }
        var out: [String: [String: Int]] = [:]
        for (operation, c) in outcomeCounts {
            out[operation.rawValue] = [
                "accepted": c.accepted, "rejected": c.rejected, "throttled": c.throttled, "failed": c.failed,
            ]
        }
        return out
    }
}
