/// Which pod and container a Kubernetes container log belongs to, read from its path alone (no API server): the
/// kubelet names `/var/log/containers/<pod>_<namespace>_<container>-<container id>.log` (a symlink) and
/// `/var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart>.log` (rotated: `<restart>.log.<time>[.gz]`).
public struct PodIdentity: Sendable, Hashable {
    public var namespace: String
    public var pod: String
    public var container: String

    public init(namespace: String, pod: String, container: String) {
        self.namespace = namespace
        self.pod = pod
        self.container = container
    }

    /// The identity in `path`, or `nil` when the path has neither layout.
    public init?(path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let name = parts.last else { return nil }
        // /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log[.<time>[.gz]]
        if parts.count >= 3, let dot = name.firstIndex(of: "."), !name[..<dot].isEmpty,
            name[..<dot].allSatisfy(\.isNumber), name[dot...].hasPrefix(".log")
        {
            let fields = parts[parts.count - 3].split(separator: "_", omittingEmptySubsequences: false)
            if fields.count == 3, fields.allSatisfy({ !$0.isEmpty }) {
                self.init(
                    namespace: String(fields[0]), pod: String(fields[1]), container: String(parts[parts.count - 2]))
                return
            }
        }
        // /var/log/containers/<pod>_<namespace>_<container>-<id>.log
        guard name.hasSuffix(".log") else { return nil }
        let fields = name.dropLast(4).split(separator: "_", omittingEmptySubsequences: false)
        guard fields.count == 3, !fields[0].isEmpty, !fields[1].isEmpty, let dash = fields[2].lastIndex(of: "-"),
            dash > fields[2].startIndex, fields[2].index(after: dash) < fields[2].endIndex
        else { return nil }
        self.init(namespace: String(fields[1]), pod: String(fields[0]), container: String(fields[2][..<dash]))
    }
}
