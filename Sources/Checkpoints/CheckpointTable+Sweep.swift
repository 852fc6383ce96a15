import Tailing

extension CheckpointTable {
    /// What a sweep changed: entries that went missing or came back (their `missingSince` was set or cleared, which
    /// the saved state must record), and the entries forgotten.
    public struct Sweep: Sendable, Equatable {
        public var missing = 0
        public var returned = 0
        public var forgotten: [FileCheckpoint] = []

        public init() {}
    }

    /// Keeps the table as large as the files that can still be seen, whatever the number of files that came and
    /// went (a node's container logs over months, a year of hourly archives).
    ///
    /// `listed` is what the scan found (device and inode of every file the globs list). An entry is present while a
    /// stream reads it, its own file is listed, or a file listed is a copy of it (a rotated `.gz` keeps its original's
    /// entry); otherwise it is missing from `now` on (`missingSince`, saved with the checkpoints so that catch-up runs
    /// started by cron count the time too). An entry missing for `forgetAfter` milliseconds (0: never) is forgotten:
    /// a file that comes back after that is read as a new one. Records of copies whose file is not listed are dropped
    /// at once (a copy found again is matched again by its content).
    ///
    /// A listing that misses files for a moment (a directory briefly unreadable) only starts the count: the next scan
    /// that lists them clears it.
    public mutating func sweep(listed: Set<FileIdentity.FileID>, now: Int64, forgetAfter: Int64) -> Sweep {
        var result = Sweep()
        if copies.contains(where: { !listed.contains($0.key) }) {
            keepCopies { file, _ in listed.contains(file) }
        }
        let copied = Set(copies.values)
        var forget: [Int] = []
        for (id, c) in entries {
            let present =
                attached[id] != nil || copied.contains(id)
                || listed.contains(FileIdentity.FileID(device: c.device, inode: c.inode))
            if present {
                if c.missingSince != nil {
                    update(id) { $0.missingSince = nil }
                    result.returned += 1
                }
            } else if let since = c.missingSince {
                if forgetAfter > 0, now - since >= forgetAfter { forget.append(id) }
            } else {
                update(id) { $0.missingSince = now }
                result.missing += 1
            }
        }
        guard !forget.isEmpty else { return result }
        for id in forget.sorted() {
            if let c = entries[id], detach(id) { result.forgotten.append(c) }
        }
        return result
    }
}
