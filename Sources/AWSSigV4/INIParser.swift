/// A parser for the AWS shared config and credentials files' INI dialect.
///
/// Follows the AWS SDKs' file format: `#` and `;` comment lines, `[section]` headers (with optional
/// trailing comment), `key = value` properties with case-insensitive keys, inline comments that
/// start with whitespace then `#`/`;`, and indented lines under a property whose value is empty as
/// nested sub-properties (`personalize_events =` then `  endpoint_url = ...`). Indented lines under a
/// property with a value continue that value. Errors name the file and line but never a value,
/// which may be a secret.
enum INIParser {
    /// Sections keyed by their name as written, with inner whitespace collapsed ("profile  x" -> "profile x").
    static func parse(_ text: String, path: String) throws(AWSSigV4Error) -> [String: AWSSharedConfig.Section] {
        var sections: [String: AWSSharedConfig.Section] = [:]
        var currentSection: String?
        var currentProperty: String?

        // "\r\n" is a single Character in Swift, so it must be named as a separator of its own.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (offset, rawLine) in lines.enumerated() {
            let lineNumber = offset + 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }

            if trimmed.hasPrefix("[") {
                guard let close = trimmed.firstIndex(of: "]") else {
                    throw .configFileInvalid(path: path, line: lineNumber, reason: "section header without ']'")
                }
                let rest = trimmed[trimmed.index(after: close)...].trimmingWhitespace()
                guard rest.isEmpty || rest.hasPrefix("#") || rest.hasPrefix(";") else {
                    throw .configFileInvalid(path: path, line: lineNumber, reason: "unexpected text after ']'")
                }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
                    .split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                guard !name.isEmpty else {
                    throw .configFileInvalid(path: path, line: lineNumber, reason: "empty section name")
                }
                currentSection = name
                currentProperty = nil
                if sections[name] == nil { sections[name] = AWSSharedConfig.Section() }
                continue
            }

            let indented = line.first == " " || line.first == "\t"
            if indented, let section = currentSection, let property = currentProperty {
                if sections[section]?.values[property]?.isEmpty == true {
                    let (key, value) = try keyValue(trimmed, path: path, line: lineNumber)
                    sections[section]?.nested[property, default: [:]][key] = value
                } else {
                    sections[section]?.values[property]?.append("\n" + trimmed)
                }
                continue
            }

            guard let section = currentSection else {
                throw .configFileInvalid(path: path, line: lineNumber, reason: "property before any [section] header")
            }
            let (key, value) = try keyValue(trimmed, path: path, line: lineNumber)
            sections[section]?.values[key] = value
            sections[section]?.nested[key] = nil
            currentProperty = key
        }
        return sections
    }

    private static func keyValue(_ text: Substring, path: String, line: Int) throws(AWSSigV4Error) -> (String, String) {
        guard let equals = text.firstIndex(of: "=") else {
            throw .configFileInvalid(path: path, line: line, reason: "expected 'key = value'")
        }
        let key = text[..<equals].trimmingWhitespace().lowercased()
        guard !key.isEmpty else {
            throw .configFileInvalid(path: path, line: line, reason: "property without a name")
        }
        return (key, String(stripInlineComment(text[text.index(after: equals)...]).trimmingWhitespace()))
    }

    /// Cuts a ` # comment` / ` ; comment`: the marker must follow whitespace, so `a#b` stays a value.
    private static func stripInlineComment(_ value: Substring) -> Substring {
        var previous: Character = "="
        for index in value.indices {
            let character = value[index]
            if character == "#" || character == ";", previous == " " || previous == "\t" {
                return value[..<index]
            }
            previous = character
        }
        return value
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" || first == "\r" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice = slice.dropLast() }
        return slice
    }
}
