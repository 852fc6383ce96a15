import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL
import Foundation

/// One HTTP exchange, without any AWS knowledge: the seam tests and benchmarks replace.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestParts, timeout: Duration) async throws -> HTTPResponseParts
    /// Starts `request` without a task and reports its answer through `completion` (called once, on any thread).
    /// With `hold`, the request waits for ``flush()``, so that a series of starts costs one wake-up of the
    /// transport's thread. Returns false, without calling `completion`, when this transport cannot (callers then
    /// use `send`; ``startsWithoutTask`` says so beforehand).
    func start(
        _ request: HTTPRequestParts, timeout: Duration, hold: Bool,
        completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) -> Bool
    /// Lets the requests started with `hold` go.
    func flush()
    /// Whether ``start(_:timeout:hold:completion:)`` can start requests (callers skip preparing one otherwise).
    var startsWithoutTask: Bool { get }
    /// ``start(_:timeout:hold:completion:)`` for a request its caller wrote out as HTTP/1.1 bytes. Returns false,
    /// without calling `completion`, when this transport cannot take such requests (``acceptsEncodedRequests``
    /// says so beforehand).
    func start(
        encoded request: EncodedHTTPRequest, timeout: Duration, hold: Bool,
        completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) -> Bool
    /// Whether ``start(encoded:timeout:hold:completion:)`` can start requests.
    var acceptsEncodedRequests: Bool { get }
    /// ``start(encoded:timeout:hold:completion:)`` for a request written out only when it is about to go: a
    /// transport with a thread of its own calls `encode` there (signing then runs beside the caller's work, and
    /// as close to sending as it can). The default calls it at once.
    func start(
        method: String, encode: @escaping @Sendable () -> EncodedHTTPRequest, timeout: Duration, hold: Bool,
        completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) -> Bool
    func shutdown() async throws
}

extension HTTPTransport {
    public func start(
        _ request: HTTPRequestParts, timeout: Duration, hold: Bool,
        completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) -> Bool {
        false
    }

    public func flush() {}

    public var startsWithoutTask: Bool { false }

    public func start(
        encoded request: EncodedHTTPRequest, timeout: Duration, hold: Bool,
        completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) -> Bool {
        false
    }

    public var acceptsEncodedRequests: Bool { false }

    public func start(
        method: String, encode: @escaping @Sendable () -> EncodedHTTPRequest, timeout: Duration, hold: Bool,
        completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) -> Bool {
        start(encoded: encode(), timeout: timeout, hold: hold, completion: completion)
    }
}

/// A request as the bytes of an HTTP/1.1 message: `head` is the request line and every header line (`host` and
/// `content-length` included) up to and with the empty line; `body` follows it. For transports that write requests
/// as they are (``HTTPTransport/start(encoded:timeout:hold:completion:)``).
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

/// async-http-client with a pooled, kept-alive set of connections.
///
/// ``init(endpoint:options:)`` also applies a custom CA bundle and an HTTP proxy (chosen for the endpoint's host,
/// since async-http-client applies one proxy to a whole client); ``init(options:)`` uses neither.
public final class AsyncHTTPTransport: HTTPTransport {
    private let client: HTTPClient
    /// The proxy requests go through (`nil`: direct).
    public let proxy: ProxyServer?

    public struct Options: Sendable {
        public var connectTimeout: Duration = .seconds(10)
        public var maxConnectionsPerHost: Int = 16
        public var idleTimeout: Duration = .seconds(60)
        /// A PEM file of CA certificates trusted in addition to the system's (`AWS_CA_BUNDLE`, `aws.caBundle`).
        public var caBundlePath: String?
        /// `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`.
        public var proxy: ProxySettings = .none
        public init() {}

        /// The options the environment asks for: `AWS_CA_BUNDLE` (unless `caBundle` is configured) and the proxy
        /// variables. Timeouts and pool size keep their defaults.
        public static func fromEnvironment(_ environment: [String: String], caBundle: String? = nil) -> Options {
            var options = Options()
            options.caBundlePath = caBundle ?? environment["AWS_CA_BUNDLE"].flatMap { $0.isEmpty ? nil : $0 }
            options.proxy = ProxySettings.fromEnvironment(environment)
            return options
        }
    }

    /// Without CA bundle or proxy (both are ignored here; use ``init(endpoint:options:)``).
    public init(options: Options = .init()) {
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.configuration(options, tls: nil, proxy: nil))
        proxy = nil
    }

    /// For requests to `endpoint`: trusts `options.caBundlePath` besides the system roots, and goes through the
    /// proxy the environment names for that endpoint's scheme unless `NO_PROXY` matches its host.
    public init(endpoint: Endpoint, options: Options) throws(ClientError) {
        var tls: TLSConfiguration?
        if let path = options.caBundlePath {
            let roots = try Self.loadCABundle(path)
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.additionalTrustRoots = [.certificates(roots)]
            tls = configuration
        }
        let proxy = try options.proxy.proxy(for: endpoint)
        var ahcProxy: HTTPClient.Configuration.Proxy?
        if let proxy {
            ahcProxy = .server(
                host: proxy.host, port: proxy.port,
                authorization: proxy.username.map { .basic(username: $0, password: proxy.password ?? "") })
        }
        client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: Self.configuration(options, tls: tls, proxy: ahcProxy))
        self.proxy = proxy
    }

    private static func configuration(
        _ options: Options, tls: TLSConfiguration?, proxy: HTTPClient.Configuration.Proxy?
    ) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .nanoseconds(options.connectTimeout.nanoseconds))
        configuration.connectionPool = .init(
            idleTimeout: .nanoseconds(options.idleTimeout.nanoseconds),
            concurrentHTTP1ConnectionsPerHostSoftLimit: options.maxConnectionsPerHost)
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        configuration.httpVersion = .http1Only
        if let tls { configuration.tlsConfiguration = tls }
        configuration.proxy = proxy
        return configuration
    }

    /// Checks a CA bundle as ``init(endpoint:options:)`` would (for `validate`); returns how many certificates it holds.
    @discardableResult
    public static func checkCABundle(_ path: String) throws(ClientError) -> Int {
        try loadCABundle(path).count
    }

    /// Reads the CA certificates of a PEM bundle, with an error that names the file and the fix.
    static func loadCABundle(_ path: String) throws(ClientError) -> [NIOSSLCertificate] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .configuration("CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) does not exist")
        }
        guard !isDirectory.boolValue else {
            throw .configuration("CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) is a directory; name a PEM file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .configuration("CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) cannot be read by this user")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw .configuration(
                "CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) is not a PEM certificate bundle: \(error)")
        }
        guard !certificates.isEmpty else {
            throw .configuration(
                "CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }

    public func send(_ request: HTTPRequestParts, timeout: Duration) async throws -> HTTPResponseParts {
        var r = HTTPClientRequest(url: request.url)
        r.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { r.headers.add(name: name, value: value) }
        r.body = .bytes(ByteBuffer(bytes: request.body))
        let response = try await client.execute(r, timeout: .nanoseconds(timeout.nanoseconds))
        var body = try await response.body.collect(upTo: 1 << 20)
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        return HTTPResponseParts(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: bytes)
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
