/// Where requests go: the base URL and the `Host` header that is signed with them.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// A path prefix of a custom endpoint, without the trailing slash (usually empty).
    public var basePath: String

    public var description: String { "\(scheme)://\(hostHeader)\(basePath)" }

    /// `host` or `host:port` when the port is not the scheme's default.
    public var hostHeader: String {
        guard let port, !(scheme == "https" && port == 443), !(scheme == "http" && port == 80) else { return host }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public func url(path: String) -> String { "\(description)\(path)" }

    public init(scheme: String, host: String, port: Int? = nil, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// Parses `https://host[:port][/path]`; `nil` when it is not such a URL.
    public init?(url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var rest = url[schemeEnd.upperBound...]
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        while path.hasSuffix("/") { path.removeLast() }
        var host = String(rest)
        var port: Int?
        if host.hasPrefix("[") {  // [::1]:8080
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { return nil }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty, port.map({ $0 > 0 && $0 < 65536 }) ?? true else { return nil }
        self.init(scheme: scheme, host: host.lowercased(), port: port, basePath: path)
    }
}

/// Picks the endpoint as the AWS SDKs do for `personalize-events`.
public enum EndpointResolver {
    public struct Options: Sendable {
        public var useFIPS = false
        public var useDualStack = false
        public init(useFIPS: Bool = false, useDualStack: Bool = false) {
            self.useFIPS = useFIPS
            self.useDualStack = useDualStack
        }
    }

    /// Order: the configured endpoint, `AWS_ENDPOINT_URL_PERSONALIZE_EVENTS`, `AWS_ENDPOINT_URL` (both ignored when
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), then the regional default.
    public static func resolve(
        configured: String?, region: String, environment: [String: String], profileEndpoint: String? = nil,
        options: Options = .init()
    ) throws(ClientError) -> Endpoint {
        let ignore = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        let candidates: [(String, String?)] = [
            ("aws.endpoint", configured),
            ("AWS_ENDPOINT_URL_PERSONALIZE_EVENTS", ignore ? nil : environment["AWS_ENDPOINT_URL_PERSONALIZE_EVENTS"]),
            ("AWS_ENDPOINT_URL", ignore ? nil : environment["AWS_ENDPOINT_URL"]),
            ("profile endpoint_url", ignore ? nil : profileEndpoint),
        ]
        for (source, value) in candidates {
            guard let value, !value.isEmpty else { continue }
            guard let endpoint = Endpoint(url: value) else {
                throw .configuration("\(source): \"\(value)\" is not an http(s) URL; write it like https://host[:port]")
            }
            if options.useFIPS || options.useDualStack {
                throw .configuration(
                    "\(source) sets a custom endpoint, which cannot be combined with FIPS or dual-stack; choose one")
            }
            return endpoint
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        let service = options.useFIPS ? "personalize-events-fips" : "personalize-events"
        if options.useDualStack {
            let dual = region.hasPrefix("cn-") ? "api.amazonwebservices.com.cn" : "api.aws"
            return Endpoint(scheme: "https", host: "\(service).\(region).\(dual)")
        }
        return Endpoint(scheme: "https", host: "\(service).\(region).\(suffix)")
    }
}
