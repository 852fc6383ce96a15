import AWSSigV4
import Foundation
import Testing

@Suite("environment, chain and region")
struct ChainAndRegionTests {
    struct FailingProvider: CredentialProvider {
        func credentials() async throws -> AWSCredentials {
            throw AWSSigV4Error.credentialsNotFound(source: "fake", detail: "nothing here")
        }
    }

    @Test func environmentProvider() async throws {
        let full = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "SENV", "AWS_SESSION_TOKEN": "TENV",
        ]).credentials()
        #expect(full == AWSCredentials(accessKeyId: "AKIDENV", secretAccessKey: "SENV", sessionToken: "TENV"))
        let empty = await #expect(throws: AWSSigV4Error.self) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": ""]).credentials()
        }
        #expect(empty?.isCredentialsNotFound == true)
        let partial = await #expect(throws: AWSSigV4Error.self) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "A"]).credentials()
        }
        #expect(partial?.isCredentialsNotFound == false)
        #expect(partial?.description.contains("AWS_SECRET_ACCESS_KEY") == true)
    }

    @Test func chainTakesTheFirstProviderThatYields() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("credentials", "[default]\naws_access_key_id = FROMFILE\naws_secret_access_key = S\n")
        var environment = ProfileCredentialProviderTests.environment(directory)
        #expect(
            try await CredentialProviderChain.local(environment: environment).credentials().accessKeyId == "FROMFILE")
        environment["AWS_ACCESS_KEY_ID"] = "FROMENV"
        environment["AWS_SECRET_ACCESS_KEY"] = "S"
        #expect(
            try await CredentialProviderChain.local(environment: environment).credentials().accessKeyId == "FROMENV")
        let chain = CredentialProviderChain([
            FailingProvider(), StaticCredentialProvider(accessKeyId: "STATIC", secretAccessKey: "S"),
            EnvironmentCredentialProvider(environment: environment),
        ])
        #expect(try await chain.credentials().accessKeyId == "STATIC")
    }

    @Test func chainStopsAtAMisconfiguredProvider() async throws {
        let chain = CredentialProviderChain([
            EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "A"]),
            StaticCredentialProvider(accessKeyId: "STATIC", secretAccessKey: "S"),
        ])
        await #expect(throws: AWSSigV4Error.self) { try await chain.credentials() }
    }

    @Test func noCredentialsErrorListsWhatWasTriedAndHowToFix() async throws {
        let directory = try TemporaryDirectory()
        let environment = ProfileCredentialProviderTests.environment(directory)
        let error = await #expect(throws: AWSSigV4Error.self) {
            try await CredentialProviderChain(
                CredentialProviderChain.local(environment: environment).providers + [FailingProvider()]
            )
            .credentials()
        }
        let text = error?.description ?? ""
        #expect(text.contains("environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"))
        #expect(text.contains("profile 'default': no such profile in \(directory.path("credentials"))"))
        #expect(text.contains("fake: nothing here"))
        #expect(text.contains("set AWS_ACCESS_KEY_ID"))
        #expect(text.contains("AWS_PROFILE"))
        let emptyChain = await #expect(throws: AWSSigV4Error.self) {
            try await CredentialProviderChain([]).credentials()
        }
        #expect(emptyChain?.description.contains("no credential providers configured") == true)
    }

    // MARK: - Region

    @Test func regionResolutionOrder() throws {
        let config = try AWSSharedConfig(
            credentialsFile: "", configFile: "[default]\nregion = from-default\n[profile p]\nregion = from-p\n"
        )
        let everything = ["AWS_REGION": "from-region", "AWS_DEFAULT_REGION": "from-default-region"]
        #expect(
            try RegionResolver.resolve(configured: "cfg", environment: everything, sharedConfig: config, profile: nil)
                == "cfg")
        #expect(
            try RegionResolver.resolve(configured: nil, environment: everything, sharedConfig: config, profile: nil)
                == "from-region")
        #expect(
            try RegionResolver.resolve(
                configured: "", environment: ["AWS_REGION": "", "AWS_DEFAULT_REGION": "from-default-region"],
                sharedConfig: config, profile: nil) == "from-default-region")
        #expect(
            try RegionResolver.resolve(configured: nil, environment: [:], sharedConfig: config, profile: nil)
                == "from-default")
        #expect(
            try RegionResolver.resolve(
                configured: nil, environment: ["AWS_PROFILE": "p"], sharedConfig: config, profile: nil) == "from-p")
        #expect(
            try RegionResolver.resolve(
                configured: nil, environment: ["AWS_PROFILE": "p"], sharedConfig: config, profile: "default")
                == "from-default")
    }

    @Test func missingRegionSaysWhereToSetIt() throws {
        let error = #expect(throws: AWSSigV4Error.self) {
            try RegionResolver.resolve(
                configured: nil, environment: [:],
                sharedConfig: try AWSSharedConfig(credentialsFile: "", configFile: ""),
                profile: "prod"
            )
        }
        #expect(error?.isRegionMissing == true)
        #expect(error?.description.contains("AWS_REGION") == true)
        #expect(error?.description.contains("profile 'prod'") == true)
    }
}
