import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The HTTP/1.1 transport of every Personalize request, http and https alike: its own event loop group, a
/// fixed-size pool of kept-alive connections per event loop (opened lazily, reused last-in first-out, one request at
/// a time), requests queued first-in first-out while every connection is busy.
///
/// Per request it hops onto the loop once (however many requests were started meanwhile), has the request written
/// (and signed) there when a connection takes it, writes and flushes head and body as one buffer (over TLS: one
/// write into the TLS handler, which encrypts it into as few records as fit and flushes them together), parses the
/// answer with an ``HTTPResponseParser`` and completes once.
///
/// https: swift-nio-ssl (BoringSSL) with the system's trust store plus `caBundlePath`, SNI and host name
/// verification, TLS 1.2 or 1.3. A certificate that does not verify fails the request with a ``ClientError`` that
/// names the host, the reason and `aws.caBundle` (the client treats it as fatal). Proxies: `CONNECT host:port`
/// through the proxy the environment names for the endpoint's scheme (http endpoints too), with
/// `Proxy-Authorization: Basic` when the proxy URL carries credentials; TLS then runs inside the tunnel.
///
/// A connection is closed when the server says `Connection: close` or closes it, when an answer cannot be parsed,
/// when a request times out or is cancelled while in flight; the request then fails with a
/// ``NIOHTTPTransportError`` (retryable for the client).
public final class NIOHTTPTransport: HTTPTransport {
    public struct Configuration: Sendable {
        /// Event loop threads (each runs its own share of the connections).
        public var threads: Int = 1
        /// Connections to the endpoint at most, over all threads.
        public var maxConnections: Int = 16
        public var connectTimeout: Duration = .seconds(10)
        /// A PEM file of CA certificates trusted in addition to the system's (https only; `aws.caBundle`,
        /// `AWS_CA_BUNDLE`).
        public var caBundlePath: String?
        /// `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`.
        public var proxy: ProxySettings = .none
        /// Larger answer bodies fail the request (and close its connection).
        public var maxResponseBytes: Int = 1 << 20

        public init(
            threads: Int = 1, maxConnections: Int = 16, connectTimeout: Duration = .seconds(10),
            caBundlePath: String? = nil, proxy: ProxySettings = .none, maxResponseBytes: Int = 1 << 20
        ) {
            self.threads = threads
            self.maxConnections = maxConnections
            self.connectTimeout = connectTimeout
            self.caBundlePath = caBundlePath
            self.proxy = proxy
            self.maxResponseBytes = maxResponseBytes
        }

        /// What the environment asks for: `AWS_CA_BUNDLE` (unless `caBundle` is configured) and the proxy variables.
        /// The other settings keep their defaults.
        public static func fromEnvironment(_ environment: [String: String], caBundle: String? = nil) -> Configuration {
            var configuration = Configuration()
            configuration.caBundlePath = caBundle ?? environment["AWS_CA_BUNDLE"].flatMap { $0.isEmpty ? nil : $0 }
            configuration.proxy = ProxySettings.fromEnvironment(environment)
            return configuration
        }
    }

    public let endpoint: Endpoint
    public let configuration: Configuration
    /// The proxy connections go through (`nil`: direct).
    public let proxy: ProxyServer?
    private let group: MultiThreadedEventLoopGroup
    private let pools: [ConnectionPool]
    private let next = Atomic<Int>(0)
    private let isShutDown = Atomic<Bool>(false)
    private let counters: Counters

    /// Connections opened so far (successful connects), for tests and metrics.
    public var connectionsOpened: Int { counters.opened.load(ordering: .relaxed) }

