import Foundation

/// A `DateFormatter` pattern such as `dd/MMM/yyyy:HH:mm:ss Z`, for logs whose times no built-in format reads.
///
/// `DateFormatter` is expensive to create and not safe to share, so each rule owns one, created at start-up and
/// used under a lock. This is the slow path; ISO 8601 and epoch times never come here.
final class CustomTimePattern: @unchecked Sendable {
    let pattern: String
    private let formatter: DateFormatter
    private let lock = NSLock()

    init(pattern: String, zone: TimeZone) {
        self.pattern = pattern
        formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = pattern
        formatter.isLenient = false
    }

    /// Epoch milliseconds, or `nil` when `text` does not match the pattern.
    func parse(_ text: String) -> Int64? {
        guard text.utf8.count <= 256 else { return nil }
        lock.lock()
        let date = formatter.date(from: text)
        lock.unlock()
        guard let seconds = date?.timeIntervalSince1970, seconds.isFinite else { return nil }
        return TimeParsing.inRange(Int64((seconds * 1000).rounded(.down)))
    }
}
