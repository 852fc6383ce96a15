/// Picks the HTTP transport for an endpoint.
public enum HTTPTransportFactory {
    public enum Kind: String, Sendable, CaseIterable {
        /// ``NIOHTTPTransport`` unless a proxy applies to the endpoint, then ``AsyncHTTPTransport``.
        case automatic
        /// Always ``AsyncHTTPTransport`` (CA bundle and proxy supported).
        case asyncHTTPClient
        /// Always ``NIOHTTPTransport``; a configuration error when a proxy applies to the endpoint.
        case nio
    }

    /// A transport for requests to `endpoint` with `options` (CA bundle, proxy, pool size, connect timeout).
    /// `nioThreads` is the event loop thread count of a ``NIOHTTPTransport``.
    public static func make(
        endpoint: Endpoint, options: AsyncHTTPTransport.Options, kind: Kind = .automatic, nioThreads: Int = 1
    ) throws(ClientError) -> any HTTPTransport {
        switch kind {
        case .asyncHTTPClient:
            return try AsyncHTTPTransport(endpoint: endpoint, options: options)
        case .automatic:
            if try options.proxy.proxy(for: endpoint) != nil {
                return try AsyncHTTPTransport(endpoint: endpoint, options: options)
            }
        case .nio:
            if let proxy = try options.proxy.proxy(for: endpoint) {
                throw .configuration(
                    "the nio HTTP transport does not support proxies, and \(proxy) applies to \(endpoint); "
                        + "use the async-http-client transport or exclude the host with NO_PROXY")
            }
        }
        return try NIOHTTPTransport(
            endpoint: endpoint, configuration: .init(options: options, threads: nioThreads))
    }
}
