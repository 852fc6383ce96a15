import Foundation

/// A certificate authority and server certificates made at test time with the `openssl` command (which the tests
/// that use this require: CI installs it). Keys are P-256; certificates are valid for two days from now unless
/// asked otherwise, so nothing expires on a calendar date.
public struct TestCertificates: Sendable {
    /// The CA's certificate (PEM): what `aws.caBundle` names to trust the servers' certificates.
    public let caCertificate: String
    private let directory: TemporaryDirectory
    private let openssl: String

    /// A server certificate and its key (PEM files).
    public struct Server: Sendable {
        public let certificate: String
        public let key: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Makes a CA in `directory`.
    public init(in directory: TemporaryDirectory, caName: String = "personalize-tail test CA") throws {
        self.directory = directory
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard
            let found = (path.split(separator: ":").map { "\($0)/openssl" } + ["/usr/bin/openssl"])
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            throw Failure(description: "the openssl command is required by this test (apt-get install -y openssl)")
        }
        openssl = found
        let stem = caName.filter { $0.isLetter || $0.isNumber }
        caCertificate = directory.file("\(stem).pem")
        caKey = directory.file("\(stem).key")
        try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", directory.file("\(stem).key"), "-out", caCertificate, "-days", "2", "-subj", "/CN=\(caName)",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    private let caKey: String

    /// A server certificate signed by this CA for `names` (subjectAltName syntax: `IP:127.0.0.1,DNS:localhost`),
    /// valid for `days` from now (negative: expired that many days ago).
    public func server(_ name: String, names: String = "IP:127.0.0.1,DNS:localhost", days: Int = 2) throws -> Server {
        let key = directory.file("\(name).key")
        let csr = directory.file("\(name).csr")
        let certificate = directory.file("\(name).pem")
        try run([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", csr, "-subj", "/CN=\(name)",
        ])
        let ext = try directory.write(
            "\(name).ext",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                + "extendedKeyUsage=serverAuth\nsubjectAltName=\(names)\n")
        try run([
            "x509", "-req", "-in", csr, "-CA", caCertificate, "-CAkey", caKey, "-CAcreateserial", "-out", certificate,
            "-days", String(days), "-extfile", ext,
        ])
        return Server(certificate: certificate, key: key)
    }

    private func run(_ arguments: [String]) throws {
        let out = try ChildProcess.runBlocking([openssl] + arguments, currentDirectory: directory.path)
        guard out.status == 0 else {
            throw Failure(
                description: "openssl \(arguments.joined(separator: " ")) failed: \(out.stderr)")
        }
    }
}
