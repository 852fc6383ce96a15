import AWSSigV4
import Foundation
import Logging
import PersonalizeClient
import PersonalizeModel
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Proxy selection, proxy use, CA bundles.
@Suite struct TransportTests {
    // MARK: NO_PROXY and proxy URLs

    @Test func proxyVariablesAreReadUpperCaseFirst() {
        let settings = ProxySettings.fromEnvironment([
            "HTTPS_PROXY": "http://proxy:3128", "https_proxy": "http://other:1", "http_proxy": "http://p2:8080",
            "no_proxy": " .internal, 10.0.0.0/8 ,,localhost",
        ])
        #expect(settings.httpsProxy == "http://proxy:3128")
        #expect(settings.httpProxy == "http://p2:8080")
        #expect(settings.noProxy == [".internal", "10.0.0.0/8", "localhost"])
    }

    @Test func proxyIsChosenByTheEndpointsScheme() throws {
        let settings = ProxySettings(httpsProxy: "http://secure:3128", httpProxy: "plain:8080")
        let https = try settings.proxy(for: Endpoint(url: "https://personalize-events.us-east-1.amazonaws.com")!)
        #expect(https == ProxyServer(host: "secure", port: 3128))
        let http = try settings.proxy(for: Endpoint(url: "http://127.0.0.1:9000")!)
        #expect(http == ProxyServer(host: "plain", port: 8080))
        #expect(try ProxySettings(httpProxy: "http://p:1").proxy(for: Endpoint(url: "https://x.example")!) == nil)
    }

    @Test func noProxyMatchesSuffixesStarIPsCIDRsAndPorts() {
        let s = ProxySettings(noProxy: [
            "amazonaws.com", ".example.org", "*.corp", "192.168.1.7", "10.0.0.0/8", "[::1]", "svc:8443",
        ])
        #expect(s.bypasses(host: "personalize-events.us-east-1.amazonaws.com", port: 443))
        #expect(s.bypasses(host: "amazonaws.com", port: 443))
        #expect(!s.bypasses(host: "notamazonaws.com", port: 443))
        #expect(s.bypasses(host: "a.example.org", port: 443))
        #expect(s.bypasses(host: "example.org", port: 443))
        #expect(s.bypasses(host: "x.y.corp", port: 443))
        #expect(s.bypasses(host: "192.168.1.7", port: 80))
        #expect(!s.bypasses(host: "192.168.1.8", port: 80))
        #expect(s.bypasses(host: "10.200.3.4", port: 80))
        #expect(!s.bypasses(host: "11.0.0.1", port: 80))
        #expect(s.bypasses(host: "::1", port: 80))
        #expect(s.bypasses(host: "svc", port: 8443))
        #expect(!s.bypasses(host: "svc", port: 443))
        #expect(ProxySettings(noProxy: ["*"]).bypasses(host: "anything", port: 1))
        #expect(!ProxySettings(noProxy: []).bypasses(host: "anything", port: 1))
    }

