/// One problem found in a configuration document: where (a JSON path such as `mappings.clicks.fields.sentAt`)
/// and what to do about it.
public struct ConfigIssue: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// All the problems of a configuration, reported together so that one edit can fix them all.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]

    public init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    public var description: String {
        let header = issues.count == 1 ? "configuration error:" : "configuration has \(issues.count) errors:"
        return ([header] + issues.map { "  \($0)" }).joined(separator: "\n")
    }
}

/// Walks a JSON document while remembering the path, collecting every problem instead of stopping at the first.
///
/// Decoding with it is strict: ``finish(_:)`` reports keys that no reader asked for, which is how a misspelt
/// `maxWaitMilis` is caught at start-up rather than silently ignored.
public final class ConfigReader {
    public private(set) var issues: [ConfigIssue] = []

    public init() {}

    public func report(_ path: String, _ message: String) {
        issues.append(ConfigIssue(path: path, message: message))
    }

    public static func join(_ path: String, _ key: String) -> String {
        let simple =
            !key.isEmpty
            && key.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
                    || b == 0x2D
            }
        let part = simple ? key : "[\(JSONValue.string(key).serialized)]"
        if path.isEmpty { return part }
        return simple ? "\(path).\(key)" : "\(path)\(part)"
    }

    public static func index(_ path: String, _ i: Int) -> String { "\(path)[\(i)]" }

    /// An object view that tracks which keys were read.
    public func object(_ value: JSONValue?, at path: String) -> ObjectReader? {
        guard let value else { return nil }
        guard case .object(let o) = value else {
            report(path, "expected an object, found \(value.typeDescription)")
            return nil
        }
        return ObjectReader(reader: self, object: o, path: path)
    }

    public func throwIfIssues() throws(ConfigError) {
        if !issues.isEmpty { throw ConfigError(issues: issues) }
    }

    /// Reads members of one object, by name, with type checks.
    public final class ObjectReader {
        public let reader: ConfigReader
        public let object: JSONObject
        public let path: String
        private var seen: Set<String> = []

        init(reader: ConfigReader, object: JSONObject, path: String) {
            self.reader = reader
            self.object = object
            self.path = path
        }

        public func path(_ key: String) -> String { ConfigReader.join(path, key) }

        /// The raw value of `key`, marking it as known. JSON `null` counts as absent.
        public func value(_ key: String) -> JSONValue? {
            seen.insert(key)
            guard let v = object[key], !v.isNull else { return nil }
            return v
        }

        public func has(_ key: String) -> Bool { object[key] != nil }

        public func string(_ key: String, required: Bool = false, hint: String = "") -> String? {
            guard let v = value(key) else {
                if required { reader.report(path(key), "is required" + (hint.isEmpty ? "" : "; \(hint)")) }
                return nil
            }
            guard case .string(let s) = v else {
                reader.report(path(key), "expected a string, found \(v.typeDescription)")
                return nil
            }
            if required, s.isEmpty { reader.report(path(key), "must not be empty" + (hint.isEmpty ? "" : "; \(hint)")) }
            return s
        }

        public func bool(_ key: String) -> Bool? {
            guard let v = value(key) else { return nil }
            guard case .bool(let b) = v else {
                reader.report(path(key), "expected true or false, found \(v.typeDescription)")
                return nil
            }
            return b
        }

        public func int(_ key: String, min: Int? = nil, max: Int? = nil) -> Int? {
            guard let v = value(key) else { return nil }
            guard case .number(let n) = v, n.isInteger, let i = Int(n.literal) else {
                reader.report(
                    path(key),
                    "expected a whole number, found \(v.typeDescription == "a number" ? v.serialized : v.typeDescription)"
                )
                return nil
            }
            if let min, i < min {
                reader.report(path(key), "must be at least \(min), found \(i)")
                return nil
            }
            if let max, i > max {
                reader.report(path(key), "must be at most \(max), found \(i)")
                return nil
            }
            return i
        }

        public func double(_ key: String, min: Double? = nil) -> Double? {
            guard let v = value(key) else { return nil }
            guard case .number(let n) = v else {
                reader.report(path(key), "expected a number, found \(v.typeDescription)")
                return nil
            }
            let d = n.double
            if let min, d < min {
                reader.report(path(key), "must be at least \(min), found \(n.literal)")
                return nil
            }
            return d
        }

        /// A list of strings; a single string is accepted as a list of one.
        public func strings(_ key: String) -> [String]? {
            guard let v = value(key) else { return nil }
            switch v {
            case .string(let s): return [s]
            case .array(let a):
                var out: [String] = []
                for (i, e) in a.enumerated() {
                    if case .string(let s) = e {
                        out.append(s)
                    } else {
                        reader.report(ConfigReader.index(path(key), i), "expected a string, found \(e.typeDescription)")
                    }
                }
                return out
            default:
                reader.report(path(key), "expected a list of strings, found \(v.typeDescription)")
                return nil
            }
        }

        public func object(_ key: String) -> ObjectReader? {
            reader.object(value(key), at: path(key))
        }

        public func array(_ key: String) -> [JSONValue]? {
            guard let v = value(key) else { return nil }
            guard case .array(let a) = v else {
                reader.report(path(key), "expected a list, found \(v.typeDescription)")
                return nil
            }
            return a
        }

        /// A string that must be one of `choices`.
        public func choice(_ key: String, _ choices: [String]) -> String? {
            guard let s = string(key) else { return nil }
            guard choices.contains(s) else {
                reader.report(
                    path(key), "must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), found \"\(s)\"")
                return nil
            }
            return s
        }

        /// Reports every key that no one read, suggesting the closest known name.
        public func finish(_ known: [String] = []) {
            let allowed = seen.union(known)
            for member in object.members where !allowed.contains(member.key) {
                let suggestion = Self.closest(member.key, in: Array(allowed))
                reader.report(
                    path(member.key),
                    "unknown key"
                        + (suggestion.map { "; did you mean \"\($0)\"?" } ?? "; remove it or check the spelling"))
            }
        }

        static func closest(_ key: String, in candidates: [String]) -> String? {
            let lower = key.lowercased()
            var best: (String, Int)?
            for c in candidates {
                let d = editDistance(lower, c.lowercased())
                if d <= max(2, key.count / 3), best == nil || d < best!.1 { best = (c, d) }
            }
            return best?.0
        }

        static func editDistance(_ a: String, _ b: String) -> Int {
            let a = Array(a.utf8)
            let b = Array(b.utf8)
            if a.isEmpty { return b.count }
            if b.isEmpty { return a.count }
            var prev = Array(0...b.count)
            var cur = [Int](repeating: 0, count: b.count + 1)
            for i in 1...a.count {
                cur[0] = i
                for j in 1...b.count {
                    cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
                swap(&prev, &cur)
            }
            return prev[b.count]
        }
    }
}
