// swift-tools-version: 6.1
import Foundation
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]
// Release builds keep Swift's run-time exclusivity checks, except in the two modules whose per-line paths pay for
// them: the engine (its stored properties are updated for every line and record) and the mapper. Measurements in
// bench/README.md, "Run-time exclusivity checks". Debug builds, which the tests use, check everywhere.
let perLineSettings =
    swiftSettings + [
        .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
    ]

// jemalloc, when the system has it (Debian: libjemalloc2), for the agent's binary. The agent allocates on one thread
// and frees on another all the time (records mapped on the worker are freed by the engine once acknowledged,
// requests written by the engine are freed by the event loop): glibc's malloc serializes those frees on the
// owning arena's lock, jemalloc batches them. Measured: about 7 % less CPU per event (README, Install).
// Build with PERSONALIZE_TAIL_SYSTEM_MALLOC=1 in the environment to keep the C library's malloc.
let jemallocLibraries = [
    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
    "/usr/lib64/libjemalloc.so.2", "/usr/lib/libjemalloc.so.2",
]
let linksJemalloc =
    ProcessInfo.processInfo.environment["PERSONALIZE_TAIL_SYSTEM_MALLOC"] == nil
    && jemallocLibraries.contains { FileManager.default.fileExists(atPath: $0) }
let allocatorSettings: [LinkerSetting] =
    linksJemalloc ? [.linkedLibrary(":libjemalloc.so.2", .when(platforms: [.linux]))] : []

// The commit being built, for `--version` and `personalize_tail_build_info`: read with git when the manifest is
// evaluated (a fresh clone in CI has it), "unknown" without git or .git. SwiftPM caches the evaluated manifest, so a
// local incremental build may show the commit of the last manifest evaluation; release builds are made fresh.
let buildCommit: String = {
    let git = Process()
    git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    git.arguments = ["git", "-C", Context.packageDirectory, "rev-parse", "--short=12", "HEAD"]
    let pipe = Pipe()
    git.standardOutput = pipe
    git.standardError = FileHandle.nullDevice
    guard (try? git.run()) != nil else { return "unknown" }
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    git.waitUntilExit()
    let text = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard git.terminationStatus == 0, !text.isEmpty, text.allSatisfy(\.isHexDigit) else { return "unknown" }
    return text
}()

let package = Package(
    name: "personalize-tail",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "personalize-tail", targets: ["personalize-tail"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // MARK: Leaves
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "CMemory", cSettings: [.define("PT_BUILD_COMMIT", to: "\"\(buildCommit)\"")]),
        .target(name: "Gzip", dependencies: ["CZlib"], swiftSettings: swiftSettings),
        .target(name: "JSON", swiftSettings: swiftSettings),
        .target(name: "PinnedMemory", swiftSettings: swiftSettings),
        .target(name: "SystemIO", swiftSettings: swiftSettings),
        .target(
            name: "AWSSigV4",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AWSProviders",
            dependencies: [
                "AWSSigV4", "JSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Domain
        .target(name: "PersonalizeModel", dependencies: ["JSON"], swiftSettings: swiftSettings),
        .target(
            name: "Mapping", dependencies: ["JSON", "PersonalizeModel", "PinnedMemory"], swiftSettings: perLineSettings),
        .target(
            name: "PersonalizeClient",
            dependencies: [
                "PersonalizeModel", "AWSSigV4", "JSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Tailing",
            dependencies: ["Gzip", "PinnedMemory", "SystemIO", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(name: "Checkpoints", dependencies: ["JSON", "SystemIO", "Tailing"], swiftSettings: swiftSettings),
        // MARK: Wiring
        // Arrows run one way: Pipeline -> Metrics -> Engine -> AgentConfig; ExportHandover -> AgentConfig.
        .target(
            name: "AgentConfig", dependencies: ["JSON", "Mapping", "PersonalizeModel", "Tailing"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Engine",
            dependencies: [
                "AgentConfig", "JSON", "PersonalizeModel", "Mapping", "PersonalizeClient", "Tailing", "Checkpoints",
                "CMemory", "PinnedMemory", "SystemIO", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: perLineSettings
        ),
        .target(
            name: "Metrics",
            dependencies: [
                "AgentConfig", "Engine", "JSON", "PersonalizeModel", "PersonalizeClient", "Tailing", "Checkpoints",
                "CMemory", "SystemIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ExportHandover", dependencies: ["AgentConfig", "Checkpoints", "SystemIO", "Tailing"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Pipeline",
            dependencies: [
                "AgentConfig", "Engine", "Metrics", "PersonalizeModel", "PersonalizeClient", "AWSSigV4",
                "AWSProviders", "Tailing", "Checkpoints",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "personalize-tail",
            dependencies: [
                "Pipeline", "AgentConfig", "Engine", "Metrics", "ExportHandover", "BulkExport", "CMemory", "S3",
                "PersonalizeControl", "AWSProviders", "AWSSigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: allocatorSettings
        ),
        .target(
            name: "S3",
            dependencies: [
                "AWSSigV4", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PersonalizeControl",
            dependencies: [
                "AWSSigV4", "S3", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BulkExport",
            dependencies: [
                "JSON", "PersonalizeModel", "Mapping", "Tailing", "S3", "AWSSigV4", "SystemIO",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "personalize-standin", dependencies: ["TestSupport"], swiftSettings: swiftSettings),
        // MARK: Test support
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Resources"],
            swiftSettings: swiftSettings
        ),
        // MARK: Tests
        .testTarget(
            name: "PersonalizeControlTests",
            dependencies: [
                "PersonalizeControl", "S3", "AWSSigV4", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AWSProvidersTests",
            dependencies: [
                "AWSProviders", "AWSSigV4",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BulkExportTests",
            dependencies: ["BulkExport", "Mapping", "PersonalizeModel", "JSON", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "S3Tests",
            dependencies: [
                "S3", "BulkExport", "AWSSigV4", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: swiftSettings),
        .testTarget(name: "PinnedMemoryTests", dependencies: ["PinnedMemory"], swiftSettings: swiftSettings),
        .testTarget(name: "GzipTests", dependencies: ["Gzip", "CZlib", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AWSSigV4Tests", dependencies: ["AWSSigV4"], resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonalizeModelTests", dependencies: ["PersonalizeModel", "JSON"], resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MappingTests", dependencies: ["Mapping", "JSON", "PersonalizeModel"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TailingTests", dependencies: ["Tailing", "Gzip", "PinnedMemory", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SystemIOTests", dependencies: ["SystemIO", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CheckpointsTests", dependencies: ["Checkpoints", "Tailing", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonalizeClientTests",
            dependencies: [
                "PersonalizeClient", "AWSSigV4", "PersonalizeModel", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Pipeline", "AgentConfig", "Engine", "Metrics", "ExportHandover", "TestSupport", "JSON", "Gzip",
                "Checkpoints", "PersonalizeClient", "AWSSigV4",
                "PersonalizeModel", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
