import AgentConfig
import Checkpoints
import Foundation
import JSON
import Logging
import Mapping
import Tailing

extension Engine {
    /// Expands the globs and starts a stream for every file not being read yet. Renamed files keep their stream;
    /// files whose path now leads elsewhere are detached (read to the end, then let go).
    func scan() {
        let found = discovery.files()
        let firstNew = nextStreamId
        for step in tracker.plan(found, known: table.files, following: streams.values.lazy.map(\.file)) {
            switch step {
            case .renamed(let id, let from, let to):
                logger.info("file renamed; still reading it", metadata: ["file.from": "\(from)", "file.path": "\(to)"])
                streams[id]?.path = to
                streams[id]?.writtenPath = FileStat.writtenPath(of: to)
            case .reattached(let id, let from, let to):
                logger.info(
                    "rotated file found under another name; still reading it",
                    metadata: ["file.from": "\(from)", "file.path": "\(to)"])
                streams[id]?.path = to
                streams[id]?.writtenPath = FileStat.writtenPath(of: to)
                streams[id]?.detached = false
            case .identify(let f):
                openStream(path: f.path, source: config.sources[f.source], stat: f.stat)
            }
        }
        if newEntries {
            // A new file's identity key is saved before any of its lines is read, so a crash cannot give its lines
            // other ids on the next run (the file may have grown by then, and the key hashes its first bytes).
            newEntries = false
            saveCheckpoints(force: true)
        }
        forgetMissingFiles(found)
        if options.once, nextStreamId > firstNew { orderByFirstRecordTime(from: firstNew) }
        if let watcher {
            // The directories of the files found, and of the files their symbolic links lead to.
            var directories = Set(found.lazy.compactMap { FileTracker.watchedDirectory(of: $0.path) })
            for stream in streams.values {
                if let written = stream.writtenPath, written != stream.path,
                    let directory = FileTracker.watchedDirectory(of: written)
                {
                    directories.insert(directory)
                }
            }
            let unwatched = Set(watcher.update(directories: Array(directories) + watchDirectories()))
            for stream in streams.values {
                let directory = stream.writtenPath.flatMap(FileTracker.watchedDirectory(of:))
                stream.file.watched = directory.map { !unwatched.contains($0) } ?? false
            }
        }
        for id in tracker.rotated(streams.values.lazy.map(\.file), listed: found) {
            guard let stream = streams[id] else { continue }
            markDetached(stream)
            stream.lastGrowth = now
            logger.info(
                "file rotated or removed; reading the rest of the open file", metadata: ["file.path": "\(stream.path)"])
        }
    }

    /// Keeps what the engine remembers of files to those the globs still list (see
    /// ``CheckpointTable/sweep(listed:now:forgetAfter:)``, ``FileTracker/forgetUnlisted(_:)``).
    private func forgetMissingFiles(_ found: [FileTracker.Found]) {
        tracker.forgetUnlisted(found)
        let sweep = table.sweep(
            listed: Set(found.lazy.map { FileIdentity.FileID($0.stat) }), now: wallMillis(),
            forgetAfter: Int64(config.state.forgetMissingFilesAfterSeconds) * 1000)
        stats.checkpointsForgotten += sweep.forgotten.count
        for c in sweep.forgotten {
            logger.info(
                "forgetting the checkpoint of a file no longer listed",
                metadata: [
                    "file.path": "\(c.path)", "file.offset": "\(c.offset)",
                    "state.forgetMissingFilesAfterSeconds": "\(config.state.forgetMissingFilesAfterSeconds)",
                ])
        }
    }

    /// Catch-up runs read files one after another; ordering them by the time of their first record (else by name)
    /// sends a backfill of rotated archives (`app.log.3.gz`, `app.log.2.gz`, ...) roughly in time order.
    func orderByFirstRecordTime(from firstNew: Int) {
        let times = firstTimes
        firstTimes.removeAll()
        let earlier = order.filter { $0 < firstNew }
        let new = order.filter { $0 >= firstNew }  // already in natural name order
        let sorted = new.enumerated().sorted { a, b in
            switch (times[a.element], times[b.element]) {
            case (let x?, let y?) where x != y: return x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.offset < b.offset
            }
        }.map(\.element)
        order = earlier + sorted
    }

