/// A tiny seeded PRNG so fault fractions are reproducible: the same seed and the same request order give the
/// same throttles, which keeps fault-injection tests deterministic. Tests use it for reproducible random inputs.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// True with probability `fraction`; draws nothing when the fraction is 0 so unrelated faults keep their
    /// sequence.
    public mutating func chance(_ fraction: Double) -> Bool {
        guard fraction > 0 else { return false }
        return nextUnit() < fraction
    }
}
