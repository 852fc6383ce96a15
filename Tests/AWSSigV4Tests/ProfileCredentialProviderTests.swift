import AWSSigV4
import Foundation
import Testing

@Suite("profile credentials")
struct ProfileCredentialProviderTests {
    /// An environment pointing both shared files into `directory`.
    static func environment(_ directory: TemporaryDirectory, _ extra: [String: String] = [:]) -> [String: String] {
        [
            "AWS_SHARED_CREDENTIALS_FILE": directory.path("credentials"), "AWS_CONFIG_FILE": directory.path("config"),
            "HOME": directory.url.path,
        ].merging(extra) { _, new in new }
    }

    @Test func defaultProfileFromCredentialsFile() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "credentials", "[default]\naws_access_key_id = AKID1\naws_secret_access_key = S1\naws_session_token = T1\n")
        let credentials = try await ProfileCredentialProvider(environment: Self.environment(directory)).credentials()
        #expect(credentials == AWSCredentials(accessKeyId: "AKID1", secretAccessKey: "S1", sessionToken: "T1"))
    }

    @Test func awsProfileSelectsAConfigFileProfile() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "config",
            "[default]\nregion = x\n[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = SDEV\n")
        let environment = Self.environment(directory, ["AWS_PROFILE": "dev"])
        let credentials = try await ProfileCredentialProvider(environment: environment).credentials()
        #expect(credentials.accessKeyId == "AKIDDEV")
        // An explicit profile argument beats AWS_PROFILE.
        await #expect(throws: AWSSigV4Error.self) {
            try await ProfileCredentialProvider(profile: "other", environment: environment).credentials()
        }
    }

    @Test func credentialsFileWinsOverConfigFile() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("credentials", "[dev]\naws_access_key_id = FROMCREDENTIALS\naws_secret_access_key = S\n")
        try directory.write("config", "[profile dev]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = S2\n")
        let credentials = try await ProfileCredentialProvider(profile: "dev", environment: Self.environment(directory))
            .credentials()
        #expect(credentials.accessKeyId == "FROMCREDENTIALS")
    }

    @Test func missingProfiles() async throws {
        let directory = try TemporaryDirectory()
        // The implicit default may be absent: the chain should move on.
        let implicit = await #expect(throws: AWSSigV4Error.self) {
            try await ProfileCredentialProvider(environment: Self.environment(directory)).credentials()
        }
        #expect(implicit?.isCredentialsNotFound == true)
        // A profile the user named must exist.
        let named = await #expect(throws: AWSSigV4Error.self) {
            try await ProfileCredentialProvider(environment: Self.environment(directory, ["AWS_PROFILE": "typo"]))
                .credentials()
        }
        #expect(named?.isCredentialsNotFound == false)
        #expect(named?.description.contains("profile 'typo' was not found") == true)
    }

    @Test func roleOnlyProfileIsNotFoundHereAndSaysWhy() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("config", "[default]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n")
        let error = await #expect(throws: AWSSigV4Error.self) {
            try await ProfileCredentialProvider(environment: Self.environment(directory)).credentials()
        }
        #expect(error?.isCredentialsNotFound == true)
        #expect(error?.description.contains("role_arn") == true)
    }

    @Test func halfAKeyPairIsAnError() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("credentials", "[default]\naws_access_key_id = AKID\n")
        let error = await #expect(throws: AWSSigV4Error.self) {
            try await ProfileCredentialProvider(environment: Self.environment(directory)).credentials()
        }
        #expect(error?.isCredentialsNotFound == false)
    }

    // MARK: - credential_process

    @Test func credentialProcessSuccess() async throws {
        let directory = try TemporaryDirectory()
        let output =
            #"{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "SPROC", "SessionToken": "TPROC", "Expiration": "2030-01-02T03:04:05Z"}"#
        let script = try directory.write("creds.json", output)
        try directory.write("config", "[profile proc]\ncredential_process = cat '\(script)'\n")
        let credentials = try await ProfileCredentialProvider(profile: "proc", environment: Self.environment(directory))
            .credentials()
        #expect(credentials.accessKeyId == "AKIDPROC")
        #expect(credentials.secretAccessKey == "SPROC")
        #expect(credentials.sessionToken == "TPROC")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_893_553_445))
    }

    @Test func credentialProcessFractionalExpirationAndNoToken() async throws {
        let directory = try TemporaryDirectory()
        let json = #"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"2030-01-02T03:04:05.250Z"}"#
        try directory.write("config", "[default]\ncredential_process = printf '%s' '\(json)'\n")
        let credentials = try await ProfileCredentialProvider(environment: Self.environment(directory)).credentials()
        #expect(credentials.sessionToken == nil)
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_893_553_445.25))
    }

    @Test func credentialProcessFailureIsReportedWithStderrButNotStdout() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "config", "[default]\ncredential_process = echo LEAKEDSECRET; echo 'token expired, run login' >&2; exit 3\n"
        )
        let error = await #expect(throws: AWSSigV4Error.self) {
            try await ProfileCredentialProvider(environment: Self.environment(directory)).credentials()
        }
        let text = error?.description ?? ""
        #expect(text.contains("status 3"))
        #expect(text.contains("token expired, run login"))
        #expect(!text.contains("LEAKEDSECRET"))
        #expect(error?.isCredentialsNotFound == false)
    }

    @Test(arguments: [
        (#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "S"}"#, "Version is 2"),
        (#"{"Version": 1, "AccessKeyId": "A"}"#, "SecretAccessKey is missing"),
        (#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "soon"}"#, "Expiration 'soon'"),
        ("not json", "not a JSON object"),
    ])
    func credentialProcessBadOutput(output: String, expected: String) async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("out.txt", output)
        try directory.write("config", "[default]\ncredential_process = cat '\(file)'\n")
        let error = await #expect(throws: AWSSigV4Error.self) {
            try await ProfileCredentialProvider(environment: Self.environment(directory)).credentials()
        }
        #expect(error?.description.contains(expected) == true)
    }

    @Test func staticKeysInCredentialsFileBeatCredentialProcess() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("credentials", "[default]\naws_access_key_id = STATIC\naws_secret_access_key = S\n")
        try directory.write("config", "[default]\ncredential_process = exit 1\n")
        let credentials = try await ProfileCredentialProvider(environment: Self.environment(directory)).credentials()
        #expect(credentials.accessKeyId == "STATIC")
    }
}
