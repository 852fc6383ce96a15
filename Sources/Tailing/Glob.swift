#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A shell-style path pattern: `*` and `?` within one path segment, `[abc]` / `[!a-z]` classes, and `**` for any
/// number of directories (`/var/log/**/*.jsonl`).
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let segments: [Segment]
    private let absolute: Bool

    enum Segment: Sendable, Hashable {
        case literal(String)
        case wildcard([UInt8])
        case recursive
    }

    public init(_ pattern: String) {
        self.pattern = pattern
        absolute = pattern.hasPrefix("/")
        segments = pattern.split(separator: "/", omittingEmptySubsequences: true).map { part in
            if part == "**" { return .recursive }
            if part.contains(where: { "*?[".contains($0) }) { return .wildcard(Array(part.utf8)) }
            return .literal(String(part))
        }
    }

    public var description: String { pattern }

    /// The directory that holds every match: the literal prefix of the pattern.
    public var baseDirectory: String {
        var parts: [String] = []
        for segment in segments {
            guard case .literal(let s) = segment else { break }
            parts.append(s)
        }
        if parts.count == segments.count, !parts.isEmpty { parts.removeLast() }  // pattern names a file
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// Whether `path` (spelt like the pattern: absolute or relative) matches the whole pattern.
    public func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { Array($0.utf8) }
        return Self.match(segments[...], parts[...])
    }

    private static func match(_ pattern: ArraySlice<Segment>, _ path: ArraySlice<[UInt8]>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        switch first {
        case .recursive:
            var rest = path
            while true {
                if match(pattern.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case .literal(let s):
            guard let p = path.first, p.elementsEqual(s.utf8) else { return false }
            return match(pattern.dropFirst(), path.dropFirst())
        case .wildcard(let w):
            guard let p = path.first, wildcardMatch(w[...], p[...]) else { return false }
            return match(pattern.dropFirst(), path.dropFirst())
        }
    }

    /// Matches one segment with `*`, `?` and classes; a leading dot must be matched literally, as in shells.
    static func wildcardMatch(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        if name.first == UInt8(ascii: "."), pattern.first != UInt8(ascii: ".") { return false }
        return wild(pattern, name)
    }

    private static func wild(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex
        var n = name.startIndex
        var starP: Int? = nil
        var starN = 0
        while n < name.endIndex {
            if p < pattern.endIndex {
                let c = pattern[p]
                if c == UInt8(ascii: "*") {
                    starP = p
                    starN = n
                    p += 1
                    continue
                }
                if c == UInt8(ascii: "?") {
                    p += 1
                    n += 1
                    continue
                }
                if c == UInt8(ascii: "["), let (matched, next) = matchClass(pattern, p, name[n]) {
                    if matched {
                        p = next
                        n += 1
                        continue
                    }
                } else if c == name[n] {
                    p += 1
                    n += 1
                    continue
                }
            }
            guard let sp = starP else { return false }
            p = sp + 1
            starN += 1
            n = starN
        }
        while p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }

    /// Returns whether `byte` is in the class starting at `start` (`[`), and the index after the class.
    private static func matchClass(_ pattern: ArraySlice<UInt8>, _ start: Int, _ byte: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.endIndex, pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^") {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < pattern.endIndex {
            let c = pattern[i]
            if c == UInt8(ascii: "]"), !first { return (matched != negate, i + 1) }
            first = false
            if i + 2 < pattern.endIndex, pattern[i + 1] == UInt8(ascii: "-"), pattern[i + 2] != UInt8(ascii: "]") {
                if byte >= c && byte <= pattern[i + 2] { matched = true }
                i += 3
            } else {
                if byte == c { matched = true }
                i += 1
            }
        }
        return nil  // unterminated: treat '[' literally
    }

    // MARK: - Expansion

    /// Every existing regular file (following symbolic links, with loops cut) that matches the pattern.
    public func expand() -> [String] {
        var results: [String] = []
        var visited = Set<FileKey>()
        let start = absolute ? "/" : "."
        walk(segments[...], directory: start, display: absolute ? "" : nil, visited: &visited, results: &results)
        return results.sorted()
    }

    /// A directory walked for one `**` of the pattern (`stage` counts the segments left), so each `**` cuts its own
    /// loops without hiding a directory from a later `**`.
    struct FileKey: Hashable {
        var dev: UInt64
        var ino: UInt64
        var stage: Int
    }

    private func walk(
        _ rest: ArraySlice<Segment>, directory: String, display: String?, visited: inout Set<FileKey>,
        results: inout [String]
    ) {
        guard let first = rest.first else { return }
        func child(_ name: String) -> (fs: String, shown: String) {
            let fs = directory == "/" ? "/" + name : directory + "/" + name
            let shown = display.map { $0 + "/" + name } ?? name
            return (fs, shown)
        }
        switch first {
        case .literal(let name):
            let (fs, shown) = child(name)
            visit(rest.dropFirst(), fs: fs, shown: shown, visited: &visited, results: &results)
        case .wildcard(let w):
            for name in Self.list(directory) where Self.wildcardMatch(w[...], Array(name.utf8)[...]) {
                let (fs, shown) = child(name)
                visit(rest.dropFirst(), fs: fs, shown: shown, visited: &visited, results: &results)
            }
        case .recursive:
            // A directory already walked for this `**` (a symbolic link back up, or a second link to it) is cut
            // before it yields anything, so a loop neither repeats nor reports its files under a second path.
            guard let key = Self.key(directory, stage: rest.count), visited.insert(key).inserted else { return }
            // Zero directories...
            walk(rest.dropFirst(), directory: directory, display: display, visited: &visited, results: &results)
            // ...or one more, recursively (hidden directories are skipped, as shells do).
            for name in Self.list(directory) where !name.hasPrefix(".") {
                let (fs, shown) = child(name)
                if Self.isDirectory(fs) {
                    walk(rest, directory: fs, display: shown, visited: &visited, results: &results)
                }
            }
        }
    }

    private func visit(
        _ rest: ArraySlice<Segment>, fs: String, shown: String, visited: inout Set<FileKey>, results: inout [String]
    ) {
        var st = stat()
        guard stat(fs, &st) == 0 else { return }  // dangling link or vanished
        let isDir = (st.st_mode & S_IFMT) == S_IFDIR
        if rest.isEmpty {
            if (st.st_mode & S_IFMT) == S_IFREG { results.append(shown) }
        } else if isDir {
            walk(rest, directory: fs, display: shown, visited: &visited, results: &results)
        }
    }

    static func key(_ path: String, stage: Int) -> FileKey? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino), stage: stage)
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func list(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()  // readdir order varies; sorted, the path kept for a directory linked twice is stable
    }
}
