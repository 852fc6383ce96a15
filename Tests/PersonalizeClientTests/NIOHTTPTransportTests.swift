import AWSSigV4
import Foundation
import Logging
import PersonalizeClient
import PersonalizeModel
import Synchronization
import TestSupport
import Testing

/// The lean NIO transport against the stand-in: through the client (signatures verified), concurrency, reuse,
/// drops, timeouts, cancellation, shutdown, proxy choice.
@Suite struct NIOHTTPTransportTests {
    static func transport(
        _ standIn: PersonalizeStandIn, maxConnections: Int = 4, threads: Int = 1
    ) throws -> NIOHTTPTransport {
        try NIOHTTPTransport(
            endpoint: Endpoint(url: standIn.endpoint)!,
            configuration: .init(threads: threads, maxConnections: maxConnections, connectTimeout: .seconds(30)))
    }

    /// A client over `transport`. The default request timeout is long: a request's timeout counts its wait in the
    /// queue, and on a slow host (ThreadSanitizer, a busy CI) a short one would time a request out and send it again,
    /// which no test here means to check; the tests of timeouts pass their own.
    static func client(
        _ standIn: PersonalizeStandIn, transport: any HTTPTransport,
        retry: RetryPolicy = RetryPolicy(base: 0.001, cap: 0.01), requestTimeout: Duration = .seconds(60),
        credentials: any CredentialProvider = ClientTests.credentials
    ) -> PersonalizeEventsClient {
        PersonalizeEventsClient(
            configuration: .init(
                endpoint: Endpoint(url: standIn.endpoint)!, region: "us-east-1", retry: retry,
                requestTimeout: requestTimeout, rateLimits: .unlimited),
            credentials: credentials, transport: transport, logger: ClientTests.logger)
    }

    // MARK: Through the client

