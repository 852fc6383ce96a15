import JSON

/// One record's effect on sessionization (its user and time, and the gap of its mapping), as the mapper applied it.
public struct SessionTouch: Sendable {
    let user: String
    let time: Int64
    let gap: Int64
}

/// Sessionization state as of the saved checkpoints, kept in the state directory so that a session continues across
/// `run --once` runs, restarts and crashes as it would in one run.
///
/// The engine applies a ``SessionTouch`` here only once the line it came from is passed by its checkpoint, in the
/// order the lines were mapped, and saves this state with the checkpoints in one atomic write. After a crash the
/// lines after the checkpoints are read again and meet the state they met the first time, so they get the same
/// session ids (at-least-once delivery re-sends them under the same ids). Bounded as the mapper's sessions are.
public struct SessionState {
    public static let formatVersion = 1
    var sessionizer: Sessionizer

    public init(mappings: MappingSet) {
        sessionizer = Sessionizer(maxUsers: Self.maxUsers(mappings))
    }

    /// The largest `session.maxUsers` of the mappings (every sessionizing mapping shares one memory of users).
    static func maxUsers(_ mappings: MappingSet) -> Int {
        mappings.mappings.compactMap { $0.session?.maxUsers }.max() ?? SessionSettings.defaultMaxUsers
    }

    public var trackedUsers: Int { sessionizer.trackedUsers }

    public mutating func apply(_ touch: SessionTouch) {
        _ = sessionizer.session(user: touch.user, time: touch.time, gap: touch.gap)
    }

    /// `{"version":1,"users":[[user,start,last],…]}`, least recently seen user first.
    public func serialized() -> [UInt8] {
        let saved = sessionizer.saved()
        var w = JSONWriter(capacity: 32 + saved.count * 48)
        w.raw("{\"version\":")
        w.number(Int64(Self.formatVersion))
        w.raw(",\"users\":[")
        for (i, s) in saved.enumerated() {
            if i > 0 { w.raw(UInt8(ascii: ",")) }
            w.raw(UInt8(ascii: "["))
            w.string(s.user)
            w.raw(UInt8(ascii: ","))
            w.number(s.start)
            w.raw(UInt8(ascii: ","))
            w.number(s.last)
            w.raw(UInt8(ascii: "]"))
        }
        w.raw("]}")
        return w.bytes
    }

    /// Takes the state ``serialized()`` wrote; `false` (and nothing changed) when `json` is not that.
    public mutating func load(_ json: JSONValue) -> Bool {
        guard json["version"]?.numberValue?.int64 == Int64(Self.formatVersion), let users = json["users"]?.arrayValue
        else { return false }
        var saved: [Sessionizer.Saved] = []
        saved.reserveCapacity(users.count)
        for entry in users {
            guard let a = entry.arrayValue, a.count == 3, let user = a[0].stringValue,
                let start = a[1].numberValue?.int64, let last = a[2].numberValue?.int64
            else { return false }
            saved.append(Sessionizer.Saved(user: user, start: start, last: last))
        }
        sessionizer.restore(saved)
        return true
    }
}
