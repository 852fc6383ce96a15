import AWSSigV4
import AsyncHTTPClient
import Foundation
import S3
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `export --to s3://...` with the real binary against moto: the objects equal a local export's files byte for
/// byte, nothing appears under a final name before its upload completes, a SIGKILL mid-upload is resumed by a
/// rerun (and leaves no incomplete upload behind), and `--abort` clears an interrupted export.
// Serialized: each test starts its own moto server, a Python process that takes a few CPU-seconds to start;
// one at a time per suite leaves the other suites the CPU on a 2-core machine. The tests share nothing.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto[server] is not installed (pip install 'moto[server]')"))
struct ExportToS3Tests {
    static let binary = ChildProcess.agentBinary

    static let config = """
        {
          "aws": {"region": "us-east-1", "maxAttempts": 3},
          "state": {"directory": "state"},
          "sources": [{"name": "web", "paths": ["logs/*.jsonl"]}],
          "mappings": {
            "clicks": {
              "target": "event", "trackingId": "11111111-2222-3333-4444-555555555555",
              "when": {"field": "type", "equals": "click"},
              "fields": {"userId": "user", "sessionId": "sid", "eventType": "action", "itemId": "item", "sentAt": "ts",
                         "properties": {"pad": "pad"}}
            },
            "catalog": {
              "target": "item", "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS",
              "when": {"field": "type", "equals": "product"},
              "fields": {"itemId": "item", "properties": {"PRICE": "price"}}
            }
          }
        }
        """

