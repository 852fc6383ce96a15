// swift-tools-version: 6.0
// Micro-benchmark of parse + map (+ request encoding) on one core, over this repository's sources (symlinked).
import PackageDescription

let settings: [SwiftSetting] = []
// As the agent's `perLineSettings`: Mapping's per-line path skips the run-time exclusivity checks in release.
let perLineSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

let package = Package(
    name: "bench-micro",
    platforms: [.macOS(.v15)],
    targets: [
        // The same release settings as the agent's Package.swift.
        .target(name: "JSON", swiftSettings: settings),
        .target(name: "PersonalizeModel", dependencies: ["JSON"], swiftSettings: settings),
        .target(name: "PinnedMemory", swiftSettings: settings),
        .target(
            name: "Mapping", dependencies: ["JSON", "PersonalizeModel", "PinnedMemory"], swiftSettings: perLineSettings),
        .executableTarget(
            name: "parse-map", dependencies: ["JSON", "PersonalizeModel", "Mapping"],
            swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
