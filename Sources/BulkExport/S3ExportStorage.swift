import AWSSigV4
import Dispatch
import Foundation
import NIOCore
import S3
import Synchronization

/// Streams an export's CSV files into S3 as multipart uploads while they are written.
///
/// Each file fills a part buffer of `partSize` bytes; a full part is handed to an upload task and the next one is
/// filled meanwhile, but only one part is in flight at a time, so memory stays at one buffer per open file plus one
/// being sent, and nothing touches the local disk but `upload-state.json`. An object appears under its key only
/// when its upload completes (CompleteMultipartUpload is atomic), and the manifest is stored last.
///
/// The exporter is synchronous; the methods here block its thread (never a Swift concurrency thread) on the
/// asynchronous S3 client.
public final class S3ExportStorage: ExportStorage, @unchecked Sendable {
    public let client: S3Client
    public let location: S3Location
    public let partSize: Int
    let statePath: String
    /// Serialises the state and its file; touched by the exporter's thread and the upload tasks.
    let state: Mutex<UploadState>
    /// One permit: the part in flight.
    private let slot = DispatchSemaphore(value: 1)
    private let failure = Mutex<S3Error?>(nil)
    /// Keys of objects this run completed or verified, to know which leftovers to abort at the end.
    private var finishedKeys: Set<String> = []
    private var resuming = false
    /// Parts sent, and parts an interrupted run had sent that a rerun found intact and did not send again.
    public private(set) var partsSent = 0
    public private(set) var partsReused = 0

    /// The smallest part S3 accepts (but for the last part of an upload).
    public static let minPartSize = 5 << 20
    public static let defaultPartSize = 8 << 20

    public init(
        client: S3Client, location: S3Location, partSize: Int = S3ExportStorage.defaultPartSize, outputDirectory: String
    ) {
        self.client = client
        self.location = location
        self.partSize = partSize
        statePath = (outputDirectory.hasSuffix("/") ? outputDirectory : outputDirectory + "/") + UploadState.fileName
        state = Mutex(UploadState(location: location.description, partSize: partSize, objects: []))
    }

    public var upload: ExportManifest.Upload? {
        ExportManifest.Upload(bucket: location.bucket, prefix: location.prefix, partSize: partSize)
    }

    // MARK: Before and after

    public func prepare() throws(ExportError) -> Bool {
        let directory = (statePath as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ExportError("\(directory): cannot create it (\(error.localizedDescription))")
        }
        if let saved = try UploadState.load(path: statePath) {
            guard saved.location == location.description else {
                throw ExportError(
                    "\(statePath): an interrupted export to \(saved.location) is here; rerun it with --to \(saved.location), or abort it with --abort"
                )
            }
            guard saved.partSize == partSize else {
                throw ExportError(
                    "\(statePath): the interrupted export used --part-size \(saved.partSize >> 20) (MiB); rerun it with the same part size, or abort it with --abort"
                )
            }
            state.withLock { $0 = saved }
            resuming = true
            return true
        }
        let existing = try blocking { [client, location] in
            try await client.listObjects(bucket: location.bucket, prefix: location.prefix)
        }
        if let first = existing.first {
            throw ExportError(
                "\(location): holds objects already (\(first.key)\(existing.count > 1 ? " and \(existing.count - 1) more" : "")); export to an empty prefix"
            )
        }
        let uploads = try blocking { [client, location] in
            try await client.listMultipartUploads(bucket: location.bucket, prefix: location.prefix)
        }
        if !uploads.isEmpty {
            throw ExportError(
                "\(location): \(uploads.count) incomplete multipart upload(s) and no \(UploadState.fileName) in the output directory (another export is writing there, or an interrupted one's output directory is gone); abort them with --abort, or export to another prefix"
            )
        }
        try saveState()
        return false
    }

    public func finish(manifest: [UInt8]) throws(ExportError) {
        try drain()
        // Uploads of this prefix that no finished object uses: from the interrupted run (an object whose name is
        // no longer written, or an upload started just before the kill and never recorded).
        let stale = state.withLock { s in s.objects.filter { !finishedKeys.contains($0.key) && !$0.complete } }
        for o in stale {
            try blocking { [client, location] in
                try await client.abortMultipartUpload(bucket: location.bucket, key: o.key, uploadId: o.uploadId)
            }
        }
        let ours = state.withLock { Set($0.objects.map(\.uploadId)) }
        let leftovers = try blocking { [client, location] in
            try await client.listMultipartUploads(bucket: location.bucket, prefix: location.prefix)
        }
        for u in leftovers where !ours.contains(u.uploadId) || stale.contains(where: { $0.uploadId == u.uploadId }) {
            try blocking { [client, location] in
                try await client.abortMultipartUpload(bucket: location.bucket, key: u.key, uploadId: u.uploadId)
            }
        }
        try blocking { [client, location] in
            try await client.putObject(
                bucket: location.bucket, key: location.key("manifest.json"), body: manifest,
                contentType: "application/json")
        }
    }

    public func finished() {
        unlink(statePath)
        unlink(statePath + ".tmp")
    }

