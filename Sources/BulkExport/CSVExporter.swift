import Foundation
import JSON
import Mapping
import PersonalizeModel
import Tailing

/// Writes the Personalize bulk-import CSV files for a set of log files, through the same mappings the live agent
/// uses.
///
/// Each line goes through ``Mapper/apply(_:context:)``; each record becomes one row of its dataset's CSV file:
///
/// | file | columns |
/// |---|---|
/// | `interactions-NNNNN.csv` | `USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,IMPRESSION` + metadata |
/// | `items-NNNNN.csv` | `ITEM_ID` + properties |
/// | `users-NNNNN.csv` | `USER_ID` + properties |
/// | `actions-NNNNN.csv` | `ACTION_ID` + properties |
/// | `action_interactions-NNNNN.csv` | `USER_ID,ACTION_ID,TIMESTAMP,EVENT_TYPE,IMPRESSION` + properties |
///
/// Property keys become upper snake case columns (`numberOfRatings` → `NUMBER_OF_RATINGS`), `TIMESTAMP` is epoch
/// seconds, impressions are joined with `|`. When mappings of one kind name several trackers or datasets, the
/// second one's files are `interactions-dataset2-NNNNN.csv` and so on (`manifest.json` names each destination).
///
/// Files are read as `run` reads them (``ReaderLoop``): gzip by its magic bytes, container runtime logs (`cri`,
/// `docker`) with their envelope off and partial lines joined, lines of streams the source does not read skipped.
///
/// Nothing is dropped silently: lines that are not JSON, too long, damaged, that fail a mapping, invalid container
/// envelopes, partial container lines the file never completes, or interactions without a user or item id (a bulk
/// import requires them) go to `rejected.jsonl` with their path and offset.
/// Memory stays bounded: rows are streamed to the files as they are made.
public final class CSVExporter {
    public let mappings: MappingSet
    public let inputs: [ExportInput]
    public let options: ExportOptions
    /// Where the CSV files go when not into the output directory (S3); `rejected.jsonl` and `manifest.json` stay local.
    public let storage: (any ExportStorage)?

    private let mapper: Mapper
    private var writers: [String: RollingCSV] = [:]  // by kind + "\u{0}" + destination
    private var writerOrder: [RollingCSV] = []
    private var destinationsPerKind: [String: Int] = [:]
    private var rejectedSink: FileSink?
    private var counts = ExportManifest.Counts()
    private var firstTime: Int64?
    private var lastTime: Int64?
    private var warnings: [String] = []
    private var pendingError: ExportError?
    /// Whether the interactions could train a model, gathered as rows are written.
    public private(set) var readiness = TrainingReadiness()

    private let interactionColumns: [(key: String, column: String)]
    private let actionInteractionColumns: [(key: String, column: String)]
    private let itemColumns: [(key: String, column: String)]
    private let userColumns: [(key: String, column: String)]
    private let actionColumns: [(key: String, column: String)]

    static let interactionFixed = ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE", "IMPRESSION"]
    static let actionInteractionFixed = ["USER_ID", "ACTION_ID", "TIMESTAMP", "EVENT_TYPE", "IMPRESSION"]
    static let fixedColumns = [
        "interactions": interactionFixed.count, "action_interactions": actionInteractionFixed.count,
    ]

