import AWSSigV4
import Foundation

/// Turning a role profile into a plan: which credentials sign which `AssumeRole` call.
extension AssumeRoleCredentialProvider {
    indirect enum Plan: Sendable {
        /// Source credentials that assume no role themselves.
        case provider(any CredentialProvider)
        /// Assume `role` (of `profile`) with the credentials `source` yields.
        case role(Role, profile: String?, source: Plan)
    }

    /// The plan of the profile asked for; `credentialsNotFound` when it is not a role profile.
    func rootPlan(profile: String, config: AWSSharedConfig) throws -> Plan {
        guard let values = config.profile(profile), nonEmpty(values["role_arn"]) != nil else {
            throw AWSSigV4Error.credentialsNotFound(source: providerName, detail: "the profile has no role_arn")
        }
        let hasSource = nonEmpty(values["source_profile"]) != nil || nonEmpty(values["credential_source"]) != nil
        if !hasSource && nonEmpty(values["web_identity_token_file"]) != nil {
            throw AWSSigV4Error.credentialsNotFound(
                source: providerName, detail: "role_arn is for web_identity_token_file, not source credentials")
        }
        return try plan(profile: profile, values: values, config: config, visited: [])
    }

    private func plan(
        profile: String, values: [String: String], config: AWSSharedConfig, visited: [String]
    ) throws -> Plan {
        let name = "assume role of profile '\(profile)'"
        let role = try self.role(of: values, name: name)
        let sourceProfile = nonEmpty(values["source_profile"])
        let credentialSource = nonEmpty(values["credential_source"])
        switch (sourceProfile, credentialSource) {
        case (.some, .some):
            throw CredentialProviderError.invalidConfiguration(
                name, "set either source_profile or credential_source, not both")
        case (nil, nil):
            throw CredentialProviderError.invalidConfiguration(
                name, "role_arn needs source_profile or credential_source to say which credentials assume it")
        case (nil, .some(let credentialSource)):
            return .role(role, profile: profile, source: .provider(try provider(for: credentialSource, name: name)))
        case (.some(let source), nil):
            let path = visited + [profile]
            guard let sourceValues = config.profile(source) else {
                throw CredentialProviderError.invalidConfiguration(
                    name,
                    "source_profile '\(source)' does not exist in \(config.configFilePath) or "
                        + config.credentialsFilePath)
            }
            let hasStaticKeys = nonEmpty(sourceValues["aws_access_key_id"]) != nil
            // A profile may name itself as source when it also holds the keys that assume its role.
            if path.contains(source) && !(source == profile && hasStaticKeys) {
                throw CredentialProviderError.profileCycle(path + [source])
            }
            // As botocore: static keys win over a source profile's own role_arn.
            if hasStaticKeys || nonEmpty(sourceValues["role_arn"]) == nil {
                let provider = ProfileCredentialProvider(profile: source, environment: environment)
                return .role(role, profile: profile, source: .provider(provider))
            }
            if nonEmpty(sourceValues["web_identity_token_file"]) != nil {
                let provider = WebIdentityCredentialProvider(
                    source: .profile(source), environment: environment, httpClient: httpClient, logger: logger,
                    region: region, now: now)
                return .role(role, profile: profile, source: .provider(provider))
            }
            let inner = try plan(profile: source, values: sourceValues, config: config, visited: path)
            return .role(role, profile: profile, source: inner)
        }
    }

    private func role(of values: [String: String], name: String) throws -> Role {
        var durationSeconds: Int?
        if let text = nonEmpty(values["duration_seconds"]) {
            guard let value = Int(text), value > 0 else {
                throw CredentialProviderError.invalidConfiguration(
                    name, "duration_seconds '\(text)' is not a positive whole number of seconds")
            }
            durationSeconds = value
        }
        return Role(
            roleArn: nonEmpty(values["role_arn"]) ?? "", sessionName: nonEmpty(values["role_session_name"]),
            externalId: nonEmpty(values["external_id"]), durationSeconds: durationSeconds)
    }

    /// `credential_source`: where the source credentials of a role come from outside the files.
    private func provider(for credentialSource: String, name: String) throws -> any CredentialProvider {
        switch credentialSource {
        case "Environment":
            return EnvironmentCredentialProvider(environment: environment)
        case "Ec2InstanceMetadata":
            return InstanceMetadataCredentialProvider(environment: environment, httpClient: httpClient, logger: logger)
        case "EcsContainer":
            return ContainerCredentialProvider(environment: environment, httpClient: httpClient, logger: logger)
        default:
            throw CredentialProviderError.invalidConfiguration(
                name,
                "credential_source '\(credentialSource)' is not one of Environment, Ec2InstanceMetadata, EcsContainer")
        }
    }
}
