/// Lets a burst of log lines through per window and counts the rest, so that a flood (a dead letter per line of a
/// broken file) stays readable: the first line of the next window says how many were held back.
struct LogRateLimiter: Sendable {
    /// Lines let through per window.
    var burst: Int
    /// The window, milliseconds.
    var windowMillis: Int64
    private var windowStart: Int64 = .min
    private var logged = 0
    private var suppressed = 0

    init(burst: Int = 10, windowMillis: Int64 = 10_000) {
        self.burst = burst
        self.windowMillis = windowMillis
    }

    /// Whether a line may be logged at `now` (milliseconds, monotonic); when it may, how many were held back since
    /// the last one that was.
    mutating func admit(now: Int64) -> Int? {
        if windowStart == .min || now - windowStart >= windowMillis {
            windowStart = now
            logged = 0
        }
        guard logged < burst else {
            suppressed += 1
            return nil
        }
        logged += 1
        defer { suppressed = 0 }
        return suppressed
    }
}
