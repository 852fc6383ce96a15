import AWSSigV4
import Foundation
import Synchronization
import Testing

@testable import AWSProviders

/// Plays IMDSv2: the token must be asked for with a TTL and sent back on every metadata request.
func imdsHandler(role: String? = "agent-role", code: String = "Success")
    -> @Sendable (RecordedRequest) -> CannedResponse
{
    { request in
        if request.method == "PUT" && request.uri == "/latest/api/token" {
            guard request.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600" else {
                return CannedResponse(status: 400, body: "missing ttl")
            }
            return .ok("imds-session-token")
        }
        guard request.header("X-aws-ec2-metadata-token") == "imds-session-token" else {
            return CannedResponse(status: 401, body: "")
        }
        switch request.uri {
        case "/latest/meta-data/iam/security-credentials/":
            return role.map { .ok($0 + "\n") } ?? CannedResponse(status: 404, body: "")
        case "/latest/meta-data/iam/security-credentials/\(role ?? "")":
            return .ok(
                Fixtures.credentialsJSON(key: "ASIAIMDS", secret: "imds-secret", token: "imds-token", code: code))
        default:
            return CannedResponse(status: 404, body: "")
        }
    }
}

@Suite struct InstanceMetadataCredentialProviderTests {
    @Test func followsTheTokenFlow() async throws {
        try await withServer(imdsHandler()) { server in
            try await withHTTPClient { client in
                let provider = InstanceMetadataCredentialProvider(
                    environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.endpoint + "/"], httpClient: client,
                    logger: testLogger)
                let credentials = try await provider.credentials()
                #expect(credentials.accessKeyId == "ASIAIMDS")
                #expect(credentials.sessionToken == "imds-token")
                #expect(credentials.expiration != nil)
                #expect(
                    server.requests.map { "\($0.method) \($0.uri)" } == [
                        "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
                        "GET /latest/meta-data/iam/security-credentials/agent-role",
                    ])
            }
        }
    }

    @Test func disabledSkipsWithoutARequest() async throws {
        try await withServer(imdsHandler()) { server in
            try await withHTTPClient { client in
                let provider = InstanceMetadataCredentialProvider(
                    environment: [
                        "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.endpoint, "AWS_EC2_METADATA_DISABLED": "TRUE",
                    ], httpClient: client, logger: testLogger)
                let error = await #expect(throws: AWSSigV4Error.self) { try await provider.credentials() }
                #expect(error?.isCredentialsNotFound == true)
                #expect(server.hits == 0)
            }
        }
    }

    /// Connection refused, as on a laptop: not found (the chain goes on), not an error. The time limit only catches
    /// a hang.
    @Test(.timeLimit(.minutes(1))) func unreachableServiceIsNotFound() async throws {
        let server = try await LocalHTTPServer.start { _ in .ok("") }
        let endpoint = server.endpoint
        await server.shutdown()
        try await withHTTPClient { client in
            let provider = InstanceMetadataCredentialProvider(
                environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint], httpClient: client, logger: testLogger)
            let error = await #expect(throws: AWSSigV4Error.self) { try await provider.credentials() }
            #expect(error?.isCredentialsNotFound == true)
        }
    }

    /// A service that takes connections but never answers (a firewall that drops, a stuck proxy) is given up after
    /// the per-request timeout of each attempt: not found, so the chain ends instead of waiting. The answer comes 60 s
    /// after each request, far past the provider's timeout; the time limit only catches a hang.
    @Test(.timeLimit(.minutes(1))) func silentServiceIsNotFoundAfterItsAttempts() async throws {
        try await withServer(answering: .ok("never in time", delay: .seconds(60))) { server in
            try await withHTTPClient { client in
                let provider = InstanceMetadataCredentialProvider(
                    environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.endpoint], httpClient: client,
                    logger: testLogger, timeout: .milliseconds(200), attempts: 2)
                let error = await #expect(throws: AWSSigV4Error.self) { try await provider.credentials() }
                #expect(error?.isCredentialsNotFound == true)
                #expect(server.hits == 2)  // the token request, once per attempt; nothing after it
            }
        }
    }

    @Test func noRoleIsNotFound() async throws {
        try await withServer(imdsHandler(role: nil)) { server in
            try await withHTTPClient { client in
                let provider = InstanceMetadataCredentialProvider(
                    environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.endpoint], httpClient: client,
                    logger: testLogger)
                let error = await #expect(throws: AWSSigV4Error.self) { try await provider.credentials() }
                #expect(error?.isCredentialsNotFound == true)
            }
        }
    }

    @Test func failedCodeIsAnErrorWithoutSecrets() async throws {
        try await withServer(imdsHandler(code: "Failed")) { server in
            try await withHTTPClient { client in
                let provider = InstanceMetadataCredentialProvider(
                    environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.endpoint], httpClient: client,
                    logger: testLogger)
                let text = try #require(await errorText { _ = try await provider.credentials() })
                #expect(text.contains("Failed"))
                #expect(!text.contains("imds-secret") && !text.contains("imds-session-token"))
            }
        }
    }

    @Test func fallsBackToIMDSv1WhenTokensAreRefused() async throws {
        let handler: @Sendable (RecordedRequest) -> CannedResponse = { request in
            switch request.uri {
            case "/latest/api/token": CannedResponse(status: 403, body: "")
            case "/latest/meta-data/iam/security-credentials/": .ok("r")
            default: .ok(Fixtures.credentialsJSON(key: "ASIAV1"))
            }
        }
        try await withServer(handler) { server in
            try await withHTTPClient { client in
                let environment = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.endpoint]
                let provider = InstanceMetadataCredentialProvider(
                    environment: environment, httpClient: client, logger: testLogger)
                let key1 = try await provider.credentials().accessKeyId
                #expect(key1 == "ASIAV1")
                let strict = InstanceMetadataCredentialProvider(
                    environment: environment.merging(["AWS_EC2_METADATA_V1_DISABLED": "true"]) { $1 },
                    httpClient: client, logger: testLogger)
                await #expect(throws: CredentialProviderError.self) { try await strict.credentials() }
            }
        }
    }
}
