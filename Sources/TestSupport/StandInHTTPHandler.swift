import NIOCore
import NIOHTTP1

/// One connection's request handler. It gathers a request's body, lets `StandInCore` decide, and writes the
/// answer on the event loop (no task per request). `HTTPServerPipelineHandler` in front of it holds back
/// pipelined requests until each answer is complete, so answers stay in order.
final class StandInHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: StandInCore
    private var verifier: SigV4Verifier
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var bodyTooLarge = false
    private let requestIdPrefix: String
    private var requestCount: UInt64 = 0

    init(core: StandInCore) {
        self.core = core
        self.verifier = SigV4Verifier(configuration: core.configuration)
        let random = UInt64.random(in: 0...UInt64.max)
        let hex = String(random, radix: 16)
        let padded = String(repeating: "0", count: 16 - hex.count) + hex
        self.requestIdPrefix = "\(padded.prefix(8))-\(padded.dropFirst(8).prefix(4))-4\(padded.suffix(3))-8"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            bodyTooLarge = false
        case .body(var chunk):
            if body.readableBytes + chunk.readableBytes > core.configuration.maxBodyBytes {
                bodyTooLarge = true
            } else if !bodyTooLarge {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            requestCount += 1
            let requestId = nextRequestId()
            let outcome = core.process(
                head: head, body: body, bodyTooLarge: bodyTooLarge, verifier: &verifier, requestId: requestId)
            if outcome.delayMillis > 0 {
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(outcome.delayMillis))) {
                    self.answer(outcome, head: head, requestId: requestId, context: context)
                }
            } else {
                answer(outcome, head: head, requestId: requestId, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func nextRequestId() -> String {
        let hex = String(requestCount, radix: 16)
        return requestIdPrefix + String(repeating: "0", count: max(0, 15 - hex.count)) + hex
    }

    // MARK: Answering

    private func answer(
        _ outcome: StandInCore.Outcome, head: HTTPRequestHead, requestId: String, context: ChannelHandlerContext
    ) {
        let status: Int
        var headers = HTTPHeaders()
        headers.reserveCapacity(6)
        var payload = context.channel.allocator.buffer(capacity: 64)
        switch outcome.answer {
        case .drop:
            context.close(promise: nil)
            return
        case .accepted:
            status = 200
            payload.writeStaticString("{}")
        case .error(let error):
            status = error.status
            headers.add(name: "X-Amzn-ErrorType", value: error.errorTypeHeader)
            if let retryAfter = error.retryAfterMillis {
                headers.add(name: "x-amz-retry-after", value: String(retryAfter))
            }
            payload.writeString(Self.errorBody(error.message))
        }
        headers.add(name: "x-amzn-RequestId", value: requestId)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(payload.readableBytes))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(
            version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(payload))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    /// `{"message": "..."}` with the message JSON-escaped.
    static func errorBody(_ message: String) -> String {
        var out = #"{"message":""#
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\"": out += #"\""#
            case "\\": out += #"\\"#
            case "\n": out += #"\n"#
            case "\r": out += #"\r"#
            case "\t": out += #"\t"#
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + #""}"#
    }
}
