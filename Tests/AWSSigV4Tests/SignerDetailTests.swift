import AWSSigV4
import Foundation
import Testing

/// Details of the signer not pinned down by the vector suites.
@Suite("signer details")
struct SignerDetailTests {
    static let credentials = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRET")

    @Test(arguments: [
        (0, "19700101T000000Z"),
        (951_782_400, "20000229T000000Z"),  // leap day of a year divisible by 400
        (1_709_251_199, "20240229T235959Z"),
        (1_709_251_200, "20240301T000000Z"),
        (4_102_444_799, "20991231T235959Z"),
        (-1, "19691231T235959Z"),
    ])
    func amzDate(epochSeconds: Int, expected: String) {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: TimeInterval(epochSeconds))) == expected)
    }

    @Test func amzDateMatchesFoundationForManyInstants() {
        let formatter = Date.ISO8601FormatStyle(timeZone: .gmt)
        for step in 0..<2_000 {
            let date = Date(timeIntervalSince1970: TimeInterval(step) * 1_234_567.891)
            let iso = date.formatted(formatter)  // 2024-01-15T12:35:00Z
            let expected = iso.filter { $0 != "-" && $0 != ":" }
            #expect(SigV4Signer.amzDate(date) == expected)
        }
    }

    @Test func fractionalSecondsAreTruncated() {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 59.999)) == "19700101T000059Z")
    }

    @Test(arguments: [
        ("/events", "/events"),
        ("", "/"),
        ("/a%20b/c", "/a%2520b/c"),  // wire path encoded once more
        ("/a/./b/../c//d/", "/a/c/d/"),
        ("/../..", "/"),
        ("/k\u{00e9}y", "/k%C3%A9y"),
    ])
    func canonicalURI(path: String, expected: String) {
        let signer = SigV4Signer(service: "personalize", region: "us-east-1")
        let canonical = signer.canonicalRequest(
            method: "POST", path: path, query: "", headers: [("host", "h")], payloadHash: "x",
            credentials: Self.credentials, date: Date(timeIntervalSince1970: 0)
        )
        #expect(canonical.split(separator: "\n", omittingEmptySubsequences: false)[1] == Substring(expected))
    }

    @Test func queryIsDecodedReencodedAndSorted() {
        let signer = SigV4Signer(service: "personalize", region: "us-east-1")
        let canonical = signer.canonicalRequest(
            method: "GET", path: "/", query: "b=2&a=z&a=y&c&d=%7e+x&e=a b", headers: [("host", "h")],
            payloadHash: "x", credentials: Self.credentials, date: Date(timeIntervalSince1970: 0)
        )
        #expect(canonical.split(separator: "\n")[2] == "a=y&a=z&b=2&c=&d=~%2Bx&e=a%20b")
    }

    @Test func reservedAndUnsignableHeadersAreReplacedOrSkipped() {
        let signer = SigV4Signer(service: "personalize", region: "us-east-1")
        let canonical = signer.canonicalRequest(
            method: "POST", path: "/events", query: "",
            headers: [
                ("Host", "h"), ("User-Agent", "agent/1"), ("Authorization", "old"), ("X-Amz-Date", "old"),
                ("X-Custom", "  a \t  b  "),
            ],
            payloadHash: "x", credentials: Self.credentials, date: Date(timeIntervalSince1970: 0)
        )
        #expect(
            canonical
                == "POST\n/events\n\nhost:h\nx-amz-date:19700101T000000Z\nx-custom:a b\n\nhost;x-amz-date;x-custom\nx")
    }

    @Test func contentSHA256OptionAddsAndSignsTheHeader() {
        let signer = SigV4Signer(service: "s", region: "r", options: .init(addsContentSHA256Header: true))
        let headers = signer.sign(
            method: "POST", path: "/", query: "", headers: [("host", "h")], body: [UInt8](),
            credentials: Self.credentials, date: Date(timeIntervalSince1970: 0)
        )
        let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        #expect(headers.contains { $0.name == "X-Amz-Content-SHA256" && $0.value == emptyHash })
        #expect(headers.last?.value.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,") == true)
    }

    @Test func credentialScopeAndCachedKeysAcrossDaysAndCredentials() {
        let signer = SigV4Signer(service: "personalize", region: "eu-west-1")
        let day1 = Date(timeIntervalSince1970: 1_705_322_100)
        let day2 = day1.addingTimeInterval(86_400)
        #expect(signer.credentialScope(date: day1) == "20240115/eu-west-1/personalize/aws4_request")
        let other = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "OTHER")
        let sts = "AWS4-HMAC-SHA256\n..."
        // Interleave days and secrets so stale cache entries would show up as equal signatures.
        let a1 = signer.signature(stringToSign: sts, credentials: Self.credentials, date: day1)
        let a2 = signer.signature(stringToSign: sts, credentials: Self.credentials, date: day2)
        let b1 = signer.signature(stringToSign: sts, credentials: other, date: day1)
        #expect(Set([a1, a2, b1]).count == 3)
        #expect(signer.signature(stringToSign: sts, credentials: Self.credentials, date: day1) == a1)
        let fresh = SigV4Signer(service: "personalize", region: "eu-west-1")
        #expect(fresh.signature(stringToSign: sts, credentials: other, date: day1) == b1)
    }

    @Test func concurrentSigningIsConsistent() async {
        let signer = SigV4Signer(service: "personalize", region: "us-east-1")
        let date = Date(timeIntervalSince1970: 1_705_322_100)
        let reference = signer.signature(stringToSign: "x", credentials: Self.credentials, date: date)
        let results = await withTaskGroup(of: String.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let fresh = AWSCredentials(accessKeyId: "AKID\(index % 8)", secretAccessKey: "S\(index % 8)")
                    _ = signer.signature(stringToSign: "x", credentials: fresh, date: date)
                    return signer.signature(stringToSign: "x", credentials: Self.credentials, date: date)
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 == reference })
    }
}
