import AWSSigV4
import Foundation
import NIOCore

extension STSClient {
    /// An STS client for `region` (else the environment's or profile's region, else `us-east-1`) at
    /// the endpoint the SDKs would use: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the profile's
    /// `[services]` `sts` `endpoint_url`, the profile's `endpoint_url`, else `https://sts.{region}.amazonaws.com`.
    static func make(
        region explicitRegion: String?, profile: String?, config: AWSSharedConfig?, environment: [String: String],
        http: CredentialHTTP, timeout: TimeAmount, now: @escaping @Sendable () -> Date
    ) -> STSClient {
        let profileName = profile ?? nonEmpty(environment["AWS_PROFILE"]) ?? "default"
        let profileValues = config?.profile(profileName) ?? [:]
        let region =
            nonEmpty(explicitRegion) ?? nonEmpty(environment["AWS_REGION"])
            ?? nonEmpty(environment["AWS_DEFAULT_REGION"]) ?? nonEmpty(profileValues["region"]) ?? "us-east-1"
        var endpoint: String?
        if environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() != "true" {
            endpoint =
                nonEmpty(environment["AWS_ENDPOINT_URL_STS"]) ?? nonEmpty(environment["AWS_ENDPOINT_URL"])
                ?? nonEmpty(config?.serviceSetting(profile: profileName, service: "sts", key: "endpoint_url"))
                ?? nonEmpty(profileValues["endpoint_url"])
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return STSClient(
            http: http, region: region, endpoint: endpoint ?? "https://sts.\(region).\(suffix)", timeout: timeout,
            now: now)
    }

    /// The session name the SDKs default to, made ours: unique per call, and valid for STS's pattern.
    static func defaultSessionName(now: Date) -> String {
        "personalize-tail-\(Int(now.timeIntervalSince1970 * 1000))"
    }
}

/// `nil` for unset or empty values, as the SDKs treat empty variables.
func nonEmpty(_ value: String?) -> String? {
    guard let value else { return nil }
    let trimmed = value.trimmingCharacters(in: .whitespaces)
    return trimmed.isEmpty ? nil : trimmed
}
