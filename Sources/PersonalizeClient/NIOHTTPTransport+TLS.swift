import Foundation
import NIOCore
import NIOSSL

extension NIOHTTPTransport {
    /// The client side of TLS: the system's trust store plus the CA bundle, host name verification (SNI is sent
    /// by the pool for host names), TLS 1.2 or 1.3, HTTP/1.1 only.
    static func makeSSLContext(caBundlePath: String?) throws(ClientError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.maximumTLSVersion = .tlsv13
        tls.certificateVerification = .fullVerification
        tls.trustRoots = systemTrustRoots
        if let caBundlePath {
            tls.additionalTrustRoots = [.certificates(try loadCABundle(caBundlePath))]
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw .configuration("cannot set up TLS: \(error)")
        }
    }

    /// The system's trust store: its hashed directory when there is one (`/etc/ssl/certs` with `c_rehash` links, as
    /// Debian's and Ubuntu's ca-certificates keep it), from which BoringSSL reads the certificates a verification
    /// asks for; otherwise swift-nio-ssl's default, which parses the whole bundle file (~140 certificates) into
    /// memory when the transport starts.
    static let systemTrustRoots: NIOSSLTrustRoots = {
        let directory = "/etc/ssl/certs"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let hashed = names.contains { name in
            name.utf8.count == 10 && name.hasSuffix(".0") && name.prefix(8).allSatisfy(\.isHexDigit)
        }
        return hashed ? .file(directory) : .default
    }()

    /// Checks a CA bundle as ``init(endpoint:configuration:)`` would (for `validate`); returns how many certificates
    /// it holds.
    @discardableResult
    public static func checkCABundle(_ path: String) throws(ClientError) -> Int {
        try loadCABundle(path).count
    }

    /// Reads the CA certificates of a PEM bundle, with an error that names the file and the fix.
    static func loadCABundle(_ path: String) throws(ClientError) -> [NIOSSLCertificate] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .configuration("CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) does not exist")
        }
        guard !isDirectory.boolValue else {
            throw .configuration("CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) is a directory; name a PEM file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .configuration("CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) cannot be read by this user")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw .configuration(
                "CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) is not a PEM certificate bundle: \(error)")
        }
        guard !certificates.isEmpty else {
            throw .configuration(
                "CA bundle \"\(path)\" (AWS_CA_BUNDLE / aws.caBundle) holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )
        }
        return certificates
    }
}

/// Tells a certificate that does not verify from other TLS failures, and says why it did not.
enum CertificateFailure {
    /// Whether `error` (from the TLS handler) means the server's certificate was refused.
    static func isVerificationFailure(_ error: any Error) -> Bool {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname { return true }
        guard let ssl = error as? NIOSSLError, case .handshakeFailed = ssl else { return false }
        return "\(ssl)".contains("CERTIFICATE_VERIFY_FAILED")
    }

    /// The fatal error for a refused certificate: the host, the reason (`reason`, from a look at the certificate
    /// the server sent, when there is one) and the fix.
    static func error(host: String, port: Int, reason: String?) -> ClientError {
        let why =
            reason
            ?? "it is not issued by a certificate authority this host trusts, has expired, or is not for this name"
        return .transport(
            "TLS: the certificate of \(host):\(port) does not verify: \(why). If a private CA (or a TLS-inspecting "
                + "proxy) signs it, trust that CA with aws.caBundle (or AWS_CA_BUNDLE) set to its PEM file; otherwise "
                + "check aws.endpoint and the host's clock")
    }

    /// Why `chain` (the server's certificates, leaf first) does not do for `host` at `now`; `nil` when nothing
    /// wrong is visible from the certificates alone.
    static func reason(chain: [NIOSSLCertificate], host: String, now: Date = Date()) -> String {
        guard let leaf = chain.first else { return "the server sent no certificate" }
        let seconds = Int(now.timeIntervalSince1970)
        for certificate in chain {
            if Int(certificate.notValidAfter) < seconds {
                return
                    "a certificate of its chain expired on \(Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter)))"
            }
            if Int(certificate.notValidBefore) > seconds {
                return
                    "a certificate of its chain is not valid before \(Date(timeIntervalSince1970: TimeInterval(certificate.notValidBefore)))"
            }
        }
        let names = leaf._subjectAlternativeNames().compactMap { name -> String? in
            switch name.nameType {
            case .dnsName: String(decoding: name.contents, as: UTF8.self)
            case .ipAddress: ipText(Array(name.contents))
            default: nil
            }
        }
        if !names.contains(where: { matches($0, host: host) }) {
            let list = names.isEmpty ? "no names" : names.joined(separator: ", ")
            return "it is not for the name \(host) (it is for \(list))"
        }
        return "it is not issued by a certificate authority this host trusts (unknown or self-signed CA)"
    }

    private static func matches(_ pattern: String, host: String) -> Bool {
        let pattern = pattern.lowercased()
        let host = host.lowercased()
        if pattern == host { return true }
        if pattern.hasPrefix("*."), let dot = host.firstIndex(of: ".") {
            return host[host.index(after: dot)...] == pattern.dropFirst(2)
        }
        return false
    }

    private static func ipText(_ bytes: [UInt8]) -> String? {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        guard bytes.count == 16 else { return nil }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}
