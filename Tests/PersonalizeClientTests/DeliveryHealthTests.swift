import Foundation
import Logging
import PersonalizeModel
import TestSupport
import Testing

@testable import PersonalizeClient

/// Attempt-level counters, warnings and the signature hint.
@Suite struct DeliveryHealthTests {
    @Test func countsEveryAttemptAsItHappens() async throws {
        let standIn = try await PersonalizeStandIn.start()
        standIn.setFaults(Faults(script: [.internalFailure, .throttle, .drop, .pass]))
        let client = ClientTests.client(standIn)
        let result = await client.send(ClientTests.events(["a"]))
        if case .accepted = result.outcome {} else { Issue.record("\(result.outcome)") }
        let s = client.health.snapshot
        #expect(s.totalAttempts == 4)
        #expect(s.retries == 3)
        #expect(s.throttles == 1)
        #expect(s.connectionErrors == 1)
        #expect(s.attempts["PutEvents"] == ["failed": 1, "throttled": 1, "connection_error": 1, "accepted": 1])
        #expect(s.lastError?.hasPrefix("connection error") == true, "\(s)")
        #expect(s.latencyBuckets.reduce(0, +) == 4)
        #expect(s.failingSince == nil)
        try await client.shutdown()
        try await standIn.shutdown()
    }

    @Test func warningsAreRateLimitedAndCountWhatWasHeldBack() {
        let health = DeliveryHealth(warningInterval: 10)
        #expect(health.warningDue(at: 100) == 0)
        #expect(health.warningDue(at: 101) == nil)
        #expect(health.warningDue(at: 105) == nil)
        #expect(health.warningDue(at: 110) == 2)
        #expect(health.warningDue(at: 111) == nil)
    }

    @Test func signatureHintFollowsTheServicesMessage() {
        let region = PersonalizeEventsClient.signatureHint(
            "Credential should be scoped to a valid region, not 'us-east1'. ", key: "")
        #expect(region.contains("aws.region"))
        #expect(region.contains("'us-east1'"))
        #expect(!region.contains("secret"))
        let mismatch = PersonalizeEventsClient.signatureHint(
            "The request signature we calculated does not match the signature you provided.",
            key: " (access key id AKID)")
        #expect(mismatch.contains("secret access key does not match"))
        let clock = PersonalizeEventsClient.signatureHint(
            "Signature expired: 20261201T000000Z is now earlier than ...", key: "")
        #expect(clock.contains("clock"))
    }
}
