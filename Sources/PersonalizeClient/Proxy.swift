import Foundation

/// An HTTP proxy to go through.
public struct ProxyServer: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?

    public init(host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// Without the password.
    public var description: String {
        let user = username.map { "\($0):***@" } ?? ""
        let h = host.contains(":") ? "[\(host)]" : host
        return "http://\(user)\(h):\(port)"
    }

    /// Parses `[http://][user[:password]@]host[:port][/]`. The port defaults to 80 (3128 is common; name it).
    /// TLS to the proxy itself (`https://` proxy URLs) is not supported; the tunnel through it carries TLS to the
    /// endpoint.
    public static func parse(_ url: String, variable: String) throws(ClientError) -> ProxyServer {
        var rest = Substring(url.trimmingCharacters(in: .whitespaces))
        if let schemeEnd = rest.range(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "http" else {
                throw .configuration(
                    "\(variable)=\(redacted(url)): only http:// proxies are supported (the tunnel to the service is still TLS)"
                )
            }
            rest = rest[schemeEnd.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") {
            rest = rest[..<slash]
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = String(userInfo[..<colon]).removingPercentEncoding ?? String(userInfo[..<colon])
                let p = String(userInfo[userInfo.index(after: colon)...])
                password = p.removingPercentEncoding ?? p
            } else {
                username = String(userInfo).removingPercentEncoding ?? String(userInfo)
            }
        }
        var host = String(rest)
        var port = 80
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw .configuration("\(variable)=\(redacted(url)): unclosed [ in the proxy host")
            }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else {
                    throw .configuration("\(variable)=\(redacted(url)): the proxy port is not a number")
                }
                port = p
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else {
                throw .configuration("\(variable)=\(redacted(url)): the proxy port is not a number")
            }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw .configuration("\(variable)=\(redacted(url)): no proxy host") }
        guard port > 0, port < 65536 else { throw .configuration("\(variable)=\(redacted(url)): port out of range") }
        return ProxyServer(host: host.lowercased(), port: port, username: username, password: password)
    }

    /// The URL with any password replaced, for error messages.
    static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        let start = url.range(of: "://")?.upperBound ?? url.startIndex
        let userInfo = url[start..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}

/// The proxy variables: which proxy for which endpoint.
public struct ProxySettings: Sendable, Hashable {
    /// For `https://` endpoints (`HTTPS_PROXY` / `https_proxy`).
    public var httpsProxy: String?
    /// For `http://` endpoints (`HTTP_PROXY` / `http_proxy`).
    public var httpProxy: String?
    /// Hosts reached directly (`NO_PROXY` / `no_proxy`): `*`, domain names (matching their subdomains too, with or
    /// without a leading `.` or `*.`), IP addresses, IPv4 CIDR blocks, each optionally with `:port`.
    public var noProxy: [String]

    public init(httpsProxy: String? = nil, httpProxy: String? = nil, noProxy: [String] = []) {
        self.httpsProxy = httpsProxy
        self.httpProxy = httpProxy
        self.noProxy = noProxy
    }

    public static let none = ProxySettings()

    /// Reads the variables; the upper-case name wins over the lower-case one, and an empty value is no value.
    public static func fromEnvironment(_ environment: [String: String]) -> ProxySettings {
        func value(_ name: String) -> String? {
            for candidate in [name.uppercased(), name.lowercased()] {
                if let v = environment[candidate]?.trimmingCharacters(in: .whitespaces), !v.isEmpty { return v }
            }
            return nil
        }
        return ProxySettings(
            httpsProxy: value("https_proxy"), httpProxy: value("http_proxy"),
            noProxy: (value("no_proxy") ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty })
    }

    /// The proxy for `endpoint`, or `nil` to connect directly.
    public func proxy(for endpoint: Endpoint) throws(ClientError) -> ProxyServer? {
        let (url, variable) = endpoint.scheme == "https" ? (httpsProxy, "HTTPS_PROXY") : (httpProxy, "HTTP_PROXY")
        guard let url, !url.isEmpty else { return nil }
        let port = endpoint.port ?? (endpoint.scheme == "https" ? 443 : 80)
        if bypasses(host: endpoint.host, port: port) { return nil }
        return try ProxyServer.parse(url, variable: variable)
    }

    /// Whether `NO_PROXY` sends `host` directly.
    public func bypasses(host rawHost: String, port: Int) -> Bool {
        let host = Self.bare(rawHost.lowercased())
        for raw in noProxy {
            var entry = raw.lowercased()
            if entry == "*" { return true }
            // An optional port: "host:8080", "[::1]:8080" (a bare IPv6 address has several colons and no port).
            var entryPort: Int?
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
                let after = entry[entry.index(after: close)...]
                if after.hasPrefix(":") { entryPort = Int(after.dropFirst()) }
                entry = String(entry[entry.index(after: entry.startIndex)..<close])
            } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
                entryPort = Int(entry[entry.index(after: colon)...])
                entry = String(entry[..<colon])
            }
            if let entryPort, entryPort != port { continue }
            if entry.hasPrefix("*.") { entry.removeFirst(2) } else if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.isEmpty { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
            if entry.contains("/"), Self.ipv4(host, inCIDR: entry) { return true }
        }
        return false
    }

    private static func bare(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    static func ipv4(_ host: String, inCIDR cidr: String) -> Bool {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits),
            let network = ipv4Value(String(parts[0])), let address = ipv4Value(host)
        else { return false }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        return address & mask == network & mask
    }

    static func ipv4Value(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let n = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(n)
        }
        return value
    }
}
