import JSON

/// The five record kinds' wire writers: each writes its record's rest-json object, as it appears in its request's
/// list, with ``JSONWriter``.
///
/// This is the fast path of every request (the generic twin, `JSONEncoder` over the `Codable` conformance, is
/// several times slower and has no fixed member order). The `Codable` conformance, synthesized from each record's
/// stored properties, is its oracle: WireEncodingTests and RequestBodyTests compare the two, and botocore's bodies.
/// The request envelope around the records is written in one place, ``RequestBody``.
public protocol WireEncodable: Sendable {
    func write(to writer: inout JSONWriter)
}

extension WireEncodable {
    /// The compact JSON body.
    public var wireBody: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }
}

extension JSONWriter {
    fileprivate mutating func member(_ key: StaticString, _ value: String?, _ comma: inout Bool) {
        guard let value else { return }
        self.key(key, comma: comma)
        string(value)
        comma = true
    }

    fileprivate mutating func list(_ key: StaticString, _ values: [String]?, _ comma: inout Bool) {
        guard let values else { return }
        self.key(key, comma: comma)
        raw(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { raw(UInt8(ascii: ",")) }
            string(v)
        }
        raw(UInt8(ascii: "]"))
        comma = true
    }
}

extension Event: WireEncodable {
    public func write(to w: inout JSONWriter) {
        var comma = false
        w.raw(UInt8(ascii: "{"))
        w.member("eventId", eventId, &comma)
        w.member("eventType", eventType, &comma)
        if let eventValue {
            w.key("eventValue", comma: comma)
            w.number(eventValue)
            comma = true
        }
        w.member("itemId", itemId, &comma)
        w.key("sentAt", comma: comma)
        w.number(sentAt.epochSeconds)
        comma = true
        w.member("properties", properties, &comma)
        w.member("recommendationId", recommendationId, &comma)
        w.list("impression", impression, &comma)
        if let metricAttribution {
            w.key("metricAttribution", comma: true)
            w.raw("{\"eventAttributionSource\":")
            w.string(metricAttribution.eventAttributionSource)
            w.raw(UInt8(ascii: "}"))
        }
        w.raw(UInt8(ascii: "}"))
    }
}

extension Item: WireEncodable {
    public func write(to w: inout JSONWriter) {
        var comma = false
        w.raw(UInt8(ascii: "{"))
        w.member("itemId", itemId, &comma)
        w.member("properties", properties, &comma)
        w.raw(UInt8(ascii: "}"))
    }
}

extension User: WireEncodable {
    public func write(to w: inout JSONWriter) {
        var comma = false
        w.raw(UInt8(ascii: "{"))
        w.member("userId", userId, &comma)
        w.member("properties", properties, &comma)
        w.raw(UInt8(ascii: "}"))
    }
}

extension Action: WireEncodable {
    public func write(to w: inout JSONWriter) {
        var comma = false
        w.raw(UInt8(ascii: "{"))
        w.member("actionId", actionId, &comma)
        w.member("properties", properties, &comma)
        w.raw(UInt8(ascii: "}"))
    }
}

extension ActionInteraction: WireEncodable {
    public func write(to w: inout JSONWriter) {
        var comma = false
        w.raw(UInt8(ascii: "{"))
        w.member("actionId", actionId, &comma)
        w.member("userId", userId, &comma)
        w.member("sessionId", sessionId, &comma)
        w.key("timestamp", comma: true)
        w.number(timestamp.epochSeconds)
        w.member("eventType", eventType, &comma)
        w.member("eventId", eventId, &comma)
        w.member("recommendationId", recommendationId, &comma)
        w.list("impression", impression, &comma)
        w.member("properties", properties, &comma)
        w.raw(UInt8(ascii: "}"))
    }
}

extension RequestBody {
    /// The body of the request for `records`: the key's envelope (``openList(_:capacity:)``) around each record's
    /// wire form. Records of another operation than the key's are left out (the batcher never mixes them).
    static func encode(_ key: BatchKey, _ records: [Record]) -> [UInt8] {
        var w = openList(key, capacity: 320 * records.count)
        var first = true
        for record in records where record.operation == key.operation {
            if !first { w.raw(UInt8(ascii: ",")) }
            first = false
            record.writeElement(to: &w)
        }
        w.raw(UInt8(ascii: "]"))
        w.raw(UInt8(ascii: "}"))
        return w.bytes
    }
}

