import JSON

/// One validated member of `mappings`: when it applies and how each output field is filled.
struct CompiledMapping: Sendable {
    struct Property: Sendable {
        /// The key written into the properties object (camelCase).
        var key: String
        var rule: FieldRule
    }

    var name: String
    var target: Target
    /// The constant event tracker or dataset, when not taken from the record.
    var trackingId: String?
    var datasetArn: String?
    /// Only records read from these sources; `nil` means every source.
    var sources: [String]?
    var when: Condition = .always
    /// One slot per ``WireField/slot``: indexing beats hashing on the hot path.
    var rules: [FieldRule?] = Array(repeating: nil, count: WireField.allCases.count)
    var properties: [Property] = []
    var session: SessionSettings?
    var impressionOverflow: ImpressionOverflow = .deadLetter

    init(name: String, target: Target) {
        self.name = name
        self.target = target
    }

    subscript(field: WireField) -> FieldRule? {
        get { rules[field.slot] }
        set { rules[field.slot] = newValue }
    }

    /// Whether the mapping sessionizes records that carry no session id.
    var sessionizes: Bool { session != nil || (self[.sessionId]?.sessionFallback ?? false) }

    @inline(__always)
    func applies<R: RecordView>(to record: R, source: String) -> Bool {
        if let sources, !sources.contains(source) { return false }
        return when.evaluate(record)
    }
}

/// What to do with an event that lists more impressions than the API's 25.
public enum ImpressionOverflow: String, Sendable, Hashable {
    /// Keep the first 25 ids.
    case truncate
    /// Reject the record; the pipeline dead-letters it.
    case deadLetter
}

/// What the pipeline does with a record no mapping matched (config key `unmatched`).
public enum UnmatchedPolicy: String, Sendable, Hashable, CaseIterable {
    /// Count it and move on: logs usually hold far more than interactions.
    case skip
    /// Write it to the dead-letter file, for when every line is expected to map.
    case deadLetter

    /// Reads the top-level `unmatched` setting (absent means `skip`).
    public static func parse(_ value: JSONValue?, reader: ConfigReader, path: String = "unmatched") -> UnmatchedPolicy {
        guard let value, !value.isNull else { return .skip }
        guard case .string(let s) = value, let policy = UnmatchedPolicy(rawValue: s) else {
            reader.report(path, "must be \"skip\" or \"deadLetter\", found \(value.serialized)")
            return .skip
        }
        return policy
    }
}

/// Sessionization settings of a mapping (`"session": {"gapMinutes": 30}`).
public struct SessionSettings: Sendable, Hashable {
    /// Inactivity after which a user's next record starts a new session.
    public var gapMilliseconds: Int64
    /// Users remembered at once; the least recently seen are forgotten first, which bounds memory.
    public var maxUsers: Int

    public static let defaultGapMinutes = 30
    public static let defaultMaxUsers = 100_000

    public init(gapMinutes: Int = defaultGapMinutes, maxUsers: Int = defaultMaxUsers) {
        gapMilliseconds = Int64(gapMinutes) * 60_000
        self.maxUsers = maxUsers
    }
}
