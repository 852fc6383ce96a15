import AgentConfig
import Engine
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The opt-in HTTP endpoint: `GET /metrics` (Prometheus text format) and `GET /health` (200 or 503 with a JSON
/// body), on `metrics.listen`.
///
/// ``bind(listen:metrics:unhealthyAfterSeconds:logger:)`` binds at start-up, so a port in use is a start-up error
/// rather than a failure in the middle of a run; ``run()`` serves until graceful shutdown (or cancellation) and
/// then closes the listening socket. Requests are answered on the event loop from the latest published snapshot;
/// nothing here touches the engine.
public final class MetricsServer: Service, Sendable {
    /// The address actually bound (port 0 in the configuration becomes the port the system chose).
    public let host: String
    public let port: Int
    private let channel: any Channel
    private let logger: Logger

    private init(host: String, port: Int, channel: any Channel, logger: Logger) {
        self.host = host
        self.port = port
        self.channel = channel
        self.logger = logger
    }

    /// Binds `listen` (`host:port`, `[v6]:port`, or `:port` for every interface) and starts answering.
    public static func bind(
        listen: String, metrics: MetricsBox, unhealthyAfterSeconds: Double, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> MetricsServer {
        guard let (host, port) = parseListen(listen) else {
            throw StartupError(
                status: .configuration,
                message: "metrics.listen: \"\(listen)\" is not host:port; use, say, 127.0.0.1:9464 or 0.0.0.0:9464")
        }
        let responder = MetricsResponder(metrics: metrics, unhealthyAfterSeconds: unhealthyAfterSeconds)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(responder: responder))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw StartupError(
                status: .configuration,
                message: "metrics.listen: cannot listen on \(listen): \(error); choose a free port or stop the "
                    + "process that holds it (port 0 picks any free port)")
        }
        let bound = channel.localAddress?.port ?? port
        logger.info(
            "metrics endpoint listening",
            metadata: [
                "metrics.listen": "\(host):\(bound)", "endpoints": "/metrics /health",
            ])
        return MetricsServer(host: host, port: bound, channel: channel, logger: logger)
    }

    /// Serves until graceful shutdown or cancellation, then closes the listening socket.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Stops listening (open connections finish their current answer). Idempotent.
    public func close() async {
        try? await channel.close()
    }

    /// `host:port` → (host, port); `:9464` means every interface, `[::1]:9464` an IPv6 address.
    static func parseListen(_ listen: String) -> (String, Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}

/// Turns a request line into an answer. A value type shared by every connection.
struct MetricsResponder: Sendable {
    struct Answer {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
        var allow: String?
    }

    let metrics: MetricsBox
    let unhealthyAfterSeconds: Double

    func answer(method: HTTPMethod, uri: String) -> Answer {
        let path =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        let known = path == "/metrics" || path == "/health"
        guard known else {
            return Answer(
                status: .notFound, contentType: "text/plain; charset=utf-8",
                body: "not found; try /metrics or /health\n")
        }
        guard method == .GET || method == .HEAD else {
            return Answer(
                status: .methodNotAllowed, contentType: "text/plain; charset=utf-8", body: "only GET\n",
                allow: "GET, HEAD")
        }
        let snapshot = metrics.snapshot
        if path == "/metrics" {
            return Answer(status: .ok, contentType: PrometheusText.contentType, body: PrometheusText.render(snapshot))
        }
        let health = HealthReport(
            snapshot, now: Date().timeIntervalSince1970, unhealthyAfterSeconds: unhealthyAfterSeconds)
        return Answer(
            status: HTTPResponseStatus(statusCode: health.statusCode), contentType: "application/json",
            body: health.body + "\n")
    }
}

/// One connection's handler: waits for the end of each request, answers it on the event loop.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: MetricsResponder
    private var head: HTTPRequestHead?

    init(responder: MetricsResponder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let answer = responder.answer(method: head.method, uri: head.uri)
        var buffer = context.channel.allocator.buffer(capacity: answer.body.utf8.count)
        buffer.writeString(answer.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        headers.add(name: "Cache-Control", value: "no-store")
        if let allow = answer.allow { headers.add(name: "Allow", value: allow) }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: answer.status, headers: headers))),
            promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}
