import Foundation
import JSON
import PersonalizeModel
import Testing

/// Our request bodies (``RequestBody``: the envelope writer and the records' wire writers, the fast path) against the
/// bodies botocore's own serializer produces (Fixtures/make_botocore_bodies.py), and against their oracle, the
/// `Codable` request (``RequestEnvelope``) encoded by `JSONEncoder`.
@Suite struct WireEncodingTests {
    struct Case: Decodable, CustomTestStringConvertible {
        var operation: String
        var path: String
        var body: String
        var params: JSONAny

        var testDescription: String { operation }
    }

    /// Keeps the `params` JSON as raw data so each case can decode it into the matching request type.
    struct JSONAny: Decodable {
        var data: Data
        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(AnyDecodable.self)
            data = try JSONSerialization.data(withJSONObject: value.value)
        }
    }

    struct AnyDecodable: Decodable {
        var value: Any
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode([String: AnyDecodable].self) {
                value = v.mapValues(\.value)
            } else if let v = try? c.decode([AnyDecodable].self) {
                value = v.map(\.value)
            } else if let v = try? c.decode(Bool.self) {
                value = v
            } else if let v = try? c.decode(Int64.self) {
                value = v
            } else if let v = try? c.decode(Double.self) {
                value = v
            } else {
                value = try c.decode(String.self)
            }
        }
    }

    static let cases: [Case] = {
        let url = Bundle.module.url(forResource: "botocore_bodies", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
    }()

    static func ourBody(_ c: Case) throws -> (path: String, body: [UInt8], codable: Data) {
        let request: any RequestEnvelope
        switch c.operation {
        case "PutEvents": request = try JSONDecoder().decode(PutEventsRequest.self, from: c.params.data)
        case "PutItems": request = try JSONDecoder().decode(PutItemsRequest.self, from: c.params.data)
        case "PutUsers": request = try JSONDecoder().decode(PutUsersRequest.self, from: c.params.data)
        case "PutActions": request = try JSONDecoder().decode(PutActionsRequest.self, from: c.params.data)
        case "PutActionInteractions":
            request = try JSONDecoder().decode(PutActionInteractionsRequest.self, from: c.params.data)
        default: throw CocoaError(.featureUnsupported)
        }
        let body = RequestBody(key: request.key, records: request.records)
        #expect(body.operation.rawValue == c.operation)
        return (request.key.operation.path, body.body, try JSONEncoder().encode(request))
    }

    static func object(_ data: Data) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }

    @Test(arguments: cases)
    func matchesBotocore(_ c: Case) throws {
        let ours = try Self.ourBody(c)
        #expect(ours.path == c.path)
        #expect(try Self.object(Data(ours.body)) == Self.object(Data(c.body.utf8)))
    }

    @Test(arguments: cases)
    func fastPathMatchesTheCodableOracle(_ c: Case) throws {
        let ours = try Self.ourBody(c)
        #expect(try Self.object(Data(ours.body)) == Self.object(ours.codable))
    }

    @Test func workedExampleBodyIsByteExact() {
        // The body of the reference's SigV4 worked example, produced by botocore with compact separators.
        let request = PutEventsRequest(
            trackingId: "11111111-2222-3333-4444-555555555555", userId: "user-1", sessionId: "sess-1",
            eventList: [
                Event(
                    eventId: "e1", eventType: "click", itemId: "item-42",
                    properties: "{\"numberOfRatings\":\"12\"}", sentAt: Timestamp(epochSeconds: 1_705_322_096))
            ])
        let expected =
            #"{"trackingId":"11111111-2222-3333-4444-555555555555","userId":"user-1","sessionId":"sess-1","eventList":[{"eventId":"e1","eventType":"click","itemId":"item-42","sentAt":1705322096,"properties":"{\"numberOfRatings\":\"12\"}"}]}"#
        #expect(String(decoding: request.body, as: UTF8.self) == expected)
    }

    @Test func sentAtIsWholeEpochSecondsRoundedDown() {
        #expect(Timestamp(epochMilliseconds: 1_705_322_096_999).epochSeconds == 1_705_322_096)
        #expect(Timestamp(epochMilliseconds: -1).epochSeconds == -1)
        let e = Event(eventType: "x", sentAt: Timestamp(epochMilliseconds: 1_500))
        #expect(String(decoding: e.wireBody, as: UTF8.self) == #"{"eventType":"x","sentAt":1}"#)
    }
}