    /// The time of the first record in `head` (the first line of a file), mapped by a mapper of its own (the
    /// engine's keeps session state).
    func firstRecordTime(_ head: [UInt8], stream: Stream) -> Int64? {
        guard let newline = head.firstIndex(of: 0x0A), let value = try? JSONParser.parse(head[..<newline]) else {
            return nil
        }
        let peek = peekMapper ?? Mapper(mappings: config.mappings)
        peekMapper = peek
        let context = RecordContext(sourceName: stream.source.name, path: stream.path, fingerprint: "", offset: 0)
        for case .record(_, let record) in peek.apply(value, context: context) {
            if let time = record.time { return time.epochMilliseconds }
        }
        return nil
    }

    /// The literal directories the globs start from (inotify watches them for new files).
    func watchDirectories() -> [String] {
        Array(Set(config.sources.flatMap { $0.paths.map { Glob($0).baseDirectory } }))
    }

    private func openStream(path: String, source: SourceConfig, stat st: FileStat) {
        let fileHead: FileHead
        switch tracker.inspect(path) {
        case .unreadable(let error, let report):
            if report {
                logger.error(
                    "cannot read file; will retry at the next scan",
                    metadata: ["file.path": "\(path)", "error": "\(error.message)"])
            }
            return
        case .empty:
            return  // nothing to read yet
        case .ready(let h):
            fileHead = h
        }
        let head = fileHead.bytes
        let fingerprint = fileHead.fingerprint
        // One decision, by the magic bytes (kubelet gzips rotated container logs); the reader is opened with it.
        let compressed = fileHead.isCompressed
        let decision = table.match(head: head, fingerprint: fingerprint, stat: st, compressed: compressed) {
            probe(entry: $0, path: path, stat: st, head: head, compressed: compressed)
        }
        let admission = table.admit(
            decision, path: path, stat: st, head: head, fingerprint: fingerprint, compressed: compressed,
            updatedAt: wallMillis()
        ) { tracker.continuation(of: path, after: $0) }
        logger.debug(
            "identified file",
            metadata: ["file.path": "\(path)", "file.match": "\(decision)", "file.admission": "\(admission)"])
        let entryId: Int
        let offset: UInt64
        switch admission {
        case .copyOfLive(let id):
            // Its original may have been truncated and written again to the size it was read to (nothing for a size
            // check to notice): its stream looks (one check of the file's head), and if so, goes on in this copy.
            if let live = table.attached[id].flatMap({ streams[$0] }), !live.exhausted { live.hasInput = true }
            if tracker.announceCopy(path) {
                logger.info(
                    "file is a copy of one being read; not sent again",
                    metadata: [
                        "file.path": "\(path)", "file.original": "\(table.entries[id]?.path ?? "?")",
                    ])
            }
            return
        case .finishedArchive:
            tracker.settle(path, st)
            return
        case .alreadyRead(_, let original):
            logger.info(
                "file is a copy of what was already read; not sent again",
                metadata: [
                    "file.path": "\(path)", "file.original": "\(table.entries[original]?.path ?? "?")",
                ])
            newEntries = true
            tracker.settle(path, st)
            return
        case .continues(let entry, let from):
            guard let stream = table.attached[entry].flatMap({ streams[$0] }) else { return }
            logger.info(
                "file is a copy of one that was truncated; reading in it what that one had not",
                metadata: ["file.path": "\(path)", "file.original": "\(stream.path)", "file.offset": "\(from)"])
            continueInCopy(stream, path: path, stat: st, head: fileHead, from: from)
            newEntries = true
            return
        case .read(let entry, let from, let created):
            (entryId, offset) = (entry, from)
            if created { newEntries = true }
        }
        switch decision {
        case .extends(let id, _):
            logger.info(
                "file continues a shorter copy being read; reading what follows it",
                metadata: [
                    "file.path": "\(path)", "file.copy": "\(table.entries[id]?.path ?? "?")",
                ])
        case .truncated:
            logger.warning(
                "file is shorter than its checkpoint; reading it from the start as a new file",
                metadata: ["file.path": "\(path)"])
        case .sharedHead(let id):
            logger.info(
                "file begins like another but differs further in; reading both",
                metadata: [
                    "file.path": "\(path)", "file.other": "\(table.entries[id]?.path ?? "?")",
                ])
        case .new, .resume, .copy, .copyOfLive, .copyOfTruncated:
            break
        }
        let id = nextStreamId
        nextStreamId += 1
        let loop = ReaderLoop(
            head: fileHead, envelope: source.envelope, streams: source.streams, maxLineBytes: source.maxLineBytes,
            arena: payloadArena)
        let stream = Stream(
            id: id, source: source, path: path, fingerprint: fingerprint, key: table.entries[entryId]!.key, stat: st,
            loop: loop, entry: entryId, startOffset: offset, now: now)
        stream.readers = readers
        if loop.decoder != nil { stream.pod = PodIdentity(path: path) }
        if watcher != nil { stream.writtenPath = FileStat.writtenPath(of: path) }
        table.attached[entryId] = id
        streams[id] = stream
        order.append(id)
        stats.filesOpened += 1
        stats.bytesPlanned += compressed ? st.size : st.size - min(st.size, offset)
        if options.once, let time = firstRecordTime(head, stream: stream) { firstTimes[id] = time }
        logger.info(
            "following file",
            metadata: [
                "file.path": "\(path)", "file.offset": "\(offset)", "file.compressed": "\(compressed)",
                "source": "\(source.name)",
            ])
    }

