import Foundation
import JSON
import SystemIO

#if canImport(Glibc)
    import Glibc
#endif

/// Why a record went to the dead-letter file: the label of the `dead_lettered` counters and the `kind` field.
public enum DeadLetterKind: String, Sendable, CaseIterable {
    case malformedJSON = "malformed_json"
    case invalidUTF8 = "invalid_utf8"
    case lineTooLong = "line_too_long"
    case mappingFailed = "mapping_failed"
    case limitExceeded = "limit_exceeded"
    case rejectedByService = "rejected_by_service"
    case corruptGzip = "corrupt_gzip"
    case unmatched = "unmatched"
    case retriesExhausted = "retries_exhausted"
    /// A container log line that is not in its runtime's format (`sources[].format` `cri` / `docker`).
    case invalidEnvelope = "invalid_envelope"
    /// Pieces of a container's partial line whose last piece never came (rotated away, the file ended).
    case incompleteLine = "incomplete_line"
}

/// One entry of the dead-letter file.
public struct DeadLetter: Sendable {
    public var kind: DeadLetterKind
    public var reason: String
    public var source: String
    public var path: String
    public var offset: UInt64
    public var mapping: String?
    /// The raw line (or, for an over-long line, its first bytes).
    public var line: [UInt8]
    public var lineTruncated: Bool = false
    public var lineLength: UInt64?

    /// One JSON object: the line as text when it is valid UTF-8, else base64 in `lineBase64`.
    public func jsonLine(time: Date) -> [UInt8] {
        var w = JSONWriter(capacity: line.count + 256)
        w.raw("{\"time\":")
        w.string(Self.iso8601(time))
        w.key("kind", comma: true)
        w.string(kind.rawValue)
        w.key("reason", comma: true)
        w.string(reason)
        w.key("source", comma: true)
        w.string(source)
        w.key("path", comma: true)
        w.string(path)
        w.key("offset", comma: true)
        w.number(Int64(offset))
        if let mapping {
            w.key("mapping", comma: true)
            w.string(mapping)
        }
        if let text = String(validating: line, as: UTF8.self) {
            w.key("line", comma: true)
            w.string(text)
        } else {
            w.key("lineBase64", comma: true)
            w.string(Data(line).base64EncodedString())
        }
        if lineTruncated {
            w.key("lineTruncated", comma: true)
            w.raw("true")
        }
        if let lineLength {
            w.key("lineLength", comma: true)
            w.number(Int64(lineLength))
        }
        w.raw("}\n")
        return w.bytes
    }

    package static func iso8601(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms % 1000), 3))Z"
    }
}

/// Appends dead letters to a JSON-lines file (mode 0600). ``sync()`` makes them durable; the engine calls it before
/// every checkpoint write, so a checkpoint never points past a dead letter that could still be lost.
public final class DeadLetterWriter {
    public let path: String
    private var descriptor: Int32 = -1
    private var buffer: [UInt8] = []
    public private(set) var written: Int = 0

    public init(path: String) {
        self.path = path
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    public func append(_ letter: DeadLetter, time: Date = Date()) {
        buffer.append(contentsOf: letter.jsonLine(time: time))
        written += 1
    }

    public var hasUnsynced: Bool { !buffer.isEmpty }

    /// Writes what is buffered and fsyncs. On failure the entries stay buffered and the error says why.
    public func sync() throws {
        guard !buffer.isEmpty else { return }
        if descriptor < 0 {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            descriptor = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw DeadLetterError(path: path, action: "open", code: errno) }
            // Owner-only also when the file was there before (made by hand, or by another tool with a wider mode):
            // it holds raw log lines. Not fatal when the agent does not own it (then it cannot change it).
            _ = fchmod(descriptor, 0o600)
            // A kill -9 during a write can leave the last line cut short (Linux stops a write between pages when
            // a fatal signal is pending): end it, so it stays one bad line and the next letter starts its own.
            var end = stat()
            if fstat(descriptor, &end) == 0, end.st_size > 0 {
                var last: UInt8 = 0
                if pread(descriptor, &last, 1, end.st_size - 1) == 1, last != UInt8(ascii: "\n") {
                    buffer.insert(UInt8(ascii: "\n"), at: 0)
                }
            }
        }
        let written = POSIXIO.write(descriptor, buffer)
        if !written.succeeded {
            buffer.removeFirst(written.count)
            throw DeadLetterError(path: path, action: "write", code: written.errno)
        }
        buffer.removeAll(keepingCapacity: true)
        if fdatasync(descriptor) != 0 { throw DeadLetterError(path: path, action: "flush", code: errno) }
    }
}

public struct DeadLetterError: Error, CustomStringConvertible {
    public var path: String
    public var action: String
    public var code: Int32

    public var description: String {
        "cannot \(action) the dead-letter file \(path): \(String(cString: strerror(code))); "
            + "the agent holds its position until it can record rejected lines"
    }
}
