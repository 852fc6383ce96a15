import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A strict reader of the Prometheus text format 0.0.4, written from the format's description rather than from the
/// renderer: it rejects anything the renderer should never produce.
enum PromText {
    struct Invalid: Error, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    /// Every sample, keyed by `name{label="value",...}` with label values escaped again (see ``quote(_:)``).
    static func parse(_ text: String) throws -> [String: Double] {
        guard text.hasSuffix("\n") else { throw Invalid(line: 0, message: "does not end with a newline") }
        var samples: [String: Double] = [:]
        var help = Set<String>()
        var types: [String: String] = [:]
        var closed = Set<String>()
        var current: (name: String, type: String)?
        var bucketValues: [Double] = []
        var lastLe = ""
        for (index, raw) in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = index + 1
            let line = String(raw)
            func fail(_ message: String) -> Invalid { Invalid(line: n, message: "\(message): \(line)") }
            if line.isEmpty { throw fail("empty line") }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 4, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else {
                    throw fail("not a HELP or TYPE line")
                }
                let name = parts[2]
                guard isMetricName(name) else { throw fail("bad metric name") }
                if closed.contains(name) || samplesSeen(name, in: samples) { throw fail("metadata after samples") }
                if parts[1] == "HELP" {
                    guard help.insert(name).inserted else { throw fail("second HELP") }
                } else {
                    guard types[name] == nil else { throw fail("second TYPE") }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw fail("unknown type")
                    }
                    if parts[3] == "counter" && !name.hasSuffix("_total") { throw fail("counter without _total") }
                    types[name] = parts[3]
                    if let current { closed.insert(current.name) }
                    current = (name, parts[3])
                    bucketValues = []
                    lastLe = ""
                }
                continue
            }
            // A sample: name, optional labels, one space, value (no timestamps are expected).
            var rest = Substring(line)
            let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
            rest = rest.dropFirst(name.count)
            guard isMetricName(name) else { throw fail("bad metric name") }
            var labels: [(String, String)] = []
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let label = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                    guard !label.isEmpty, !(label.first!.isNumber), !label.hasPrefix("__") else {
                        throw fail("bad label name")
                    }
                    rest = rest.dropFirst(label.count)
                    guard rest.hasPrefix("=\"") else { throw fail("expected =\"") }
                    rest = rest.dropFirst(2)
                    var value = ""
                    while true {
                        guard let c = rest.first else { throw fail("unterminated label value") }
                        rest = rest.dropFirst()
                        if c == "\"" { break }
                        if c == "\\" {
                            switch rest.first {
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            case "n": value.append("\n")
                            default: throw fail("bad escape")
                            }
                            rest = rest.dropFirst()
                        } else {
                            value.append(c)
                        }
                    }
                    if labels.contains(where: { $0.0 == label }) { throw fail("repeated label") }
                    labels.append((label, value))
                    if rest.first == "," {
                        rest = rest.dropFirst()
                    } else if rest.first != "}" {
                        throw fail("expected , or }")
                    }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " " else { throw fail("expected one space before the value") }
            let valueText = String(rest.dropFirst())
            guard let value = parseValue(valueText) else { throw fail("bad value") }
            guard let family = current else { throw fail("sample before any TYPE") }
            guard help.contains(family.name) else { throw fail("family without HELP") }
            switch family.type {
            case "histogram":
                if name == family.name + "_bucket" {
                    guard let le = labels.first(where: { $0.0 == "le" })?.1, parseValue(le) != nil else {
                        throw fail("bucket without le")
                    }
                    if let last = bucketValues.last, value < last { throw fail("buckets not cumulative") }
                    bucketValues.append(value)
                    lastLe = le
                } else if name == family.name + "_count" {
                    guard lastLe == "+Inf", bucketValues.last == value else {
                        throw fail("_count differs from the +Inf bucket")
                    }
                } else if name != family.name + "_sum" {
                    throw fail("sample outside its family \(family.name)")
                }
            default:
                guard name == family.name else { throw fail("sample outside its family \(family.name)") }
                if family.type == "counter" && value < 0 { throw fail("negative counter") }
            }
            let key =
                name
                + (labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\(quote($0.1))" }.joined(separator: ",") + "}")
            guard samples.updateValue(value, forKey: key) == nil else { throw fail("duplicate series") }
        }
        for name in help where types[name] == nil { throw Invalid(line: 0, message: "\(name) has HELP but no TYPE") }
        return samples
    }

    /// A label value as it appears between the braces: quoted and escaped.
    static func quote(_ value: String) -> String {
        var out = "\""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || first == "_" || first == ":"
        else {
            return false
        }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":")
        }
    }

    static func parseValue(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty, text.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }) else { return nil }
            return Double(text)
        }
    }

    private static func samplesSeen(_ family: String, in samples: [String: Double]) -> Bool {
        samples.keys.contains { $0 == family || $0.hasPrefix(family + "{") }
    }

    /// Parses `text` with the reference parser (`prometheus_client`) when python3 has it, and checks that it sees
    /// the same samples; does nothing when it is not installed (`pip install prometheus-client`).
    static func checkWithPython(_ text: String) throws {
        let script = """
            import sys
            try:
                from prometheus_client.parser import text_string_to_metric_families
            except ImportError:
                print("unavailable"); sys.exit(0)
            n = 0
            for family in text_string_to_metric_families(sys.stdin.read()):
                n += len(family.samples)
            print(n)
            """
        guard
            let out = try? ChildProcess.runBlocking(
                ["/usr/bin/env", "python3", "-c", script], input: .bytes(Array(text.utf8)))
        else { return }
        let answer = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if answer == "unavailable" || out.status == 127 { return }
        guard out.status == 0 else {
            throw Invalid(line: 0, message: "prometheus_client rejected the exposition")
        }
        let ours = try parse(text).count
        guard Int(answer) == ours else {
            throw Invalid(line: 0, message: "prometheus_client saw \(answer) samples, the strict parser \(ours)")
        }
    }
}

/// A tiny blocking HTTP/1.1 client for 127.0.0.1 (`Connection: close`), enough to scrape the endpoint.
enum HTTP {
    struct Response {
        var status: Int
        /// Lower-cased names.
        var headers: [String: String]
        var body: String
    }

    /// nil when nothing listens on the port (or the answer is not HTTP).
    static func get(port: Int, _ path: String, method: String = "GET") -> Response? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        let request = Array(
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let headLines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = headLines[0].split(separator: " ")
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            return nil
        }
        var headers: [String: String] = [:]
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}
