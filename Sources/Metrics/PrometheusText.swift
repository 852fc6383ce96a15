import Engine
import PersonalizeClient
import PersonalizeModel

/// Renders a ``MetricsSnapshot`` in the Prometheus text exposition format 0.0.4: what `/metrics` serves and what
/// the node-exporter textfile holds.
///
/// Every family has its `# HELP` and `# TYPE` lines; counters end in `_total`; label values are escaped. Labelled
/// families with a known label set (dead letters by reason, requests by operation and outcome) list every
/// combination, at 0 when nothing happened, so rates and alerts work from the first scrape. Labels carry file paths
/// and source names only, never anything read from a line.
public enum PrometheusText {
    /// The `Content-Type` of the format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    public static let prefix = "personalize_tail_"
    /// The outcomes the engine counts per operation.
    public static let outcomes = ["accepted", "rejected", "throttled", "failed", "connection_error"]
    /// File series shown at most (those furthest behind first); per-source totals cover the rest, so rotated file
    /// names cannot grow the number of series without bound.
    public static let maxFileSeries = 100

    public static func render(_ m: MetricsSnapshot, process: ProcessMetrics? = .current()) -> String {
        var out = Exposition()
        let s = m.stats
        out.family("build_info", "gauge", "Always 1; the labels name the build.")
        out.sample("build_info", [("version", BuildInfo.version), ("commit", BuildInfo.commit)], 1)

        // MARK: Reading and mapping
        out.counter("lines_read_total", "Lines read from the followed files.", s.linesRead)
        out.counter("empty_lines_total", "Empty lines read (ignored).", s.emptyLines)
        out.counter("bytes_read_total", "Bytes read from the followed files (compressed bytes for gzip).", s.bytesRead)
        out.counter("files_opened_total", "Files opened for reading.", s.filesOpened)
        out.counter("records_mapped_total", "Records produced by the mappings.", s.recordsMapped)
        out.counter("records_sent_total", "Records acknowledged by Amazon Personalize.", s.recordsSent)
        out.counter("records_skipped_total", "Lines no mapping wanted (unmatched: skip).", s.skipped)

        out.family("records_dead_lettered_total", "counter", "Records written to the dead-letter file, by reason.")
        var reasons = DeadLetterKind.allCases.map(\.rawValue)
        reasons += s.deadLettered.keys.filter { !reasons.contains($0) }.sorted()
        for reason in reasons {
            out.sample("records_dead_lettered_total", [("reason", reason)], s.deadLettered[reason] ?? 0)
        }

        // MARK: Requests
        out.family(
            "requests_total", "counter",
            "Requests by operation and outcome (accepted, rejected as invalid, throttled, failed and retried).")
        var operations = PersonalizeModel.Operation.allCases.map(\.rawValue)
        operations += m.requestsByOutcome.keys.filter { !operations.contains($0) }.sorted()
        for operation in operations {
            let counts = m.requestsByOutcome[operation] ?? [:]
            var outcomes = Self.outcomes
            outcomes += counts.keys.filter { !outcomes.contains($0) }.sorted()
            for outcome in outcomes {
                out.sample("requests_total", [("operation", operation), ("outcome", outcome)], counts[outcome] ?? 0)
            }
        }
        out.counter("request_attempts_total", "HTTP requests made, retries included.", s.requests)
        out.counter("retries_total", "Requests repeated after a retryable error.", s.retries)
        out.counter("throttles_total", "Requests the service throttled.", s.throttles)
        out.counter(
            "connection_errors_total", "Attempts that got no answer (refused, reset, timed out).", s.connectionErrors)
        out.family("request_duration_seconds", "histogram", "Time from sending a request to its answer, per attempt.")
        var seen = 0
        let latency = m.latency ?? (Array(repeating: 0, count: DeliveryHealth.latencyBounds.count + 1), 0)
        for (i, bound) in DeliveryHealth.latencyBounds.enumerated() {
            seen += i < latency.buckets.count ? latency.buckets[i] : 0
            out.sample("request_duration_seconds_bucket", [("le", format(bound))], seen)
        }
        let attempts = latency.buckets.reduce(0, +)
        out.sample("request_duration_seconds_bucket", [("le", "+Inf")], attempts)
        out.sample("request_duration_seconds_sum", [], latency.sum)
        out.sample("request_duration_seconds_count", [], attempts)

        out.family("batch_size", "histogram", "Records per request.")
        var cumulative = 0
        var sum = 0
        for size in 1...10 {
            let n = size < m.batchSizes.count ? m.batchSizes[size] : 0
            cumulative += n
            sum += n * size
            out.sample("batch_size_bucket", [("le", String(size))], cumulative)
        }
        out.sample("batch_size_bucket", [("le", "+Inf")], cumulative)
        out.sample("batch_size_sum", [], sum)
        out.sample("batch_size_count", [], cumulative)

        out.gauge("in_flight_requests", "Requests waiting for an answer.", m.inFlightRequests)
        out.gauge("pending_records", "Records read but not yet resolved (batched or in flight).", m.pendingRecords)

        // MARK: Files
        let all = Self.mergedFiles(m.files)
        let files = all.count <= maxFileSeries ? all : Array(all.sorted { $0.lag > $1.lag }.prefix(maxFileSeries))
        out.gauge("files_tracked", "Files being read or followed (file_* series show at most 100 of them).", all.count)
        out.gauge(
            "checkpoints_tracked",
            "Files the checkpoints remember (until unlisted for state.forgetMissingFilesAfterSeconds).",
            m.checkpointEntries)
        out.counter(
            "checkpoints_forgotten_total", "Checkpoints of files no longer listed that were forgotten.",
            s.checkpointsForgotten)
        var bySource: [String: UInt64] = [:]
        for f in m.files { bySource[f.source, default: 0] += f.lag }
        out.family("source_lag_bytes", "gauge", "Bytes not read yet, summed over the files of a source.")
        for (source, lag) in bySource.sorted(by: { $0.key < $1.key }) {
            out.sample("source_lag_bytes", [("source", source)], lag)
        }
        out.family("file_lag_bytes", "gauge", "Bytes of the file not read yet (compressed bytes for gzip).")
        for f in files { out.sample("file_lag_bytes", f.labels, f.lag) }
        out.family("file_offset_bytes", "gauge", "Offset up to which every line is resolved (decompressed for gzip).")
        for f in files { out.sample("file_offset_bytes", f.labels, f.offset) }
        out.family("file_size_bytes", "gauge", "Size of the file (compressed for gzip).")
        for f in files { out.sample("file_size_bytes", f.labels, f.size) }

        // MARK: State
        out.family(
            "last_delivery_timestamp_seconds", "gauge",
            "Unix time of the last request the service accepted (absent before the first).")
        if let t = m.lastDeliveryTime { out.sample("last_delivery_timestamp_seconds", [], t) }
        out.family(
            "failing_since_timestamp_seconds", "gauge",
            "Unix time delivery started failing, with no success since (absent while delivery works).")
        if let t = m.failingSince { out.sample("failing_since_timestamp_seconds", [], t) }
        out.gauge("ready", "1 once configured and able to sign requests.", m.ready ? 1 : 0)
        out.gauge("stopping", "1 while the agent drains before exiting.", m.stopping ? 1 : 0)
        out.gauge(
            "fatal", "1 when the agent stopped on an answer only a configuration change fixes.", m.fatal == nil ? 0 : 1)
        if let process { process.render(into: &out) }
        return out.text
    }

