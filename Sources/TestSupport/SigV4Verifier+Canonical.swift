import Crypto
import NIOCore
import NIOHTTP1

extension SigV4Verifier {
    /// The canonical request rebuilt from what was received: method, double-encoded path, sorted query,
    /// signed headers (values trimmed, inner space runs collapsed, repeats joined by `,`), the signed header
    /// list, and the hex SHA-256 of the body actually received.
    static func canonicalRequest(
        method: String, uri: String, headers: HTTPHeaders, signedHeaders: [String], body: ByteBuffer
    ) -> String {
        let (path, query) = splitURI(uri)
        var out = method
        out += "\n"
        out += canonicalPath(path)
        out += "\n"
        out += canonicalQuery(query)
        out += "\n"
        for name in signedHeaders {
            out += name
            out += ":"
            out += headers[name].map(canonicalHeaderValue).joined(separator: ",")
            out += "\n"
        }
        out += "\n"
        out += signedHeaders.joined(separator: ";")
        out += "\n"
        out += body.withUnsafeReadableBytes { Hex.encode(SHA256.hash(data: $0)) }
        return out
    }

    static func splitURI(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    /// Non-S3 services encode each segment of the already-encoded path once more.
    static func canonicalPath(_ path: Substring) -> String {
        if path.isEmpty { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode($0.utf8) }
            .joined(separator: "/")
    }

    static func canonicalQuery(_ query: Substring) -> String {
        if query.isEmpty { return "" }
        let pairs = query.split(separator: "&").map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = uriEncode(percentDecode(parts[0]))
            let value = parts.count > 1 ? uriEncode(percentDecode(parts[1])) : ""
            return (name, value)
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    static func canonicalHeaderValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for scalar in value.unicodeScalars {
            if scalar == " " || scalar == "\t" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.unicodeScalars.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }

    static func uriEncode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(Hex.upper[Int(byte >> 4)])
                out.append(Hex.upper[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func percentDecode(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = Hex.value(bytes[index + 1]), let low = Hex.value(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index] == UInt8(ascii: "+") ? UInt8(ascii: " ") : bytes[index])
                index += 1
            }
        }
        return out
    }
}

/// The parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header.
struct AuthorizationHeader: Sendable, Hashable {
    var accessKeyId: String
    var date: String
    var region: String
    var service: String
    var terminator: String
    var signedHeaders: [String]
    var signature: String

    static func parse(_ header: String) -> Result<AuthorizationHeader, ServiceError> {
        let trimmed = header.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " ") else {
            return .failure(.incompleteSignature("Authorization header '\(header)' has no parameters."))
        }
        let algorithm = trimmed[..<space]
        guard algorithm == "AWS4-HMAC-SHA256" else {
            return .failure(.incompleteSignature("Unsupported AWS 'algorithm': '\(algorithm)'."))
        }
        var parameters: [Substring: Substring] = [:]
        for item in trimmed[space...].split(separator: ",") {
            let pair = item.trimmingSpaces.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if pair.count == 2 { parameters[pair[0]] = pair[1] }
        }
        for name in ["Credential", "SignedHeaders", "Signature"] where parameters[Substring(name)] == nil {
            return .failure(
                .incompleteSignature("Authorization header requires '\(name)' parameter. Authorization=\(header)"))
        }
        let credential = parameters["Credential"]!.split(separator: "/", omittingEmptySubsequences: false)
        guard credential.count == 5, !credential[0].isEmpty else {
            return .failure(
                .incompleteSignature(
                    "Credential '\(parameters["Credential"]!)' must be "
                        + "<access key id>/<yyyyMMdd>/<region>/<service>/aws4_request."))
        }
        return .success(
            AuthorizationHeader(
                accessKeyId: String(credential[0]), date: String(credential[1]), region: String(credential[2]),
                service: String(credential[3]), terminator: String(credential[4]),
                signedHeaders: parameters["SignedHeaders"]!.split(separator: ";").map(String.init),
                signature: String(parameters["Signature"]!)))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
