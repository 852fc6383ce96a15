import JSON

/// `${VAR}` and `${VAR:-default}` in the string values of config.json, replaced from the environment when the file
/// is read (tracking ids and ARNs per environment, `NODE_NAME` in a DaemonSet). `$${` stands for a literal `${`.
/// An unset variable without a default is a configuration error naming the key's JSON path; keys are not
/// interpolated, nor is anything read from the logs.
public enum ConfigInterpolation {
    /// `document` with every string value interpolated; the problems found, each with its JSON path.
    public static func apply(_ document: JSONValue, environment: [String: String]) -> (JSONValue, [ConfigIssue]) {
        var issues: [ConfigIssue] = []
        let result = walk(document, path: "", environment: environment, issues: &issues)
        return (result, issues)
    }

    private static func walk(
        _ value: JSONValue, path: String, environment: [String: String], issues: inout [ConfigIssue]
    ) -> JSONValue {
        switch value {
        case .string(let s):
            guard s.contains("$") else { return value }
            do {
                return .string(try interpolate(s, environment: environment))
            } catch {
                issues.append(ConfigIssue(path: path, message: error.message))
                return value
            }
        case .array(let items):
            return .array(
                items.enumerated().map {
                    walk($0.element, path: "\(path)[\($0.offset)]", environment: environment, issues: &issues)
                })
        case .object(let object):
            return .object(
                JSONObject(
                    object.members.map { member in
                        let childPath = path.isEmpty ? member.key : "\(path).\(member.key)"
                        return JSONObject.Member(
                            key: member.key,
                            value: walk(member.value, path: childPath, environment: environment, issues: &issues))
                    }))
        default:
            return value
        }
    }

    struct Problem: Error {
        var message: String
    }

    /// One string: `${NAME}`, `${NAME:-default}` (the default when NAME is unset or empty), `$${` for `${`; any
    /// other `$` stays as it is.
    static func interpolate(_ s: String, environment: [String: String]) throws(Problem) -> String {
        var out = ""
        var rest = Substring(s)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("${") {
                out += "${"
                rest = after.dropFirst(2)
            } else if after.hasPrefix("{") {
                guard let close = after.firstIndex(of: "}") else {
                    throw Problem(message: "unterminated ${ in \"\(s)\"; close it with } (write $${ for a literal ${)")
                }
                let inner = after[after.index(after: after.startIndex)..<close]
                let name: Substring
                var fallback: Substring?
                if let sep = inner.range(of: ":-") {
                    name = inner[..<sep.lowerBound]
                    fallback = inner[sep.upperBound...]
                } else {
                    name = inner
                }
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
                    !name.first!.isNumber
                else {
                    throw Problem(message: "${\(inner)} is not a variable reference; use ${NAME} or ${NAME:-default}")
                }
                if let value = environment[String(name)], !value.isEmpty {
                    out += value
                } else if let fallback {
                    out += fallback
                } else {
                    throw Problem(
                        message:
                            "the environment variable \(name) is not set; set it, or give a default: ${\(name):-value}")
                }
                rest = after[after.index(after: close)...]
            } else {
                out += "$"
                rest = after
            }
        }
        out += rest
        return out
    }
}
