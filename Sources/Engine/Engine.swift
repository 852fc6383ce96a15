import AgentConfig
import Checkpoints
import Foundation
import JSON
import Logging
import Mapping
import PersonalizeClient
import PersonalizeModel
import PinnedMemory
import Tailing

/// The heart of the agent: reads files, maps lines, batches records, dispatches batches and moves checkpoints.
///
/// All of its decisions run on one thread of its own, in one loop, so none of its state needs a lock; requests are
/// started through the ``BatchSender`` (most complete on the HTTP transport's event loop without any task; retries
/// run in tasks) and report back through the mailbox. Memory is bounded: reading pauses while the sender has a short
/// queue of ready batches, or `maxPendingRecords` records are unresolved, until answers come back (back-pressure;
/// nothing is dropped).
public final class Engine {
    public struct Options: Sendable {
        /// Catch-up: read everything there is, deliver it, save, and return.
        public var once: Bool = false
        /// Do not write checkpoints or dead letters (dry runs).
        public var readOnly: Bool = false
        public var maxConcurrentRequests: Int = 32
        /// Only records whose mapped time is at or after `since` and before `until` are sent (records without a
        /// time, such as items and users, always are).
        public var since: Timestamp?
        public var until: Timestamp?
        /// Stop reading after this many seconds, deliver what was read, save, and return (resumed next time).
        public var maxDurationSeconds: Double?
        /// Catch-up runs: stop (interrupted, resumed next time) when records wait this long with none acknowledged.
        public var stallTimeoutSeconds: Double?
        /// Map large chunks of lines on two threads (when no mapping sessionizes). Off when the process may use one CPU
        /// (affinity mask, cgroup v2 CPU quota).
        public var parallelMapping: Bool = MappingWorker.usableCPUs() > 1
        public init(
            once: Bool = false, readOnly: Bool = false, maxConcurrentRequests: Int = 32, since: Timestamp? = nil,
            until: Timestamp? = nil, maxDurationSeconds: Double? = nil, stallTimeoutSeconds: Double? = nil
        ) {
            self.stallTimeoutSeconds = stallTimeoutSeconds
            self.once = once
            self.readOnly = readOnly
            self.maxConcurrentRequests = maxConcurrentRequests
            self.since = since
            self.until = until
            self.maxDurationSeconds = maxDurationSeconds
        }
    }

    /// How a run ended.
    public enum Outcome: Sendable, Equatable {
        /// Everything read was resolved (acknowledged or dead-lettered).
        case completed
        /// Stopped on request (signal, deadline) with some records unresolved; they are read again next time.
        case interrupted
        /// The service or the environment said something that must stop the agent.
        case fatal(String)
    }

    enum Message: Sendable {
        case completed(Batch, BatchResult)
        case wake
        case stop
        case stopNow
        /// The task awaiting ``Engine/run()`` was cancelled.
        case cancel
    }

    let config: AgentConfig
    let options: Options
    let sender: any BatchSender
    let store: (any CheckpointStore)?
    let deadLetters: DeadLetterWriter?
    let metrics: MetricsBox?
    var logger: Logger
    let mailbox = Mailbox<Message>()
    /// Lines handled between the engine's looks for answers and ready batches while a chunk is mapped: often enough
    /// that the event loop always has requests to send, rarely enough that it is not woken for every batch
    /// (bench/README.md, "Tuning constants", has the measurement).
    static let launchEvery = 64
    /// Messages ``takeCompletions()`` left for the loop.
    var deferredMessages: [Message] = []
    /// Tasks the sender makes (retries); cancelled when the engine stops before they finish.
    let tasks = TaskSpawner()
    let mapper: Mapper
    let clock = ContinuousClock()
    let epoch: ContinuousClock.Instant

