import TestSupport
import Testing

@testable import PersonalizeClient

/// The NIO transport's response reader: every way HTTP/1.1 delimits a body, interim answers, keep-alive rules, and
/// the malformed or oversized answers that must end the connection, whatever the bytes' split across reads.
@Suite struct HTTPResponseParserTests {
    typealias Response = HTTPResponseParser.Response

    /// Feeds `wire` in pieces of the given sizes (cycling), then ends the connection if asked.
    static func parse(
        _ wire: String, pieces: [Int] = [Int.max], head: Bool = false, end: Bool = false, maxBody: Int = 1 << 20
    ) throws -> [Response] {
        var parser = HTTPResponseParser(maxHeadBytes: 4096, maxBodyBytes: maxBody)
        parser.expectsHeadResponse = head
        let bytes = Array(wire.utf8)
        var out: [Response] = []
        var i = 0
        var k = 0
        while i < bytes.count {
            let n = min(pieces[k % pieces.count], bytes.count - i)
            out += try parser.feed(bytes[i..<(i + n)])
            i += n
            k += 1
        }
        if end, let last = try parser.end() { out.append(last) }
        return out
    }

    /// Splits to try: whole, byte by byte, and a few uneven cuts.
    static let splits: [[Int]] = [[Int.max], [1], [2, 3], [7, 1, 13], [64]]

    static func response(_ status: Int, _ headers: [(String, String)], _ body: String, keepAlive: Bool = true)
        -> Response
    {
        // Compared by their pairs: the lines are written as "name: value" here, whatever spacing the wire had.
        let lines = headers.map { "\($0.0): \($0.1)" }.joined(separator: "\r\n")
        return Response(status: status, headerLines: Array(lines.utf8), body: Array(body.utf8), keepAlive: keepAlive)
    }

