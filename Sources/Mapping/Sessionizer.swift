/// Assigns session ids to users whose records carry none: a user's session continues while records keep coming
/// within the gap and a new one starts after a longer silence.
///
/// Time is the records' own time (`sentAt`), never the wall clock, so replaying a file gives the same ids, and the
/// id is a hash of the user and the session's start. Memory is bounded: past `maxUsers` the users seen least
/// recently are forgotten (their next record starts a new session).
struct Sessionizer {
    private struct Entry {
        var start: Int64
        var last: Int64
        var id: String
        /// Bumped on every touch; queue entries with an older stamp are stale.
        var stamp: UInt64
    }

    private var users: [String: Entry] = [:]
    /// Users in order of last touch, with lazy deletion: an entry is live when its stamp matches the user's.
    private var order: [(user: String, stamp: UInt64)] = []
    private var head = 0
    private var clock: UInt64 = 0
    var maxUsers: Int

    init(maxUsers: Int) {
        self.maxUsers = maxUsers
    }

    var trackedUsers: Int { users.count }

    /// The session id for `user` at `time` (epoch ms). Late records (older than the last seen) join the current
    /// session rather than rewriting history.
    mutating func session(user: String, time: Int64, gap: Int64) -> String {
        clock &+= 1
        if var e = users[user] {
            if time - e.last > gap {
                e = Entry(start: time, last: time, id: Self.makeId(user: user, start: time), stamp: clock)
            } else {
                e.last = max(e.last, time)
                e.stamp = clock
            }
            users[user] = e
            order.append((user, clock))
            compactIfNeeded()
            return e.id
        }
        let id = Self.makeId(user: user, start: time)
        users[user] = Entry(start: time, last: time, id: id, stamp: clock)
        order.append((user, clock))
        while users.count > maxUsers { evictOldest() }
        compactIfNeeded()
        return id
    }

    /// One remembered user, for saving: the id is a function of `user` and `start`, so it is not stored.
    struct Saved: Equatable {
        var user: String
        var start: Int64
        var last: Int64
    }

    /// The users remembered, least recently touched first (restoring them in this order keeps the eviction order).
    func saved() -> [Saved] {
        var result: [Saved] = []
        result.reserveCapacity(users.count)
        for (user, stamp) in order[head...] {
            guard let e = users[user], e.stamp == stamp else { continue }
            result.append(Saved(user: user, start: e.start, last: e.last))
        }
        return result
    }

    /// Replaces what is remembered with `saved` (least recently touched first); past `maxUsers` the oldest are
    /// dropped, as they would have been.
    mutating func restore(_ saved: [Saved]) {
        users = [:]
        order = []
        head = 0
        for s in saved.suffix(maxUsers) {
            clock &+= 1
            users[s.user] = Entry(
                start: s.start, last: s.last, id: Self.makeId(user: s.user, start: s.start), stamp: clock)
            order.append((s.user, clock))
        }
    }

    static func makeId(user: String, start: Int64) -> String {
        var h = StableHash()
        h.add(user)
        h.add(UInt64(bitPattern: start))
        return "s-" + h.hex
    }

    private mutating func evictOldest() {
        while head < order.count {
            let (user, stamp) = order[head]
            head += 1
            if users[user]?.stamp == stamp {
                users[user] = nil
                return
            }
        }
    }

    /// Drops stale queue entries once they outnumber live ones, keeping the queue within a few times `maxUsers`.
    private mutating func compactIfNeeded() {
        guard order.count - head > 2 * users.count + 1024 else { return }
        order = order[head...].filter { users[$0.user]?.stamp == $0.stamp }
        head = 0
    }
}
