import AgentConfig
import Foundation
import Pipeline
import TestSupport
import Testing

@Suite struct RejectionTests {
    static func tenEvents(bad: Set<Int>) -> String {
        (0..<10).map { n in
            #"{"ts":1763900000,"kind":"event","id":"e-\#(n)\#(bad.contains(n) ? "-bad" : "")","user":"u","session":"s","action":"view","item":"i"}"#
        }.joined(separator: "\n") + "\n"
    }

    @Test func oneRejectedRecordInABatchOfTenLosesNoOther() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(rejectRecordIds: ["e-6-bad"]))
        try dir.write("logs/app.log", Self.tenEvents(bad: [6]))
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        let report = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(report.exitStatus == .deadLettered)
        #expect(Set(standIn.acceptedRecords().map(\.id)) == Set((0..<10).filter { $0 != 6 }.map { "e-\($0)" }))
        let letters = try Harness.deadLetters(dir)
        #expect(letters.count == 1)
        #expect(letters.first?["kind"] as? String == "rejected_by_service")
        #expect((letters.first?["reason"] as? String)?.contains("InvalidInputException") == true)
        #expect((letters.first?["line"] as? String)?.contains("e-6-bad") == true)
        // Narrowing: 1 request of 10, then halves down to the bad record.
        #expect(standIn.stats.accepted >= 2 && standIn.stats.rejected >= 2)
        try await standIn.shutdown()
    }

    @Test func fatalAnswerStopsTheRunWithoutMovingPastUnsentRecords() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(
            Faults(script: [.error(status: 404, code: "ResourceNotFoundException", message: "tracker not found")]))
        try dir.write("logs/app.log", Self.tenEvents(bad: []))
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        let report = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(report.exitStatus == .configuration)
        guard case .fatal(let message) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(message.contains("ResourceNotFoundException"))
        #expect(message.contains("trackingId"))
        #expect(message.contains("tracker-1"))
        // Nothing was acknowledged, so the next run sends all ten.
        let again = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(again.exitStatus == .delivered)
        #expect(standIn.acceptedRecords().count == 10)
        try await standIn.shutdown()
    }

    @Test func stormOfThrottlesAndDropsLosesNothing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(throttleFraction: 0.3, unavailableFraction: 0.05, dropFraction: 0.05, seed: 99))
        let log = MixedLog(count: 3000, seed: 3)
        try log.write(to: dir)
        var config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        // Random throttles are noise, not a quota: adapting to them would only stretch the test to the rate floor
        // (the adaptive limiter has its own tests).
        config.aws.adaptive = false
        let report = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(report.outcome == .completed)
        let ids = standIn.acceptedRecords().map(\.id)
        #expect(Set(ids) == log.eventIds.union(log.itemIds).union(log.userIds))
        #expect(report.stats.throttles > 0 && report.stats.retries > 0)
        try await standIn.shutdown()
    }

    @Test func secondAgentOnTheSameStateDirectoryIsRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("logs/app.log", "")
        let config = try Harness.config(dir: dir, endpoint: "http://127.0.0.1:1")
        try FileManager.default.createDirectory(atPath: config.state.directory, withIntermediateDirectories: true)
        // Hold the lock from another process.
        let holder = try LockHolder(directory: config.state.directory)
        defer { holder.kill() }
        await #expect {
            _ = try await Agent.run(
                config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet
            )
        } throws: { error in
            guard let e = error as? StartupError else { return false }
            return e.status == .locked && e.message.contains("pid \(holder.pid)")
        }
    }
}
