/// Why a Personalize control-plane request failed: the service's error code and message, or the transport's.
///
/// Never carries credentials or signatures: only the operation and what the service answered.
public struct ControlError: Error, Sendable, CustomStringConvertible {
    /// The service's error code (`ResourceNotFoundException`, ...) when it answered with one.
    public let code: String?
    /// The HTTP status when the service answered.
    public let status: Int?
    public let message: String
    let transport: Bool

    init(operation: String, status: Int, code: String, message: String) {
        self.code = code
        self.status = status
        self.message = "\(operation): HTTP \(status) \(code)\(message.isEmpty ? "" : ": \(message)")"
        transport = false
    }

    init(operation: String, transport detail: String) {
        code = nil
        status = nil
        message = "\(operation): \(detail)"
        transport = true
    }

    init(configuration message: String) {
        code = nil
        status = nil
        self.message = message
        transport = false
    }

    /// Whether the same request may succeed later: transport failures, throttling, 5xx, expired tokens.
    public var isRetryable: Bool {
        if transport { return true }
        if let status, status >= 500 || status == 429 { return true }
        return [
            "ThrottlingException", "LimitExceededException", "ExpiredTokenException", "ServiceUnavailable",
            "RequestExpired",
        ].contains(code ?? "")
    }

    public var description: String { message }
}
