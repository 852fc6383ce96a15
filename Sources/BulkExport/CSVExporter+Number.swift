extension CSVExporter {
    /// A JSON number literal as plain decimal digits, exactly: the log's digits are kept (`345.0` stays `345.0`,
    /// `-0.50` stays `-0.50`), and an exponent is written out by moving the point (`1e3` → `1000`, `2.5E-2` →
    /// `0.025`, `1.50e1` → `15.0`), since a CSV reader may not take exponent notation. Anything that is not a
    /// JSON number literal is returned unchanged.
    static func decimalDigits(_ literal: String) -> String {
        let bytes = Array(literal.utf8)
        guard let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) else {
            return literal
        }
        guard let exponent = Int(String(decoding: bytes[(e + 1)...], as: UTF8.self).replacingPlus()),
            abs(exponent) <= 400
        else { return literal }
        var mantissa = bytes[..<e]
        let negative = mantissa.first == UInt8(ascii: "-")
        if negative { mantissa = mantissa.dropFirst() }
        let point = mantissa.firstIndex(of: UInt8(ascii: "."))
        let whole = point.map { Array(mantissa[..<$0]) } ?? Array(mantissa)
        let fraction = point.map { Array(mantissa[($0 + 1)...]) } ?? []
        guard !whole.isEmpty, (whole + fraction).allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return literal }
        var digits = whole + fraction
        // The point sits after `position` digits of `digits`.
        var position = whole.count + exponent
        if position <= 0 {
            digits = [UInt8](repeating: UInt8(ascii: "0"), count: 1 - position) + digits
            position = 1
        }
        if position > digits.count { digits += [UInt8](repeating: UInt8(ascii: "0"), count: position - digits.count) }
        var intPart = Array(digits[..<position])
        let fracPart = Array(digits[position...])
        while intPart.count > 1, intPart[0] == UInt8(ascii: "0") { intPart.removeFirst() }
        var text = String(decoding: intPart, as: UTF8.self)
        if !fracPart.isEmpty { text += "." + String(decoding: fracPart, as: UTF8.self) }
        return (negative ? "-" : "") + text
    }
}

extension String {
    fileprivate func replacingPlus() -> String { hasPrefix("+") ? String(dropFirst()) : self }
}