    public init(endpoint: Endpoint, configuration: Configuration = .init()) throws(ClientError) {
        let scheme = endpoint.scheme.lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw .configuration("endpoint \(endpoint): only http and https are supported")
        }
        let sslContext = scheme == "https" ? try Self.makeSSLContext(caBundlePath: configuration.caBundlePath) : nil
        let proxy = try configuration.proxy.proxy(for: endpoint)
        self.endpoint = endpoint
        self.configuration = configuration
        self.proxy = proxy
        let threads = max(1, configuration.threads)
        let maxConnections = max(1, configuration.maxConnections)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.group = group
        let counters = Counters()
        self.counters = counters
        let port = endpoint.port ?? (scheme == "https" ? 443 : 80)
        let target = ConnectionPool.Target(
            host: endpoint.host, port: port, sslContext: sslContext,
            serverHostname: Self.isIPAddress(endpoint.host) ? nil : endpoint.host,
            proxy: proxy.map { ProxyTunnelHandler.Route(proxy: $0, host: endpoint.host, port: port) },
            connectTimeout: .nanoseconds(configuration.connectTimeout.nanoseconds),
            maxResponseBytes: configuration.maxResponseBytes)
        let loops = Array(group.makeIterator())
        let poolCount = min(loops.count, maxConnections)
        pools = (0..<poolCount).map { i in
            let share = maxConnections / poolCount + (i < maxConnections % poolCount ? 1 : 0)
            return ConnectionPool(loop: loops[i], target: target, maxConnections: share, counters: counters)
        }
        hostHeader = endpoint.hostHeader
    }

    private let hostHeader: String

    /// Sends a request given as parts (written out with ``encode(_:hostHeader:)``), awaited.
    public func send(_ request: HTTPRequestParts, timeout: Duration) async throws -> HTTPResponseParts {
        let bytes = Self.encode(request, hostHeader: hostHeader)
        return try await send(
            EncodedHTTPRequest(method: request.method, head: Array(bytes.readableBytesView), body: []), timeout: timeout
        )
    }

    /// Queues the request on the next pool (the pools take requests in turn); fails it at once after shutdown.
    /// `encode` runs on that pool's event loop when a connection takes the request.
    @discardableResult
    public func start(
        method: String, encode: @escaping @Sendable () -> EncodedHTTPRequest, timeout: Duration, hold: Bool,
        completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) -> HTTPRequestHandle {
        if isShutDown.load(ordering: .relaxed) {
            completion(.failure(NIOHTTPTransportError.shutDown))
            return HTTPRequestHandle()
        }
        let exchange = Exchange(
            request: { Self.buffer(encode()) }, isHead: method == "HEAD",
            deadline: .now() + .nanoseconds(timeout.nanoseconds), onComplete: completion)
        let pool = nextPool()
        pool.submit(exchange, wake: !hold)
        return HTTPRequestHandle { pool.loop.execute { pool.cancel(exchange) } }
    }

    private func nextPool() -> ConnectionPool {
        pools.count == 1 ? pools[0] : pools[next.wrappingAdd(1, ordering: .relaxed).oldValue % pools.count]
    }

    /// The request's head and body in one buffer (one write, one flush, and over TLS as few records as fit).
    private static func buffer(_ request: EncodedHTTPRequest) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: request.head.count + request.body.count)
        buffer.writeBytes(request.head)
        buffer.writeBytes(request.body)
        return buffer
    }

    public func flush() {
        for pool in pools { pool.wake() }
    }

    /// The connections open now (for tests that look at their sockets).
    func connectedChannels() async throws -> [any Channel] {
        var channels: [any Channel] = []
        for pool in pools {
            channels += try await pool.loop.submit { pool.connectedChannels }.get()
        }
        return channels
    }

    /// Fails every queued and in-flight request, closes every connection and stops the event loops.
    public func shutdown() async throws {
        if isShutDown.exchange(true, ordering: .relaxed) { return }
        for pool in pools {
            try? await pool.loop.flatSubmit { pool.shutdown() }.get()
        }
        try await group.shutdownGracefully()
    }

    // MARK: Encoding

    private static let allocator = ByteBufferAllocator()

    /// `METHOD /path HTTP/1.1`, the headers (adding `host` and `content-length` when missing), the body.
    static func encode(_ request: HTTPRequestParts, hostHeader: String) -> ByteBuffer {
        let path = Self.path(of: request.url)
        var size = request.method.utf8.count + path.utf8.count + 64 + request.body.count
        var hasHost = false
        var hasLength = false
        for (name, value) in request.headers {
            size += name.utf8.count + value.utf8.count + 4
            switch name.utf8.count {
            case 4: if !hasHost, name.lowercased() == "host" { hasHost = true }
            case 14: if !hasLength, name.lowercased() == "content-length" { hasLength = true }
            default: break
            }
        }
        if !hasHost { size += hostHeader.utf8.count + 8 }
        var buffer = allocator.buffer(capacity: size)
        buffer.writeString(request.method)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeSubstring(path)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        if !hasHost {
            buffer.writeStaticString("host: ")
            buffer.writeString(hostHeader)
            buffer.writeStaticString("\r\n")
        }
        for (name, value) in request.headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if !hasLength, !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            buffer.writeStaticString("content-length: ")
            buffer.writeString(String(request.body.count))
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(request.body)
        return buffer
    }

    /// The path and query of `url` (`scheme://authority/path?query`); `/` when it has none.
    static func path(of url: String) -> Substring {
        let utf8 = url.utf8
        var index = utf8.startIndex
        // Skip "scheme://".
        if let colon = utf8.firstIndex(of: UInt8(ascii: ":")),
            utf8[utf8.index(after: colon)...].starts(with: "//".utf8)
        {
            index = utf8.index(colon, offsetBy: 3)
        } else {
            return url.hasPrefix("/") ? Substring(url) : "/"
        }
        guard let slash = utf8[index...].firstIndex(of: UInt8(ascii: "/")) else {
            if let query = utf8[index...].firstIndex(of: UInt8(ascii: "?")) { return "/" + url[query...] }
            return "/"
        }
        return url[slash...]
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || ProxySettings.ipv4Value(host) != nil
    }
}

