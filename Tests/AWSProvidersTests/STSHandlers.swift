import AWSSigV4
import Foundation

/// Re-signs a recorded STS request with the expected source credentials and compares: proves the
/// request was signed for `sts` in `region` with exactly the bytes and headers that were sent.
func isSignedCorrectly(_ request: RecordedRequest, with credentials: AWSCredentials, region: String) -> Bool {
    guard let authorization = request.header("Authorization"),
        authorization.contains("Credential=\(credentials.accessKeyId)/"),
        authorization.contains("/\(region)/sts/aws4_request"),
        let amzDate = request.header("X-Amz-Date"), let date = parseAmzDate(amzDate)
    else { return false }
    let signed = SigV4Signer(service: "sts", region: region).sign(
        method: request.method, path: request.uri, query: "",
        headers: [
            ("host", request.header("Host") ?? ""), ("content-type", request.header("Content-Type") ?? ""),
        ],
        body: Array(request.body.utf8), credentials: credentials, date: date)
    let expected = signed.first { $0.name.lowercased() == "authorization" }?.value
    return expected == authorization && request.header("X-Amz-Security-Token") == credentials.sessionToken
}

private func parseAmzDate(_ text: String) -> Date? {
    let digits = text.filter(\.isNumber)
    guard digits.count == 14 else { return nil }
    func part(_ from: Int, _ length: Int) -> Int {
        Int(digits.dropFirst(from).prefix(length))!
    }
    var components = DateComponents()
    (components.year, components.month, components.day) = (part(0, 4), part(4, 2), part(6, 2))
    (components.hour, components.minute, components.second) = (part(8, 2), part(10, 2), part(12, 2))
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(from: components)
}
