import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The production path: the real binary as an unprivileged user (uid and gid 65534, no supplementary groups, no
/// capabilities at all, `no_new_privs`), as the systemd unit and the DaemonSet run it, over http and over https
/// with a certificate it verifies through `aws.caBundle`. Root-only mistakes (a socket option only root may set, a
/// file the agent makes that it cannot reopen) fail here rather than in a deployment. Needs root, to switch user,
/// and `setpriv` (util-linux).
@Suite struct UnprivilegedTests {
    static let setpriv = ChildProcess.setpriv
    static let nobody = ChildProcess.nobody
    static var asNobody: [String] { ChildProcess.asNobody }

    /// Whether `command` exits 0 when run through `asNobody`.
    static func succeedsAsNobody(_ command: [String]) throws -> Bool {
        try ChildProcess.runBlocking(command, wrapper: asNobody).status == 0
    }

    /// The built binary, or a copy of it in `dir` when `nobody` cannot reach it where it was built (a build tree
    /// under a directory closed to other users).
    static func binaryNobodyCanRun(copyingInto dir: TemporaryDirectory) throws -> String {
        let built = try AgentProcess.binary()
        if try succeedsAsNobody([built, "--version"]) { return built }
        let copy = dir.file("bin/personalize-tail")
        try FileManager.default.createDirectory(atPath: dir.file("bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: built, toPath: copy)
        try #require(
            try succeedsAsNobody([copy, "--version"]), "nobody cannot run \(built) even when copied to \(copy)")
        return copy
    }

    /// Hands the test's directory (logs, config, CA bundle, the state directory to be) to `nobody`.
    static func giveToNobody(_ path: String) throws {
        #expect(chown(path, nobody, nobody) == 0, "chown \(path)")
        let isDirectory =
            (try FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeDirectory
        guard isDirectory else { return }
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            try giveToNobody(path + "/" + name)
        }
    }

    @Test(
        .enabled(if: getuid() == 0, "needs root, to run the agent as another user"),
        .enabled(if: setpriv != nil, "needs setpriv (util-linux) to run the agent as another user"),
        arguments: ["http", "https"])
    func deliversEveryRecordAsAnUnprivilegedUser(scheme: String) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var configuration = PersonalizeStandIn.Configuration()
        var caBundle = ""
        if scheme == "https" {
            let pki = try TestCertificates(in: dir)
            let server = try pki.server("standin")
            configuration.tls = .init(certificateChainPath: server.certificate, privateKeyPath: server.key)
            caBundle = pki.caCertificate
        }
        let standIn = try await PersonalizeStandIn.start(configuration)
        #expect(standIn.endpoint.hasPrefix(scheme + "://"))

        let log = MixedLog(count: 3_000, seed: 14)
        try log.write(to: dir)
        _ = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        if scheme == "https" {
            // The CA is trusted through the configuration, as a deployment behind a private CA would.
            var text = try dir.read("config.json")
            text = text.replacingOccurrences(
                of: #""aws": {"region": "us-east-1","#,
                with: #""aws": {"region": "us-east-1", "caBundle": "\#(caBundle)","#)
            try #require(text.contains("caBundle"))
            try dir.write("config.json", text)
        }
        try Self.giveToNobody(dir.path)
        try #require(
            !(try Self.succeedsAsNobody(["/bin/cat", "/etc/shadow"])), "setpriv did not drop root's privileges")
        let binary = try Self.binaryNobodyCanRun(copyingInto: dir)

        let agent = try AgentProcess(
            arguments: ["run", "--once", "--config", dir.file("config.json"), "--log-level", "info"],
            logPath: dir.file("agent.log"), prefix: Self.asNobody, binary: binary)
        defer { agent.killIfRunning() }
        let status = try await agent.waitForExit(timeout: .seconds(60))
        try #require(status != nil, "the agent did not finish within 60 s as nobody over \(scheme): \(agent.log())")
        #expect(status == 3, "exit status (3: finished, some records dead-lettered): \(agent.log())")

        let records = standIn.acceptedRecords()
        let events = records.filter { $0.operation == .putEvents }.map(\.id)
        let items = records.filter { $0.operation == .putItems }.map(\.id)
        let users = records.filter { $0.operation == .putUsers }.map(\.id)
        #expect(events.count == log.eventIds.count && Set(events) == log.eventIds)
        #expect(items.count == log.itemIds.count && Set(items) == log.itemIds)
        #expect(users.count == log.userIds.count && Set(users) == log.userIds)
        #expect(standIn.stats.signatureFailures == 0)

        // What the agent wrote belongs to the user it ran as, private to it.
        var byKind: [String: Int] = [:]
        for letter in try Harness.deadLetters(dir) { byKind[letter["kind"] as! String, default: 0] += 1 }
        #expect(byKind == log.bad)
        for name in ["state/checkpoints.json", "state/dead-letter.jsonl"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: dir.file(name))
            #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == Self.nobody, "\(name) owner")
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(name) mode")
        }
        try await standIn.shutdown()
    }
}
