extension PersonalizeStandIn {
    /// Counters of everything the stand-in answered, kept even when `recordBodies` is off so benchmarks
    /// and soak tests can check totals cheaply.
    public struct Stats: Sendable, Equatable {
        /// Complete requests received (every answer, plus drops).
        public var requests = 0
        /// Requests answered 2xx.
        public var accepted = 0
        /// Records in accepted requests.
        public var acceptedRecords = 0
        /// Routed requests by operation (whatever their answer).
        public var requestsByOperation: [Operation: Int] = [:]
        /// Accepted requests by operation.
        public var acceptedByOperation: [Operation: Int] = [:]
        /// Answers with code `ThrottlingException` (injected).
        public var throttled = 0
        /// Answers with a 5xx status.
        public var failed = 0
        /// Connections closed without an answer.
        public var dropped = 0
        /// 4xx answers other than throttling.
        public var rejected = 0
        /// 4xx answers other than throttling, by error code.
        public var rejectedByCode: [String: Int] = [:]
        /// Requests that failed authentication (missing, malformed, unknown key, bad scope, bad signature,
        /// expired date or token).
        public var signatureFailures = 0
        /// Request body bytes received.
        public var bodyBytes = 0

        public init() {}
    }
}
