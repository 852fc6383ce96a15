import Foundation
import PersonalizeClient
import PersonalizeModel
import Synchronization

/// What became of each record of a batch.
public enum RecordFate: Sendable, Equatable {
    case acknowledged
    /// The service refused this record (after the batch was narrowed down to it).
    case rejected(String)
    /// The configured retry budget ran out.
    case exhausted(String)
    /// No answer (shutdown or a fatal error elsewhere): the record stays unresolved and is read again next time.
    case unresolved
}

public struct BatchResult: Sendable {
    public var fates: [RecordFate]
    public var requests = 0
    public var retries = 0
    public var throttles = 0
    /// Requests the service accepted, and requests it refused as invalid (while narrowing a batch).
    public var accepted = 0
    public var rejected = 0
    /// Set when the service gave an answer that must stop the agent.
    public var fatal: String?

    public init(fates: [RecordFate], requests: Int = 0, retries: Int = 0, throttles: Int = 0, fatal: String? = nil) {
        self.fates = fates
        self.requests = requests
        self.retries = retries
        self.throttles = throttles
        self.fatal = fatal
    }
}

/// Delivers one batch. Separate from the engine so that dry runs and tests can stand in for the service.
public protocol BatchSender: Sendable {
    func send(_ batch: Batch) async -> BatchResult
    /// Starts delivering `batch` and returns at once; `completion` is called exactly once, on any thread. Work that
    /// needs a task (retries, waits) runs in tasks made by `tasks`, so that the engine can cancel it when it stops.
    ///
    /// The default runs ``send(_:)`` in such a task; a sender that can make its first attempt without one (the
    /// common case: an answer in one round trip) overrides this to save the task and its thread hops.
    func start(_ batch: Batch, tasks: TaskSpawner, completion: @escaping @Sendable (BatchResult) -> Void)
    /// Attempt-level health of delivery, when the sender tracks it (retries in progress count as failing).
    var deliveryHealth: DeliveryHealth? { get }
    /// Lets the batches started since the last call go (a sender may hold them to send a series with one wake-up
    /// of its transport). The engine calls it after each series of ``start(_:tasks:completion:)``.
    func flush()
}

extension BatchSender {
    public func flush() {}

    public var deliveryHealth: DeliveryHealth? { nil }

    public func start(_ batch: Batch, tasks: TaskSpawner, completion: @escaping @Sendable (BatchResult) -> Void) {
        tasks.spawn { completion(await self.send(batch)) }
    }
}

/// Makes tasks that can all be cancelled at once (the engine's requests when it stops). After ``cancelAll()``, new
/// tasks start cancelled.
public final class TaskSpawner: Sendable {
    private struct State {
        var tasks: [Int: Task<Void, Never>] = [:]
        var nextId = 0
        var cancelled = false
    }

    private let state = Mutex(State())

    public init() {}

    public func spawn(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { s in
            let id = s.nextId
            s.nextId += 1
            let task = Task {
                await body()
                self.finished(id)
            }
            if s.cancelled {
                task.cancel()
            } else {
                s.tasks[id] = task
            }
        }
    }

    public func cancelAll() {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.cancelled = true
            defer { s.tasks.removeAll() }
            return Array(s.tasks.values)
        }
        for task in tasks { task.cancel() }
    }

    private func finished(_ id: Int) {
        state.withLock { _ = $0.tasks.removeValue(forKey: id) }
    }
}

/// Sends through the Personalize client. A batch the service rejects as invalid is split in halves, recursively,
/// until the offending records are alone: the others are delivered, the offenders dead-lettered with the
/// service's own message.
public struct ClientBatchSender: BatchSender {
    public let client: PersonalizeEventsClient

    public init(client: PersonalizeEventsClient) {
        self.client = client
    }

    public var deliveryHealth: DeliveryHealth? { client.health }

    public func flush() {
        client.flushStarted()
    }

    public func send(_ batch: Batch) async -> BatchResult {
        var result = BatchResult(fates: Array(repeating: .unresolved, count: batch.records.count))
        await deliver(batch.key, batch.records, range: 0..<batch.records.count, into: &result)
        return result
    }

    /// The first attempt goes without a task when it can (see
    /// ``PersonalizeEventsClient/startFirstAttempt(_:destination:hold:completion:)``); an answer other than success
    /// continues in a task, through the same path as ``send(_:)``.
    public func start(_ batch: Batch, tasks: TaskSpawner, completion: @escaping @Sendable (BatchResult) -> Void) {
        let key = batch.key
        let records = batch.records
        let body = RequestBody(key: key, pending: records)
        let started = client.startFirstAttempt(body, destination: key.destination, hold: true) { attempt in
            if attempt.isAccepted {
                var result = BatchResult(fates: Array(repeating: .acknowledged, count: records.count), requests: 1)
                result.accepted = 1
                completion(result)
                return
            }
            tasks.spawn {
                var result = BatchResult(fates: Array(repeating: .unresolved, count: records.count))
                await self.deliver(
                    key, records, range: 0..<records.count, into: &result, body: attempt.request, first: attempt)
                completion(result)
            }
        }
        if !started {
            tasks.spawn { completion(await self.send(batch)) }
        }
    }

    private func deliver(
        _ key: BatchKey, _ records: [PendingRecord], range: Range<Int>, into result: inout BatchResult,
        body prepared: RequestBody? = nil, first: PersonalizeEventsClient.Attempt? = nil
    ) async {
        guard result.fatal == nil, !range.isEmpty else { return }
        let body = prepared ?? RequestBody(key: key, pending: records[range])
        let answer = await client.send(body, destination: key.destination, after: first)
        result.requests += answer.attempts
        result.retries += max(0, answer.attempts - 1)
        result.throttles += answer.throttles
        switch answer.outcome {
        case .accepted:
            result.accepted += 1
            for i in range { result.fates[i] = .acknowledged }
        case .rejected(let error):
            result.rejected += 1
            if range.count == 1 {
                result.fates[range.lowerBound] = .rejected(error.description)
            } else {
                let middle = range.lowerBound + range.count / 2
                await deliver(key, records, range: range.lowerBound..<middle, into: &result)
                await deliver(key, records, range: middle..<range.upperBound, into: &result)
            }
        case .exhausted(let reason):
            for i in range { result.fates[i] = .exhausted(reason) }
        case .fatal(let message):
            result.fatal = message
        case .cancelled:
            break
        }
    }
}

/// `--dry-run`: writes each request body to standard output (one JSON object per line, with its operation) and
/// treats it as acknowledged. Nothing is signed or sent.
public final class DryRunSender: BatchSender {
    private let output = Mutex<FileHandle>(FileHandle.standardOutput)

    public init() {}

    public func send(_ batch: Batch) async -> BatchResult {
        var line = Array(
            "{\"operation\":\"\(batch.key.operation.rawValue)\",\"path\":\"\(batch.key.operation.path)\",\"body\":".utf8
        )
        line.append(contentsOf: RequestBody(key: batch.key, pending: batch.records).body)
        line.append(contentsOf: "}\n".utf8)
        output.withLock { $0.write(Data(line)) }
        var result = BatchResult(fates: Array(repeating: .acknowledged, count: batch.records.count), requests: 1)
        result.accepted = 1
        return result
    }
}
