import AWSSigV4
import AsyncHTTPClient
import Foundation
import NIOCore
import S3

/// The three Amazon Personalize control-plane calls a backfill needs (`CreateDatasetImportJob`,
/// `DescribeDatasetImportJob`, `ListDatasetImportJobs`), over AWS JSON 1.1 (`X-Amz-Target`), signed with SigV4 for
/// `personalize`, retried with the same full-jitter rules as the S3 uploads.
public struct PersonalizeControlClient: Sendable {
    /// A dataset import job as `DescribeDatasetImportJob` and `ListDatasetImportJobs` describe it.
    public struct Job: Sendable, Hashable {
        public var arn: String
        public var name: String
        /// `CREATE PENDING`, `CREATE IN_PROGRESS`, `ACTIVE` or `CREATE FAILED`.
        public var status: String
        public var failureReason: String?

        public var isTerminal: Bool { status == "ACTIVE" || status.hasSuffix("FAILED") }
    }

    public let endpoint: URL
    public let region: String
    public let retry: RetryPolicy
    let credentials: any CredentialProvider
    let httpClient: HTTPClient
    let signer: SigV4Signer

    public init(
        endpoint: URL, region: String, retry: RetryPolicy, credentials: any CredentialProvider, httpClient: HTTPClient
    ) {
        self.endpoint = endpoint
        self.region = region
        self.retry = retry
        self.credentials = credentials
        self.httpClient = httpClient
        signer = SigV4Signer(service: "personalize", region: region)
    }

    /// The endpoint as the AWS SDKs pick it: `configured`, else `AWS_ENDPOINT_URL_PERSONALIZE`, else
    /// `AWS_ENDPOINT_URL` (both ignored with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else
    /// `https://personalize.<region>.amazonaws.com` (`.com.cn` in China).
    public static func endpoint(configured: String?, region: String, environment: [String: String]) throws(ControlError)
        -> URL
    {
        let ignore = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        let candidates: [(String, String?)] = [
            ("--endpoint", configured),
            ("AWS_ENDPOINT_URL_PERSONALIZE", ignore ? nil : environment["AWS_ENDPOINT_URL_PERSONALIZE"]),
            ("AWS_ENDPOINT_URL", ignore ? nil : environment["AWS_ENDPOINT_URL"]),
        ]
        for (source, value) in candidates {
            guard let value, !value.isEmpty else { continue }
            guard let url = URL(string: value), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https",
                url.host != nil
            else {
                throw ControlError(
                    configuration: "\(source): \"\(value)\" is not an http(s) URL; write it like https://host[:port]")
            }
            return url
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return URL(string: "https://personalize.\(region).\(suffix)")!
    }

    // MARK: Operations

    /// Creates a job; returns its ARN.
    public func createDatasetImportJob(
        jobName: String, datasetArn: String, dataLocation: String, roleArn: String, importMode: String
    ) async throws(ControlError) -> String {
        let answer = try await call(
            "CreateDatasetImportJob",
            [
                "jobName": jobName, "datasetArn": datasetArn, "dataSource": ["dataLocation": dataLocation],
                "roleArn": roleArn, "importMode": importMode,
            ])
        guard let arn = answer["datasetImportJobArn"] as? String else {
            throw ControlError(operation: "CreateDatasetImportJob", transport: "answer without datasetImportJobArn")
        }
        return arn
    }

    public func describeDatasetImportJob(arn: String) async throws(ControlError) -> Job {
        let answer = try await call("DescribeDatasetImportJob", ["datasetImportJobArn": arn])
        guard let job = answer["datasetImportJob"] as? [String: Any], let parsed = Self.job(job) else {
            throw ControlError(operation: "DescribeDatasetImportJob", transport: "answer without datasetImportJob")
        }
        return parsed
    }

    /// Every import job of the dataset (all pages).
    public func listDatasetImportJobs(datasetArn: String) async throws(ControlError) -> [Job] {
        var jobs: [Job] = []
        var token: String?
        repeat {
            var body: [String: Any] = ["datasetArn": datasetArn, "maxResults": 100]
            if let token { body["nextToken"] = token }
            let answer = try await call("ListDatasetImportJobs", body)
            for item in answer["datasetImportJobs"] as? [[String: Any]] ?? [] {
                if let job = Self.job(item) { jobs.append(job) }
            }
            token = answer["nextToken"] as? String
        } while token != nil && !(token ?? "").isEmpty
        return jobs
    }

    static func job(_ object: [String: Any]) -> Job? {
        guard let arn = object["datasetImportJobArn"] as? String else { return nil }
        return Job(
            arn: arn, name: object["jobName"] as? String ?? "", status: object["status"] as? String ?? "",
            failureReason: object["failureReason"] as? String)
    }

    // MARK: Wire

    /// Sends one JSON 1.1 request, retrying what ``ControlError/isRetryable`` allows within the retry rules.
    func call(_ operation: String, _ body: [String: Any]) async throws(ControlError) -> [String: Any] {
        let data: Data
        do { data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) } catch {
            throw ControlError(configuration: "\(operation): cannot encode the request")
        }
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await attemptOnce(operation, body: Array(data))
            } catch {
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                guard error.isRetryable, retry.allowsRetry(afterAttempt: attempt, elapsed: seconds) else { throw error }
                if error.code == "ExpiredTokenException" { await credentials.invalidate() }
                try? await Task.sleep(
                    for: .seconds(retry.delay(afterAttempt: attempt, random: Double.random(in: 0..<1))))
            }
        }
    }

    private func attemptOnce(_ operation: String, body: [UInt8]) async throws(ControlError) -> [String: Any] {
        let creds: AWSCredentials
        do { creds = try await credentials.credentials() } catch {
            throw ControlError(configuration: "\(operation): no AWS credentials (\(error))")
        }
        let host = endpoint.port.map { "\(endpoint.host!):\($0)" } ?? endpoint.host!
        let headers: [(name: String, value: String)] = [
            ("host", host), ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AmazonPersonalize.\(operation)"),
        ]
        let auth = signer.sign(
            method: "POST", path: "/", query: "", headers: headers, body: body, credentials: creds, date: Date())
        var request = HTTPClientRequest(url: "\(endpoint.scheme!)://\(host)/")
        request.method = .POST
        for h in headers { request.headers.add(name: h.name, value: h.value) }
        for h in auth { request.headers.add(name: h.name, value: h.value) }
        request.headers.add(name: "User-Agent", value: "personalize-tail")
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: Int
        let errorType: String?
        let bytes: [UInt8]
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(60))
            status = Int(response.status.code)
            errorType = response.headers.first(name: "x-amzn-errortype")
            bytes = Array(try await response.body.collect(upTo: 16 << 20).readableBytesView)
        } catch {
            throw ControlError(operation: operation, transport: "\(error)")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
        guard (200..<300).contains(status) else {
            // The code: X-Amzn-ErrorType or the body's __type, without the Coral namespace before `#` or after `:`.
            var code = errorType ?? object["__type"] as? String ?? "HTTP\(status)"
            if let hash = code.lastIndex(of: "#") { code = String(code[code.index(after: hash)...]) }
            if let colon = code.firstIndex(of: ":") { code = String(code[..<colon]) }
            let message = object["message"] as? String ?? object["Message"] as? String ?? ""
            throw ControlError(operation: operation, status: status, code: code, message: message)
        }
        return object
    }
}
