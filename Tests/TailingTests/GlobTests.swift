import Tailing
import Testing

@Suite struct GlobTests {
    static let table: [(pattern: String, path: String, matches: Bool)] = [
        ("*.log", "a.log", true),
        ("*.log", ".log", false),
        ("*.log", "a.txt", false),
        ("*.log", "dir/a.log", false),  // `*` stays within one segment
        ("*.log", ".hidden.log", false),  // a leading dot is matched only literally
        (".*.log", ".hidden.log", true),
        ("*", "anything", true),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "abc", true),
        ("a*b*c", "aXXbYY", false),
        ("*x*", "xx", true),
        ("a?.log", "ab.log", true),
        ("a?.log", "a.log", false),
        ("a?.log", "abc.log", false),
        ("[ab].log", "b.log", true),
        ("[ab].log", "c.log", false),
        ("[!ab].log", "c.log", true),
        ("[!ab].log", "a.log", false),
        ("[^ab].log", "a.log", false),
        ("app-[0-9].log", "app-7.log", true),
        ("app-[0-9].log", "app-x.log", false),
        ("[]]x", "]x", true),  // `]` first in a class is literal
        ("[a-]x", "-x", true),  // so is `-` last
        ("[ab", "[ab", true),  // unterminated class: `[` is literal
        ("/var/log/*.jsonl", "/var/log/app.jsonl", true),
        ("/var/log/*.jsonl", "/var/log/sub/app.jsonl", false),
        ("/var/log/**/*.jsonl", "/var/log/app.jsonl", true),  // `**` as zero directories
        ("/var/log/**/*.jsonl", "/var/log/a/app.jsonl", true),
        ("/var/log/**/*.jsonl", "/var/log/a/b/c/app.jsonl", true),
        ("/var/log/**/*.jsonl", "/var/other/app.jsonl", false),
        ("/var/**/x/*.log", "/var/a/b/x/y.log", true),
        ("/var/**/x/*.log", "/var/a/b/y.log", false),
        ("/var/**/x/**/*.log", "/var/x/y.log", true),
        ("/var/log/app.log", "/var/log/app.log", true),  // literal
        ("/var/log/app.log", "/var/log/app.log.1", false),
        ("/var/log/app.log", "/var/log", false),
        ("/var//log/app.log", "/var/log/app.log", true),  // empty segments are ignored
        ("logs/*.log", "logs/a.log", true),
        ("/srv/*/current/*.log", "/srv/api/current/out.log", true),
        ("/srv/*/current/*.log", "/srv/api/old/out.log", false),
    ]

    @Test(arguments: table)
    func matching(_ row: (pattern: String, path: String, matches: Bool)) {
        #expect(Glob(row.pattern).matches(row.path) == row.matches, "\(row.pattern) vs \(row.path)")
    }

    @Test(arguments: [
        ("/var/log/**/*.jsonl", "/var/log"),
        ("/var/log/app.log", "/var/log"),
        ("/var/log/app-*.log", "/var/log"),
        ("/*.log", "/"),
        ("*.log", "."),
        ("logs/*.log", "logs"),
        ("/srv/*/current/*.log", "/srv"),
    ])
    func baseDirectory(_ pattern: String, _ base: String) {
        #expect(Glob(pattern).baseDirectory == base)
    }

    // MARK: - Expansion on real directories

    /// root/{a.log, b.txt, .hidden.log, dir.log/, sub/c.log, sub/deeper/d.log, .git/e.log}
    func tree() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try dir.write("root/a.log", "a\n")
        try dir.write("root/b.txt", "b\n")
        try dir.write("root/.hidden.log", "h\n")
        try dir.makeDirectory("root/dir.log")
        try dir.write("root/sub/c.log", "c\n")
        try dir.write("root/sub/deeper/d.log", "d\n")
        try dir.write("root/.git/e.log", "e\n")
        return dir
    }

    @Test func starExpandsOneLevelAndOnlyRegularFiles() throws {
        let dir = try tree()
        #expect(Glob(dir.url("root/*.log")).expand() == [dir.url("root/a.log")])
        #expect(Glob(dir.url("root/*")).expand() == [dir.url("root/a.log"), dir.url("root/b.txt")])
        #expect(Glob(dir.url("root/.*.log")).expand() == [dir.url("root/.hidden.log")])
    }

    @Test func recursiveExpansionSkipsHiddenDirectories() throws {
        let dir = try tree()
        #expect(
            Glob(dir.url("root/**/*.log")).expand() == [
                dir.url("root/a.log"), dir.url("root/sub/c.log"), dir.url("root/sub/deeper/d.log"),
            ])
        #expect(Glob(dir.url("root/**/d.log")).expand() == [dir.url("root/sub/deeper/d.log")])
        #expect(Glob(dir.url("root/*/*/*.log")).expand() == [dir.url("root/sub/deeper/d.log")])
        #expect(Glob(dir.url("root/**/deeper/**/*.log")).expand() == [dir.url("root/sub/deeper/d.log")])
    }

    @Test func literalPaths() throws {
        let dir = try tree()
        #expect(Glob(dir.url("root/sub/c.log")).expand() == [dir.url("root/sub/c.log")])
        #expect(Glob(dir.url("root/sub/missing.log")).expand().isEmpty)
        #expect(Glob(dir.url("root/dir.log")).expand().isEmpty)  // a directory is not a log file
        #expect(Glob(dir.url("nowhere/**/*.log")).expand().isEmpty)
    }

    @Test func expansionAgreesWithMatching() throws {
        let dir = try tree()
        for pattern in ["root/**/*.log", "root/*/c.log", "root/s?b/*.log", "root/[a-b].*"] {
            let glob = Glob(dir.url(pattern))
            let found = glob.expand()
            #expect(!found.isEmpty, "\(pattern)")
            for path in found { #expect(glob.matches(path), "\(pattern) found \(path)") }
        }
    }

    @Test func followsSymlinkedDirectoriesAndFiles() throws {
        let dir = try tree()
        try dir.write("elsewhere/real/f.log", "f\n")
        try dir.symlink("root/linked", to: dir.url("elsewhere/real"))
        try dir.symlink("root/alias.log", to: dir.url("elsewhere/real/f.log"))
        try dir.symlink("root/dangling.log", to: dir.url("elsewhere/missing.log"))
        #expect(
            Glob(dir.url("root/**/*.log")).expand() == [
                dir.url("root/a.log"), dir.url("root/alias.log"), dir.url("root/linked/f.log"),
                dir.url("root/sub/c.log"),
                dir.url("root/sub/deeper/d.log"),
            ])
        #expect(Glob(dir.url("root/linked/*.log")).expand() == [dir.url("root/linked/f.log")])
    }

    @Test func symlinkLoopsEndAndReportEachFileOnce() throws {
        let dir = try tree()
        try dir.symlink("root/loop", to: dir.url("root"))  // root/loop -> root
        try dir.symlink("root/sub/deeper/up", to: "../..")  // relative link back to root
        let found = Glob(dir.url("root/**/*.log")).expand()
        #expect(found == [dir.url("root/a.log"), dir.url("root/sub/c.log"), dir.url("root/sub/deeper/d.log")])
    }

    @Test func mutualSymlinkLoopEnds() throws {
        let dir = try TemporaryDirectory()
        try dir.write("root/x/one.log", "1\n")
        try dir.write("root/y/two.log", "2\n")
        try dir.symlink("root/x/to-y", to: "../y")
        try dir.symlink("root/y/to-x", to: "../x")
        let found = Glob(dir.url("root/**/*.log")).expand()
        #expect(Set(found.map { ($0 as String).split(separator: "/").last! }) == ["one.log", "two.log"])
        #expect(found.count == 2)  // each directory walked once, whichever path reached it first
        #expect(found == Glob(dir.url("root/**/*.log")).expand())  // and the same paths every time
    }
}
