import Foundation

extension ExportManifest {
    public static let fileName = "manifest.json"
    public static let currentFormat = "personalize-bulk-csv"
    public static let currentVersion = 1

    /// Reads the `manifest.json` an export wrote, given its path or the export directory that holds it. The format
    /// lives here, next to the type that writes it: readers outside this module (the checkpoint hand-over) take
    /// the decoded values, never the JSON.
    public static func read(path: String) throws(ExportError) -> ExportManifest {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ExportError("\(path): no such file or directory (give the export directory or its manifest.json)")
        }
        let file = isDirectory.boolValue ? (path.hasSuffix("/") ? path : path + "/") + fileName : path
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ExportError(
                "\(file): cannot read it\(isDirectory.boolValue ? " (is this an export directory?)" : "")")
        }
        // The format and version first, so that another file gets a plain answer rather than a decoding error.
        struct Header: Decodable {
            var format: String?
            var version: Int?
        }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data) } catch {
            throw ExportError("\(file): not an export manifest (not a JSON object)")
        }
        guard header.format == currentFormat else {
            throw ExportError(
                "\(file): not an export manifest (format \(header.format.map { "\"\($0)\"" } ?? "missing"), expected \"\(currentFormat)\")"
            )
        }
        guard header.version == currentVersion else {
            throw ExportError(
                "\(file): manifest version \(header.version.map(String.init) ?? "missing"); this build reads version \(currentVersion)"
            )
        }
        do {
            return try JSONDecoder().decode(ExportManifest.self, from: data)
        } catch {
            throw ExportError("\(file): damaged export manifest (\(Self.describe(error)))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing \((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
