import AWSSigV4
import Foundation
import Testing

@Suite("shared config files")
struct SharedConfigTests {
    @Test func parsesProfilesServicesCommentsAndNesting() throws {
        let config = try AWSSharedConfig(
            credentialsFile: """
                # leading comment
                [default]
                aws_access_key_id = AKIDDEFAULT
                AWS_Secret_Access_Key=secretdefault   ; inline comment
                [work]
                aws_access_key_id = AKIDWORK
                """,
            configFile: """
                ; config comment
                [default]
                region = us-east-1
                services = local-personalize

                [profile   work]   # comment after header
                region=eu-west-1
                aws_access_key_id = AKIDCONFIG
                s3 =
                  max_concurrent_requests = 10
                  addressing_style = path
                output = json

                [services local-personalize]
                personalize_events =
                    endpoint_url = http://127.0.0.1:4566
                s3 =
                  endpoint_url = http://127.0.0.1:9000

                [sso-session corp]
                sso_region = us-east-1
                """
        )
        #expect(config.profile("default")?["region"] == "us-east-1")
        #expect(config.profile("default")?["aws_secret_access_key"] == "secretdefault")
        #expect(config.profile("work")?["region"] == "eu-west-1")
        #expect(config.profile("work")?["aws_access_key_id"] == "AKIDWORK")  // credentials file wins
        #expect(config.profile("work")?["output"] == "json")
        #expect(config.configFileProfiles["work"]?.nested["s3"]?["addressing_style"] == "path")
        #expect(config.profile("missing") == nil)
        #expect(config.profile("corp") == nil)
        #expect(
            config.serviceSetting(profile: "default", service: "personalize_events", key: "endpoint_url")
                == "http://127.0.0.1:4566"
        )
        #expect(config.servicesSection("local-personalize")?.nested["s3"]?["endpoint_url"] == "http://127.0.0.1:9000")
        #expect(config.serviceSetting(profile: "work", service: "personalize_events", key: "endpoint_url") == nil)
    }

    @Test func continuationLinesExtendAValue() throws {
        let config = try AWSSharedConfig(
            credentialsFile: "", configFile: "[default]\ncredential_process = tool\n  --flag\r\nregion = x#y\r\n"
        )
        #expect(config.profile("default")?["credential_process"] == "tool\n--flag")
        #expect(config.profile("default")?["region"] == "x#y")
    }

    @Test func malformedFilesNameTheLineButNotTheValue() {
        let error = #expect(throws: AWSSigV4Error.self) {
            try AWSSharedConfig(
                credentialsFile: "[default]\nthis line has no equals sign secretvalue\n", configFile: "")
        }
        #expect(error?.description.contains("credentials:2") == true)
        #expect(error?.description.contains("secretvalue") == false)
        #expect(throws: AWSSigV4Error.self) { try AWSSharedConfig(credentialsFile: "key = v\n", configFile: "") }
        #expect(throws: AWSSigV4Error.self) { try AWSSharedConfig(credentialsFile: "[default\n", configFile: "") }
    }

    @Test func loadHonoursEnvironmentAndToleratesMissingFiles() throws {
        let directory = try TemporaryDirectory()
        let credentialsPath = try directory.write("creds", "[default]\naws_access_key_id = A\n")
        let config = try AWSSharedConfig.load(environment: [
            "AWS_SHARED_CREDENTIALS_FILE": credentialsPath, "AWS_CONFIG_FILE": directory.path("does-not-exist"),
        ])
        #expect(config.profile("default")?["aws_access_key_id"] == "A")
        #expect(config.configFileProfiles.isEmpty)
        #expect(AWSSharedConfig.configFilePath(environment: ["HOME": "/home/u"]) == "/home/u/.aws/config")
        #expect(AWSSharedConfig.credentialsFilePath(environment: ["HOME": "/home/u"]) == "/home/u/.aws/credentials")
    }
}
