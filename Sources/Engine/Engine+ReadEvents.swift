import Mapping
import Tailing

/// What the engine makes of its streams' ``ReaderLoop`` events: lines go to mapping, and every other outcome is
/// registered with the stream's ledger in file order (dead-lettered where nothing vanishes silently).
///
/// Container runtime logs (`sources[].format` `cri`, `docker`, or recognised by `auto`): positions stay those of the
/// runtime's file: a line's offset (checkpoint, dead letter, derived event id) is the envelope line that completes
/// it. While a partial line waits for its last piece, its first piece holds an outstanding entry in the ledger, so no
/// checkpoint passes the start of the run: a restart reads the whole run again.
extension Engine {
    /// Handles one event of a stream's reader loop. `why` says why an `.incomplete` run was given up.
    func handleRead(_ stream: Stream, _ event: ReaderLoop.Event, givingUp why: String = "the file ended") {
        switch event {
        case .lines(let lines):
            handleChunk(stream, lines)
        case .framed(let framed):
            handleEvent(stream, framed)
        case .held(let s, let first, _, let end):
            stats.linesRead += 1
            if first {
                stream.holds[Int(s.rawValue) - 1] = openLine(stream, end: end, records: 1)
            } else {
                openLine(stream, end: end, records: 0)
            }
        case .joined(let s):
            // The joined line is in the ledger (its chunk was handled): its run may let go of its start.
            releaseHold(stream, s)
        case .filtered(_, let end):
            stats.linesRead += 1
            stats.skipped += 1
            openLine(stream, end: end, records: 0)
        case .invalidEnvelope(let reason, let format, let line, let offset, let end):
            stats.linesRead += 1
            deadLetter(
                .invalidEnvelope, "\(reason) (the file is read as format \"\(format.rawValue)\")", stream,
                offset: offset, mapping: nil, line: line)
            openLine(stream, end: end, records: 0)
        case .joinedTooLong(let sample, let length, let runStart, let pieces, let s, let offset, let end):
            stats.linesRead += 1
            var letter = DeadLetter(
                kind: .lineTooLong,
                reason: "line joined from \(pieces) partial pieces starting at byte \(runStart) is \(length) bytes, "
                    + "the limit is \(stream.source.maxLineBytes) (sources[].maxLineBytes)",
                source: stream.source.name, path: stream.path, offset: offset, mapping: nil, line: sample)
            letter.lineTruncated = true
            letter.lineLength = length
            record(letter)
            openLine(stream, end: end, records: 0)
            releaseHold(stream, s)
        case .incomplete(let run):
            var letter = DeadLetter(
                kind: .incompleteLine,
                reason: "a partial \(run.stream.name) line (\(run.pieces) pieces, \(run.length) bytes) never got its "
                    + "last piece: \(why)",
                source: stream.source.name, path: stream.path, offset: run.start, mapping: nil, line: run.content)
            if run.truncated {
                letter.lineTruncated = true
                letter.lineLength = run.length
            }
            record(letter)
            releaseHold(stream, run.stream)
        }
    }

    private func releaseHold(_ stream: Stream, _ s: ContainerStream) {
        guard let sequence = stream.holds[Int(s.rawValue) - 1] else { return }
        stream.holds[Int(s.rawValue) - 1] = nil
        resolveLine(stream, sequence)
    }

    /// Dead-letters the partial lines that can no longer be completed (their last piece would be in another file,
    /// or never comes), and lets the checkpoint pass them.
    func giveUpPartialLines(_ stream: Stream, because why: String) {
        stream.loop.giveUpIncomplete { event in handleRead(stream, event, givingUp: why) }
    }
}
