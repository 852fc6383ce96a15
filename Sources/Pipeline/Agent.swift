import AWSProviders
import AWSSigV4
import AgentConfig
import AsyncHTTPClient
import Checkpoints
import Engine
import Foundation
import Logging
import Metrics
import PersonalizeClient
import PersonalizeModel
import ServiceLifecycle
import Synchronization
import UnixSignals

/// How a command invocation wants the agent to run.
public struct RunOptions: Sendable {
    public var once = false
    public var dryRun = false
    public var waitLock = false
    /// A handle to stop the run, watch its metrics and learn the metrics port (embedding, tests).
    public var control: AgentControl?
    /// `--since` / `--until`: only records whose mapped time falls in [since, until) are sent.
    public var since: Timestamp?
    public var until: Timestamp?
    /// `--max-duration`: stop reading after this many seconds; the rest is read next time.
    public var maxDurationSeconds: Double?
    /// `--max-rps`: a cap on requests per second for this run (leaves quota to a live agent during a backfill).
    public var maxRequestsPerSecond: Double?
    public init(
        once: Bool = false, dryRun: Bool = false, waitLock: Bool = false, control: AgentControl? = nil,
        since: Timestamp? = nil, until: Timestamp? = nil, maxDurationSeconds: Double? = nil,
        maxRequestsPerSecond: Double? = nil
    ) {
        self.maxRequestsPerSecond = maxRequestsPerSecond
        self.once = once
        self.dryRun = dryRun
        self.waitLock = waitLock
        self.control = control
        self.since = since
        self.until = until
        self.maxDurationSeconds = maxDurationSeconds
    }
}

public struct RunReport: Sendable {
    public var outcome: Engine.Outcome
    public var stats: RunStats
    public var seconds: Double
    /// The final metrics (what `/metrics` and the textfile showed last).
    public var metrics: MetricsSnapshot
    /// The port the metrics endpoint was bound to, when `metrics.listen` was set.
    public var metricsPort: Int?
    /// A follow-mode run (stopped by a signal): a clean drain exits 0 even if records were dead-lettered on the way
    /// (they are in the metrics, the logs and the dead-letter file), so that `systemctl stop` is not a failure.
    public var follow = false

    public var exitStatus: ExitStatus {
        switch outcome {
        case .fatal: .configuration
        case .interrupted: .incomplete
        case .completed: stats.deadLetteredTotal > 0 && !follow ? .deadLettered : .delivered
        }
    }
}

