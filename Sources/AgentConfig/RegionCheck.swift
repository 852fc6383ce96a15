/// Whether a configured region looks like an AWS region (`us-east-1`, `us-gov-west-1`, `cn-north-1`): a mistyped
/// one (`us-east1`) would otherwise only show as a signature or connection error once the agent sends.
public enum RegionCheck {
    /// Nil when `region` has a region's shape; otherwise what is wrong, with a suggestion when one is evident.
    public static func problem(_ region: String?) -> String? {
        guard let region else { return nil }
        if looksLikeRegion(region) { return nil }
        var text = "\"\(region)\" does not look like an AWS region (such as us-east-1)"
        if let suggestion = suggestion(for: region) { text += "; did you mean \"\(suggestion)\"?" }
        return text
    }

    static func looksLikeRegion(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let first = parts.first, (2...4).contains(first.count),
            first.allSatisfy({ $0.isASCII && $0.isLowercase }), let last = parts.last, (1...2).contains(last.count),
            last.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return false }
        return parts.dropFirst().dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
    }

    /// `us-east1` → `us-east-1`, `US_EAST_1` → `us-east-1`, `useast1` → nil (too ambiguous).
    static func suggestion(for s: String) -> String? {
        var text = s.lowercased().replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: " ", with: "")
        // A number glued to the last word: split it off.
        if let i = text.firstIndex(where: \.isNumber), i > text.startIndex, text[text.index(before: i)] != "-" {
            text.insert("-", at: i)
        }
        return looksLikeRegion(text) && text != s ? text : nil
    }
}
