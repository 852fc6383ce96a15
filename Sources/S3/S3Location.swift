/// `s3://bucket/prefix/`: where an export's objects go. The prefix is kept as written, with a trailing `/` added
/// when it names a folder, so that `s3://b/backfill` and `s3://b/backfill/` are the same place.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    public var bucket: String
    /// The key prefix, empty or ending in `/`.
    public var prefix: String

    public init(bucket: String, prefix: String) {
        self.bucket = bucket
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    /// Parses `s3://bucket[/prefix]`; throws with the fix when it is not one.
    public init(url: String) throws(S3Error) {
        guard url.hasPrefix("s3://") else {
            throw .configuration("\(url): not an S3 location; write it like s3://my-bucket/backfill/")
        }
        let rest = url.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        let prefix = rest.dropFirst(bucket.count).drop { $0 == "/" }
        guard S3Location.isValidBucket(String(bucket)) else {
            throw .configuration(
                "\(url): \"\(bucket)\" is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)")
        }
        self.init(bucket: String(bucket), prefix: String(prefix))
    }

    /// The key of `name` under the prefix.
    public func key(_ name: String) -> String { prefix + name }

    public var description: String { "s3://\(bucket)/\(prefix)" }

    /// S3's bucket naming rules (the general-purpose ones).
    public static func isValidBucket(_ name: String) -> Bool {
        guard (3...63).contains(name.count) else { return false }
        guard let first = name.first, let last = name.last,
            first.isASCII && (first.isLetter || first.isNumber), last.isASCII && (last.isLetter || last.isNumber)
        else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }
            && !name.contains("..")
    }
}
