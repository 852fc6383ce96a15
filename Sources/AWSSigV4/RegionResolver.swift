import Foundation

/// Finds the AWS region the way the SDKs do, so the agent behaves like the AWS CLI on the same machine.
public enum RegionResolver {
    /// The first non-empty of: `configured` (the agent's own setting), `AWS_REGION`,
    /// `AWS_DEFAULT_REGION`, the profile's `region` (profile: `profile`, else `AWS_PROFILE`, else
    /// `default`). Throws an error that lists those places when none is set.
    public static func resolve(
        configured: String?, environment: [String: String], sharedConfig: AWSSharedConfig, profile: String?
    ) throws -> String {
        let profileName = profile ?? AWSSharedConfig.nonEmpty(environment["AWS_PROFILE"]) ?? "default"
        let candidates = [
            configured?.trimmingCharacters(in: .whitespaces),
            environment["AWS_REGION"],
            environment["AWS_DEFAULT_REGION"],
            sharedConfig.profile(profileName)?["region"],
        ]
        for case let candidate? in candidates where !candidate.isEmpty {
            return candidate
        }
        throw AWSSigV4Error.regionMissing(profile: profileName)
    }
}
