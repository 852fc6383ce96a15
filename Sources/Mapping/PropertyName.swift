/// Property keys as Personalize expects them: the camelCase form of the dataset schema's column names.
///
/// Schemas are usually written in SCREAMING_SNAKE (`NUMBER_OF_RATINGS`), while the properties string must say
/// `numberOfRatings`; converting at start-up lets the config use the schema's names verbatim.
enum PropertyName {
    /// `NUMBER_OF_RATINGS` and `number_of_ratings` become `numberOfRatings`; `PRICE` becomes `price`; names
    /// already in camelCase (`numberOfRatings`, `price`) are kept as written.
    static func camelCase(_ name: String) -> String {
        let isUpper = name.contains(where: { $0.isLetter }) && !name.contains(where: { $0.isLowercase })
        guard isUpper || name.contains("_") else { return name }
        var out = ""
        var upperNext = false
        for c in name {
            if c == "_" {
                upperNext = !out.isEmpty
                continue
            }
            if upperNext {
                out += c.uppercased()
                upperNext = false
            } else {
                out += isUpper ? c.lowercased() : String(c)
            }
        }
        return out
    }
}
