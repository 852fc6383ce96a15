import Tailing

extension SourceConfig {
    /// Whether the source's files are container runtime logs, as its `format` says: what ``ReaderLoop`` needs to
    /// read them the same way in `run` and `export`.
    public var envelope: ReaderLoop.Envelope {
        switch format {
        case .auto: .detect
        case .cri: .always(.cri)
        case .docker: .always(.docker)
        case .jsonl, .gzip: .none
        }
    }
}
