import AWSSigV4
import Foundation
import Testing

@testable import AWSProviders

@Suite struct WebIdentityCredentialProviderTests {
    static let action = "AssumeRoleWithWebIdentity"

    @Test func sendsTheTokenFromTheFileEachTime() async throws {
        let files = TempFiles()
        let tokenFile = files.write("jwt", "jwt-one\n")
        try await withServer(answering: .ok(Fixtures.stsSuccess(Self.action, key: "ASIAWEB"))) { server in
            try await withHTTPClient { client in
                let provider = WebIdentityCredentialProvider(
                    source: .environment,
                    environment: files.environment([
                        "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
                        "AWS_ROLE_SESSION_NAME": "my-session", "AWS_ENDPOINT_URL_STS": server.endpoint,
                        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
                    ]), httpClient: client, logger: testLogger)
                let credentials = try await provider.credentials()
                #expect(credentials.accessKeyId == "ASIAWEB")
                #expect(credentials.sessionToken == "role-token")
                files.write("jwt", "jwt-two")
                _ = try await provider.credentials()
                let requests = server.requests
                #expect(requests.map { $0.form["WebIdentityToken"] } == ["jwt-one", "jwt-two"])
                let form = try #require(requests.first?.form)
                #expect(form["Action"] == Self.action)
                #expect(form["Version"] == "2011-06-15")
                #expect(form["RoleArn"] == "arn:aws:iam::123456789012:role/web")
                #expect(form["RoleSessionName"] == "my-session")
                #expect(requests.first?.method == "POST" && requests.first?.uri == "/")
                #expect(requests.allSatisfy { $0.header("Authorization") == nil })
            }
        }
    }

    @Test func readsAProfile() async throws {
        let files = TempFiles()
        let tokenFile = files.write("jwt", "jwt-profile")
        files.write(
            "config",
            """
            [profile ci]
            role_arn = arn:aws:iam::123456789012:role/ci
            web_identity_token_file = \(tokenFile)
            role_session_name = ci-session
            duration_seconds = 1800
            """)
        try await withServer(answering: .ok(Fixtures.stsSuccess(Self.action))) { server in
            try await withHTTPClient { client in
                let provider = WebIdentityCredentialProvider(
                    source: .profile("ci"), environment: files.environment(["AWS_ENDPOINT_URL": server.endpoint]),
                    httpClient: client, logger: testLogger)
                _ = try await provider.credentials()
                let form = try #require(server.requests.first?.form)
                #expect(form["RoleArn"] == "arn:aws:iam::123456789012:role/ci")
                #expect(form["RoleSessionName"] == "ci-session")
                #expect(form["DurationSeconds"] == "1800")
                #expect(form["WebIdentityToken"] == "jwt-profile")
            }
        }
    }

    @Test func stsErrorIsReportedWithoutTheToken() async throws {
        let files = TempFiles()
        let tokenFile = files.write("jwt", "eyJ-secret-jwt")
        let answer = CannedResponse(
            status: 400, body: Fixtures.stsError("InvalidIdentityToken", "Token &amp; issuer invalid"))
        try await withServer(answering: answer) { server in
            try await withHTTPClient { client in
                let provider = WebIdentityCredentialProvider(
                    source: .environment,
                    environment: files.environment([
                        "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
                        "AWS_ENDPOINT_URL_STS": server.endpoint,
                    ]), httpClient: client, logger: testLogger)
                let error = await #expect(throws: CredentialProviderError.self) { try await provider.credentials() }
                #expect(error?.stsErrorCode == "InvalidIdentityToken")
                #expect(error?.httpStatus == 400)
                let text = error.map { "\($0)" } ?? ""
                #expect(text.contains("Token & issuer invalid"))
                #expect(text.contains("arn:aws:iam::1:role/r"))
                #expect(!text.contains("eyJ-secret-jwt"))
            }
        }
    }

    @Test func configurationErrorsAndAbsence() async throws {
        try await withHTTPClient { client in
            let absent = WebIdentityCredentialProvider(
                source: .environment, environment: TempFiles().environment(), httpClient: client, logger: testLogger)
            let notFound = await #expect(throws: AWSSigV4Error.self) { try await absent.credentials() }
            #expect(notFound?.isCredentialsNotFound == true)
            let noRole = WebIdentityCredentialProvider(
                source: .environment, environment: TempFiles().environment(["AWS_WEB_IDENTITY_TOKEN_FILE": "/x"]),
                httpClient: client, logger: testLogger)
            await #expect(throws: CredentialProviderError.self) { try await noRole.credentials() }
        }
    }
}
