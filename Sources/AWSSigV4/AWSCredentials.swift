import Foundation

/// AWS access keys used to sign requests.
///
/// The secret and the session token are kept out of every textual and reflected representation
/// (`description`, `debugDescription`, `dump`), so credentials can be logged or interpolated by
/// mistake without leaking. The access key id is shown: AWS treats it as an identifier, and it is
/// what a user needs to tell which credentials the agent picked up.
public struct AWSCredentials: Sendable, Equatable {
    /// The access key id, e.g. `AKIA...` (long-term) or `ASIA...` (temporary).
    public var accessKeyId: String
    /// The secret access key; never printed.
    public var secretAccessKey: String
    /// The session token of temporary credentials; signed as `X-Amz-Security-Token`; never printed.
    public var sessionToken: String?
    /// When temporary credentials stop working; `nil` for long-term keys.
    public var expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// Whether the credentials expire within `margin` seconds of `now` (always `false` without an expiration).
    public func expires(within margin: TimeInterval, of now: Date) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= margin
    }
}

// MARK: - Redacted representations

extension AWSCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        var text = "AWSCredentials(accessKeyId: \(accessKeyId), secret: <redacted>, sessionToken: "
        text += sessionToken == nil ? "<none>" : "<redacted>"
        if let expiration {
            text += ", expiration: \(expiration.formatted(.iso8601))"
        }
        return text + ")"
    }

    public var debugDescription: String { description }

    /// A mirror without the secret and token, so `dump(credentials)` stays safe too.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyId": accessKeyId,
                "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "<none>" : "<redacted>",
                "expiration": expiration as Any,
            ],
            displayStyle: .struct
        )
    }
}
