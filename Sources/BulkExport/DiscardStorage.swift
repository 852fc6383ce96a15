/// An export place that keeps nothing: `inspect` runs the whole export to learn what it would contain (counts,
/// rejections, training readiness) without writing a CSV file or uploading a byte.
public final class DiscardStorage: ExportStorage {
    public init() {}
    public func prepare() throws(ExportError) -> Bool { false }
    public func create(name: String, folder: String) throws(ExportError) -> any ExportSink { DiscardSink() }
    public var upload: ExportManifest.Upload? { nil }
    public func finish(manifest: [UInt8]) throws(ExportError) {}
    public func finished() {}
}

final class DiscardSink: ExportSink {
    private(set) var bytesWritten = 0
    func write(_ bytes: [UInt8]) throws(ExportError) { bytesWritten += bytes.count }
    func close() throws(ExportError) {}
    var stored: (key: String, etag: String)? { nil }
}
