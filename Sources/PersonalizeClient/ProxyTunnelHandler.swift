import Foundation
import NIOCore

/// Opens an HTTP `CONNECT` tunnel through a proxy, first thing on a new connection to the proxy: sends the request
/// (with `Proxy-Authorization: Basic` when the proxy URL carries credentials), holds back what the handlers behind it
/// write (the TLS handshake, a request) and their `channelActive` until the proxy answers 2xx, then passes bytes
/// both ways unchanged. A 407 is a ``ClientError`` (the credentials need fixing); any other answer is
/// ``NIOHTTPTransportError/proxyRefused(_:)`` (retried).
final class ProxyTunnelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Where the tunnel goes and through which proxy.
    struct Route: Sendable {
        var proxy: ProxyServer
        var host: String
        var port: Int

        /// `host:port` as `CONNECT` names it (IPv6 addresses in brackets).
        var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// The `CONNECT` request.
        var request: String {
            var text = "CONNECT \(authority) HTTP/1.1\r\nhost: \(authority)\r\n"
            if let username = proxy.username {
                let token = Data("\(username):\(proxy.password ?? "")".utf8).base64EncodedString()
                text += "proxy-authorization: Basic \(token)\r\n"
            }
            return text + "\r\n"
        }
    }

    private enum State {
        case idle
        case awaitingAnswer
        case established
        case failed
    }

    /// Proxies answer `CONNECT` with a short head; a longer one is refused.
    static let maxAnswerBytes = 16 * 1024

    private let route: Route
    private var state = State.idle
    private var answer: ByteBuffer?
    private var heldWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var heldFlush = false

    init(route: Route) {
        self.route = route
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendConnect(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendConnect(context: context)
    }

    private func sendConnect(context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        state = .awaitingAnswer
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: route.request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .established:
            context.fireChannelRead(data)
        case .failed:
            return
        case .idle, .awaitingAnswer:
            var bytes = unwrapInboundIn(data)
            if answer == nil { answer = bytes } else { answer!.writeBuffer(&bytes) }
            guard let buffer = answer, let end = Self.headEnd(buffer.readableBytesView) else {
                if (answer?.readableBytes ?? 0) > Self.maxAnswerBytes {
                    fail(context: context, NIOHTTPTransportError.proxyRefused(0))
                }
                return
            }
            answer = nil
            let head = String(decoding: buffer.readableBytesView.prefix(end), as: UTF8.self)
            let status = Self.status(head)
            guard (200..<300).contains(status) else {
                if status == 407 {
                    fail(
                        context: context,
                        ClientError.transport(
                            "the proxy \(route.proxy) answered 407 Proxy Authentication Required to CONNECT "
                                + "\(route.authority): put the right user and password in HTTPS_PROXY / HTTP_PROXY "
                                + "(http://user:password@host:port)"))
                } else {
                    fail(context: context, NIOHTTPTransportError.proxyRefused(status))
                }
                return
            }
            state = .established
            context.fireChannelActive()
            for (bytes, promise) in heldWrites { context.write(wrapOutboundOut(bytes), promise: promise) }
            heldWrites = []
            if heldFlush { context.flush() }
            let rest = buffer.getSlice(at: buffer.readerIndex + end, length: buffer.readableBytes - end)
            if let rest, rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .established = state {
            context.write(data, promise: promise)
        } else {
            heldWrites.append((unwrapOutboundIn(data), promise))
        }
    }

    func flush(context: ChannelHandlerContext) {
        if case .established = state { context.flush() } else { heldFlush = true }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .established = state {} else { failHeldWrites(NIOHTTPTransportError.connectionClosed) }
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        state = .failed
        failHeldWrites(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failHeldWrites(_ error: any Error) {
        let writes = heldWrites
        heldWrites = []
        for (_, promise) in writes { promise?.fail(error) }
    }

    /// The length of the answer's head with its empty line, once it is all there.
    static func headEnd(_ bytes: ByteBufferView) -> Int? {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return nil }
        var index = bytes.startIndex
        while index <= bytes.endIndex - 4 {
            if bytes[index] == 13, bytes[(index)..<(index + 4)].elementsEqual(crlf2) {
                return index - bytes.startIndex + 4
            }
            index += 1
        }
        return nil
    }

    /// The status of `HTTP/1.x NNN reason`; 0 when it is not a status line.
    static func status(_ head: String) -> Int {
        let parts = head.prefix { $0 != "\r" }.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else { return 0 }
        return status
    }
}
