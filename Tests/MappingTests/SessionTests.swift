import JSON
import PersonalizeModel
import Testing

@testable import Mapping

/// Sessionization driven by the records' own times, so the order of the test lines is the clock.
@Suite struct SessionTests {
    static let config = """
        {"m": {"target": "event", "trackingId": "t",
          "fields": {"userId": "u", "sessionId": "sid", "eventType": {"const": "view"}, "sentAt": {"path": "ts", "format": "epochSeconds"}},
          "session": {"gapMinutes": 30, "maxUsers": 2}}}
        """

    static func session(_ m: Mapper, user: String?, at seconds: Int, sid: String? = nil) throws -> String {
        var line = #"{"ts": \#(seconds)"#
        if let user { line += #", "u": "\#(user)""# }
        if let sid { line += #", "sid": "\#(sid)""# }
        return try Fixture.event(m, line + "}").sessionId
    }

    @Test func gapStartsANewSession() throws {
        let m = try Fixture.mapper(Self.config)
        let t = 1_705_322_096
        let s1 = try Self.session(m, user: "a", at: t)
        #expect(try Self.session(m, user: "a", at: t + 29 * 60) == s1)
        #expect(try Self.session(m, user: "a", at: t + 58 * 60) == s1)  // 29 minutes after the last record
        let s2 = try Self.session(m, user: "a", at: t + 89 * 60)  // 31 minutes of silence
        #expect(s2 != s1)
        #expect(s2 == Sessionizer.makeId(user: "a", start: Int64(t + 89 * 60) * 1000))
        #expect(try Self.session(m, user: "a", at: t + 60 * 60) == s2)  // a late record joins the current session
        #expect(try Self.session(m, user: "b", at: t + 89 * 60) != s2)
    }

    @Test func explicitSessionIdWins() throws {
        let m = try Fixture.mapper(Self.config)
        #expect(try Self.session(m, user: "a", at: 1000, sid: "given") == "given")
    }

    @Test func sameInputsGiveSameIdsInANewProcess() throws {
        let a = try Fixture.mapper(Self.config)
        let b = try Fixture.mapper(Self.config)
        for (i, user) in ["x", "y", "x", "z"].enumerated() {
            #expect(
                try Self.session(a, user: user, at: 1000 + i * 7200) == Self.session(b, user: user, at: 1000 + i * 7200)
            )
        }
    }

    @Test func memoryIsBoundedAndOldestUsersAreForgotten() throws {
        let m = try Fixture.mapper(Self.config)
        let sa = try Self.session(m, user: "a", at: 1000)
        _ = try Self.session(m, user: "b", at: 1001)
        _ = try Self.session(m, user: "a", at: 1002)  // a is now more recent than b
        _ = try Self.session(m, user: "c", at: 1003)  // evicts b
        #expect(m.trackedSessionUsers == 2)
        #expect(try Self.session(m, user: "a", at: 1004) == sa)
        #expect(try Self.session(m, user: "b", at: 1005) == Sessionizer.makeId(user: "b", start: 1_005_000))
        var s = Sessionizer(maxUsers: 100)
        for i in 0..<50_000 { _ = s.session(user: "u\(i % 1000)", time: Int64(i), gap: 10) }
        #expect(s.trackedUsers == 100)
    }

    @Test func withoutUserIdSessionizationFails() throws {
        let m = try Fixture.mapper(Self.config)
        let f = try Fixture.failure(m, #"{"ts": 1000}"#)
        #expect(f.description == "sessionId: required, but sid is absent, and sessionization needs a userId")
        #expect(f.kind == .missingField)
    }

    @Test func fallbackAloneUsesDefaultGap() throws {
        let m = try Fixture.mapper(
            """
            {"m": {"target": "actionInteraction", "trackingId": "t", "fields": {"userId": "u", "actionId": "a",
              "sessionId": {"path": "sid", "fallback": "session"}, "eventType": {"const": "Taken"}, "timestamp": "ts"}}}
            """)
        let results = try Fixture.apply(m, #"{"u": "x", "a": "act", "ts": 1705322096}"#)
        guard case .record(_, .actionInteraction(_, let a)) = results.first else { throw Fixture.Stop() }
        #expect(a.sessionId == Sessionizer.makeId(user: "x", start: 1_705_322_096_000))
    }
}
