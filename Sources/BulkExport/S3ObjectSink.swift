import AWSSigV4
import NIOCore
import S3

/// One CSV file streamed to S3: bytes fill a part buffer of exactly the storage's part size (rows may straddle
/// parts; S3 joins them); a full part is submitted and a fresh buffer filled. On a rerun, parts whose regenerated
/// bytes match what S3 already holds are not sent again.
final class S3ObjectSink: ExportSink {
    enum Mode {
        /// Upload into `uploadId`; `listed` are the parts S3 holds (ListParts), `recorded` those the state names.
        case upload(uploadId: String, listed: [Int: S3Client.Part], recorded: [UploadState.Part])
        /// The interrupted run completed this object: regenerate and check it is the same, send nothing.
        case verify(UploadState.Object)
    }

    let storage: S3ExportStorage
    let key: String
    let mode: Mode
    private var buffer: ByteBuffer
    private var partNumber = 0
    private var parts: [S3Client.Part] = []
    private(set) var bytesWritten = 0
    private(set) var stored: (key: String, etag: String)?

    init(storage: S3ExportStorage, key: String, mode: Mode) {
        self.storage = storage
        self.key = key
        self.mode = mode
        buffer = ByteBufferAllocator().buffer(capacity: storage.partSize)
    }

    func write(_ bytes: [UInt8]) throws(ExportError) {
        bytesWritten += bytes.count
        var rest = bytes[...]
        while !rest.isEmpty {
            let room = storage.partSize - buffer.readableBytes
            let chunk = rest.prefix(room)
            buffer.writeBytes(chunk)
            rest = rest.dropFirst(chunk.count)
            if buffer.readableBytes == storage.partSize { try flushPart() }
        }
    }

    private func flushPart() throws(ExportError) {
        partNumber += 1
        let body = buffer
        buffer = ByteBufferAllocator().buffer(capacity: storage.partSize)
        switch mode {
        case .verify(let previous):
            let sha = body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
            guard let recorded = previous.parts.first(where: { $0.number == partNumber }), recorded.sha256 == sha else {
                throw changed()
            }
            parts.append(S3Client.Part(number: partNumber, etag: recorded.etag, size: body.readableBytes))
        case .upload(let uploadId, let listed, let recorded):
            if let held = listed[partNumber], held.size == body.readableBytes {
                let sha = body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
                let same =
                    recorded.first(where: { $0.number == partNumber }).map { $0.sha256 == sha && $0.etag == held.etag }
                    ?? (body.withUnsafeReadableBytes { S3Client.partETag($0) } == held.etag)
                if same {
                    try storage.reuse(
                        key: key, UploadState.Part(number: partNumber, etag: held.etag, size: held.size, sha256: sha))
                    parts.append(held)
                    return
                }
            }
            try storage.submit(key: key, uploadId: uploadId, number: partNumber, body: body)
            parts.append(S3Client.Part(number: partNumber, etag: "", size: body.readableBytes))
        }
    }

    func close() throws(ExportError) {
        if buffer.readableBytes > 0 || partNumber == 0 { try flushPart() }
        switch mode {
        case .verify(let previous):
            guard previous.size == bytesWritten, previous.parts.count == partNumber else { throw changed() }
            stored = (key, try storage.confirm(previous))
        case .upload(let uploadId, _, _):
            try storage.drain()
            // The ETags of the parts just sent, as the upload tasks recorded them.
            let recorded = storage.state.withLock { $0.object(key)?.parts ?? [] }
            let final = try parts.map { p throws(ExportError) -> S3Client.Part in
                guard let r = recorded.first(where: { $0.number == p.number }) else {
                    throw ExportError("s3://\(storage.location.bucket)/\(key): part \(p.number) has no recorded ETag")
                }
                return S3Client.Part(number: p.number, etag: r.etag, size: r.size)
            }
            stored = (key, try storage.complete(key: key, uploadId: uploadId, parts: final, size: bytesWritten))
        }
    }

    private func changed() -> ExportError {
        ExportError(
            "s3://\(storage.location.bucket)/\(key): the interrupted export completed this file, but the inputs now give different rows (did the logs change?); run the export with --abort and start again"
        )
    }
}
