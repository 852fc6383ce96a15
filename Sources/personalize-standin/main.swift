import Foundation
import TestSupport

// A local Personalize stand-in for benchmarks and manual runs: verifies SigV4 and validates bodies, like the tests'.
// Usage: personalize-standin [--port N] [--threads N] [--record]
var port = 0
var threads = 1
var record = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--port": port = Int(arguments.next() ?? "") ?? 0
    case "--threads": threads = Int(arguments.next() ?? "") ?? 1
    case "--record": record = true
    default:
        FileHandle.standardError.write(Data("usage: personalize-standin [--port N] [--threads N] [--record]\n".utf8))
        exit(64)
    }
}
let standIn = try await PersonalizeStandIn.start(
    .init(maxClockSkew: .infinity, recordBodies: record, port: port, threads: threads))
FileHandle.standardOutput.write(Data((standIn.endpoint + "\n").utf8))
signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
let source = DispatchSource.makeSignalSource(signal: SIGTERM)
let source2 = DispatchSource.makeSignalSource(signal: SIGINT)
let done = AsyncStream<Void> { continuation in
    source.setEventHandler { continuation.finish() }
    source2.setEventHandler { continuation.finish() }
    source.resume()
    source2.resume()
}
for await _ in done {}
let stats = standIn.stats
FileHandle.standardError.write(Data("standin: requests=\(stats.requests) accepted=\(stats.accepted) records=\(stats.acceptedRecords) rejected=\(stats.rejected) signature_failures=\(stats.signatureFailures)\n".utf8))
try await standIn.shutdown()
