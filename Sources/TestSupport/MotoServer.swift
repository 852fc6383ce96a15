import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// moto's S3 server (PyPI `moto[server]`) on a free port of 127.0.0.1, for tests that need a real S3
/// implementation: multipart uploads, ListParts, aborts. `.ci/run` installs it; tests skip when it is missing.
public final class MotoServer: Sendable {
    public let port: Int
    private let process: ChildProcess

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Whether `python3 -m moto.server` can run here.
    public static let isAvailable: Bool = {
        (try? ChildProcess.runBlocking(["/usr/bin/env", "python3", "-c", "import moto.server, flask"]))?.status == 0
    }()

    /// Starts the server on a port the kernel picks (port 0: no other test can take it in between) and waits (up to
    /// 60 s) until it says which and accepts connections.
    public init() throws {
        let p = try ChildProcess(["/usr/bin/env", "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"])
        process = p
        let deadline = ContinuousClock.now + .seconds(60)
        var found: Int?
        while true {
            if found == nil, let range = p.stderr.range(of: "Running on http://127.0.0.1:") {
                found = Int(p.stderr[range.upperBound...].prefix { $0.isNumber })
            }
            if let port = found, Self.accepts(port: port) { break }
            guard p.isRunning, ContinuousClock.now < deadline else {
                p.kill()
                throw CocoaError(
                    .featureUnsupported,
                    userInfo: [NSLocalizedDescriptionKey: "moto server did not start: \(p.stderr)"])
            }
            usleep(20_000)
        }
        port = found!
    }

    /// Kills the server and waits until it is gone.
    public func stop() {
        process.kill()
    }

    deinit { stop() }

    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
