import CMemory

/// What `--version` and `personalize_tail_build_info` say about the binary.
public enum BuildInfo {
    public static var version: String { Version.current }
    /// The commit built from (`git rev-parse` when the package manifest was evaluated), or "unknown".
    public static let commit = String(cString: pt_build_commit())
    /// When the build compiled its C support file (the compiler's `__DATE__ __TIME__`).
    public static let date = String(cString: pt_build_date())
    /// The malloc in use (jemalloc when the build machine had it, else glibc's).
    public static let allocator = String(cString: pt_allocator_name())

    /// The architecture and system the binary was built for.
    public static var target: String {
        #if arch(x86_64)
            let arch = "x86_64"
        #elseif arch(arm64)
            let arch = "aarch64"
        #else
            let arch = "unknown"
        #endif
        #if os(Linux)
            return arch + "-unknown-linux-gnu"
        #elseif os(macOS)
            return arch + "-apple-macosx"
        #else
            return arch + "-unknown"
        #endif
    }

    /// The `--version` text: `0.1.0 (commit abc123, built ..., x86_64-unknown-linux-gnu, jemalloc)`.
    public static var versionLine: String {
        "\(version) (commit \(commit), built \(date), \(target), allocator \(allocator))"
    }
}

/// The release version, bumped when a release is tagged.
public enum Version {
    public static let current = "0.1.0"
}
