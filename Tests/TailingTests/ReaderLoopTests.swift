import Foundation
import Gzip
import Tailing
import Testing

/// `ReaderLoop`, the loop `run` and `export` share: which events come out of real files, in which order, at which
/// offsets; the gzip and container decisions; the end-of-input rule.
@Suite struct ReaderLoopTests {
    static let time = "2026-12-05T22:00:00.000000001Z"

    static func cri(_ content: String, tag: String = "F", stream: String = "stdout") -> String {
        "\(time) \(stream) \(tag) \(content)\n"
    }

    /// Events as text, so a whole sequence compares at once.
    static func describe(_ event: ReaderLoop.Event) -> [String] {
        switch event {
        case .lines(let lines):
            return lines.map { "line \(String(decoding: $0.bytes, as: UTF8.self)) @\($0.offset)-\($0.end)" }
        case .framed(.tooLong(_, let length, let offset, _)): return ["tooLong \(length) @\(offset)"]
        case .framed(.corrupt(_, let offset, _)): return ["corrupt @\(offset)"]
        case .framed(.line(let line)): return ["framed line @\(line.offset)"]
        case .held(let s, let first, let offset, let end): return ["held \(s.name) first=\(first) @\(offset)-\(end)"]
        case .joined(let s): return ["joined \(s.name)"]
        case .filtered(let offset, _): return ["filtered @\(offset)"]
        case .invalidEnvelope(_, let format, _, let offset, _): return ["invalid \(format.rawValue) @\(offset)"]
        case .joinedTooLong(_, let length, let runStart, let pieces, _, let offset, _):
            return ["joinedTooLong \(length) from \(runStart) pieces=\(pieces) @\(offset)"]
        case .incomplete(let run): return ["incomplete \(run.stream.name) @\(run.start) pieces=\(run.pieces)"]
        }
    }

    static func loop(
        _ path: String, envelope: ReaderLoop.Envelope, streams: Set<ContainerStream> = [.stdout],
        maxLineBytes: Int = 4096
    ) throws -> ReaderLoop {
        let loop = ReaderLoop(
            head: try Fingerprint.readFileHead(path: path), envelope: envelope, streams: streams,
            maxLineBytes: maxLineBytes)
        try loop.open(path: path, startOffset: 0)
        return loop
    }

    static func drain(_ loop: ReaderLoop) throws -> (events: [String], status: LogFileReader.Status) {
        var events: [String] = []
        while true {
            let status = try loop.read(budget: 1 << 20) { events += describe($0) }
            if status != .more { return (events, status) }
        }
    }

    @Test func aCRILogsEventsComeInFileOrderAtTheRuntimeFilesOffsets() throws {
        let dir = try TemporaryDirectory()
        let lines = [
            Self.cri("a"), Self.cri("b1", tag: "P"), Self.cri("e", stream: "stderr"), Self.cri("b2"), "not cri\n",
            Self.cri("c"),
        ]
        var at: [Int] = [0]
        for line in lines { at.append(at.last! + line.utf8.count) }
        let path = try dir.write("0.log", Array(lines.joined().utf8))
        let loop = try Self.loop(path, envelope: .always(.cri))
        let (events, status) = try Self.drain(loop)
        #expect(status == .caughtUp)
        #expect(
            events == [
                "line a @0-\(at[1])",
                "held stdout first=true @\(at[1])-\(at[2])",
                "filtered @\(at[2])",
                "line b1b2 @\(at[3])-\(at[4])",
                "joined stdout",
                "invalid cri @\(at[4])",
                "line c @\(at[5])-\(at[6])",
            ])
    }

    @Test func aGzippedContainerLogIsRecognisedByItsDecompressedHead() throws {
        let dir = try TemporaryDirectory()
        let text = Self.cri("a") + Self.cri("b1", tag: "P")
        let path = try dir.write("0.log.1.gz", Gzip.compress(Array(text.utf8)))
        let loop = try Self.loop(path, envelope: .detect)
        #expect(loop.compressed)
        #expect(loop.decoder?.format == .cri)
        let (events, status) = try Self.drain(loop)
        #expect(status == .finished)
        let a = Self.cri("a").utf8.count
        #expect(events == ["line a @0-\(a)", "held stdout first=true @\(a)-\(text.utf8.count)"])
        var given: [String] = []
        loop.giveUpIncomplete { given += Self.describe($0) }
        #expect(given == ["incomplete stdout @\(a) pieces=1"])
    }

    @Test func jsonLinesAreNoContainerLogEvenWhenDetecting() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("app.log", Array(#"{"log":1}"#.utf8) + [0x0A])
        let loop = try Self.loop(path, envelope: .detect)
        #expect(loop.decoder == nil && !loop.compressed)
        #expect(try Self.drain(loop).events == [#"line {"log":1} @0-10"#])
    }

    @Test func anUnterminatedLastLineIsTakenForGzipOrWhenTheCallerAcceptsIt() throws {
        let dir = try TemporaryDirectory()
        let text = Array("one\ntwo".utf8)
        for (accept, expected) in [(false, ["line one @0-4"]), (true, ["line one @0-4", "line two @4-7"])] {
            let path = try dir.write("plain.log", text)
            let loop = try Self.loop(path, envelope: .none)
            var events = try Self.drain(loop).events
            var offered: [String] = []
            loop.finish(canGrow: true) { partial in
                offered.append(String(decoding: partial, as: UTF8.self))
                return accept
            } _: {
                events += Self.describe($0)
            }
            #expect(events == expected)
            #expect(offered == ["two"])
            #expect(loop.reader == nil)
        }
        let gz = try dir.write("archive.gz", Gzip.compress(text))
        let loop = try Self.loop(gz, envelope: .none)
        var events = try Self.drain(loop).events
        loop.finish(canGrow: false) { _ in
            Issue.record("a finished archive's last line is taken without asking")
            return false
        } _: {
            events += Self.describe($0)
        }
        #expect(events == ["line one @0-4", "line two @4-7"])
    }

    @Test func partialRunsAreGivenUpAtTheEndOnlyWhenTheFileCannotGrow() throws {
        let dir = try TemporaryDirectory()
        let text = Self.cri("a") + Self.cri("b1", tag: "P")
        let a = Self.cri("a").utf8.count
        for canGrow in [true, false] {
            let path = try dir.write("0.log", Array(text.utf8))
            let loop = try Self.loop(path, envelope: .always(.cri))
            var events = try Self.drain(loop).events
            loop.finish(canGrow: canGrow) { _ in
                true
            } _: {
                events += Self.describe($0)
            }
            let held = ["line a @0-\(a)", "held stdout first=true @\(a)-\(text.utf8.count)"]
            #expect(events == (canGrow ? held : held + ["incomplete stdout @\(a) pieces=1"]))
            #expect(loop.decoder?.isHolding == canGrow)
        }
    }
}
