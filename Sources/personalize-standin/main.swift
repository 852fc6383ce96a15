import Foundation
import TestSupport

// A local Personalize stand-in for benchmarks and manual runs: verifies SigV4 and validates bodies, like the tests'.
// Usage: personalize-standin [--port N] [--threads N] [--record] [--latency-log FILE] [--tls-cert PEM --tls-key PEM]
// --tls-cert / --tls-key: serve https with that certificate chain and key.
// --latency-log FILE (benchmarks): keeps accepted records and, polling every 2 ms, appends one line per accepted
// record to FILE: "<CLOCK_REALTIME ns when first seen accepted>\t<the record's JSON>". bench/run.sh's latency
// scenario stamps each appended log line with its append time and takes the difference.
var port = 0
var threads = 1
var record = false
var latencyLog: String?
var tlsCertificate: String?
var tlsKey: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--port": port = Int(arguments.next() ?? "") ?? 0
    case "--threads": threads = Int(arguments.next() ?? "") ?? 1
    case "--record": record = true
    case "--latency-log": latencyLog = arguments.next()
    case "--tls-cert": tlsCertificate = arguments.next()
    case "--tls-key": tlsKey = arguments.next()
    default:
        FileHandle.standardError.write(
            Data(
                "usage: personalize-standin [--port N] [--threads N] [--record] [--latency-log FILE] [--tls-cert PEM --tls-key PEM]\n"
                    .utf8))
        exit(64)
    }
}
let standIn = try await PersonalizeStandIn.start(
    .init(
        maxClockSkew: .infinity, recordBodies: record || latencyLog != nil, port: port, threads: threads,
        tls: tlsCertificate.map { .init(certificateChainPath: $0, privateKeyPath: tlsKey ?? $0) }))
FileHandle.standardOutput.write(Data((standIn.endpoint + "\n").utf8))
if let latencyLog {
    guard FileManager.default.createFile(atPath: latencyLog, contents: nil),
        let handle = FileHandle(forWritingAtPath: latencyLog)
    else {
        FileHandle.standardError.write(Data("personalize-standin: cannot create \(latencyLog)\n".utf8))
        exit(73)
    }
    Task {
        var seen = 0
        while true {
            let requests = standIn.acceptedRequests()
            if requests.count > seen {
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                let stamp = String(Int(now.tv_sec) * 1_000_000_000 + Int(now.tv_nsec))
                var out = ""
                for request in requests[seen...] {
                    for accepted in request.records { out += stamp + "\t" + accepted.json + "\n" }
                }
                handle.write(Data(out.utf8))
                seen = requests.count
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}
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
FileHandle.standardError.write(
    Data(
        "standin: requests=\(stats.requests) accepted=\(stats.accepted) records=\(stats.acceptedRecords) rejected=\(stats.rejected) signature_failures=\(stats.signatureFailures)\n"
            .utf8))
try await standIn.shutdown()
