import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import Testing

/// HTTP/1.1 over TLS on 127.0.0.1: answers every request 200 (kept alive) with a JSON echo of its method, URI
/// and body; counts connections and requests.
final class TLSAnsweringServer: Sendable {
    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let counters: Counters

    final class Counters: Sendable {
        let connections = Atomic<Int>(0)
        let requests = Atomic<Int>(0)
        let serverNames = Mutex<[String]>([])
    }

    var connectionsAccepted: Int { counters.connections.load(ordering: .relaxed) }
    var requests: Int { counters.requests.load(ordering: .relaxed) }

    private init(port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel, counters: Counters) {
        self.port = port
        self.group = group
        self.channel = channel
        self.counters = counters
    }

    /// The host names clients asked for (SNI), one per handshake (`""`: none).
    var serverNames: [String] { counters.serverNames.withLock { $0 } }

    /// Serves `certificate` with TLS versions `minimum` to `maximum` only.
    static func start(
        certificate: String, key: String, minimum: TLSVersion = .tlsv12, maximum: TLSVersion = .tlsv13
    ) async throws -> TLSAnsweringServer {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        tls.minimumTLSVersion = minimum
        tls.maximumTLSVersion = maximum
        let counters = Counters()
        tls.sslContextCallback = { values, promise in
            counters.serverNames.withLock { $0.append(values.serverHostname ?? "") }
            promise.succeed(NIOSSLContextConfigurationOverride())
        }
        let context = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    counters.connections.add(1, ordering: .relaxed)
                    return channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(NIOSSLServerHandler(context: context))
                        try sync.configureHTTPServerPipeline()
                        try sync.addHandler(EchoHandler(counters: counters))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(channel.localAddress?.port)
            return TLSAnsweringServer(port: port, group: group, channel: channel, counters: counters)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    func shutdown() async throws {
        try? await channel.close()
        try await group.shutdownGracefully()
    }

    private final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let counters: Counters
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(counters: Counters) {
            self.counters = counters
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let chunk):
                body += chunk.readableBytesView
            case .end:
                guard let head else { return }
                self.head = nil
                counters.requests.add(1, ordering: .relaxed)
                let text =
                    #"{"method":"\#(head.method.rawValue)","uri":"\#(head.uri)","body":\#(String(decoding: body, as: UTF8.self))}"#
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "application/json")
                headers.add(name: "content-length", value: String(text.utf8.count))
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                    promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