    @Test func acceptedRequestsAreSignedAndRecorded() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let transport = try Self.transport(standIn)
        let client = Self.client(standIn, transport: transport)
        for i in 0..<3 {
            let result = await client.send(ClientTests.events(["a\(i)", "b\(i)"]))
            guard case .accepted = result.outcome else {
                Issue.record("\(result.outcome)")
                return
            }
            #expect(result.attempts == 1)
        }
        #expect(standIn.acceptedRecords().map(\.id) == ["a0", "b0", "a1", "b1", "a2", "b2"])
        #expect(standIn.stats.signatureFailures == 0)
        #expect(transport.connectionsOpened == 1)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func sessionTokensAreSentAndSigned() async throws {
        let standIn = try await PersonalizeStandIn.start(.init(requiredSessionTokens: ["AKIDEXAMPLE": "TOKEN-1"]))
        let creds = StaticCredentialProvider(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            sessionToken: "TOKEN-1")
        let client = Self.client(standIn, transport: try Self.transport(standIn), credentials: creds)
        let result = await client.send(ClientTests.events(["a"]))
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(standIn.stats.signatureFailures == 0)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func errorAnswersAreDecoded() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(rejectRecordIds: ["bad"]))
        let client = Self.client(standIn, transport: try Self.transport(standIn))
        let result = await client.send(ClientTests.events(["ok", "bad"]))
        guard case .rejected(let error) = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(error.code == "InvalidInputException")
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func hundredConcurrentSendsOverEightConnections() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let transport = try Self.transport(standIn, maxConnections: 8)
        let client = Self.client(standIn, transport: transport)
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<100 {
                group.addTask {
                    if case .accepted = await client.send(ClientTests.events(["e\(i)"])).outcome { return true }
                    return false
                }
            }
            var n = 0
            for await ok in group where ok { n += 1 }
            return n
        }
        #expect(accepted == 100)
        #expect(standIn.stats.accepted == 100)
        #expect(Set(standIn.acceptedRecords().map(\.id)).count == 100)
        #expect(transport.connectionsOpened >= 1)
        #expect(transport.connectionsOpened <= 8)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func connectionsAreReused() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let transport = try Self.transport(standIn, maxConnections: 8)
        let client = Self.client(standIn, transport: transport)
        for i in 0..<50 {
            guard case .accepted = await client.send(ClientTests.events(["e\(i)"])).outcome else {
                Issue.record("request \(i) not accepted")
                return
            }
        }
        #expect(transport.connectionsOpened == 1)
        #expect(standIn.stats.accepted == 50)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func severalThreadsShareTheWork() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let transport = try Self.transport(standIn, maxConnections: 4, threads: 2)
        let client = Self.client(standIn, transport: transport)
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<40 {
                group.addTask {
                    if case .accepted = await client.send(ClientTests.events(["e\(i)"])).outcome { return true }
                    return false
                }
            }
            var n = 0
            for await ok in group where ok { n += 1 }
            return n
        }
        #expect(accepted == 40)
        #expect(transport.connectionsOpened <= 4)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func droppedConnectionIsRetriedOnANewOne() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(script: [.drop, .throttle, .drop]))
        let transport = try Self.transport(standIn)
        let spy = SpyTransport(transport)
        let client = Self.client(standIn, transport: spy)
        let result = await client.send(ClientTests.events(["a"]))
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(result.attempts == 4)
        #expect(standIn.acceptedRecords().map(\.id) == ["a"])
        #expect(standIn.stats.dropped == 2)
        #expect(spy.errors.allSatisfy { ($0 as? NIOHTTPTransportError) == .connectionClosed })
        #expect(spy.errors.count == 2)
        #expect(transport.connectionsOpened == 3)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func serverConnectionCloseIsHonoured() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let transport = try Self.transport(standIn)
        // The stand-in answers `Connection: close` to a request asking for it, then closes.
        let spy = SpyTransport(transport, extraHeaders: [("connection", "close")])
        let client = Self.client(standIn, transport: spy)
        for i in 0..<3 {
            guard case .accepted = await client.send(ClientTests.events(["e\(i)"])).outcome else {
                Issue.record("request \(i) not accepted")
                return
            }
        }
        #expect(spy.errors.isEmpty)
        #expect(transport.connectionsOpened == 3)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    // MARK: First attempts without a task (the engine's path)

    /// Collects the attempts reported through callbacks.
    final class Attempts: Sendable {
        let list = Mutex<[PersonalizeEventsClient.Attempt]>([])
        func add(_ a: PersonalizeEventsClient.Attempt) { list.withLock { $0.append(a) } }
        var count: Int { list.withLock { $0.count } }
        func wait(for n: Int, within seconds: Double = 60) async -> Bool {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while count < n, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
            return count >= n
        }
    }

    @Test func heldFirstAttemptsGoAtFlushSignedAndAnswered() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let transport = try Self.transport(standIn)
        let client = Self.client(standIn, transport: transport)
        let attempts = Attempts()
        // No credentials cached yet: the caller must take the task path.
        #expect(!client.startFirstAttempt(ClientTests.events(["x"]), hold: true) { attempts.add($0) })
        _ = try await client.checkCredentials()
        for i in 0..<5 {
            #expect(client.startFirstAttempt(ClientTests.events(["h\(i)"]), hold: true) { attempts.add($0) })
        }
        // That nothing goes needs some time to show; a loaded machine can only make this miss an early send, never
        // fail a correct hold.
        try await Task.sleep(for: .milliseconds(300))
        #expect(standIn.stats.requests == 0, "held until flush")
        client.flushStarted()
        #expect(await attempts.wait(for: 5))
        #expect(attempts.list.withLock { $0.allSatisfy(\.isAccepted) })
        #expect(Set(standIn.acceptedRecords().map(\.id)) == ["h0", "h1", "h2", "h3", "h4"])
        #expect(standIn.stats.signatureFailures == 0)
        #expect(client.health.snapshot.lastSuccess != nil)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func aFailedFirstAttemptContinuesOnTheRetryPath() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(throttleNext: 1))
        let client = Self.client(standIn, transport: try Self.transport(standIn))
        _ = try await client.checkCredentials()
        let attempts = Attempts()
        #expect(client.startFirstAttempt(ClientTests.events(["r"])) { attempts.add($0) })
        #expect(await attempts.wait(for: 1))
        let first = try #require(attempts.list.withLock { $0.first })
        #expect(!first.isAccepted, "the first answer was a throttle")
        #expect(client.health.snapshot.failingSince == nil, "classified on the retry path, not before")
        let result = await client.send(first.request, after: first)
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(result.attempts == 2)
        #expect(result.throttles == 1)
        #expect(standIn.acceptedRecords().map(\.id) == ["r"])
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func aStartedRequestTimesOutThroughTheSweep() async throws {
        let standIn = try await PersonalizeStandIn.start()
        // An answer that would come long after any test deadline: an answer now can only be the timeout.
        standIn.setFaults(Faults(responseDelayMillis: 600_000))
        let client = Self.client(standIn, transport: try Self.transport(standIn), requestTimeout: .milliseconds(200))
        _ = try await client.checkCredentials()
        let attempts = Attempts()
        #expect(client.startFirstAttempt(ClientTests.events(["t"])) { attempts.add($0) })
        #expect(await attempts.wait(for: 1, within: 120))
        let first = try #require(attempts.list.withLock { $0.first })
        guard case .failure(let error) = first.answer else {
            Issue.record("expected a timeout")
            return
        }
        #expect((error as? NIOHTTPTransportError) == .timedOut)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    // MARK: Timeouts, cancellation, shutdown, failures to connect

    @Test func requestTimeoutFailsQuickly() async throws {
        let standIn = try await PersonalizeStandIn.start()
        // An answer that would come long after any test deadline: the send ends by the timeout or not at all.
        standIn.setFaults(Faults(responseDelayMillis: 600_000))
        let transport = try Self.transport(standIn)
        let spy = SpyTransport(transport)
        let client = Self.client(
            standIn, transport: spy, retry: RetryPolicy(base: 0.001, cap: 0.01, maxAttempts: 1),
            requestTimeout: .milliseconds(200))
        let start = ContinuousClock.now
        let result = await client.send(ClientTests.events(["a"]))
        let elapsed = ContinuousClock.now - start
        guard case .exhausted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(elapsed >= .milliseconds(190), "not before the timeout")
        #expect(spy.errors.count == 1)
        #expect((spy.errors.first as? NIOHTTPTransportError) == .timedOut)
        // The timed-out connection was closed; the next request opens a fresh one and works (a client with time to
        // spare sends it: a fresh connection may take longer than 200 ms on a slow host).
        standIn.setFaults(.none)
        let patient = Self.client(standIn, transport: spy, retry: RetryPolicy(base: 0.001, cap: 0.01, maxAttempts: 1))
        let next = await patient.send(ClientTests.events(["b"]))
        guard case .accepted = next.outcome else {
            Issue.record("\(next.outcome)")
            return
        }
        #expect(transport.connectionsOpened == 2)
        try await client.shutdown()  // and so the transport the two clients share
        try await standIn.shutdown()
    }

    @Test func cancellationFailsTheRequestPromptly() async throws {
        let standIn = try await PersonalizeStandIn.start()
        // No answer before the test's deadline: the send can only end by the cancellation.
        standIn.setFaults(Faults(responseDelayMillis: 600_000))
        let transport = try Self.transport(standIn)
        let spy = SpyTransport(transport)
        let client = Self.client(standIn, transport: spy)
        let task = Task { await client.send(ClientTests.events(["a"])) }
        #expect(await standIn.waitUntil(timeout: .seconds(60)) { $0.requests >= 1 }, "the request is in flight")
        task.cancel()
        let result = await task.value
        guard case .cancelled = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(spy.errors.first is CancellationError)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func shutdownFailsRequestsInFlightAndLaterOnes() async throws {
        let standIn = try await PersonalizeStandIn.start()
        // No answer before the test's deadline: the sends can only end by the shutdown.
        standIn.setFaults(Faults(responseDelayMillis: 600_000))
        let transport = try Self.transport(standIn, maxConnections: 2)
        let spy = SpyTransport(transport)
        let client = Self.client(
            standIn, transport: spy, retry: RetryPolicy(base: 0.001, cap: 0.01, maxAttempts: 1))
        // Two in flight, three queued.
        let tasks = (0..<5).map { i in Task { await client.send(ClientTests.events(["e\(i)"])) } }
        #expect(await standIn.waitUntil(timeout: .seconds(60)) { $0.requests >= 2 }, "two requests are in flight")
        try await client.shutdown()
        for task in tasks {
            let result = await task.value
            guard case .exhausted = result.outcome else {
                Issue.record("\(result.outcome)")
                continue
            }
        }
        #expect(spy.errors.count == 5)
        #expect(spy.errors.allSatisfy { ($0 as? NIOHTTPTransportError) == .shutDown })
        await #expect(throws: NIOHTTPTransportError.shutDown) {
            _ = try await transport.send(
                HTTPRequestParts(method: "POST", url: standIn.endpoint + "/events", headers: [], body: []),
                timeout: .seconds(1))
        }
        try await transport.shutdown()  // idempotent
        try await standIn.shutdown()
    }

    @Test func connectionRefusedIsAnErrorNotAHang() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let endpoint = standIn.endpoint
        try await standIn.shutdown()
        let transport = try NIOHTTPTransport(
            endpoint: Endpoint(url: endpoint)!, configuration: .init(maxConnections: 2))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    // A refused connection fails the send at once, with a connection error, not by the timeout.
                    await #expect {
                        _ = try await transport.send(
                            HTTPRequestParts(method: "POST", url: endpoint + "/events", headers: [], body: []),
                            timeout: .seconds(600))
                    } throws: { error in
                        (error as? NIOHTTPTransportError) != .timedOut
                    }
                }
            }
        }
        #expect(transport.connectionsOpened == 0)
        try await transport.shutdown()
    }

    // MARK: Construction

    @Test func theProxyIsChosenAtConstructionAndABadCABundleIsRefused() async throws {
        let endpoint = Endpoint(url: "https://personalize-events.us-east-1.amazonaws.com")!
        let direct = try NIOHTTPTransport(endpoint: endpoint)
        #expect(direct.proxy == nil)
        var configuration = NIOHTTPTransport.Configuration(proxy: ProxySettings(httpsProxy: "http://proxy:3128"))
        let proxied = try NIOHTTPTransport(endpoint: endpoint, configuration: configuration)
        #expect(proxied.proxy == ProxyServer(host: "proxy", port: 3128))
        configuration.proxy.noProxy = ["amazonaws.com"]
        let bypassed = try NIOHTTPTransport(endpoint: endpoint, configuration: configuration)
        #expect(bypassed.proxy == nil)
        configuration.caBundlePath = "/nonexistent/ca.pem"
        #expect(throws: ClientError.self) { _ = try NIOHTTPTransport(endpoint: endpoint, configuration: configuration) }
        for transport in [direct, proxied, bypassed] {
            try await transport.shutdown()
        }
    }

    // MARK: Many requests

    @Test func manyConcurrentRequestsAreAllAnsweredOnTheirConnections() async throws {
        let standIn = try await PersonalizeStandIn.start(.init(recordBodies: false))
        let transport = try Self.transport(standIn, maxConnections: 16)
        let client = Self.client(standIn, transport: transport)
        let count = 2000
        let accepted = await Self.sendAll(client, count: count, concurrency: 16)
        #expect(accepted == count)
        #expect(standIn.stats.acceptedRecords == count && standIn.stats.signatureFailures == 0)
        #expect(transport.connectionsOpened >= 1 && transport.connectionsOpened <= 16, "\(transport.connectionsOpened)")
        try await client.shutdown()
        try await standIn.shutdown()
    }

    /// Sends `count` one-event requests with `concurrency` workers; returns how many were accepted.
    static func sendAll(_ client: PersonalizeEventsClient, count: Int, concurrency: Int) async -> Int {
        await withTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var ok = 0
                    for i in stride(from: worker, to: count, by: concurrency) {
                        if case .accepted = await client.send(ClientTests.events(["e\(i)"])).outcome { ok += 1 }
                    }
                    return ok
                }
            }
            return await group.reduce(0, +)
        }
    }
}