    var table: CheckpointTable
    /// Sessionization as of the checkpoints, saved with them (only when a mapping sessionizes).
    var sessionJournal: SessionJournal?
    var streams: [Int: Stream] = [:]
    var nextStreamId = 0
    var batcher: Batcher
    var stats = RunStats()
    var inFlight = 0
    var unresolvedRecords = 0
    var stopping = false
    var fatal: String?
    var lastScan: Int64 = -1_000_000
    var lastSave: Int64 = 0
    var nextDue: Int64?
    /// A scan added checkpoint entries that are not saved yet.
    var newEntries = false
    /// Discovery, rotation and retire decisions (settled and unreadable files); the engine carries them out.
    var tracker: FileTracker
    /// The sources' globs, compiled once; every scan lists the files they name now.
    let discovery: FileDiscovery
    /// Stream ids in the order they were found (name order within a scan).
    var order: [Int] = []
    var cursor = 0
    /// Streams exhausted or detached whose state changed since ``retireStreams()`` last looked.
    var finishing = Set<Int>()
    let readers = ReaderSet()
    /// Lines registered with the streams' ledgers and not yet passed by their checkpoints.
    var openLines = 0
    var stateFailureLogged: Int64 = -1_000_000
    var stateFailure: String?
    var watcher: FileWatcher?
    /// When ``refreshFollowedStreams()`` last looked at the streams.
    var lastRefresh: Int64?
    /// A catch-up run stopped before reading all its input (signal, --max-duration): it did not complete.
    var stoppedEarly = false
    /// Catch-up runs: the time of each new file's first record, to order files by it.
    var firstTimes: [Int: Int64] = [:]
    var peekMapper: Mapper?
    /// Streams marked exhausted (``allInputConsumed()`` without looking at every stream).
    var exhaustedCount = 0
    var currentFile: String?
    var lastPublish: Int64 = -1_000_000
    var outcomeCounts: [PersonalizeModel.Operation: OutcomeCounts] = [:]
    var batchSizes = [Int](repeating: 0, count: 11)
    var lastDeliveryTime: Double?
    var failingSince: Double?
    /// When records last got resolved, or none were waiting (catch-up stall detection), milliseconds.
    var stallMark: Int64 = 0
    /// Dead letters logged as they happen, within limits.
    var deadLetterLog = LogRateLimiter()
    /// Maps large chunks on two threads with the engine, and reads ahead (``Options/parallelMapping``, no mapping
    /// sessionizes).
    let mappingWorker: MappingWorker?
    /// Container log lines rebuilt while unwrapping (``ContainerLogDecoder``), valid until their chunk is handled.
    /// Bounded: when a line does not fit (``PinnedArena/hasRoom(_:)``), the chunk so far is handled and it is reset.
    let payloadArena = PinnedArena()

    public init(
        config: AgentConfig, options: Options, sender: any BatchSender, store: (any CheckpointStore)?,
        deadLetters: DeadLetterWriter?, metrics: MetricsBox? = nil, logger: Logger
    ) throws {
        self.metrics = metrics
        self.config = config
        self.options = options
        self.sender = sender
        self.store = store
        self.deadLetters = deadLetters
        self.logger = logger
        self.mapper = Mapper(mappings: config.mappings)
        self.mappingWorker =
            options.parallelMapping && MappingWorker.canSplit(config.mappings)
            ? MappingWorker(mappings: config.mappings) : nil
        self.epoch = clock.now
        self.batcher = Batcher(maxWaitMillis: options.once ? 1_000_000_000 : config.batching.maxWaitMillis)
        self.table = CheckpointTable(try store?.load() ?? [])
        self.discovery = FileDiscovery(config.sources.map(\.discovery))
        self.tracker = FileTracker(
            settings: FileTracker.Settings(
                once: options.once, rotationGraceMillis: max(2000, Int64(config.follow.pollIntervalMillis) * 4),
                incompleteGzipMillis: Int64(config.follow.incompleteGzipSeconds * 1000),
                watchedPollMillis: max(10_000, Int64(config.follow.rescanIntervalMillis))))
        self.sessionJournal = try Self.restoreSessions(config: config, store: store, mapper: mapper, logger: logger)
    }

    deinit {
        // An engine made and never run still ends its worker's thread.
        mappingWorker?.close()
    }

