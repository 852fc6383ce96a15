import AWSSigV4
import Foundation
import Logging
import PersonalizeModel

/// Sends Personalize Events requests: signs them, retries what is retryable, and reports what became of them.
///
/// It knows nothing of files or records: it takes a finished ``RequestBody`` and says whether the service accepted
/// it, rejected it (bad input: the caller isolates the records), or cannot be reached in a way that retrying fixes.
public final class PersonalizeEventsClient: Sendable {
    public struct Configuration: Sendable {
        public var endpoint: Endpoint
        public var region: String
        public var retry: RetryPolicy
        public var requestTimeout: Duration
        public var userAgent: String
        /// Client-side request rates (per operation and destination, a global cap, adaptive slow-down).
        public var rateLimits: RateLimits

        public init(
            endpoint: Endpoint, region: String, retry: RetryPolicy = .init(), requestTimeout: Duration = .seconds(30),
            userAgent: String = "personalize-tail", rateLimits: RateLimits = .serviceQuotas
        ) {
            self.endpoint = endpoint
            self.region = region
            self.retry = retry
            self.requestTimeout = requestTimeout
            self.userAgent = userAgent
            self.rateLimits = rateLimits
        }
    }

    /// What became of one request after all its attempts.
    public struct Result: Sendable {
        public enum Outcome: Sendable {
            case accepted
            /// The service refused the content (InvalidInputException and the like).
            case rejected(ServiceError)
            /// Retrying cannot help: wrong ARN or tracking id, missing permission, bad credentials.
            case fatal(String)
            /// The retry budget (attempts or deadline) ran out on a retryable error.
            case exhausted(String)
            /// The task was cancelled (shutdown) before an answer arrived.
            case cancelled
        }

        public var outcome: Outcome
        public var attempts: Int
        public var throttles: Int
    }

    public let configuration: Configuration
    private let transport: any HTTPTransport
    private let credentials: CredentialCache
    private let signer: SigV4Signer
    private let logger: Logger
    /// The client-side rate limiter every attempt (first tries and retries) goes through.
    public let rateLimiter: RateLimiter
    /// Whether requests are getting through, attempt by attempt (retries included): `/health` reads it.
    public let health = DeliveryHealth()

    public init(
        configuration: Configuration, credentials: any CredentialProvider, transport: any HTTPTransport,
        logger: Logger
    ) {
        self.configuration = configuration
        self.transport = transport
        self.credentials = CredentialCache(provider: credentials)
        self.signer = SigV4Signer(service: "personalize", region: configuration.region)
        self.logger = logger
        self.rateLimiter = RateLimiter(limits: configuration.rateLimits)
        let endpoint = configuration.endpoint
        self.hostHeader = endpoint.hostHeader
        let headers = Self.signedHeaders(hostHeader: hostHeader)
        var targets: [PersonalizeModel.Operation: Target] = [:]
        for operation in PersonalizeModel.Operation.allCases {
            let path = endpoint.basePath + operation.path
            var head = Array("POST \(path) HTTP/1.1\r\n".utf8)
            for (name, value) in headers { head.append(contentsOf: "\(name): \(value)\r\n".utf8) }
            targets[operation] = Target(
                path: path, url: endpoint.url(path: operation.path),
                signing: signer.prepare(method: "POST", path: path, query: "", headers: headers),
                headStart: head)
        }
        self.targets = targets
        self.headEnd = Array("user-agent: \(configuration.userAgent)\r\ncontent-length: ".utf8)
    }

    private let hostHeader: String
    /// The path (signed), URL and prepared signature of each operation, worked out once.
    private let targets: [PersonalizeModel.Operation: Target]

    private struct Target: Sendable {
        var path: String
        var url: String
        var signing: SigV4Signer.Prepared
        /// The request line and the signed headers' lines of an encoded request (``encodedRequest(_:credentials:date:)``).
        var headStart: [UInt8]
    }

    /// The `user-agent` line and the start of the `content-length` one, after the signature's headers.
    private let headEnd: [UInt8]

    /// The headers every request signs.
    private static func signedHeaders(hostHeader: String) -> [(name: String, value: String)] {
        [("host", hostHeader), ("content-type", "application/json")]
    }

    /// The rate in force now for `operation` to `destination` (requests per second; `nil` = unlimited).
    public func currentRate(for operation: PersonalizeModel.Operation, destination: String = "") -> Double? {
        rateLimiter.currentRate(for: operation, destination: destination)
    }

    public func shutdown() async throws {
        try await transport.shutdown()
    }

