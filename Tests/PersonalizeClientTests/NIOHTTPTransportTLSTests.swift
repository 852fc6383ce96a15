import AWSSigV4
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import PersonalizeModel
import TestSupport
import Testing

@testable import PersonalizeClient

#if canImport(Glibc)
    import Glibc
#endif

/// The transport over https against local TLS servers whose certificates come from a CA made at test time
/// (``TestCertificates``): versions, SNI, keep-alive, server-side closes, and certificates that do not verify, which
/// stop the client with a message that names the host, the reason and `aws.caBundle`.
@Suite struct NIOHTTPTransportTLSTests {
    static func post(_ transport: NIOHTTPTransport, port: Int, _ body: String) async throws -> HTTPResponseParts {
        try await transport.send(
            HTTPRequestParts(
                method: "POST", url: "https://127.0.0.1:\(port)/events",
                headers: [("content-type", "application/json")], body: Array(body.utf8)),
            timeout: .seconds(10))
    }

    @Test func postOverTLSWithTheCABundleAndConnectionReuse() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try TestCertificates(in: dir)
        let cert = try pki.server("server")
        let server = try await TLSAnsweringServer.start(certificate: cert.certificate, key: cert.key)
        let transport = try NIOHTTPTransport(
            endpoint: Endpoint(url: "https://127.0.0.1:\(server.port)")!,
            configuration: .init(maxConnections: 4, connectTimeout: .seconds(30), caBundlePath: pki.caCertificate))
        for i in 0..<5 {
            let response = try await Self.post(transport, port: server.port, #"{"n":\#(i)}"#)
            #expect(response.status == 200)
            #expect(
                String(decoding: response.body, as: UTF8.self)
                    == #"{"method":"POST","uri":"/events","body":{"n":\#(i)}}"#)
        }
        #expect(server.requests == 5)
        #expect(transport.connectionsOpened == 1)
        #expect(server.connectionsAccepted == 1)
        try await transport.shutdown()
        try await server.shutdown()
    }