    /// Milliseconds since the engine started, on a monotonic clock.
    var now: Int64 {
        let d = clock.now - epoch
        return d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    /// A handle other tasks (signal handlers, file watchers) use to reach the engine.
    public var control: EngineControl { EngineControl(mailbox: mailbox) }

    public var statistics: RunStats { stats }

    /// Whether large chunks of lines are mapped on two threads (``Options/parallelMapping``, and no mapping
    /// sessionizes).
    public var mapsInParallel: Bool { mappingWorker != nil }

    /// Runs until the input is exhausted (`once`), or until ``requestStop()``. The work happens on a thread of the
    /// engine's own (reading, parsing and mapping are CPU work that must not hold a cooperative thread); cancelling
    /// the awaiting task stops the engine as ``EngineControl/stopNow()`` would.
    public func run() async -> Outcome {
        let box = UncheckedEngine(engine: self)
        let mailbox = self.mailbox
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let thread = Thread { continuation.resume(returning: box.engine.runHere()) }
                thread.name = "personalize-tail engine"
                thread.stackSize = 4 << 20
                thread.start()
            }
        } onCancel: {
            mailbox.post(.cancel)
        }
    }

    /// ``run()`` on the calling thread (blocks it until the engine is done).
    func runHere() -> Outcome {
        logger.info(
            "starting",
            metadata: [
                "mode": "\(options.once ? "catch-up" : "follow")", "sources": "\(config.sources.count)",
                "checkpoints": "\(table.entries.count)", "engine.mapping_threads": "\(mappingWorker == nil ? 1 : 2)",
            ])
        if !options.once {
            let control = self.control
            watcher = FileWatcher(directories: watchDirectories()) { control.wake() }
            if watcher == nil {
                logger.notice("no inotify here; polling every \(config.follow.pollIntervalMillis) ms")
            }
        }
        let outcome = loop()
        syncAttemptCounters()
        stats.unresolved = unresolvedRecords
        mappingWorker?.close()
        if outcome != .completed { tasks.cancelAll() }
        watcher?.stop()
        watcher = nil
        saveCheckpoints(force: true)
        publishMetrics(force: true, stopping: true, fatal: fatal)
        for stream in streams.values { stream.closeReader() }
        return outcome
    }

    private func loop() -> Outcome {
        var shutdownDeadline: Int64?
        while true {
            for message in takeMessages() { handle(message, shutdownDeadline: &shutdownDeadline) }
            if let fatal {
                tasks.cancelAll()
                return .fatal(fatal)
            }
            let t = now
            if let deadline = shutdownDeadline, t >= deadline {
                // Checked before anything is launched: a first attempt has no task to cancel, so nothing new may go
                // once the deadline (or a second signal) is here. Answers already in are still taken.
                for message in mailbox.drain() { handle(message, shutdownDeadline: &shutdownDeadline) }
                if inFlight > 0 || batcher.count > 0 {
                    if stats.stopReason == nil { stats.stopReason = "shutdown timeout reached" }
                    logger.warning(
                        "shutdown timeout reached; unanswered requests are re-sent next time",
                        metadata: ["requests.in_flight": "\(inFlight)"])
                }
                // Requests still out are not waited for: their records stay unresolved, their lines are read again.
                tasks.cancelAll()
                retireStreams()
                return unresolvedRecords == 0 && !incomplete ? .completed : .interrupted
            }
            if let limit = options.maxDurationSeconds, !stopping, Double(t) >= limit * 1000 {
                stopping = true
                stoppedEarly = options.once && !allInputConsumed()
                shutdownDeadline = t + Int64(config.follow.shutdownTimeoutSeconds * 1000)
                if stoppedEarly { stats.stopReason = "--max-duration reached" }
                logger.notice("--max-duration reached; delivering what was read, the rest is read next time")
            }
            if options.once, !stopping, let limit = options.stallTimeoutSeconds, limit > 0 {
                if unresolvedRecords == 0 {
                    stallMark = t
                } else if Double(t - stallMark) >= limit * 1000 {
                    stopping = true
                    stoppedEarly = true
                    shutdownDeadline = t
                    let cause = sender.deliveryHealth?.snapshot.lastError ?? "no answer from the service"
                    stats.stopReason =
                        "no acknowledgement for \(PrettyNumber.seconds(limit))s (aws.catchUpStallTimeoutSeconds): \(cause)"
                    logger.error(
                        "catch-up stalled: nothing acknowledged in time; stopping, the rest is sent next time",
                        metadata: [
                            "catch_up.stall_timeout_seconds": "\(PrettyNumber.seconds(limit))", "error": "\(cause)",
                            "records.pending": "\(unresolvedRecords)",
                        ])
                }
            }
            if !stopping && (t - lastScan >= Int64(config.follow.rescanIntervalMillis) || lastScan < 0) {
                scan()
                lastScan = t
            }
            var progressed = false
            var backlogged = isBacklogged()
            if !stopping && stateFailure == nil && !backlogged && !readyQueueFull {
                progressed = readSome(budget: 64 << 10)
                backlogged = isBacklogged()
            }
            if let due = nextDue, t >= due { nextDue = batcher.flushDue(now: t) }
            if options.once { batcher.flushOpened(moreThan: config.batching.maxPendingRecords / 4) }
            let inputDone = stopping || (options.once && allInputConsumed())
            if inputDone || backlogged {
                if batcher.readyCount == 0 && inFlight < options.maxConcurrentRequests {
                    if inputDone {
                        batcher.flushDue(now: t, all: true)
                    } else {
                        batcher.flushOldest(options.maxConcurrentRequests)
                    }
                }
            }
            if launchReady() { progressed = true }
            if nextDue == nil, batcher.openBatchCount > 0 { nextDue = t + batcher.maxWaitMillis }
            retireStreams()
            saveCheckpoints(force: false)
            publishMetrics(force: false)
            if inputDone && inFlight == 0 && batcher.count == 0 {
                return unresolvedRecords == 0 && !incomplete ? .completed : .interrupted
            }
            if !progressed {
                var wakeAt = t + Int64(options.once ? 1000 : config.follow.pollIntervalMillis)
                if let due = nextDue { wakeAt = min(wakeAt, due) }
                if let deadline = shutdownDeadline { wakeAt = min(wakeAt, deadline) }
                if stateFailure != nil { wakeAt = min(wakeAt, t + 1000) }
                if options.once && !allInputConsumed() && !backlogged {
                    wakeAt = t + 50
                }
                mailbox.wait(milliseconds: wakeAt - now)
                refreshFollowedStreams()
            }
        }
    }

    /// A catch-up run that stopped early, or could not read some of its files (they are tried again next run).
    var incomplete: Bool { stoppedEarly || (options.once && !tracker.unreadable.isEmpty) }

    /// Batches ready but not yet sent, beyond which reading waits for the sender (a short queue keeps the lines
    /// between a file's checkpoint and its read position few, and memory low; the sender is never starved because
    /// each completion lets another batch go and the reader refills the queue in small steps).
    var readyQueueFull: Bool { batcher.readyCount >= max(8, 2 * options.maxConcurrentRequests) }

    /// Reading pauses when too many records are unresolved (memory), or when the resolved lines waiting behind an
    /// unresolved one are too many: those would be sent again after a crash, so their number is bounded too.
    func isBacklogged() -> Bool {
        let cap = config.batching.maxPendingRecords
        return unresolvedRecords >= cap || openLines >= cap
    }

    private func handle(_ message: Message, shutdownDeadline: inout Int64?) {
        switch message {
        case .completed(let batch, let result):
            inFlight -= 1
            complete(batch, result)
        case .wake:
            noteFileChanges(watcher?.takeChanges() ?? FileWatcher.Changes(all: true))
        case .stop:
            if !stopping {
                stopping = true
                stoppedEarly = options.once && !allInputConsumed()
                if stoppedEarly { stats.stopReason = "stop requested (signal)" }
                // The hint comes with the first signal only: a second one is what it describes.
                logger.info(
                    "stopping: no more reading; delivering what is in hand (signal again to abandon in-flight requests)",
                    metadata: ["requests.in_flight": "\(inFlight)", "records.pending": "\(unresolvedRecords)"])
                shutdownDeadline = now + Int64(config.follow.shutdownTimeoutSeconds * 1000)
            }
        case .stopNow, .cancel:
            if !stopping { stoppedEarly = options.once && !allInputConsumed() }
            if stoppedEarly && stats.stopReason == nil { stats.stopReason = "stop requested (signal)" }
            stopping = true
            shutdownDeadline = now
            if case .stopNow = message {
                logger.warning("second signal: abandoning in-flight requests; they are re-sent next time")
            }
        }
    }

    /// Messages the loop has not seen yet, oldest first: those set aside by ``takeCompletions()``, then the mailbox's.
    private func takeMessages() -> [Message] {
        if deferredMessages.isEmpty { return mailbox.drain() }
        defer { deferredMessages.removeAll() }
        return deferredMessages + mailbox.drain()
    }

    /// Takes the answers that came in while a chunk is being handled (so that in-flight requests make room for the
    /// batches it fills); other messages wait for the loop.
    func takeCompletions() {
        for message in mailbox.drain() {
            if case .completed(let batch, let result) = message {
                inFlight -= 1
                complete(batch, result)
            } else {
                deferredMessages.append(message)
            }
        }
    }

    /// Sends ready batches while fewer than `maxConcurrentRequests` are in flight (and nothing stops the engine);
    /// whether any went.
    @discardableResult
    func launchReady() -> Bool {
        guard fatal == nil else { return false }
        var launched = false
        while inFlight < options.maxConcurrentRequests, let batch = batcher.takeReady() {
            launch(batch)
            launched = true
        }
        if launched { sender.flush() }
        return launched
    }

    private func launch(_ batch: Batch) {
        inFlight += 1
        let mailbox = self.mailbox
        sender.start(batch, tasks: tasks) { result in mailbox.post(.completed(batch, result)) }
    }
}

/// Reaches a running ``Engine`` from other tasks.
public struct EngineControl: Sendable {
    let mailbox: Mailbox<Engine.Message>

    /// Stop reading, deliver what is in hand (within the shutdown timeout), save checkpoints and return.
    public func requestStop() {
        mailbox.post(.stop)
    }

    /// Abandon in-flight requests now, save what is resolved and return.
    public func stopNow() {
        mailbox.post(.stopNow)
    }

    /// Look for new data now (a change notification arrived).
    public func wake() {
        mailbox.post(.wake)
    }
}

/// Hands the engine to its thread (it is then only touched there until ``Engine/run()`` returns).
private struct UncheckedEngine: @unchecked Sendable {
    let engine: Engine
}
