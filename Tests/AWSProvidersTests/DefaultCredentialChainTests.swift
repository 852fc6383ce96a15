import AWSSigV4
import Foundation
import Testing

@testable import AWSProviders

@Suite struct DefaultCredentialChainTests {
    @Test func imdsOnlyEnvironmentResolvesThroughTheChain() async throws {
        let files = TempFiles()
        var environment = files.environment(["AWS_EC2_METADATA_SERVICE_ENDPOINT": ""])
        environment["AWS_EC2_METADATA_DISABLED"] = nil
        try await withServer(imdsHandler()) { server in
            environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = server.endpoint
            try await withHTTPClient { client in
                let provider = DefaultCredentialChain.make(
                    profile: nil, environment: environment, httpClient: client, logger: testLogger)
                let key1 = try await provider.credentials().accessKeyId
                #expect(key1 == "ASIAIMDS")
                let key2 = try await provider.credentials().accessKeyId
                #expect(key2 == "ASIAIMDS")
                #expect(server.hits == 3)  // cached: one token, one listing, one fetch
            }
        }
    }

    @Test func environmentKeysComeFirst() async throws {
        let files = TempFiles()
        try await withServer(imdsHandler()) { server in
            try await withHTTPClient { client in
                let environment = files.environment([
                    "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret",
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/c",
                    "AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.endpoint,
                ])
                let provider = DefaultCredentialChain.make(
                    profile: nil, environment: environment, httpClient: client, logger: testLogger)
                let key3 = try await provider.credentials().accessKeyId
                #expect(key3 == "AKIDENV")
                #expect(server.hits == 0)
            }
        }
    }

    @Test func fallsThroughToTheContainerBeforeIMDS() async throws {
        let files = TempFiles()
        files.write("config", "[profile other]\nregion = us-east-1\n")
        try await withServer(answering: .ok(Fixtures.credentialsJSON())) { container in
            try await withServer(imdsHandler()) { imds in
                try await withHTTPClient { client in
                    let environment = files.environment([
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.endpoint + "/c",
                        "AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint,
                    ])
                    let provider = DefaultCredentialChain.make(
                        profile: nil, environment: environment, httpClient: client, logger: testLogger)
                    let key4 = try await provider.credentials().accessKeyId
                    #expect(key4 == "ASIACONTAINER")
                    #expect(imds.hits == 0)
                }
            }
        }
    }

    @Test func aRoleProfileIsAssumedBeforeItsKeysAreUsed() async throws {
        let files = TempFiles()
        files.write(
            "credentials",
            "[default]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = source-secret\n")
        files.write("config", "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n")
        try await withServer(answering: .ok(Fixtures.stsSuccess())) { sts in
            try await withHTTPClient { client in
                let provider = DefaultCredentialChain.make(
                    profile: nil, environment: files.environment(["AWS_ENDPOINT_URL_STS": sts.endpoint]),
                    httpClient: client, logger: testLogger)
                let key5 = try await provider.credentials().accessKeyId
                #expect(key5 == "ASIAROLE")
            }
        }
    }

    @Test func anExplicitProfileIsTheOnlySource() async throws {
        let files = TempFiles()
        files.write("credentials", "[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = work-secret\n")
        try await withServer(imdsHandler()) { imds in
            try await withHTTPClient { client in
                let environment = files.environment([
                    "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret",
                    "AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint,
                ])
                let work = DefaultCredentialChain.make(
                    profile: "work", environment: environment, httpClient: client, logger: testLogger)
                let key6 = try await work.credentials().accessKeyId
                #expect(key6 == "AKIDWORK")
                let missing = DefaultCredentialChain.make(
                    profile: "typo", environment: environment, httpClient: client, logger: testLogger)
                let text = try #require(await errorText { _ = try await missing.credentials() })
                #expect(text.contains("typo"))
                #expect(imds.hits == 0)
            }
        }
    }

    @Test func nothingConfiguredListsEverySourceWithoutSecrets() async throws {
        let files = TempFiles()
        try await withHTTPClient { client in
            let provider = DefaultCredentialChain.make(
                profile: nil, environment: files.environment(), httpClient: client, logger: testLogger)
            let text = try #require(await errorText { _ = try await provider.credentials() })
            for source in ["environment", "web identity", "container", "EC2 instance metadata"] {
                #expect(text.contains(source))
            }
        }
    }
}
