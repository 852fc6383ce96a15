import Checkpoints
import Foundation
import Gzip
import JSON
import Logging
import Mapping
import Tailing

extension Engine {
    /// Expands the globs and starts a stream for every file not being read yet. Renamed files keep their stream;
    /// files whose path now leads elsewhere are detached (read to the end, then let go).
    func scan() {
        var found = FileDiscovery(config.sources.map(\.discovery)).files().map {
            (path: $0.path, source: config.sources[$0.source], stat: $0.stat)
        }
        // Files already known by device and inode first: a renamed file takes its own checkpoint back before a
        // copy of it (matched by content) could be taken for it.
        let knownFiles = table.files
        let isKnown = { (st: FileStat) in knownFiles.contains(FileIdentity.FileID(device: st.device, inode: st.inode)) }
        found = found.filter { isKnown($0.stat) } + found.filter { !isKnown($0.stat) }
        var live: [FileKey: Stream] = [:]
        for stream in streams.values where !stream.detached {
            live[FileKey(device: stream.device, inode: stream.inode)] = stream
        }
        let firstNew = nextStreamId
        for (path, source, st) in found {
            if let stream = live[FileKey(device: st.device, inode: st.inode)] {
                if stream.path != path {
                    logger.info("file renamed; still reading it", metadata: ["file.from": "\(stream.path)", "file.path": "\(path)"])
                    stream.path = path
                }
                continue
            }
            if let known = settled[path], known == st { continue }
            openStream(path: path, source: source, stat: st)
        }
        if newEntries {
            // A new file's identity key is saved before any of its lines is read, so a crash cannot give its lines
            // other ids on the next run (the file may have grown by then, and the key hashes its first bytes).
            newEntries = false
            saveCheckpoints(force: true)
        }
        if options.once, nextStreamId > firstNew { orderByFirstRecordTime(from: firstNew) }
        if let watcher {
            let directories = Set(found.map { ($0.path as NSString).deletingLastPathComponent })
            watcher.update(directories: Array(directories) + watchDirectories())
        }
        for stream in streams.values where !stream.detached {
            if let st = FileStat.of(path: stream.path), st.device == stream.device, st.inode == stream.inode { continue }
            markDetached(stream)
            stream.lastGrowth = now
            logger.info("file rotated or removed; reading the rest of the open file", metadata: ["file.path": "\(stream.path)"])
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
            case let (x?, y?) where x != y: return x < y
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

    struct FileKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private func openStream(path: String, source: SourceConfig, stat st: FileStat) {
        let head: [UInt8]
        do {
            head = try Fingerprint.readHead(path: path, count: Fingerprint.fullLength)
            unreadable.remove(path)
        } catch {
            if unreadable.insert(path).inserted {
                logger.error("cannot read file; will retry at the next scan", metadata: ["file.path": "\(path)", "error": "\(error.message)"])
            }
            return
        }
        guard !head.isEmpty else { return }  // empty: nothing to read yet
        let fingerprint = Fingerprint.of(head)
        let magic = GzipFormat.hasGzipMagic(Fingerprint.rawPrefix(path: path))
        let compressed = source.format == .gzip || (source.format != .jsonl && magic)  // kubelet gzips rotated container logs
        var offset: UInt64 = 0
        var entry: Int?
        let file = FileIdentity.FileID(device: st.device, inode: st.inode)
        let decision = table.match(head: head, fingerprint: fingerprint, stat: st, compressed: compressed) {
            probe(entry: $0, path: path, stat: st, head: head, compressed: compressed)
        }
        switch decision {
        case .copyOfLive(let id):
            table.noteCopy(file, of: id)
            if announcedCopies.insert(path).inserted {
                logger.info("file is a copy of one being read; not sent again", metadata: [
                    "file.path": "\(path)", "file.original": "\(table.entries[id]?.path ?? "?")",
                ])
            }
            return
        case .copy(let id), .resume(let id):
            let c = table.entries[id]!
            offset = c.offset
            if c.finished && c.compressed && compressed && c.size == st.size {
                settled[path] = st
                table.update(id) { $0.path = path }
                return
            }
            if case .copy = decision, !compressed, st.size < offset {
                // A copy that ends before the checkpoint holds only lines already delivered (copytruncate's copy
                // after the agent read lines written between the copy and the truncate).
                logger.info("file is a copy of what was already read; not sent again", metadata: [
                    "file.path": "\(path)", "file.original": "\(c.path)",
                ])
                // Its own entry (the same key: the same lines at the same offsets), so the original's stays
                // where it was read to.
                let copy = table.insert(FileCheckpoint(
                    fingerprint: fingerprint.hash, fingerprintLength: fingerprint.length, device: st.device,
                    inode: st.inode, path: path, offset: st.size, size: st.size, compressed: false,
                    updatedAt: wallMillis(), key: c.key))
                table.noteCopy(file, of: copy)
                newEntries = true
                settled[path] = st
                return
            }
            table.update(id) {
                $0.path = path
                $0.device = st.device
                $0.inode = st.inode
                $0.offset = offset
                $0.compressed = compressed
                $0.finished = false
                if fingerprint.length > $0.fingerprintLength {
                    $0.fingerprint = fingerprint.hash
                    $0.fingerprintLength = fingerprint.length
                }
            }
            entry = id
        case .extends(let id, let after):
            // The file being read is a shorter copy of this one: it delivers its own lines; this one continues
            // after them (from the last line end within them), under the same key.
            let c = table.entries[id]!
            let from = after > 65536 ? after - 65536 : 0
            let tail = (try? Fingerprint.readRange(path: path, from: from, count: Int(after - from))) ?? []
            offset = tail.lastIndex(of: 0x0A).map { from + UInt64($0) + 1 } ?? 0
            entry = table.insert(FileCheckpoint(
                fingerprint: fingerprint.hash, fingerprintLength: fingerprint.length, device: st.device,
                inode: st.inode, path: path, offset: offset, size: st.size, compressed: compressed,
                updatedAt: wallMillis(), key: c.key))
            newEntries = true
            logger.info("file continues a shorter copy being read; reading what follows it", metadata: [
                "file.path": "\(path)", "file.copy": "\(c.path)",
            ])
        case .truncated:
            logger.warning("file is shorter than its checkpoint; reading it from the start as a new file", metadata: ["file.path": "\(path)"])
        case .sharedHead(let id):
            logger.info("file begins like another but differs further in; reading both", metadata: [
                "file.path": "\(path)", "file.other": "\(table.entries[id]?.path ?? "?")",
            ])
        case .new:
            break
        }
        let entryId = entry ?? table.insert(FileCheckpoint(
            fingerprint: fingerprint.hash, fingerprintLength: fingerprint.length, device: st.device, inode: st.inode,
            path: path, offset: 0, size: st.size, compressed: compressed, updatedAt: wallMillis(),
            key: table.uniqueKey(fingerprint.hash, device: st.device, inode: st.inode)))
        if entry == nil { newEntries = true }
        table.noteHead(entryId, head)
        let id = nextStreamId
        nextStreamId += 1
        let stream = Stream(
            id: id, source: source, path: path, fingerprint: fingerprint, key: table.entries[entryId]!.key, stat: st,
            compressed: compressed, entry: entryId, startOffset: offset, now: now)
        stream.readers = readers
        attachDecoder(stream, head: head)
        table.attached[entryId] = id
        streams[id] = stream
        order.append(id)
        stats.filesOpened += 1
        stats.bytesPlanned += compressed ? st.size : st.size - min(st.size, offset)
        if options.once, let time = firstRecordTime(head, stream: stream) { firstTimes[id] = time }
        logger.info("following file", metadata: [
            "file.path": "\(path)", "file.offset": "\(offset)", "file.compressed": "\(compressed)", "source": "\(source.name)",
        ])
    }

    /// Compares a newly seen file with checkpoint entry `id`'s own file, where that still is (see
    /// ``FileIdentity/Probe``).
    private func probe(entry id: Int, path: String, stat st: FileStat, head: [UInt8], compressed: Bool) -> FileIdentity.Probe {
        guard let c = table.entries[id] else { return .gone }
        let livePath = table.attached[id].flatMap { streams[$0]?.path } ?? c.path
        guard livePath != path, let other = FileStat.of(path: livePath), other.device == c.device, other.inode == c.inode,
            let otherHead = try? Fingerprint.readHead(path: livePath, count: Fingerprint.fullLength),
            Fingerprint(hash: c.fingerprint, length: c.fingerprintLength).matches(prefixOf: otherHead)
        else { return .gone }
        let mine: UInt64? = compressed ? (head.count < Fingerprint.fullLength ? UInt64(head.count) : nil) : st.size
        let theirs: UInt64? = c.compressed ? nil : other.size
        switch FileIdentity.sameContent(path, aSize: mine, livePath, bSize: theirs) {
        case true?:
            if let mine, let theirs, mine > theirs { return .prefixOf(size: theirs) }
            return .same
        case false?: return .different
        case nil: return .gone
        }
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
                let reader = try LogFileReader(
                    path: stream.path, startOffset: stream.resumeOffset ?? stream.ledger.safeOffset,
                    maxLineBytes: stream.source.maxLineBytes)
                guard reader.openedStat.device == stream.device, reader.openedStat.inode == stream.inode else {
                    markDetached(stream)
                    markExhausted(stream)
                    return
                }
                stream.reader = reader
            } catch {
                logger.error("cannot open file", metadata: ["file.path": "\(stream.path)", "error": "\(error.message)"])
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
            var chunk: [FramedLine] = []
            chunk.reserveCapacity(1024)
            status = try reader.read(budget: min(budget, 256 * 1024)) { event in
                if let decoder = stream.decoder {
                    unwrap(stream, decoder, event, into: &chunk)
                } else if case .line(let bytes, let offset, let end) = event {
                    chunk.append(FramedLine(bytes: bytes, offset: offset, end: end))
                } else {
                    handleChunk(stream, chunk)
                    chunk.removeAll(keepingCapacity: true)
                    handleLine(stream, event)
                }
            } chunkEnd: {
                handleChunk(stream, chunk)
                chunk.removeAll(keepingCapacity: true)
                payloadArena.reset()
            }
            precondition(chunk.isEmpty, "lines framed outside a chunk")
        } catch {
            logger.error("read failed; will retry", metadata: ["file.path": "\(stream.path)", "error": "\(error.message)"])
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
            stream.caughtUp = true
            if options.once { finish(stream) }
        case .finished:
            giveUpPartialLines(stream, because: "the file ended")
            markExhausted(stream)
            stream.reader = nil
            logger.info("finished file", metadata: ["file.path": "\(stream.path)"])
        case .truncated:
            logger.warning("file was truncated; reading its new content from the start", metadata: ["file.path": "\(stream.path)"])
            giveUpPartialLines(stream, because: "the file was truncated")
            markDetached(stream)
            markExhausted(stream)
            stream.reader = nil
            lastScan = -1_000_000
        }
    }

    /// Declares a stream's input complete: a truncated gzip stream is reported, and an unterminated last line is
    /// taken if it is a complete JSON document (a half-written line never parses, so it waits for its newline).
    func finish(_ stream: Stream) {
        guard let reader = stream.reader else { return }
        let partial = reader.peekPartial()
        let take = reader.isCompressed || (!partial.isEmpty && (try? JSONParser.parse(partial)) != nil)
        if stream.decoder != nil {
            finishContainerLog(stream, reader)
        } else {
            reader.finish(includePartial: take) { event in handleLine(stream, event) }
        }
        markExhausted(stream)
        stream.reader = nil
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
        victim.reader = nil
        return true
    }

    /// Follow mode: notices growth of followed files, and lets go of rotated files once they are drained.
    func refreshFollowedStreams() {
        guard !options.once else { return }
        for stream in streams.values where !stream.exhausted {
            if let reader = stream.reader, let size = reader.currentSize() {
                if reader.isCompressed || size != reader.bytesConsumed { stream.hasInput = true }
            } else if let resume = stream.resumeOffset, let st = FileStat.of(path: stream.path),
                st.device == stream.device, st.inode == stream.inode
            {
                if st.size != resume { stream.hasInput = true }  // grew (or shrank: the reader reports truncation)
            } else {
                stream.hasInput = true
            }
            if stream.compressed, let reader = stream.reader, now - stream.lastGrowth > incompleteGzipMillis,
                reader.currentSize() == reader.bytesConsumed
            {
                // A gzip stream that ends inside a member and has not grown for a while is not being written:
                // it is truncated. Finishing reports it (dead letter `corrupt_gzip`) and takes what was decoded.
                logger.warning("compressed file stopped growing before its end; reporting it as damaged", metadata: [
                    "file.path": "\(stream.path)",
                ])
                finish(stream)
                continue
            }
            if stream.detached, !stream.hasInput, now - stream.lastGrowth > rotationGraceMillis {
                finish(stream)
                logger.info("finished rotated file", metadata: ["file.path": "\(stream.path)"])
            }
        }
    }

    var incompleteGzipMillis: Int64 { Int64(config.follow.incompleteGzipSeconds * 1000) }

    var rotationGraceMillis: Int64 { max(2000, Int64(config.follow.pollIntervalMillis) * 4) }

    /// In a catch-up run: every stream was read to its end.
    func allInputConsumed() -> Bool {
        lastScan >= 0 && exhaustedCount == streams.count
    }

    /// A catch-up run has nothing that would retry a file it could not read (no watcher, no growth to notice): it
    /// stops reading that file, delivers the rest, and reports itself incomplete, so the next run tries again from
    /// the same checkpoint.
    func giveUpInCatchUp(_ stream: Stream) {
        guard options.once else { return }
        stream.reader = nil
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
            // Only now, with every line resolved, may an archive be marked as done for good.
            let finishedArchive = stream.compressed && stream.exhausted && !stream.abandoned
            let size = FileStat.of(path: stream.path)?.size
            table.update(stream.entry) {
                $0.offset = offset
                $0.updatedAt = wallMillis()
                if finishedArchive {
                    $0.finished = true
                    if let size { $0.size = size }
                }
            }
            table.attached[stream.entry] = nil
            if !stream.abandoned, let st = FileStat.of(path: stream.path), st.device == stream.device,
                st.inode == stream.inode, stream.compressed || options.once
            {
                settled[stream.path] = st
            }
            openLines -= stream.ledger.openCount
            if stream.exhausted { exhaustedCount -= 1 }
            streams[stream.id] = nil
        }
        guard !retired.isEmpty else { return }
        order.removeAll { retired.contains($0) }
        if cursor >= order.count { cursor = 0 }
    }
}

extension Fingerprint {
    /// The first two bytes of a file as stored (not decompressed), for the gzip magic check.
    static func rawPrefix(path: String) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        return Array((try? handle.read(upToCount: 2)) ?? Data())
    }
}
