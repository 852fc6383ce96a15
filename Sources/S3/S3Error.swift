/// Why an S3 request failed: the service's error code and message, or the transport's, with the operation and key.
///
/// Never carries credentials or signatures: only what the service answered in its error document and the request's
/// bucket and key.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable {
        case service(status: Int, code: String)
        case transport
        case configuration
        case response
    }

    private let code: Code
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The service answered with an error document (or a bare status).
    public static func service(operation: String, status: Int, code: String, message: String, key: String) -> S3Error {
        S3Error(
            .service(status: status, code: code),
            "\(operation) \(key): HTTP \(status) \(code)\(message.isEmpty ? "" : ": \(message)")")
    }

    /// The request could not be sent or its answer not read (connection refused, timeout).
    public static func transport(operation: String, key: String, _ detail: String) -> S3Error {
        S3Error(.transport, "\(operation) \(key): \(detail)")
    }

    /// A location, endpoint or setting that cannot work; the message says how to fix it.
    public static func configuration(_ message: String) -> S3Error { S3Error(.configuration, message) }

    /// The service answered 2xx with a document this client cannot read.
    public static func response(operation: String, key: String, _ detail: String) -> S3Error {
        S3Error(.response, "\(operation) \(key): unexpected answer (\(detail))")
    }

    /// The HTTP status of a service error, else `nil`.
    public var status: Int? {
        if case .service(let status, _) = code { return status }
        return nil
    }

    /// The S3 error code (`NoSuchUpload`, `SlowDown`, ...) of a service error, else `nil`.
    public var serviceCode: String? {
        if case .service(_, let code) = code { return code }
        return nil
    }

    /// Whether trying the same request again may succeed: transport failures, throttling, 5xx, expired tokens.
    public var isRetryable: Bool {
        switch code {
        case .transport: return true
        case .service(let status, let code):
            if status >= 500 || status == 429 { return true }
            return [
                "SlowDown", "RequestTimeout", "RequestTimeTooSkewed", "ExpiredToken", "InternalError",
                "ServiceUnavailable", "Throttling", "ThrottlingException",
            ].contains(code)
        case .configuration, .response: return false
        }
    }

    /// Whether the credentials were refused as expired (they are fetched afresh before the retry).
    public var isExpiredCredentials: Bool {
        ["ExpiredToken", "TokenRefreshRequired", "RequestTimeTooSkewed"].contains(serviceCode ?? "")
    }

    public var description: String { message }
}
