/// A tiny extractor for the flat XML documents STS answers with.
///
/// Not a general XML parser: STS's query-protocol answers are machine-written, shallow and free of
/// CDATA, so finding an element by name and decoding the five predefined entities plus numeric
/// references is enough. Chosen over `FoundationXML`, which drags libxml2 into a static Linux build.
enum STSXML {
    /// The text of the first `<name>...</name>` element inside `text` (entities decoded), or `nil`.
    static func value(of name: String, in text: Substring) -> String? {
        element(name, in: text).map { decodeEntities(String($0)) }
    }

    /// The raw content of the first `<name>` (or `<name attr=...>`) element, or `nil`.
    static func element(_ name: String, in text: Substring) -> Substring? {
        var searchFrom = text.startIndex
        while let open = text[searchFrom...].range(of: "<\(name)") {
            let after = open.upperBound
            guard after < text.endIndex else { return nil }
            let next = text[after]
            if next == ">" || next == " " || next == "\t" || next == "\n" || next == "\r" {
                guard let tagEnd = text[after...].firstIndex(of: ">") else { return nil }
                if text[text.index(before: tagEnd)] == "/" { return text[tagEnd..<tagEnd] }  // <name/>
                let contentStart = text.index(after: tagEnd)
                guard let close = text[contentStart...].range(of: "</\(name)>") else { return nil }
                return text[contentStart..<close.lowerBound]
            }
            searchFrom = after
        }
        return nil
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";"),
                rest.distance(from: amp, to: semicolon) <= 10
            else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = rest[rest.index(after: amp)..<semicolon]
            if let decoded = decode(entity) {
                out += decoded
            } else {
                out += rest[amp...semicolon]
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return out + rest
    }

    private static func decode(_ entity: Substring) -> String? {
        switch entity {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            let number: UInt32?
            if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                number = UInt32(entity.dropFirst(2), radix: 16)
            } else if entity.hasPrefix("#") {
                number = UInt32(entity.dropFirst())
            } else {
                number = nil
            }
            return number.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
    }
}
