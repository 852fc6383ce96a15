import Foundation  // String.compare(_:options: .numeric), the order every command has always used

/// The files that sources' globs name now: the one way `run`, `validate`/`status` and `export` find their input.
///
/// A source's `exclude` patterns without `/` match the file name, with `/` the whole path. A path named by two
/// sources belongs to the first (an excluded path stays free for a later source). Only regular files count (globs
/// follow symbolic links). ``files()`` orders paths with numbers compared by value (`app.2.gz` before `app.10.gz`),
/// so a backfill of numbered archives is read in their order.
public struct FileDiscovery: Sendable {
    /// One source's globs.
    public struct Source: Sendable {
        public var patterns: [String]
        public var exclude: [String]

        public init(patterns: [String], exclude: [String]) {
            self.patterns = patterns
            self.exclude = exclude
        }
    }

    private struct Compiled: Sendable {
        var patterns: [Glob]
        /// (matches the whole path, glob)
        var exclude: [(wholePath: Bool, glob: Glob)]
    }

    private let sources: [Compiled]

    public init(_ sources: [Source]) {
        self.sources = sources.map { source in
            Compiled(
                patterns: source.patterns.map(Glob.init),
                exclude: source.exclude.map { ($0.contains("/"), Glob($0)) })
        }
    }

    /// The paths pattern `pattern` of source `source` matches now, exclusions applied, in ``Glob/expand()``'s order
    /// (for reports that say which pattern matches nothing).
    public func paths(source: Int, pattern: Int) -> [String] {
        let compiled = sources[source]
        return compiled.patterns[pattern].expand().filter { !isExcluded($0, compiled) }
    }

    /// Every file of every source, each once, in numeric name order, with what `stat(2)` said when it was found.
    public func files() -> [FileTracker.Found] {
        var seen = Set<String>()
        var found: [FileTracker.Found] = []
        for (index, source) in sources.enumerated() {
            for pattern in source.patterns {
                for path in pattern.expand() where !seen.contains(path) && !isExcluded(path, source) {
                    guard let st = FileStat.of(path: path), st.isRegularFile else { continue }
                    seen.insert(path)
                    found.append(FileTracker.Found(path: path, stat: st, source: index))
                }
            }
        }
        found.sort { $0.path.compare($1.path, options: .numeric) == .orderedAscending }
        return found
    }

    private func isExcluded(_ path: String, _ source: Compiled) -> Bool {
        guard !source.exclude.isEmpty else { return false }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return source.exclude.contains { $0.wholePath ? $0.glob.matches(path) : $0.glob.matches(name) }
    }
}
