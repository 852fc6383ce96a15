import Foundation
import Tailing
import Testing

/// ``FileDiscovery``: what `run`, `validate`/`status` and `export` take as their files.
@Suite struct FileDiscoveryTests {
    @Test func filesAreInNumericNameOrderWithTheirStat() throws {
        let dir = try TemporaryDirectory()
        for name in ["app.log.10.gz", "app.log.2.gz", "app.log", "app.log.1"] { try dir.write("logs/" + name, "x\n") }
        let found = FileDiscovery([.init(patterns: [dir.url("logs/app.log*")], exclude: [])]).files()
        #expect(
            found.map(\.path)
                == ["app.log", "app.log.1", "app.log.2.gz", "app.log.10.gz"].map { dir.url("logs/" + $0) })
        #expect(found.allSatisfy { $0.source == 0 && $0.stat.isRegularFile && $0.stat.size == 2 })
        #expect(found[0].stat == FileStat.of(path: dir.url("logs/app.log")))
    }

    @Test func excludesMatchTheNameWithoutSlashAndThePathWithOne() throws {
        let dir = try TemporaryDirectory()
        try dir.write("logs/a.log", "a\n")
        try dir.write("logs/a.log.gz", "a\n")
        try dir.write("logs/old/b.log", "b\n")
        try dir.write("logs/new/b.log", "b\n")
        let byName = FileDiscovery([.init(patterns: [dir.url("logs/**/*")], exclude: ["*.gz"])])
        #expect(byName.files().map(\.path) == ["logs/a.log", "logs/new/b.log", "logs/old/b.log"].map(dir.url))
        let byPath = FileDiscovery([.init(patterns: [dir.url("logs/**/*.log")], exclude: [dir.url("logs/old/*")])])
        #expect(byPath.files().map(\.path) == ["logs/a.log", "logs/new/b.log"].map(dir.url))
        // A pattern with `/` does not match a bare name, and a name pattern does not match a directory part.
        let neither = FileDiscovery([.init(patterns: [dir.url("logs/**/*.log")], exclude: ["old/*", "old"])])
        #expect(neither.files().count == 3)
    }

    @Test func aFileNamedTwiceBelongsToTheFirstSourceUnlessItExcludesIt() throws {
        let dir = try TemporaryDirectory()
        try dir.write("logs/a.log", "a\n")
        try dir.write("logs/b.log", "b\n")
        let discovery = FileDiscovery([
            .init(patterns: [dir.url("logs/a.log"), dir.url("logs/*.log")], exclude: ["b.log"]),
            .init(patterns: [dir.url("logs/*.log")], exclude: []),
        ])
        let found = discovery.files()
        #expect(found.map(\.path) == [dir.url("logs/a.log"), dir.url("logs/b.log")])
        #expect(found.map(\.source) == [0, 1])
    }

    @Test func onlyRegularFilesFollowingLinks() throws {
        let dir = try TemporaryDirectory()
        try dir.write("logs/a.log", "a\n")
        try dir.makeDirectory("logs/dir.log")
        try dir.symlink("logs/link.log", to: dir.url("logs/a.log"))
        try dir.symlink("logs/dangling.log", to: dir.url("logs/missing"))
        let found = FileDiscovery([.init(patterns: [dir.url("logs/*.log")], exclude: [])]).files()
        #expect(found.map(\.path) == [dir.url("logs/a.log"), dir.url("logs/link.log")])
        #expect(found[0].stat.inode == found[1].stat.inode)
    }

    @Test func pathsPerPatternApplyTheExclusions() throws {
        let dir = try TemporaryDirectory()
        try dir.write("logs/a.log", "a\n")
        try dir.write("logs/a.log.gz", "a\n")
        let discovery = FileDiscovery([
            .init(patterns: [dir.url("logs/*.gz"), dir.url("logs/*")], exclude: ["*.gz"])
        ])
        #expect(discovery.paths(source: 0, pattern: 0).isEmpty)
        #expect(discovery.paths(source: 0, pattern: 1) == [dir.url("logs/a.log")])
    }
}
