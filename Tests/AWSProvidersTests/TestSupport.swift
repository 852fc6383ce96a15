import AWSSigV4
import AsyncHTTPClient
import Foundation
import Logging
import Synchronization

/// A temporary directory with empty shared config files, removed on deinit.
final class TempFiles: Sendable {
    let directory: String

    init() {
        directory = NSTemporaryDirectory() + "aws-providers-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        write("credentials", "")
        write("config", "")
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    @discardableResult
    func write(_ name: String, _ contents: String) -> String {
        let path = directory + "/" + name
        try! contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An environment that sees only these files and no IMDS.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        [
            "AWS_SHARED_CREDENTIALS_FILE": directory + "/credentials", "AWS_CONFIG_FILE": directory + "/config",
            "HOME": directory, "AWS_EC2_METADATA_DISABLED": "true",
        ].merging(extra) { _, new in new }
    }
}

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }
    var date: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
    var now: @Sendable () -> Date { { self.date } }
}

let testLogger = Logger(label: "aws-providers-tests")

/// Runs `body` with a fresh client on the shared event loop group and shuts it down after.
func withHTTPClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try await client.shutdown()
        throw error
    }
}

/// Runs `body` with a local server answering with `handler`, and stops it after.
func withServer<T>(
    _ handler: @escaping @Sendable (RecordedRequest) -> CannedResponse, _ body: (LocalHTTPServer) async throws -> T
) async throws -> T {
    let server = try await LocalHTTPServer.start(handler)
    do {
        let result = try await body(server)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// Runs `body` with a local server giving every request the same `answer`.
func withServer<T>(answering answer: CannedResponse, _ body: (LocalHTTPServer) async throws -> T) async throws -> T {
    try await withServer({ _ in answer }, body)
}

// MARK: - Answers

enum Fixtures {
    /// An expiry six hours after now (whole seconds, so the text round-trips exactly): the providers and the
    /// chain read the real clock, and a fixed date would turn every cached set stale once it has passed.
    static var expirationDate: Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 6 * 3600).rounded(.down))
    }

    /// `expirationDate` as the services write it, with an optional fraction (`".5"`, `".123"`).
    static func expirationText(_ date: Date, fraction: String = "") -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let text = formatter.string(from: date)
        return String(text.dropLast()) + fraction + "Z"
    }

    static var expiration: String { expirationText(expirationDate) }

    static func stsSuccess(
        _ action: String = "AssumeRole", key: String = "ASIAROLE", secret: String = "role-secret",
        token: String = "role-token", expiration: String = Fixtures.expiration
    ) -> String {
        """
        <\(action)Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <\(action)Result>
            <Credentials>
              <AccessKeyId>\(key)</AccessKeyId>
              <SecretAccessKey>\(secret)</SecretAccessKey>
              <SessionToken>\(token)</SessionToken>
              <Expiration>\(expiration)</Expiration>
            </Credentials>
          </\(action)Result>
        </\(action)Response>
        """
    }

    static func stsError(_ code: String, _ message: String) -> String {
        """
        <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error>
          <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
        </ErrorResponse>
        """
    }

    static func credentialsJSON(
        key: String = "ASIACONTAINER", secret: String = "container-secret", token: String = "container-token",
        expiration: String = Fixtures.expiration, code: String? = nil
    ) -> String {
        let codeField = code.map { #""Code": "\#($0)", "# } ?? ""
        return """
            {\(codeField)"AccessKeyId": "\(key)", "SecretAccessKey": "\(secret)", "Token": "\(token)", \
            "Expiration": "\(expiration)"}
            """
    }
}

/// The text of any error, for "contains no secret" checks.
func errorText(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// Passes a client to helpers without capturing it in an escaping closure.
struct HTTPClientBox: Sendable {
    let client: HTTPClient
    init(_ client: HTTPClient) { self.client = client }
}