    /// Aborts every incomplete upload under the prefix and deletes the objects the interrupted export had
    /// completed (per `upload-state.json`), then forgets the state: the prefix is as before the export.
    public func abortAll() throws(ExportError) -> (aborted: Int, deleted: Int) {
        let saved = try UploadState.load(path: statePath)
        if let saved, saved.location != location.description {
            throw ExportError("\(statePath): belongs to an export to \(saved.location), not \(location)")
        }
        var aborted = 0
        var deleted = 0
        let uploads = try blocking { [client, location] in
            try await client.listMultipartUploads(bucket: location.bucket, prefix: location.prefix)
        }
        for u in uploads {
            try blocking { [client, location] in
                try await client.abortMultipartUpload(bucket: location.bucket, key: u.key, uploadId: u.uploadId)
            }
            aborted += 1
        }
        for o in saved?.objects ?? [] where o.complete {
            try blocking { [client, location] in try await client.deleteObject(bucket: location.bucket, key: o.key) }
            deleted += 1
        }
        finished()
        return (aborted, deleted)
    }

    // MARK: Objects

    public func create(name: String, folder: String) throws(ExportError) -> any ExportSink {
        let key = location.key(folder + "/" + name)
        if let failure = failure.withLock({ $0 }) { throw ExportError("upload failed: \(failure)") }
        if let previous = state.withLock({ $0.object(key) }) {
            if previous.complete { return S3ObjectSink(storage: self, key: key, mode: .verify(previous)) }
            let listed = try blocking { [client, location] in
                try await client.listParts(bucket: location.bucket, key: key, uploadId: previous.uploadId)
            }
            if let listed {
                var known: [Int: S3Client.Part] = [:]
                for p in listed { known[p.number] = p }
                return S3ObjectSink(
                    storage: self, key: key,
                    mode: .upload(uploadId: previous.uploadId, listed: known, recorded: previous.parts))
            }
        }
        let uploadId = try blocking { [client, location] in
            try await client.createMultipartUpload(bucket: location.bucket, key: key, contentType: "text/csv")
        }
        try withState { s in
            s.objects.removeAll { $0.key == key }
            s.objects.append(
                UploadState.Object(key: key, uploadId: uploadId, complete: false, etag: nil, size: nil, parts: []))
        }
        return S3ObjectSink(storage: self, key: key, mode: .upload(uploadId: uploadId, listed: [:], recorded: []))
    }

    /// Sends a part in the background once the part before it is done; a failure surfaces at the next call.
    func submit(key: String, uploadId: String, number: Int, body: ByteBuffer) throws(ExportError) {
        partsSent += 1
        slot.wait()
        if let failure = failure.withLock({ $0 }) {
            slot.signal()
            throw ExportError("upload failed: \(failure)")
        }
        let slot = self.slot
        Task { [client, location] in
            let sha = body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
            do {
                let etag = try await client.uploadPart(
                    bucket: location.bucket, key: key, uploadId: uploadId, partNumber: number, body: body, sha256: sha)
                try self.record(
                    key: key, UploadState.Part(number: number, etag: etag, size: body.readableBytes, sha256: sha))
            } catch let error as S3Error {
                self.failure.withLock { $0 = $0 ?? error }
            } catch {
                self.failure.withLock { $0 = $0 ?? S3Error.configuration("\(error)") }
            }
            slot.signal()
        }
    }

    /// Waits for the part in flight; throws its failure.
    func drain() throws(ExportError) {
        slot.wait()
        slot.signal()
        if let failure = failure.withLock({ $0 }) { throw ExportError("upload failed: \(failure)") }
    }

    func reuse(key: String, _ part: UploadState.Part) throws(ExportError) {
        partsReused += 1
        try record(key: key, part)
    }

    func record(key: String, _ part: UploadState.Part) throws(ExportError) {
        try withState { s in
            s.update(key) { o in
                o.parts.removeAll { $0.number == part.number }
                o.parts.append(part)
                o.parts.sort { $0.number < $1.number }
            }
        }
    }

    func complete(key: String, uploadId: String, parts: [S3Client.Part], size: Int) throws(ExportError) -> String {
        let etag = try blocking { [client, location] in
            try await client.completeMultipartUpload(
                bucket: location.bucket, key: key, uploadId: uploadId, parts: parts)
        }
        try withState { s in
            s.update(key) { o in
                o.complete = true
                o.etag = etag
                o.size = size
                o.parts.removeAll { $0.number > parts.count }
            }
        }
        finishedKeys.insert(key)
        return etag
    }

    /// Confirms that an object the interrupted run completed is still there, as recorded.
    func confirm(_ previous: UploadState.Object) throws(ExportError) -> String {
        let head = try blocking { [client, location] in
            try await client.headObject(bucket: location.bucket, key: previous.key)
        }
        guard let head, head.size == previous.size, previous.etag.map({ $0 == head.etag }) ?? true else {
            throw ExportError(
                "s3://\(location.bucket)/\(previous.key): the interrupted export completed it, but it is gone or changed; run the export with --abort and start again"
            )
        }
        finishedKeys.insert(previous.key)
        return head.etag
    }

    private func withState(_ change: (inout UploadState) -> Void) throws(ExportError) {
        let result: Result<Void, ExportError> = state.withLock { s in
            change(&s)
            do throws(ExportError) { try s.save(path: statePath) } catch { return .failure(error) }
            return .success(())
        }
        try result.get()
    }

    private func saveState() throws(ExportError) { try withState { _ in } }

    /// Runs `operation` on the concurrency pool and waits for it on this (non-pool) thread.
    func blocking<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws(ExportError) -> T {
        let box = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            box.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        switch box.withLock({ $0 })! {
        case .success(let value): return value
        case .failure(let error): throw ExportError("upload failed: \(error)")
        }
    }
}
