import Foundation
import PinnedMemory
import Tailing
import Testing

/// The envelope of CRI and Docker json-file lines taken off, partial pieces joined at every split position,
/// invalid envelopes named, the limit kept.
@Suite struct ContainerLogDecoderTests {
    static let time = "2026-12-05T22:00:00.123456789Z"
    /// An application line with quotes, backslashes, a tab and multi-byte characters (split inside them too).
    static let payload = #"{"ts":"2026-12-05T22:00:00Z","msg":"say \"hi\" \\ é 😀","n":1}"#

    enum Out: Equatable {
        case line(String, stream: ContainerStream, time: String, runStart: UInt64?)
        case held(ContainerStream, first: Bool)
        case filtered
        case invalid(String)
        case tooLong(length: UInt64, runStart: UInt64, pieces: Int)
    }

    /// Decodes `lines` in order, with offsets as if they were one file.
    static func decode(_ decoder: ContainerLogDecoder, _ lines: [[UInt8]]) -> [Out] {
        let arena = PinnedArena(capacity: 1 << 20)
        var offset: UInt64 = 0
        var out: [Out] = []
        for line in lines {
            let decoded = line.withUnsafeBytes { decoder.decode($0, offset: offset, arena: arena) }
            switch decoded {
            case .line(let p, let s, let t, let r):
                out.append(
                    .line(
                        String(decoding: p, as: UTF8.self), stream: s, time: String(decoding: t, as: UTF8.self),
                        runStart: r))
            case .held(let s, let first): out.append(.held(s, first: first))
            case .filtered: out.append(.filtered)
            case .invalid(let reason): out.append(.invalid(reason))
            case .tooLong(_, let length, let start, let pieces, _):
                out.append(.tooLong(length: length, runStart: start, pieces: pieces))
            }
            offset += UInt64(line.count + 1)
        }
        return out
    }

    static func cri(_ stream: String, _ tag: String, _ content: [UInt8]) -> [UInt8] {
        Array("\(time) \(stream) \(tag) ".utf8) + content
    }

