/// The process exit codes, documented in the README.
public enum ExitStatus: Int32, Sendable {
    /// Every record read was acknowledged by the service (or skipped by `unmatched: skip`).
    case delivered = 0
    /// An unexpected internal error.
    case internalError = 1
    /// The configuration, the credentials, or a service answer such as AccessDenied or ResourceNotFound that only
    /// a change of configuration fixes.
    case configuration = 2
    /// Finished, but some records were dead-lettered.
    case deadLettered = 3
    /// Stopped before everything was delivered (signal, deadline, service unavailable); the rest is sent next time.
    case incomplete = 4
    /// Another agent holds the state directory's lock.
    case locked = 5
}

/// An error that stops start-up, with the exit status it maps to.
public struct StartupError: Error, CustomStringConvertible {
    public var status: ExitStatus
    public var message: String
    public var description: String { message }

    package init(status: ExitStatus, message: String) {
        self.status = status
        self.message = message
    }
}
