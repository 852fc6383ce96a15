import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The connections of one event loop: at most `maxConnections`, opened when a request finds none idle, reused
/// last-in first-out; requests wait first-in first-out. Everything but `loop` and `target` is touched only on `loop`.
final class ConnectionPool: @unchecked Sendable {
    struct Target: Sendable {
        var host: String
        var port: Int
        var sslContext: NIOSSLContext?
        var serverHostname: String?
        /// Through this proxy (`CONNECT`), or direct.
        var proxy: ProxyTunnelHandler.Route?
        var connectTimeout: TimeAmount
        var maxResponseBytes: Int
    }

    let loop: any EventLoop
    let target: Target
    let maxConnections: Int
    private let counters: Counters

    /// Connections open or being opened.
    private var connectionCount = 0
    private var idle: [HTTPConnectionHandler] = []
    private var waiting = CircularBuffer<Exchange>(initialCapacity: 64)
    /// Connected channels and their handlers.
    private var open: [ObjectIdentifier: (channel: any Channel, handler: HTTPConnectionHandler)] = [:]
    private var isShutDown = false
    /// Whether a timeout sweep is scheduled (one timer per pool, not one per request).
    private var sweepScheduled = false
    static let sweepInterval = TimeAmount.milliseconds(100)

    /// Requests submitted from other threads, picked up by one hop onto the loop however many arrive meanwhile.
    private struct Inbox {
        var exchanges: [Exchange] = []
        var scheduled = false
    }
    /// A pthread mutex (`NIOLock`), not `Synchronization.Mutex`: the loop reads the exchanges it takes from here
    /// outside the lock, and ThreadSanitizer sees the ordering a pthread mutex gives but not the one a contended
    /// `Mutex` gives (its slow path is in the uninstrumented runtime), so `.ci/tsan` can check this hand-over.
    private let inbox = NIOLockedValueBox(Inbox())

    init(loop: any EventLoop, target: Target, maxConnections: Int, counters: Counters) {
        self.loop = loop
        self.target = target
        self.maxConnections = maxConnections
        self.counters = counters
    }

    // MARK: Requests

    /// From any thread: `exchange` is enqueued on the loop. Submissions that arrive while the loop has not yet
    /// picked up earlier ones ride along with them; without `wake`, they wait for ``wake()`` (one wake-up of the
    /// loop for a series of requests).
    func submit(_ exchange: Exchange, wake: Bool) {
        inbox.withLockedValue { $0.exchanges.append(exchange) }
        if wake { self.wake() }
    }

    /// Has the loop pick up what was submitted, unless it is already about to.
    func wake() {
        let schedule = inbox.withLockedValue { box -> Bool in
            guard !box.exchanges.isEmpty, !box.scheduled else { return false }
            box.scheduled = true
            return true
        }
        if schedule { loop.execute { self.drainInbox() } }
    }

    private func drainInbox() {
        for exchange in takeSubmitted() { enqueue(exchange) }
    }

    /// Everything submitted so far; the next submission schedules a new pick-up.
    private func takeSubmitted() -> [Exchange] {
        inbox.withLockedValue { box in
            box.scheduled = false
            defer { box.exchanges.removeAll(keepingCapacity: true) }
            return box.exchanges
        }
    }

    func enqueue(_ exchange: Exchange) {
        loop.assertInEventLoop()
        if isShutDown {
            exchange.fail(NIOHTTPTransportError.shutDown)
            return
        }
        scheduleSweep()
        while let connection = idle.popLast() {
            if connection.isUsable {
                connection.start(exchange)
                return
            }
        }
        waiting.append(exchange)
        if connectionCount < maxConnections { connect() }
    }

    private func timedOut(_ exchange: Exchange) {
        exchange.fail(NIOHTTPTransportError.timedOut)
        // In flight: the answer may still come, on a connection nobody waits on; close it.
        exchange.connection?.close()
    }

    private func scheduleSweep() {
        guard !sweepScheduled else { return }
        sweepScheduled = true
        loop.scheduleTask(in: Self.sweepInterval) { [self] in self.sweep() }
    }

    /// Times out what waited or ran past its deadline (checked every `sweepInterval` while anything is pending:
    /// the waiting queue is in deadline order, and there is one exchange per connection at most).
    private func sweep() {
        sweepScheduled = false
        let now = NIODeadline.now()
        while let first = waiting.first, first.isFinished || first.deadline <= now {
            waiting.removeFirst()
            if !first.isFinished { timedOut(first) }
        }
        var busy = !waiting.isEmpty
        for connection in open.values.map(\.handler) {
            guard let exchange = connection.exchange else { continue }
            if exchange.deadline <= now { timedOut(exchange) } else { busy = true }
        }
        if busy && !isShutDown { scheduleSweep() }
    }

