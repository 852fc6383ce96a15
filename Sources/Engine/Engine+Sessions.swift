import AgentConfig
import Checkpoints
import Logging
import Mapping

extension Engine {
    /// The saved sessionization state (with the checkpoints), given to `mapper` to continue from; `nil` when no
    /// mapping sessionizes. A state that cannot be read is logged and started afresh (sessions then restart, as
    /// they did before the state was kept), never a reason to stop.
    static func restoreSessions(
        config: AgentConfig, store: (any CheckpointStore)?, mapper: Mapper, logger: Logger
    ) throws -> SessionJournal? {
        guard config.mappings.sessionizes else { return nil }
        var state = SessionState(mappings: config.mappings)
        if let saved = try store?.loadSessions() {
            if state.load(saved) {
                mapper.restoreSessions(state)
            } else {
                logger.warning(
                    "saved sessions unreadable; sessions start afresh",
                    metadata: [
                        "state.directory": "\(config.state.directory)"
                    ])
            }
        }
        mapper.recordsSessionTouches = true
        return SessionJournal(state: state)
    }

    /// Takes the sessionizations the mapper made for the line ending at `end` into the journal.
    func noteSessions(_ stream: Stream, end: UInt64) {
        sessionJournal?.note(stream: stream.id, end: end, mapper.sessionTouches)
        mapper.clearSessionTouches()
    }

    /// Applies to the saved state the sessionizations of lines now behind their checkpoints.
    func commitSessions(all: Bool) {
        guard sessionJournal != nil else { return }
        let streams = self.streams
        sessionJournal?.commit(all: all) { id in streams[id]?.ledger.safeOffset }
    }
}
