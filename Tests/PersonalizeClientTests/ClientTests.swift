import AWSSigV4
import Foundation
import Logging
import PersonalizeClient
import PersonalizeModel
import TestSupport
import Testing

/// The client against the stand-in: signatures, every class of answer, retries.
@Suite struct ClientTests {
    static let credentials = StaticCredentialProvider(
        accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func client(
        _ standIn: PersonalizeStandIn, retry: RetryPolicy = RetryPolicy(base: 0.001, cap: 0.01),
        credentials: any CredentialProvider = credentials
    ) -> PersonalizeEventsClient {
        PersonalizeEventsClient(
            configuration: .init(
                endpoint: Endpoint(url: standIn.endpoint)!, region: "us-east-1", retry: retry,
                requestTimeout: .seconds(5)),
            credentials: credentials, transport: transport(standIn), logger: logger)
    }

    /// The transport for requests to `standIn`.
    static func transport(_ standIn: PersonalizeStandIn) -> NIOHTTPTransport {
        try! NIOHTTPTransport(
            endpoint: Endpoint(url: standIn.endpoint)!, configuration: .init(connectTimeout: .seconds(30)))
    }

    static func events(_ ids: [String]) -> RequestBody {
        let records = ids.map {
            Record.event(
                trackingId: "t-1", userId: "u-1", sessionId: "s-1",
                Event(eventId: $0, eventType: "click", sentAt: Timestamp(epochSeconds: 1_763_900_000)))
        }
        return RequestBody(key: records[0].batchKey, records: records)
    }

    @Test func acceptedRequestIsSignedAndRecorded() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let client = Self.client(standIn)
        let result = await client.send(Self.events(["a", "b"]))
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(result.attempts == 1)
        #expect(standIn.acceptedRecords().map(\.id) == ["a", "b"])
        #expect(standIn.stats.signatureFailures == 0)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func sessionTokensAreSentAndSigned() async throws {
        let standIn = try await PersonalizeStandIn.start(.init(requiredSessionTokens: ["AKIDEXAMPLE": "TOKEN-1"]))
        let creds = StaticCredentialProvider(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            sessionToken: "TOKEN-1")
        let client = Self.client(standIn, credentials: creds)
        let result = await client.send(Self.events(["a"]))
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func throttlingServerErrorsAndDroppedConnectionsAreRetried() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(
            Faults(script: [
                .throttle, .unavailable, .internalFailure, .drop, .error(status: 429, code: "TooManyRequestsException"),
            ]))
        let client = Self.client(standIn)
        let result = await client.send(Self.events(["a"]))
        guard case .accepted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(result.attempts == 6)
        #expect(result.throttles == 2)
        #expect(standIn.acceptedRecords().map(\.id) == ["a"])
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func retryAfterIsHonoured() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(throttleNext: 1, retryAfterMillis: 300))
        let client = Self.client(standIn)
        let start = ContinuousClock.now
        _ = await client.send(Self.events(["a"]))
        #expect(ContinuousClock.now - start >= .milliseconds(290))
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func attemptsCanBeCapped() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(throttleFraction: 1))
        let client = Self.client(standIn, retry: RetryPolicy(base: 0.001, cap: 0.01, maxAttempts: 3))
        let result = await client.send(Self.events(["a"]))
        guard case .exhausted = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(result.attempts == 3)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func invalidInputIsNotRetried() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(rejectRecordIds: ["bad"]))
        let client = Self.client(standIn)
        let result = await client.send(Self.events(["ok", "bad"]))
        guard case .rejected(let error) = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(error.code == "InvalidInputException")
        #expect(result.attempts == 1)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func unknownKeyIsFatalAndNamesTheFix() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let client = Self.client(
            standIn, credentials: StaticCredentialProvider(accessKeyId: "AKIDUNKNOWN", secretAccessKey: "s3cr3t-value"))
        let result = await client.send(Self.events(["a"]))
        guard case .fatal(let message) = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(message.contains("UnrecognizedClientException"))
        #expect(message.contains("AKIDUNKNOWN"))
        #expect(!message.contains("s3cr3t-value"))
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func wrongSecretIsFatal() async throws {
        let standIn = try await PersonalizeStandIn.start()
        let client = Self.client(
            standIn, credentials: StaticCredentialProvider(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wrong"))
        let result = await client.send(Self.events(["a"]))
        guard case .fatal(let message) = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        #expect(message.contains("InvalidSignatureException"))
        try await client.shutdown()
        try await standIn.shutdown()
    }
}

@Suite struct AnswerDecodingTests {
    @Test(arguments: [
        (
            ["X-Amzn-ErrorType": "InvalidInputException:http://internal.amazon.com/coral/com.amazon.coral.validate/"],
            "{}", "InvalidInputException"
        ),
        (
            [:], #"{"__type":"com.amazonaws.personalize#ResourceNotFoundException","message":"no"}"#,
            "ResourceNotFoundException"
        ),
        ([:], #"{"code":"ThrottlingException"}"#, "ThrottlingException"),
        ([:], #"{"Code":"AccessDeniedException","Message":"denied"}"#, "AccessDeniedException"),
        ([:], "<html>bad gateway</html>", "HTTP 502"),
    ])
    func errorCodes(_ headers: [String: String], _ body: String, _ code: String) {
        let error = ServiceError.decode(
            status: 502, headers: headers.map { ($0.key, $0.value) }, body: Array(body.utf8))
        #expect(error.code == code)
    }

    @Test func classification() {
        func c(_ status: Int, _ code: String) -> ErrorClass {
            ErrorClass.classify(ServiceError(status: status, code: code, message: ""))
        }
        #expect(c(400, "ThrottlingException") == .throttling)
        #expect(c(429, "HTTP 429") == .throttling)
        #expect(c(503, "ServiceUnavailable") == .transient)
        #expect(c(500, "HTTP 500") == .transient)
        #expect(c(400, "InvalidInputException") == .invalidInput)
        #expect(c(403, "ExpiredTokenException") == .expiredCredentials)
        #expect(c(404, "ResourceNotFoundException") == .fatal)
        #expect(c(400, "AccessDeniedException") == .fatal)
    }

    @Test func backoffIsFullJitterWithACap() {
        let policy = RetryPolicy(base: 0.1, cap: 20)
        #expect(policy.delay(afterAttempt: 1, random: 0.999) < 0.1)
        #expect(policy.delay(afterAttempt: 4, random: 0.5) == 0.4)
        #expect(policy.delay(afterAttempt: 40, random: 1) == 20)
        #expect(policy.delay(afterAttempt: 1, random: 0, retryAfter: 2) == 2)
        #expect(policy.allowsRetry(afterAttempt: 1000, elapsed: 1e6))
        #expect(!RetryPolicy(maxAttempts: 3).allowsRetry(afterAttempt: 3, elapsed: 0))
        #expect(!RetryPolicy(deadline: 10).allowsRetry(afterAttempt: 1, elapsed: 11))
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080", "http", "127.0.0.1:8080"),
        ("https://personalize-events.us-east-1.amazonaws.com/", "https", "personalize-events.us-east-1.amazonaws.com"),
        ("https://example.com:443", "https", "example.com"),
        ("http://[::1]:9000", "http", "[::1]:9000"),
    ])
    func endpoints(_ url: String, _ scheme: String, _ host: String) throws {
        let e = try #require(Endpoint(url: url))
        #expect(e.scheme == scheme)
        #expect(e.hostHeader == host)
    }

    @Test func endpointResolutionOrder() throws {
        let env = ["AWS_ENDPOINT_URL": "http://general:1", "AWS_ENDPOINT_URL_PERSONALIZE_EVENTS": "http://specific:2"]
        #expect(try EndpointResolver.resolve(configured: nil, region: "eu-west-1", environment: env).host == "specific")
        #expect(
            try EndpointResolver.resolve(configured: "http://config:3", region: "eu-west-1", environment: env).host
                == "config")
        #expect(
            try EndpointResolver.resolve(
                configured: nil, region: "eu-west-1", environment: ["AWS_ENDPOINT_URL": "http://general:1"]
            ).host == "general")
        var ignored = env
        ignored["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        #expect(
            try EndpointResolver.resolve(configured: nil, region: "eu-west-1", environment: ignored).host
                == "personalize-events.eu-west-1.amazonaws.com")
        #expect(
            try EndpointResolver.resolve(configured: nil, region: "cn-north-1", environment: [:]).host
                == "personalize-events.cn-north-1.amazonaws.com.cn")
        #expect(throws: ClientError.self) {
            try EndpointResolver.resolve(configured: "ftp://x", region: "us-east-1", environment: [:])
        }
    }
}
