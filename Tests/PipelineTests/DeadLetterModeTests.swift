import Foundation
import TestSupport
import Testing

@testable import Engine

/// The dead-letter file holds raw log lines: owner-only, also when it was there before with a wider mode.
@Suite struct DeadLetterModeTests {
    func mode(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! Int
    }

    @Test func anExistingWorldReadableFileIsTightenedAndAppendedTo() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("state/dead-letter.jsonl", "{\"earlier\":true}\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let writer = DeadLetterWriter(path: path)
        writer.append(
            DeadLetter(
                kind: .malformedJSON, reason: "not valid JSON", source: "app", path: "/l/app.log", offset: 7,
                mapping: nil, line: Array("{oops".utf8)))
        try writer.sync()
        #expect(try mode(path) == 0o600)
        let lines = try dir.read("state/dead-letter.jsonl").split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0] == "{\"earlier\":true}")
        #expect(lines[1].contains("\"kind\":\"malformed_json\""))
    }

    @Test func aNewFileIsOwnerOnly() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("state/dead-letter.jsonl")
        let writer = DeadLetterWriter(path: path)
        writer.append(
            DeadLetter(
                kind: .malformedJSON, reason: "not valid JSON", source: "app", path: "/l/app.log", offset: 0,
                mapping: nil, line: []))
        try writer.sync()
        #expect(try mode(path) == 0o600)
    }
}
