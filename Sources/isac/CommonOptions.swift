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

// MARK: Codable results → the one-line `--json` object

/// The `--json` text of a `Codable` result: the value is encoded into the Foundation object tree
/// (`[String: Any]`, `[Any]`, `Double`, `Int`, `String`, `Bool`, …) and printed by `JSONOutput.string`, so a
/// result struct prints exactly the bytes the `[String: Any]` dictionary it replaces printed (sorted keys, no
/// spaces, non-finite numbers as `null`) provided each field keeps the Swift type of the dictionary value it
/// replaces (`Double` stays `Double`, `UInt64` stays `UInt64`). An optional that is nil is left out (as a key
/// that was never set), not written as `null`. Issue 12.
enum ResultJSON {
    /// `JSONOutput.string` of `value`'s object tree.
    static func string<T: Encodable>(_ value: T) throws -> String { try JSONOutput.string(try tree(value)) }

    /// The Foundation object tree of an `Encodable` value; any other value (an existing `[String: Any]`
    /// result of a library or of another command's merge) is returned as it is.
    static func tree(_ value: Any) throws -> Any {
        guard let e = value as? any Encodable else { return value }
        return try TreeEncoding.box(e, path: [])
    }

    /// The tree of `value` as a JSON object (for code that reads fields back, e.g. the merge's text summary).
    static func object(_ value: Any) throws -> [String: Any] {
        guard let o = try tree(value) as? [String: Any] else {
            throw ISACError.io("internal: a result did not encode to a JSON object")
        }
        return o
    }
}

/// A tree under construction: containers are reference nodes until `resolved`.
private final class TreeSlot {
    var content: Any = NSNull()
    var resolved: Any {
        switch content {
        case let o as TreeObject: return o.fields.mapValues { ($0 as? TreeSlot)?.resolved ?? $0 }
        case let a as TreeArray: return a.items.map { ($0 as? TreeSlot)?.resolved ?? $0 }
        default: return content
        }
    }
}
private final class TreeObject { var fields: [String: Any] = [:] }
private final class TreeArray { var items: [Any] = [] }

private enum TreeEncoding {
    /// Leaves stay the values they are; everything else is encoded through `TreeEncoder` into a fresh slot.
    static func box(_ value: any Encodable, path: [CodingKey]) throws -> Any {
        switch value {
        case let v as String: return v
        case let v as Bool: return v
        case let v as Double: return v
        case let v as Float: return v
        case let v as Int: return v
        case let v as Int8: return v
        case let v as Int16: return v
        case let v as Int32: return v
        case let v as Int64: return v
        case let v as UInt: return v
        case let v as UInt8: return v
        case let v as UInt16: return v
        case let v as UInt32: return v
        case let v as UInt64: return v
        default:
            let slot = TreeSlot()
            try value.encode(to: TreeEncoder(slot: slot, codingPath: path))
            return slot.resolved
        }
    }
}

private struct TreeKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { self.stringValue = "\(intValue)"; self.intValue = intValue }
}

private struct TreeEncoder: Encoder {
    let slot: TreeSlot
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let o: TreeObject
        if let existing = slot.content as? TreeObject { o = existing } else { o = TreeObject(); slot.content = o }
        return KeyedEncodingContainer(TreeKeyed<Key>(object: o, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        let a: TreeArray
        if let existing = slot.content as? TreeArray { a = existing } else { a = TreeArray(); slot.content = a }
        return TreeUnkeyed(array: a, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { TreeSingle(slot: slot, codingPath: codingPath) }
}

private struct TreeKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: TreeObject
    var codingPath: [CodingKey]

    private func put(_ v: Any, _ key: Key) { object.fields[key.stringValue] = v }
    mutating func encodeNil(forKey key: Key) throws { put(NSNull(), key) }
    mutating func encode(_ v: Bool, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: String, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Double, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Float, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int8, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int16, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int32, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int64, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt8, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt16, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt32, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt64, forKey key: Key) throws { put(v, key) }
    mutating func encode<T: Encodable>(_ v: T, forKey key: Key) throws { put(try TreeEncoding.box(v, path: codingPath + [key]), key) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let slot = TreeSlot(); put(slot, key)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let slot = TreeSlot(); put(slot, key)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder {
        let slot = TreeSlot(); object.fields["super"] = slot
        return TreeEncoder(slot: slot, codingPath: codingPath + [TreeKey(stringValue: "super")])
    }
    mutating func superEncoder(forKey key: Key) -> Encoder {
        let slot = TreeSlot(); put(slot, key)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key])
    }
}

private struct TreeUnkeyed: UnkeyedEncodingContainer {
    let array: TreeArray
    var codingPath: [CodingKey]
    var count: Int { array.items.count }

    private func add(_ v: Any) { array.items.append(v) }
    private var nextKey: CodingKey { TreeKey(intValue: array.items.count) }
    mutating func encodeNil() throws { add(NSNull()) }
    mutating func encode(_ v: Bool) throws { add(v) }
    mutating func encode(_ v: String) throws { add(v) }
    mutating func encode(_ v: Double) throws { add(v) }
    mutating func encode(_ v: Float) throws { add(v) }
    mutating func encode(_ v: Int) throws { add(v) }
    mutating func encode(_ v: Int8) throws { add(v) }
    mutating func encode(_ v: Int16) throws { add(v) }
    mutating func encode(_ v: Int32) throws { add(v) }
    mutating func encode(_ v: Int64) throws { add(v) }
    mutating func encode(_ v: UInt) throws { add(v) }
    mutating func encode(_ v: UInt8) throws { add(v) }
    mutating func encode(_ v: UInt16) throws { add(v) }
    mutating func encode(_ v: UInt32) throws { add(v) }
    mutating func encode(_ v: UInt64) throws { add(v) }
    mutating func encode<T: Encodable>(_ v: T) throws { add(try TreeEncoding.box(v, path: codingPath + [nextKey])) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = nextKey, slot = TreeSlot(); add(slot)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let key = nextKey, slot = TreeSlot(); add(slot)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder {
        let key = nextKey, slot = TreeSlot(); add(slot)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key])
    }
}

private struct TreeSingle: SingleValueEncodingContainer {
    let slot: TreeSlot
    var codingPath: [CodingKey]

    private func set(_ v: Any) { slot.content = v }
    mutating func encodeNil() throws { set(NSNull()) }
    mutating func encode(_ v: Bool) throws { set(v) }
    mutating func encode(_ v: String) throws { set(v) }
    mutating func encode(_ v: Double) throws { set(v) }
    mutating func encode(_ v: Float) throws { set(v) }
    mutating func encode(_ v: Int) throws { set(v) }
    mutating func encode(_ v: Int8) throws { set(v) }
    mutating func encode(_ v: Int16) throws { set(v) }
    mutating func encode(_ v: Int32) throws { set(v) }
    mutating func encode(_ v: Int64) throws { set(v) }
    mutating func encode(_ v: UInt) throws { set(v) }
    mutating func encode(_ v: UInt8) throws { set(v) }
    mutating func encode(_ v: UInt16) throws { set(v) }
    mutating func encode(_ v: UInt32) throws { set(v) }
    mutating func encode(_ v: UInt64) throws { set(v) }
    mutating func encode<T: Encodable>(_ v: T) throws { set(try TreeEncoding.box(v, path: codingPath)) }
}
