import AWSSigV4
import AsyncHTTPClient
import Foundation
import PersonalizeControl
import S3
import TestSupport
import Testing

/// `personalize-tail import` with the real binary against ``ImportJobStandIn``: jobs reach ACTIVE, a failed job's
/// reason and exit status 7, a rerun that finds its jobs, a bad role ARN refused before any request, and the
/// stand-in's model validation refusing a bad request.
@Suite
struct ImportCommandTests {
    static let binary = ChildProcess.agentBinary

    static let itemsArn = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS"
    static let interactionsArn = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/INTERACTIONS"
    static let role = "arn:aws:iam::123456789012:role/PersonalizeS3Access"

    /// A config and the manifest an `export --to s3://backfill/2026/` leaves in its --output directory.
    static func setUp(_ dir: TemporaryDirectory, roleInConfig: String? = nil) throws {
        let importSection = roleInConfig.map { ", \"import\": {\"roleArn\": \"\($0)\"}" } ?? ""
        try """
        {"aws": {"region": "us-east-1", "maxAttempts": 2}, "state": {"directory": "state"},
         "sources": [{"name": "web", "paths": ["logs/*.jsonl"]}],
         "mappings": {"clicks": {"target": "event", "trackingId": "11111111-2222-3333-4444-555555555555",
           "fields": {"userId": "user", "sessionId": "sid", "eventType": "type", "sentAt": "ts"}}}\(importSection)}
        """.write(toFile: dir.file("config.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.file("out"), withIntermediateDirectories: true)
        try """
        {"format": "personalize-bulk-csv", "version": 1, "createdAt": "2026-12-06T00:00:00Z", "maxFileBytes": 1000000,
         "upload": {"bucket": "backfill", "prefix": "2026/", "partSize": 8388608},
         "files": [
          {"name": "interactions-00001.csv", "kind": "interactions", "destination": "11111111-2222-3333-4444-555555555555",
           "columns": ["USER_ID"], "rows": 10, "bytes": 100, "key": "2026/interactions/interactions-00001.csv", "etag": "\\"a\\""},
          {"name": "interactions-00002.csv", "kind": "interactions", "destination": "11111111-2222-3333-4444-555555555555",
           "columns": ["USER_ID"], "rows": 10, "bytes": 100, "key": "2026/interactions/interactions-00002.csv", "etag": "\\"b\\""},
          {"name": "items-00001.csv", "kind": "items", "destination": "\(itemsArn)",
           "columns": ["ITEM_ID"], "rows": 5, "bytes": 50, "key": "2026/items/items-00001.csv", "etag": "\\"c\\""}],
         "inputs": [], "warnings": [], "counts": {"lines": 25, "rows": {}, "rejected": {}, "unmatched": 0, "outsideTimeRange": 0}}
        """.write(toFile: dir.file("out/manifest.json"), atomically: true, encoding: .utf8)
    }

    static func environment(_ standIn: ImportJobStandIn) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
        env["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        env["AWS_ENDPOINT_URL_PERSONALIZE"] = standIn.endpoint
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env.removeValue(forKey: "AWS_PROFILE")
        return env
    }

    /// Runs the binary in `dir`; returns its exit status, stdout and stderr.
    static func run(_ dir: TemporaryDirectory, _ arguments: [String], env: [String: String]) async throws -> (
        Int32, String, String
    ) {
        let out = try await ChildProcess.run([binary] + arguments, environment: env, currentDirectory: dir.path)
        return (out.status, out.stdout, out.stderr)
    }

    static let importArguments = [
        "import", "--config", "config.json", "--from", "out", "--dataset", "interactions=\(interactionsArn)",
        "--poll-interval", "0.01",
    ]

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func importsEveryFolderUntilActiveAndARerunFindsTheJobs() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.setUp(dir, roleInConfig: Self.role)
        let standIn = try await ImportJobStandIn.start()
        defer { Task { try? await standIn.shutdown() } }
        let env = Self.environment(standIn)

        let (status, out, err) = try await Self.run(dir, Self.importArguments + ["--mode", "incremental"], env: env)
        #expect(status == 0, "\(out)\n\(err)")
        let creates = standIn.calls().filter { $0.operation == "CreateDatasetImportJob" }
        #expect(creates.count == 2)
        #expect(
            Set(creates.map { $0.body["dataSource"] ?? "" }) == [
                "s3://backfill/2026/interactions/", "s3://backfill/2026/items/",
            ])
        #expect(Set(creates.map { $0.body["datasetArn"] ?? "" }) == [Self.interactionsArn, Self.itemsArn])
        #expect(creates.allSatisfy { $0.body["roleArn"] == Self.role && $0.body["importMode"] == "INCREMENTAL" })
        #expect(out.contains("interactions: CREATE PENDING"))
        #expect(out.contains("interactions: CREATE IN_PROGRESS"))
        #expect(out.contains("items: ACTIVE"))
        #expect(standIn.rejectedCount() == 0)

        // The same manifest again: the jobs are found by name, none created.
        let (again, out2, err2) = try await Self.run(dir, Self.importArguments, env: env)
        #expect(again == 0, "\(out2)\n\(err2)")
        #expect(standIn.calls().filter { $0.operation == "CreateDatasetImportJob" }.count == 2)
        #expect(out2.contains("found job"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func aFailedJobShowsTheServicesReasonAndExits7() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.setUp(dir)
        let standIn = try await ImportJobStandIn.start()
        defer { Task { try? await standIn.shutdown() } }
        standIn.failJobs(locationContaining: "/items/", reason: "Input CSV is missing the required column ITEM_ID.")
        let (status, out, err) = try await Self.run(
            dir, Self.importArguments + ["--role-arn", Self.role], env: Self.environment(standIn))
        #expect(status == 7, "\(out)\n\(err)")
        #expect(out.contains("items: CREATE FAILED: Input CSV is missing the required column ITEM_ID."))
        #expect(out.contains("interactions: ACTIVE"))
        #expect(err.contains("1 import job(s) failed: items"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func noWaitCreatesWithoutPollingAndAMissingDatasetStopsFirst() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.setUp(dir, roleInConfig: Self.role)
        let standIn = try await ImportJobStandIn.start()
        defer { Task { try? await standIn.shutdown() } }
        // No ARN for interactions (its mapping names a tracker): refused before any request.
        let (missing, _, err) = try await Self.run(
            dir, ["import", "--config", "config.json", "--from", "out"], env: Self.environment(standIn))
        #expect(missing == 2)
        #expect(err.contains("--dataset interactions=ARN"))
        #expect(standIn.calls().isEmpty)

        let (status, out, err2) = try await Self.run(
            dir, Self.importArguments + ["--no-wait"], env: Self.environment(standIn))
        #expect(status == 0, "\(out)\n\(err2)")
        #expect(standIn.calls().filter { $0.operation == "CreateDatasetImportJob" }.count == 2)
        #expect(!standIn.calls().contains { $0.operation == "DescribeDatasetImportJob" })
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func anInvalidRoleArnIsRefusedBeforeAnyRequest() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.setUp(dir)
        let standIn = try await ImportJobStandIn.start()
        defer { Task { try? await standIn.shutdown() } }
        let (status, _, err) = try await Self.run(
            dir, Self.importArguments + ["--role-arn", "arn:aws:iam::1234:role/Short"], env: Self.environment(standIn))
        #expect(status == 2)
        #expect(err.contains("--role-arn"))
        #expect(standIn.calls().isEmpty && standIn.rejectedCount() == 0)

        // The same mistake in the config names its JSON path.
        try Self.setUp(dir, roleInConfig: "arn:aws:s3:::bucket")
        let (status2, _, err2) = try await Self.run(dir, Self.importArguments, env: Self.environment(standIn))
        #expect(status2 == 2)
        #expect(err2.contains("import.roleArn"))
        #expect(standIn.calls().isEmpty)
    }
}

