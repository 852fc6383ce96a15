import Synchronization

/// One HTTP/1.1 exchange with the endpoint, without any AWS knowledge: ``NIOHTTPTransport`` in the agent (http and
/// https, direct or through a proxy), fakes in tests.
public protocol HTTPTransport: Sendable {
    /// Starts a request and reports its answer through `completion` (called once, on any thread).
    ///
    /// `encode` writes the request out when a connection takes it (on the transport's thread: signing then runs
    /// beside the caller's work, and as close to sending as it can). With `hold`, the request waits for ``flush()``,
    /// so that a series of starts costs one wake-up of the transport's thread. The handle abandons the request
    /// (``HTTPRequestHandle/cancel()``); `completion` then reports a `CancellationError`.
    @discardableResult
    func start(
        method: String, encode: @escaping @Sendable () -> EncodedHTTPRequest, timeout: Duration, hold: Bool,
        completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) -> HTTPRequestHandle

    /// Lets the requests started with `hold` go.
    func flush()

    /// Fails what is queued or in flight and closes every connection.
    func shutdown() async throws
}

extension HTTPTransport {
    /// ``start(method:encode:timeout:hold:completion:)`` for a request already written out, awaited; cancelling the
    /// task abandons the request.
    public func send(_ request: EncodedHTTPRequest, timeout: Duration) async throws -> HTTPResponseParts {
        let handle = Mutex<HTTPRequestHandle?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let started = start(method: request.method, encode: { request }, timeout: timeout, hold: false) {
                    continuation.resume(with: $0)
                }
                handle.withLock { $0 = started }
                if Task.isCancelled { started.cancel() }
            }
        } onCancel: {
            handle.withLock { $0 }?.cancel()
        }
    }
}

/// Abandons a started request (``HTTPTransport/start(method:encode:timeout:hold:completion:)``).
public final class HTTPRequestHandle: Sendable {
    private let onCancel: @Sendable () -> Void

    public init(onCancel: @escaping @Sendable () -> Void = {}) {
        self.onCancel = onCancel
    }

    /// Fails the request with a `CancellationError` unless it was answered already (a request in flight closes its
    /// connection, whose answer nobody waits for any more).
    public func cancel() {
        onCancel()
    }
}

/// A request as the bytes of an HTTP/1.1 message: `head` is the request line and every header line (`host` and
/// `content-length` included) up to and with the empty line; `body` follows it.
public struct EncodedHTTPRequest: Sendable {
    public var method: String
    public var head: [UInt8]
    public var body: [UInt8]

    public init(method: String, head: [UInt8], body: [UInt8]) {
        self.method = method
        self.head = head
        self.body = body
    }
}

/// A request as method, URL, headers and body (``NIOHTTPTransport/send(_:timeout:)`` writes it out).
public struct HTTPRequestParts: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponseParts: Sendable {
    public var status: Int
    public var body: [UInt8]
    private var headerStorage: HeaderStorage

    /// The response's headers, in the order received.
    public var headers: [(String, String)] {
        get {
            switch headerStorage {
            case .pairs(let pairs): pairs
            case .lines(let lines): HTTPResponseParser.headerPairs(lines)
            }
        }
        set { headerStorage = .pairs(newValue) }
    }

    /// Headers as pairs, or as the header lines the NIO transport received (made into pairs when read: a 2xx
    /// answer's are rarely read, and this spares a string per name and value of every answer).
    private enum HeaderStorage: Sendable {
        case pairs([(String, String)])
        case lines([UInt8])
    }

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headerStorage = .pairs(headers)
        self.body = body
    }

    init(status: Int, headerLines: [UInt8], body: [UInt8]) {
        self.status = status
        self.headerStorage = .lines(headerLines)
        self.body = body
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
