import Engine
import Synchronization

/// A handle on one ``Agent/run(config:options:environment:logger:)`` for whoever embeds the agent (and for tests):
/// stop a follow-mode run as SIGTERM would, read its live metrics, and learn the port the metrics endpoint bound
/// (`metrics.listen` may say port 0).
///
/// Pass it in ``RunOptions/control``. A stop requested before the engine has started is applied as soon as it
/// starts.
public final class AgentControl: Sendable {
    private struct State {
        var engine: EngineControl?
        var stopRequested = false
        var metricsPort: Int?
    }

    private let state = Mutex(State())
    /// The run's metrics, as the engine publishes them.
    public let metrics = MetricsBox()

    public init() {}

    /// Stop reading, deliver what is in hand (within `follow.shutdownTimeoutSeconds`), save checkpoints, and let
    /// `Agent.run` return: what SIGTERM does.
    public func requestStop() {
        let engine = state.withLock { s -> EngineControl? in
            s.stopRequested = true
            return s.engine
        }
        engine?.requestStop()
    }

    /// The port the metrics endpoint listens on, once it is bound (nil without `metrics.listen`).
    public var metricsPort: Int? { state.withLock { $0.metricsPort } }

    /// Whether the engine has started (a stop request now reaches it directly).
    public var isRunning: Bool { state.withLock { $0.engine != nil } }

    func attach(_ engine: EngineControl) {
        let stop = state.withLock { s -> Bool in
            s.engine = engine
            return s.stopRequested
        }
        if stop { engine.requestStop() }
    }

    func setMetricsPort(_ port: Int) {
        state.withLock { $0.metricsPort = port }
    }
}