    func cancel(_ exchange: Exchange) {
        guard !exchange.isFinished else { return }
        exchange.fail(CancellationError())
        exchange.connection?.close()
    }

    /// A connection finished an exchange (or was just opened) and can take the next.
    func release(_ connection: HTTPConnectionHandler) {
        loop.assertInEventLoop()
        guard !isShutDown, connection.isUsable else {
            connection.close()
            return
        }
        while let exchange = waiting.popFirst() {
            if !exchange.isFinished {
                connection.start(exchange)
                return
            }
        }
        idle.append(connection)
    }

    /// A connection closed (whatever its state).
    func closed(_ connection: HTTPConnectionHandler, channel: any Channel) {
        loop.assertInEventLoop()
        connectionCount -= 1
        open[ObjectIdentifier(channel)] = nil
        if let index = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: index) }
        connectIfWaiting()
    }

    private func connectIfWaiting() {
        guard !isShutDown, connectionCount < maxConnections else { return }
        while let first = waiting.first, first.isFinished { waiting.removeFirst() }
        if !waiting.isEmpty { connect() }
    }

    // MARK: Connections

    /// `TCP_NODELAY` at the TCP level (`IPPROTO_TCP`): requests go in one write and wait for their answer, so
    /// Nagle's algorithm would only hold back the last segment. (At `SOL_SOCKET` the same number is `SO_DEBUG`,
    /// which only root may set: every connect of an unprivileged agent would fail with EACCES.)
    static let noDelay = ChannelOptions.Types.SocketOption(level: .tcp, name: .tcp_nodelay)

    /// Connects to the endpoint, or to the proxy with a `CONNECT` tunnel to it, with TLS for https (inside the
    /// tunnel), then `handler`. `verify` replaces certificate verification (for ``certificateRefused(_:)``).
    private func openChannel(
        handler: @escaping @Sendable () -> (any ChannelHandler)?,
        verify: (@Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void)? = nil
    ) -> EventLoopFuture<any Channel> {
        let target = self.target
        return ClientBootstrap(group: loop)
            .connectTimeout(target.connectTimeout)
            .channelOption(Self.noDelay, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let route = target.proxy {
                        try sync.addHandler(ProxyTunnelHandler(route: route))
                    }
                    if let context = target.sslContext {
                        if let verify {
                            try sync.addHandler(
                                NIOSSLClientHandler(
                                    context: context, serverHostname: target.serverHostname,
                                    customVerificationCallback: verify))
                        } else {
                            try sync.addHandler(
                                NIOSSLClientHandler(context: context, serverHostname: target.serverHostname))
                        }
                    }
                    if let handler = handler() { try sync.addHandler(handler) }
                }
            }
            .connect(host: target.proxy?.proxy.host ?? target.host, port: target.proxy?.proxy.port ?? target.port)
    }

    private func connect() {
        connectionCount += 1
        let target = self.target
        openChannel(handler: { [self] in HTTPConnectionHandler(pool: self, maxResponseBytes: target.maxResponseBytes) })
            .whenComplete { [self] result in
                self.loop.assertInEventLoop()
                switch result {
                case .success(let channel):
                    self.counters.opened.add(1, ordering: .relaxed)
                    guard
                        let connection = try? channel.pipeline.syncOperations.handler(type: HTTPConnectionHandler.self)
                    else {
                        channel.close(promise: nil)
                        return
                    }
                    if self.isShutDown || !channel.isActive {
                        // Closing (or closed) before we could use it; `closed` does the accounting.
                        channel.close(promise: nil)
                        return
                    }
                    self.open[ObjectIdentifier(channel)] = (channel, connection)
                    self.release(connection)
                case .failure(let error):
                    self.connectionCount -= 1
                    // The oldest waiter learns why; the others keep waiting for other connections (or attempts).
                    while let exchange = self.waiting.popFirst() {
                        if !exchange.isFinished {
                            exchange.fail(error)
                            break
                        }
                    }
                    self.connectIfWaiting()
                }
            }
    }

    // MARK: Certificates

    /// The error of a refused certificate, once known (the agent stops on it; later refusals reuse it).
    private var certificateError: ClientError?

    /// `exchange`'s connection refused the server's certificate: fails it with a ``ClientError`` that says why,
    /// after one look at the certificate the server sends (a handshake that only collects it).
    func certificateRefused(_ exchange: Exchange) {
        loop.assertInEventLoop()
        if let certificateError {
            exchange.fail(certificateError)
            return
        }
        let target = self.target
        let look = CertificateLook()
        let finish: @Sendable ([NIOSSLCertificate]?) -> Void = { [self] chain in
            self.loop.assertInEventLoop()
            guard !look.isDone else { return }
            look.isDone = true
            look.timeout?.cancel()
            look.channel?.close(promise: nil)
            let reason = chain.map { CertificateFailure.reason(chain: $0, host: target.host) }
            let error =
                self.certificateError ?? CertificateFailure.error(host: target.host, port: target.port, reason: reason)
            self.certificateError = error
            exchange.fail(error)
        }
        look.timeout = loop.scheduleTask(in: target.connectTimeout) { finish(nil) }
        openChannel(
            handler: { nil },
            verify: { certificates, verdict in
                finish(certificates)
                verdict.succeed(.failed)
            }
        ).whenComplete { result in
            switch result {
            case .success(let channel):
                look.channel = channel
                channel.closeFuture.whenComplete { _ in finish(nil) }
            case .failure:
                finish(nil)
            }
        }
    }

    /// The state of one look at a refused certificate (touched only on the pool's loop).
    private final class CertificateLook: @unchecked Sendable {
        var isDone = false
        var channel: (any Channel)?
        var timeout: Scheduled<Void>?
    }

    /// Fails what waits, closes every connection (failing what is in flight).
    func shutdown() -> EventLoopFuture<Void> {
        loop.assertInEventLoop()
        isShutDown = true
        for exchange in takeSubmitted() { exchange.fail(NIOHTTPTransportError.shutDown) }
        while let exchange = waiting.popFirst() { exchange.fail(NIOHTTPTransportError.shutDown) }
        idle.removeAll()
        let closes = open.values.map(\.channel).map { channel in
            let promise = loop.makePromise(of: Void.self)
            channel.close(promise: promise)
            return promise.futureResult
        }
        return EventLoopFuture.andAllComplete(closes, on: loop)
    }

    var isShuttingDown: Bool { isShutDown }

    /// The channels of the open connections (on `loop`).
    var connectedChannels: [any Channel] { open.values.map(\.channel) }
}

