import Synchronization

/// A clock that moves only when a test says so, for the types that take an injected clock (the rate limiter): what
/// they decide then depends on the test's steps, not on how busy the machine is.
///
/// With `advancesWhenSleeping` (virtual time), a sleep moves the clock to its deadline at once and returns: a
/// sequence of waits runs instantly and ends at exactly the time the waits add up to. Otherwise a sleeper waits
/// until ``advance(by:)`` passes its deadline or its task is cancelled; ``sleepers`` tells a test when a task has
/// gone to sleep.
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock was made.
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "\(offset)" }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [UInt64: Sleeper] = [:]
        var nextId: UInt64 = 0
        var sleeps = 0
        /// Sleepers cancelled before they were stored.
        var cancelled: Set<UInt64> = []
    }

    private let state = Mutex(State())
    private let advancesWhenSleeping: Bool

    public init(advancesWhenSleeping: Bool = false) {
        self.advancesWhenSleeping = advancesWhenSleeping
    }

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// Time since the clock was made, in seconds.
    public var seconds: Double {
        let (s, atto) = now.offset.components
        return Double(s) + Double(atto) / 1e18
    }

    /// How many tasks are asleep on it now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// How many sleeps with a deadline in the future were asked of it so far.
    public var sleeps: Int { state.withLock { $0.sleeps } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id: UInt64? = state.withLock { s in
            guard deadline > s.now else { return nil }
            s.sleeps += 1
            if advancesWhenSleeping {
                s.now = deadline
                return nil
            }
            s.nextId += 1
            return s.nextId
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { s in
                    if s.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= s.now { return .success(()) }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { s in
                let sleeper = s.sleepers.removeValue(forKey: id)
                if sleeper == nil { s.cancelled.insert(id) }
                return sleeper
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward, waking every sleeper whose deadline it reaches.
    public func advance(by duration: Duration) {
        let woken: [Sleeper] = state.withLock { s in
            s.now = s.now.advanced(by: duration)
            let due = s.sleepers.filter { $0.value.deadline <= s.now }
            for id in due.keys { s.sleepers[id] = nil }
            return Array(due.values)
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }
}