    /// A stream that found its file truncated goes on in the file's copy (see ``CheckpointTable/Admission/continues(entry:offset:)``):
    /// its ledger and key stay, and it reads the copy from the end of the last line it handed out.
    private func continueInCopy(_ stream: Stream, path: String, stat st: FileStat, head: FileHead, from: UInt64) {
        let compressed = head.isCompressed
        if stream.exhausted { exhaustedCount -= 1 }
        stream.file.continueInCopy(path: path, stat: st, compressed: compressed, now: now)
        stream.fingerprint = head.fingerprint
        stream.closeReader()
        if compressed != stream.loop.compressed {
            // The copy was compressed at once: it is read through a loop opened as its head says (a container
            // log's partial runs were given up when the original was found truncated).
            stream.loop = ReaderLoop(
                head: head, envelope: stream.source.envelope, streams: stream.source.streams,
                maxLineBytes: stream.source.maxLineBytes, arena: payloadArena)
        }
        // inotify names its writes by the copy's path now (the truncated file has a stream of its own).
        if watcher != nil { stream.writtenPath = FileStat.writtenPath(of: path) }
        stream.resumeOffset = from
        stream.hasInput = true
        stream.size = st.size
        stats.bytesPlanned += compressed ? st.size : st.size - min(st.size, from)
    }

    /// Compares a newly seen file with checkpoint entry `id`'s own file, where that still is (see
    /// ``FileTracker/probe(_:stat:head:compressed:against:)``).
    private func probe(entry id: Int, path: String, stat st: FileStat, head: [UInt8], compressed: Bool)
        -> FileIdentity.Probe
    {
        guard let c = table.entries[id] else { return .gone }
        let livePath = table.attached[id].flatMap { streams[$0]?.path } ?? c.path
        let original = FileTracker.Original(
            path: livePath, device: c.device, inode: c.inode,
            fingerprint: Fingerprint(hash: c.fingerprint, length: c.fingerprintLength), compressed: c.compressed)
        return tracker.probe(path, stat: st, head: head, compressed: compressed, against: original)
    }

    func wallMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Reads from streams with input until about `budget` bytes were consumed. Catch-up runs read files one after
    /// another in name order (so events reach the service roughly in time order); followers take turns.
    func readSome(budget: Int) -> Bool {
        var remaining = budget
        var progressed = false
        var visited = 0
        let count = order.count
        while remaining > 0, visited < count, unresolvedRecords < config.batching.maxPendingRecords, !readyQueueFull {
            let index = options.once ? visited : (cursor + visited) % count
            visited += 1
            guard let stream = streams[order[index]], stream.hasInput, !stream.exhausted else { continue }
            let before = remaining
            readStream(stream, budget: &remaining)
            if remaining < before { progressed = true }
            if options.once, remaining <= 0 { break }
        }
        if !options.once, count > 0 { cursor = (cursor + 1) % count }
        return progressed
    }