/// The client against the stand-in directly, and the stand-in's validation against botocore's model.
struct ImportJobStandInTests {
    static func client(_ standIn: ImportJobStandIn, secret: String = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        -> PersonalizeControlClient
    {
        PersonalizeControlClient(
            endpoint: URL(string: standIn.endpoint)!, region: "us-east-1", retry: RetryPolicy(maxAttempts: 1),
            credentials: StaticCredentialProvider(accessKeyId: "AKIDEXAMPLE", secretAccessKey: secret),
            httpClient: HTTPClient.shared)
    }

    @Test func theStandInRefusesRequestsTheModelForbids() async throws {
        let standIn = try await ImportJobStandIn.start()
        defer { Task { try? await standIn.shutdown() } }
        let client = Self.client(standIn)
        // A job name starting with "-" breaks Name's pattern; FULLISH is not an ImportMode.
        do {
            _ = try await client.createDatasetImportJob(
                jobName: "-bad", datasetArn: "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS",
                dataLocation: "s3://b/items/", roleArn: "arn:aws:iam::123456789012:role/R", importMode: "FULLISH")
            Issue.record("accepted an invalid request")
        } catch {
            #expect(error.code == "ValidationException")
            #expect(error.message.contains("jobName"))
            #expect(error.message.contains("importMode"))
        }
        let model = try ImportJobModel()
        #expect(
            model.violations(operation: "CreateDatasetImportJob", body: Array(#"{"jobName":"j"}"#.utf8)).contains {
                $0.contains("datasetArn: required")
            })
        #expect(
            model.violations(operation: "ListDatasetImportJobs", body: Array(#"{"maxResults":500}"#.utf8)) == [
                "maxResults: more than 100"
            ])
        #expect(
            model.violations(
                operation: "CreateDatasetImportJob",
                body: Array(
                    #"{"jobName":"j","datasetArn":"arn:aws:personalize:us-east-1:1:dataset/x","dataSource":{"dataLocation":"s3://b/"},"extra":1}"#
                        .utf8)) == ["extra: unknown member"])
        #expect(standIn.calls().isEmpty)
    }

