import CZlib
import Foundation
import Gzip
import Testing

@Suite("Concatenated members and optional header fields")
struct MultiMemberTests {
    let parts = [
        TestData.jsonLines(byteCount: 70_000, seed: 10), [], TestData.randomBytes(3_000, seed: 11),
        TestData.jsonLines(byteCount: 5, seed: 12),
    ]
    var archive: [UInt8] { parts.flatMap { Gzip.compress($0) } }

    @Test("members, an empty one included, decode in order as one stream")
    func concatenated() {
        let result = feed(archive)
        #expect(result.error == nil)
        #expect(Bytes(result.output) == Bytes(parts.flatMap { $0 }))
        #expect(result.inflater.membersCompleted == parts.count)
        #expect(result.inflater.compressedBytesConsumed == UInt64(archive.count))
    }

    @Test("chunk edges anywhere, member boundaries included, change nothing", arguments: [1, 7, 1000])
    func smallChunks(size: Int) {
        let result = feed(archive) { _ in size }
        #expect(result.error == nil)
        #expect(Bytes(result.output) == Bytes(parts.flatMap { $0 }))
        #expect(result.inflater.membersCompleted == parts.count)
    }

    @Test("isAtMemberBoundary holds exactly between members")
    func boundaries() throws {
        let inflater = GzipInflater()
        var output: [UInt8] = []
        for (index, part) in parts.enumerated() {
            let member = Gzip.compress(part)
            try inflater.inflate(Array(member.dropLast()), into: &output)
            #expect(!inflater.isAtMemberBoundary)
            #expect(throws: GzipError.self) { try inflater.finish() }
            try inflater.inflate([member.last!], into: &output)
            #expect(inflater.isAtMemberBoundary)
            #expect(inflater.membersCompleted == index + 1)
        }
        try inflater.finish()
    }

    @Test("a new inflater resumes at a recorded member boundary, padding and garbage judged as after a member")
    func resumeAtBoundary() throws {
        let first = Gzip.compress(parts[0])
        let rest = [UInt8](repeating: 0, count: 3) + Gzip.compress(parts[2]) + Array("junk".utf8)
        let inflater = GzipInflater(resumingAtMemberBoundary: UInt64(first.count))
        var output: [UInt8] = []
        #expect(inflater.isAtMemberBoundary)
        let error = #expect(throws: GzipError.self) { try inflater.inflate(rest, into: &output) }
        #expect(error?.kind == .trailingGarbage)
        #expect(error?.compressedOffset == UInt64(first.count + rest.count - 4))
        #expect(Bytes(output) == Bytes(parts[2]))
    }

    @Test("FEXTRA, FNAME, FCOMMENT and FHCRC headers are parsed, byte by byte too")
    func headerFields() throws {
        let data = TestData.jsonLines(byteCount: 10_000, seed: 13)
        let member = compressWithHeaderFields(data)
        #expect(member[3] == 0x1e)  // FHCRC | FEXTRA | FNAME | FCOMMENT
        let twice = member + member
        #expect(Bytes(try Gzip.decompress(twice)) == Bytes(data + data))
        let result = feed(twice) { _ in 1 }
        #expect(result.error == nil)
        #expect(Bytes(result.output) == Bytes(data + data))
    }

    /// Uses zlib's `deflateSetHeader` to write every optional header field, which neither gzip(1) nor
    /// `Gzip.compress` writes.
    private func compressWithHeaderFields(_ data: [UInt8]) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let header = UnsafeMutablePointer<gz_header>.allocate(capacity: 1)
        header.initialize(to: gz_header())
        let extra: [UInt8] = [0x41, 0x50, 4, 0, 1, 2, 3, 4]  // one subfield "AP", 4 bytes
        let extraCopy = UnsafeMutablePointer<UInt8>.allocate(capacity: extra.count)
        extraCopy.initialize(from: extra, count: extra.count)
        let name = strdup("events-2024-06-01.jsonl")
        let comment = strdup("rotated by logrotate")
        defer {
            deflateEnd(stream)
            stream.deallocate()
            header.deallocate()
            extraCopy.deallocate()
            free(name)
            free(comment)
        }
        #expect(czlib_deflateInit2(stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK)
        header.pointee.extra = extraCopy
        header.pointee.extra_len = UInt32(extra.count)
        header.pointee.name = UnsafeMutableRawPointer(name!).assumingMemoryBound(to: UInt8.self)
        header.pointee.comment = UnsafeMutableRawPointer(comment!).assumingMemoryBound(to: UInt8.self)
        header.pointee.hcrc = 1
        header.pointee.os = 3
        #expect(deflateSetHeader(stream, header) == Z_OK)

        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(data.count))) + 256)
        var input = data
        let status = input.withUnsafeMutableBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.pointee.next_in = input.baseAddress
                stream.pointee.avail_in = UInt32(input.count)
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = UInt32(out.count)
                return deflate(stream, Z_FINISH)
            }
        }
        #expect(status == Z_STREAM_END)
        return Array(output.prefix(Int(stream.pointee.total_out)))
    }
}
