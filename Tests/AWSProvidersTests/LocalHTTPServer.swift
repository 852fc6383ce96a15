import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request as the local server saw it.
struct RecordedRequest: Sendable {
    var method: String
    var uri: String
    var headers: HTTPHeaders
    var body: String

    func header(_ name: String) -> String? { headers.first(name: name) }

    /// The form-encoded body's fields.
    var form: [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
            fields[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }
}

/// What the local server answers.
struct CannedResponse: Sendable {
    var status: Int
    var body: String
    var delay: TimeAmount = .zero

    static func ok(_ body: String, delay: TimeAmount = .zero) -> Self { Self(status: 200, body: body, delay: delay) }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 playing STS, IMDS or the container endpoint: every request is
/// recorded and answered by a closure.
final class LocalHTTPServer: Sendable {
    let port: Int
    private let channel: any Channel
    private let recorded: Mutex<[RecordedRequest]>

    var endpoint: String { "http://127.0.0.1:\(port)" }
    var requests: [RecordedRequest] { recorded.withLock { $0 } }
    var hits: Int { recorded.withLock { $0.count } }

    private init(port: Int, channel: any Channel) {
        self.port = port
        self.channel = channel
        self.recorded = Mutex([])
    }

    static func start(_ handler: @escaping @Sendable (RecordedRequest) -> CannedResponse) async throws
        -> LocalHTTPServer
    {
        let log = Log()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(log: log, handler: handler))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = LocalHTTPServer(port: channel.localAddress!.port!, channel: channel)
        log.server.withLock { $0 = server }
        return server
    }

    func shutdown() async {
        try? await channel.close()
    }

    fileprivate func record(_ request: RecordedRequest) {
        recorded.withLock { $0.append(request) }
    }

    private final class Log: Sendable {
        let server = Mutex<LocalHTTPServer?>(nil)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let log: Log
        let handler: @Sendable (RecordedRequest) -> CannedResponse
        var head: HTTPRequestHead?
        var body = ""

        init(log: Log, handler: @escaping @Sendable (RecordedRequest) -> CannedResponse) {
            self.log = log
            self.handler = handler
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = ""
            case .body(let buffer):
                body += String(buffer: buffer)
            case .end:
                guard let head else { return }
                let request = RecordedRequest(
                    method: "\(head.method)", uri: head.uri, headers: head.headers, body: body)
                log.server.withLock { $0?.record(request) }
                let response = handler(request)
                if response.delay > .zero {
                    context.eventLoop.assumeIsolated().scheduleTask(in: response.delay) {
                        self.answer(response, context: context)
                    }
                } else {
                    answer(response, context: context)
                }
            }
        }

        private func answer(_ response: CannedResponse, context: ChannelHandlerContext) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(response.body.utf8.count))
            let head = HTTPResponseHead(
                version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
