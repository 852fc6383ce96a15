import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The standard `process_*` metrics of the Prometheus client libraries: resident memory, CPU time, open file
/// descriptors and start time, read from `/proc` (Linux) when `/metrics` or the textfile is rendered.
public struct ProcessMetrics: Sendable, Equatable {
    public var residentMemoryBytes: Double
    public var cpuSeconds: Double
    public var openFDs: Int
    public var maxFDs: Int?
    public var startTimeSeconds: Double

    /// The figures of this process now; nil where `/proc` is not available.
    public static func current() -> ProcessMetrics? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, which may hold spaces: state is field 3 (index 0 here).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 22, let utime = Double(fields[11]), let stime = Double(fields[12]),
            let startTicks = Double(fields[19]), let rssPages = Double(fields[21])
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        var bootTime = 0.0
        if let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") })
        {
            bootTime = Double(line.dropFirst(6)) ?? 0
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        var limit = rlimit()
        let maxFDs = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : nil
        return ProcessMetrics(
            residentMemoryBytes: rssPages * page, cpuSeconds: (utime + stime) / ticks, openFDs: max(0, fds - 1),
            maxFDs: maxFDs, startTimeSeconds: bootTime + startTicks / ticks)
    }

    func render(into out: inout Exposition) {
        let f = PrometheusText.format
        out.unprefixed(
            "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", f(residentMemoryBytes))
        out.unprefixed("process_cpu_seconds_total", "counter", "User and system CPU time in seconds.", f(cpuSeconds))
        out.unprefixed("process_open_fds", "gauge", "Open file descriptors.", String(openFDs))
        if let maxFDs { out.unprefixed("process_max_fds", "gauge", "Limit of open file descriptors.", String(maxFDs)) }
        out.unprefixed(
            "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.",
            f(startTimeSeconds))
    }
}