    @Test func aWrongSignatureIsRefused() async throws {
        let standIn = try await ImportJobStandIn.start()
        defer { Task { try? await standIn.shutdown() } }
        do {
            _ = try await Self.client(standIn, secret: "wrong").listDatasetImportJobs(
                datasetArn: "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS")
            Issue.record("accepted a bad signature")
        } catch {
            #expect(error.code == "InvalidSignatureException")
        }
        let jobs = try await Self.client(standIn).listDatasetImportJobs(
            datasetArn: "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS")
        #expect(jobs.isEmpty)
    }
}

/// Where control-plane requests go.
struct ControlEndpointTests {
    @Test func endpointOrderFollowsTheSDKs() throws {
        #expect(
            try PersonalizeControlClient.endpoint(configured: nil, region: "eu-west-1", environment: [:]).absoluteString
                == "https://personalize.eu-west-1.amazonaws.com")
        #expect(
            try PersonalizeControlClient.endpoint(configured: nil, region: "cn-north-1", environment: [:])
                .absoluteString
                == "https://personalize.cn-north-1.amazonaws.com.cn")
        let env = ["AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_PERSONALIZE": "http://127.0.0.1:2"]
        #expect(try PersonalizeControlClient.endpoint(configured: nil, region: "us-east-1", environment: env).port == 2)
        #expect(
            try PersonalizeControlClient.endpoint(
                configured: "http://127.0.0.1:3", region: "us-east-1", environment: env
            ).port == 3)
        var ignoring = env
        ignoring["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        #expect(
            try PersonalizeControlClient.endpoint(configured: nil, region: "us-east-1", environment: ignoring).host
                == "personalize.us-east-1.amazonaws.com")
        #expect(throws: ControlError.self) {
            try PersonalizeControlClient.endpoint(configured: "ftp://x", region: "us-east-1", environment: [:])
        }
    }
}