    @Test(arguments: splits)
    func contentLengthBodiesAndBackToBackAnswers(_ pieces: [Int]) throws {
        let wire =
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
            + "HTTP/1.1 400 Bad Request\r\ncontent-length: 11\r\nx-amzn-ErrorType: InvalidInputException\r\n\r\n{\"m\":\"bad\"}"
        let got = try Self.parse(wire, pieces: pieces)
        #expect(
            got == [
                Self.response(
                    200, [("Server", "nginx"), ("Content-Type", "application/json"), ("Content-Length", "2")], "{}"),
                Self.response(
                    400, [("content-length", "11"), ("x-amzn-ErrorType", "InvalidInputException")], "{\"m\":\"bad\"}"),
            ])
    }

    @Test(arguments: splits)
    func chunkedBodiesWithExtensionsAndTrailers(_ pieces: [Int]) throws {
        let wire =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            + "5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nx-trailer: t\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\n\r\n"
        let got = try Self.parse(wire, pieces: pieces)
        #expect(
            got == [
                Self.response(200, [("Transfer-Encoding", "gzip, chunked")], "hello, world!!!"),
                Self.response(204, [], ""),
            ])
    }

    @Test(arguments: splits)
    func interimAnswersAreSkipped(_ pieces: [Int]) throws {
        let wire =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
        #expect(try Self.parse(wire, pieces: pieces) == [Self.response(200, [("Content-Length", "3")], "abc")])
    }

    @Test(arguments: splits)
    func bodyUntilCloseEndsWithTheConnection(_ pieces: [Int]) throws {
        let wire = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nsomething broke\r\nreally"
        #expect(try Self.parse(wire, pieces: pieces).isEmpty)
        #expect(
            try Self.parse(wire, pieces: pieces, end: true) == [
                Self.response(500, [("Content-Type", "text/plain")], "something broke\r\nreally", keepAlive: false)
            ])
    }

    @Test func noBodyForHeadRequestsAnd304() throws {
        #expect(
            try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", head: true)
                == [Self.response(200, [("Content-Length", "10")], "")])
        #expect(
            try Self.parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")
                == [Self.response(304, [("Content-Length", "10")], "")])
    }

    @Test func keepAliveFollowsTheVersionAndConnectionHeader() throws {
        func keepAlive(_ head: String) throws -> Bool {
            try Self.parse(head + "Content-Length: 0\r\n\r\n")[0].keepAlive
        }
        #expect(try keepAlive("HTTP/1.1 200 OK\r\n"))
        #expect(try !keepAlive("HTTP/1.1 200 OK\r\nConnection: close\r\n"))
        #expect(try !keepAlive("HTTP/1.1 200 OK\r\nconnection: Keep-Alive, CLOSE\r\n"))
        #expect(try !keepAlive("HTTP/1.0 200 OK\r\n"))
        #expect(try keepAlive("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"))
        // A status line without a reason phrase, and header values trimmed.
        let got = try Self.parse("HTTP/1.1 202\r\nX-A:  v w \t\r\nContent-Length: 0\r\n\r\n")
        #expect(got == [Self.response(202, [("X-A", "v w"), ("Content-Length", "0")], "")])
    }

    @Test(arguments: [
        ("HTTP/2 200 OK\r\n\r\n", "status line"),
        ("HTTP/1.1 2x0 OK\r\n\r\n", "status line"),
        ("HTTP/1.1 200OK\r\n\r\n", "status line"),
        ("HTTP/1.1 099 Low\r\n\r\n", "status line"),
        ("HTTP/1.1 101 Switching Protocols\r\n\r\n", "protocol switch"),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "header line"),
        ("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "header line"),
        ("HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "header line"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "content-length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "conflicting"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "transfer-encoding"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", "chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", "CRLF"),
    ])
    func malformedAnswersAreErrors(_ wire: String, _ phrase: String) {
        for pieces in Self.splits {
            #expect {
                _ = try Self.parse(wire, pieces: pieces)
            } throws: { error in
                guard let e = error as? HTTPResponseParser.ParseError, case .malformed(let what) = e else {
                    return false
                }
                return what.contains(phrase)
            }
        }
    }

    @Test func oversizedHeadsAndBodiesAreErrors() {
        let longHead = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 5000) + "\r\n\r\n"
        #expect(throws: HTTPResponseParser.ParseError.headTooLarge(4096)) { try Self.parse(longHead) }
        #expect(throws: HTTPResponseParser.ParseError.headTooLarge(4096)) { try Self.parse(longHead, pieces: [100]) }
        #expect(throws: HTTPResponseParser.ParseError.bodyTooLarge(10)) {
            try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", maxBody: 10)
        }
        #expect(throws: HTTPResponseParser.ParseError.bodyTooLarge(10)) {
            try Self.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n", maxBody: 10)
        }
        #expect(throws: HTTPResponseParser.ParseError.bodyTooLarge(10)) {
            try Self.parse("HTTP/1.1 200 OK\r\n\r\n01234567890", pieces: [3], maxBody: 10)
        }
    }

    @Test func aConnectionEndingInsideAnAnswerIsTruncated() throws {
        for wire in [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", "HTTP/1.1 200 OK\r\nContent-Le",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        ] {
            #expect(throws: HTTPResponseParser.ParseError.truncated) { try Self.parse(wire, end: true) }
        }
        #expect(try Self.parse("", end: true).isEmpty)
        #expect(try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", end: true).count == 1)
    }

    /// Random bodies (sizes around chunk and read boundaries), random splits: the same responses as fed whole.
    @Test func randomSplitsGiveTheSameAnswers() throws {
        var rng = SplitMix64(seed: 11)
        var wire = ""
        var expected: [Response] = []
        for i in 0..<60 {
            let size = Int(rng.next() % 300)
            let body = String((0..<size).map { _ in Character(UnicodeScalar(UInt8(97 + rng.next() % 26))) })
            if i % 2 == 0 {
                wire += "HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\n\r\n" + body
                expected.append(Self.response(200, [("Content-Length", "\(size)")], body))
            } else {
                var chunks = ""
                var rest = Substring(body)
                while !rest.isEmpty {
                    let n = min(rest.count, Int(rng.next() % 40) + 1)
                    chunks += String(n, radix: 16) + "\r\n" + rest.prefix(n) + "\r\n"
                    rest = rest.dropFirst(n)
                }
                wire += "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n"
                expected.append(Self.response(200, [("Transfer-Encoding", "chunked")], body))
            }
        }
        for _ in 0..<20 {
            let pieces = (0..<5).map { _ in Int(rng.next() % 50) + 1 }
            #expect(try Self.parse(wire, pieces: pieces) == expected)
        }
    }
}
