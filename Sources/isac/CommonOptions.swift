import ArgumentParser
import Foundation
import ISACIO
import Linalg

/// Shared CLI plumbing used by every command: the entry point's error mapping, `help` topic
/// validation, and the output guards (`--out` pre-flight, `--force`, staged folders).
///
/// Output rules (docs/reliability.md):
/// - an `--out` FILE is pre-flighted before the computation (`CLIOutput.checkFile`): no symlink,
///   FIFO, device, folder or trailing `/`, and its folder must be writable;
/// - an `--out` FOLDER of a one-shot command (train, tradeoff, figure, extended train) is written
///   through `CLIOutput.stage`: refused when non-empty unless `--force`, written into a hidden
///   staging folder, renamed into place at the end (`StagedDirectory.commit()`).
enum CLIOutput {
    /// Pre-flight of an output file flag (creates nothing).
    static func checkFile(_ path: String, flag: String = "--out") throws {
        try OutputPaths.preflightFile(path, flag: flag)
    }

    /// Pre-flight of an output folder flag that is filled incrementally (creates nothing).
    static func checkFolder(_ dir: String, flag: String = "--out") throws {
        try OutputPaths.preflightFolder(dir, flag: flag)
    }

    /// A staged output folder for a one-shot command: write into `.path`, then `commit()`.
    static func stage(_ dir: String, flag: String = "--out", force: Bool) throws -> StagedDirectory {
        try StagedDirectory(dir, flag: flag, force: force)
    }

    /// The side-effect-free part of `stage` for `validate()`: the folder is usable and, unless
    /// `force`, new or empty.
    static func checkStaged(_ dir: String, flag: String = "--out", force: Bool) throws {
        try OutputPaths.preflightFolder(dir, flag: flag)
        if !force && OutputPaths.isNonEmptyFolder(dir) {
            throw ISACError.invalidParameter(name: flag, value: dir,
                valid: "must be a new or empty folder (it already holds files; pass --force to replace them)")
        }
    }

    /// An existing dataset folder given as `--out` to `dataset merge`/`info`.
    static func checkDatasetFolder(_ dir: String, flag: String = "--out") throws {
        var isDir: ObjCBool = false
        guard !dir.isEmpty, FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ISACError.invalidParameter(name: flag, value: dir.isEmpty ? "\"\"" : dir, valid: "must be an existing dataset folder (from `isac dataset generate --out`)")
        }
    }

    /// `value` with every string that starts with `from` rewritten to start with `to` (results
    /// that name files written into a staging folder, reported under the final folder).
    static func rewritePaths(_ value: Any, from: String, to: String) -> Any {
        switch value {
        case let s as String: return s.hasPrefix(from) ? to + s.dropFirst(from.count) : s
        case let a as [Any]: return a.map { rewritePaths($0, from: from, to: to) }
        case let d as [String: Any]: return d.mapValues { rewritePaths($0, from: from, to: to) }
        default: return value
        }
    }
}

/// A one-line user error produced from a Foundation error or a decoding error (never a raw
/// NSCocoaErrorDomain / DecodingError dump).
struct CLIFailure: Error, CustomStringConvertible {
    let description: String

    /// Returns `error` itself when it is already user-level (ISACError, ArgumentParser's own errors
    /// and exit codes), else a `CLIFailure` with a clean message.
    static func wrap(_ error: Error) -> Error {
        if error is ISACError || error is ExitCode || error is CleanExit || error is ValidationError { return error }
        if let m = ISACError.describeFoundationError(error) { return CLIFailure(description: m) }
        if let d = error as? DecodingError { return CLIFailure(description: describe(d)) }
        if error is EncodingError { return CLIFailure(description: "cannot encode the output as JSON (non-finite or unsupported value)") }
        return error
    }

    static func describe(_ d: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at \(p)"
        }
        switch d {
        case let .typeMismatch(t, c): return "malformed JSON input: expected \(t)\(path(c))"
        case let .valueNotFound(t, c): return "malformed JSON input: missing \(t) value\(path(c))"
        case let .keyNotFound(k, c): return "malformed JSON input: missing key '\(k.stringValue)'\(path(c))"
        case let .dataCorrupted(c): return "malformed JSON input\(path(c)): \(c.debugDescription)"
        @unknown default: return "malformed JSON input"
        }
    }
}

enum CLIMain {
    /// Parses and runs `root`, mapping every error to one clean line on stderr and a non-zero
    /// exit; `isac help TOPIC` with an unknown topic is an error (ArgumentParser would print the
    /// root help and exit 0).
    static func run(_ root: ParsableCommand.Type) -> Never {
        let args = Array(CommandLine.arguments.dropFirst())
        if let bad = unknownHelpTopic(args, root: root) {
            root.exit(withError: ValidationError("unknown command '\(bad)' in `help \(args.dropFirst().joined(separator: " "))`; run `\(root._commandName) --help` for the list of commands"))
        }
        do {
            var command = try root.parseAsRoot(args)
            try command.run()
            root.exit()
        } catch {
            root.exit(withError: CLIFailure.wrap(error))
        }
    }

    /// The first word after `help` that is not a subcommand of the words before it, or nil.
    static func unknownHelpTopic(_ args: [String], root: ParsableCommand.Type) -> String? {
        guard args.first == "help" else { return nil }
        var node = root
        for word in args.dropFirst() where !word.hasPrefix("-") {
            guard let next = node.configuration.subcommands.first(where: { $0._commandName == word }) else { return word }
            node = next
        }
        return nil
    }
}

// MARK: Shared output flags

/// `--json`, as every command that can answer with one JSON object declares it.
struct JSONOption: ParsableArguments {
    @Flag(name: .customLong("json"), help: "Print one JSON object on stdout.") var json = false
}

/// `--json` and `--quiet`, for commands that also draw a progress line.
struct JSONQuietOptions: ParsableArguments {
    @Flag(name: .customLong("json"), help: "Print one JSON object on stdout.") var json = false
    @Flag(name: .customLong("quiet"), help: "No progress line on stderr.") var quiet = false
}

// MARK: `--json` helpers

/// A JSON object key chosen at run time (metric names, `val_` prefixes).
struct RunTimeKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// `base`'s JSON object with `fields` added as further keys (known only at run time); a later field replaces an
/// earlier key of the same name, as assigning into the `[String: Any]` it replaces did. Relies on the encoder
/// handing the same keyed container to `base` and to the added fields (`ResultJSON` does).
struct WithFields<Base: Encodable, Value: Encodable>: Encodable {
    var base: Base
    var fields: [(String, Value)]
    init(_ base: Base, _ fields: [(String, Value)]) { self.base = base; self.fields = fields }
    func encode(to encoder: Encoder) throws {
        try base.encode(to: encoder)
        var c = encoder.container(keyedBy: RunTimeKey.self)
        for (k, v) in fields { try c.encode(v, forKey: RunTimeKey(k)) }
    }
}

/// `--threads N` into the process-wide `ThreadCount` (every parallel loop: Learning, multi-target gradients, SOMP,
/// the scattering solvers); without the flag, a set ISAC_THREADS / OMP_NUM_THREADS is checked now so that a bad value
/// is refused before any work (it is read when the count is first used; else the CPU affinity mask).
func applyThreadOption(_ n: Int?) throws {
    if let n { try ThreadCount.set(n) } else { _ = try ThreadCount.fromEnvironment() }
}
