import Foundation
import NIOCore
import NIOPosix
import PersonalizeClient
import Synchronization
import Testing

/// The NIO transport against a server that answers with raw bytes: chunked bodies, interim answers, bodies that run
/// to the end of the connection, answers split across writes, garbage.
@Suite struct NIOHTTPTransportWireTests {
    /// Answers the n-th request (counted over all connections) with `answers[n]` written in pieces of `piece`
    /// bytes; closes the connection after it when `close` is set.
    final class RawServer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        struct Answer {
            var bytes: String
            var close = false
        }

        final class Counts: Sendable {
            let requests = Mutex(0)
            let connections = Mutex(0)
        }

        let answers: [Answer]
        let piece: Int
        let counts: Counts
        private var pending: [UInt8] = []

        init(answers: [Answer], piece: Int, counts: Counts) {
            self.answers = answers
            self.piece = piece
            self.counts = counts
        }

        func channelActive(context: ChannelHandlerContext) {
            counts.connections.withLock { $0 += 1 }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += Array(unwrapInboundIn(data).readableBytesView)
            // One request: a head with content-length, then its body.
            while let end = pending.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound {
                let head = String(decoding: pending[..<end], as: UTF8.self).lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                guard pending.count >= end + length else { return }
                pending.removeFirst(end + length)
                let n = counts.requests.withLock { c -> Int in
                    defer { c += 1 }
                    return c
                }
                let answer = answers[min(n, answers.count - 1)]
                let bytes = Array(answer.bytes.utf8)
                var i = 0
                while i < bytes.count {
                    let part = bytes[i..<min(i + piece, bytes.count)]
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: part)), promise: nil)
                    i += piece
                }
                if answer.close { context.close(promise: nil) }
            }
        }
    }

    static func withServer(
        _ answers: [RawServer.Answer], piece: Int = 1 << 20, maxResponseBytes: Int = 1 << 20,
        _ body: (NIOHTTPTransport, _ connections: () -> Int) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let counts = RawServer.Counts()
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RawServer(answers: answers, piece: piece, counts: counts))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        let transport = try NIOHTTPTransport(
            endpoint: Endpoint(url: "http://127.0.0.1:\(port)")!,
            configuration: .init(maxConnections: 1, connectTimeout: .seconds(30), maxResponseBytes: maxResponseBytes))
        do {
            try await body(transport) { counts.connections.withLock { $0 } }
        } catch {
            try? await transport.shutdown()
            try? await channel.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await transport.shutdown()
        try await channel.close()
        try await group.shutdownGracefully()
    }

    static func post(_ transport: NIOHTTPTransport, _ body: String = "{}") async throws -> HTTPResponseParts {
        try await transport.send(
            HTTPRequestParts(
                method: "POST", url: "http://h/", headers: [("content-type", "application/json")],
                body: Array(body.utf8)),
            timeout: .seconds(60))
    }

    @Test(arguments: [1, 3, 1 << 20])
    func chunkedAndInterimAnswersOnOneConnection(_ piece: Int) async throws {
        let answers = [
            RawServer.Answer(
                bytes: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n"),
            RawServer.Answer(
                bytes: "HTTP/1.1 400 Bad Request\r\nContent-Length: 7\r\nX-Amzn-ErrorType: X\r\n\r\n{\"m\":1}"),
        ]
        try await Self.withServer(answers, piece: piece) { transport, connections in
            let first = try await Self.post(transport)
            #expect(first.status == 200)
            #expect(String(decoding: first.body, as: UTF8.self) == "{\"a\":1}")
            let second = try await Self.post(transport)
            #expect(second.status == 400)
            #expect(String(decoding: second.body, as: UTF8.self) == "{\"m\":1}")
            // Headers as received, in order (kept as lines by the transport, made into pairs when read).
            #expect(first.headers.map { "\($0.0)=\($0.1)" } == ["Transfer-Encoding=chunked"])
            #expect(second.headers.map { "\($0.0)=\($0.1)" } == ["Content-Length=7", "X-Amzn-ErrorType=X"])
            var changed = second
            changed.headers.append(("a", "b"))
            #expect(changed.headers.count == 3 && second.headers.count == 2)
            #expect(connections() == 1)
        }
    }

    /// A request given as a closure is written when a connection takes it: the closure runs once, on the
    /// transport's event loop (not the caller's thread), after `flush` for a held request; its bytes go as they are.
    @Test func deferredRequestsAreWrittenOnTheEventLoop() async throws {
        let answers = [RawServer.Answer(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")]
        try await Self.withServer(answers) { transport, _ in
            let calls = Mutex<[Bool]>([])
            let encoded = EncodedHTTPRequest(
                method: "POST", head: Array("POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 7\r\n\r\n".utf8),
                body: Array("{\"a\":1}".utf8))
            let answered = try await withCheckedThrowingContinuation { continuation in
                transport.start(
                    method: "POST",
                    encode: {
                        calls.withLock { $0.append(MultiThreadedEventLoopGroup.currentEventLoop != nil) }
                        return encoded
                    },
                    timeout: .seconds(60), hold: true
                ) { continuation.resume(with: $0) }
                #expect(calls.withLock { $0.isEmpty }, "encoded before the request was let go")
                transport.flush()
            }
            #expect(answered.status == 200)
            #expect(calls.withLock { $0 } == [true])
        }
    }

    @Test func aBodyThatRunsToTheEndOfTheConnectionIsAnswered() async throws {
        let answers = [
            RawServer.Answer(
                bytes: "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nslow down", close: true),
            RawServer.Answer(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
        ]
        try await Self.withServer(answers) { transport, connections in
            let first = try await Self.post(transport)
            #expect(first.status == 503)
            #expect(String(decoding: first.body, as: UTF8.self) == "slow down")
            let second = try await Self.post(transport)
            #expect(second.status == 200)
            #expect(connections() == 2)
        }
    }

    @Test func garbageAndCutOffAnswersFailTheRequestAndTheConnection() async throws {
        let answers = [
            RawServer.Answer(bytes: "HTTP/1.1 2OO OK\r\n\r\n"),
            RawServer.Answer(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", close: true),
            RawServer.Answer(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
        ]
        try await Self.withServer(answers) { transport, connections in
            await #expect(throws: (any Error).self) { try await Self.post(transport) }
            await #expect(throws: (any Error).self) { try await Self.post(transport) }
            let third = try await Self.post(transport)
            #expect(third.status == 200)
            #expect(connections() == 3)
        }
    }

    @Test func anAnswerOverTheSizeLimitFailsAsTooLarge() async throws {
        let answers = [
            RawServer.Answer(
                bytes: "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n"
                    + String(repeating: "x", count: 64) + "\r\n0\r\n\r\n"),
            RawServer.Answer(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
        ]
        try await Self.withServer(answers, maxResponseBytes: 32) { transport, connections in
            await #expect(throws: NIOHTTPTransportError.responseTooLarge(32)) { try await Self.post(transport) }
            let next = try await Self.post(transport)
            #expect(next.status == 200)
            #expect(connections() == 2)
        }
    }
}