/// Builds the parts from the configuration and runs the engine under a service group that turns SIGTERM and SIGINT
/// into a graceful stop.
public enum Agent {
    public static func run(
        config: AgentConfig, options: RunOptions, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) async throws -> RunReport {
        let started = ContinuousClock.now
        let metrics = options.control?.metrics ?? MetricsBox()
        let sender: any BatchSender
        var client: PersonalizeEventsClient?
        if options.dryRun {
            sender = DryRunSender()
        } else {
            let c = try makeClient(
                config: config, environment: environment, logger: logger,
                maxRequestsPerSecond: options.maxRequestsPerSecond)
            do {
                let keyId = try await c.checkCredentials()
                logger.info(
                    "credentials found",
                    metadata: ["aws.access_key_id": "\(keyId)", "endpoint": "\(c.configuration.endpoint)"])
            } catch {
                try? await c.shutdown()
                throw StartupError(status: .configuration, message: "\(error)")
            }
            client = c
            sender = ClientBatchSender(client: c)
        }
        // Configured and able to sign (a dry run signs nothing).
        metrics.update { $0.ready = true }
        let store = DiskCheckpointStore(directory: config.state.directory)
        var lock: StateLock?
        var deadLetterPath: String?
        if !options.dryRun {
            do {
                try AtomicFile.makeDirectory(config.state.directory)
                lock = try StateLock.acquire(directory: config.state.directory, wait: options.waitLock)
            } catch {
                try? await client?.shutdown()
                throw StartupError(status: error.isLocked ? .locked : .configuration, message: "\(error)")
            }
            if StateDirectory.isOnTmpfs(config.state.directory) {
                logger.warning(
                    "state.directory is on tmpfs: checkpoints vanish at reboot and every file would be sent again; choose a directory on disk",
                    metadata: ["state.directory": "\(config.state.directory)"])
            }
            deadLetterPath = config.deadLetter.path
        }
        for check in SourceCheck.check(config) {
            for problem in check.problems {
                logger.warning("\(problem)", metadata: ["source": "\(check.source)"])
            }
        }
        var server: MetricsServer?
        if let listen = config.metrics.listen {
            do {
                server = try await MetricsServer.bind(
                    listen: listen, metrics: metrics, unhealthyAfterSeconds: config.metrics.unhealthyAfterSeconds,
                    logger: logger)
            } catch {
                try? await client?.shutdown()
                throw error
            }
            options.control?.setMetricsPort(server!.port)
        }
        let textfile = config.metrics.textfile.map(TextfileWriter.init(path:))
        let service = EngineService(
            config: config,
            options: Engine.Options(
                once: options.once, readOnly: options.dryRun,
                maxConcurrentRequests: options.dryRun ? 1 : config.aws.maxConcurrentRequests,
                since: options.since, until: options.until, maxDurationSeconds: options.maxDurationSeconds,
                stallTimeoutSeconds: config.aws.catchUpStallTimeoutSeconds),
            sender: sender, store: store, deadLetterPath: deadLetterPath, metrics: metrics, control: options.control,
            logger: logger)
        // Shut down in reverse order: the engine first (it drains), then the metrics endpoint, which keeps
        // answering during the drain.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let server { services.append(.init(service: server)) }
        if let textfile {
            services.append(
                .init(
                    service: TextfileService(
                        writer: textfile, metrics: metrics,
                        interval: .milliseconds(max(100, config.state.flushIntervalMillis)), logger: logger)))
        }
        services.append(.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint, .sighup], logger: logger))
        do {
            try await group.run()
        } catch {
            await server?.close()
            try? await client?.shutdown()
            throw error
        }
        await server?.close()
        try? await client?.shutdown()
        withExtendedLifetime(lock) {}
        guard let (outcome, stats) = service.result else {
            throw StartupError(status: .internalError, message: service.startError ?? "the engine did not run")
        }
        let final = metrics.snapshot
        if let textfile {
            do {
                try textfile.write(final)
            } catch {
                logger.error("cannot write the metrics textfile", metadata: ["error": "\(error)"])
            }
        }
        return RunReport(
            outcome: outcome, stats: stats, seconds: Self.seconds(ContinuousClock.now - started), metrics: final,
            metricsPort: server?.port, follow: !options.once)
    }

    public static func makeClient(
        config: AgentConfig, environment: [String: String], logger: Logger, maxRequestsPerSecond: Double? = nil
    ) throws -> PersonalizeEventsClient {
        let shared: AWSSharedConfig
        do {
            shared = try AWSSharedConfig.load(environment: environment)
        } catch {
            throw StartupError(status: .configuration, message: "cannot read the AWS config files: \(error)")
        }
        let region: String
        do {
            region = try RegionResolver.resolve(
                configured: config.aws.region, environment: environment, sharedConfig: shared,
                profile: config.aws.profile)
        } catch {
            throw StartupError(status: .configuration, message: "aws.region: \(error)")
        }
        let profileName = config.aws.profile ?? environment["AWS_PROFILE"] ?? "default"
        let profile = shared.profile(profileName) ?? [:]
        func flag(_ env: String, _ key: String) -> Bool {
            (environment[env] ?? profile[key])?.lowercased() == "true"
        }
        let endpoint: Endpoint
        do {
            endpoint = try EndpointResolver.resolve(
                configured: config.aws.endpoint, region: region, environment: environment,
                profileEndpoint: shared.serviceSetting(
                    profile: profileName, service: "personalize_events", key: "endpoint_url")
                    ?? profile["endpoint_url"],
                options: .init(
                    useFIPS: config.aws.useFIPS ?? flag("AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"),
                    useDualStack: config.aws.useDualStack
                        ?? flag("AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint")))
        } catch {
            throw StartupError(status: .configuration, message: "\(error)")
        }
        // The SDKs' chain: environment, profile (keys, credential_process, role_arn, web identity), web identity
        // from the environment, container endpoint, EC2 instance metadata; refreshed before expiry.
        let credentials = DefaultCredentialChain.make(
            profile: config.aws.profile, environment: environment, httpClient: HTTPClient.shared, logger: logger)
        let retry = RetryPolicy(maxAttempts: config.aws.maxAttempts, deadline: config.aws.retryDeadlineSeconds)
        let timeout = Duration.milliseconds(Int64(config.aws.requestTimeoutSeconds * 1000))
        var transportConfiguration = NIOHTTPTransport.Configuration.fromEnvironment(
            environment, caBundle: config.aws.caBundle)
        transportConfiguration.maxConnections = config.aws.maxConcurrentRequests
        transportConfiguration.connectTimeout = .milliseconds(Int64(config.aws.connectTimeoutSeconds * 1000))
        let transport: NIOHTTPTransport
        do {
            // One transport for http and https, direct or through a CONNECT proxy.
            transport = try NIOHTTPTransport(endpoint: endpoint, configuration: transportConfiguration)
        } catch {
            throw StartupError(status: .configuration, message: "\(error)")
        }
        var limits = RateLimits.serviceQuotas
        for (operation, rate) in config.aws.rateLimits { limits.perOperation[operation] = rate }
        limits.maxRequestsPerSecond = maxRequestsPerSecond ?? config.aws.maxRequestsPerSecond
        limits.adaptive = config.aws.adaptive
        return PersonalizeEventsClient(
            configuration: .init(
                endpoint: endpoint, region: region, retry: retry, requestTimeout: timeout,
                userAgent: "personalize-tail/\(Version.current)", rateLimits: limits),
            credentials: credentials, transport: transport, logger: logger)
    }
}