/// One connection: writes an exchange's bytes, reads the answer with an ``HTTPResponseParser``, hands the
/// connection back to the pool.
final class HTTPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let pool: ConnectionPool
    private var parser: HTTPResponseParser
    private var context: ChannelHandlerContext?
    private var current: Exchange?
    private var isClosed = false

    init(pool: ConnectionPool, maxResponseBytes: Int) {
        self.pool = pool
        self.parser = HTTPResponseParser(maxBodyBytes: maxResponseBytes)
    }

    var isUsable: Bool { !isClosed && current == nil && (context?.channel.isActive ?? false) }

    /// The exchange in flight on this connection.
    var exchange: Exchange? { current }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func start(_ exchange: Exchange) {
        guard let context else {
            exchange.fail(NIOHTTPTransportError.connectionClosed)
            return
        }
        current = exchange
        exchange.connection = self
        parser.expectsHeadResponse = exchange.isHead
        context.writeAndFlush(wrapOutboundOut(exchange.request()), promise: nil)
    }

    func close() {
        guard !isClosed, let context else { return }
        isClosed = true
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard !isClosed else { return }
        let responses: [HTTPResponseParser.Response]
        do {
            responses = try parser.feed(bytes.readableBytesView)
        } catch {
            if case .bodyTooLarge(let limit) = error {
                fail(NIOHTTPTransportError.responseTooLarge(limit))
            } else {
                fail(error)
            }
            return
        }
        for response in responses { deliver(response) }
    }

    private func deliver(_ response: HTTPResponseParser.Response) {
        guard let exchange = current else {
            fail(NIOHTTPTransportError.unsolicitedResponse)
            return
        }
        current = nil
        exchange.connection = nil
        if exchange.isFinished || !response.keepAlive {
            // Timed out or cancelled meanwhile (the connection is closing), or the server closes it.
            close()
        }
        exchange.succeed(
            HTTPResponseParts(status: response.status, headerLines: response.headerLines, body: response.body))
        if !isClosed { pool.release(self) }
    }

    private func fail(_ error: any Error) {
        if let exchange = current {
            current = nil
            exchange.connection = nil
            exchange.fail(error)
        }
        close()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let ssl = error as? NIOSSLError, case .uncleanShutdown = ssl {
            // The server closed without a TLS close_notify: channelInactive follows and says what that means.
            return
        }
        if CertificateFailure.isVerificationFailure(error) {
            if let exchange = current {
                current = nil
                exchange.connection = nil
                pool.certificateRefused(exchange)
            }
            close()
            return
        }
        fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        // A body that runs to the end of the connection is complete now.
        if current != nil, let response = try? parser.end() {
            deliver(response)
        }
        if let exchange = current {
            current = nil
            exchange.connection = nil
            exchange.fail(pool.isShuttingDown ? NIOHTTPTransportError.shutDown : NIOHTTPTransportError.connectionClosed)
        }
        pool.closed(self, channel: context.channel)
        context.fireChannelInactive()
    }
}
