import Foundation

/// Turns a validated request object into `AcceptedRecord`s, flattening the request-level members
/// (trackingId, sessionId, userId, datasetArn) into each record so tests compare plain values.
enum RecordExtractor {
    static func records(
        of operation: PersonalizeStandIn.Operation, object: [String: Any], withJSON: Bool
    ) -> [AcceptedRecord] {
        let list = object[operation.listMember] as? [[String: Any]] ?? []
        let trackingId = object["trackingId"] as? String
        let datasetArn = object["datasetArn"] as? String
        return list.map { record in
            let eventId = record["eventId"] as? String
            let itemId = record["itemId"] as? String
            let actionId = record["actionId"] as? String
            let recordUserId = record["userId"] as? String
            let id: String? =
                switch operation {
                case .putEvents: eventId ?? itemId
                case .putItems: itemId
                case .putUsers: recordUserId
                case .putActions: actionId
                case .putActionInteractions: eventId ?? actionId
                }
            return AcceptedRecord(
                operation: operation, id: id ?? "",
                userId: operation == .putEvents ? object["userId"] as? String : recordUserId,
                sessionId: operation == .putEvents ? object["sessionId"] as? String : record["sessionId"] as? String,
                trackingId: trackingId, datasetArn: datasetArn, eventType: record["eventType"] as? String,
                eventId: eventId, itemId: itemId, actionId: actionId,
                json: withJSON ? sortedJSON(record) : "")
        }
    }

    /// The record re-serialized with sorted keys, so equal records compare equal whatever the client's order.
    static func sortedJSON(_ object: [String: Any]) -> String {
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: options) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
