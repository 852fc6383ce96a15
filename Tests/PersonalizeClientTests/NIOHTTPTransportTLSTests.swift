import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PersonalizeClient
import Synchronization
import TestSupport
import Testing

/// The lean NIO transport over https: a local TLS server whose certificate (for IP 127.0.0.1) is signed by a CA made
/// at test time with the `openssl` command; trusted through `caBundlePath`, refused without it.
@Suite(.serialized) struct NIOHTTPTransportTLSTests {
    @Test func postOverTLSWithTheCABundleAndConnectionReuse() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try TestPKI.make(in: dir)
        let server = try await TLSAnsweringServer.start(certificate: pki.serverCertificate, key: pki.serverKey)
        let transport = try NIOHTTPTransport(
            endpoint: Endpoint(url: "https://127.0.0.1:\(server.port)")!,
            configuration: .init(maxConnections: 4, connectTimeout: .seconds(5), caBundlePath: pki.caCertificate))
        for i in 0..<5 {
            let body = Array(#"{"n":\#(i)}"#.utf8)
            let response = try await transport.send(
                HTTPRequestParts(
                    method: "POST", url: "https://127.0.0.1:\(server.port)/events",
                    headers: [("content-type", "application/json")], body: body),
                timeout: .seconds(10))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == #"{"method":"POST","uri":"/events","body":{"n":\#(i)}}"#)
        }
        #expect(server.requests == 5)
        #expect(transport.connectionsOpened == 1)
        #expect(server.connectionsAccepted == 1)
        try await transport.shutdown()
        try await server.shutdown()
    }

    @Test func withoutTheCABundleTheCertificateIsRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try TestPKI.make(in: dir)
        let server = try await TLSAnsweringServer.start(certificate: pki.serverCertificate, key: pki.serverKey)
        let transport = try NIOHTTPTransport(
            endpoint: Endpoint(url: "https://127.0.0.1:\(server.port)")!,
            configuration: .init(maxConnections: 4, connectTimeout: .seconds(5)))
        var failure: (any Error)?
        do {
            let response = try await transport.send(
                HTTPRequestParts(
                    method: "POST", url: "https://127.0.0.1:\(server.port)/events", headers: [], body: Array("{}".utf8)),
                timeout: .seconds(10))
            Issue.record("an untrusted certificate was accepted: \(response.status)")
        } catch {
            failure = error
        }
        let error = try #require(failure)
        #expect(error is NIOSSLError, "not a TLS error: \(error)")
        #expect("\(error)".contains("CERTIFICATE_VERIFY_FAILED"), "not a certificate error: \(error)")
        #expect(server.requests == 0)
        try await transport.shutdown()
        try await server.shutdown()
    }
}

/// A CA and a server certificate for IP 127.0.0.1, made with the `openssl` command (required, not optional: CI
/// installs it).
struct TestPKI {
    var caCertificate: String
    var serverCertificate: String
    var serverKey: String

    static func openssl() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let found = (path.split(separator: ":").map { "\($0)/openssl" } + ["/usr/bin/openssl"])
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "the openssl command is required by this test (apt-get install -y openssl)")
    }

    static func make(in dir: TemporaryDirectory) throws -> TestPKI {
        let openssl = try openssl()
        func run(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: openssl)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            let output = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            try #require(
                process.terminationStatus == 0,
                "openssl \(arguments.joined(separator: " ")) failed: \(String(decoding: output, as: UTF8.self))")
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(["req", "-x509"] + ec + [
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=personalize-tail test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try run(["req", "-new"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"])
        try dir.write(
            "server.ext",
            """
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature,keyEncipherment
            extendedKeyUsage=serverAuth
            subjectAltName=IP:127.0.0.1

            """)
        try run([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        ])
        return TestPKI(
            caCertificate: dir.file("ca.pem"), serverCertificate: dir.file("server.pem"), serverKey: dir.file("server.key"))
    }
}

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
    }

    var connectionsAccepted: Int { counters.connections.load(ordering: .relaxed) }
    var requests: Int { counters.requests.load(ordering: .relaxed) }

    private init(port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel, counters: Counters) {
        self.port = port
        self.group = group
        self.channel = channel
        self.counters = counters
    }

    static func start(certificate: String, key: String) async throws -> TLSAnsweringServer {
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        let context = try NIOSSLContext(configuration: tls)
        let counters = Counters()
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
                let text = #"{"method":"\#(head.method.rawValue)","uri":"\#(head.uri)","body":\#(String(decoding: body, as: UTF8.self))}"#
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "application/json")
                headers.add(name: "content-length", value: String(text.utf8.count))
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
