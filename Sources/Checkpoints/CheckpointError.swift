/// Why state could not be read or written, and what to do about it.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    enum Code: Sendable { case io, corrupt, locked }

    let code: Code
    public let path: String
    public let message: String
    public let errno: Int32?

    public var description: String { "\(path): \(message)" }

    var isNotFound: Bool { errno == 2 }  // ENOENT
    public var isLocked: Bool { code == .locked }

    static func io(_ path: String, _ message: String, errno: Int32?) -> CheckpointError {
        CheckpointError(code: .io, path: path, message: message, errno: errno)
    }

    static func corrupt(_ path: String, _ message: String) -> CheckpointError {
        CheckpointError(code: .corrupt, path: path, message: message, errno: nil)
    }

    static func locked(_ path: String, _ message: String) -> CheckpointError {
        CheckpointError(code: .locked, path: path, message: message, errno: nil)
    }
}