    private func readStream(_ stream: Stream, budget: inout Int) {
        if stream.reader == nil {
            guard makeRoomForReader() else { return }
            do {
                let reader = try stream.openReader(from: stream.resumeOffset ?? stream.ledger.safeOffset)
                guard stream.file.isSameFile(reader.openedStat) else {
                    stream.closeReader()
                    markDetached(stream)
                    markExhausted(stream)
                    return
                }
                stream.keepReader()
            } catch {
                logger.error(
                    "cannot open file", metadata: ["file.path": "\(stream.path)", "error": "\(error.message)"])
                stream.hasInput = false
                giveUpInCatchUp(stream)
                return
            }
        }
        guard let reader = stream.reader else { return }
        currentFile = stream.path
        let consumedBefore = reader.bytesConsumed
        let status: LogFileReader.Status
        do {
            status = try stream.loop.read(budget: min(budget, 256 * 1024)) { event in handleRead(stream, event) }
        } catch {
            logger.error(
                "read failed; will retry", metadata: ["file.path": "\(stream.path)", "error": "\(error.message)"])
            stream.hasInput = false
            giveUpInCatchUp(stream)
            return
        }
        let consumed = Int(reader.bytesConsumed - consumedBefore)
        budget -= max(consumed, 1)
        stats.bytesRead += UInt64(consumed)
        if consumed > 0 { stream.lastGrowth = now }
        switch status {
        case .more:
            stream.hasInput = true
        case .caughtUp:
            stream.hasInput = false
            if options.once { finish(stream) }
        case .finished:
            giveUpPartialLines(stream, because: "the file ended")
            markExhausted(stream)
            stream.closeReader()
            logger.info("finished file", metadata: ["file.path": "\(stream.path)"])
        case .truncated:
            logger.warning(
                "file was truncated; reading its new content from the start", metadata: ["file.path": "\(stream.path)"])
            // A copy of it (copytruncate) may hold the lines after this point: the stream goes on in it if one is
            // found (see `continueInCopy`).
            table.noteTruncated(stream.entry, at: reader.offset)
            stream.file.truncated = true
            giveUpPartialLines(stream, because: "the file was truncated")
            markDetached(stream)
            markExhausted(stream)
            stream.closeReader()
            lastScan = -1_000_000
        }
    }

    /// Declares a stream's input complete (see ``ReaderLoop/finish(canGrow:takeUnterminated:_:)``): an unterminated
    /// last line of a JSON-lines log is taken if it is a complete JSON document (a half-written line never parses,
    /// so it waits for its newline); a container log's partial lines are given up only when the file cannot grow
    /// any more (rotated away, compressed), otherwise their run stays held for the next run.
    func finish(_ stream: Stream) {
        guard stream.reader != nil else { return }
        let why = stream.detached ? "the file was rotated away" : "the file ended"
        stream.loop.finish(canGrow: !(stream.detached || stream.compressed)) { partial in
            (try? JSONParser.parse(partial)) != nil
        } _: { event in
            handleRead(stream, event, givingUp: why)
        }
        stream.closeReader()
        markExhausted(stream)
    }

    /// Keeps open readers under `follow.maxOpenFiles` by closing the least recently active idle one (a plain file
    /// whose path still leads to it, so it can be reopened). Returns false when no reader can be closed now.
    func makeRoomForReader() -> Bool {
        guard readers.ids.count >= config.follow.maxOpenFiles else { return true }
        var open = 0
        var victim: Stream?
        for id in readers.ids {
            guard let stream = streams[id], let reader = stream.reader else { continue }
            open += 1
            if !stream.detached, !stream.compressed, !stream.hasInput, !reader.isSkipping,
                victim == nil || stream.lastGrowth < victim!.lastGrowth
            {
                victim = stream
            }
        }
        guard open >= config.follow.maxOpenFiles else { return true }
        guard let victim, let reader = victim.reader else { return false }
        victim.resumeOffset = reader.offset
        victim.closeReader()
        return true
    }

    /// Follow mode: notices growth of followed files, and lets go of rotated files once they are drained.
    func refreshFollowedStreams() {
        guard !options.once else { return }
        let t = now
        let previous = lastRefresh
        lastRefresh = t
        for stream in streams.values where !stream.exhausted {
            let reader = stream.reader.map {
                FileTracker.ReaderState(size: $0.currentSize(), consumed: $0.bytesConsumed)
            }
            let (hasInput, action) = tracker.followUp(
                stream.file, hasInput: stream.hasInput, reader: reader, resumeOffset: stream.resumeOffset, now: t,
                since: previous)
            stream.hasInput = hasInput
            switch action {
            case .keep:
                break
            case .damagedGzip:
                // Finishing reports it (dead letter `corrupt_gzip`) and takes what was decoded.
                logger.warning(
                    "compressed file stopped growing before its end; reporting it as damaged",
                    metadata: [
                        "file.path": "\(stream.path)"
                    ])
                finish(stream)
            case .drained:
                finish(stream)
                logger.info("finished rotated file", metadata: ["file.path": "\(stream.path)"])
            }
        }
    }

