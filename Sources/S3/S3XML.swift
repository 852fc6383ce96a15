/// Just enough XML for S3's answers: the text of elements by name, in document order, with the five predefined
/// entities and numeric references decoded. S3's documents are flat and small, and Foundation's XML parser
/// would bring libxml2 into the binary for that.
enum S3XML {
    /// The text of every `<name>...</name>` in `xml` (a self-closing `<name/>` gives ""), in order.
    static func values(_ name: String, in xml: Substring) -> [String] {
        var out: [String] = []
        let open = "<\(name)>"
        let close = "</\(name)>"
        let empty = "<\(name)/>"
        var rest = xml
        while let start = rest.range(of: open) ?? rest.range(of: empty) {
            if rest[start] == empty {
                out.append("")
                rest = rest[start.upperBound...]
                continue
            }
            guard let end = rest[start.upperBound...].range(of: close) else { break }
            out.append(decode(rest[start.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return out
    }

    static func value(_ name: String, in xml: Substring) -> String? { values(name, in: xml).first }

    /// The inner text of each `<name>...</name>` element, undecoded, for reading nested elements.
    static func elements(_ name: String, in xml: Substring) -> [Substring] {
        var out: [Substring] = []
        var rest = xml
        let open = "<\(name)>"
        let close = "</\(name)>"
        while let start = rest.range(of: open), let end = rest[start.upperBound...].range(of: close) {
            out.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return out
    }

    static func decode(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else {
                out += rest[amp...]
                return out
            }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "quot": out += "\""
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "apos": out += "'"
            default:
                var scalar: Unicode.Scalar?
                if entity.hasPrefix("#x") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init)
                }
                if let scalar { out.unicodeScalars.append(scalar) } else { out += rest[amp...semi] }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The XML reader's answers, for tests outside the module.
public enum S3XMLProbe {
    public static func etags(_ xml: String) -> [String] { S3XML.values("ETag", in: xml[...]) }
}