    /// Checks that credentials can be had now (start-up and health checks), without sending anything.
    public func checkCredentials() async throws -> String {
        try await credentials.current().accessKeyId
    }

    /// What a first attempt made by ``startFirstAttempt(_:destination:hold:completion:)`` yielded.
    public struct Attempt: Sendable {
        /// The request that was sent.
        public let request: RequestBody
        public let answer: Swift.Result<HTTPResponseParts, any Error>
        let permit: RateLimiter.Permit
        let started: ContinuousClock.Instant

        /// The service accepted the request (2xx).
        public var isAccepted: Bool {
            if case .success(let response) = answer { return (200..<300).contains(response.status) }
            return false
        }
    }

    /// Makes the first attempt of `request` without a task, when nothing has to be waited for: a rate-limit permit
    /// is free now and the credentials are cached and fresh. Returns false, doing nothing, otherwise (use ``send(_:destination:after:)``).
    ///
    /// `completion` runs on the transport's thread. With `hold`, the request goes
    /// at the next ``flushStarted()``. Unless the attempt was accepted, hand it to ``send(_:destination:after:)``,
    /// which classifies the answer and retries as usual.
    public func startFirstAttempt(
        _ request: RequestBody, destination: String = "", hold: Bool = false,
        completion: @escaping @Sendable (Attempt) -> Void
    ) -> Bool {
        guard let creds = credentials.cachedIfFresh() else { return false }
        guard let permit = rateLimiter.tryAcquireNow(request.operation, destination: destination) else { return false }
        let started = ContinuousClock.now
        transport.start(
            method: "POST", encode: { [self] in encodedRequest(request, credentials: creds) },
            timeout: configuration.requestTimeout, hold: hold,
            completion: { answer in
                let attempt = Attempt(request: request, answer: answer, permit: permit, started: started)
                if attempt.isAccepted {
                    self.noteSuccess(request.operation, attempt: 1, latency: (ContinuousClock.now - started).seconds)
                    self.rateLimiter.succeeded(request.operation, destination: destination, permit: permit)
                }
                completion(attempt)
            })
        return true
    }

    /// Lets the first attempts started with `hold` go.
    public func flushStarted() {
        transport.flush()
    }

