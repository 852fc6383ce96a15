import PersonalizeModel

/// A mapped record on its way to the service, with what is needed to resolve it: the line it came from (to
/// advance that file's ledger) and the raw line (to dead-letter it if the service refuses it).
///
/// The record itself is kept serialized (``EncodedRecord/element``): it was encoded once, when it was mapped. Its
/// ``BatchKey`` is the batch's.
public struct PendingRecord: Sendable {
    public var element: [UInt8]
    public var mapping: String
    public var stream: Int
    public var sequence: UInt64
    public var offset: UInt64
    public var line: [UInt8]

    public init(element: [UInt8], mapping: String, stream: Int, sequence: UInt64, offset: UInt64, line: [UInt8]) {
        self.element = element
        self.mapping = mapping
        self.stream = stream
        self.sequence = sequence
        self.offset = offset
        self.line = line
    }
}

/// Records that travel in one request.
public struct Batch: Sendable {
    public var key: BatchKey
    public var records: [PendingRecord]
}

extension RequestBody {
    /// The request for `records` (which share `key`), from their encoded elements, read in place (a lazy map over
    /// the records copied each one, retaining all its fields, twice per request).
    public init(key: BatchKey, pending records: some Collection<PendingRecord>) {
        self.init(key: key, joining: records) { $0.element }
    }
}
