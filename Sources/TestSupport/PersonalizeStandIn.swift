import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A local stand-in for the Personalize Events API on 127.0.0.1, for tests and benchmarks.
///
/// It verifies SigV4 signatures and validates bodies against the service model with code independent of
/// the client's, so it catches the client's bugs rather than sharing them; it records what it accepted
/// so tests can prove nothing was lost; and it injects throttling, failures, drops and record rejections
/// on demand. Requests are handled on the event loop, keep-alive and pipelining included.
public final class PersonalizeStandIn: Sendable {
    /// The bound port on 127.0.0.1.
    public let port: Int
    private let core: StandInCore
    private let channel: any Channel
    private let ownedGroup: MultiThreadedEventLoopGroup?
    private let isShutDown = Mutex(false)

    private init(port: Int, core: StandInCore, channel: any Channel, ownedGroup: MultiThreadedEventLoopGroup?) {
        self.port = port
        self.core = core
        self.channel = channel
        self.ownedGroup = ownedGroup
    }

    /// Binds 127.0.0.1 (port 0 by default: a free port) and starts answering.
    public static func start(_ configuration: Configuration = .init()) async throws -> PersonalizeStandIn {
        let ownedGroup =
            configuration.eventLoopGroup == nil
            ? MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads)) : nil
        let group: any EventLoopGroup = configuration.eventLoopGroup ?? ownedGroup!
        let core = StandInCore(configuration: configuration)
        let sslContext = try configuration.tls.map { tls in
            try NIOSSLContext(
                configuration: TLSConfiguration.makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map {
                        .certificate($0)
                    },
                    privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem))))
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // TCP_NODELAY at IPPROTO_TCP (at SOL_SOCKET, option 1 is SO_DEBUG, refused to non-root users).
            .childChannelOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    // Our own response headers are well-formed; validating them costs ~5% of a request.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(StandInHTTPHandler(core: core))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: "127.0.0.1", port: configuration.port).get()
            guard let port = channel.localAddress?.port else {
                try? await channel.close()
                throw ChannelError.unknownLocalAddress
            }
            return PersonalizeStandIn(port: port, core: core, channel: channel, ownedGroup: ownedGroup)
        } catch {
            try? await ownedGroup?.shutdownGracefully()
            throw error
        }
    }

    /// `http://127.0.0.1:<port>` (`https://` with ``Configuration/tls``), to use as the client's endpoint override.
    public var endpoint: String { "\(core.configuration.tls == nil ? "http" : "https")://127.0.0.1:\(port)" }

    /// The configuration the stand-in runs with.
    public var configuration: Configuration { core.configuration }

    /// Stops listening; with its own event loop group, also closes every open connection. Idempotent.
    public func shutdown() async throws {
        let already = isShutDown.withLock { done in
            defer { done = true }
            return done
        }
        if already { return }
        try? await channel.close()
        try await ownedGroup?.shutdownGracefully()
    }

    // MARK: What was accepted

    /// Requests answered 2xx, in the order they were answered (empty when `recordBodies` is off).
    public func acceptedRequests() -> [AcceptedRequest] {
        core.acceptedRequests()
    }

    /// The records of every accepted request, flattened in order.
    public func acceptedRecords() -> [AcceptedRecord] {
        core.acceptedRequests().flatMap(\.records)
    }

    /// Counters of every answer so far.
    public var stats: Stats { core.stats }

    /// Forgets accepted requests and counters (faults stay as set).
    public func reset() {
        core.reset()
    }

    /// Replaces the injected faults; takes effect from the next request and restarts the PRNG from `seed`.
    public func setFaults(_ faults: Faults) {
        core.setFaults(faults)
    }

    /// Waits until `condition` holds for the counters (polling every 5 ms), or `timeout` passes; returns
    /// whether it held. For tests of asynchronous senders: `await standIn.waitUntil { $0.acceptedRecords >= 10 }`.
    public func waitUntil(
        timeout: Duration = .seconds(60), _ condition: @Sendable (Stats) -> Bool
    ) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if condition(stats) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(stats)
    }

    /// The violations the stand-in finds in `body` for `operation` (empty when valid), without a server:
    /// lets model tests check bodies against the same independent validator.
    public static func validationErrors(for operation: Operation, body: [UInt8]) -> [String] {
        let parsed = try? JSONSerialization.jsonObject(with: Data(body))
        guard let object = parsed as? [String: Any] else {
            return ["The request body of \(operation.rawValue) must be a JSON object."]
        }
        return RequestValidator.violations(of: operation, object: object)
    }
}
