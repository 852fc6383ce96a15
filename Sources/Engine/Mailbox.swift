#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The engine's inbox: completions of requests, change notifications and shutdown requests are posted here from
/// any thread; the engine drains it between steps and sleeps on it when there is nothing to do.
///
/// The engine runs on a thread of its own, so it sleeps on a condition variable (monotonic clock): a post while it
/// sleeps costs one futex wake, a post while it works costs a lock and an append.
final class Mailbox<Message: Sendable>: @unchecked Sendable {
    private var items: [Message] = []
    private var sleeping = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if canImport(Glibc)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func post(_ message: Message) {
        pthread_mutex_lock(mutex)
        items.append(message)
        let wake = sleeping
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
    }

    /// Takes every message posted so far, oldest first.
    func drain() -> [Message] {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if items.isEmpty { return [] }
        let taken = items
        items.removeAll(keepingCapacity: true)
        return taken
    }

    /// Blocks the calling thread until a message is posted or `milliseconds` have passed, whichever comes first.
    func wait(milliseconds: Int64) {
        guard milliseconds > 0 else { return }
        var deadline = timespec()
        #if canImport(Glibc)
            clock_gettime(CLOCK_MONOTONIC, &deadline)
        #else
            clock_gettime(CLOCK_REALTIME, &deadline)
        #endif
        let nanos = Int(deadline.tv_nsec) + Int(milliseconds % 1000) * 1_000_000
        deadline.tv_sec += Int(milliseconds / 1000) + nanos / 1_000_000_000
        deadline.tv_nsec = nanos % 1_000_000_000
        pthread_mutex_lock(mutex)
        sleeping = true
        while items.isEmpty {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
        }
        sleeping = false
        pthread_mutex_unlock(mutex)
    }
}
