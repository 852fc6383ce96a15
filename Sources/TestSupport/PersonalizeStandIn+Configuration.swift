import Foundation
import NIOCore

extension PersonalizeStandIn {
    /// How the stand-in authenticates and what it keeps. Fixed for the server's life; faults change at run time.
    public struct Configuration: Sendable {
        /// Known credentials: access key id -> secret access key.
        public var credentials: [String: String]
        /// The region the credential scope must name.
        public var region: String
        /// The signing name the credential scope must name (`personalize`, not `personalize-events`).
        public var service: String
        /// How far `X-Amz-Date` may be from the stand-in's clock, in seconds (`.infinity` accepts fixed
        /// dates such as test vectors').
        public var maxClockSkew: TimeInterval
        /// When set, an access key id listed here must come with exactly this `x-amz-security-token`.
        public var requiredSessionTokens: [String: String]
        /// Session tokens answered 403 `ExpiredTokenException`, to exercise credential refresh.
        public var expiredTokens: Set<String>
        /// Keep accepted bodies and records (`acceptedRequests()`); off for benchmarks, leaving counters only.
        public var recordBodies: Bool
        /// Bodies larger than this are answered 413 without being parsed.
        public var maxBodyBytes: Int
        /// Port to bind on 127.0.0.1; 0 picks a free one.
        public var port: Int
        /// Event loop threads of the stand-in's own group (ignored when `eventLoopGroup` is given).
        public var threads: Int
        /// Run on this group instead of a private one (the stand-in never shuts a given group down).
        public var eventLoopGroup: (any EventLoopGroup)?
        /// The stand-in's clock, injectable so clock-skew tests need no sleeping.
        public var now: @Sendable () -> Date
        /// Serve HTTPS with this certificate instead of plain HTTP.
        public var tls: TLS?

        public init(
            credentials: [String: String] = ["AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"],
            region: String = "us-east-1", service: String = "personalize", maxClockSkew: TimeInterval = 900,
            requiredSessionTokens: [String: String] = [:], expiredTokens: Set<String> = [],
            recordBodies: Bool = true, maxBodyBytes: Int = 1 << 20, port: Int = 0, threads: Int = 1,
            eventLoopGroup: (any EventLoopGroup)? = nil,
            now: @escaping @Sendable () -> Date = { Date() }, tls: TLS? = nil
        ) {
            self.credentials = credentials
            self.region = region
            self.service = service
            self.maxClockSkew = maxClockSkew
            self.requiredSessionTokens = requiredSessionTokens
            self.expiredTokens = expiredTokens
            self.recordBodies = recordBodies
            self.maxBodyBytes = maxBodyBytes
            self.port = port
            self.threads = threads
            self.eventLoopGroup = eventLoopGroup
            self.now = now
            self.tls = tls
        }
    }
}