    @Test func proxyURLsWithCredentials() throws {
        let p = try ProxyServer.parse("http://us%40er:p%3Ass@proxy.local:3128/", variable: "HTTPS_PROXY")
        #expect(p == ProxyServer(host: "proxy.local", port: 3128, username: "us@er", password: "p:ss"))
        #expect(!p.description.contains("p:ss"))
        #expect(try ProxyServer.parse("proxy", variable: "HTTP_PROXY").port == 80)
        #expect(
            try ProxyServer.parse("http://[::1]:8888", variable: "HTTP_PROXY") == ProxyServer(host: "::1", port: 8888))
    }

    @Test func badProxyURLsAreClearErrorsWithoutTheirPassword() {
        do {
            _ = try ProxyServer.parse("https://user:hunter2@proxy:443", variable: "HTTPS_PROXY")
            Issue.record("accepted an https proxy")
        } catch {
            #expect(error.message.contains("HTTPS_PROXY"))
            #expect(error.message.contains("only http://"))
            #expect(!error.message.contains("hunter2"))
        }
        #expect(throws: ClientError.self) { try ProxyServer.parse("http://proxy:port", variable: "HTTP_PROXY") }
        #expect(throws: ClientError.self) { try ProxyServer.parse("http://:80", variable: "HTTP_PROXY") }
    }

    // MARK: Going through a proxy

    @Test func requestsGoThroughTheProxyForAnHTTPEndpoint() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let proxy = try ConnectProxy.start()
        let endpoint = Endpoint(url: standIn.endpoint)!
        var options = NIOHTTPTransport.Configuration.fromEnvironment(["HTTP_PROXY": "http://127.0.0.1:\(proxy.port)"])
        options.connectTimeout = .seconds(5)
        let transport = try NIOHTTPTransport(endpoint: endpoint, configuration: options)
        #expect(transport.proxy == ProxyServer(host: "127.0.0.1", port: proxy.port))
        let client = PersonalizeEventsClient(
            configuration: .init(
                endpoint: endpoint, region: "us-east-1", retry: RetryPolicy(base: 0.001, cap: 0.01, maxAttempts: 3)),
            credentials: ClientTests.credentials, transport: transport, logger: ClientTests.logger)
        let result = await client.send(ClientTests.events(["via-proxy"]))
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(standIn.acceptedRecords().map(\.id) == ["via-proxy"])
        let hostPort = "\(endpoint.host):\(endpoint.port ?? 80)"
        #expect(proxy.requestLines.contains("CONNECT \(hostPort) HTTP/1.1"), "\(proxy.requestLines)")
        try await client.shutdown()
        proxy.stop()
        try await standIn.shutdown()
    }

    @Test func noProxyBypassesTheProxy() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let proxy = try ConnectProxy.start()
        let endpoint = Endpoint(url: standIn.endpoint)!
        let options = NIOHTTPTransport.Configuration.fromEnvironment([
            "http_proxy": "http://127.0.0.1:\(proxy.port)", "NO_PROXY": "example.com,\(endpoint.host)",
        ])
        let transport = try NIOHTTPTransport(endpoint: endpoint, configuration: options)
        #expect(transport.proxy == nil)
        let client = PersonalizeEventsClient(
            configuration: .init(endpoint: endpoint, region: "us-east-1"),
            credentials: ClientTests.credentials, transport: transport, logger: ClientTests.logger)
        let result = await client.send(ClientTests.events(["direct"]))
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(proxy.requestLines.isEmpty)
        try await client.shutdown()
        proxy.stop()
        try await standIn.shutdown()
    }

    @Test func proxyAuthorizationIsSent() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let proxy = try ConnectProxy.start()
        let endpoint = Endpoint(url: standIn.endpoint)!
        let options = NIOHTTPTransport.Configuration.fromEnvironment([
            "HTTP_PROXY": "http://agent:s3cret@127.0.0.1:\(proxy.port)"
        ])
        let transport = try NIOHTTPTransport(endpoint: endpoint, configuration: options)
        let client = PersonalizeEventsClient(
            configuration: .init(endpoint: endpoint, region: "us-east-1"),
            credentials: ClientTests.credentials, transport: transport, logger: ClientTests.logger)
        let result = await client.send(ClientTests.events(["auth"]))
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        let expected = "proxy-authorization: basic " + Data("agent:s3cret".utf8).base64EncodedString().lowercased()
        #expect(proxy.headerLines.contains { $0.lowercased() == expected }, "\(proxy.headerLines)")
        try await client.shutdown()
        proxy.stop()
        try await standIn.shutdown()
    }

    // MARK: CA bundles

    @Test func missingCABundleIsAClearError() throws {
        let endpoint = Endpoint(url: "https://personalize-events.us-east-1.amazonaws.com")!
        let options = NIOHTTPTransport.Configuration.fromEnvironment(["AWS_CA_BUNDLE": "/nonexistent/ca.pem"])
        #expect(options.caBundlePath == "/nonexistent/ca.pem")
        do {
            _ = try NIOHTTPTransport(endpoint: endpoint, configuration: options)
            Issue.record("accepted a missing CA bundle")
        } catch {
            #expect(error.message.contains("/nonexistent/ca.pem"))
            #expect(error.message.contains("does not exist"))
            #expect(error.message.contains("AWS_CA_BUNDLE"))
        }
        // the configured one wins over the environment
        #expect(
            NIOHTTPTransport.Configuration.fromEnvironment(["AWS_CA_BUNDLE": "/a"], caBundle: "/b").caBundlePath == "/b"
        )
    }

    @Test func caBundleThatIsNotPEMIsAClearError() throws {
        let dir = try TempDir()
        let path = dir.url.appendingPathComponent("junk.pem").path
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ClientError.self) { try NIOHTTPTransport.checkCABundle(path) }
        do {
            try NIOHTTPTransport.checkCABundle(dir.url.path)
            Issue.record("accepted a directory")
        } catch {
            #expect(error.message.contains("directory"))
        }
    }

    @Test func generatedCABundleLoads() async throws {
        let dir = try TempDir()
        guard
            let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            return  // no openssl on this machine: nothing to generate the certificates with
        }
        let ca = dir.url.appendingPathComponent("ca.pem").path
        let key = dir.url.appendingPathComponent("ca.key").path
        let status = try run(
            openssl,
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", ca, "-days", "2",
                "-subj", "/CN=personalize-tail test CA",
            ])
        #expect(status == 0)
        // A bundle of two certificates (the CA twice is enough to show that all are read).
        let bundle = dir.url.appendingPathComponent("bundle.pem").path
        let pem = try Data(contentsOf: URL(fileURLWithPath: ca))
        try (pem + pem).write(to: URL(fileURLWithPath: bundle))
        #expect(try NIOHTTPTransport.checkCABundle(ca) == 1)
        #expect(try NIOHTTPTransport.checkCABundle(bundle) == 2)
        let transport = try NIOHTTPTransport(
            endpoint: Endpoint(url: "https://personalize-events.us-east-1.amazonaws.com")!,
            configuration: .fromEnvironment(["AWS_CA_BUNDLE": bundle]))
        #expect(transport.proxy == nil)
        try await transport.shutdown()
    }

    private func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        try ChildProcess.runBlocking([executable] + arguments).status
    }
}

