/// Errors of the client that are not answers of the service.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    enum Code: Sendable { case configuration, credentials, transport }

    let code: Code
    public let message: String

    public var description: String { message }

    public static func configuration(_ message: String) -> ClientError {
        ClientError(code: .configuration, message: message)
    }
    public static func credentials(_ message: String) -> ClientError {
        ClientError(code: .credentials, message: message)
    }
    public static func transport(_ message: String) -> ClientError { ClientError(code: .transport, message: message) }
}
