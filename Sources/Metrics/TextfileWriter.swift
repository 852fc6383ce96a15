import AgentConfig
import Engine
import Logging
import ServiceLifecycle
import SystemIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes the metrics to `metrics.textfile` for node-exporter's textfile collector: the way catch-up runs (cron
/// jobs) report, since nothing scrapes a process that has exited.
///
/// Each write replaces the file atomically (write `<file>.tmp`, rename), so the collector never reads half a file;
/// the temporary name does not end in `.prom`, so the collector ignores it. Mode 0644: metrics hold no secrets.
public struct TextfileWriter: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Renders `snapshot` and replaces the file with it.
    public func write(_ snapshot: MetricsSnapshot) throws {
        try write(text: PrometheusText.render(snapshot))
    }

    public func write(text: String) throws {
        do throws(POSIXIO.ReplaceFailure) {
            try POSIXIO.replace(path, with: Array(text.utf8), mode: 0o644, durable: false)
        } catch {
            let what = error.step == .rename ? "replace" : error.step.rawValue
            throw Self.failure("cannot \(what) \(error.path)", code: error.errno)
        }
    }

    static func failure(_ what: String, code: Int32 = errno) -> StartupError {
        let reason = String(cString: strerror(code))
        return StartupError(
            status: .configuration,
            message: "metrics.textfile: \(what): \(reason); check that the directory exists and is writable")
    }
}

/// Rewrites the textfile every `interval` while the agent runs (the agent writes it once more at the end, from the
/// final snapshot).
package final class TextfileService: Service, Sendable {
    let writer: TextfileWriter
    let metrics: MetricsBox
    let interval: Duration
    let logger: Logger

    package init(writer: TextfileWriter, metrics: MetricsBox, interval: Duration, logger: Logger) {
        self.writer = writer
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        let writer = self.writer
        let metrics = self.metrics
        let interval = self.interval
        let logger = self.logger
        try? await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                do {
                    try writer.write(metrics.snapshot)
                    failing = false
                } catch {
                    // Once per failure streak: the file is a side channel, not worth stopping delivery for.
                    if !failing { logger.warning("cannot write the metrics textfile", metadata: ["error": "\(error)"]) }
                    failing = true
                }
            }
        }
    }
}
