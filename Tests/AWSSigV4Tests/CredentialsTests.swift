import AWSSigV4
import Foundation
import Testing

@Suite("credentials and errors never show secrets")
struct CredentialsTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token = "SESSIONTOKENVALUE"

    @Test func descriptionsRedactSecretAndToken() {
        let credentials = AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: Self.token,
            expiration: Date(timeIntervalSince1970: 1_705_322_100)
        )
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [
            credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials),
            dumped, "\([credentials])",
        ] {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains(Self.token))
            #expect(text.contains("AKIDEXAMPLE"))
        }
        #expect(credentials.description.contains("sessionToken: <redacted>"))
        #expect(
            AWSCredentials(accessKeyId: "A", secretAccessKey: Self.secret).description
                == "AWSCredentials(accessKeyId: A, secret: <redacted>, sessionToken: <none>)"
        )
    }

    @Test func expiry() {
        let now = Date(timeIntervalSince1970: 1_000)
        let credentials = AWSCredentials(
            accessKeyId: "A", secretAccessKey: "S", expiration: now.addingTimeInterval(300)
        )
        #expect(credentials.expires(within: 600, of: now))
        #expect(!credentials.expires(within: 60, of: now))
        #expect(!AWSCredentials(accessKeyId: "A", secretAccessKey: "S").expires(within: 1e9, of: now))
    }
}
