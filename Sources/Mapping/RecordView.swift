import JSON

/// What a mapping reads values from: a parsed ``JSONValue``, or a line indexed by a ``JSONTape`` (which makes
/// values only for the paths a mapping reads). Both answer every path the same way.
protocol RecordView {
    /// The value at `path`; `nil` when a step is missing, null or of the wrong kind.
    func value(at path: FieldPath) -> JSONValue?
    /// Whether ``value(at:)`` would answer non-nil.
    func has(_ path: FieldPath) -> Bool
    /// The value of the first of `rule`'s paths that has one; an empty string counts as absent, as `null` does,
    /// so that `{"paths": ["userId", "anonymousId"]}` takes `anonymousId` when `userId` is `""`.
    func firstValue(of rule: FieldRule) -> JSONValue?
}

extension JSONValue: RecordView {
    @inline(__always)
    func value(at path: FieldPath) -> JSONValue? { path.resolve(in: self) }

    @inline(__always)
    func has(_ path: FieldPath) -> Bool { path.resolve(in: self) != nil }

    @inline(__always)
    func firstValue(of rule: FieldRule) -> JSONValue? {
        let paths = rule.rawPaths
        guard let base = paths.base else { return nil }
        for i in 0..<paths.count {
            if let v = FieldPath.resolve(base[i], in: self), !v.isEmptyString { return v }
        }
        return nil
    }
}

extension JSONValue {
    /// Whether this is the string `""`.
    @inline(__always)
    var isEmptyString: Bool {
        if case .string(let s) = self { return s.isEmpty }
        return false
    }
}

extension JSONTape.Document {
    /// Whether `node` is the string `""` (an escaped string is never empty).
    @inline(__always)
    func isEmptyString(_ node: Int) -> Bool {
        kind(node) == JSONTape.Kind.string && token(node).count == 2
    }
}

/// A scanned line: the tape is valid while the line's bytes are.
struct TapeRecord: RecordView {
    let tape: JSONTape.Document

    @inline(__always)
    func value(at path: FieldPath) -> JSONValue? {
        guard let node = path.resolve(in: tape) else { return nil }
        return tape.value(node)
    }

    @inline(__always)
    func has(_ path: FieldPath) -> Bool { path.resolve(in: tape) != nil }

    @inline(__always)
    func firstValue(of rule: FieldRule) -> JSONValue? {
        let paths = rule.rawPaths
        guard let base = paths.base else { return nil }
        for i in 0..<paths.count {
            if let node = FieldPath.resolve(base[i], in: tape), !tape.isEmptyString(node) { return tape.value(node) }
        }
        return nil
    }
}
