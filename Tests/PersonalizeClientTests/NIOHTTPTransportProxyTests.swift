import Foundation
import PersonalizeClient
import PersonalizeModel
import TestSupport
import Testing

/// https through an HTTP CONNECT proxy (the local ``ConnectProxy``, which checks `Proxy-Authorization` and tunnels
/// bytes): TLS inside the tunnel, credentials from the proxy URL, a refusal of them, and NO_PROXY.
@Suite struct NIOHTTPTransportProxyTests {
    static func setUp(_ dir: TemporaryDirectory) async throws -> (PersonalizeStandIn, ca: String) {
        let pki = try TestCertificates(in: dir)
        let cert = try pki.server("standin")
        let standIn = try await PersonalizeStandIn.start(
            .init(tls: .init(certificateChainPath: cert.certificate, privateKeyPath: cert.key)))
        return (standIn, pki.caCertificate)
    }

    @Test func httpsGoesThroughTheTunnelWithTheProxyCredentials() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (standIn, ca) = try await Self.setUp(dir)
        let proxy = try ConnectProxy.start(requiring: "agent:s3cret")
        let endpoint = Endpoint(url: standIn.endpoint)!
        var configuration = NIOHTTPTransport.Configuration.fromEnvironment([
            "HTTPS_PROXY": "http://agent:s3cret@127.0.0.1:\(proxy.port)", "AWS_CA_BUNDLE": ca,
        ])
        configuration.maxConnections = 2
        let transport = try NIOHTTPTransport(endpoint: endpoint, configuration: configuration)
        #expect(
            transport.proxy == ProxyServer(host: "127.0.0.1", port: proxy.port, username: "agent", password: "s3cret"))
        let client = NIOHTTPTransportTests.client(standIn, transport: transport)
        #expect(await NIOHTTPTransportTests.sendAll(client, count: 20, concurrency: 2) == 20)
        #expect(standIn.acceptedRecords().count == 20)
        #expect(standIn.stats.signatureFailures == 0)
        let lines = proxy.requestLines
        #expect(!lines.isEmpty && lines.count <= 2, "\(lines)")
        #expect(lines.allSatisfy { $0 == "CONNECT 127.0.0.1:\(standIn.port) HTTP/1.1" }, "\(lines)")
        try await client.shutdown()
        proxy.stop()
        try await standIn.shutdown()
    }

    @Test func refusedProxyCredentialsAreFatalWithoutThePassword() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (standIn, ca) = try await Self.setUp(dir)
        let proxy = try ConnectProxy.start(requiring: "agent:s3cret")
        let transport = try NIOHTTPTransport(
            endpoint: Endpoint(url: standIn.endpoint)!,
            configuration: .fromEnvironment([
                "HTTPS_PROXY": "http://agent:wrong-pw@127.0.0.1:\(proxy.port)", "AWS_CA_BUNDLE": ca,
            ]))
        let client = NIOHTTPTransportTests.client(standIn, transport: transport)
        let result = await client.send(ClientTests.events(["a"]))
        guard case .fatal(let message) = result.outcome else {
            Issue.record("not fatal: \(result.outcome)")
            return
        }
        #expect(message.contains("407"), "\(message)")
        #expect(message.contains("HTTPS_PROXY"), "\(message)")
        #expect(!message.contains("wrong-pw"), "\(message)")
        #expect(standIn.acceptedRecords().isEmpty)
        try await client.shutdown()
        proxy.stop()
        try await standIn.shutdown()
    }

    @Test func noProxyBypassesTheProxyForHTTPS() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (standIn, ca) = try await Self.setUp(dir)
        let proxy = try ConnectProxy.start()
        let transport = try NIOHTTPTransport(
            endpoint: Endpoint(url: standIn.endpoint)!,
            configuration: .fromEnvironment([
                "HTTPS_PROXY": "http://127.0.0.1:\(proxy.port)", "NO_PROXY": "example.com,127.0.0.1",
                "AWS_CA_BUNDLE": ca,
            ]))
        #expect(transport.proxy == nil)
        let client = NIOHTTPTransportTests.client(standIn, transport: transport)
        guard case .accepted = await client.send(ClientTests.events(["direct"])).outcome else {
            Issue.record("not accepted")
            return
        }
        #expect(proxy.requestLines.isEmpty)
        try await client.shutdown()
        proxy.stop()
        try await standIn.shutdown()
    }
}
