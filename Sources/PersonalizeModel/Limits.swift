/// The Personalize Events API's limits, from the service model (botocore `personalize-events/2018-03-22`)
/// and the developer guide. Lengths are counted in Unicode scalars, as the service model counts characters
/// (Swift's `String.count` counts grapheme clusters and would undercount).
public enum Limits {
    public static let maxRecordsPerCall = 10
    public static let idLength = 256  // eventId, itemId, userId, sessionId, trackingId, actionId, eventType
    public static let recommendationIdLength = 40
    public static let impressionCount = 25
    public static let eventAttributionSourceLength = 1024
    public static let datasetArnLength = 256
    public static let eventPropertiesLength = 1024
    public static let actionInteractionPropertiesLength = 1024
    public static let itemPropertiesLength = 32_000
    public static let userPropertiesLength = 24_000
    public static let actionPropertiesLength = 32_000
    /// An event's serialized size (archived quota page: "an event is at most 10 KB").
    public static let eventBytes = 10 * 1024

    /// Property keys the service reserves for events (compared case-insensitively).
    public static let reservedEventPropertyKeys: Set<String> = [
        "userid", "sessionid", "eventtype", "timestamp", "recommendationid", "impression",
    ]

    /// ``reservedEventPropertyKeys`` as UTF-8, for the quick scan that spares parsing most properties strings.
    static let reservedEventPropertyKeyBytes: [[UInt8]] = reservedEventPropertyKeys.map { Array($0.utf8) }

    /// Length as the service model counts it (Unicode scalars).
    @inline(__always)
    public static func length(_ s: String) -> Int {
        s.unicodeScalars.count
    }

    /// Whether `arn` matches `arn:([a-z\d-]+):personalize:.*:.*:.+` as a whole, as the service's validator reads
    /// it: `.` takes no line terminator (`\n`, `\r`, U+0085, U+2028, U+2029).
    public static func isDatasetArn(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "personalize", !parts[5].isEmpty else { return false }
        guard !arn.unicodeScalars.contains(where: { "\n\r\u{85}\u{2028}\u{2029}".unicodeScalars.contains($0) }) else {
            return false
        }
        let partition = parts[1]
        return !partition.isEmpty
            && partition.utf8.allSatisfy { b in
                (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                    || b == UInt8(ascii: "-")
            }
    }

    /// Whether `s` has a visible ASCII character (`[\x21-\x7E]`): `eventAttributionSource`'s pattern,
    /// `^[\x20-\x7E]*[\x21-\x7E]+[\x20-\x7E]*$`, is printable ASCII (``isPrintableASCII(_:)``) with one of them,
    /// so that a value of spaces only is refused.
    public static func hasVisibleASCII(_ s: String) -> Bool {
        s.utf8.contains { $0 > 0x20 && $0 < 0x7F }
    }

    /// Printable ASCII, as `eventAttributionSource` requires.
    public static func isPrintableASCII(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }
}

/// One broken limit: which field, and what it broke.
public struct LimitViolation: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Collects violations with the common length and presence checks.
struct Checker {
    var violations: [LimitViolation] = []

    mutating func text(_ value: String, _ field: String, max: Int) {
        // Fast path: a string has at most one scalar per UTF-8 byte, so a short
        // non-empty byte count settles it without walking the scalars.
        let bytes = value.utf8.count
        if bytes >= 1, bytes <= max { return }
        let n = Limits.length(value)
        if n < 1 {
            violations.append(LimitViolation(field: field, message: "must not be empty"))
        } else if n > max {
            violations.append(LimitViolation(field: field, message: "is \(n) characters, the limit is \(max)"))
        }
    }

    mutating func optionalText(_ value: String?, _ field: String, max: Int) {
        if let value { text(value, field, max: max) }
    }

    mutating func impression(_ list: [String]?, _ field: String) {
        guard let list else { return }
        if list.isEmpty || list.count > Limits.impressionCount {
            violations.append(
                LimitViolation(
                    field: field, message: "has \(list.count) ids, it must have 1 to \(Limits.impressionCount)"))
        }
        for (i, id) in list.enumerated() { text(id, "\(field)[\(i)]", max: Limits.idLength) }
    }

    mutating func properties(_ value: String?, _ field: String, max: Int, reserved: Set<String> = []) {
        guard let value else { return }
        text(value, field, max: max)
        guard !reserved.isEmpty, PropertiesText.mayContainKey(value, among: Limits.reservedEventPropertyKeyBytes),
            let keys = PropertiesText.keys(of: value)
        else { return }
        for key in keys where reserved.contains(key.lowercased()) {
            violations.append(LimitViolation(field: "\(field).\(key)", message: "is a reserved property name"))
        }
    }

    mutating func arn(_ value: String, _ field: String) {
        text(value, field, max: Limits.datasetArnLength)
        if !Limits.isDatasetArn(value) {
            violations.append(
                LimitViolation(
                    field: field, message: "must match arn:<partition>:personalize:<region>:<account>:<path>"))
        }
    }
}
