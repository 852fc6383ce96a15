import Foundation
import TestSupport

/// Reads CSV files with Python's `csv` module: an independent reader, so that quoting is checked against an
/// implementation that is not ours.
enum IndependentCSV {
    static let script = """
        import csv, json, os, sys
        d = sys.argv[1]
        out = {}
        for name in sorted(os.listdir(d)):
            if name.endswith('.csv'):
                with open(os.path.join(d, name), newline='', encoding='utf-8') as f:
                    out[name] = [row for row in csv.reader(f, strict=True)]
        json.dump(out, sys.stdout)
        """

    /// Every `.csv` file of `directory` by name, each as its rows (the header first).
    static func read(_ directory: String) throws -> [String: [[String]]] {
        let data = try run("/usr/bin/python3", ["-c", script, directory])
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: [[String]]] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return object
    }

    /// The data rows of the files whose names start with `prefix`, in file order, checking that every file starts
    /// with `header`.
    static func rows(_ files: [String: [[String]]], prefix: String, header: [String]) -> (
        rows: [[String]], headersOK: Bool
    ) {
        var rows: [[String]] = []
        var ok = true
        for name in files.keys.sorted() where name.hasPrefix(prefix + "-0") {
            let content = files[name]!
            if content.first != header { ok = false }
            rows += content.dropFirst()
        }
        return (rows, ok)
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String], stdin: Data? = nil) throws -> Data {
        let out = try ChildProcess.runBlocking([tool] + arguments, input: stdin.map { .bytes(Array($0)) } ?? .none)
        guard out.status == 0 else { throw CocoaError(.executableLoad) }
        return Data(out.stdoutBytes)
    }
}

extension TemporaryDirectory {
    /// Writes `text` gzipped by `/bin/gzip` (not by our zlib shim).
    @discardableResult
    func writeGzip(_ name: String, _ text: String) throws -> String {
        let data = try IndependentCSV.run("/bin/gzip", ["-c", "-n"], stdin: Data(text.utf8))
        return try write(name, Array(data))
    }
}
