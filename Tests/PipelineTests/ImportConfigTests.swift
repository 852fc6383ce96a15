import AgentConfig
import JSON
import Pipeline
import Testing

/// The `import` section of config.json: role and dataset ARNs checked against the service's patterns, unknown keys
/// named.
@Suite struct ImportConfigTests {
    static let mappings =
        #"{"m": {"target": "user", "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/x/USERS", "fields": {"userId": "id"}}}"#

    func parse(_ section: String) -> Result<AgentConfig, ConfigError> {
        do {
            let text = #"{"sources": [{"paths": ["a"]}], "mappings": \#(Self.mappings), "import": \#(section)}"#
            return .success(try AgentConfig.parse(try JSONParser.parse(text), baseDirectory: "/base"))
        } catch let error as ConfigError {
            return .failure(error)
        } catch {
            Issue.record("\(error)")
            return .failure(ConfigError(issues: []))
        }
    }

    @Test func validRoleAndDatasetsAreKept() throws {
        let config = try parse(
            #"{"roleArn": "arn:aws:iam::123456789012:role/PersonalizeS3Access", "datasets": {"interactions": "arn:aws:personalize:us-east-1:123456789012:dataset/shop/INTERACTIONS"}}"#
        ).get()
        #expect(config.importSettings.roleArn == "arn:aws:iam::123456789012:role/PersonalizeS3Access")
        #expect(
            config.importSettings.datasets["interactions"]
                == "arn:aws:personalize:us-east-1:123456789012:dataset/shop/INTERACTIONS")
    }

    @Test func badValuesAndUnknownKeysNameTheirPath() {
        guard
            case .failure(let error) = parse(
                #"{"roleArn": "arn:aws:iam::12:role/x", "datasets": {"items": "arn:aws:s3:::b"}, "rolArn": 1}"#)
        else {
            Issue.record("accepted")
            return
        }
        let found = error.issues.map(\.description)
        #expect(found.contains { $0.hasPrefix("import.roleArn: must be an IAM role ARN") })
        #expect(found.contains { $0.hasPrefix("import.datasets.items: must be a dataset ARN") })
        #expect(found.contains { $0.hasPrefix("import.rolArn: unknown key") })
    }
}
