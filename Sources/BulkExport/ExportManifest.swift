/// `manifest.json`: what an export wrote and read, for the upload script, the import jobs and the hand-over to the
/// live agent (each input's end offset, fingerprint and identity).
public struct ExportManifest: Sendable, Codable {
    public struct File: Sendable, Codable, Hashable {
        /// File name inside the output directory.
        public var name: String
        /// `interactions`, `items`, `users`, `actions` or `action_interactions`.
        public var kind: String
        /// The event tracker (interactions) or dataset ARN (items, users, actions) the rows were mapped for.
        public var destination: String
        public var columns: [String]
        /// Data rows (the header not counted).
        public var rows: Int
        public var bytes: Int
        /// The object's key when the export streamed to S3 (`prefix/interactions/interactions-00001.csv`: one
        /// folder per dataset, as a dataset import job reads every file of a folder), else `nil`.
        public var key: String?
        /// The uploaded object's ETag (S3 exports only).
        public var etag: String?
    }

    /// Where an export to S3 put its objects.
    public struct Upload: Sendable, Codable, Hashable {
        public var bucket: String
        /// The key prefix, empty or ending in `/`; `manifest.json` is `prefix + "manifest.json"`.
        public var prefix: String
        public var partSize: Int

        public init(bucket: String, prefix: String, partSize: Int) {
            self.bucket = bucket
            self.prefix = prefix
            self.partSize = partSize
        }
    }

    public struct Input: Sendable, Codable, Hashable {
        public var source: String
        public var path: String
        public var compressed: Bool
        /// The live agent's fingerprint of the file (hex digest of its first decompressed bytes, up to 1 KiB) and its length.
        public var fingerprint: String?
        public var fingerprintLength: Int?
        public var device: UInt64
        public var inode: UInt64
        /// Offset (decompressed) just past the last line exported or rejected: where a live agent should go on.
        public var endOffset: UInt64
        /// Bytes after `endOffset` that end no line (a plain file still being written), left for the live agent.
        public var unterminatedBytes: Int
        public var lines: Int
    }

    public struct TimeRange: Sendable, Codable, Hashable {
        public var first: Int64
        public var last: Int64
        public var firstISO: String
        public var lastISO: String
    }

    public struct Counts: Sendable, Codable, Hashable {
        /// Lines read (each complete line, over-long ones included).
        public var lines = 0
        /// Rows written, by kind.
        public var rows: [String: Int] = [:]
        /// Lines or records written to `rejected.jsonl`, by kind of problem.
        public var rejected: [String: Int] = [:]
        /// Lines no mapping matched (with `unmatched: skip`; with `deadLetter` they are rejected instead).
        public var unmatched = 0
        /// Interactions left out by `--since` / `--until`.
        public var outsideTimeRange = 0
        /// Container log lines of a stream the source does not read (`sources[].streams`); absent when none was.
        public var filtered: Int?
    }

    public var format = "personalize-bulk-csv"
    public var version = 1
    public var createdAt: String
    public var since: String?
    public var until: String?
    public var maxFileBytes: Int
    public var files: [File]
    public var inputs: [Input]
    public var counts: Counts
    /// Earliest and latest TIMESTAMP written (epoch seconds), `nil` when no interaction was exported.
    public var timeRange: TimeRange?
    public var warnings: [String]
    /// Set when the files were streamed to S3 (`export --to`); `nil` for a local export.
    public var upload: Upload?

    /// Everything rejected, summed.
    public var rejectedTotal: Int { counts.rejected.values.reduce(0, +) }
}
