// swift-tools-version: 6.0
// Micro-benchmark of parse + map (+ request encoding) on one core, over this repository's sources (symlinked).
import PackageDescription

let package = Package(
    name: "bench-micro",
    platforms: [.macOS(.v15)],
    targets: [
        .target(name: "JSON"),
        .target(name: "PersonalizeModel", dependencies: ["JSON"]),
        .target(name: "Mapping", dependencies: ["JSON", "PersonalizeModel"]),
        .executableTarget(name: "parse-map", dependencies: ["JSON", "PersonalizeModel", "Mapping"], swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
