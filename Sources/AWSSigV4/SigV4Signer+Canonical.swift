/// The canonical-request pieces of SigV4: URI, query string and headers, built as bytes.
///
/// All three follow botocore and AWS's signing test suite (`aws-c-auth`): the path is the one on the
/// wire, normalised and then percent-encoded once more ("double encoding" for non-S3 services); query
/// parameters are decoded, re-encoded and sorted; header names are lower-cased and sorted, values
/// trimmed with inner whitespace runs collapsed, and repeated headers joined with `,`.
extension SigV4Signer {
    /// Headers never signed because intermediaries may add or change them (botocore's list), plus the
    /// ones the signer sets itself.
    static let unsignableHeaders: Set<[UInt8]> = [
        Array("authorization".utf8), Array("expect".utf8), Array("user-agent".utf8),
        Array("x-amzn-trace-id".utf8), Array("transfer-encoding".utf8),
        Array("x-amz-date".utf8), Array("x-amz-security-token".utf8),
    ]
    static let contentSHA256Name = Array("x-amz-content-sha256".utf8)
    static let dateName = Array("x-amz-date".utf8)
    static let tokenName = Array("x-amz-security-token".utf8)

    /// The canonical request's first three lines: the method, the canonical URI and the canonical query.
    func appendRequestLines(method: String, path: String, query: String, to out: inout [UInt8]) {
        out.append(contentsOf: method.utf8)
        out.append(UInt8(ascii: "\n"))
        Self.appendCanonicalURI(path, normalize: options.normalizesPath, to: &out)
        out.append(UInt8(ascii: "\n"))
        Self.appendCanonicalQuery(query, to: &out)
        out.append(UInt8(ascii: "\n"))
    }

    /// The request's own headers that are signed, lower-cased and normalised (not yet sorted): without the
    /// unsignable ones and, when the signer adds it, without a caller's `x-amz-content-sha256`.
    func signableHeaders(_ headers: [(name: String, value: String)]) -> [CanonicalHeader] {
        var out: [CanonicalHeader] = []
        out.reserveCapacity(headers.count + 3)
        for header in headers {
            let name = Self.lowercasedName(header.name)
            if Self.unsignableHeaders.contains(name) { continue }
            if options.addsContentSHA256Header, name == Self.contentSHA256Name { continue }
            out.append(CanonicalHeader(name: name, value: Self.normalizedValue(header.value.utf8)))
        }
        return out
    }

    // MARK: - URI

    /// Appends the canonical URI of `path` (the request path as sent, without the query).
    static func appendCanonicalURI(_ path: String, normalize: Bool, to out: inout [UInt8]) {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty else {
            out.append(UInt8(ascii: "/"))
            return
        }
        if bytes.first != UInt8(ascii: "/") {
            out.append(UInt8(ascii: "/"))
        }
        guard normalize else {
            ByteEncoding.appendPercentEncoded(bytes, keepSlash: true, to: &out)
            return
        }
        // RFC 3986 dot-segment removal, plus the collapsing of empty segments AWS services expect.
        var kept: [ArraySlice<UInt8>] = []
        for segment in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if segment.count == 1, segment.first == UInt8(ascii: ".") { continue }
            if segment.count == 2, segment.allSatisfy({ $0 == UInt8(ascii: ".") }) {
                _ = kept.popLast()
                continue
            }
            kept.append(segment)
        }
        if bytes.first == UInt8(ascii: "/") {
            out.append(UInt8(ascii: "/"))
        }
        for (index, segment) in kept.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "/")) }
            ByteEncoding.appendPercentEncoded(segment, keepSlash: false, to: &out)
        }
        if !kept.isEmpty, bytes.last == UInt8(ascii: "/") {
            out.append(UInt8(ascii: "/"))
        }
    }

    // MARK: - Query

    /// Appends the canonical query string: each `key=value` decoded, re-encoded with the unreserved
    /// set, and sorted by key then value.
    static func appendCanonicalQuery(_ query: String, to out: inout [UInt8]) {
        var bytes = Substring(query).utf8[...]
        if bytes.first == UInt8(ascii: "?") { bytes = bytes.dropFirst() }
        guard !bytes.isEmpty else { return }
        var pairs: [(key: [UInt8], value: [UInt8])] = []
        for component in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = component.firstIndex(of: UInt8(ascii: "="))
            let rawKey = equals.map { component[component.startIndex..<$0] } ?? component[...]
            let rawValue = equals.map { component[component.index(after: $0)...] } ?? component[component.endIndex...]
            var key: [UInt8] = []
            var value: [UInt8] = []
            ByteEncoding.appendPercentEncoded(ByteEncoding.percentDecoded(rawKey), keepSlash: false, to: &key)
            ByteEncoding.appendPercentEncoded(ByteEncoding.percentDecoded(rawValue), keepSlash: false, to: &value)
            pairs.append((key, value))
        }
        pairs.sort { lhs, rhs in
            lhs.key == rhs.key
                ? lhs.value.lexicographicallyPrecedes(rhs.value) : lhs.key.lexicographicallyPrecedes(rhs.key)
        }
        for (index, pair) in pairs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "&")) }
            out.append(contentsOf: pair.key)
            out.append(UInt8(ascii: "="))
            out.append(contentsOf: pair.value)
        }
    }

    // MARK: - Headers

    /// A header as it enters the canonical request.
    struct CanonicalHeader {
        var name: [UInt8]
        var value: [UInt8]
    }

    /// Lower-cases names, normalises values and sorts by name, keeping the original order of
    /// repeated names (their values are joined in that order).
    static func canonicalHeaders(_ headers: [CanonicalHeader]) -> [CanonicalHeader] {
        headers.enumerated()
            .sorted { lhs, rhs in
                lhs.element.name == rhs.element.name
                    ? lhs.offset < rhs.offset : lhs.element.name.lexicographicallyPrecedes(rhs.element.name)
            }
            .map(\.element)
    }

    static func lowercasedName(_ name: String) -> [UInt8] {
        name.utf8.map { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
        }
    }

    /// Trims the value and collapses runs of spaces, tabs and line breaks (folded header lines) into
    /// one space.
    static func normalizedValue(_ value: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var pendingSpace = false
        for byte in value {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                pendingSpace = !out.isEmpty
            default:
                if pendingSpace { out.append(UInt8(ascii: " ")) }
                pendingSpace = false
                out.append(byte)
            }
        }
        return out
    }

    /// Appends `name:value\n` lines (repeated names joined with `,`) and returns the signed-headers
    /// list (`host;x-amz-date`).
    static func appendHeaderBlock(_ sorted: [CanonicalHeader], to out: inout [UInt8]) -> [UInt8] {
        var signedNames: [UInt8] = []
        var previous: [UInt8]? = nil
        for header in sorted {
            if header.name == previous {
                out.removeLast()  // the "\n" of the previous line
                out.append(UInt8(ascii: ","))
            } else {
                if previous != nil { signedNames.append(UInt8(ascii: ";")) }
                signedNames.append(contentsOf: header.name)
                out.append(contentsOf: header.name)
                out.append(UInt8(ascii: ":"))
            }
            out.append(contentsOf: header.value)
            out.append(UInt8(ascii: "\n"))
            previous = header.name
        }
        return signedNames
    }
}
