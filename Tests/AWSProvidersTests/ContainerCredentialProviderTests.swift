import AWSSigV4
import Foundation
import Testing

@testable import AWSProviders

@Suite struct ContainerCredentialProviderTests {
    @Test func readsCredentialsAndRereadsTheTokenFile() async throws {
        let files = TempFiles()
        let tokenFile = files.write("token", "token-one\n")
        let expiry = Fixtures.expirationDate
        let answer = Fixtures.credentialsJSON(expiration: Fixtures.expirationText(expiry))
        try await withServer(answering: .ok(answer)) { server in
            try await withHTTPClient { client in
                let provider = ContainerCredentialProvider(
                    environment: files.environment([
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/v2/credentials",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-file-set",
                    ]), httpClient: client, logger: testLogger)
                let first = try await provider.credentials()
                #expect(first.accessKeyId == "ASIACONTAINER")
                #expect(first.secretAccessKey == "container-secret")
                #expect(first.sessionToken == "container-token")
                #expect(first.expiration == expiry)
                files.write("token", "token-two")
                _ = try await provider.credentials()
                #expect(server.requests.map { $0.header("Authorization") } == ["token-one", "token-two"])
                #expect(server.requests.first?.uri == "/v2/credentials")
            }
        }
    }

    @Test func usesTheTokenVariable() async throws {
        let expiry = Fixtures.expirationDate
        let answer = Fixtures.credentialsJSON(expiration: Fixtures.expirationText(expiry, fraction: ".123"))
        try await withServer(answering: .ok(answer)) { server in
            try await withHTTPClient { client in
                let provider = ContainerCredentialProvider(
                    environment: [
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/creds",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Basic abc",
                    ], httpClient: client, logger: testLogger)
                let credentials = try await provider.credentials()
                let expiration = try #require(credentials.expiration)
                #expect(abs(expiration.timeIntervalSince1970 - (expiry.timeIntervalSince1970 + 0.123)) < 0.001)
                #expect(server.requests.first?.header("Authorization") == "Basic abc")
            }
        }
    }

    @Test func errorAnswerNamesStatusAndURLButNoToken() async throws {
        try await withServer(answering: CannedResponse(status: 403, body: "denied")) { server in
            try await withHTTPClient { client in
                let provider = ContainerCredentialProvider(
                    environment: [
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/creds",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "super-secret-auth",
                    ], httpClient: client, logger: testLogger)
                let text = try #require(await errorText { _ = try await provider.credentials() })
                #expect(text.contains("403"))
                #expect(text.contains(server.endpoint + "/creds"))
                #expect(!text.contains("super-secret-auth"))
            }
        }
    }

    @Test func serverErrorsAreRetriedOnce() async throws {
        try await withServer(answering: CannedResponse(status: 500, body: "")) { server in
            try await withHTTPClient { client in
                let provider = ContainerCredentialProvider(
                    environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/creds"],
                    httpClient: client, logger: testLogger)
                let error = await #expect(throws: CredentialProviderError.self) { try await provider.credentials() }
                #expect(error?.httpStatus == 500)
                #expect(server.hits == 2)
            }
        }
    }

    @Test func notConfiguredIsNotFound() async throws {
        try await withHTTPClient { client in
            let provider = ContainerCredentialProvider(environment: [:], httpClient: client, logger: testLogger)
            let error = await #expect(throws: AWSSigV4Error.self) { try await provider.credentials() }
            #expect(error?.isCredentialsNotFound == true)
        }
    }

    @Test func fullURIHostsAreRestricted() async throws {
        try await withHTTPClient { client in
            func url(_ full: String) throws -> String {
                try ContainerCredentialProvider(
                    environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": full], httpClient: client, logger: testLogger
                ).endpointURL()
            }
            for allowed in [
                "http://127.0.0.1:80/x", "http://localhost/x", "http://169.254.170.2/x", "http://169.254.170.23/v1",
                "http://[fd00:ec2::23]/v1", "https://creds.example.com/x", "http://[::1]:8080/x",
            ] {
                #expect(try url(allowed) == allowed)
            }
            #expect(throws: CredentialProviderError.self) { try url("http://example.com/creds") }
            #expect(throws: CredentialProviderError.self) { try url("http://10.0.0.1/creds") }
            let relative = try ContainerCredentialProvider(
                environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"], httpClient: client,
                logger: testLogger
            ).endpointURL()
            #expect(relative == "http://169.254.170.2/v2/credentials/abc")
        }
    }
}
