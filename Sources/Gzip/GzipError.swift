/// The one error type of the `Gzip` module.
///
/// Every failure carries the absolute offset in the compressed stream where it was detected, so a reader can say
/// how much of a file was good, and a `message` that says what happened and what the user can do about it.
public struct GzipError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong. A struct with static members (not an enum) so kinds can be added without breaking callers.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: Hashable, Sendable {
            case badHeader, corruptData, checksumMismatch, truncated, trailingGarbage, outOfMemory
        }
        private let code: Code

        /// The stream does not start with a valid gzip header: the input is not gzip at all, or uses an unknown method.
        public static let badHeader = Kind(code: .badHeader)
        /// The deflate data inside a member is damaged.
        public static let corruptData = Kind(code: .corruptData)
        /// A member's CRC-32 or length trailer does not match what was decompressed: the data was altered.
        public static let checksumMismatch = Kind(code: .checksumMismatch)
        /// The input ended inside a member: the archive was cut or is still being written.
        public static let truncated = Kind(code: .truncated)
        /// Bytes that are neither a gzip member nor zero padding follow a complete member.
        public static let trailingGarbage = Kind(code: .trailingGarbage)
        /// zlib could not allocate its state.
        public static let outOfMemory = Kind(code: .outOfMemory)

        public var description: String {
            switch code {
            case .badHeader: "badHeader"
            case .corruptData: "corruptData"
            case .checksumMismatch: "checksumMismatch"
            case .truncated: "truncated"
            case .trailingGarbage: "trailingGarbage"
            case .outOfMemory: "outOfMemory"
            }
        }
    }

    public var kind: Kind
    /// Absolute offset in the compressed stream (counting from the first byte ever fed) where the problem was seen.
    /// zlib notices damage only when the data stops making sense, so this is at or after the damaged byte.
    public var compressedOffset: UInt64
    /// What happened and what to do next, in words for the person running the agent.
    public var message: String

    public init(kind: Kind, compressedOffset: UInt64, message: String) {
        self.kind = kind
        self.compressedOffset = compressedOffset
        self.message = message
    }

    public var description: String {
        "gzip \(kind) at compressed offset \(compressedOffset): \(message)"
    }
}

// MARK: - Constructors

extension GzipError {
    static func badHeader(at offset: UInt64, detail: String) -> GzipError {
        GzipError(
            kind: .badHeader, compressedOffset: offset,
            message: "not a valid gzip header (\(detail)); check that the file really is gzip-compressed, "
                + "or stop matching it as a .gz source"
        )
    }

    static func corruptData(at offset: UInt64, member: Int, detail: String) -> GzipError {
        GzipError(
            kind: .corruptData, compressedOffset: offset,
            message: "compressed data of member \(member + 1) is damaged (\(detail)); the data before this point "
                + "was delivered, nothing after it can be read; restore the file from a good copy or skip it"
        )
    }

    static func checksumMismatch(at offset: UInt64, member: Int, detail: String) -> GzipError {
        GzipError(
            kind: .checksumMismatch, compressedOffset: offset,
            message: "member \(member + 1) decompressed, but its trailer does not match (\(detail)), so its data "
                + "was altered; treat the lines of this member as suspect and restore the file from a good copy"
        )
    }

    static func truncated(at offset: UInt64, member: Int) -> GzipError {
        GzipError(
            kind: .truncated, compressedOffset: offset,
            message: "the stream ends inside member \(member + 1): the file was cut short or is still being "
                + "written; wait until the writer closes it, or accept that its last part is lost"
        )
    }

    static func trailingGarbage(at offset: UInt64, members: Int) -> GzipError {
        GzipError(
            kind: .trailingGarbage, compressedOffset: offset,
            message: "data that is not gzip follows \(members > 0 ? "the \(members)" : "the last") complete member(s); "
                + "everything before it was "
                + "delivered; something appended to the archive: check the tool that writes it"
        )
    }

    static func outOfMemory(at offset: UInt64) -> GzipError {
        GzipError(
            kind: .outOfMemory, compressedOffset: offset,
            message: "zlib could not allocate memory; free memory or lower the number of files read at once"
        )
    }
}
