import Engine
import Foundation
import JSON

/// What `/health` answers, decided from a snapshot and the time alone (no I/O, so tests drive it directly).
///
/// Healthy (200) once the agent is configured and able to sign, as long as delivery has not been failing for longer
/// than `metrics.unhealthyAfterSeconds`. Unhealthy (503) before that, after a fatal answer, or while delivery keeps
/// failing; the body says why.
public struct HealthReport: Sendable, Equatable {
    public var healthy: Bool
    /// Why the agent is unhealthy (`not ready`, `failing since ...`, `fatal: ...`); nil when healthy.
    public var reason: String?
    /// The JSON body.
    public var body: String

    public var statusCode: Int { healthy ? 200 : 503 }

    public init(_ m: MetricsSnapshot, now: Double, unhealthyAfterSeconds: Double) {
        var reason: String?
        if let fatal = m.fatal {
            reason = "fatal: \(fatal)"
        } else if !m.ready {
            reason = "not ready"
        } else if let since = m.failingSince, now - since >= unhealthyAfterSeconds {
            let seconds = Int((now - since).rounded(.down))
            reason =
                "failing since \(DeadLetter.iso8601(Date(timeIntervalSince1970: since))) (\(seconds)s, "
                + "more than \(PrometheusText.format(unhealthyAfterSeconds))s)"
        }
        self.healthy = reason == nil
        self.reason = reason

        var w = JSONWriter(capacity: 256)
        w.raw("{\"status\":")
        w.string(reason == nil ? "ok" : "unhealthy")
        if let reason {
            w.key("reason", comma: true)
            w.string(reason)
        }
        w.key("ready", comma: true)
        w.raw(m.ready ? "true" : "false")
        w.key("stopping", comma: true)
        w.raw(m.stopping ? "true" : "false")
        w.key("lastDelivery", comma: true)
        if let t = m.lastDeliveryTime {
            w.string(DeadLetter.iso8601(Date(timeIntervalSince1970: t)))
        } else {
            w.raw("null")
        }
        if let since = m.failingSince {
            w.key("failingForSeconds", comma: true)
            w.number(Int64(max(0, now - since)))
        }
        w.key("inFlightRequests", comma: true)
        w.number(Int64(m.inFlightRequests))
        w.key("pendingRecords", comma: true)
        w.number(Int64(m.pendingRecords))
        w.raw("}")
        self.body = String(decoding: w.bytes, as: UTF8.self)
    }
}
