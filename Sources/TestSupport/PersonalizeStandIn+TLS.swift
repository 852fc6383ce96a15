import NIOSSL

extension PersonalizeStandIn {
    /// The certificate and key the stand-in serves HTTPS with (PEM files), so tests and benchmarks exercise the
    /// agent's production path: every real endpoint is `https://`. A client trusts it through `aws.caBundle`
    /// (``LocalCertificateAuthority`` makes a CA and a certificate for 127.0.0.1).
    public struct TLS: Sendable {
        /// The server certificate, optionally followed by its chain (PEM).
        public var certificatePath: String
        /// The certificate's private key (PEM).
        public var keyPath: String

        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }

        /// The server context: TLS 1.2 and 1.3, as the service's front door offers.
        func makeContext() throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
            configuration.minimumTLSVersion = .tlsv12
            return try NIOSSLContext(configuration: configuration)
        }
    }
}
