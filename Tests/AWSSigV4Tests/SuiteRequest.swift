import Foundation

/// A request parsed from the signing test suite's `request.txt`: an HTTP/1.1 request as text.
///
/// The target may contain spaces (`GET /example space/ HTTP/1.1`), so method and version are taken
/// from the ends of the request line. Header lines starting with whitespace continue the previous
/// value (obsolete line folding), kept with their line break so the signer's whitespace collapsing
/// is what gets tested.
struct SuiteRequest {
    var method: String
    var path: String
    var query: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    init(parsing text: String) throws {
        struct Malformed: Error { var reason: String }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        guard !lines.isEmpty else { throw Malformed(reason: "empty request") }
        let requestLine = lines.removeFirst()
        guard let firstSpace = requestLine.firstIndex(of: " "), let lastSpace = requestLine.lastIndex(of: " "),
            firstSpace < lastSpace
        else { throw Malformed(reason: "bad request line: \(requestLine)") }
        method = String(requestLine[..<firstSpace])
        let target = requestLine[requestLine.index(after: firstSpace)..<lastSpace]
        if let question = target.firstIndex(of: "?") {
            path = String(target[..<question])
            query = String(target[target.index(after: question)...])
        } else {
            path = String(target)
            query = ""
        }

        headers = []
        var bodyStart: Int?
        for (index, line) in lines.enumerated() {
            if line.isEmpty {
                bodyStart = index + 1
                break
            }
            if line.first == " " || line.first == "\t" {
                guard !headers.isEmpty else { throw Malformed(reason: "continuation before any header") }
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw Malformed(reason: "bad header: \(line)") }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        body = bodyStart.map { Array(lines[$0...].joined(separator: "\n").utf8) } ?? []
    }
}

/// `context.json` of one suite case.
struct SuiteContext: Decodable {
    struct Credentials: Decodable {
        var accessKeyId: String
        var secretAccessKey: String
        var token: String?

        enum CodingKeys: String, CodingKey {
            case accessKeyId = "access_key_id"
            case secretAccessKey = "secret_access_key"
            case token
        }
    }

    var credentials: Credentials
    var normalize: Bool
    var region: String
    var service: String
    var signBody: Bool
    var timestamp: String
    var omitSessionToken: Bool?

    enum CodingKeys: String, CodingKey {
        case credentials, normalize, region, service, timestamp
        case signBody = "sign_body"
        case omitSessionToken = "omit_session_token"
    }
}
