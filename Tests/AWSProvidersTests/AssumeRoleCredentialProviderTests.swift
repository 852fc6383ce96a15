import AWSSigV4
import Foundation
import Testing

@testable import AWSProviders

@Suite struct AssumeRoleCredentialProviderTests {
    static let source = AWSCredentials(accessKeyId: "AKIDSOURCE", secretAccessKey: "source-secret")

    func provider(_ files: TempFiles, _ server: LocalHTTPServer, profile: String, _ client: HTTPClientBox)
        -> AssumeRoleCredentialProvider
    {
        AssumeRoleCredentialProvider(
            profile: profile,
            environment: files.environment(["AWS_ENDPOINT_URL_STS": server.endpoint, "AWS_REGION": "eu-west-1"]),
            httpClient: client.client, logger: testLogger)
    }

    @Test func assumesTheRoleOfAProfileWithSignedRequest() async throws {
        let files = TempFiles()
        files.write("credentials", "[base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = source-secret\n")
        files.write(
            "config",
            """
            [profile deploy]
            role_arn = arn:aws:iam::123456789012:role/deploy
            source_profile = base
            external_id = ext-123
            role_session_name = tail-session
            duration_seconds = 900
            """)
        let expiry = Fixtures.expirationDate
        let answer = Fixtures.stsSuccess(expiration: Fixtures.expirationText(expiry, fraction: ".5"))
        try await withServer(answering: .ok(answer)) { server in
            try await withHTTPClient { client in
                let credentials = try await provider(files, server, profile: "deploy", HTTPClientBox(client))
                    .credentials()
                #expect(credentials.accessKeyId == "ASIAROLE")
                #expect(credentials.secretAccessKey == "role-secret")
                #expect(credentials.expiration == expiry.addingTimeInterval(0.5))
                let request = try #require(server.requests.first)
                #expect(request.method == "POST" && request.uri == "/")
                #expect(request.header("Content-Type")?.hasPrefix("application/x-www-form-urlencoded") == true)
                #expect(
                    request.form == [
                        "Action": "AssumeRole", "Version": "2011-06-15",
                        "RoleArn": "arn:aws:iam::123456789012:role/deploy", "RoleSessionName": "tail-session",
                        "ExternalId": "ext-123", "DurationSeconds": "900",
                    ])
                #expect(request.header("Authorization")?.contains("/eu-west-1/sts/aws4_request") == true)
                #expect(isSignedCorrectly(request, with: Self.source, region: "eu-west-1"))
            }
        }
    }

    @Test func chainsRolesWithTheFirstRolesCredentials() async throws {
        let files = TempFiles()
        files.write(
            "config",
            """
            [profile inner]
            role_arn = arn:aws:iam::1:role/inner
            source_profile = base
            [profile outer]
            role_arn = arn:aws:iam::2:role/outer
            source_profile = inner
            [profile base]
            aws_access_key_id = AKIDSOURCE
            aws_secret_access_key = source-secret
            """)
        let handler: @Sendable (RecordedRequest) -> CannedResponse = { request in
            request.form["RoleArn"] == "arn:aws:iam::1:role/inner"
                ? .ok(Fixtures.stsSuccess(key: "ASIAINNER", secret: "inner-secret", token: "inner-token"))
                : .ok(Fixtures.stsSuccess(key: "ASIAOUTER"))
        }
        try await withServer(handler) { server in
            try await withHTTPClient { client in
                let credentials = try await provider(files, server, profile: "outer", HTTPClientBox(client))
                    .credentials()
                #expect(credentials.accessKeyId == "ASIAOUTER")
                let requests = server.requests
                #expect(
                    requests.map { $0.form["RoleArn"] } == ["arn:aws:iam::1:role/inner", "arn:aws:iam::2:role/outer"])
                #expect(isSignedCorrectly(requests[0], with: Self.source, region: "eu-west-1"))
                let inner = AWSCredentials(
                    accessKeyId: "ASIAINNER", secretAccessKey: "inner-secret", sessionToken: "inner-token")
                #expect(isSignedCorrectly(requests[1], with: inner, region: "eu-west-1"))
            }
        }
    }

    @Test func detectsSourceProfileLoops() async throws {
        let files = TempFiles()
        files.write(
            "config",
            "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
                + "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n")
        try await withServer(answering: .ok(Fixtures.stsSuccess())) { server in
            try await withHTTPClient { client in
                let text = try #require(
                    await errorText {
                        _ = try await provider(files, server, profile: "a", HTTPClientBox(client)).credentials()
                    })
                #expect(text.contains("loop"))
                #expect(server.hits == 0)
            }
        }
    }

    @Test func selfSourcedProfileUsesItsOwnKeys() async throws {
        let files = TempFiles()
        files.write("credentials", "[me]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = source-secret\n")
        files.write("config", "[profile me]\nrole_arn = arn:aws:iam::1:role/me\nsource_profile = me\n")
        try await withServer(answering: .ok(Fixtures.stsSuccess())) { server in
            try await withHTTPClient { client in
                let credentials = try await provider(files, server, profile: "me", HTTPClientBox(client)).credentials()
                #expect(credentials.accessKeyId == "ASIAROLE")
                let request2 = try #require(server.requests.first)
                #expect(isSignedCorrectly(request2, with: Self.source, region: "eu-west-1"))
            }
        }
    }

    @Test func credentialSourceEnvironment() async throws {
        let files = TempFiles()
        files.write("config", "[default]\nrole_arn = arn:aws:iam::1:role/env\ncredential_source = Environment\n")
        try await withServer(answering: .ok(Fixtures.stsSuccess())) { server in
            try await withHTTPClient { client in
                let provider = AssumeRoleCredentialProvider(
                    profile: nil,
                    environment: files.environment([
                        "AWS_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": "AKIDSOURCE",
                        "AWS_SECRET_ACCESS_KEY": "source-secret",
                    ]), httpClient: client, logger: testLogger)
                let key1 = try await provider.credentials().accessKeyId
                #expect(key1 == "ASIAROLE")
                // No region configured: STS's us-east-1.
                let request3 = try #require(server.requests.first)
                #expect(isSignedCorrectly(request3, with: Self.source, region: "us-east-1"))
            }
        }
    }

    @Test func stsErrorNamesCodeRoleAndStatusButNoSecret() async throws {
        let files = TempFiles()
        files.write(
            "config",
            "[profile p]\nrole_arn = arn:aws:iam::1:role/denied\nsource_profile = base\n"
                + "[profile base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = source-secret\n"
                + "aws_session_token = source-session-token\n")
        let answer = CannedResponse(status: 403, body: Fixtures.stsError("AccessDenied", "not authorized"))
        try await withServer(answering: answer) { server in
            try await withHTTPClient { client in
                let text = try #require(
                    await errorText {
                        _ = try await provider(files, server, profile: "p", HTTPClientBox(client)).credentials()
                    })
                for expected in [
                    "AccessDenied", "not authorized", "403", "arn:aws:iam::1:role/denied", server.endpoint,
                ] {
                    #expect(text.contains(expected))
                }
                #expect(!text.contains("source-secret") && !text.contains("source-session-token"))
            }
        }
    }

    @Test func profilesWithoutARoleAreNotFound() async throws {
        let files = TempFiles()
        files.write("credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = B\n")
        _ = try await withServer(answering: .ok("")) { server in
            try await withHTTPClient { client in
                for profile in ["default", "missing"] {
                    let error = await #expect(throws: AWSSigV4Error.self) {
                        try await provider(files, server, profile: profile, HTTPClientBox(client)).credentials()
                    }
                    #expect(error?.isCredentialsNotFound == true)
                }
            }
        }
    }

    @Test func roleWithoutSourceIsAConfigurationError() async throws {
        let files = TempFiles()
        files.write("config", "[profile p]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Nowhere\n")
        _ = try await withServer(answering: .ok("")) { server in
            try await withHTTPClient { client in
                await #expect(throws: CredentialProviderError.self) {
                    try await provider(files, server, profile: "p", HTTPClientBox(client)).credentials()
                }
            }
        }
    }
}
