import Foundation

/// The AWS shared `config` and `credentials` files, parsed once.
///
/// Both files are optional: a missing file is the same as an empty one. Profiles come from
/// `[name]` sections of the credentials file and `[default]` / `[profile name]` sections of the
/// config file; the credentials file wins where both set a key. `[services name]` sections are kept
/// with their nested per-service blocks so endpoint resolution can find
/// `personalize_events = \n  endpoint_url = ...`.
public struct AWSSharedConfig: Sendable, Equatable {
    /// One section's properties. `nested` holds sub-properties: a key with an empty value followed
    /// by indented `key = value` lines.
    public struct Section: Sendable, Equatable {
        public var values: [String: String]
        public var nested: [String: [String: String]]

        public init(values: [String: String] = [:], nested: [String: [String: String]] = [:]) {
            self.values = values
            self.nested = nested
        }

        public subscript(key: String) -> String? { values[key.lowercased()] }
    }

    /// Profiles of the credentials file, by name.
    public var credentialsFileProfiles: [String: Section]
    /// Profiles of the config file, by name (`[profile x]` is `x`, `[default]` is `default`).
    public var configFileProfiles: [String: Section]
    /// `[services name]` sections of the config file, by name.
    public var services: [String: Section]
    /// Where the files were looked for; for error messages.
    public var credentialsFilePath: String
    public var configFilePath: String

    /// Parses the two files' contents (either may be empty).
    public init(
        credentialsFile: String, configFile: String,
        credentialsFilePath: String = "credentials", configFilePath: String = "config"
    ) throws {
        self.credentialsFilePath = credentialsFilePath
        self.configFilePath = configFilePath
        self.credentialsFileProfiles = try INIParser.parse(credentialsFile, path: credentialsFilePath)
        self.configFileProfiles = [:]
        self.services = [:]
        let configSections = try INIParser.parse(configFile, path: configFilePath)
        // `[profile default]` is applied after `[default]`, so it wins if a file has both.
        for (name, section) in configSections.sorted(by: { $0.key < $1.key }) {
            if name == "default" {
                configFileProfiles["default", default: Section()].merge(section)
            } else if name.hasPrefix("profile ") {
                configFileProfiles[String(name.dropFirst("profile ".count)), default: Section()].merge(section)
            } else if name.hasPrefix("services ") {
                services[String(name.dropFirst("services ".count))] = section
            }
            // Other sections (sso-session, plain names) are not profiles; the SDKs ignore them too.
        }
    }

    /// Reads the files named by `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`, defaulting to
    /// `~/.aws/credentials` and `~/.aws/config`. Missing files are fine; unreadable or malformed ones
    /// throw, because silently ignoring a broken file hides the reason credentials are not found.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AWSSharedConfig {
        let credentialsPath = credentialsFilePath(environment: environment)
        let configPath = configFilePath(environment: environment)
        return try AWSSharedConfig(
            credentialsFile: try readIfPresent(credentialsPath), configFile: try readIfPresent(configPath),
            credentialsFilePath: credentialsPath, configFilePath: configPath
        )
    }

    public static func credentialsFilePath(environment: [String: String]) -> String {
        expandingHome(nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"]) ?? "~/.aws/credentials", environment)
    }

    public static func configFilePath(environment: [String: String]) -> String {
        expandingHome(nonEmpty(environment["AWS_CONFIG_FILE"]) ?? "~/.aws/config", environment)
    }

    // MARK: - Lookups

    /// The profile's properties, config file first and credentials file on top; `nil` when neither
    /// file has the profile.
    public func profile(_ name: String) -> [String: String]? {
        let fromConfig = configFileProfiles[name]
        let fromCredentials = credentialsFileProfiles[name]
        guard fromConfig != nil || fromCredentials != nil else { return nil }
        return (fromConfig?.values ?? [:]).merging(fromCredentials?.values ?? [:]) { _, credentials in credentials }
    }

    /// The `[services name]` section.
    public func servicesSection(_ name: String) -> Section? { services[name] }

    /// A per-service setting reached through the profile's `services = name` key, e.g.
    /// `serviceSetting(profile: "default", service: "personalize_events", key: "endpoint_url")`.
    public func serviceSetting(profile: String, service: String, key: String) -> String? {
        guard let servicesName = self.profile(profile)?["services"] else { return nil }
        return services[servicesName]?.nested[service.lowercased()]?[key.lowercased()]
    }

    // MARK: - Files

    private static func readIfPresent(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { return "" }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AWSSigV4Error.configFileInvalid(path: path, line: 0, reason: "file exists but cannot be read")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    private static func expandingHome(_ path: String, _ environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = nonEmpty(environment["HOME"]) ?? NSHomeDirectory()
        return home + path.dropFirst()
    }
}

extension AWSSharedConfig.Section {
    mutating func merge(_ other: Self) {
        values.merge(other.values) { _, new in new }
        nested.merge(other.nested) { _, new in new }
    }
}
