import SystemIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// CSV as the Personalize bulk import reads it: RFC 4180 fields, `\n` line ends, a header row in every file.
enum CSV {
    /// Appends `field`, quoted (with inner quotes doubled) when it holds `,`, `"`, CR or LF.
    static func append(_ field: String, to out: inout [UInt8]) {
        var needsQuotes = false
        for b in field.utf8 where b == UInt8(ascii: ",") || b == UInt8(ascii: "\"") || b == 0x0A || b == 0x0D {
            needsQuotes = true
            break
        }
        guard needsQuotes else {
            out.append(contentsOf: field.utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for b in field.utf8 {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// One row: the fields joined with `,`, ended by `\n`.
    static func row(_ fields: [String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(fields.reduce(fields.count) { $0 + $1.utf8.count })
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            append(f, to: &out)
        }
        out.append(0x0A)
        return out
    }

    /// A schema column name for a property key: `numberOfRatings` → `NUMBER_OF_RATINGS`, `price` → `PRICE`,
    /// `itemURL` → `ITEM_URL`. Names already in upper snake case are kept.
    static func columnName(_ key: String) -> String {
        let chars = Array(key)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase, i > 0 {
                let prev = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if prev.isLowercase || prev.isNumber || (prev.isUppercase && nextIsLower) { out += "_" }
            }
            out += c.uppercased()
        }
        return out
    }
}

/// An append-only file written through a buffer with `write(2)`; created exclusively (an export never overwrites).
final class FileSink: ExportSink {
    let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private static let bufferSize = 256 * 1024
    private(set) var bytesWritten = 0

    /// Creates `path`, which must not exist. `mode` 0644 suits the CSV files (made to be uploaded); files that hold
    /// raw log lines (`rejected.jsonl`) are created 0600, like the agent's dead-letter file.
    init(path: String, mode: mode_t = 0o644) throws(ExportError) {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ExportError("\(path): cannot create it (\(String(cString: strerror(errno))))") }
        self.fd = fd
        buffer.reserveCapacity(Self.bufferSize)
    }

    deinit { if fd >= 0 { systemClose(fd) } }

    func write(_ bytes: [UInt8]) throws(ExportError) {
        buffer.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if buffer.count >= Self.bufferSize { try flush() }
    }

    func flush() throws(ExportError) {
        let written = POSIXIO.write(fd, buffer)
        if !written.succeeded {
            throw ExportError("\(path): cannot write it (\(String(cString: strerror(written.errno))))")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs to disk and closes.
    func close() throws(ExportError) {
        try flush()
        if fsync(fd) != 0 { throw ExportError("\(path): cannot sync it (\(String(cString: strerror(errno))))") }
        systemClose(fd)
        fd = -1
    }
}

private func systemClose(_ fd: Int32) { _ = close(fd) }

/// The CSV files of one dataset: `<base>-00001.csv`, `<base>-00002.csv`, … each with the header row and at most
/// `maxBytes` bytes (unless one row alone is larger).
final class RollingCSV {
    let base: String
    let kind: String
    let destination: String
    let columns: [String]
    let directory: String
    let maxBytes: Int
    private let header: [UInt8]
    /// Opens the next file by name (a local file, or an object streamed to S3).
    private let open: ((String) throws -> any ExportSink)?
    private var sink: (any ExportSink)?
    private var fileRows = 0
    private(set) var files: [ExportManifest.File] = []
    private(set) var rows = 0
    private(set) var oversizedRows = 0

    init(
        directory: String, base: String, kind: String, destination: String, columns: [String], maxBytes: Int,
        open: ((String) throws -> any ExportSink)? = nil
    ) {
        self.directory = directory
        self.open = open
        self.base = base
        self.kind = kind
        self.destination = destination
        self.columns = columns
        self.maxBytes = maxBytes
        header = CSV.row(columns)
    }

    func write(_ row: [UInt8]) throws(ExportError) {
        if sink == nil || (fileRows > 0 && sink!.bytesWritten + row.count > maxBytes) { try roll() }
        if header.count + row.count > maxBytes { oversizedRows += 1 }
        try sink!.write(row)
        fileRows += 1
        rows += 1
    }

    private func roll() throws(ExportError) {
        try closeCurrent()
        let name = "\(base)-\(String(files.count + 1).leftPadded(to: 5)).csv"
        let s = try openSink(name)
        try s.write(header)
        sink = s
        fileRows = 0
        files.append(
            ExportManifest.File(
                name: name, kind: kind, destination: destination, columns: columns, rows: 0, bytes: 0))
    }

    private func openSink(_ name: String) throws(ExportError) -> any ExportSink {
        guard let open else { return try FileSink(path: directory + "/" + name) }
        do { return try open(name) } catch let error as ExportError { throw error } catch {
            throw ExportError("\(name): \(error)")
        }
    }

    private func closeCurrent() throws(ExportError) {
        guard let s = sink else { return }
        try s.close()
        files[files.count - 1].rows = fileRows
        files[files.count - 1].bytes = s.bytesWritten
        if let stored = s.stored {
            files[files.count - 1].key = stored.key
            files[files.count - 1].etag = stored.etag
        }
        sink = nil
    }

    func close() throws(ExportError) { try closeCurrent() }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
