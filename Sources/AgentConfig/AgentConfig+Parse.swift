import Foundation
import JSON
import Mapping
import PersonalizeModel
import Tailing

extension AgentConfig {
    /// Reads and checks `path`. Every problem is reported at once, each with its key's JSON path.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> AgentConfig
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(issues: [ConfigIssue(path: "", message: "cannot read \(path); check the --config path")])
        }
        var document: JSONValue
        do {
            document = try JSONParser.parse(Array(data))
        } catch {
            let (line, column) = Self.position(of: error.offset, in: Array(data))
            throw ConfigError(issues: [
                ConfigIssue(
                    path: "", message: "\(path) is not valid JSON: \(error.message) (line \(line), column \(column))")
            ])
        }
        let (interpolated, issues) = ConfigInterpolation.apply(document, environment: environment)
        if !issues.isEmpty { throw ConfigError(issues: issues) }
        document = interpolated
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let base = (absolute as NSString).deletingLastPathComponent
        return try parse(document, baseDirectory: base, environment: environment)
    }

    static func position(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        var line = 1
        var column = 1
        for b in bytes.prefix(offset) {
            if b == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    public static func parse(_ document: JSONValue, baseDirectory: String, environment: [String: String] = [:])
        throws(ConfigError) -> AgentConfig
    {
        let reader = ConfigReader()
        guard let root = reader.object(document, at: "") else { throw ConfigError(issues: reader.issues) }

        let aws = parseAWS(root.object("aws"), base: baseDirectory)
        let state = parseState(root.object("state"), reader: reader, base: baseDirectory, environment: environment)
        var deadLetterPath = state.directory + "/dead-letter.jsonl"
        if let dl = root.object("deadLetter") {
            if let p = dl.string("path", required: true) { deadLetterPath = resolve(p, base: baseDirectory) }
            dl.finish()
        }
        let sources = parseSources(root, reader: reader, base: baseDirectory)
        let unmatched = UnmatchedPolicy.parse(root.value("unmatched"), reader: reader)
        let mappings = MappingSet.parse(
            root.value("mappings"), reader: reader, path: "mappings", sourceNames: sources.map(\.name),
            unmatched: unmatched)
        var batching = BatchingSettings()
        if let b = root.object("batching") {
            batching.maxWaitMillis = b.int("maxWaitMillis", min: 0, max: 60_000) ?? batching.maxWaitMillis
            batching.maxPendingRecords =
                b.int("maxPendingRecords", min: 10, max: 10_000_000) ?? batching.maxPendingRecords
            b.finish()
        }
        var follow = FollowSettings()
        if let f = root.object("follow") {
            follow.pollIntervalMillis = f.int("pollIntervalMillis", min: 10, max: 600_000) ?? follow.pollIntervalMillis
            follow.rescanIntervalMillis =
                f.int("rescanIntervalMillis", min: 100, max: 3_600_000) ?? follow.rescanIntervalMillis
            follow.shutdownTimeoutSeconds = f.double("shutdownTimeoutSeconds", min: 0) ?? follow.shutdownTimeoutSeconds
            follow.maxOpenFiles = f.int("maxOpenFiles", min: 4, max: 1_000_000) ?? follow.maxOpenFiles
            follow.incompleteGzipSeconds = f.double("incompleteGzipSeconds", min: 0.1) ?? follow.incompleteGzipSeconds
            f.finish()
        }
        var metrics = MetricsSettings()
        if let m = root.object("metrics") {
            metrics.listen = m.string("listen")
            if let listen = metrics.listen, listen.split(separator: ":").last.flatMap({ Int($0) }) == nil {
                reader.report(m.path("listen"), "must be host:port, such as 127.0.0.1:9464 or 0.0.0.0:9464")
            }
            metrics.textfile = m.string("textfile").map { resolve($0, base: baseDirectory) }
            metrics.unhealthyAfterSeconds = m.double("unhealthyAfterSeconds", min: 1) ?? metrics.unhealthyAfterSeconds
            m.finish()
        }
        var importSettings = ImportSettings()
        if let i = root.object("import") {
            importSettings.roleArn = i.string("roleArn")
            if let role = importSettings.roleArn, !ImportSettings.isRoleArn(role) {
                reader.report(
                    i.path("roleArn"),
                    "must be an IAM role ARN such as arn:aws:iam::123456789012:role/PersonalizeS3Access")
            }
            if let d = i.object("datasets") {
                for member in d.object.members {
                    guard let arn = d.string(member.key) else { continue }
                    if ImportSettings.isDatasetArn(arn) {
                        importSettings.datasets[member.key] = arn
                    } else {
                        reader.report(
                            d.path(member.key),
                            "must be a dataset ARN such as arn:aws:personalize:us-east-1:123456789012:dataset/shop/INTERACTIONS"
                        )
                    }
                }
                d.finish()
            }
            i.finish()
        }
        root.finish(["$schema", "comment"])
        try reader.throwIfIssues()
        var config = AgentConfig(
            aws: aws, state: state, deadLetter: DeadLetterSettings(path: deadLetterPath), sources: sources,
            mappings: mappings, batching: batching, follow: follow, metrics: metrics, baseDirectory: baseDirectory)
        config.importSettings = importSettings
        return config
    }

    static func resolve(_ path: String, base: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] {
            return home + path.dropFirst()
        }
        let trimmed = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return base == "." || base.isEmpty ? trimmed : base + "/" + trimmed
    }

    private static func parseAWS(_ o: ConfigReader.ObjectReader?, base: String) -> AWSSettings {
        var aws = AWSSettings()
        guard let o else { return aws }
        aws.region = o.string("region")
        if let problem = RegionCheck.problem(aws.region) { o.reader.report(o.path("region"), problem) }
        aws.endpoint = o.string("endpoint")
        if let e = aws.endpoint, !(e.hasPrefix("https://") || e.hasPrefix("http://")) {
            o.reader.report(
                o.path("endpoint"), "must be an http(s) URL such as https://personalize-events.us-east-1.amazonaws.com")
        }
        aws.profile = o.string("profile")
        aws.maxAttempts = o.int("maxAttempts", min: 0) ?? 0
        aws.retryDeadlineSeconds = o.double("retryDeadlineSeconds", min: 0)
        aws.catchUpStallTimeoutSeconds =
            o.double("catchUpStallTimeoutSeconds", min: 0) ?? aws.catchUpStallTimeoutSeconds
        aws.requestTimeoutSeconds = o.double("requestTimeoutSeconds", min: 1) ?? aws.requestTimeoutSeconds
        aws.maxConcurrentRequests = o.int("maxConcurrentRequests", min: 1, max: 1024) ?? aws.maxConcurrentRequests
        aws.connectTimeoutSeconds = o.double("connectTimeoutSeconds", min: 0.1) ?? aws.connectTimeoutSeconds
        if let limits = o.object("rateLimits") {
            for member in limits.object {
                guard let operation = Operation(rawValue: member.key) else {
                    o.reader.report(
                        limits.path(member.key),
                        "unknown operation; use one of \(Operation.allCases.map(\.rawValue).joined(separator: ", "))")
                    _ = limits.value(member.key)
                    continue
                }
                if let rate = limits.double(member.key, min: 0) { aws.rateLimits[operation] = rate }
            }
            limits.finish()
        }
        aws.maxRequestsPerSecond = o.double("maxRequestsPerSecond", min: 0) ?? 0
        aws.adaptive = o.bool("adaptive") ?? true
        aws.caBundle = o.string("caBundle").map { resolve($0, base: base) }
        aws.useFIPS = o.bool("useFIPS")
        aws.useDualStack = o.bool("useDualStack")
        o.finish()
        return aws
    }

    private static func parseState(
        _ o: ConfigReader.ObjectReader?, reader: ConfigReader, base: String, environment: [String: String]
    ) -> StateSettings {
        var state = StateSettings(directory: defaultStateDirectory(environment: environment))
        guard let o else { return state }
        if let d = o.string("directory", required: true) { state.directory = resolve(d, base: base) }
        state.flushIntervalMillis = o.int("flushIntervalMillis", min: 50, max: 600_000) ?? state.flushIntervalMillis
        state.forgetMissingFilesAfterSeconds =
            o.int("forgetMissingFilesAfterSeconds", min: 0, max: 10 * 366 * 86_400)
            ?? state.forgetMissingFilesAfterSeconds
        o.finish()
        return state
    }

    /// `/var/lib/personalize-tail` for root, else `$XDG_STATE_HOME/personalize-tail` or
    /// `~/.local/state/personalize-tail`: somewhere that survives a reboot, unlike `/run` or `/tmp`.
    public static func defaultStateDirectory(environment: [String: String]) -> String {
        // systemd's StateDirectory= (the first of a colon-separated list).
        if let dir = environment["STATE_DIRECTORY"]?.split(separator: ":").first, !dir.isEmpty { return String(dir) }
        if getuid() == 0 { return "/var/lib/personalize-tail" }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/personalize-tail" }
        return (environment["HOME"] ?? ".") + "/.local/state/personalize-tail"
    }

    private static func parseSources(_ root: ConfigReader.ObjectReader, reader: ConfigReader, base: String)
        -> [SourceConfig]
    {
        guard let list = root.array("sources") else {
            reader.report("sources", "is required: a list of {\"name\", \"paths\"} naming the log files to read")
            return []
        }
        if list.isEmpty { reader.report("sources", "must name at least one source") }
        var sources: [SourceConfig] = []
        var names = Set<String>()
        for (i, entry) in list.enumerated() {
            let path = ConfigReader.index("sources", i)
            guard let o = reader.object(entry, at: path) else { continue }
            let name = o.string("name") ?? "source\(i + 1)"
            if !names.insert(name).inserted {
                reader.report(o.path("name"), "\"\(name)\" is used by another source; names must be unique")
            }
            let paths = o.strings("paths") ?? []
            if paths.isEmpty {
                reader.report(o.path("paths"), "is required: one or more glob patterns such as /var/log/app/*.jsonl")
            }
            for (j, p) in paths.enumerated() where p.isEmpty {
                reader.report(ConfigReader.index(o.path("paths"), j), "must not be empty")
            }
            let exclude = o.strings("exclude") ?? []
            let format =
                o.choice("format", SourceConfig.Format.allCases.map(\.rawValue))
                .flatMap { SourceConfig.Format(rawValue: $0) } ?? .auto
            let maxLine = o.int("maxLineBytes", min: 64, max: 64 << 20) ?? (1 << 20)
            let streams = parseStreams(o, format: format)
            o.finish()
            var source = SourceConfig(
                name: name, paths: paths.map { resolve($0, base: base) },
                exclude: exclude.map { $0.contains("/") ? resolve($0, base: base) : $0 },
                format: format, maxLineBytes: maxLine)
            if let streams { source.streams = streams }
            sources.append(source)
        }
        return sources
    }

    /// `streams`: which container streams a source reads (`["stdout"]`); only for formats that can be container logs.
    private static func parseStreams(_ o: ConfigReader.ObjectReader, format: SourceConfig.Format) -> Set<
        ContainerStream
    >? {
        guard let names = o.strings("streams") else { return nil }
        let path = o.path("streams")
        if format == .jsonl || format == .gzip {
            o.reader.report(
                path, "applies only to container logs; set format to \"cri\", \"docker\" or \"auto\", or remove it")
        }
        if names.isEmpty { o.reader.report(path, "must name at least one stream: \"stdout\", \"stderr\"") }
        var streams = Set<ContainerStream>()
        for (i, name) in names.enumerated() {
            guard let stream = ContainerStream.allCases.first(where: { $0.name == name }) else {
                o.reader.report(ConfigReader.index(path, i), "unknown stream \"\(name)\"; use \"stdout\" or \"stderr\"")
                continue
            }
            streams.insert(stream)
        }
        return streams
    }
}