    /// One series per (path, source): a path can briefly belong to two files around a rotation; their lag adds up
    /// and the newest file's offset and size are shown.
    static func mergedFiles(_ files: [MetricsSnapshot.FileState]) -> [(
        labels: [(String, String)], lag: UInt64, offset: UInt64, size: UInt64
    )] {
        var order: [String] = []
        var merged: [String: (labels: [(String, String)], lag: UInt64, offset: UInt64, size: UInt64)] = [:]
        for f in files {
            let key = f.source + "\u{0}" + f.path
            if let existing = merged[key] {
                merged[key] = (existing.labels, existing.lag + f.lag, f.offset, f.size)
            } else {
                order.append(key)
                merged[key] = ([("path", f.path), ("source", f.source)], f.lag, f.offset, f.size)
            }
        }
        return order.map { merged[$0]! }
    }

    /// A label value with `\`, `"` and newlines escaped, as the format requires.
    public static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A sample value: integers as integers, the special values as the format spells them.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// Accumulates the text of one exposition.
struct Exposition {
    var text = ""

    init() {
        text.reserveCapacity(8 * 1024)
    }

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(PrometheusText.prefix)\(name) \(help)\n# TYPE \(PrometheusText.prefix)\(name) \(type)\n"
    }

    /// A family without the agent's prefix (the standard `process_*` ones), with its one sample.
    mutating func unprefixed(_ name: String, _ type: String, _ help: String, _ value: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
    }

    mutating func counter(_ name: String, _ help: String, _ value: some BinaryInteger) {
        family(name, "counter", help)
        sample(name, [], value)
    }

    mutating func gauge(_ name: String, _ help: String, _ value: some BinaryInteger) {
        family(name, "gauge", help)
        sample(name, [], value)
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: some BinaryInteger) {
        line(name, labels, String(value))
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        line(name, labels, PrometheusText.format(value))
    }

    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += PrometheusText.prefix
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (key, labelValue)) in labels.enumerated() {
                if i > 0 { text += "," }
                text += key
                text += "=\""
                text += PrometheusText.escapeLabelValue(labelValue)
                text += "\""
            }
            text += "}"
        }
        text += " "
        text += value
        text += "\n"
    }
}
