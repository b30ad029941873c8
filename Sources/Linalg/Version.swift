/// The ISACKit release this build comes from (semantic versioning; 0.x: the API may still change between minor
/// versions). Printed by `isac --version`; also written into result files that record provenance.
public let isacKitVersion = "0.14.0"