    /// A server that speaks only TLS 1.2, or only TLS 1.3, is answered.
    @Test(arguments: [TLSVersion.tlsv12, .tlsv13])
    func eachTLSVersionIsSpoken(_ version: TLSVersion) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try TestCertificates(in: dir)
        let cert = try pki.server("server")
        let server = try await TLSAnsweringServer.start(
            certificate: cert.certificate, key: cert.key, minimum: version, maximum: version)
        let transport = try NIOHTTPTransport(
            endpoint: Endpoint(url: "https://127.0.0.1:\(server.port)")!,
            configuration: .init(connectTimeout: .seconds(30), caBundlePath: pki.caCertificate))
        #expect(try await Self.post(transport, port: server.port, "{}").status == 200)
        #expect(server.requests == 1)
        try await transport.shutdown()
        try await server.shutdown()
    }

    /// A host name is sent as SNI (and verified against the certificate); an IP address is not sent.
    @Test func theHostNameGoesAsSNI() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try TestCertificates(in: dir)
        let cert = try pki.server("server", names: "DNS:localhost,IP:127.0.0.1")
        let server = try await TLSAnsweringServer.start(certificate: cert.certificate, key: cert.key)
        for (host, expected) in [("localhost", "localhost"), ("127.0.0.1", "")] {
            let transport = try NIOHTTPTransport(
                endpoint: Endpoint(url: "https://\(host):\(server.port)")!,
                configuration: .init(connectTimeout: .seconds(30), caBundlePath: pki.caCertificate))
            #expect(try await Self.post(transport, port: server.port, "{}").status == 200)
            #expect(server.serverNames.last == expected)
            try await transport.shutdown()
        }
        #expect(server.serverNames.count == 2)
        try await server.shutdown()
    }

    enum Refusal: String, CaseIterable, Sendable {
        case unknownCA, wrongName, expired
    }

    /// A certificate that does not verify ends the client's attempts at once (no retry), with a message that names
    /// the host, why, and aws.caBundle; nothing reaches the server's HTTP layer.
    @Test(arguments: Refusal.allCases)
    func aCertificateThatDoesNotVerifyIsFatal(_ refusal: Refusal) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try TestCertificates(in: dir)
        let cert: TestCertificates.Server
        let expected: String
        switch refusal {
        case .unknownCA:
            cert = try pki.server("server")
            expected = "not issued by a certificate authority this host trusts"
        case .wrongName:
            cert = try pki.server("server", names: "DNS:other.example")
            expected = "not for the name 127.0.0.1 (it is for other.example)"
        case .expired:
            cert = try pki.server("server", days: -1)
            expected = "expired"
        }
        let server = try await TLSAnsweringServer.start(certificate: cert.certificate, key: cert.key)
        let endpoint = Endpoint(url: "https://127.0.0.1:\(server.port)")!
        let transport = try NIOHTTPTransport(
            endpoint: endpoint,
            configuration: .init(
                connectTimeout: .seconds(30), caBundlePath: refusal == .unknownCA ? nil : pki.caCertificate))
        let client = PersonalizeEventsClient(
            configuration: .init(endpoint: endpoint, region: "us-east-1", retry: RetryPolicy(base: 0.001, cap: 0.01)),
            credentials: ClientTests.credentials, transport: transport, logger: ClientTests.logger)
        let result = await client.send(ClientTests.events(["a"]))
        guard case .fatal(let message) = result.outcome else {
            Issue.record("not fatal: \(result.outcome)")
            return
        }
        #expect(result.attempts == 1)
        #expect(message.contains("127.0.0.1:\(server.port)"), "\(message)")
        #expect(message.contains(expected), "\(message)")
        #expect(message.contains("aws.caBundle"), "\(message)")
        #expect(server.requests == 0)
        try await client.shutdown()
        try await server.shutdown()
    }

    // MARK: Against the stand-in over TLS

    static func standIn(_ dir: TemporaryDirectory) async throws -> (PersonalizeStandIn, ca: String) {
        let pki = try TestCertificates(in: dir)
        let cert = try pki.server("standin")
        let standIn = try await PersonalizeStandIn.start(
            .init(tls: .init(certificateChainPath: cert.certificate, privateKeyPath: cert.key)))
        return (standIn, pki.caCertificate)
    }

    static func transport(_ standIn: PersonalizeStandIn, ca: String) throws -> NIOHTTPTransport {
        try NIOHTTPTransport(
            endpoint: Endpoint(url: standIn.endpoint)!,
            configuration: .init(maxConnections: 4, connectTimeout: .seconds(30), caBundlePath: ca))
    }

    /// The server answering `Connection: close` and closing (without a TLS close_notify of its own making any
    /// difference), and the server dropping connections: each costs a new connection, never an error that escapes.
    @Test func serverSideClosesOverTLS() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (standIn, ca) = try await Self.standIn(dir)
        #expect(standIn.endpoint.hasPrefix("https://"))
        let transport = try Self.transport(standIn, ca: ca)
        let spy = SpyTransport(transport, extraHeaders: [("connection", "close")])
        let client = NIOHTTPTransportTests.client(standIn, transport: spy)
        for i in 0..<3 {
            let result = await client.send(ClientTests.events(["c\(i)"]))
            guard case .accepted = result.outcome else {
                Issue.record("\(result.outcome)")
                return
            }
            #expect(result.attempts == 1)
        }
        #expect(spy.errors.isEmpty, "\(spy.errors)")
        #expect(transport.connectionsOpened == 3)

        standIn.setFaults(Faults(script: [.drop, .drop]))
        let plain = try Self.transport(standIn, ca: ca)
        let dropped = NIOHTTPTransportTests.client(standIn, transport: plain)
        let result = await dropped.send(ClientTests.events(["d"]))
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(result.attempts == 3)
        #expect(standIn.acceptedRecords().map(\.id) == ["c0", "c1", "c2", "d"])
        try await client.shutdown()
        try await dropped.shutdown()
        try await standIn.shutdown()
    }

    /// Kept-alive connections over TLS carry many requests: 40 requests from 4 workers open at most 4 connections.
    @Test func keepAliveOverTLS() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (standIn, ca) = try await Self.standIn(dir)
        let transport = try Self.transport(standIn, ca: ca)
        let client = NIOHTTPTransportTests.client(standIn, transport: transport)
        #expect(await NIOHTTPTransportTests.sendAll(client, count: 40, concurrency: 4) == 40)
        #expect(transport.connectionsOpened <= 4)
        #expect(standIn.acceptedRecords().count == 40)
        #expect(standIn.stats.signatureFailures == 0)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    /// `TCP_NODELAY` is set at the TCP level (IPPROTO_TCP) and nothing at SOL_SOCKET level 1 (SO_DEBUG, which only
    /// root may set: at that level every connect of an unprivileged agent failed with EACCES), for http and https.
    @Test func noDelayIsSetAtTheTCPLevel() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (tlsStandIn, ca) = try await Self.standIn(dir)
        let plainStandIn = try await PersonalizeStandIn.start()
        for (standIn, transport) in [
            (tlsStandIn, try Self.transport(tlsStandIn, ca: ca)),
            (plainStandIn, try NIOHTTPTransportTests.transport(plainStandIn)),
        ] {
            let client = NIOHTTPTransportTests.client(standIn, transport: transport)
            guard case .accepted = await client.send(ClientTests.events(["n"])).outcome else {
                Issue.record("not accepted")
                return
            }
            let channels = try await transport.connectedChannels()
            #expect(channels.count == 1)
            for channel in channels {
                let noDelay = try await channel.getOption(
                    ChannelOptions.Types.SocketOption(level: .tcp, name: .tcp_nodelay)
                ).get()
                let debug = try await channel.getOption(
                    ChannelOptions.Types.SocketOption(level: .socket, name: .init(rawValue: SO_DEBUG))
                ).get()
                #expect(noDelay != 0)
                #expect(debug == 0)
            }
            try await client.shutdown()
            try await standIn.shutdown()
        }
    }
}