    /// `inputs` are read in order; see ``ExportInput/expand(_:)`` to find them from globs.
    public init(
        mappings: MappingSet, inputs: [ExportInput], options: ExportOptions, storage: (any ExportStorage)? = nil
    ) {
        self.storage = storage
        self.mappings = mappings
        self.inputs = inputs
        self.options = options
        mapper = Mapper(mappings: mappings)
        var warnings: [String] = []
        func columns(_ target: Target, fixed: [String], explicit: [String]? = nil) -> [(key: String, column: String)] {
            var keys = mappings.propertyKeys(for: target)
            if let explicit {
                let wanted = explicit.map { CSV.columnName($0) }
                let byColumn = Dictionary(keys.map { (CSV.columnName($0), $0) }, uniquingKeysWith: { a, _ in a })
                keys = []
                for w in wanted {
                    if let k = byColumn[w] {
                        keys.append(k)
                    } else {
                        warnings.append(
                            "interaction metadata column \(w): no event mapping sets such a property; the column stays empty"
                        )
                        keys.append(w)
                    }
                }
            }
            var out: [(String, String)] = []
            var used = Set(fixed)
            for k in keys {
                let c = CSV.columnName(k)
                guard used.insert(c).inserted else {
                    warnings.append(
                        "\(target.rawValue) property \(k): its column \(c) is already a column of the file; left out")
                    continue
                }
                out.append((k, c))
            }
            return out
        }
        interactionColumns = columns(.event, fixed: Self.interactionFixed, explicit: options.interactionMetadata)
        actionInteractionColumns = columns(.actionInteraction, fixed: Self.actionInteractionFixed)
        itemColumns = columns(.item, fixed: ["ITEM_ID"])
        userColumns = columns(.user, fixed: ["USER_ID"])
        actionColumns = columns(.action, fixed: ["ACTION_ID"])
        if interactionColumns.count > 5 {
            warnings.append(
                "the interactions file has \(interactionColumns.count) metadata columns; an Interactions dataset takes at most 5: choose them with --interaction-metadata"
            )
        }
        self.warnings = warnings
    }