/// Why a request through ``NIOHTTPTransport`` failed without an answer. All are worth retrying except `shutDown`.
public enum NIOHTTPTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection closed before the answer was complete.
    case connectionClosed
    /// No complete answer within the request's timeout.
    case timedOut
    /// The transport was shut down.
    case shutDown
    /// The answer's body was larger than `maxResponseBytes`.
    case responseTooLarge(Int)
    /// The server sent an answer nobody asked for.
    case unsolicitedResponse
    /// The proxy answered `CONNECT` with this status (other than 2xx and 407).
    case proxyRefused(Int)

    public var description: String {
        switch self {
        case .connectionClosed: "the connection closed before the answer was complete"
        case .timedOut: "no answer within the request timeout"
        case .shutDown: "the HTTP transport is shut down"
        case .responseTooLarge(let limit): "the answer is larger than \(limit) bytes"
        case .unsolicitedResponse: "the server sent an answer to no request"
        case .proxyRefused(let status): "the proxy refused the tunnel (CONNECT answered \(status))"
        }
    }
}

/// Counters shared by the pools of one transport.
final class Counters: Sendable {
    let opened = Atomic<Int>(0)
}

/// One request: created off the loop, then only touched on its pool's loop.
final class Exchange: @unchecked Sendable {
    private let onComplete: @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    /// Writes the request out (on the event loop, when a connection takes it).
    let request: @Sendable () -> ByteBuffer
    /// A HEAD request: its answer has no body.
    let isHead: Bool
    let deadline: NIODeadline
    /// The connection carrying it, once written.
    var connection: HTTPConnectionHandler?
    private(set) var isFinished = false

    init(
        request: @escaping @Sendable () -> ByteBuffer, isHead: Bool, deadline: NIODeadline,
        onComplete: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) {
        self.onComplete = onComplete
        self.request = request
        self.isHead = isHead
        self.deadline = deadline
    }

    func succeed(_ response: HTTPResponseParts) {
        guard !isFinished else { return }
        isFinished = true
        onComplete(.success(response))
    }

    func fail(_ error: any Error) {
        guard !isFinished else { return }
        isFinished = true
        onComplete(.failure(error))
    }
}