    /// Sends `request` to `destination` (its tracking id or dataset ARN: the key of the rate limit; requests with
    /// the default share one limit per operation). With `after`, the first attempt is the one already made.
    public func send(_ request: RequestBody, destination: String = "", after first: Attempt? = nil) async -> Result {
        let started = first?.started ?? ContinuousClock.now
        var prior = first
        var attempt = 0
        var throttles = 0
        var refreshedCredentials = false
        while true {
            attempt += 1
            if Task.isCancelled { return Result(outcome: .cancelled, attempts: attempt - 1, throttles: throttles) }
            let retryReason: String
            var retryAfter: Double?
            let permit: RateLimiter.Permit
            let answer: Swift.Result<HTTPResponseParts, any Error>
            var latency: Double?
            let madeBefore = prior != nil
            if let made = prior {
                prior = nil
                permit = made.permit
                answer = made.answer
                // An accepted first attempt was counted when it was answered.
                if made.isAccepted { return Result(outcome: .accepted, attempts: attempt, throttles: throttles) }
                latency = (ContinuousClock.now - made.started).seconds
            } else {
                do {
                    permit = try await rateLimiter.acquire(request.operation, destination: destination)
                } catch {
                    return Result(outcome: .cancelled, attempts: attempt - 1, throttles: throttles)
                }
                let sent = ContinuousClock.now
                do {
                    answer = .success(try await exchange(request))
                } catch {
                    answer = .failure(error)
                }
                latency = (ContinuousClock.now - sent).seconds
            }
            let operation = request.operation.rawValue
            var status: Int?
            var errorCode = "connection_error"
            var errorMessage = ""
            do {
                let response = try answer.get()
                if (200..<300).contains(response.status) {
                    noteSuccess(request.operation, attempt: attempt, latency: latency)
                    if !madeBefore {
                        rateLimiter.succeeded(request.operation, destination: destination, permit: permit)
                    }
                    return Result(outcome: .accepted, attempts: attempt, throttles: throttles)
                }
                let error = ServiceError.decode(
                    status: response.status, headers: response.headers, body: response.body,
                    knownSecrets: credentials.knownSecrets())
                status = error.status
                errorCode = error.code
                errorMessage = error.message
                let errorClass = ErrorClass.classify(error)
                health.record(
                    operation,
                    errorClass == .throttling ? .throttled : errorClass == .invalidInput ? .rejected : .failed,
                    attempt: attempt, error: error.description, latency: latency)
                switch errorClass {
                case .throttling:
                    health.failed()
                    throttles += 1
                    rateLimiter.throttled(request.operation, destination: destination, permit: permit)
                    retryReason = error.description
                    retryAfter = Self.retryAfter(response.headers)
                case .transient:
                    health.failed()
                    retryReason = error.description
                    retryAfter = Self.retryAfter(response.headers)
                case .invalidInput:
                    health.answered()  // the service answered; the content was wrong
                    return Result(outcome: .rejected(error), attempts: attempt, throttles: throttles)
                case .expiredCredentials where !refreshedCredentials:
                    refreshedCredentials = true
                    await credentials.invalidate()
                    logger.warning(
                        "credentials were refused, fetching fresh ones", metadata: ["error.code": "\(error.code)"])
                    continue
                case .expiredCredentials, .fatal:
                    let keyId = try? await credentials.current().accessKeyId
                    return Result(
                        outcome: .fatal(
                            Self.explain(error, request: request, destination: destination, accessKeyId: keyId)),
                        attempts: attempt, throttles: throttles)
                }
            } catch is CancellationError {
                return Result(outcome: .cancelled, attempts: attempt, throttles: throttles)
            } catch let error as ClientError {
                return Result(outcome: .fatal(error.message), attempts: attempt, throttles: throttles)
            } catch {
                if Task.isCancelled { return Result(outcome: .cancelled, attempts: attempt, throttles: throttles) }
                let redacted = Redaction.redact("\(error)", knownSecrets: credentials.knownSecrets())
                retryReason = "connection error: \(redacted)"
                errorMessage = redacted
                health.record(operation, .connectionError, attempt: attempt, error: retryReason, latency: latency)
                health.failed()
            }
            let elapsed = (ContinuousClock.now - started).seconds
            guard configuration.retry.allowsRetry(afterAttempt: attempt, elapsed: elapsed) else {
                logger.warning(
                    "delivery failed; giving up on this request (aws.maxAttempts / aws.retryDeadlineSeconds)",
                    metadata: Self.failureMetadata(
                        operation: operation, status: status, code: errorCode, message: errorMessage, attempt: attempt))
                return Result(
                    outcome: .exhausted("gave up after \(attempt) attempts: \(retryReason)"), attempts: attempt,
                    throttles: throttles)
            }
            let delay = configuration.retry.delay(
                afterAttempt: attempt, random: Double.random(in: 0..<1), retryAfter: retryAfter)
            if let suppressed = health.warningDue() {
                var metadata = Self.failureMetadata(
                    operation: operation, status: status, code: errorCode, message: errorMessage, attempt: attempt)
                metadata["retry.at"] = "\(Self.iso8601(Date().addingTimeInterval(delay)))"
                metadata["retry.in_seconds"] = "\(PrettyNumber.seconds(delay))"
                if suppressed > 0 { metadata["warnings.suppressed"] = "\(suppressed)" }
                logger.warning("delivery failing; retrying", metadata: metadata)
            }
            do {
                try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
            } catch {
                return Result(outcome: .cancelled, attempts: attempt, throttles: throttles)
            }
        }
    }

    /// Counts an accepted attempt; after an outage, says how long it lasted.
    private func noteSuccess(_ operation: PersonalizeModel.Operation, attempt: Int, latency: Double?) {
        health.record(operation.rawValue, .accepted, attempt: attempt, latency: latency)
        if let failed = health.succeeded() {
            logger.notice(
                "delivery recovered",
                metadata: [
                    "operation": "\(operation.rawValue)",
                    "delivery.failed_for_seconds": "\(PrettyNumber.seconds(failed))",
                ])
        }
    }

