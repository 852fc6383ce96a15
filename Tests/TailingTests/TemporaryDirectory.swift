import Foundation

/// A fresh directory under the system temp directory, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/tailing-tests-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        // Resolved, so that paths the code builds compare equal to ours even when the temp dir is a symlink.
        path = URL(fileURLWithPath: String(cString: made)).resolvingSymlinksInPath().path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `name` inside the directory.
    func url(_ name: String) -> String { path + "/" + name }

    /// Creates (or replaces) `name` with `bytes`, making parent directories as needed.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let full = url(name)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }

    func makeDirectory(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: url(name), withIntermediateDirectories: true)
    }

    func symlink(_ name: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: url(name), withDestinationPath: target)
    }
}

/// Appends to a file the way a logger does: open with O_APPEND, write, close.
func append(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + written, $0.count - written) }
        guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        written += n
    }
}

func append(_ path: String, _ text: String) throws { try append(path, Array(text.utf8)) }

/// Deterministic, poorly compressible bytes (xorshift), for gzip data that deflate cannot shrink to nothing.
func noise(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var x = seed
    return (0..<count).map { _ in
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
        return UInt8(truncatingIfNeeded: x)
    }
}

/// `count` JSON-ish lines with varied content, for readers and fingerprints.
func sampleLines(_ count: Int, tag: String = "e") -> [String] {
    let random = noise(count: count * 8)
    return (0..<count).map { i in
        let filler = random[(i * 8)..<(i * 8 + 8)].map { String($0, radix: 16) }.joined()
        return "{\"id\":\"\(tag)\(i)\",\"v\":\"\(filler)\"}"
    }
}
