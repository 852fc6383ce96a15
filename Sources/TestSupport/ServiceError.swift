/// An error answer as the real service shapes it: a status, an error code carried in `X-Amzn-ErrorType`
/// (with Coral's `:namespace` suffix, which clients must strip) and a JSON body `{"message": ...}`.
struct ServiceError: Error, Sendable, Hashable {
    /// Which stage produced it; decides which counters it bumps.
    enum Stage: Sendable, Hashable {
        case routing, authentication, fault, validation, rejection
    }

    var status: Int
    var code: String
    var message: String
    var stage: Stage
    var retryAfterMillis: Int? = nil

    /// The `X-Amzn-ErrorType` value: the code plus the Coral namespace the real service appends.
    var errorTypeHeader: String {
        switch code {
        case "InvalidInputException": "\(code):http://internal.amazon.com/coral/com.amazon.coral.validate/"
        case "ThrottlingException", "ServiceUnavailable":
            "\(code):http://internal.amazon.com/coral/com.amazon.coral.availability/"
        default: "\(code):http://internal.amazon.com/coral/com.amazon.coral.service/"
        }
    }

    // MARK: Authentication

    static let missingAuthenticationToken = ServiceError(
        status: 403, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token",
        stage: .authentication)

    static let unrecognizedClient = ServiceError(
        status: 403, code: "UnrecognizedClientException",
        message: "The security token included in the request is invalid.", stage: .authentication)

    static let expiredToken = ServiceError(
        status: 403, code: "ExpiredTokenException",
        message: "The security token included in the request is expired", stage: .authentication)

    static func incompleteSignature(_ message: String) -> ServiceError {
        ServiceError(status: 400, code: "IncompleteSignatureException", message: message, stage: .authentication)
    }

    static func invalidSignature(_ message: String) -> ServiceError {
        ServiceError(status: 403, code: "InvalidSignatureException", message: message, stage: .authentication)
    }

    static func requestExpired(_ message: String) -> ServiceError {
        ServiceError(status: 400, code: "RequestExpired", message: message, stage: .authentication)
    }

    // MARK: Routing and validation

    static func unknownOperation(method: String, path: String) -> ServiceError {
        ServiceError(
            status: 404, code: "UnknownOperationException",
            message: "No operation matches \(method) \(path); Personalize Events takes POST to /events, /items, "
                + "/users, /actions or /action-interactions.", stage: .routing)
    }

    static func invalidInput(_ message: String, stage: Stage = .validation) -> ServiceError {
        ServiceError(status: 400, code: "InvalidInputException", message: message, stage: stage)
    }

    static func tooLarge(limit: Int) -> ServiceError {
        ServiceError(
            status: 413, code: "RequestEntityTooLargeException",
            message: "Request body is larger than the stand-in's limit of \(limit) bytes.", stage: .validation)
    }
}