    /// `count` clicks (about 200 bytes of CSV each) and a product per 100 of them.
    static func writeLogs(_ dir: TemporaryDirectory, count: Int) throws {
        var text = ""
        text.reserveCapacity(count * 260)
        let pad = String(repeating: "x", count: 150)
        for i in 0..<count {
            text +=
                #"{"type":"click","sid":"s\#(i % 97)","action":"View","user":"u\#(i % 1_000)","item":"i\#(i % 500)","ts":\#(1_700_000_000 + i),"pad":"\#(pad)\#(i)"}"#
            text += "\n"
            if i % 100 == 0 { text += #"{"type":"product","item":"i\#(i % 500)","price":\#(i % 50)}"# + "\n" }
        }
        try dir.write("logs/app.jsonl", text)
        try dir.write("config.json", config)
    }

    static func environment(_ moto: MotoServer) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE"
        env["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        env["AWS_ENDPOINT_URL_S3"] = moto.endpoint
        env.removeValue(forKey: "AWS_PROFILE")
        return env
    }

    /// Runs the binary in `dir`; returns its exit status and stderr.
    static func run(_ dir: TemporaryDirectory, _ arguments: [String], env: [String: String]) async throws -> (
        Int32, String
    ) {
        let out = try await ChildProcess.run([binary] + arguments, environment: env, currentDirectory: dir.path)
        return (out.status, out.stderr)
    }

    static func client(_ moto: MotoServer) -> S3Client {
        S3Client(
            configuration: S3Configuration(
                scheme: "http", host: "127.0.0.1", port: moto.port, region: "us-east-1", addressing: .path,
                retry: RetryPolicy(maxAttempts: 2), requestTimeoutSeconds: 10),
            credentials: StaticCredentialProvider(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret"),
            httpClient: HTTPClient.shared)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func streamsTheSameBytesAsALocalExportAndStoresTheManifestLast() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        let s3 = Self.client(moto)
        try await s3.createBucket("backfill")
        try Self.writeLogs(dir, count: 40_000)  // about 8 MiB of interactions: two parts of 5 MiB
        let env = Self.environment(moto)
        let local = try await Self.run(dir, ["export", "--output", "local", "--config", "config.json"], env: env)
        #expect(local.0 == 0, "\(local.1)")
        let remote = try await Self.run(
            dir,
            [
                "export", "--output", "work", "--to", "s3://backfill/2024/", "--part-size", "5", "--config",
                "config.json",
            ], env: env)
        #expect(remote.0 == 0, "\(remote.1)")
        for name in ["interactions-00001.csv", "items-00001.csv"] {
            let folder = name.hasPrefix("items") ? "items" : "interactions"
            let body = try #require(try await s3.getObject(bucket: "backfill", key: "2024/\(folder)/\(name)"))
            let expected = try #require(FileManager.default.contents(atPath: dir.file("local/\(name)")))
            #expect(body == Array(expected), "\(name): \(body.count) bytes, expected \(expected.count)")
        }
        let manifest = try #require(try await s3.getObject(bucket: "backfill", key: "2024/manifest.json"))
        let text = String(decoding: manifest, as: UTF8.self)
        #expect(text.contains(#""key" : "2024/interactions/interactions-00001.csv""#))
        #expect(text.contains(#""bucket" : "backfill""#))
        #expect(FileManager.default.contents(atPath: dir.file("work/manifest.json")) == Data(manifest))
        #expect(!FileManager.default.fileExists(atPath: dir.file("work/upload-state.json")))
        #expect(try await s3.listMultipartUploads(bucket: "backfill", prefix: "2024/").isEmpty)
        // A second run to the same place is refused.
        let again = try await Self.run(
            dir,
            [
                "export", "--output", "work2", "--to", "s3://backfill/2024/", "--part-size", "5", "--config",
                "config.json",
            ], env: env)
        #expect(again.0 == 2 && again.1.contains("holds objects already"), "\(again.1)")
    }

    /// Starts an export, kills it with SIGKILL once S3 acknowledged a part, and returns the state it left.
    static func killMidUpload(_ dir: TemporaryDirectory, _ moto: MotoServer) async throws {
        let export = try ChildProcess(
            [
                binary, "export", "--output", "work", "--to", "s3://backfill/resume/", "--part-size", "5", "--config",
                "config.json",
            ],
            environment: environment(moto), currentDirectory: dir.path)
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline, export.isRunning {
            if let data = FileManager.default.contents(atPath: dir.file("work/upload-state.json")),
                String(decoding: data, as: UTF8.self).contains("\"sha256\"")
            {
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(export.isRunning, "the export finished before a part was acknowledged; give it more input")
        export.kill()
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func aKillMidUploadIsResumedByARerun() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        let s3 = Self.client(moto)
        try await s3.createBucket("backfill")
        try Self.writeLogs(dir, count: 90_000)  // about 18 MiB: four parts
        let env = Self.environment(moto)
        try await Self.killMidUpload(dir, moto)
        // Nothing under the final name, an upload in progress, no manifest.
        #expect(try await s3.headObject(bucket: "backfill", key: "resume/interactions/interactions-00001.csv") == nil)
        #expect(try await s3.getObject(bucket: "backfill", key: "resume/manifest.json") == nil)
        #expect(!(try await s3.listMultipartUploads(bucket: "backfill", prefix: "resume/")).isEmpty)

        let rerun = try await Self.run(
            dir,
            [
                "export", "--output", "work", "--to", "s3://backfill/resume/", "--part-size", "5", "--config",
                "config.json",
            ], env: env)
        #expect(rerun.0 == 0, "\(rerun.1)")
        // The parts S3 acknowledged before the kill are not sent again.
        #expect(!rerun.1.contains("parts_reused=0") && rerun.1.contains("parts_reused="), "\(rerun.1)")
        let local = try await Self.run(dir, ["export", "--output", "local", "--config", "config.json"], env: env)
        #expect(local.0 == 0)
        let body = try #require(
            try await s3.getObject(bucket: "backfill", key: "resume/interactions/interactions-00001.csv"))
        let expected = try #require(FileManager.default.contents(atPath: dir.file("local/interactions-00001.csv")))
        #expect(body == Array(expected))
        #expect(try await s3.listMultipartUploads(bucket: "backfill", prefix: "resume/").isEmpty)
        #expect(try await s3.getObject(bucket: "backfill", key: "resume/manifest.json") != nil)
        #expect(!FileManager.default.fileExists(atPath: dir.file("work/upload-state.json")))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func abortClearsAnInterruptedExport() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        let s3 = Self.client(moto)
        try await s3.createBucket("backfill")
        try Self.writeLogs(dir, count: 90_000)
        try await Self.killMidUpload(dir, moto)
        let abort = try await Self.run(
            dir, ["export", "--output", "work", "--to", "s3://backfill/resume/", "--abort", "--config", "config.json"],
            env: Self.environment(moto))
        #expect(abort.0 == 0, "\(abort.1)")
        #expect(abort.1.contains("aborted_uploads=") && !abort.1.contains("aborted_uploads=0"), "\(abort.1)")
        #expect(try await s3.listMultipartUploads(bucket: "backfill", prefix: "resume/").isEmpty)
        #expect(try await s3.listObjects(bucket: "backfill", prefix: "resume/").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.file("work/upload-state.json")))
    }
}

/// `inspect` with the real binary: the readiness report on stdout and its exit status.
@Suite struct InspectCommandTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: ExportToS3Tests.binary)))
    func reportsReadinessAndExitsByTheMinimums() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try ExportToS3Tests.writeLogs(dir, count: 2_000)
        func inspect() async throws -> (Int32, String) {
            let out = try await ChildProcess.run(
                [ExportToS3Tests.binary, "inspect", "--config", "config.json"], currentDirectory: dir.path)
            return (out.status, out.stdout)
        }
        let ok = try await inspect()
        #expect(ok.0 == 0, "\(ok.1)")
        #expect(ok.1.contains("training readiness: meets Amazon Personalize's minimums"))
        #expect(ok.1.contains("interactions: 2,000"))
        #expect(ok.1.contains("warning: only one event type (View)"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("local")))
        try ExportToS3Tests.writeLogs(dir, count: 500)
        let few = try await inspect()
        #expect(few.0 == 6 && few.1.contains("DOES NOT meet"), "\(few.1)")
    }
}
