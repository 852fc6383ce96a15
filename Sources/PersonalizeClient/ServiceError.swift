import AWSSigV4
import JSON

/// An error answer from the service, decoded the way rest-json clients do.
///
/// The message is redacted as it is decoded (``Redaction``): a signature mismatch quotes the canonical request,
/// session token included, and this is the one place every service message passes through.
public struct ServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    /// The cleaned error code (`InvalidInputException`), or `HTTP <status>` when the answer named none.
    public var code: String
    public var message: String
    public var requestId: String?

    public init(status: Int, code: String, message: String, requestId: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.requestId = requestId
    }

    public var description: String {
        var text = "\(code) (HTTP \(status))"
        if !message.isEmpty { text += ": \(message)" }
        if let requestId { text += " [request id \(requestId)]" }
        return text
    }

    /// Reads the code from `X-Amzn-ErrorType`, else the body's `code`/`Code`, else `__type`; the message from
    /// `message`/`Message`, with credential-shaped values and every one of `knownSecrets` (the secret key and session
    /// token that signed the request) removed.
    public static func decode(
        status: Int, headers: [(String, String)], body: [UInt8], knownSecrets: [String] = []
    ) -> ServiceError {
        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name }?.1
        }
        let document = try? JSONParser.parse(body)
        var code = header("x-amzn-errortype")
        if code == nil || code!.isEmpty {
            code = document?["code"]?.stringValue ?? document?["Code"]?.stringValue ?? document?["__type"]?.stringValue
        }
        let message =
            document?["message"]?.stringValue ?? document?["Message"]?.stringValue
            ?? (document == nil ? String(decoding: body.prefix(512), as: UTF8.self) : "")
        return ServiceError(
            status: status, code: Redaction.redact(code.map(clean) ?? "HTTP \(status)", knownSecrets: knownSecrets),
            message: Redaction.redact(message, knownSecrets: knownSecrets),
            requestId: header("x-amzn-requestid") ?? header("x-amz-request-id"))
    }

    /// `aws.protocoltests#FooError:http://...` → `FooError`.
    static func clean(_ raw: String) -> String {
        var code = Substring(raw)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return code.trimmingSpaces()
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// How the agent must react to an answer.
public enum ErrorClass: Sendable, Equatable {
    /// Slow down and try again.
    case throttling
    /// A passing fault of the service or the network: try again.
    case transient
    /// The request is wrong: isolate the offending records and dead-letter them.
    case invalidInput
    /// The credentials are stale: refresh them once and try again, then stop.
    case expiredCredentials
    /// Retrying cannot help and the configuration must change (wrong ARN, missing permission, bad key): stop.
    case fatal

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
        "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalFailure",
        "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException",
    ]
    static let expiredCodes: Set<String> = [
        "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId",
    ]

    public static func classify(_ error: ServiceError) -> ErrorClass {
        if throttlingCodes.contains(error.code) || error.status == 429 { return .throttling }
        if transientCodes.contains(error.code) || [500, 502, 503, 504].contains(error.status) { return .transient }
        if expiredCodes.contains(error.code) { return .expiredCredentials }
        if error.code == "InvalidInputException" || error.code == "ValidationException"
            || error.code == "SerializationException"
        {
            return .invalidInput
        }
        return .fatal
    }
}
