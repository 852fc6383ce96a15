// swift-tools-version: 6.0
// Micro-benchmark of parse + map (+ request encoding) on one core, over this repository's sources (symlinked).
import PackageDescription

let settings: [SwiftSetting] = []

let package = Package(
    name: "bench-micro",
    platforms: [.macOS(.v15)],
    targets: [
        // The same release settings as the agent's Package.swift.
        .target(name: "JSON", swiftSettings: settings),
        .target(name: "PersonalizeModel", dependencies: ["JSON"], swiftSettings: settings),
        .target(name: "PinnedMemory", swiftSettings: settings),
        .target(name: "Mapping", dependencies: ["JSON", "PersonalizeModel", "PinnedMemory"], swiftSettings: settings),
        .executableTarget(
            name: "parse-map", dependencies: ["JSON", "PersonalizeModel", "Mapping"],
            swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
