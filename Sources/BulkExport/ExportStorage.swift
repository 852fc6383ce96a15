/// Where an export's CSV files go instead of the output directory (S3). A protocol because the exporter writes
/// rows without knowing the place, and tests and `inspect` put other places behind it.
///
/// Its methods are called from the exporter's thread and may block (an upload waits for the part before).
public protocol ExportStorage: AnyObject {
    /// Checks the destination before anything is written; returns `true` when it resumes an interrupted export
    /// (whose `rejected.jsonl` the exporter then writes afresh).
    func prepare() throws(ExportError) -> Bool
    /// Opens the file `name` of the dataset folder `folder` (`interactions`, `items-dataset2`, ...).
    func create(name: String, folder: String) throws(ExportError) -> any ExportSink
    /// What the manifest records of the place.
    var upload: ExportManifest.Upload? { get }
    /// Stores the manifest once every file is complete: the last object of an export.
    func finish(manifest: [UInt8]) throws(ExportError)
    /// Called after `manifest.json` is on the local disk too: forget the resumption state.
    func finished()
}

/// One file being written: rows go in order, `close` makes it whole under its final name.
public protocol ExportSink: AnyObject {
    func write(_ bytes: [UInt8]) throws(ExportError)
    var bytesWritten: Int { get }
    func close() throws(ExportError)
    /// The object's key and ETag once closed, for a file stored away from the output directory.
    var stored: (key: String, etag: String)? { get }
}

extension FileSink {
    var stored: (key: String, etag: String)? { nil }
}