    /// The cause of a failed attempt, as log metadata (the message as the service gave it: redacted upstream).
    static func failureMetadata(
        operation: String, status: Int?, code: String, message: String, attempt: Int
    ) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "operation": "\(operation)", "attempt": "\(attempt)", "error.code": "\(code)",
        ]
        if let status { metadata["http.status"] = "\(status)" }
        if !message.isEmpty { metadata["error.message"] = "\(String(message.prefix(300)))" }
        return metadata
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    private func exchange(_ request: RequestBody) async throws -> HTTPResponseParts {
        let creds: AWSCredentials
        do {
            creds = try await credentials.current()
        } catch {
            throw ClientError.credentials("cannot get AWS credentials: \(Redaction.redact("\(error)"))")
        }
        return try await transport.send(
            encodedRequest(request, credentials: creds), timeout: configuration.requestTimeout)
    }

    func signedRequest(_ request: RequestBody, credentials creds: AWSCredentials, date: Date = Date())
        -> HTTPRequestParts
    {
        let target = targets[request.operation]!
        let signed = target.signing.sign(body: request.body, credentials: creds, date: date)
        var all = Self.signedHeaders(hostHeader: hostHeader)
        all.reserveCapacity(7)
        all.append(contentsOf: signed)
        all.append(("user-agent", configuration.userAgent))
        all.append(("content-length", String(request.body.count)))
        return HTTPRequestParts(method: "POST", url: target.url, headers: all, body: request.body)
    }

    /// ``signedRequest(_:credentials:date:)`` written out as HTTP/1.1: the same request line, headers (names, values,
    /// order) and body as ``NIOHTTPTransport`` would write for it, without the strings in between.
    func encodedRequest(_ request: RequestBody, credentials creds: AWSCredentials, date: Date = Date())
        -> EncodedHTTPRequest
    {
        let target = targets[request.operation]!
        var head: [UInt8] = []
        head.reserveCapacity(target.headStart.count + headEnd.count + 320 + (creds.sessionToken?.utf8.count ?? 0))
        head.append(contentsOf: target.headStart)
        target.signing.appendSignedHeaderLines(body: request.body, credentials: creds, date: date, to: &head)
        head.append(contentsOf: headEnd)
        head.append(contentsOf: String(request.body.count).utf8)
        head.append(contentsOf: "\r\n\r\n".utf8)
        return EncodedHTTPRequest(method: "POST", head: head, body: request.body)
    }

    static func retryAfter(_ headers: [(String, String)]) -> Double? {
        for (name, value) in headers {
            switch name.lowercased() {
            case "x-amz-retry-after": if let ms = Double(value) { return ms / 1000 }
            case "retry-after": if let s = Double(value) { return s }
            default: continue
            }
        }
        return nil
    }

    /// An actionable message for an answer that stops the agent. Never includes secrets.
    static func explain(
        _ error: ServiceError, request: RequestBody, destination: String = "", accessKeyId: String? = nil
    ) -> String {
        let target = destination.isEmpty ? "" : " for \(destination)"
        let key = accessKeyId.map { " (access key id \($0))" } ?? ""
        let hint: String
        switch error.code {
        case "ResourceNotFoundException":
            hint = "check the datasetArn / trackingId\(target) in the mapping that feeds \(request.operation.rawValue)"
        case "AccessDeniedException":
            hint = "grant personalize:\(request.operation.rawValue)\(target) to the agent's IAM identity\(key)"
        case "UnrecognizedClientException", "InvalidClientTokenId", "MissingAuthenticationTokenException":
            hint = "the access key id\(key) is not known to AWS in this region; check the credentials the agent uses"
        case "InvalidSignatureException", "SignatureDoesNotMatch":
            hint = signatureHint(error.message, key: key)
        case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
            hint =
                "the session token expired and fresh credentials were refused too; check the credential source and the clock"
        default:
            hint = "see the AWS error code above"
        }
        return "\(request.operation.rawValue)\(target) failed with \(error); \(hint)"
    }
}

extension PersonalizeEventsClient {
    /// The hint after a signature error, from what the service said: a wrong region, a clock off, or (only when the
    /// message names neither) a secret key that does not match the access key id.
    static func signatureHint(_ message: String, key: String) -> String {
        let lower = message.lowercased()
        if lower.contains("region") {
            var hint = "the request was signed for a region the endpoint does not serve"
            if let quote = message.range(of: "'"), let end = message[quote.upperBound...].range(of: "'") {
                hint += " (the service expects '\(message[quote.upperBound..<end.lowerBound])')"
            }
            return hint + "; set aws.region (or AWS_REGION) to the endpoint's region"
        }
        if lower.contains("signature expired") || lower.contains("time") && lower.contains("differ") {
            return "the clock of this machine is off; synchronise it (chrony, systemd-timesyncd)"
        }
        return "the secret access key does not match the access key id\(key), or the clock is off"
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Numbers in log lines.
public enum PrettyNumber {
    /// Seconds with millisecond precision at most (`0.25`, `12`).
    public static func seconds(_ value: Double) -> String {
        let ms = (value * 1000).rounded() / 1000
        return ms == ms.rounded() ? String(Int(ms)) : String(ms)
    }
}
