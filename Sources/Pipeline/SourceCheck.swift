import AgentConfig
import Foundation
import Tailing

#if canImport(Glibc)
    import Glibc
#endif

/// What each source's globs match now, and why one matches nothing: checked at start-up (a warning), by `validate`
/// (which lists the files) and by `status`. A glob that matches nothing, or a directory the agent cannot read, would
/// otherwise give an agent that idles forever with `files=0` and exit status 0.
public struct SourceCheck: Sendable, Equatable {
    public var source: String
    /// The files the source's globs match now (exclusions applied), sorted.
    public var files: [String]
    /// Problems, each naming the key's JSON path (`sources[0].paths[1]: ...`).
    public var problems: [String]

    /// Checks every source of `config`.
    public static func check(_ config: AgentConfig) -> [SourceCheck] {
        config.sources.enumerated().map { check($0.element, index: $0.offset) }
    }

    static func check(_ source: SourceConfig, index: Int) -> SourceCheck {
        var files = Set<String>()
        var problems: [String] = []
        let discovery = FileDiscovery([source.discovery])
        for (j, pattern) in source.paths.enumerated() {
            let glob = Glob(pattern)
            let matched = discovery.paths(source: 0, pattern: j)
            files.formUnion(matched)
            if !matched.isEmpty { continue }
            let key = "sources[\(index)].paths[\(j)]"
            let base = glob.baseDirectory
            var st = stat()
            if stat(base, &st) != 0 {
                problems.append("\(key): \(pattern) matches no file: the directory \(base) does not exist")
            } else if access(base, R_OK | X_OK) != 0 {
                problems.append(
                    "\(key): \(pattern) matches no file: the directory \(base) cannot be read by uid \(getuid()) "
                        + "(grant read and execute permission, e.g. membership of the directory's group)")
            } else {
                problems.append("\(key): \(pattern) matches no file now (the agent picks files up when they appear)")
            }
        }
        let sorted = files.sorted()
        for file in sorted where access(file, R_OK) != 0 {
            problems.append("sources[\(index)]: \(file) cannot be read by uid \(getuid()) (permission denied)")
        }
        return SourceCheck(source: source.name, files: sorted, problems: problems)
    }
}