extension Agent {
    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Runs one engine as a service: graceful shutdown asks it to stop reading and drain; a second SIGTERM/SIGINT
/// during that drain abandons in-flight requests at once (their records are re-sent next time).
final class EngineService: Service, Sendable {
    let config: AgentConfig
    let options: Engine.Options
    let sender: any BatchSender
    let store: any CheckpointStore
    let deadLetterPath: String?
    let metrics: MetricsBox?
    let control: AgentControl?
    let logger: Logger
    private let state = Mutex<(result: (Engine.Outcome, RunStats)?, error: String?)>((nil, nil))

    init(
        config: AgentConfig, options: Engine.Options, sender: any BatchSender, store: any CheckpointStore,
        deadLetterPath: String?, metrics: MetricsBox? = nil, control: AgentControl? = nil, logger: Logger
    ) {
        self.config = config
        self.metrics = metrics
        self.control = control
        self.options = options
        self.sender = sender
        self.store = store
        self.deadLetterPath = deadLetterPath
        self.logger = logger
    }

    var result: (Engine.Outcome, RunStats)? { state.withLock { $0.result } }
    var startError: String? { state.withLock { $0.error } }

    func run() async throws {
        let engine: Engine
        do {
            engine = try Engine(
                config: config, options: options, sender: sender, store: store,
                deadLetters: deadLetterPath.map(DeadLetterWriter.init(path:)), metrics: metrics, logger: logger)
        } catch {
            state.withLock { $0.error = "\(error)" }
            return
        }
        let control = engine.control
        self.control?.attach(control)
        let outcome = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var count = 0
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup) {
                    count += 1
                    if count >= 2 { control.stopNow() }
                }
            }
            let outcome = await withGracefulShutdownHandler {
                await engine.run()
            } onGracefulShutdown: {
                control.requestStop()
            }
            group.cancelAll()
            return outcome
        }
        let stats = engine.statistics
        state.withLock { $0.result = (outcome, stats) }
    }
}
