import Foundation

/// Removes credential-shaped values from text that came from outside: an AWS error message (which, on a
/// signature mismatch, quotes the canonical request with its `x-amz-security-token` line, the string to sign and
/// sometimes the signature provided), an STS or credential-endpoint answer.
///
/// Applied where such text is parsed, so nothing downstream (logs, errors, reports, dead letters, metrics) has
/// to remember it. Two independent nets: patterns (token and signature fields, secret-key fields, quoted
/// canonical requests and strings to sign, long base64 runs the size of a session token) and the exact values
/// of the credentials in use, whatever the text around them.
public enum Redaction {
    /// What a removed value is replaced with.
    public static let marker = "[redacted]"

    /// `text` without credential-shaped values; `knownSecrets` (secret keys, session tokens) are removed wherever
    /// they appear. Values shorter than 8 characters are not treated as secrets (they would match ordinary words).
    public static func redact(_ text: String, knownSecrets: [String] = []) -> String {
        var out = text
        for secret in knownSecrets where secret.utf8.count >= 8 && out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: marker)
        }
        if mayHoldCredentials(out) {
            for rule in rules { out = rule.apply(out) }
        }
        return redactLongRuns(out)
    }

    // MARK: - Patterns

    /// Case-insensitive words without which no pattern can match: most messages ("Rate exceeded") skip the
    /// regular expressions entirely.
    private static let triggers = [
        "token", "signature", "secret", "canonical", "string-to-sign", "stringtosign", "credential", "authorization",
    ]

    private static func mayHoldCredentials(_ text: String) -> Bool {
        let lower = text.lowercased()
        return triggers.contains { lower.contains($0) }
    }

    private struct Rule {
        let pattern: String
        /// Capture group 1 is kept (the field name and separator); the rest of the match is replaced.
        func apply(_ text: String) -> String {
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else {
                return text
            }
            let range = NSRange(text.startIndex..., in: text)
            return regex.stringByReplacingMatches(
                in: text, range: range, withTemplate: "$1" + NSRegularExpression.escapedTemplate(for: marker))
        }
    }

    private static let rules: [Rule] = [
        // The canonical request and the string to sign that AWS quotes on a signature mismatch, whole: the
        // canonical request holds the session token, and neither is any use to a reader of the log.
        Rule(pattern: #"(canonical string for this request should have been\s*')[^']*"#),
        Rule(pattern: #"(string-to-sign should have been\s*')[^']*"#),
        Rule(
            pattern:
                #"(<(?:CanonicalRequest|CanonicalRequestBytes|StringToSign|StringToSignBytes|SignatureProvided)>)[^<]*"#
        ),
        // Header and query forms of the token and the signature, as `name: value`, `name=value` or JSON.
        Rule(
            pattern:
                #"((?:x-amz-security-token|x-amz-signature|signatureprovided|signature|sessiontoken|session_token|securitytoken)["']?\s*[:=]\s*["']?)[^\s"'&,;<>]+"#
        ),
        // Secret keys and tokens in JSON, INI or XML shapes.
        Rule(
            pattern:
                #"((?:secretaccesskey|secret_access_key|secretkey|aws_secret_access_key|aws_session_token|"token")["']?\s*[:=]\s*["']?)[^\s"'&,;<>]+"#
        ),
        Rule(pattern: #"(<(?:SecretAccessKey|SessionToken|Token)>)[^<]*"#),
    ]

    // MARK: - Long runs

    /// Session tokens are hundreds of base64 characters; nothing else in a service message is. Any run of 100 or
    /// more base64 characters is replaced, and so is any run of 64 or more hex digits (a signature, or a hash of
    /// the signed request, however it is labelled).
    static let longRun = 100
    static let longHexRun = 64

    private static func redactLongRuns(_ text: String) -> String {
        var run = 0
        var hexRun = 0
        var found = false
        for byte in text.utf8 {
            run = isBase64(byte) ? run + 1 : 0
            hexRun = isHex(byte) ? hexRun + 1 : 0
            if run >= longRun || hexRun >= longHexRun { found = true }
        }
        guard found else { return text }
        var out = ""
        var pending = ""
        var pendingIsHex = true
        func flush() {
            let long = pending.utf8.count >= longRun || (pendingIsHex && pending.utf8.count >= longHexRun)
            out += long ? marker : pending
            pending = ""
            pendingIsHex = true
        }
        for character in text {
            if character.utf8.count == 1, isBase64(character.utf8.first!) {
                pending.append(character)
                if !isHex(character.utf8.first!) { pendingIsHex = false }
                continue
            }
            flush()
            out.append(character)
        }
        flush()
        return out
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default: false
        }
    }

    private static func isBase64(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
            true
        default: false
        }
    }
}
