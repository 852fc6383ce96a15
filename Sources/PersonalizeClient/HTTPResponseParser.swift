/// Reads HTTP/1.1 responses from a connection's bytes, for ``NIOHTTPTransport``: the status line, the header
/// fields, and a body delimited by `Content-Length`, by `Transfer-Encoding: chunked` or by the end of the connection
/// (RFC 9112). Interim (1xx) responses are skipped; answers to HEAD, 204 and 304 have no body.
///
/// Feed it the bytes as they arrive, in any split; it hands back each complete response. It is strict where a
/// lenient reading could mistake one response's bytes for another's (malformed status lines, bad lengths or chunk
/// sizes, header blocks over `maxHeadBytes`, bodies over `maxBodyBytes`): the connection is then unusable and the
/// caller closes it.
struct HTTPResponseParser {
    struct Response: Equatable {
        var status: Int
        /// The header lines as received (validated), made into pairs only when asked for (``headers``): most
        /// answers are 2xx, and nobody reads theirs.
        var headerLines: [UInt8]
        var body: [UInt8]
        /// Whether the connection may carry another request afterwards.
        var keepAlive: Bool

        var headers: [(String, String)] { HTTPResponseParser.headerPairs(headerLines) }

        static func == (a: Response, b: Response) -> Bool {
            a.status == b.status && a.body == b.body && a.keepAlive == b.keepAlive
                && a.headers.map { "\($0.0): \($0.1)" } == b.headers.map { "\($0.0): \($0.1)" }
        }
    }

    enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case headTooLarge(Int)
        case bodyTooLarge(Int)
        /// The connection ended inside a response.
        case truncated