    /// Reads every input and writes the files, `rejected.jsonl` and `manifest.json`. Throws only for problems
    /// of the output (cannot create or write a file) or an output directory holding an earlier export.
    @discardableResult
    public func run() throws(ExportError) -> ExportManifest {
        let dir = options.outputDirectory
        if let storage, try storage.prepare() {
            // Resuming an interrupted upload: its rejected lines are found again.
            unlink(dir + "/rejected.jsonl")
        }
        try prepareDirectory(dir)
        rejectedSink = try FileSink(path: dir + "/rejected.jsonl", mode: 0o600)
        var inputReports: [ExportManifest.Input] = []
        for input in inputs {
            inputReports.append(try export(input))
        }
        for w in writerOrder { try w.close() }
        try rejectedSink?.close()
        rejectedSink = nil
        var files: [ExportManifest.File] = []
        for w in writerOrder {
            files += w.files
            if w.oversizedRows > 0 {
                warnings.append(
                    "\(w.base): \(w.oversizedRows) row(s) are larger than maxFileBytes alone and got a file each")
            }
        }
        var manifest = ExportManifest(
            createdAt: ExportTime.iso(Timestamp(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))),
            since: options.since.map(ExportTime.iso), until: options.until.map(ExportTime.iso),
            maxFileBytes: options.maxFileBytes, files: files, inputs: inputReports, counts: counts,
            timeRange: nil, warnings: warnings, upload: storage?.upload)
        if let firstTime, let lastTime {
            manifest.timeRange = ExportManifest.TimeRange(
                first: firstTime, last: lastTime, firstISO: ExportTime.iso(Timestamp(epochSeconds: firstTime)),
                lastISO: ExportTime.iso(Timestamp(epochSeconds: lastTime)))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(manifest) } catch { throw ExportError("cannot encode the manifest: \(error)") }
        try storage?.finish(manifest: Array(data) + [0x0A])
        let sink = try FileSink(path: dir + "/manifest.json")
        try sink.write(Array(data) + [0x0A])
        try sink.close()
        storage?.finished()
        return manifest
    }

    private func prepareDirectory(_ dir: String) throws(ExportError) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw ExportError("\(dir): exists and is not a directory") }
            let entries = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            let kinds = ["interactions", "items", "users", "actions", "action_interactions"]
            let ours = entries.filter { name in
                name == "manifest.json" || name == "rejected.jsonl"
                    || (name.hasSuffix(".csv") && kinds.contains { name.hasPrefix($0 + "-") })
            }
            if !ours.isEmpty {
                throw ExportError(
                    "\(dir): holds an earlier export (\(ours.sorted().prefix(3).joined(separator: ", "))…); choose an empty directory"
                )
            }
        } else {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw ExportError("\(dir): cannot create it (\(error.localizedDescription))")
            }
        }
    }

    // MARK: Reading

    /// Reads one file through the reader loop `run` uses (``ReaderLoop``): gzip and container logs are read the same
    /// way, with the same offsets, so a line's rejection points where the live agent's dead letter would.
    private func export(_ input: ExportInput) throws(ExportError) -> ExportManifest.Input {
        let head: FileHead
        let loop: ReaderLoop
        let reader: LogFileReader
        do {
            head = try Fingerprint.readFileHead(path: input.path)
            loop = ReaderLoop(
                head: head, envelope: input.envelope, streams: input.streams, maxLineBytes: input.maxLineBytes)
            reader = try loop.open(path: input.path, startOffset: 0)
        } catch {
            // The file went away or is unreadable: say so in the rejected file rather than fail the whole export.
            try reject("read_error", "\(error)", input, offset: 0, mapping: nil, line: nil)
            return ExportManifest.Input(
                source: input.sourceName, path: input.path, compressed: false, fingerprint: nil, fingerprintLength: nil,
                device: 0, inode: 0, endOffset: 0, unterminatedBytes: 0, lines: 0)
        }
        let fingerprint = head.bytes.isEmpty ? nil : head.fingerprint
        var context = RecordContext(
            sourceName: input.sourceName, path: input.path, fingerprint: fingerprint?.hash ?? "")
        if loop.decoder != nil, mapper.readsMeta {
            let pod = PodIdentity(path: input.path)
            context.meta = RecordMeta(namespace: pod?.namespace, pod: pod?.pod, container: pod?.container)
        }
        var lines = 0
        var end: UInt64 = 0
        let handle: (ReaderLoop.Event) -> Void = { [self] event in
            guard pendingError == nil else { return }
            if let e = event.end { end = max(end, e) }
            do throws(ExportError) {
                lines += try self.handle(event, input, context: context)
            } catch {
                pendingError = error
            }
        }
        var finished = false
        reading: while true {
            let status: LogFileReader.Status
            do {
                status = try loop.read(budget: 1 << 20, handle)
            } catch {
                try reject("read_error", "\(error)", input, offset: reader.offset, mapping: nil, line: nil)
                break reading
            }
            if let pendingError { throw pendingError }
            switch status {
            case .more: continue
            case .caughtUp, .truncated: break reading
            case .finished:
                finished = true
                break reading
            }
        }
        if finished {
            loop.giveUpIncomplete(handle)
        } else {
            // An export reads what the file holds now: partial container lines cannot be completed by it.
            loop.finish(canGrow: false, takeUnterminated: { _ in options.includeUnterminatedLines }, handle)
        }
        if let pendingError { throw pendingError }
        return ExportManifest.Input(
            source: input.sourceName, path: input.path, compressed: head.isCompressed,
            fingerprint: fingerprint?.hash, fingerprintLength: fingerprint?.length, device: reader.openedStat.device,
            inode: reader.openedStat.inode, endOffset: max(end, reader.offset), unterminatedBytes: reader.pendingCount,
            lines: lines)
    }

    /// Handles one event of the reader loop; returns how many lines of the file it accounts for.
    private func handle(_ event: ReaderLoop.Event, _ input: ExportInput, context: RecordContext) throws(ExportError)
        -> Int
    {
        switch event {
        case .lines(let lines):
            for line in lines { try handle(line, input, context: context) }
            return lines.count
        case .framed(.corrupt(let message, let offset, let compressedOffset)):
            try reject(
                "corrupt_gzip",
                "\(message) (compressed offset \(compressedOffset)); the rest of the file is unreadable",
                input, offset: offset, mapping: nil, line: nil)
            return 0
        case .framed(.tooLong(let sample, let length, let offset, _)):
            counts.lines += 1
            try reject(
                "line_too_long", "the line is \(length) bytes, the limit is \(input.maxLineBytes)", input,
                offset: offset, mapping: nil, line: sample, truncated: true, length: length)
            return 1
        case .framed(.line(let line)):
            try handle(line, input, context: context)
            return 1
        case .held:
            // A partial piece is a line of the file, as `run` counts it (`lines_read`): the total and the per-file
            // counts agree.
            counts.lines += 1
            return 1
        case .joined:
            return 0
        case .filtered:
            counts.lines += 1
            counts.filtered = (counts.filtered ?? 0) + 1
            return 1
        case .invalidEnvelope(let reason, let format, let line, let offset, _):
            counts.lines += 1
            try reject(
                "invalid_envelope", "\(reason) (the file is read as format \"\(format.rawValue)\")", input,
                offset: offset, mapping: nil, line: line)
            return 1
        case .joinedTooLong(let sample, let length, let runStart, let pieces, _, let offset, _):
            counts.lines += 1
            try reject(
                "line_too_long",
                "line joined from \(pieces) partial pieces starting at byte \(runStart) is \(length) bytes, "
                    + "the limit is \(input.maxLineBytes)", input, offset: offset, mapping: nil, line: sample,
                truncated: true, length: length)
            return 1
        case .incomplete(let run):
            try reject(
                "incomplete_line",
                "a partial \(run.stream.name) line (\(run.pieces) pieces, \(run.length) bytes) never got its last "
                    + "piece before the end of the file", input, offset: run.start, mapping: nil, line: run.content,
                truncated: run.truncated, length: run.length)
            return 0
        }
    }

    /// Maps one application line into rows (or rejects it).
    private func handle(_ line: FramedLine, _ input: ExportInput, context base: RecordContext) throws(ExportError) {
        let bytes = line.bytes
        let offset = line.offset
        counts.lines += 1
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            let utf8 = error.message.contains("UTF-8")
            try reject(
                utf8 ? "invalid_utf8" : "malformed_json", "\(utf8 ? "invalid UTF-8" : "not valid JSON"): \(error)",
                input, offset: offset, mapping: nil, line: Array(bytes))
            return
        }
        var context = base
        context.offset = offset
        if context.meta != nil, let s = line.stream {
            context.meta!.stream = s.name
            context.meta!.time = line.time.map { String(decoding: $0, as: UTF8.self) }
        }
        let results = mapper.apply(value, context: context)
        if results.isEmpty {
            if mappings.unmatched == .deadLetter {
                try reject("unmatched", "no mapping matched", input, offset: offset, mapping: nil, line: Array(bytes))
            } else {
                counts.unmatched += 1
            }
            return
        }
        for result in results {
            switch result {
            case .failure(let mapping, let failure):
                try reject(
                    failure.kind == .limit ? "limit_exceeded" : "mapping_failed", failure.description, input,
                    offset: offset, mapping: mapping, line: Array(bytes))
            case .record(let mapping, let record):
                let digits = mapper.eventValueText(value, mapping: mapping).map(Self.decimalDigits)
                if let problem = try write(record, eventValue: digits) {
                    try reject(
                        problem.kind, problem.reason, input, offset: offset, mapping: mapping, line: Array(bytes))
                }
            }
        }
    }

    // MARK: Rows

    /// Writes `record` as a row; returns why it cannot be one instead (a bulk import needs the user and item).
    /// `eventValue` is the log's own digits of the event's value (``decimalDigits(_:)``), when known.
    private func write(_ record: Record, eventValue: String? = nil) throws(ExportError) -> (
        kind: String, reason: String
    )? {
        if let time = record.time {
            if let since = options.since, time < since {
                counts.outsideTimeRange += 1
                return nil
            }
            if let until = options.until, time >= until {
                counts.outsideTimeRange += 1
                return nil
            }
        }
        let kind: String
        let destination: String
        let fields: [String]
        let columns: [String]
        switch record {
        case .event(let trackingId, let userId, _, let e):
            guard let userId else {
                return (
                    "missing_user_id", "USER_ID: an Interactions dataset import needs a user id; the event has none"
                )
            }
            guard let itemId = e.itemId else {
                return (
                    "missing_item_id", "ITEM_ID: an Interactions dataset import needs an item id; the event has none"
                )
            }
            kind = "interactions"
            destination = trackingId
            var f = [
                userId, itemId, String(e.sentAt.epochSeconds), e.eventType,
                e.eventValue.map { eventValue ?? JSONNumber($0).literal } ?? "",
                (e.impression ?? []).joined(separator: "|"),
            ]
            f += Self.values(e.properties, interactionColumns)
            fields = f
            columns = Self.interactionFixed + interactionColumns.map(\.column)
            noteTime(e.sentAt)
        case .actionInteraction(let trackingId, let a):
            guard let userId = a.userId else {
                return (
                    "missing_user_id",
                    "USER_ID: an Action interactions dataset import needs a user id; the record has none"
                )
            }
            kind = "action_interactions"
            destination = trackingId
            fields =
                [
                    userId, a.actionId, String(a.timestamp.epochSeconds), a.eventType,
                    (a.impression ?? []).joined(separator: "|"),
                ] + Self.values(a.properties, actionInteractionColumns)
            columns = Self.actionInteractionFixed + actionInteractionColumns.map(\.column)
            noteTime(a.timestamp)
        case .item(let arn, let item):
            kind = "items"
            destination = arn
            fields = [item.itemId] + Self.values(item.properties, itemColumns)
            columns = ["ITEM_ID"] + itemColumns.map(\.column)
        case .user(let arn, let user):
            kind = "users"
            destination = arn
            fields = [user.userId] + Self.values(user.properties, userColumns)
            columns = ["USER_ID"] + userColumns.map(\.column)
        case .action(let arn, let action):
            kind = "actions"
            destination = arn
            fields = [action.actionId] + Self.values(action.properties, actionColumns)
            columns = ["ACTION_ID"] + actionColumns.map(\.column)
        }
        try writer(kind: kind, destination: destination, columns: columns).write(CSV.row(fields))
        readiness.note(kind: kind, columns: columns, fields: fields, fixed: Self.fixedColumns[kind] ?? 1)
        counts.rows[kind, default: 0] += 1
        return nil
    }

    private func noteTime(_ t: Timestamp) {
        let s = t.epochSeconds
        firstTime = min(firstTime ?? s, s)
        lastTime = max(lastTime ?? s, s)
    }

    private func writer(kind: String, destination: String, columns: [String]) -> RollingCSV {
        let key = kind + "\u{0}" + destination
        if let w = writers[key] { return w }
        let n = destinationsPerKind[kind, default: 0] + 1
        destinationsPerKind[kind] = n
        let base = n == 1 ? kind : "\(kind)-dataset\(n)"
        let w = RollingCSV(
            directory: options.outputDirectory, base: base, kind: kind,
            destination: destination, columns: columns, maxBytes: options.maxFileBytes,
            open: storage.map { storage in { name in try storage.create(name: name, folder: base) } })
        writers[key] = w
        writerOrder.append(w)
        return w
    }

    /// The properties string's values for `columns`, in order: strings as they are, numbers by their digits,
    /// booleans as `true`/`false`, lists joined with `|`; absent ones empty.
    static func values(_ properties: String?, _ columns: [(key: String, column: String)]) -> [String] {
        guard !columns.isEmpty else { return [] }
        guard let properties, case .object(let object)? = try? JSONParser.parse(properties) else {
            return Array(repeating: "", count: columns.count)
        }
        return columns.map { text(object[$0.key]) }
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let s)?: s
        case .number(let n)?: n.literal
        case .bool(let b)?: b ? "true" : "false"
        case .array(let list)?: list.map { text($0) }.filter { !$0.isEmpty }.joined(separator: "|")
        case .object(let o)?: JSONValue.object(o).serialized
        case .null?, nil: ""
        }
    }

    // MARK: Rejected

    private func reject(
        _ kind: String, _ reason: String, _ input: ExportInput, offset: UInt64, mapping: String?, line: [UInt8]?,
        truncated: Bool = false, length: UInt64? = nil
    ) throws(ExportError) {
        counts.rejected[kind, default: 0] += 1
        var members: [JSONObject.Member] = [
            .init(key: "kind", value: .string(kind)),
            .init(key: "reason", value: .string(reason)),
            .init(key: "source", value: .string(input.sourceName)),
            .init(key: "path", value: .string(input.path)),
            .init(key: "offset", value: .number(JSONNumber(literal: String(offset)))),
        ]
        if let mapping { members.append(.init(key: "mapping", value: .string(mapping))) }
        if let line {
            if let text = String(validating: line, as: UTF8.self) {
                members.append(.init(key: "line", value: .string(text)))
            } else {
                members.append(.init(key: "lineBase64", value: .string(Data(line).base64EncodedString())))
            }
            if truncated {
                members.append(.init(key: "lineTruncated", value: .bool(true)))
                if let length {
                    members.append(.init(key: "lineLength", value: .number(JSONNumber(literal: String(length)))))
                }
            }
        }
        try rejectedSink?.write(Array(JSONValue.object(JSONObject(members)).serialized.utf8) + [0x0A])
    }
}
