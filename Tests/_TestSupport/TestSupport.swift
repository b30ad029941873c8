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

/// Exit status and captured output of one child process.
public struct ProcessRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `exe args` to completion with this process's environment plus `env`, capturing stdout and stderr.
public func runProcess(_ exe: URL, _ args: [String], env: [String: String] = [:]) throws -> ProcessRun {
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    if !env.isEmpty {
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
    }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    // Drain both pipes before waiting, so a child that fills one pipe cannot block.
    let o = out.fileHandleForReading.readDataToEndOfFile(), r = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ProcessRun(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: r, as: UTF8.self))
}

/// Runs the `isac` binary built beside the test bundle (`isacBinary()`).
public func runIsac(_ args: [String], env: [String: String] = [:]) throws -> ProcessRun {
    try runProcess(try isacBinary(), args, env: env)
}

/// A fresh, unique temporary path for one test (tests run in parallel): `NSTemporaryDirectory()/isac-<prefix>-<tag>-
/// <pid>-<random>`. With `create` the folder is created (empty); without it the path does not exist yet (for commands
/// that must create their own output folder).
public func tempDir(_ tag: String = #function, prefix: String = "test", create: Bool = true) -> String {
    let safe = tag.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    let d = NSTemporaryDirectory() + "isac-\(prefix)-\(safe)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    if create { try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
    return d
}