        var description: String {
            switch self {
            case .malformed(let what): "malformed HTTP response: \(what)"
            case .headTooLarge(let limit): "HTTP response head larger than \(limit) bytes"
            case .bodyTooLarge(let limit): "HTTP response body larger than \(limit) bytes"
            case .truncated: "the connection closed inside an HTTP response"
            }
        }
    }

    let maxHeadBytes: Int
    let maxBodyBytes: Int
    /// Set before a request's response is read: the answer to a HEAD request has no body, whatever it says.
    var expectsHeadResponse = false

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private var state = State.head
    /// Bytes not yet consumed (a partial line or head).
    private var pending: [UInt8] = []
    private var status = 0
    private var headerLines: [UInt8] = []
    private var body: [UInt8] = []
    private var keepAlive = true
    /// Bytes after the current head's (or trailer line's) start already searched for its end: a head trickling in
    /// is not searched again from its start at every read.
    private var searched = 0

    init(maxHeadBytes: Int = 64 << 10, maxBodyBytes: Int = 1 << 20) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Takes the next bytes of the connection; returns the responses they complete, in order.
    mutating func feed(_ bytes: some Collection<UInt8>) throws(ParseError) -> [Response] {
        pending.append(contentsOf: bytes)
        var responses: [Response] = []
        var start = 0
        defer { pending.removeSubrange(0..<start) }
        while true {
            switch state {
            case .head:
                guard let end = findLineEnd(Self.crlfcrlf, from: start) else {
                    if pending.count - start > maxHeadBytes { throw .headTooLarge(maxHeadBytes) }
                    return responses
                }
                if end - start > maxHeadBytes { throw .headTooLarge(maxHeadBytes) }
                let interim = try parseHead(pending[start..<end])
                start = end + 4
                if interim { continue }
            case .fixed(let remaining):
                let left = takeBody(remaining, from: &start)
                if left > 0 {
                    state = .fixed(remaining: left)
                    return responses
                }
                responses.append(finish())
            case .chunkSize:
                guard let end = Self.find(Self.crlf, in: pending, from: start) else {
                    if pending.count - start > 1024 { throw .malformed("chunk size line too long") }
                    return responses
                }
                let size = try Self.chunkSize(pending[start..<end])
                start = end + 2
                if size == 0 {
                    state = .trailers
                } else {
                    if body.count + size > maxBodyBytes { throw .bodyTooLarge(maxBodyBytes) }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let left = takeBody(remaining, from: &start)
                if left > 0 {
                    state = .chunkData(remaining: left)
                    return responses
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard pending.count - start >= 2 else { return responses }
                guard pending[start] == 13, pending[start + 1] == 10 else {
                    throw .malformed("chunk not followed by CRLF")
                }
                start += 2
                state = .chunkSize
            case .trailers:
                guard let end = findLineEnd(Self.crlf, from: start) else {
                    if pending.count - start > maxHeadBytes { throw .headTooLarge(maxHeadBytes) }
                    return responses
                }
                let empty = end == start
                start = end + 2
                if empty { responses.append(finish()) }
            case .untilClose:
                if body.count + pending.count - start > maxBodyBytes { throw .bodyTooLarge(maxBodyBytes) }
                body.append(contentsOf: pending[start...])
                start = pending.count
                return responses
            }
        }
    }

    /// The connection ended: completes a response whose body runs to the end of the connection; a response cut off
    /// anywhere else is an error.
    mutating func end() throws(ParseError) -> Response? {
        switch state {
        case .untilClose:
            return finish()
        case .head where pending.isEmpty:
            return nil
        default:
            throw .truncated
        }
    }

    // MARK: Parts

    /// Moves up to `remaining` body bytes from `pending` (at `start`) to `body`; returns how many are still to come.
    private mutating func takeBody(_ remaining: Int, from start: inout Int) -> Int {
        let take = min(remaining, pending.count - start)
        body.append(contentsOf: pending[start..<(start + take)])
        start += take
        return remaining - take
    }

    /// Parses a head (without its final CRLF CRLF) and sets up the body; true for an interim (1xx) response.
    private mutating func parseHead(_ head: ArraySlice<UInt8>) throws(ParseError) -> Bool {
        // Lines are walked in place: no array of lines, no strings unless something is wrong.
        let statusEnd = Self.lineEnd(in: head, from: head.startIndex)
        let statusLine = head[head.startIndex..<statusEnd]
        // HTTP/1.x SP 3DIGIT [SP reason]
        guard statusLine.count >= 12, statusLine.starts(with: Self.httpSlash1Dot) else {
            throw .malformed("status line \"\(Self.show(statusLine))\"")
        }
        let base = statusLine.startIndex
        let minor = statusLine[base + 7]
        guard minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1"), statusLine[base + 8] == UInt8(ascii: " ") else {
            throw .malformed("status line \"\(Self.show(statusLine))\"")
        }
        var code = 0
        for i in 9..<12 {
            let d = statusLine[base + i]
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else {
                throw .malformed("status line \"\(Self.show(statusLine))\"")
            }
            code = code * 10 + Int(d - UInt8(ascii: "0"))
        }
        guard code >= 100, statusLine.count == 12 || statusLine[base + 12] == UInt8(ascii: " ") else {
            throw .malformed("status line \"\(Self.show(statusLine))\"")
        }
        let fieldsStart = statusEnd == head.endIndex ? head.endIndex : statusEnd + 2
        var contentLength: Int?
        var chunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        try Self.forEachField(head[fieldsStart...]) { nameBytes, valueBytes throws(ParseError) in
            switch nameBytes.count {
            case 14 where Self.equalsLowercased(nameBytes, Self.contentLength):
                guard !valueBytes.isEmpty, valueBytes.count <= 18,
                    valueBytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
                else { throw .malformed("content-length \"\(String(decoding: valueBytes, as: UTF8.self))\"") }
                let n = valueBytes.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                if let earlier = contentLength, earlier != n { throw .malformed("conflicting content-length values") }
                contentLength = n
            case 17 where Self.equalsLowercased(nameBytes, Self.transferEncoding):
                // Chunked must be the last coding; anything else is not a body this client can read.
                var last = valueBytes[valueBytes.startIndex..<valueBytes.startIndex]
                Self.forEachToken(valueBytes) { last = $0 }
                guard Self.equalsLowercased(last, Self.chunked) else {
                    throw .malformed("transfer-encoding \"\(String(decoding: valueBytes, as: UTF8.self))\"")
                }
                chunked = true
            case 10 where Self.equalsLowercased(nameBytes, Self.connection):
                Self.forEachToken(valueBytes) { token in
                    if Self.equalsLowercased(token, Self.close) { connectionClose = true }
                    if Self.equalsLowercased(token, Self.keepAliveToken) { connectionKeepAlive = true }
                }
            default:
                break
            }
        }
        if code < 200 && code != 101 {
            // Interim: the real answer follows.
            return true
        }
        if code == 101 { throw .malformed("unexpected protocol switch (101)") }
        status = code
        headerLines = fieldsStart < head.endIndex ? Array(head[fieldsStart...]) : []
        body = []
        keepAlive = minor == UInt8(ascii: "1") ? !connectionClose : connectionKeepAlive && !connectionClose
        let noBody = expectsHeadResponse || code == 204 || code == 304
        if noBody {
            state = .fixed(remaining: 0)
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            if contentLength > maxBodyBytes { throw .bodyTooLarge(maxBodyBytes) }
            body.reserveCapacity(contentLength)
            state = .fixed(remaining: contentLength)
        } else {
            keepAlive = false
            state = .untilClose
        }
        return false
    }

    private mutating func finish() -> Response {
        let response = Response(status: status, headerLines: headerLines, body: body, keepAlive: keepAlive)
        state = .head
        headerLines = []
        body = []
        expectsHeadResponse = false
        return response
    }

    /// Where `terminator` starts in `pending`, searching from `start` but not again through what earlier calls
    /// searched; nil (and remembered) when it has not arrived yet.
    private mutating func findLineEnd(_ terminator: [UInt8], from start: Int) -> Int? {
        let from = start + max(0, searched - (terminator.count - 1))
        guard let end = Self.find(terminator, in: pending, from: from) else {
            searched = pending.count - start
            return nil
        }
        searched = 0
        return end
    }

    // MARK: Bytes

    private static let crlf: [UInt8] = [13, 10]
    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]
    private static let httpSlash1Dot = Array("HTTP/1.".utf8)
    private static let contentLength = Array("content-length".utf8)
    private static let transferEncoding = Array("transfer-encoding".utf8)
    private static let connection = Array("connection".utf8)
    private static let chunked = Array("chunked".utf8)
    private static let close = Array("close".utf8)
    private static let keepAliveToken = Array("keep-alive".utf8)

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        let n = needle.count
        guard bytes.count - start >= n else { return nil }
        var i = start
        let last = bytes.count - n
        while i <= last {
            guard let cr = bytes[i...last].firstIndex(of: needle[0]) else { return nil }
            var match = true
            for k in 1..<n where bytes[cr + k] != needle[k] {
                match = false
                break
            }
            if match { return cr }
            i = cr + 1
        }
        return nil
    }

    /// Where the line starting at `start` ends: its CR LF, or the end of `bytes`.
    private static func lineEnd(in bytes: ArraySlice<UInt8>, from start: Int) -> Int {
        var i = start
        while i < bytes.endIndex {
            if bytes[i] == 13, i + 1 < bytes.endIndex, bytes[i + 1] == 10 { return i }
            i += 1
        }
        return bytes.endIndex
    }

    /// Each `name: value` line of a head's header fields (CR LF separated), the value trimmed. A line without a colon,
    /// with an empty name, or with white space in or before the name is malformed.
    private static func forEachField(
        _ fields: ArraySlice<UInt8>,
        _ body: (_ name: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>) throws(ParseError) -> Void
    ) throws(ParseError) {
        var lineStart = fields.startIndex
        while lineStart < fields.endIndex {
            let end = lineEnd(in: fields, from: lineStart)
            let line = fields[lineStart..<end]
            lineStart = end == fields.endIndex ? end : end + 2
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw .malformed("header line \"\(show(line))\"")
            }
            let name = line[line.startIndex..<colon]
            if name.contains(where: { $0 == 0x20 || $0 == 0x09 }) {
                throw .malformed("header line \"\(show(line))\"")
            }
            try body(name, trimmed(line[(colon + 1)...]))
        }
    }

    /// Header lines as kept in ``Response/headerLines`` (validated when parsed), as name-value pairs.
    static func headerPairs(_ lines: [UInt8]) -> [(String, String)] {
        var pairs: [(String, String)] = []
        try? forEachField(lines[...]) { name, value in
            pairs.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return pairs
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = bytes.startIndex
        var e = bytes.endIndex
        while s < e, bytes[s] == 0x20 || bytes[s] == 0x09 { s += 1 }
        while e > s, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
        return bytes[s..<e]
    }

    /// Each comma-separated item of a header value, trimmed (empty items included, as in `a,,b`).
    private static func forEachToken(_ value: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>) -> Void) {
        var start = value.startIndex
        var i = start
        while true {
            if i == value.endIndex || value[i] == UInt8(ascii: ",") {
                body(trimmed(value[start..<i]))
                if i == value.endIndex { return }
                start = i + 1
            }
            i += 1
        }
    }

    private static func equalsLowercased(_ bytes: ArraySlice<UInt8>, _ lower: [UInt8]) -> Bool {
        guard bytes.count == lower.count else { return false }
        for (b, l) in zip(bytes, lower) where b | 0x20 != l { return false }
        return true
    }

    /// A chunk-size line: hex digits, then optional extensions after `;`.
    private static func chunkSize(_ line: ArraySlice<UInt8>) throws(ParseError) -> Int {
        var size = 0
        var digits = 0
        for b in line {
            let v: Int
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = Int(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = Int(b - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = Int(b - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), 0x20, 0x09:
                guard digits > 0 else { throw .malformed("chunk size \"\(show(line))\"") }
                return size
            default:
                throw .malformed("chunk size \"\(show(line))\"")
            }
            digits += 1
            guard digits <= 15 else { throw .malformed("chunk size \"\(show(line))\"") }
            size = size * 16 + v
        }
        guard digits > 0 else { throw .malformed("chunk size \"\(show(line))\"") }
        return size
    }

    private static func show(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix(80), as: UTF8.self)
    }
}
