/// Facts about the gzip file format (RFC 1952) that callers need without decompressing anything.
public enum GzipFormat {
    /// The two bytes every gzip member starts with.
    public static let magic: (UInt8, UInt8) = (0x1f, 0x8b)

    /// Whether `prefix` starts with the gzip magic `1f 8b`, so a reader can pick gunzip by content, not file name.
    /// A prefix shorter than two bytes is not enough to tell, and answers `false`.
    public static func hasGzipMagic(_ prefix: some Collection<UInt8>) -> Bool {
        var bytes = prefix.makeIterator()
        return bytes.next() == magic.0 && bytes.next() == magic.1
    }
}
