import AWSSigV4
import Foundation

/// Where and how S3 requests go: the endpoint, the region they are signed for, the addressing style and the retry
/// rules (the same rules, from the same settings, as the agent's PutEvents requests).
public struct S3Configuration: Sendable {
    public enum Addressing: String, Sendable {
        /// `https://bucket.s3.region.amazonaws.com/key` (AWS's default; needed for new regions' features).
        case virtualHosted
        /// `https://s3.region.amazonaws.com/bucket/key` (local S3 implementations, buckets with dots over TLS).
        case path
    }

    /// `scheme://host[:port]` without the bucket: the regional endpoint or a custom one.
    public var scheme: String
    public var host: String
    public var port: Int?
    public var region: String
    public var addressing: Addressing
    public var retry: RetryPolicy
    /// One attempt's time limit, seconds.
    public var requestTimeoutSeconds: Double
    public var userAgent: String
    /// Connect here instead of the host the addressing names (the `Host` header and the signature keep that name).
    /// Only for tests that reach a virtual-hosted name on 127.0.0.1 without DNS; `nil` everywhere else.
    public var connectHost: String?

    public init(
        scheme: String = "https", host: String, port: Int? = nil, region: String, addressing: Addressing,
        retry: RetryPolicy = RetryPolicy(), requestTimeoutSeconds: Double = 60, userAgent: String = "personalize-tail",
        connectHost: String? = nil
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.region = region
        self.addressing = addressing
        self.retry = retry
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.userAgent = userAgent
        self.connectHost = connectHost
    }

    /// The endpoint as the AWS SDKs pick it for S3: `configured` (the config's `aws.s3Endpoint` or a flag), else
    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (both ignored with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`),
    /// else `https://s3.<region>.amazonaws.com`. Addressing: `forcePathStyle` (or `AWS_S3_FORCE_PATH_STYLE=true`)
    /// chooses path style; a custom endpoint whose host is an IP address or `localhost` gets path style too (a
    /// bucket cannot be a subdomain of those); otherwise virtual-hosted.
    public static func resolve(
        configured: String?, region: String, environment: [String: String], forcePathStyle: Bool? = nil,
        retry: RetryPolicy = RetryPolicy(), requestTimeoutSeconds: Double = 60, userAgent: String = "personalize-tail"
    ) throws(S3Error) -> S3Configuration {
        let ignore = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        let candidates: [(String, String?)] = [
            ("--s3-endpoint", configured),
            ("AWS_ENDPOINT_URL_S3", ignore ? nil : environment["AWS_ENDPOINT_URL_S3"]),
            ("AWS_ENDPOINT_URL", ignore ? nil : environment["AWS_ENDPOINT_URL"]),
        ]
        let pathStyle = forcePathStyle ?? (environment["AWS_S3_FORCE_PATH_STYLE"]?.lowercased() == "true")
        for (source, value) in candidates {
            guard let value, !value.isEmpty else { continue }
            guard let url = URLComponents(string: value), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
            else {
                throw .configuration("\(source): \"\(value)\" is not an http(s) URL; write it like https://host[:port]")
            }
            let local = host == "localhost" || host.allSatisfy({ $0.isNumber || $0 == "." }) || host.contains(":")
            return S3Configuration(
                scheme: scheme, host: host.lowercased(), port: url.port, region: region,
                addressing: pathStyle || local ? .path : .virtualHosted, retry: retry,
                requestTimeoutSeconds: requestTimeoutSeconds, userAgent: userAgent)
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return S3Configuration(
            host: "s3.\(region).\(suffix)", region: region, addressing: pathStyle ? .path : .virtualHosted,
            retry: retry,
            requestTimeoutSeconds: requestTimeoutSeconds, userAgent: userAgent)
    }

    /// The `Host` header and the (unencoded) path of an object or bucket request.
    ///
    /// A bucket with dots cannot be a virtual host over TLS (the certificate's wildcard covers one label), so it is
    /// addressed by path whatever the setting.
    public func address(bucket: String, key: String?) -> (host: String, path: String) {
        let hostPort = port.map { "\(host):\($0)" } ?? host
        let keyPath = key.map { "/" + $0 } ?? "/"
        if addressing == .virtualHosted, !(scheme == "https" && bucket.contains(".")) {
            return ("\(bucket).\(hostPort)", keyPath)
        }
        return (hostPort, "/\(bucket)" + (key.map { "/" + $0 } ?? ""))
    }
}