    /// inotify said files changed: the streams of the files written have input; anything else (a file created,
    /// moved or deleted, a write to a file not followed yet) is looked at by a rescan soon, but not on every append.
    func noteFileChanges(_ changes: FileWatcher.Changes) {
        var rescan = changes.all || changes.structural
        if changes.all {
            for stream in streams.values { stream.hasInput = true }
        } else if !changes.written.isEmpty {
            var followed = Set<String>()
            for stream in streams.values {
                let written = stream.writtenPath ?? stream.path
                guard changes.written.contains(written) else { continue }
                stream.hasInput = true
                followed.insert(written)
            }
            if followed.count < changes.written.count { rescan = true }
        }
        if rescan { lastScan = min(lastScan, now - Int64(config.follow.rescanIntervalMillis) + 200) }
    }

    /// In a catch-up run: every stream was read to its end.
    func allInputConsumed() -> Bool {
        lastScan >= 0 && exhaustedCount == streams.count
    }

    /// A catch-up run has nothing that would retry a file it could not read (no watcher, no growth to notice): it
    /// stops reading that file, delivers the rest, and reports itself incomplete, so the next run tries again from
    /// the same checkpoint.
    func giveUpInCatchUp(_ stream: Stream) {
        guard options.once else { return }
        stream.closeReader()
        stream.abandoned = true
        markExhausted(stream)
        stoppedEarly = true
    }

    func markExhausted(_ stream: Stream) {
        if !stream.exhausted { exhaustedCount += 1 }
        stream.exhausted = true
        finishing.insert(stream.id)
    }

    func markDetached(_ stream: Stream) {
        stream.detached = true
        finishing.insert(stream.id)
    }

    /// Registers a line with its stream's ledger (and the engine's count of lines not yet passed by a checkpoint).
    @discardableResult
    func openLine(_ stream: Stream, end: UInt64, records: Int) -> UInt64 {
        let before = stream.ledger.openCount
        let sequence = stream.ledger.open(end: end, records: records)
        openLines += stream.ledger.openCount - before
        return sequence
    }

    func resolveLine(_ stream: Stream, _ sequence: UInt64) {
        let before = stream.ledger.openCount
        stream.ledger.resolve(sequence)
        openLines += stream.ledger.openCount - before
        if stream.exhausted || stream.detached { finishing.insert(stream.id) }
    }

    /// Lets go of streams with nothing left to read and nothing unresolved. Only streams exhausted or detached that
    /// changed since the last call are looked at (with 10,000 files, looking at all of them on every turn of the
    /// loop would dominate).
    func retireStreams() {
        guard !finishing.isEmpty else { return }
        var retired = Set<Int>()
        defer { finishing.removeAll(keepingCapacity: true) }
        for id in finishing {
            guard let stream = streams[id] else {
                retired.insert(id)
                continue
            }
            guard stream.isDone else { continue }
            retired.insert(id)
            let offset = stream.ledger.safeOffset
            logger.debug("retiring stream", metadata: ["file.path": "\(stream.path)", "file.offset": "\(offset)"])
            // Only now, with every line resolved, may an archive be marked as done for good.
            let finishedArchive = stream.compressed && stream.exhausted && !stream.abandoned
            let size = tracker.retire(stream.file)?.size
            table.update(stream.entry) {
                $0.offset = offset
                $0.updatedAt = wallMillis()
                if finishedArchive {
                    $0.finished = true
                    if let size { $0.size = size }
                }
            }
            table.release(stream.entry)
            openLines -= stream.ledger.openCount
            if stream.exhausted { exhaustedCount -= 1 }
            streams[stream.id] = nil
        }
        guard !retired.isEmpty else { return }
        order.removeAll { retired.contains($0) }
        if cursor >= order.count { cursor = 0 }
    }
}
