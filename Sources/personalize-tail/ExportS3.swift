import AWSProviders
import AWSSigV4
import AgentConfig
import AsyncHTTPClient
import BulkExport
import Foundation
import Logging
import Metrics
import Pipeline
import S3

/// The S3 side of `export --to`: the client built from the agent's AWS settings (region, profile, the SDKs'
/// credential chain, the retry settings PutEvents uses) and the exporter run on a thread of its own, since it
/// blocks while a part is in flight.
enum ExportS3 {
    /// The S3 client for `config`: endpoint from `--s3-endpoint`, `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`.
    static func client(
        config: AgentConfig, endpoint: String?, pathStyle: Bool, environment: [String: String]
    ) throws -> S3Client {
        let shared = try AWSSharedConfig.load(environment: environment)
        let region: String
        do {
            region = try RegionResolver.resolve(
                configured: config.aws.region, environment: environment, sharedConfig: shared,
                profile: config.aws.profile)
        } catch {
            throw ExportError("aws.region: \(error)")
        }
        let configuration = try S3Configuration.resolve(
            configured: endpoint, region: region, environment: environment, forcePathStyle: pathStyle ? true : nil,
            retry: RetryPolicy(maxAttempts: config.aws.maxAttempts, deadline: config.aws.retryDeadlineSeconds),
            requestTimeoutSeconds: max(config.aws.requestTimeoutSeconds, 60),
            userAgent: "personalize-tail/\(Version.current)")
        var logger = Logger(label: "personalize-tail.s3")
        logger.logLevel = .warning
        let credentials = DefaultCredentialChain.make(
            profile: config.aws.profile, environment: environment, httpClient: HTTPClient.shared, logger: logger)
        return S3Client(configuration: configuration, credentials: credentials, httpClient: HTTPClient.shared)
    }

    /// Runs `body` on a new thread (with a stack as large as the main thread's) and waits for it without holding
    /// a thread of the concurrency pool, which the uploads need.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
