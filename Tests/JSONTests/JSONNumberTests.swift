import JSON
import Testing

/// `JSONNumber.double` takes a shortcut for short decimals: it must agree bit for bit with `Double(String)`.
@Suite struct JSONNumberTests {
    @Test func shortcutAgreesWithTheFullConversion() {
        var literals = [
            "0", "-0", "0.0", "-0.0", "1", "-1", "2.92", "55.80", "0.1", "0.3", "9007199254740993",
            "123456789012345", "1234567890123456", "0.000000000000001", "99999999999999.9", "1e5", "1.5E-3",
            "12345678901234567890", "4.35", "1705322096", "1705322096123", "-17.000", "0.05", "3.14159265358979",
        ]
        var state: UInt64 = 42
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for _ in 0..<20_000 {
            let digits = 1 + Int(next() % 17)
            var s = next() % 2 == 0 ? "-" : ""
            for i in 0..<digits { s += String(next() % 10 == 0 && i == 0 ? 0 : next() % 10) }
            let dot = Int(next() % UInt64(digits + 1))
            if dot > 0 && dot < digits { s.insert(".", at: s.index(s.startIndex, offsetBy: s.count - digits + dot)) }
            literals.append(s)
        }
        for literal in literals {
            let expected = Double(literal) ?? .nan
            let actual = JSONNumber(literal: literal).double
            #expect(actual.bitPattern == expected.bitPattern, "\(literal)")
        }
    }
}
