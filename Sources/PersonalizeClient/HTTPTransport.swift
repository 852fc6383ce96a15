import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One HTTP exchange, without any AWS knowledge: the seam tests and benchmarks replace.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestParts, timeout: Duration) async throws -> HTTPResponseParts
    func shutdown() async throws
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
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// async-http-client with a pooled, kept-alive set of connections.
public final class AsyncHTTPTransport: HTTPTransport {
    private let client: HTTPClient

    public struct Options: Sendable {
        public var connectTimeout: Duration = .seconds(10)
        public var maxConnectionsPerHost: Int = 16
        public var idleTimeout: Duration = .seconds(60)
        public init() {}
    }

    public init(options: Options = .init()) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .nanoseconds(Int64(options.connectTimeout.components.seconds) * 1_000_000_000))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(Int64(options.idleTimeout.components.seconds)),
            concurrentHTTP1ConnectionsPerHostSoftLimit: options.maxConnectionsPerHost)
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func send(_ request: HTTPRequestParts, timeout: Duration) async throws -> HTTPResponseParts {
        var r = HTTPClientRequest(url: request.url)
        r.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { r.headers.add(name: name, value: value) }
        r.body = .bytes(ByteBuffer(bytes: request.body))
        let nanos = Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let response = try await client.execute(r, timeout: .nanoseconds(nanos))
        var body = try await response.body.collect(upTo: 1 << 20)
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        return HTTPResponseParts(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: bytes)
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }
}
