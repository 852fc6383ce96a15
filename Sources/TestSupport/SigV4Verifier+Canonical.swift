import Crypto
import NIOCore
import NIOHTTP1

extension SigV4Verifier {
    /// The canonical request rebuilt from what was received: method, double-encoded path, sorted query,
    /// signed headers (values trimmed, inner space runs collapsed, repeats joined by `,`), the signed header
    /// list, and the hex SHA-256 of the body actually received.
    static func canonicalRequest(
        method: String, uri: String, headers: HTTPHeaders, signedHeaders: [String], body: ByteBuffer
    ) -> [UInt8] {
        let (path, query) = splitURI(uri)
        let newline = UInt8(ascii: "\n")
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out += method.utf8
        out.append(newline)
        out += canonicalPath(path).utf8
        out.append(newline)
        out += canonicalQuery(query).utf8
        out.append(newline)
        for name in signedHeaders {
            out += name.utf8
            out.append(UInt8(ascii: ":"))
            var first = true
            for value in headers[name] {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out += canonicalHeaderValue(value).utf8
            }
            out.append(newline)
        }
        out.append(newline)
        for (index, name) in signedHeaders.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ";")) }
            out += name.utf8
        }
        out.append(newline)
        out += body.withUnsafeReadableBytes { Hex.encode(SHA256.hash(data: $0)) }.utf8
        return out
    }

    static func splitURI(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    /// Non-S3 services encode each segment of the already-encoded path once more.
    static func canonicalPath(_ path: Substring) -> String {
        if path.isEmpty { return "/" }
        if path.utf8.allSatisfy({ isUnreserved($0) || $0 == UInt8(ascii: "/") }) { return String(path) }
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
        if isCanonical(value.utf8) { return value }
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

    /// No leading, trailing or repeated spaces and no tabs: the common case, returned as is.
    private static func isCanonical(_ utf8: String.UTF8View) -> Bool {
        var previousSpace = true
        for byte in utf8 {
            if byte == UInt8(ascii: "\t") { return false }
            let space = byte == UInt8(ascii: " ")
            if space && previousSpace { return false }
            previousSpace = space
        }
        return !previousSpace || utf8.isEmpty
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
        let bytes = Array(header.utf8)
        var index = 0
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
        let algorithmStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: " ") { index += 1 }
        let algorithm = String(decoding: bytes[algorithmStart..<index], as: UTF8.self)
        guard index < bytes.count else {
            return .failure(.incompleteSignature("Authorization header '\(header)' has no parameters."))
        }
        guard algorithm == "AWS4-HMAC-SHA256" else {
            return .failure(.incompleteSignature("Unsupported AWS 'algorithm': '\(algorithm)'."))
        }
        var credential: [UInt8]?
        var signedHeaders: [UInt8]?
        var signature: [UInt8]?
        for item in bytes[index...].split(separator: UInt8(ascii: ",")) {
            let trimmed = item.drop { $0 == UInt8(ascii: " ") }
            guard let equals = trimmed.firstIndex(of: UInt8(ascii: "=")) else { continue }
            var value = Array(trimmed[(equals + 1)...])
            while value.last == UInt8(ascii: " ") { value.removeLast() }
            switch String(decoding: trimmed[..<equals], as: UTF8.self) {
            case "Credential": credential = value
            case "SignedHeaders": signedHeaders = value
            case "Signature": signature = value
            default: continue
            }
        }
        guard let credential, let signedHeaders, let signature else {
            let missing = credential == nil ? "Credential" : signedHeaders == nil ? "SignedHeaders" : "Signature"
            return .failure(
                .incompleteSignature("Authorization header requires '\(missing)' parameter. Authorization=\(header)"))
        }
        let scope = credential.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard scope.count == 5, !scope[0].isEmpty else {
            return .failure(
                .incompleteSignature(
                    "Credential '\(String(decoding: credential, as: UTF8.self))' must be "
                        + "<access key id>/<yyyyMMdd>/<region>/<service>/aws4_request."))
        }
        func text(_ slice: ArraySlice<UInt8>) -> String { String(decoding: slice, as: UTF8.self) }
        return .success(
            AuthorizationHeader(
                accessKeyId: text(scope[0]), date: text(scope[1]), region: text(scope[2]), service: text(scope[3]),
                terminator: text(scope[4]),
                signedHeaders: signedHeaders.split(separator: UInt8(ascii: ";")).map(text),
                signature: String(decoding: signature, as: UTF8.self)))
    }
}
