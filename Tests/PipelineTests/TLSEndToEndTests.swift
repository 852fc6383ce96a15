import Foundation
import Pipeline
import TestSupport
import Testing

/// Whole runs over https into the stand-in serving TLS with a certificate from a CA made at test time: trusted
/// through `AWS_CA_BUNDLE` every record arrives once; untrusted the run stops at once with exit status 2 and a
/// message that names the host and `aws.caBundle`.
@Suite struct TLSEndToEndTests {
    @Test func everyRecordIsDeliveredOnceOverHTTPS() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try TestCertificates(in: dir)
        let cert = try pki.server("standin")
        let standIn = try await PersonalizeStandIn.start(
            .init(tls: .init(certificateChainPath: cert.certificate, privateKeyPath: cert.key)))
        #expect(standIn.endpoint.hasPrefix("https://"))
        let log = MixedLog(count: 3_000)
        try log.write(to: dir)
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)
        var environment = Harness.environment
        environment["AWS_CA_BUNDLE"] = pki.caCertificate

        let report = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: environment, logger: Harness.quiet)
        #expect(report.outcome == .completed)
        #expect(report.exitStatus == .deadLettered)
        let records = standIn.acceptedRecords()
        let events = records.filter { $0.operation == .putEvents }.map(\.id)
        let items = records.filter { $0.operation == .putItems }.map(\.id)
        let users = records.filter { $0.operation == .putUsers }.map(\.id)
        #expect(events.count == log.eventIds.count && Set(events) == log.eventIds)
        #expect(items.count == log.itemIds.count && Set(items) == log.itemIds)
        #expect(users.count == log.userIds.count && Set(users) == log.userIds)
        #expect(standIn.stats.signatureFailures == 0)
        #expect(report.stats.recordsSent == log.eventIds.count + log.itemIds.count + log.userIds.count)
        try await standIn.shutdown()
    }

    @Test func anUntrustedCertificateEndsTheRunWithStatus2() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pki = try TestCertificates(in: dir)
        let cert = try pki.server("standin")
        let standIn = try await PersonalizeStandIn.start(
            .init(tls: .init(certificateChainPath: cert.certificate, privateKeyPath: cert.key)))
        let log = MixedLog(count: 200)
        try log.write(to: dir)
        let config = try Harness.config(dir: dir, endpoint: standIn.endpoint)

        let report = try await Agent.run(
            config: config, options: RunOptions(once: true), environment: Harness.environment, logger: Harness.quiet)
        #expect(report.exitStatus == .configuration)
        guard case .fatal(let message) = report.outcome else {
            Issue.record("not fatal: \(report.outcome)")
            return
        }
        #expect(message.contains("127.0.0.1:\(standIn.port)"), "\(message)")
        #expect(message.contains("aws.caBundle"), "\(message)")
        #expect(standIn.acceptedRecords().isEmpty)
        try await standIn.shutdown()
    }
}
