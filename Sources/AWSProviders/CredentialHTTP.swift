import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The few HTTP exchanges the providers make, over the one `HTTPClient` the agent owns.
///
/// Answers are small JSON or XML documents, so bodies are collected whole (capped, so a misbehaving
/// endpoint cannot exhaust memory) and handed back with the status.
struct CredentialHTTP: Sendable {
    struct Answer: Sendable {
        var status: Int
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let client: HTTPClient
    let logger: Logger

    /// Largest answer accepted; credential documents are a few KiB.
    static let maxAnswerBytes = 256 * 1024

    func send(
        _ method: HTTPMethod, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        timeout: TimeAmount
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for header in headers {
            request.headers.add(name: header.name, value: header.value)
        }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: timeout, logger: logger)
        let buffer = try await response.body.collect(upTo: Self.maxAnswerBytes)
        return Answer(status: Int(response.status.code), body: Array(buffer.readableBytesView))
    }
}

/// Parses the `Expiration` timestamps of STS, ECS and IMDS: ISO 8601 with or without fractional seconds.
enum ExpirationDate {
    static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let date = try? Date(trimmed, strategy: .iso8601) { return date }
        return try? Date(trimmed, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