extension Record {
    /// Writes the record's object as it appears in its request's list (`{"eventType":...}`).
    func writeElement(to w: inout JSONWriter) {
        switch self {
        case .event(_, _, _, let e): e.write(to: &w)
        case .item(_, let i): i.write(to: &w)
        case .user(_, let u): u.write(to: &w)
        case .action(_, let a): a.write(to: &w)
        case .actionInteraction(_, let a): a.write(to: &w)
        }
    }
}

/// A record serialized once, as it appears in its request's list, with the key of the requests it may join.
///
/// The pipeline encodes each record as soon as it is mapped (on the mapping threads), then keeps only these bytes:
/// a request body is the key's members and the elements joined (``RequestBody/init(key:elements:)``), the same bytes
/// as ``RequestBody/init(key:records:)`` would write, and a batch narrowed down after a rejection is re-joined
/// without encoding anything again.
public struct EncodedRecord: Sendable, Equatable {
    public var key: BatchKey
    /// The record's JSON object, as in the request's list (`{"eventType":...}`).
    public var element: [UInt8]

    /// A record encoded by other means (the mapper's direct path); `element` must be what ``init(_:)`` writes.
    public init(key: BatchKey, element: [UInt8]) {
        self.key = key
        self.element = element
    }

    public init(_ record: Record) {
        key = record.batchKey
        var w = JSONWriter(capacity: 320)
        record.writeElement(to: &w)
        element = w.bytes
    }
}

extension RequestBody {
    /// The request for records already encoded (``EncodedRecord/element``), which must all share `key`.
    @inlinable
    public init(key: BatchKey, elements: some Collection<[UInt8]>) {
        self.init(key: key, joining: elements) { $0 }
    }

    /// The request for `items` (which must all share `key`) whose encoded elements `element` reads; each item is
    /// read in place, not copied (callers hold their records with more than the element).
    @inlinable
    public init<C: Collection>(key: BatchKey, joining items: C, element: (borrowing C.Element) -> [UInt8]) {
        var size = 0
        for i in items.indices { size += element(items[i]).count + 1 }
        var w = Self.openList(key, capacity: size)
        var first = true
        for i in items.indices {
            if !first { w.raw(UInt8(ascii: ",")) }
            first = false
            element(items[i]).withUnsafeBufferPointer { w.bytes.append(contentsOf: $0) }
        }
        w.raw(UInt8(ascii: "]"))
        w.raw(UInt8(ascii: "}"))
        self.init(operation: key.operation, body: w.bytes)
    }

    @usableFromInline
    init(operation: Operation, body: [UInt8]) {
        self.operation = operation
        self.body = body
    }

    /// `{` and the key's members, up to the opening `[` of the operation's list; room for `capacity` more bytes.
    ///
    /// The one writer of each operation's request envelope (its oracle in the tests is the `Codable` request
    /// structs there).
    @usableFromInline
    static func openList(_ key: BatchKey, capacity: Int) -> JSONWriter {
        let size =
            capacity + 160 + key.destination.utf8.count + (key.userId?.utf8.count ?? 0)
            + (key.sessionId?.utf8.count ?? 0)
        var w = JSONWriter(capacity: size)
        var comma = false
        w.raw(UInt8(ascii: "{"))
        let list: StaticString
        switch key.operation {
        case .putEvents:
            w.member("trackingId", key.destination, &comma)
            w.member("userId", key.userId, &comma)
            w.member("sessionId", key.sessionId ?? "", &comma)
            list = "eventList"
        case .putItems:
            w.member("datasetArn", key.destination, &comma)
            list = "items"
        case .putUsers:
            w.member("datasetArn", key.destination, &comma)
            list = "users"
        case .putActions:
            w.member("datasetArn", key.destination, &comma)
            list = "actions"
        case .putActionInteractions:
            w.member("trackingId", key.destination, &comma)
            list = "actionInteractions"
        }
        w.key(list, comma: true)
        w.raw(UInt8(ascii: "["))
        return w
    }
}
