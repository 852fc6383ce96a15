/// What the mappings can put into `properties`, for tools that need the set of columns up front (the bulk
/// export writes one CSV column per property).
extension MappingSet {
    /// The property keys (camelCase, as written into the `properties` string) that mappings producing `target`
    /// may set, in first-seen configuration order, without duplicates.
    public func propertyKeys(for target: Target) -> [String] {
        var seen = Set<String>()
        var keys: [String] = []
        for m in mappings where m.target == target {
            for p in m.properties where seen.insert(p.key).inserted { keys.append(p.key) }
        }
        return keys
    }
}
