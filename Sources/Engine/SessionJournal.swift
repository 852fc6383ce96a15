import Mapping

/// Keeps the sessionization state that is saved with the checkpoints consistent with them.
///
/// The mapper's sessions run ahead of the checkpoints (lines are mapped before their records are acknowledged).
/// Saving that live state would give a line read again after a crash a different session than it got the first
/// time. So the journal holds each sessionization (``SessionTouch``) with the line it came from, and applies it to
/// ``state`` only once that line is behind its file's checkpoint, in the order the lines were mapped; ``state`` is
/// what is saved, in the same atomic write as the checkpoints, and what the next run's mapper starts from.
/// Memory: one entry per sessionized record not yet behind a checkpoint (bounded by `maxPendingRecords` plus the
/// lines resolved since the last flush), and the state's bounded users.
struct SessionJournal {
    private(set) var state: SessionState
    private var entries: [(stream: Int, end: UInt64, touch: SessionTouch)] = []
    private var head = 0

    init(state: SessionState) {
        self.state = state
    }

    var count: Int { entries.count - head }

    mutating func note(stream: Int, end: UInt64, _ touches: [SessionTouch]) {
        for touch in touches { entries.append((stream, end, touch)) }
    }

    /// Applies the touches whose lines are checkpointed (`safeOffset(stream)` at or past the line's end; `nil`: the
    /// stream was retired with everything resolved). With `all`, the whole journal is looked at; without, only its
    /// front, up to the first line still open (cheap enough for every turn of the engine's loop).
    mutating func commit(all: Bool, safeOffset: (Int) -> UInt64?) {
        func done(_ i: Int) -> Bool {
            guard let safe = safeOffset(entries[i].stream) else { return true }
            return entries[i].end <= safe
        }
        while head < entries.count, done(head) {
            state.apply(entries[head].touch)
            head += 1
        }
        if all, head < entries.count {
            var kept: [(stream: Int, end: UInt64, touch: SessionTouch)] = []
            for i in head..<entries.count {
                if done(i) { state.apply(entries[i].touch) } else { kept.append(entries[i]) }
            }
            entries = kept
            head = 0
        } else if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4096, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
