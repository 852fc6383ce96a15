import JSON
import Mapping
import PersonalizeModel
import Tailing

/// Everything `config.json` says, decoded once and checked at start-up.
public struct AgentConfig: Sendable {
    public var aws: AWSSettings
    public var state: StateSettings
    public var deadLetter: DeadLetterSettings
    public var sources: [SourceConfig]
    public var mappings: MappingSet
    public var unmatched: UnmatchedPolicy { mappings.unmatched }
    public var batching: BatchingSettings
    public var follow: FollowSettings
    public var metrics: MetricsSettings
    /// The directory relative paths in the file are resolved against (the config file's own directory).
    public var baseDirectory: String
    /// `import`: what `personalize-tail import` needs beyond the export's manifest.
    public var importSettings = ImportSettings()
}

/// The `import` section: the IAM role Personalize assumes to read the bucket, and dataset ARNs by kind or folder.
public struct ImportSettings: Sendable {
    public var roleArn: String?
    /// `interactions`, `items`, ... or a folder name such as `interactions-dataset2` -> dataset ARN.
    public var datasets: [String: String] = [:]

    public init(roleArn: String? = nil, datasets: [String: String] = [:]) {
        self.roleArn = roleArn
        self.datasets = datasets
    }

    /// The role ARN pattern of Personalize's model (`RoleArn`), matched whole.
    public static func isRoleArn(_ text: String) -> Bool {
        text.count <= 256
            && text.range(
                of: #"^arn:[a-z0-9-]+:iam::[0-9]{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"#, options: .regularExpression)
                != nil
    }

    /// The dataset ARN pattern of Personalize's model (`Arn`), matched whole, naming a dataset.
    public static func isDatasetArn(_ text: String) -> Bool {
        text.count <= 256
            && text.range(of: #"^arn:[a-z0-9-]+:personalize:[^:\n]*:[^:\n]*:dataset/.+$"#, options: .regularExpression)
                != nil
    }
}

public struct AWSSettings: Sendable {
    /// `nil`: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
    public var region: String?
    /// `nil`: `AWS_ENDPOINT_URL_PERSONALIZE_EVENTS`, `AWS_ENDPOINT_URL`, then the regional endpoint.
    public var endpoint: String?
    /// `nil`: `AWS_PROFILE`, then `default`.
    public var profile: String?
    /// Attempts per request including the first; 0 = retry retryable errors forever.
    public var maxAttempts: Int = 0
    /// Stop retrying one request after this many seconds; then its records are dead-lettered.
    public var retryDeadlineSeconds: Double?
    /// A catch-up run (`--once`) stops (exit 4, resumed next time) when records wait this long and nothing is
    /// acknowledged; 0 = wait forever. Follow mode keeps retrying.
    public var catchUpStallTimeoutSeconds: Double = 600
    public var requestTimeoutSeconds: Double = 30
    public var connectTimeoutSeconds: Double = 10
    public var maxConcurrentRequests: Int = 32
    /// Requests per second per operation and destination, over the service quotas (PutEvents 1000, PutItems and
    /// PutUsers 10, ...); 0 = unlimited.
    public var rateLimits: [Operation: Double] = [:]
    /// A cap on all requests per second (`--max-rps` overrides it); 0 = none.
    public var maxRequestsPerSecond: Double = 0
    /// Slow down when throttled and recover afterwards, as the SDKs' adaptive retry mode.
    public var adaptive = true
    /// A PEM file of extra trusted CAs (`AWS_CA_BUNDLE` otherwise).
    public var caBundle: String?
    /// FIPS / dual-stack endpoints (`AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`, profile settings otherwise).
    public var useFIPS: Bool?
    public var useDualStack: Bool?
}

public struct StateSettings: Sendable {
    public var directory: String
    /// How often checkpoints are written while running.
    public var flushIntervalMillis: Int = 1000
    /// How long a file's checkpoint is kept after no scan lists the file any more (0: kept for ever).
    public var forgetMissingFilesAfterSeconds: Int = 86_400
}

public struct DeadLetterSettings: Sendable {
    public var path: String
}

public struct SourceConfig: Sendable {
    /// `auto` tells gzip by its magic bytes and container runtime logs (`cri`, `docker`) by their first line.
    public enum Format: String, Sendable, CaseIterable { case auto, jsonl, gzip, cri, docker }

    public var name: String
    public var paths: [String]
    public var exclude: [String]
    public var format: Format
    public var maxLineBytes: Int
    /// The container streams read from runtime logs (`streams`); lines of the others are skipped.
    public var streams: Set<ContainerStream> = Set(ContainerStream.allCases)

    /// The source's globs, for ``FileDiscovery``.
    public var discovery: FileDiscovery.Source { FileDiscovery.Source(patterns: paths, exclude: exclude) }
}

public struct BatchingSettings: Sendable {
    /// How long a partial batch may wait for more records before it is sent.
    public var maxWaitMillis: Int = 100
    /// Records read but not yet resolved (batched or in flight) before reading pauses: the memory bound.
    public var maxPendingRecords: Int = 20_000
}

public struct FollowSettings: Sendable {
    /// How often followed files are checked for new data when no change notification arrives.
    public var pollIntervalMillis: Int = 250
    /// How often the globs are expanded again to find new files.
    public var rescanIntervalMillis: Int = 2000
    /// Readers open at once; idle followed files beyond it are closed and reopened when they grow.
    public var maxOpenFiles: Int = 512
    /// How long `run` waits for in-flight requests at shutdown before giving up on them (they are re-sent later).
    public var shutdownTimeoutSeconds: Double = 30
    /// A followed `.gz` that ends inside a gzip member and has not grown for this long is reported as truncated.
    public var incompleteGzipSeconds: Double = 60
}

public struct MetricsSettings: Sendable {
    /// `host:port` of the Prometheus `/metrics` and `/health` endpoint; `nil` = off.
    public var listen: String?
    /// A file written in the node-exporter textfile format (at exit, and every `flushIntervalMillis` while running).
    public var textfile: String?
    /// `/health` turns unhealthy when delivery has been failing for this long.
    public var unhealthyAfterSeconds: Double = 300
}
