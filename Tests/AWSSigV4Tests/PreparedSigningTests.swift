import AWSSigV4
import Foundation
import Testing

/// A prepared request shape signs exactly as the general signer (which the AWS suite and botocore's vectors pin
/// down), whatever the headers, token, options, body and time.
@Suite struct PreparedSigningTests {
    static func render(_ headers: [(name: String, value: String)]) -> [String] {
        headers.map { "\($0.name): \($0.value)" }
    }

    @Test func preparedShapesSignLikeTheSigner() {
        let headerSets: [[(name: String, value: String)]] = [
            [("host", "personalize-events.us-east-1.amazonaws.com"), ("content-type", "application/json")],
            [("Host", "127.0.0.1:8080")],
            [("host", "h"), ("X-Amz-Meta", " a   b "), ("x-amz-target", "T"), ("zeta", "z"), ("Accept", "*/*")],
            [
                ("host", "h"), ("x-amz-date", "ignored"), ("X-Amz-Security-Token", "ignored"), ("user-agent", "ua"),
                ("authorization", "nope"), ("x-amzn-trace-id", "t"),
            ],
            [("host", "h"), ("My-Header", "one"), ("my-header", "two"), ("x-amz-user-agent", "u\t v")],
            [("host", "h"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
        ]
        let credentials = [
            AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            AWSCredentials(accessKeyId: "ASIA1", secretAccessKey: "s", sessionToken: "tok  en/with+chars=="),
        ]
        let optionSets = [
            SigV4Signer.Options(),
            SigV4Signer.Options(signsSessionToken: false),
            SigV4Signer.Options(addsContentSHA256Header: true),
            SigV4Signer.Options(normalizesPath: false),
        ]
        let paths = [("/events", ""), ("/a/./b//c", "b=2&a=1"), ("", "x=%20y")]
        var checked = 0
        for options in optionSets {
            let signer = SigV4Signer(service: "personalize", region: "eu-west-1", options: options)
            for headers in headerSets {
                for (path, query) in paths {
                    let prepared = signer.prepare(method: "POST", path: path, query: query, headers: headers)
                    for creds in credentials {
                        for (n, seconds) in [0.0, 1_700_000_000.5, 1_800_000_123].enumerated() {
                            let body = Array("{\"n\":\(n),\"é\":\"\(path)\"}".utf8)
                            let date = Date(timeIntervalSince1970: seconds)
                            let expected = signer.sign(
                                method: "POST", path: path, query: query, headers: headers, body: body,
                                credentials: creds, date: date)
                            let got = prepared.sign(body: body, credentials: creds, date: date)
                            #expect(Self.render(got) == Self.render(expected), "\(headers) \(path)?\(query) \(options)")
                            // The same headers written as HTTP/1.1 lines, for callers that write requests as bytes.
                            var lines: [UInt8] = []
                            prepared.appendSignedHeaderLines(body: body, credentials: creds, date: date, to: &lines)
                            #expect(
                                String(decoding: lines, as: UTF8.self)
                                    == Self.render(expected).map { $0 + "\r\n" }.joined())
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked == 4 * 6 * 3 * 2 * 3)
    }

    /// Signatures share a keyed HMAC per credentials and day: signing one request must not change the next one's
    /// signature (each is compared with a signer that never signed before).
    @Test func signaturesDoNotLeakIntoEachOther() {
        let creds = AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let shared = SigV4Signer(service: "personalize", region: "us-east-1")
        let headers = [(name: "host", value: "h")]
        for body in ["a", "b", "a", "", String(repeating: "x", count: 5000), "b"] {
            let fresh = SigV4Signer(service: "personalize", region: "us-east-1")
            let expected = fresh.sign(
                method: "POST", path: "/events", query: "", headers: headers, body: Array(body.utf8),
                credentials: creds,
                date: date)
            let got = shared.sign(
                method: "POST", path: "/events", query: "", headers: headers, body: Array(body.utf8),
                credentials: creds,
                date: date)
            #expect(Self.render(got) == Self.render(expected))
        }
    }
}
