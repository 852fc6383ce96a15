import AWSSigV4
import Testing

/// The pattern net alone (no known secrets): every credential shape AWS has been seen to quote is removed, and
/// ordinary messages pass unchanged.
@Suite struct RedactionTests {
    static let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + String(repeating: "aB3+", count: 60)
    static let signature = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

    @Test func signatureMismatchMessageLosesCanonicalRequestAndStringToSign() {
        let message = """
            The request signature we calculated does not match the signature you provided. Check your AWS Secret \
            Access Key and signing method. Consult the service documentation for details.

            The Canonical String for this request should have been
            'POST
            /events

            content-type:application/json
            host:personalize-events.us-east-1.amazonaws.com
            x-amz-date:20261206T001500Z
            x-amz-security-token:\(Self.token)

            content-type;host;x-amz-date;x-amz-security-token
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

            The String-to-Sign should have been
            'AWS4-HMAC-SHA256
            20261206T001500Z
            20261206/us-east-1/personalize/aws4_request
            0d2ec50ba5da4bbd6b0fc3e6d1d4ab48b7fac1c5e5aaeb9fe1f7a54a3fc9a1f0'
            """
        let redacted = Redaction.redact(message)
        #expect(!redacted.contains("IQoJb3JpZ2lu"))
        #expect(!redacted.contains("x-amz-security-token:"))
        #expect(!redacted.contains("0d2ec50ba5da4bbd"))
        #expect(redacted.contains("does not match the signature you provided"), "the explanation stays")
        #expect(redacted.contains("should have been\n'[redacted]'"))
    }

    @Test func headerQueryJSONAndXMLShapes() {
        let cases = [
            "x-amz-security-token: \(Self.token)",
            "X-Amz-Security-Token=\(Self.token.prefix(60))&X-Amz-Date=1",
            "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/personalize/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=\(Self.signature)",
            "X-Amz-Signature=\(Self.signature)",
            #"{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "Token": "abcdefghijkl"}"#,
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "<SignatureProvided>\(Self.signature)</SignatureProvided><StringToSign>AWS4-HMAC-SHA256 x</StringToSign>",
            "<SessionToken>short-but-secret</SessionToken>",
            "something quoted \(Self.token) in passing",
            "SignatureProvided: \(Self.signature)",
            "a bare hash \(Self.signature) of the request",
        ]
        for text in cases {
            let redacted = Redaction.redact(text)
            #expect(redacted.contains(Redaction.marker), "\(text) -> \(redacted)")
            for secret in [
                String(Self.token.prefix(60)), Self.signature, "wJalrXUtnFEMI", "abcdefghijkl", "short-but-secret",
            ] {
                #expect(!redacted.contains(secret), "\(text) -> \(redacted)")
            }
        }
        #expect(Redaction.redact("Credential=AKIDEXAMPLE/2026").contains("AKIDEXAMPLE"), "the key id is not secret")
    }

    @Test func knownSecretsGoWhateverSurroundsThem() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        let text = "odd message (\(secret)) and token=tok-12345678"
        let redacted = Redaction.redact(text, knownSecrets: [secret, "tok-12345678", "ab"])
        #expect(redacted == "odd message ([redacted]) and token=[redacted]")
    }

    @Test func ordinaryMessagesPassUnchanged() {
        for text in [
            "Rate exceeded", "Invalid record 'leak-0' at 'eventList.1.member': bad itemId",
            "The security token included in the request is invalid.",
            "1 validation error detected: Value at 'trackingId' failed to satisfy constraint",
            "Signature expired: 20261206T001500Z is now earlier than 20261206T003000Z",
            "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS",
        ] {
            #expect(Redaction.redact(text) == text)
        }
    }
}
