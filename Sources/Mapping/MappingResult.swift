import PersonalizeModel

/// Where a record came from: what derived ids and dead letters need to identify the line.
public struct RecordContext: Sendable, Hashable {
    /// The configured source the line was read from (matched against a mapping's `sources`).
    public var sourceName: String
    /// The file path, for dead letters; ids never use it, since files are renamed on rotation.
    public var path: String
    /// The file's fingerprint (hex): with `offset`, the identity of the line that survives rotation.
    public var fingerprint: String
    /// Byte offset of the line in the (decompressed) file.
    public var offset: UInt64
    /// The container runtime's envelope and the pod, for `$meta` paths (only filled when a mapping reads them).
    public var meta: RecordMeta?

    public init(
        sourceName: String, path: String = "", fingerprint: String = "", offset: UInt64 = 0, meta: RecordMeta? = nil
    ) {
        self.sourceName = sourceName
        self.path = path
        self.fingerprint = fingerprint
        self.offset = offset
        self.meta = meta
    }
}

/// The outcome of one matching mapping for one record.
public enum MappingResult: Sendable, Hashable {
    /// A record that passes every API limit (`record.violations()` is empty), ready to batch.
    case record(mapping: String, Record)
    /// The mapping matched but could not produce a valid record; the pipeline dead-letters the line with `failure`.
    case failure(mapping: String, MappingFailure)

    public var mapping: String {
        switch self {
        case .record(let m, _), .failure(let m, _): m
        }
    }
}

/// Why a matching mapping produced no record, phrased for the dead-letter file and the logs.
public struct MappingFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A required field has no value in the record.
        case missingField
        /// A value of the wrong type or form (a boolean for an id, an unreadable time, a non-numeric eventValue).
        case invalidValue
        /// A value that breaks an API limit (length, count, size, character set).
        case limit
    }

    /// The output field, as named on the wire (`itemId`, `properties.price`, `impression`).
    public var field: String
    public var reason: String
    public var kind: Kind

    public init(field: String, reason: String, kind: Kind) {
        self.field = field
        self.reason = reason
        self.kind = kind
    }

    /// `userId: required, but user.id is absent`
    public var description: String { "\(field): \(reason)" }

    static func missing(_ field: String, _ rule: FieldRule?) -> MappingFailure {
        let phrase = rule.map { "required, but \($0.sourcePhrase) absent" } ?? "required, but not mapped"
        return MappingFailure(field: field, reason: phrase, kind: .missingField)
    }

    static func invalid(_ field: String, at path: String, _ problem: ValueProblem) -> MappingFailure {
        MappingFailure(field: field, reason: "\(path): \(problem.message)", kind: .invalidValue)
    }
}

/// What ``Mapper/apply(line:context:)`` makes of one matching mapping: the record already in the form its
/// request carries (``EncodedRecord``), with its time (for `--since` / `--until`), or why it could not be made.
public enum EncodedMappingResult: Sendable, Equatable {
    case record(mapping: String, EncodedRecord, time: Timestamp?)
    case failure(mapping: String, MappingFailure)

    /// `result` encoded.
    public init(_ result: MappingResult) {
        switch result {
        case .record(let mapping, let record):
            self = .record(mapping: mapping, EncodedRecord(record), time: record.time)
        case .failure(let mapping, let failure): self = .failure(mapping: mapping, failure)
        }
    }
}
