import Foundation
import Gzip
import TestSupport

/// A deterministic mixed log: valid events, items and users, noise that maps to nothing, and every kind of bad
/// line, with what a correct run must do with each.
struct MixedLog {
    var lines: [[UInt8]] = []
    var eventIds = Set<String>()
    var itemIds = Set<String>()
    var userIds = Set<String>()
    var skipped = 0
    /// Expected dead letters by kind.
    var bad: [String: Int] = [:]

    static let maxLineBytes = 4096

    init(count: Int, seed: UInt64 = 42, prefix: String = "") {
        var rng = SplitMix(seed: seed)
        for n in 0..<count {
            let roll = rng.next() % 100
            let user = "u-\(rng.next() % 200)"
            let session = "s-\(user)-\(rng.next() % 3)"
            let ts = 1_763_900_000 + n
            switch roll {
            case 0..<68:
                let id = "\(prefix)e-\(n)"
                let time =
                    n % 3 == 0
                    ? "\"2025-11-23T12:13:\(String(format: "%02d", n % 60)).250+01:00\"" : "\(Int64(ts) * 1000)"
                add(
                    #"{"ts":\#(time),"kind":"event","id":"\#(id)","user":"\#(user)","session":"\#(session)","action":"\#(["view", "click", "buy"][n % 3])","item":"i-\#(n % 500)","price":\#(Double(n % 100) / 4)}"#
                )
                eventIds.insert(id)
            case 68..<78:
                let id = "\(prefix)item-\(n)"
                add(#"{"kind":"item","sku":"\#(id)","cat":["shoes","run\"ning"],"ts":\#(ts)}"#)
                itemIds.insert(id)
            case 78..<83:
                let id = "\(prefix)user-\(n)"
                add(#"{"kind":"user","uid":"\#(id)","tier":"gold"}"#)
                userIds.insert(id)
            case 83..<88:
                add(#"{"kind":"health","ok":true}"#)
                skipped += 1
            case 88..<90:
                add(#"{"kind":"event","id":"broken"#)
                bad["malformed_json", default: 0] += 1
            case 90..<92:
                lines.append(Array(#"{"kind":"event","id":"x"#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8))
                bad["invalid_utf8", default: 0] += 1
            case 92..<94:
                add(#"{"kind":"event","id":"long-\#(n)","pad":"\#(String(repeating: "x", count: Self.maxLineBytes))"}"#)
                bad["line_too_long", default: 0] += 1
            case 94..<97:
                add(
                    #"{"ts":\#(ts),"kind":"event","id":"nosession-\#(n)","user":"\#(user)","action":"view","item":"i-1"}"#
                )
                bad["mapping_failed", default: 0] += 1
            case 97..<99:
                add(
                    #"{"ts":\#(ts),"kind":"event","id":"toolong-\#(n)","user":"\#(user)","session":"\#(session)","action":"view","item":"\#(String(repeating: "i", count: 300))"}"#
                )
                bad["limit_exceeded", default: 0] += 1
            default:
                lines.append([])  // empty line: skipped silently
            }
        }
    }

    private mutating func add(_ text: String) {
        lines.append(Array(text.utf8))
    }

    func bytes(_ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines[range] {
            out.append(contentsOf: line)
            out.append(0x0A)
        }
        return out
    }

    var deadLetterTotal: Int { bad.values.reduce(0, +) }

    /// The first half compressed as a rotated archive, the rest as the live plain file.
    func write(to dir: TemporaryDirectory, name: String = "app.log") throws {
        let half = lines.count / 2
        try dir.write("logs/\(name).1.gz", Gzip.compress(bytes(0..<half)))
        try dir.write("logs/\(name)", bytes(half..<lines.count))
    }

    static let mappings = #"""
        {
          "events": {
            "target": "event", "trackingId": "tracker-1",
            "when": {"field": "kind", "equals": "event"},
            "fields": {
              "eventId": "id", "userId": "user", "sessionId": "session", "eventType": "action",
              "itemId": "item", "eventValue": "price", "sentAt": {"path": "ts", "format": "auto"}
            }
          },
          "items": {
            "target": "item", "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS",
            "when": {"field": "kind", "equals": "item"},
            "fields": {"itemId": "sku", "properties": {"category": {"path": "cat", "transform": [{"join": "|"}]}}}
          },
          "users": {
            "target": "user", "datasetArn": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS",
            "when": {"field": "kind", "equals": "user"},
            "fields": {"userId": "uid", "properties": {"tier": "tier"}}
          }
        }
        """#
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
