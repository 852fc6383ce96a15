import Foundation

/// A throw-away CA and a server certificate for IP 127.0.0.1, made with the `openssl` command in a directory of
/// the caller's: lets the stand-in serve HTTPS that the agent verifies for real (trusting `caCertificatePath`
/// through `aws.caBundle`), without a certificate checked into the repository that could expire.
public struct LocalCertificateAuthority: Sendable {
    /// The CA's certificate: what a client puts in its CA bundle.
    public let caCertificatePath: String
    /// The server certificate (signed by the CA, `subjectAltName=IP:127.0.0.1`) and its key.
    public let tls: PersonalizeStandIn.TLS

    /// Why a certificate could not be made.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The `openssl` command on `PATH`, or `nil` when it is not installed (`apt-get install -y openssl`).
    public static var openssl: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return (path.split(separator: ":").map { "\($0)/openssl" } + ["/usr/bin/openssl"])
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Makes `ca.pem`, `server.pem` and `server.key` (valid for two days from now) in `directory`. The files are
    /// left world-readable, so an agent running as another user can read the CA bundle.
    public static func make(in directory: String) throws -> LocalCertificateAuthority {
        guard let openssl else {
            throw Failure(description: "the openssl command is needed to make a test certificate (apt-get install -y openssl)")
        }
        func run(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: openssl)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            let output = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw Failure(
                    description: "openssl \(arguments.joined(separator: " ")) failed: \(String(decoding: output, as: UTF8.self))")
            }
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(["req", "-x509"] + ec + [
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=personalize-tail stand-in CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try run(["req", "-new"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"])
        let extensions = """
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature,keyEncipherment
            extendedKeyUsage=serverAuth
            subjectAltName=IP:127.0.0.1

            """
        let extensionsPath = directory + "/server.ext"
        guard FileManager.default.createFile(atPath: extensionsPath, contents: Data(extensions.utf8)) else {
            throw Failure(description: "cannot write \(extensionsPath)")
        }
        try run([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        ])
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/ca.pem")
        return LocalCertificateAuthority(
            caCertificatePath: directory + "/ca.pem",
            tls: .init(certificatePath: directory + "/server.pem", keyPath: directory + "/server.key"))
    }
}