/// Passes requests to another transport (optionally adding headers) and remembers the errors they failed with.
final class SpyTransport: HTTPTransport {
    private let inner: any HTTPTransport
    private let extraHeaders: [UInt8]
    private let thrown = Mutex<[any Error]>([])

    init(_ inner: any HTTPTransport, extraHeaders: [(name: String, value: String)] = []) {
        self.inner = inner
        self.extraHeaders = Array(extraHeaders.map { "\($0.name): \($0.value)\r\n" }.joined().utf8)
    }

    var errors: [any Error] { thrown.withLock { $0 } }

    func start(
        method: String, encode: @escaping @Sendable () -> EncodedHTTPRequest, timeout: Duration, hold: Bool,
        completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
    ) -> HTTPRequestHandle {
        let extra = extraHeaders
        return inner.start(
            method: method,
            encode: {
                var request = encode()
                // Before the empty line that ends the head.
                request.head.insert(contentsOf: extra, at: request.head.count - 2)
                return request
            },
            timeout: timeout, hold: hold,
            completion: { [self] result in
                if case .failure(let error) = result { self.thrown.withLock { $0.append(error) } }
                completion(result)
            })
    }

    func flush() {
        inner.flush()
    }

    func shutdown() async throws {
        try await inner.shutdown()
    }
}
