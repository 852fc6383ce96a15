import PersonalizeModel

/// A mapped record on its way to the service, with what is needed to resolve it: the line it came from (to
/// advance that file's ledger) and the raw line (to dead-letter it if the service refuses it).
public struct PendingRecord: Sendable {
    public var record: Record
    public var mapping: String
    public var stream: Int
    public var sequence: UInt64
    public var offset: UInt64
    public var line: [UInt8]
}

/// Records that travel in one request.
public struct Batch: Sendable {
    public var key: BatchKey
    public var records: [PendingRecord]
}