    /// Docker's escaping of a `log` string.
    static func escaped(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes {
            switch b {
            case 0x22: out += Array(#"\""#.utf8)
            case 0x5C: out += Array(#"\\"#.utf8)
            case 0x0A: out += Array(#"\n"#.utf8)
            case 0x09: out += Array(#"\t"#.utf8)
            case 0x3C: out += Array(#"\u003c"#.utf8)
            default: out.append(b)
            }
        }
        return out
    }

    static func docker(_ stream: String, _ content: [UInt8]) -> [UInt8] {
        Array(#"{"log":""#.utf8) + escaped(content) + Array(#"","stream":"\#(stream)","time":"\#(time)"}"#.utf8)
    }

    @Test func criLineUnwrapped() {
        let d = ContainerLogDecoder(format: .cri, maxLineBytes: 4096)
        let out = Self.decode(d, [Self.cri("stdout", "F", Array(Self.payload.utf8)), Self.cri("stderr", "F", [])])
        #expect(
            out == [
                .line(Self.payload, stream: .stdout, time: Self.time, runStart: nil),
                .line("", stream: .stderr, time: Self.time, runStart: nil),
            ])
    }

    @Test func criPartialLinesJoinedAtEverySplit() {
        let bytes = Array(Self.payload.utf8)
        for k in 0...bytes.count {
            let d = ContainerLogDecoder(format: .cri, maxLineBytes: 4096)
            let first = Self.cri("stdout", "P", Array(bytes[..<k]))
            let out = Self.decode(d, [first, Self.cri("stdout", "F", Array(bytes[k...]))])
            #expect(
                out == [
                    .held(.stdout, first: true), .line(Self.payload, stream: .stdout, time: Self.time, runStart: 0),
                ],
                "split at \(k)")
        }
        // Three pieces, at every pair of positions (a coarser stride keeps it quick).
        for i in stride(from: 0, through: bytes.count, by: 3) {
            for j in stride(from: i, through: bytes.count, by: 5) {
                let d = ContainerLogDecoder(format: .cri, maxLineBytes: 4096)
                let out = Self.decode(
                    d,
                    [
                        Self.cri("stdout", "P", Array(bytes[..<i])), Self.cri("stdout", "P", Array(bytes[i..<j])),
                        Self.cri("stdout", "F", Array(bytes[j...])),
                    ])
                #expect(out.last == .line(Self.payload, stream: .stdout, time: Self.time, runStart: 0))
                #expect(out.prefix(2) == [.held(.stdout, first: true), .held(.stdout, first: false)])
            }
        }
    }

    @Test func stdoutAndStderrRunsInterleaved() {
        let d = ContainerLogDecoder(format: .cri, maxLineBytes: 4096)
        let out = Self.decode(
            d,
            [
                Self.cri("stdout", "P", Array("{\"a\":".utf8)), Self.cri("stderr", "P", Array("{\"b\":".utf8)),
                Self.cri("stderr", "F", Array("2}".utf8)), Self.cri("stdout", "F", Array("1}".utf8)),
            ])
        let stderrStart = UInt64(Self.cri("stdout", "P", Array("{\"a\":".utf8)).count + 1)
        #expect(
            out == [
                .held(.stdout, first: true), .held(.stderr, first: true),
                .line("{\"b\":2}", stream: .stderr, time: Self.time, runStart: stderrStart),
                .line("{\"a\":1}", stream: .stdout, time: Self.time, runStart: 0),
            ])
    }

    @Test func dockerLineUnwrappedAndPiecesJoinedAtEverySplit() {
        let bytes = Array(Self.payload.utf8) + Array("<tab>\t".utf8)
        let whole = String(decoding: bytes, as: UTF8.self)
        let d = ContainerLogDecoder(format: .docker, maxLineBytes: 4096)
        #expect(
            Self.decode(d, [Self.docker("stdout", bytes + [0x0A])])
                == [.line(whole, stream: .stdout, time: Self.time, runStart: nil)])
        for k in 0...bytes.count {
            let d = ContainerLogDecoder(format: .docker, maxLineBytes: 4096)
            let out = Self.decode(
                d, [Self.docker("stdout", Array(bytes[..<k])), Self.docker("stdout", Array(bytes[k...]) + [0x0A])])
            #expect(
                out == [.held(.stdout, first: true), .line(whole, stream: .stdout, time: Self.time, runStart: 0)],
                "split at \(k)")
        }
    }

    @Test func dockerMembersInAnyOrderAndExtraMembersSkipped() {
        let d = ContainerLogDecoder(format: .docker, maxLineBytes: 4096)
        let line = #" {"time":"t1", "attrs":{"x":[1,{"y":"}"}]},"stream":"stderr","log":"{\"k\":\"v\"}\n"} "#
        #expect(
            Self.decode(d, [Array(line.utf8)]) == [.line(#"{"k":"v"}"#, stream: .stderr, time: "t1", runStart: nil)])
    }

    @Test func invalidEnvelopesNamed() {
        let cri = ContainerLogDecoder(format: .cri, maxLineBytes: 4096)
        let criOut = Self.decode(
            cri,
            [
                Array("{\"plain\":1}".utf8), Array("\(Self.time) stdlog F {}".utf8),
                Array("\(Self.time) stdout X {}".utf8),
                Array("\(Self.time)".utf8),
            ])
        #expect(
            criOut == [
                .invalid("not a CRI log line: it must start with an RFC 3339 time and a space"),
                .invalid("not a CRI log line: the stream after the time must be stdout or stderr"),
                .invalid("not a CRI log line: the tag after the stream must be P or F"),
                .invalid("not a CRI log line: it must start with an RFC 3339 time and a space"),
            ])
        let docker = ContainerLogDecoder(format: .docker, maxLineBytes: 4096)
        let dockerOut = Self.decode(
            docker,
            [
                Array(#"{"stream":"stdout","time":"t"}"#.utf8), Array(#"{"log":5,"stream":"stdout"}"#.utf8),
                Array(#"{"log":"x","stream":"stdin"}"#.utf8), Array(#"{"log":"\q","stream":"stdout"}"#.utf8),
                Array("2026-12-05T22:00:00Z stdout F {}".utf8), Array(#"{"log":"x","stream":"stdout""#.utf8),
            ])
        #expect(
            dockerOut == [
                .invalid("a Docker json-file line needs a \"log\" string"),
                .invalid("the \"log\" member of a Docker json-file line must be a string"),
                .invalid("the \"stream\" of a Docker json-file line must be stdout or stderr"),
                .invalid("the \"log\" string has an invalid escape"),
                .invalid("not a Docker json-file line: not a JSON object"),
                .invalid("not a Docker json-file line: invalid JSON"),
            ])
    }

    @Test func streamsFiltered() {
        let d = ContainerLogDecoder(format: .cri, streams: [.stdout], maxLineBytes: 4096)
        let out = Self.decode(
            d,
            [
                Self.cri("stderr", "P", Array("{".utf8)), Self.cri("stderr", "F", Array("}".utf8)),
                Self.cri("stdout", "F", Array("{}".utf8)),
            ])
        #expect(out == [.filtered, .filtered, .line("{}", stream: .stdout, time: Self.time, runStart: nil)])
        #expect(!d.isHolding)
    }

    @Test func joinedLineKeepsTheLimit() {
        let d = ContainerLogDecoder(format: .cri, maxLineBytes: 100)
        let piece = [UInt8](repeating: UInt8(ascii: "x"), count: 60)
        let out = Self.decode(
            d,
            [
                Self.cri("stdout", "P", piece), Self.cri("stdout", "P", piece),
                Self.cri("stdout", "F", Array("}".utf8)),
                Self.cri("stdout", "F", Array("{}".utf8)),
            ])
        #expect(
            out == [
                .held(.stdout, first: true), .held(.stdout, first: false),
                .tooLong(length: 121, runStart: 0, pieces: 3),
                .line("{}", stream: .stdout, time: Self.time, runStart: nil),
            ])
        // Exactly at the limit is fine.
        let e = ContainerLogDecoder(format: .cri, maxLineBytes: 120)
        let ok = Self.decode(e, [Self.cri("stdout", "P", piece), Self.cri("stdout", "F", piece)])
        #expect(ok.last == .line(String(repeating: "x", count: 120), stream: .stdout, time: Self.time, runStart: 0))
    }

    @Test func tooLongPieceMarksItsRun() {
        let d = ContainerLogDecoder(format: .cri, maxLineBytes: 100)
        let sample = Array(Self.cri("stdout", "P", [UInt8](repeating: 0x78, count: 40)))
        let first = d.decodeTooLong(sample: sample, length: 500, offset: 0)
        guard case .held(.stdout, true)? = first else {
            Issue.record("expected a held piece, got \(String(describing: first))")
            return
        }
        let out = Self.decode(d, [Self.cri("stdout", "F", Array("}".utf8))])
        #expect(out.count == 1)
        if case .tooLong(let length, _, let pieces) = out[0] {
            #expect(length == 500 - UInt64(Self.cri("stdout", "P", []).count) + 1 && pieces == 2)
        } else {
            Issue.record("expected tooLong, got \(out)")
        }
        #expect(d.decodeTooLong(sample: Self.cri("stdout", "F", []), length: 500, offset: 0) == nil)
    }

    @Test func incompleteRunsTaken() {
        let d = ContainerLogDecoder(format: .cri, maxLineBytes: 4096)
        _ = Self.decode(d, [Self.cri("stdout", "P", Array("{\"a\"".utf8))])
        #expect(d.isHolding)
        let runs = d.takeIncomplete()
        #expect(runs.count == 1 && runs[0].content == Array("{\"a\"".utf8) && runs[0].start == 0 && runs[0].pieces == 1)
        #expect(!d.isHolding)
    }

    @Test func formatsRecognisedByTheirFirstLine() {
        #expect(ContainerFormat.detect(head: Array("\(Self.time) stdout F {}\n".utf8)) == .cri)
        #expect(ContainerFormat.detect(head: Array("\(Self.time) stderr P {".utf8)) == .cri)
        #expect(ContainerFormat.detect(head: Self.docker("stdout", Array("{}\n".utf8))) == .docker)
        #expect(ContainerFormat.detect(head: Array("{\"ts\":1}\n".utf8)) == nil)
        #expect(
            ContainerFormat.detect(head: Array(#"{"stream":"stderr","log":"x\n","time":"t"}"#.utf8) + [0x0A]) == .docker
        )
        #expect(
            ContainerFormat.detect(head: Array(#"{"log":"an application's own field","n":1}"#.utf8) + [0x0A]) == nil)
        #expect(ContainerFormat.detect(head: Array("2026-12-05 hello\n".utf8)) == nil)
    }

    @Test func podIdentityFromThePath() {
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        #expect(
            PodIdentity(path: "/var/log/containers/web-7d4b9-x2k_shop_app-server-\(id).log")
                == PodIdentity(namespace: "shop", pod: "web-7d4b9-x2k", container: "app-server"))
        let pods = PodIdentity(namespace: "shop", pod: "web-7d4b9-x2k", container: "app")
        #expect(PodIdentity(path: "/var/log/pods/shop_web-7d4b9-x2k_5c0e2b8a-1111/app/0.log") == pods)
        #expect(PodIdentity(path: "/var/log/pods/shop_web-7d4b9-x2k_5c0e2b8a-1111/app/3.log.20261205-220000") == pods)
        #expect(
            PodIdentity(path: "/var/log/pods/shop_web-7d4b9-x2k_5c0e2b8a-1111/app/3.log.20261205-220000.gz") == pods)
        #expect(PodIdentity(path: "/var/log/app/events.log") == nil)
        #expect(PodIdentity(path: "/var/log/app/0.log") == nil)
    }
}

extension DecodedLine? {
    static func == (a: DecodedLine?, b: DecodedLine?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        default: false
        }
    }
}
