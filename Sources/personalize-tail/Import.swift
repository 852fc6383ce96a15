import AWSProviders
import AWSSigV4
import AgentConfig
import ArgumentParser
import AsyncHTTPClient
import BulkExport
import Crypto
import Foundation
import Logging
import PersonalizeControl
import Pipeline
import S3

/// `personalize-tail import`: one dataset import job per folder an export to S3 wrote, found again rather than
/// created twice on a rerun, waited for with a line per poll.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the dataset import jobs for an export to S3 and wait for them.",
        discussion: """
            Reads the export's manifest.json (the local --output directory of `export --to s3://...`), and for \
            each folder it uploaded (interactions/, items/, users/, actions/, action_interactions/, ...) creates a \
            dataset import job reading that folder, named after the manifest and the folder so that a rerun finds \
            the same job (ListDatasetImportJobs) instead of creating another. Dataset ARNs: --dataset, then \
            `import.datasets` in the config, then the ARN the mapping named (items, users, actions). Role ARN: \
            --role-arn, then `import.roleArn`. Exit codes: 0 every job ACTIVE (or created, with --no-wait); \
            2 configuration, usage or a refused request; 4 stopped waiting (--max-wait); 7 a job ended CREATE FAILED.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "The export's local --output directory (or its manifest.json).")
    var from: String

    @Option(help: "IAM role Personalize assumes to read the bucket (overrides import.roleArn).")
    var roleArn: String?

    @Option(help: "FULL replaces the dataset's data, INCREMENTAL adds to it: full or incremental.")
    var mode: String = "full"

    @Option(help: "KIND=ARN or FOLDER=ARN: the dataset a folder is imported into (repeatable).")
    var dataset: [String] = []

    @Flag(help: "Create the jobs and exit without waiting for them.")
    var noWait = false

    @Option(help: "Seconds between the first polls (doubles up to 60).")
    var pollInterval: Double = 15

    @Option(help: "Stop waiting after this many seconds (the jobs go on; rerun to wait again).")
    var maxWait: Double?

    @Option(help: "Personalize endpoint (else AWS_ENDPOINT_URL_PERSONALIZE, AWS_ENDPOINT_URL, the region's).")
    var endpoint: String?

    /// One job to run: a folder of the export and the dataset it goes into.
    struct Plan {
        var folder: String
        var location: String
        var datasetArn: String
        var jobName: String
    }

    func fail(_ message: String, _ status: Int32 = ExitStatus.configuration.rawValue) -> ExitCode {
        common.reportError(message)
        return ExitCode(status)
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try common.loadConfig()
        guard let importMode = ["full": "FULL", "incremental": "INCREMENTAL"][mode.lowercased()] else {
            throw fail("--mode: \"\(mode)\" is not full or incremental")
        }
        guard let role = roleArn ?? config.importSettings.roleArn else {
            throw fail(
                "no role ARN: give --role-arn or set import.roleArn (the IAM role Personalize assumes to read the bucket)"
            )
        }
        guard ImportSettings.isRoleArn(role) else {
            throw fail("--role-arn: \"\(role)\" is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)")
        }
        var datasets = config.importSettings.datasets
        for pair in dataset {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, ImportSettings.isDatasetArn(parts[1]) else {
                throw fail(
                    "--dataset: \"\(pair)\" is not KIND=ARN (interactions=arn:aws:personalize:REGION:ACCOUNT:dataset/GROUP/INTERACTIONS)"
                )
            }
            datasets[parts[0].replacingOccurrences(of: "-", with: "_")] = parts[1]
            datasets[parts[0]] = parts[1]
        }
        if from.hasPrefix("s3://") {
            throw fail(
                "--from: give the export's local --output directory (it holds the manifest uploaded to \(from)), not the S3 prefix"
            )
        }
        let manifestPath =
            from.hasSuffix(".json") ? from : (from.hasSuffix("/") ? from : from + "/") + ExportManifest.fileName
        let manifest: ExportManifest
        let manifestBytes: Data
        do {
            manifest = try ExportManifest.read(path: manifestPath)
            manifestBytes = FileManager.default.contents(atPath: manifestPath) ?? Data()
        } catch { throw fail("\(error)") }
        guard let upload = manifest.upload else {
            throw fail("\(manifestPath): this export was not streamed to S3 (export --to s3://BUCKET/PREFIX/ first)")
        }
        let plans: [Plan]
        do {
            plans = try Self.plan(manifest: manifest, upload: upload, manifestBytes: manifestBytes, datasets: datasets)
        } catch {
            throw fail("\(error)")
        }
        guard !plans.isEmpty else { throw fail("\(manifestPath): the export holds no files to import") }

        let client: PersonalizeControlClient
        do { client = try makeClient(config: config, environment: environment) } catch { throw fail("\(error)") }
        var jobs: [(Plan, String)] = []
        do {
            for plan in plans {
                let existing = try await client.listDatasetImportJobs(datasetArn: plan.datasetArn)
                    .first { $0.name == plan.jobName }
                if let existing {
                    print("\(plan.folder): found job \(plan.jobName) (\(existing.status)), not creating another")
                    jobs.append((plan, existing.arn))
                } else {
                    let arn = try await client.createDatasetImportJob(
                        jobName: plan.jobName, datasetArn: plan.datasetArn, dataLocation: plan.location, roleArn: role,
                        importMode: importMode)
                    print(
                        "\(plan.folder): created job \(plan.jobName) reading \(plan.location) into \(plan.datasetArn)")
                    jobs.append((plan, arn))
                }
            }
        } catch { throw fail("\(error)") }
        if noWait { return }
        try await wait(jobs, client: client)
    }

    /// Polls every unfinished job, a line per job per poll, until all are ACTIVE or failed.
    func wait(_ jobs: [(Plan, String)], client: PersonalizeControlClient) async throws {
        var pending = jobs
        var failed: [String] = []
        var delay = max(0.01, pollInterval)
        let started = ContinuousClock.now
        while !pending.isEmpty {
            var still: [(Plan, String)] = []
            for (plan, arn) in pending {
                let job: PersonalizeControlClient.Job
                do { job = try await client.describeDatasetImportJob(arn: arn) } catch { throw fail("\(error)") }
                if job.status == "ACTIVE" {
                    print("\(plan.folder): ACTIVE")
                } else if job.isTerminal {
                    print("\(plan.folder): \(job.status): \(job.failureReason ?? "no reason given")")
                    failed.append(plan.folder)
                } else {
                    print(
                        "\(plan.folder): \(job.status) (\(Int((ContinuousClock.now - started).components.seconds)) s)")
                    still.append((plan, arn))
                }
            }
            pending = still
            guard !pending.isEmpty else { break }
            if let maxWait, ContinuousClock.now - started >= .seconds(maxWait) {
                throw fail(
                    "stopped waiting after \(Int(maxWait)) s; \(pending.count) job(s) still running (rerun to wait again)",
                    ExitStatus.incomplete.rawValue)
            }
            try? await Task.sleep(for: .seconds(delay))
            delay = min(60, delay * 2)
        }
        if !failed.isEmpty {
            throw fail("\(failed.count) import job(s) failed: \(failed.joined(separator: ", "))", 7)
        }
        print("import: \(jobs.count) job(s) ACTIVE")
    }

    /// One plan per folder of the upload, in the manifest's order.
    static func plan(
        manifest: ExportManifest, upload: ExportManifest.Upload, manifestBytes: Data, datasets: [String: String]
    ) throws(ExportError) -> [Plan] {
        var plans: [Plan] = []
        var seen: Set<String> = []
        let digest = SHA256.hash(data: manifestBytes).map { String(format: "%02x", $0) }.joined()
        for file in manifest.files {
            guard let key = file.key, let slash = key.lastIndex(of: "/") else { continue }
            let directory = String(key[..<slash])
            let folder = String(directory.split(separator: "/").last ?? "")
            guard seen.insert(directory).inserted else { continue }
            let arn =
                datasets[folder] ?? datasets[file.kind]
                ?? (ImportSettings.isDatasetArn(file.destination) ? file.destination : nil)
            guard let arn else {
                throw ExportError(
                    "no dataset ARN for \(folder)/ (\(file.kind)): give --dataset \(folder)=ARN or set import.datasets.\(folder)"
                )
            }
            let tag = String(folder.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }.prefix(30))
            let hash = SHA256.hash(data: Data((digest + "\n" + directory).utf8)).map { String(format: "%02x", $0) }
                .joined()
            plans.append(
                Plan(
                    folder: folder, location: "s3://\(upload.bucket)/\(directory)/", datasetArn: arn,
                    jobName: "pt-\(tag)-\(hash.prefix(16))"))
        }
        return plans
    }

    func makeClient(config: AgentConfig, environment: [String: String]) throws -> PersonalizeControlClient {
        let shared = try AWSSharedConfig.load(environment: environment)
        let region = try RegionResolver.resolve(
            configured: config.aws.region, environment: environment, sharedConfig: shared, profile: config.aws.profile)
        let url = try PersonalizeControlClient.endpoint(configured: endpoint, region: region, environment: environment)
        var logger = Logger(label: "personalize-tail.import")
        logger.logLevel = .warning
        let credentials = DefaultCredentialChain.make(
            profile: config.aws.profile, environment: environment, httpClient: HTTPClient.shared, logger: logger)
        return PersonalizeControlClient(
            endpoint: url, region: region,
            retry: RetryPolicy(maxAttempts: config.aws.maxAttempts, deadline: config.aws.retryDeadlineSeconds),
            credentials: credentials, httpClient: HTTPClient.shared)
    }
}
