import Synchronization

/// The engine's inbox: completions of requests, change notifications and shutdown requests are posted here from
/// any task; the engine drains it between steps and sleeps on it when there is nothing to do.
final class Mailbox<Message: Sendable>: Sendable {
    private struct State {
        var items: [Message] = []
        var waiter: CheckedContinuation<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func post(_ message: Message) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.items.append(message)
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    func drain() -> [Message] {
        state.withLock { s in
            defer { s.items.removeAll(keepingCapacity: true) }
            return s.items
        }
    }

    var isEmpty: Bool { state.withLock { $0.items.isEmpty } }

    /// Returns when a message is posted or at `deadline`, whichever comes first.
    func wait(until deadline: ContinuousClock.Instant) async {
        if !isEmpty { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForMessage() }
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForMessage() async {
        state.withLock { $0.cancelled = false }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if !s.items.isEmpty || s.cancelled || Task.isCancelled { return true }
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.cancelled = true
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
    }
}