/// A temporary directory removed when the value goes away.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pt-transport-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A minimal HTTP proxy on 127.0.0.1 that handles `CONNECT host:port` (what the transport sends to a proxy, for
/// http:// as well as https:// targets) by tunnelling bytes both ways, after checking `Proxy-Authorization` when
/// it is started requiring credentials. It records each request line and header.
final class ConnectProxy: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var _requestLines: [String] = []
    private var _headerLines: [String] = []

    var requestLines: [String] { lock.withLock { _requestLines } }
    var headerLines: [String] { lock.withLock { _headerLines } }

    /// `user:password` that `Proxy-Authorization: Basic` must carry (`nil`: none needed); otherwise 407.
    private let requiredCredentials: String?

    private init(listener: Int32, port: Int, requiredCredentials: String?) {
        self.listener = listener
        self.port = port
        self.requiredCredentials = requiredCredentials
    }

    static func start(requiring credentials: String? = nil) throws -> ConnectProxy {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let proxy = ConnectProxy(
            listener: fd, port: Int(UInt16(bigEndian: address.sin_port)), requiredCredentials: credentials)
        let thread = Thread { proxy.acceptLoop() }
        thread.start()
        return proxy
    }

    /// A port nobody listens on right now.
    static func freePort() throws -> Int {
        let probe = try start()
        let port = probe.port
        probe.stop()
        return port
    }

    static func canConnect(port: Int) -> Bool {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            Thread { self.serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var headerEnd: Int?
        while headerEnd == nil {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 {
                close(client)
                return
            }
            head.append(contentsOf: buffer[0..<n])
            if let r = find([13, 10, 13, 10], in: head) { headerEnd = r }
        }
        let text = String(decoding: head[0..<headerEnd!], as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        lock.withLock {
            _requestLines.append(lines[0])
            _headerLines.append(contentsOf: lines.dropFirst())
        }
        let parts = lines[0].split(separator: " ")
        guard parts.count == 3, parts[0] == "CONNECT", let colon = parts[1].lastIndex(of: ":"),
            let targetPort = UInt16(parts[1][parts[1].index(after: colon)...])
        else {
            write(client, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            close(client)
            return
        }
        if let requiredCredentials {
            let expected = "basic " + Data(requiredCredentials.utf8).base64EncodedString()
            let given = lines.dropFirst().compactMap { line -> String? in
                guard let colon = line.firstIndex(of: ":"),
                    line[..<colon].lowercased() == "proxy-authorization"
                else { return nil }
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            guard
                given.contains(where: { $0.lowercased().hasPrefix("basic ") && "basic " + $0.dropFirst(6) == expected })
            else {
                write(
                    client,
                    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                close(client)
                return
            }
        }
        let host = String(parts[1][..<colon])
        #if canImport(Glibc)
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let upstream = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = targetPort.bigEndian
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            write(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            close(upstream)
            close(client)
            return
        }
        write(client, "HTTP/1.1 200 Connection established\r\n\r\n")
        let rest = Array(head[(headerEnd! + 4)...])
        if !rest.isEmpty { _ = rest.withUnsafeBytes { Glibc.write(upstream, $0.baseAddress, $0.count) } }
        let upDone = DispatchSemaphore(value: 0)
        Thread {
            Self.pump(from: client, to: upstream)
            upDone.signal()
        }.start()
        Self.pump(from: upstream, to: client)
        upDone.wait()
        close(upstream)
        close(client)
    }

    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = read(source, &buffer, buffer.count)
            if n <= 0 { break }
            var offset = 0
            while offset < n {
                let w = buffer[offset..<n].withUnsafeBytes { Glibc.write(destination, $0.baseAddress, $0.count) }
                if w <= 0 { break }
                offset += w
            }
            if offset < n { break }
        }
        shutdown(destination, Int32(SHUT_WR))
    }

    private func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }
}
