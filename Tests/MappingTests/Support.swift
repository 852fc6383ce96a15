import JSON
import PersonalizeModel
import Testing

@testable import Mapping

/// Shared fixtures: configs are written as JSON text, exactly as users write them.
enum Fixture {
    static let tracking = "11111111-2222-3333-4444-555555555555"
    static let itemsArn = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS"
    static let context = RecordContext(sourceName: "web", path: "/var/log/app.log", fingerprint: "0f1e2d3c", offset: 42)

    /// A mapper for `mappings` (the JSON text of the `mappings` object); fails the test on config errors.
    static func mapper(_ mappings: String, sources: [String] = ["web", "api"]) throws -> Mapper {
        Mapper(mappings: try MappingSet.parse(mappings, sourceNames: sources))
    }

    /// The config issues `mappings` produces, as "path: message" lines.
    static func issues(_ mappings: String, sources: [String] = ["web"]) throws -> [String] {
        let reader = ConfigReader()
        _ = MappingSet.parse(try JSONParser.parse(mappings), reader: reader, sourceNames: sources)
        return reader.issues.map(\.description)
    }

    /// A one-mapping event config with `fields` merged over a minimal valid set.
    static func event(_ fields: String, extra: String = "") -> String {
        """
        {"m": {"target": "event", "trackingId": "\(tracking)"\(extra.isEmpty ? "" : ", " + extra),
          "fields": {"sessionId": "sid", "eventType": {"const": "click"}, "sentAt": "ts"\(fields.isEmpty ? "" : ", " + fields)}}}
        """
    }

    static func apply(_ mapper: Mapper, _ line: String, context: RecordContext = context) throws -> [MappingResult] {
        mapper.apply(try JSONParser.parse(line), context: context)
    }

    /// The single event a line maps to, or a test failure.
    static func event(_ mapper: Mapper, _ line: String) throws -> (userId: String?, sessionId: String, Event) {
        let results = try apply(mapper, line)
        guard results.count == 1, case .record(_, .event(_, let u, let s, let e)) = results[0] else {
            Issue.record("expected one event, got \(results)")
            throw Stop()
        }
        return (u, s, e)
    }

    /// The single failure a line maps to, or a test failure.
    static func failure(_ mapper: Mapper, _ line: String) throws -> MappingFailure {
        let results = try apply(mapper, line)
        guard results.count == 1, case .failure(_, let f) = results[0] else {
            Issue.record("expected one failure, got \(results)")
            throw Stop()
        }
        return f
    }

    struct Stop: Error {}
}

/// SplitMix64: a tiny seeded generator, so randomized tests replay exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
