import Mapping
import Tailing

/// Container runtime logs (`sources[].format` `cri`, `docker`, or recognised by `auto`): the envelope comes off in
/// file order on the engine's thread, and the application's line goes on as if it had been framed from a file.
///
/// Positions stay those of the runtime's file: a line's offset (checkpoint, dead letter, derived event id) is the
/// envelope line that completes it. While a partial line waits for its last piece, its first piece holds an
/// outstanding entry in the ledger, so no checkpoint passes the start of the run: a restart reads the whole run again.
extension Engine {
    /// Gives a new stream its decoder when its source or its first bytes say it is a container log.
    func attachDecoder(_ stream: Stream, head: [UInt8]) {
        let format: ContainerFormat?
        switch stream.source.format {
        case .cri: format = .cri
        case .docker: format = .docker
        case .auto: format = ContainerFormat.detect(head: head)
        case .jsonl, .gzip: format = nil
        }
        guard let format else { return }
        stream.decoder = ContainerLogDecoder(
            format: format, streams: stream.source.streams, maxLineBytes: stream.source.maxLineBytes)
        stream.pod = PodIdentity(path: stream.path)
    }

    /// Takes one framed event of a container log: the application's line joins `chunk`; anything else is handled
    /// now, after the chunk so far (the ledger takes lines in file order).
    func unwrap(_ stream: Stream, _ decoder: ContainerLogDecoder, _ event: LineEvent, into chunk: inout [FramedLine]) {
        switch event {
        case .line(let line):
            let bytes = line.bytes
            let offset = line.offset
            let need = decoder.room(for: bytes.count)
            if !payloadArena.hasRoom(need) {
                flush(stream, &chunk)
                payloadArena.reset(minimumCapacity: max(need, 256 * 1024))
            }
            let decoded = decoder.decode(bytes, offset: offset, arena: payloadArena)
            if case .line(let payload, let s, let time, let runStart) = decoded {
                chunk.append(FramedLine(bytes: payload, offset: offset, end: line.end, stream: s, time: time))
                if runStart != nil {
                    // The joined line is in the ledger once the chunk is handled; only then may its run let go.
                    flush(stream, &chunk)
                    releaseHold(stream, s)
                }
                return
            }
            flush(stream, &chunk)
            handleDecoded(stream, decoded, offset: offset, end: line.end, envelope: bytes)
        case .tooLong(let sample, let length, let offset, let end):
            flush(stream, &chunk)
            if let decoded = decoder.decodeTooLong(sample: sample, length: length, offset: offset) {
                handleDecoded(
                    stream, decoded, offset: offset, end: end, envelope: UnsafeRawBufferPointer(start: nil, count: 0))
            } else {
                handleEvent(stream, event)
            }
        case .corrupt:
            flush(stream, &chunk)
            handleEvent(stream, event)
        }
    }

    private func flush(_ stream: Stream, _ chunk: inout [FramedLine]) {
        guard !chunk.isEmpty else { return }
        handleChunk(stream, chunk)
        chunk.removeAll(keepingCapacity: true)
    }

    private func handleDecoded(
        _ stream: Stream, _ decoded: DecodedLine, offset: UInt64, end: UInt64, envelope: UnsafeRawBufferPointer
    ) {
        stats.linesRead += 1
        switch decoded {
        case .line:
            preconditionFailure("lines go through the chunk")
        case .held(let s, let first):
            if first {
                stream.holds[Int(s.rawValue) - 1] = openLine(stream, end: end, records: 1)
            } else {
                openLine(stream, end: end, records: 0)
            }
        case .filtered:
            stats.skipped += 1
            openLine(stream, end: end, records: 0)
        case .invalid(let reason):
            let format = stream.decoder?.format.rawValue ?? "?"
            deadLetter(
                .invalidEnvelope, "\(reason) (the file is read as format \"\(format)\")", stream, offset: offset,
                mapping: nil, line: Array(envelope))
            openLine(stream, end: end, records: 0)
        case .tooLong(let sample, let length, let runStart, let pieces, let s):
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
        }
    }

    private func releaseHold(_ stream: Stream, _ s: ContainerStream) {
        guard let sequence = stream.holds[Int(s.rawValue) - 1] else { return }
        stream.holds[Int(s.rawValue) - 1] = nil
        resolveLine(stream, sequence)
    }

    /// The end of a container log's input: a complete last envelope without its newline is taken (as the runtime
    /// always ends lines, only a compressed file's last line can lack it). Partial lines are given up only when the
    /// file cannot grow any more (rotated away, compressed); otherwise their run stays held for the next run.
    func finishContainerLog(_ stream: Stream, _ reader: LogFileReader) {
        guard let decoder = stream.decoder else { return }
        var chunk: [FramedLine] = []
        reader.finish(includePartial: reader.isCompressed) { event in unwrap(stream, decoder, event, into: &chunk) }
        flush(stream, &chunk)
        payloadArena.reset()
        if stream.detached || stream.compressed {
            giveUpPartialLines(stream, because: stream.detached ? "the file was rotated away" : "the file ended")
        }
    }

    /// Dead-letters the partial lines that can no longer be completed (their last piece would be in another file,
    /// or never comes), and lets the checkpoint pass them.
    func giveUpPartialLines(_ stream: Stream, because why: String) {
        guard let decoder = stream.decoder, decoder.isHolding else { return }
        for run in decoder.takeIncomplete() {
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
}
