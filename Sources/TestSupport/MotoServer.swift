import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// moto's S3 server (PyPI `moto[server]`) on a free port of 127.0.0.1, for tests that need a real S3
/// implementation: multipart uploads, ListParts, aborts. `.ci/run` installs it; tests skip when it is missing.
public final class MotoServer: Sendable {
    public let port: Int
    private let process: Process

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Whether `python3 -m moto.server` can run here.
    public static let isAvailable: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import moto.server, flask"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    /// Starts the server and waits (up to 60 s) until it accepts connections.
    public init() throws {
        port = try Self.freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(60)
        while !Self.accepts(port: port) {
            guard p.isRunning, Date() < deadline else {
                p.terminate()
                throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "moto server did not start on port \(port)"])
            }
            usleep(50_000)
        }
    }

    /// Kills the server and waits (polling, up to 10 s) until it is gone. Foundation's `waitUntilExit` spins a
    /// core on Linux, hence the poll.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(20_000) }
    }

    deinit { stop() }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw CocoaError(.fileWriteUnknown) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
