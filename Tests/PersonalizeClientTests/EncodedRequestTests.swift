import AWSSigV4
import Foundation
import Logging
import PersonalizeModel
import Testing

@testable import PersonalizeClient

/// Requests the client writes out as bytes (``PersonalizeEventsClient/encodedRequest(_:credentials:date:)``, taken by
/// transports that accept them) are byte for byte what the NIO transport writes for the header-based request
/// (``PersonalizeEventsClient/signedRequest(_:credentials:date:)``, whose signature the AWS suite, botocore's
/// vectors and the stand-in's verifier pin down).
@Suite struct EncodedRequestTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    final class NoTransport: HTTPTransport {
        func start(
            method: String, encode: @escaping @Sendable () -> EncodedHTTPRequest, timeout: Duration, hold: Bool,
            completion: @escaping @Sendable (Result<HTTPResponseParts, any Error>) -> Void
        ) -> HTTPRequestHandle {
            completion(.failure(CancellationError()))
            return HTTPRequestHandle()
        }
        func flush() {}
        func shutdown() async throws {}
    }

    static func bodies() -> [RequestBody] {
        var bodies: [RequestBody] = []
        // Sizes across digit counts of content-length (1 to 4 digits and more).
        for count in [1, 3, 10] {
            let records = (0..<count).map {
                Record.event(
                    trackingId: "t-1", userId: "u-\($0)", sessionId: "s-1",
                    Event(eventId: "e\($0)", eventType: "click", sentAt: Timestamp(epochSeconds: 1_763_900_000)))
            }
            bodies.append(RequestBody(key: records[0].batchKey, records: records))
        }
        let item = Record.item(datasetArn: "arn:aws:personalize:us-east-1:1:dataset/d/ITEMS", Item(itemId: "i-é"))
        bodies.append(RequestBody(key: item.batchKey, records: [item]))
        let user = Record.user(datasetArn: "arn:aws:personalize:us-east-1:1:dataset/d/USERS", User(userId: "u"))
        bodies.append(RequestBody(key: user.batchKey, records: [user]))
        let action = Record.action(
            datasetArn: "arn:aws:personalize:us-east-1:1:dataset/d/ACTIONS",
            Action(actionId: "a", properties: "{\"x\":1}"))
        bodies.append(RequestBody(key: action.batchKey, records: [action]))
        return bodies
    }

    @Test(arguments: [
        "http://127.0.0.1:8080", "https://personalize-events.eu-west-1.amazonaws.com", "http://h/base/path",
    ])
    func encodedRequestsAreWhatTheTransportWritesForTheSignedOnes(_ url: String) throws {
        let client = PersonalizeEventsClient(
            configuration: .init(
                endpoint: Endpoint(url: url)!, region: "eu-west-1", userAgent: "personalize-tail/test ua"),
            credentials: StaticCredentialProvider(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret"),
            transport: NoTransport(), logger: Self.logger)
        let credentials = [
            AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            AWSCredentials(accessKeyId: "ASIA1", secretAccessKey: "s", sessionToken: "FwoGZXIvYXdzE+token/x=="),
        ]
        let bigRecords = (0..<10).map {
            var event = Event(eventId: "e\($0)", eventType: "view", sentAt: Timestamp(epochSeconds: 1_763_900_000))
            event.properties = "{\"note\":\"" + String(repeating: "x", count: 1_000 * ($0 + 1)) + "\"}"
            return Record.event(trackingId: "t-1", userId: "u-1", sessionId: "s-1", event)
        }
        let big = RequestBody(key: bigRecords[0].batchKey, records: bigRecords)
        var checked = 0
        for body in Self.bodies() + [big] {
            for creds in credentials {
                for seconds in [0.0, 1_763_900_000.25, 1_800_000_123] {
                    let date = Date(timeIntervalSince1970: seconds)
                    let encoded = client.encodedRequest(body, credentials: creds, date: date)
                    let signed = client.signedRequest(body, credentials: creds, date: date)
                    let expected = NIOHTTPTransport.encode(signed, hostHeader: Endpoint(url: url)!.hostHeader)
                    #expect(encoded.method == signed.method)
                    #expect(encoded.body == body.body)
                    #expect(
                        encoded.head + encoded.body == Array(expected.readableBytesView),
                        "\(String(decoding: encoded.head, as: UTF8.self))")
                    checked += 1
                }
            }
        }
        #expect(big.body.count > 55_000)
        #expect(checked == 7 * 2 * 3)
    }
}
