import Foundation
import PersonalizeModel
import Tailing

/// How `personalize-tail export --format csv` writes the bulk-import files.
public struct ExportOptions: Sendable {
    /// Largest file a dataset import job takes in INCREMENTAL mode (1 GB); FULL imports take up to 100 GB per job
    /// in any number of files, so files of this size suit both.
    public static let defaultMaxFileBytes = 1_000_000_000

    /// Where the CSV files, `rejected.jsonl` and `manifest.json` go. Created if missing; it must hold no earlier
    /// export (a manifest or CSV files of ours), so that one upload prefix is one consistent export.
    public var outputDirectory: String
    /// A file is closed and the next one started before a row would make it larger than this (header included).
    /// A single row larger than the limit still gets a file of its own (and a warning).
    public var maxFileBytes: Int
    /// Interactions (events and action interactions) at or after this time only. Items, users and actions have no
    /// time and are always exported.
    public var since: Timestamp?
    /// Interactions strictly before this time only.
    public var until: Timestamp?
    /// The metadata columns of the interactions file, as schema names (`NUMBER_OF_RATINGS`) or property keys
    /// (`numberOfRatings`). `nil`: every property the event mappings can set, in configuration order.
    public var interactionMetadata: [String]?
    /// Also export the unterminated last line of a plain file (one still being written may be incomplete; by
    /// default it is left to the live agent, which reads it once it ends). A gzip file's last line is always taken.
    public var includeUnterminatedLines: Bool

    public init(
        outputDirectory: String, maxFileBytes: Int = ExportOptions.defaultMaxFileBytes, since: Timestamp? = nil,
        until: Timestamp? = nil, interactionMetadata: [String]? = nil, includeUnterminatedLines: Bool = false
    ) {
        self.outputDirectory = outputDirectory
        self.maxFileBytes = maxFileBytes
        self.since = since
        self.until = until
        self.interactionMetadata = interactionMetadata
        self.includeUnterminatedLines = includeUnterminatedLines
    }
}

/// One file to export and the configured source it belongs to (mappings' `sources` filter on the name).
public struct ExportInput: Sendable, Hashable {
    public var sourceName: String
    public var path: String
    public var maxLineBytes: Int
    /// Whether the file is a container runtime's log (`sources[].format`), and which of its streams are read.
    public var envelope: ReaderLoop.Envelope
    public var streams: Set<ContainerStream>

    public init(
        sourceName: String, path: String, maxLineBytes: Int = 1 << 20, envelope: ReaderLoop.Envelope = .none,
        streams: Set<ContainerStream> = Set(ContainerStream.allCases)
    ) {
        self.sourceName = sourceName
        self.path = path
        self.maxLineBytes = maxLineBytes
        self.envelope = envelope
        self.streams = streams
    }

    /// The regular files the globs of several sources name, found by ``FileDiscovery`` as the live agent finds
    /// them: `exclude` patterns without `/` match the file name, with `/` the whole path; a file named by two
    /// sources belongs to the first; sorted by path with numbers compared by value (`app.2.gz` before `app.10.gz`).
    public static func expand(
        _ sources: [(name: String, patterns: [String], exclude: [String], maxLineBytes: Int)]
    ) -> [ExportInput] {
        expand(
            sources.map { ($0.name, $0.patterns, $0.exclude, $0.maxLineBytes, .none, Set(ContainerStream.allCases)) })
    }

    /// As ``expand(_:)``, for sources that may be container runtime logs: each file is read as its source's
    /// `envelope` and `streams` say (``ReaderLoop``).
    public static func expand(
        _ sources: [(
            name: String, patterns: [String], exclude: [String], maxLineBytes: Int, envelope: ReaderLoop.Envelope,
            streams: Set<ContainerStream>
        )]
    ) -> [ExportInput] {
        let discovery = FileDiscovery(sources.map { FileDiscovery.Source(patterns: $0.patterns, exclude: $0.exclude) })
        return discovery.files().map { match in
            let source = sources[match.source]
            return ExportInput(
                sourceName: source.name, path: match.path, maxLineBytes: source.maxLineBytes,
                envelope: source.envelope, streams: source.streams)
        }
    }
}

/// Why an export could not run or stopped. Data problems are never errors: they go to `rejected.jsonl`.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reading `--since` / `--until`: ISO 8601 (`2024-01-15`, `2024-01-15T12:00:00Z`, with offsets and fractions) or
/// epoch seconds (`1705320000`, fractions allowed).
public enum ExportTime {
    public static func parse(_ text: String) -> Timestamp? {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { return nil }
        if s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") })
            || (s.first == "-" && s.dropFirst().allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }))
        {
            guard let seconds = Double(s), seconds.isFinite, abs(seconds) < 1e13 else { return nil }
            return Timestamp(epochMilliseconds: Int64((seconds * 1000).rounded(.down)))
        }
        let attempts: [ISO8601DateFormatter.Options] = [
            [.withInternetDateTime, .withFractionalSeconds],
            [.withInternetDateTime],
            [.withFullDate],
        ]
        for options in attempts {
            let f = ISO8601DateFormatter()
            f.formatOptions = options
            f.timeZone = TimeZone(identifier: "UTC")
            if let date = f.date(from: s) {
                return Timestamp(epochMilliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
            }
        }
        return nil
    }

    /// `2024-01-15T12:00:00Z`
    public static func iso(_ t: Timestamp) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: Double(t.epochSeconds)))
    }
}
