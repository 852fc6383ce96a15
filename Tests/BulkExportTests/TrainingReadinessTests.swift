import BulkExport
import Foundation
import Testing

/// The readiness report's thresholds, coverage, histograms and warnings, from rows as the exporter notes them.
@Suite struct TrainingReadinessTests {
    static let columns = ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE", "IMPRESSION", "PRICE"]

    static func interaction(
        _ r: inout TrainingReadiness, user: String, item: String, time: Int64, type: String = "View", price: String = ""
    ) {
        r.note(
            kind: "interactions", columns: columns, fields: [user, item, String(time), type, "", "", price], fixed: 6)
    }

    @Test func thresholdsAreCountedExactly() {
        let now = Date()
        let t = Int64(now.timeIntervalSince1970) - 86_400 * 30
        var r = TrainingReadiness(now: now)
        // 24 users with 2 interactions, 952 with one: 1,000 interactions but only 24 active users.
        for u in 0..<24 {
            for k in 0..<2 {
                Self.interaction(&r, user: "u\(u)", item: "i\(k)", time: t, type: k == 0 ? "View" : "Buy")
            }
        }
        for u in 24..<976 { Self.interaction(&r, user: "u\(u)", item: "i\(u % 7)", time: t + Int64(u)) }
        #expect(r.interactions == 1_000)
        #expect(r.activeUsers == 24)
        #expect(!r.meetsMinimums)
        #expect(r.report().contains { $0.contains("users with 2+ interactions: 24") && $0.contains("too few") })
        Self.interaction(&r, user: "u100", item: "i1", time: t)
        #expect(r.activeUsers == 25 && r.meetsMinimums)
        #expect(r.report().first == "training readiness: meets Amazon Personalize's minimums")
    }

    @Test func coverageHistogramFillRateAndWarnings() {
        let now = Date()
        let t = Int64(now.timeIntervalSince1970)
        var r = TrainingReadiness(now: now)
        r.note(kind: "items", columns: ["ITEM_ID"], fields: ["i1"], fixed: 1)
        Self.interaction(&r, user: "u1", item: "i1", time: t - 10, price: "3")
        Self.interaction(&r, user: "u1", item: "i2", time: t * 1000)  // milliseconds taken for seconds
        Self.interaction(&r, user: "u2", item: "i1", time: 86_400)  // 1970
        Self.interaction(&r, user: "u2", item: "i1", time: t + 86_400 * 10)  // in ten days
        let report = r.report()
        #expect(report.contains { $0.contains("item is in the items file: 75.0%") })
        #expect(report.contains { $0.contains("interactions metadata filled: PRICE 25.0%") })
        #expect(report.contains("  interactions per user:"))
        #expect(r.warnings.contains { $0.hasPrefix("only one event type (View)") })
        #expect(r.warnings.contains { $0.hasPrefix("1 interaction(s) have TIMESTAMP values of 100,000,000,000") })
        #expect(r.warnings.contains("1 interaction(s) are more than a day in the future"))
        #expect(r.warnings.contains("1 interaction(s) are before 2000-01-01"))
    }
}
