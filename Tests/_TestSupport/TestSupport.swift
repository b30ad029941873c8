import Foundation

// Helpers shared by several test targets (a plain library target that only test targets depend on), so that
// the copies in the individual test files can go. Issue 12.

/// A helper could not find what the tests need (e.g. the `isac` binary).
public enum TestSupportError: Error, CustomStringConvertible {
    case missing(String)
    public var description: String { switch self { case let .missing(s): return "missing: \(s)" } }
}

/// The `isac` executable SwiftPM builds beside the test bundle: the bundle lives in
/// .build/<triple>/<config>/ (or a folder below it), so look there and up to two folders above.
public func isacBinary() throws -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("isac")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw TestSupportError.missing("isac binary next to \(CommandLine.arguments[0])")
}
