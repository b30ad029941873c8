import Foundation
import ISACIO
import Testing
import _TestSupport

// The bad-input suite of issue 13: every subcommand × every option × every kind of bad value,
// generated from the command tree (`isac --experimental-dump-help`, ArgumentParser's JSON dump of
// every command and option), so a new flag is probed the day it appears.
//
// For each probe it asserts: a non-zero exit, no signal, an end within the probe timeout, a
// message naming the flag (or the file), nothing on stdout, and no file left behind in the probe's
// scratch folder (also the working directory). Values that are *valid* for a flag are listed in
// `BadInput.allowList` (with a reason); such probes must either fail cleanly or succeed with
// finite output.
//
// Cost control: probes run in a small pool (`ISAC_BADINPUT_JOBS`, default 3) with a per-probe
// timeout (`ISAC_BADINPUT_TIMEOUT`, default 30 s); valid-value probes of heavy commands only get
// `validProbeSeconds` (a run still going by then counts as accepted — the computation itself is not
// this suite's business). The summary is printed and written to docs/reliability.md; the full
// per-probe table goes to $TMPDIR/isac-badinput-report.tsv.

// MARK: - Running the binary

struct ProbeRun: Sendable {
    var status: Int32
    var signaled: Bool
    var timedOut: Bool
    var stdout: String
    var stderr: String
    var seconds: Double
}

/// Runs the binary with `args` in `cwd` (via `env -C`), in its own process group, and SIGKILLs the
/// group after `timeout` seconds. Uses posix_spawn + waitpid directly: Foundation's `Process` can
/// block forever in `waitUntilExit` on a child that crashed while the Swift backtracer ran.
/// Output goes through files outside `cwd` so a chatty command cannot block on a full pipe.
func runProbe(_ exe: URL, _ args: [String], cwd: String, logDir: String, timeout: Double, maxOutput: Int = 20_000) throws -> ProbeRun {
    let tag = "\(UInt64.random(in: 0...UInt64.max))"
    let outPath = logDir + "/\(tag).out", errPath = logDir + "/\(tag).err"
    defer { unlink(outPath); unlink(errPath) }
    var fa = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fa)
    defer { posix_spawn_file_actions_destroy(&fa) }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&fa, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&fa, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attr, 0)
    let argv = ["/usr/bin/env", "-C", cwd, exe.path] + args
    var env = ProcessInfo.processInfo.environment
    env["SWIFT_BACKTRACE"] = "enable=no"  // a crash is reported by its signal; no backtracer child
    let envv = env.map { "\($0.key)=\($0.value)" }
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    var cEnv: [UnsafeMutablePointer<CChar>?] = envv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) }; for p in cEnv { free(p) } }
    var pid: pid_t = 0
    let t0 = Date()
    let rc = posix_spawn(&pid, "/usr/bin/env", &fa, &attr, &cArgs, &cEnv)
    guard rc == 0 else { throw BadInput.Failure("posix_spawn failed: \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    var timedOut = false
    while true {
        let w = waitpid(pid, &status, WNOHANG)
        if w == pid { break }
        if w < 0 && errno != EINTR { break }
        if Date().timeIntervalSince(t0) > timeout && !timedOut {
            timedOut = true
            kill(-pid, SIGKILL); kill(pid, SIGKILL)
        }
        usleep(10_000)
    }
    kill(-pid, SIGKILL)  // leftover children of the group (e.g. a converter)
    let read = { (path: String) -> String in
        let d = FileManager.default.contents(atPath: path) ?? Data()
        return String(decoding: d.prefix(maxOutput), as: UTF8.self)
    }
    let sig = status & 0x7f
    let exitCode = (status >> 8) & 0xff
    return ProbeRun(status: sig == 0 ? exitCode : sig, signaled: sig != 0 && !timedOut,
                    timedOut: timedOut, stdout: read(outPath), stderr: read(errPath), seconds: Date().timeIntervalSince(t0))
}

// MARK: - The command tree

enum BadInput {
    struct Failure: Error, CustomStringConvertible { let description: String; init(_ s: String) { description = s } }

    /// One `--name` option of a leaf command, as the help dump describes it.
    struct Option: Sendable {
        var name: String
        var abstract: String
        var defaultValue: String?
        var isOptional: Bool
        var allValues: [String]
        var required: Bool { !isOptional && defaultValue == nil }
    }

    struct Command: Sendable {
        var path: [String]
        var options: [Option]
        var flags: [String]
        var display: String { path.joined(separator: " ") }
    }

    /// Leaf commands (those that run) from the dump's tree, without ArgumentParser's `help`.
    static func commands(fromDump data: Data) throws -> [Command] {
        guard let root = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["command"] as? [String: Any] else {
            throw Failure("--experimental-dump-help printed no command tree")
        }
        var out: [Command] = []
        func walk(_ node: [String: Any], _ path: [String]) {
            let subs = (node["subcommands"] as? [[String: Any]] ?? []).filter { ($0["commandName"] as? String) != "help" }
            if !subs.isEmpty {
                for s in subs { walk(s, path + [s["commandName"] as? String ?? "?"]) }
                return
            }
            var opts: [Option] = [], flags: [String] = []
            for a in node["arguments"] as? [[String: Any]] ?? [] {
                let names = a["names"] as? [[String: Any]] ?? []
                guard let long = names.first(where: { ($0["kind"] as? String) == "long" })?["name"] as? String else { continue }
                if ["help", "version", "experimental-dump-help"].contains(long) { continue }
                switch a["kind"] as? String {
                case "option":
                    opts.append(Option(name: long, abstract: a["abstract"] as? String ?? "", defaultValue: a["defaultValue"] as? String,
                                       isOptional: a["isOptional"] as? Bool ?? false, allValues: a["allValues"] as? [String] ?? []))
                case "flag": flags.append(long)
                default: break
                }
            }
            out.append(Command(path: path, options: opts, flags: flags))
        }
        walk(root, [])
        return out
    }

    // MARK: Kinds of options

    enum Kind: Sendable { case value, outputFile, outputFolder, inputFile, inputFolder }

    /// Options whose help text misleads the classifier below, by `command|flag` (with why):
    /// paths inside a Kubernetes pod are strings checked for form (absolute, under --mount), not
    /// files on this machine; `cluster slurm --dir` is where the scripts and logs are written.
    static let kindOverrides: [String: (Kind, String)] = [
        "cluster k8s|mount": (.value, "mount path inside the pods, not a local file"),
        "cluster k8s|dir": (.value, "working folder inside the pods (under --mount), not a local folder"),
        "cluster slurm|dir": (.outputFolder, "scripts and logs are written there"),
    ]

    /// Options whose value is a *name* (a Slurm partition, a container image, a DNS name, a
    /// program on the compute nodes), by `command|flag` regex. A number-shaped string such as
    /// `0`, `1e12` or `nan` is a perfectly valid name there, so they get the probes that can make
    /// a name wrong — empty, a leading dash, whitespace — and one valid word (`abc`, which must
    /// be accepted with finite output).
    static let nameOptions: [(pattern: String, why: String)] = [
        (#"^cluster slurm\|(partition|account)$"#, "Slurm partition / account name"),
        (#"^cluster (slurm|k8s)\|isac$"#, "program name or path on the compute nodes"),
        (#"^cluster k8s\|(image|pvc|name)$"#, "container image reference / Kubernetes object name"),
    ]

    static func isNameOption(_ c: Command, _ o: Option) -> Bool {
        let key = "\(c.display)|\(o.name)"
        return nameOptions.contains { key.range(of: $0.pattern, options: .regularExpression) != nil }
    }

    /// Classifies an option of command `c` (overrides first, then `kind(_:)`).
    static func kind(_ o: Option, in c: Command) -> Kind {
        if isNameOption(c, o) { return .value }
        return kindOverrides["\(c.display)|\(o.name)"]?.0 ?? kind(o)
    }

    /// Classifies an option by its name and help text (the dump carries no Swift types).
    static func kind(_ o: Option) -> Kind {
        let n = o.name, a = o.abstract.lowercased()
        // A numeric default means a value, whatever the name says (`multitarget bench --export 50`).
        if let d = o.defaultValue, Double(d) != nil { return .value }
        let outish = n == "out" || n == "output" || n.hasPrefix("out-") || n.hasSuffix("-out") || n == "export" || n.hasPrefix("write-")
            || a.hasPrefix("output") || a.hasPrefix("folder for") || a.hasPrefix("write ")
        let folder = a.contains("folder") || a.contains("directory")
        if outish { return folder ? .outputFolder : .outputFile }
        let inputNames: Set = ["model", "data", "checkpoint", "dataset", "input", "from", "weights", "init", "manifest", "nnbl", "learned"]
        let pathish = inputNames.contains(n) || n.hasSuffix("-path") || n.hasSuffix("-file") || n.hasSuffix("-model")
            || n.hasSuffix("-checkpoint") || n.hasSuffix("-data") || a.contains(".npz") || a.contains(".npy")
            || a.contains("checkpoint") || a.contains(" path") || a.contains("folder")
        if pathish { return folder ? .inputFolder : .inputFile }
        return .value
    }

    static func looksInteger(_ o: Option) -> Bool {
        guard let d = o.defaultValue else { return false }
        return Int(d) != nil || UInt64(d) != nil
    }

    static func looksNumeric(_ o: Option) -> Bool {
        guard let d = o.defaultValue else { return true }  // unknown type: probe it as a number too
        return Double(d) != nil
    }

    /// Probability-like options get out-of-range probes (1.5 and −0.5) besides the generic ones.
    static func probabilityLike(_ o: Option) -> Bool {
        let a = o.abstract.lowercased()
        return a.contains("probabilit") || a.contains("(0, 1)") || a.contains("[0, 1]") || a.contains("(0,1)")
            || ["pfa", "p-fa", "target-pfa", "delta", "rho", "eta", "dropout"].contains(o.name)
    }

    // MARK: Bad values

    /// Which kind of bad value a probe uses (for the allow-list and the report).
    enum Category: String, Sendable, CaseIterable {
        case negative, zero, huge, hugeInt = "huge-int", intMax = "int-max", nan, inf, nonNumeric = "non-numeric", empty
        case probAbove = "prob>1", probBelow = "prob<0"
        case missingFile = "missing", directory, emptyFile = "empty-file", garbage, truncatedNPY = "truncated-npy"
        case wrongDtypeNPY = "wrong-dtype-npy", wrongShapeNPY = "wrong-shape-npy", wrongKindNPZ = "wrong-kind-npz"
        case truncatedNPZ = "truncated-npz", garbageManifest = "garbage-manifest", fileForFolder = "file-for-folder"
        case deviceNode = "device", fifo, symlink, trailingSlash = "trailing-slash", underAFile = "under-a-file"
        case nonEmptyFolder = "non-empty-folder", unknownFlag = "unknown-flag", whitespace
    }

    /// Probes of a name option (see `nameOptions`): `abc` is the valid one.
    static let nameValues: [(Category, String)] = [(.negative, "-1"), (.empty, ""), (.whitespace, "a b"), (.nonNumeric, "abc")]

    static func values(for o: Option, in c: Command) -> [(Category, String)] {
        isNameOption(c, o) ? nameValues : values(for: o)
    }

    static func values(for o: Option) -> [(Category, String)] {
        guard o.allValues.isEmpty || looksNumeric(o) else {
            return [(.nonNumeric, "abc"), (.empty, ""), (.negative, "-1")]
        }
        var v: [(Category, String)] = [(.negative, "-1"), (.zero, "0"), (.huge, "1e12"), (.nan, "nan"), (.inf, "inf"),
                                       (.nonNumeric, "abc"), (.empty, "")]
        if looksInteger(o) || o.defaultValue == nil { v += [(.hugeInt, "1000000000000"), (.intMax, "9223372036854775807")] }
        if probabilityLike(o) { v += [(.probAbove, "1.5"), (.probBelow, "-0.5")] }
        return v
    }

    // MARK: Allow-list: values that are valid for a flag

    /// (flag-name pattern, categories that are valid for it, why). A probe on the list passes if it
    /// fails cleanly *or* succeeds with finite output.
    static let allowList: [(pattern: String, categories: Set<Category>, why: String)] = [
        ("^seed$|-seed$", [.zero, .hugeInt, .intMax], "any UInt64 is a seed"),
        ("-db$", [.negative, .zero], "dB values may be ≤ 0"),
        ("^(azimuth|heading|angle)-deg$|^sector-(min|max)$|^comm-(min|max)$|^phi$", [.negative, .zero], "angles (degrees) may be ≤ 0"),
        ("^eps-im$", [.negative, .zero], "Im ε_r ≤ 0 (lossless or lossy)"),
        ("^eps-re$", [.negative, .zero], "Re ε_r ≤ 0 (metal-like; 0 − 0.5j with the default loss is an epsilon-near-zero medium, VIE vs Mie ≈ 3 %) is physical"),
        ("^sensing-tones$", [.zero], "K_s = 0 (no sensing tones) is valid"),
        ("^eta$|^train-eta-min$", [.zero], "η = 0: all power to communication"),
        ("^exclusion-cells$|^warmup$|^test-samples$", [.zero], "documented: 0 allowed"),
        ("^spacing-std-mm$|^array-height$", [.zero], "0 = no impairment / array on the ground"),
        ("^range-bias-init$", [.negative, .zero], "a bias may be any real"),
        ("^total-tones$", [.hugeInt, .intMax], "rate: closed form, O(1) work and finite for any K_tot"),
        ("^max-chunks$", [.hugeInt, .intMax], "a limit above the chunk count means no limit"),
    ]

    /// Like `allowList`, for one command only: (command, flag-name pattern, categories, why).
    static let commandAllowList: [(command: String, pattern: String, categories: Set<Category>, why: String)] = [
        ("cluster slurm", "^mem$", [.zero], "Slurm: --mem=0 grants all memory of each node"),
        ("cluster slurm", "^time$", [.zero], "Slurm: --time=0 requests no time limit"),
        ("multitarget train-sweep", "^seeds$", [.zero, .hugeInt, .intMax], "any UInt64 is a seed"),
    ]

    static func allowed(_ flag: String, _ c: Category) -> Bool {
        allowList.contains { flag.range(of: $0.pattern, options: .regularExpression) != nil && $0.categories.contains(c) }
    }

    static func allowed(_ probe: Probe) -> Bool {
        if allowed(probe.flag, probe.category) { return true }
        if probe.category == .nonNumeric, let o = probe.command.options.first(where: { $0.name == probe.flag }), isNameOption(probe.command, o) { return true }
        return commandAllowList.contains { $0.command == probe.command.display && probe.flag.range(of: $0.pattern, options: .regularExpression) != nil && $0.categories.contains(probe.category) }
    }

    /// Arguments a command needs besides its required options so that a probe reaches the flag
    /// under test: `extra` goes before the probed flag, `trailing` at the end (after `--`).
    /// `cluster`: a valid shardable command after `--` (without it every probe only learns that
    /// COMMAND is missing) and `--dry-run` (nothing is submitted; only `--sbatch` needs a real
    /// submission to be exercised). `merge`: one (absent) shard folder, read after the flags are checked.
    static func baseArguments(_ probe: Probe, dir: String) -> (extra: [String], trailing: [String]) {
        let inner = ["--", "multitarget", "evaluate", "--samples", "4"]
        switch probe.command.display {
        case "cluster slurm": return (probe.flag == "sbatch" ? [] : ["--dry-run"], inner)
        case "cluster k8s": return ([], inner)
        case "merge": return ([dir + "/missing-shards"], [])
        // train-sweep: a one-step train on a tiny system, so that a valid value (a seed) finishes in a second.
        case "multitarget train-sweep": return ([], ["--", "--antennas", "8", "--subcarriers", "16", "--n-theta", "16", "--n-tau", "8",
                                                     "--steps", "1", "--batch", "1", "--test-samples", "0"])
        default: return ([], [])
        }
    }

    // MARK: Known findings in other areas (to be fixed by their owners; see docs/reliability.md)

    /// "command|flag|category" of findings in files the suite's author does not own, one per line
    /// in Tests/isacTests/badinput-known-findings.txt (text after `#` is a note). They are reported
    /// but do not fail the test; delete a line once fixed (the suite prints lines that no longer
    /// reproduce).
    static let knownFindings: Set<String> = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("badinput-known-findings.txt").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").compactMap { line in
            let key = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return key.isEmpty ? nil : key
        })
    }()

    /// Known findings whose note says `hang` (the probe ran into the timeout when it was listed).
    /// They get `knownHangSeconds` instead of the full timeout: they are reported either way, and a
    /// hang costs the suite its whole timeout (84 hangs × 30 s were ¾ of the merged tree's 19 min).
    /// A fix that errors in under `knownHangSeconds` is still seen (its line is printed as stale);
    /// a new hang, not on the list, still gets the full timeout.
    static let knownHangs: Set<String> = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("badinput-known-findings.txt").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].trimmingCharacters(in: .whitespaces).hasPrefix("hang") else { return nil }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            return key.isEmpty ? nil : key
        })
    }()
    static let knownHangSeconds = 10.0

    /// Commands whose valid runs are cheap (< 1 s): valid-value probes run them to the end.
    static let lightCommands: Set<String> = ["rate", "wideband coherence-threshold"]
    static let validProbeSeconds = 3.0
}

// MARK: - Fixtures

/// Writes the bad input files a path probe needs into `dir` and returns the path to pass.
private func fixture(_ c: BadInput.Category, in dir: String, kind: BadInput.Kind) throws -> String {
    let fm = FileManager.default
    func npy(_ a: NPYArray) -> Data { NPY.encode(a) }
    switch c {
    case .missingFile: return dir + "/missing" + (kind == .inputFolder ? "" : ".npz")
    case .directory:
        try fm.createDirectory(atPath: dir + "/a-folder", withIntermediateDirectories: true); return dir + "/a-folder"
    case .emptyFile: fm.createFile(atPath: dir + "/empty.npz", contents: Data()); return dir + "/empty.npz"
    case .garbage:
        fm.createFile(atPath: dir + "/garbage.npz", contents: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }))
        return dir + "/garbage.npz"
    case .truncatedNPY:
        let d = npy(NPYArray(float32: [Float](repeating: 1, count: 64), shape: [8, 8]))
        fm.createFile(atPath: dir + "/truncated.npy", contents: d.prefix(d.count - 40)); return dir + "/truncated.npy"
    case .wrongDtypeNPY:
        fm.createFile(atPath: dir + "/int.npy", contents: npy(NPYArray(int32: [1, 2, 3, 4], shape: [2, 2]))); return dir + "/int.npy"
    case .wrongShapeNPY:
        fm.createFile(atPath: dir + "/shape.npy", contents: npy(NPYArray(float32: [1, 2, 3], shape: [3]))); return dir + "/shape.npy"
    case .wrongKindNPZ:
        try NPZ.write(["unrelated": NPYArray(float64: [1, 2, 3], shape: [3])], to: dir + "/other.npz"); return dir + "/other.npz"
    case .truncatedNPZ:
        try NPZ.write(["w": NPYArray(float32: [Float](repeating: 0.5, count: 256), shape: [16, 16])], to: dir + "/t.npz")
        let d = try Data(contentsOf: URL(fileURLWithPath: dir + "/t.npz"))
        fm.createFile(atPath: dir + "/t.npz", contents: d.prefix(d.count / 2)); return dir + "/t.npz"
    case .garbageManifest:
        try fm.createDirectory(atPath: dir + "/bad-dataset/chunks", withIntermediateDirectories: true)
        for n in ["manifest.json", "config.json", "model.json"] { fm.createFile(atPath: dir + "/bad-dataset/" + n, contents: Data("{\"format\": 3, [".utf8)) }
        return dir + "/bad-dataset"
    case .fileForFolder: fm.createFile(atPath: dir + "/plain-file", contents: Data("x".utf8)); return dir + "/plain-file"
    case .deviceNode: return "/dev/null"
    case .fifo:
        guard mkfifo(dir + "/fifo", 0o644) == 0 else { throw BadInput.Failure("mkfifo failed") }
        return dir + "/fifo"
    case .symlink:
        fm.createFile(atPath: dir + "/target.txt", contents: Data("keep me\n".utf8))
        try fm.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/target.txt"); return dir + "/link"
    case .trailingSlash: return dir + "/newdir/"
    case .underAFile:
        fm.createFile(atPath: dir + "/plain-file", contents: Data("x".utf8)); return dir + "/plain-file/sub/out"
    case .nonEmptyFolder:
        try fm.createDirectory(atPath: dir + "/full", withIntermediateDirectories: true)
        fm.createFile(atPath: dir + "/full/precious.txt", contents: Data("keep me\n".utf8)); return dir + "/full"
    default: throw BadInput.Failure("no fixture for \(c)")
    }
}

private func pathProbes(_ k: BadInput.Kind, command: BadInput.Command) -> [BadInput.Category] {
    switch k {
    case .inputFile: return [.missingFile, .directory, .emptyFile, .garbage, .truncatedNPY, .wrongDtypeNPY, .wrongShapeNPY, .wrongKindNPZ, .truncatedNPZ]
    case .inputFolder: return [.missingFile, .fileForFolder, .garbageManifest, .directory]
    case .outputFile: return [.deviceNode, .fifo, .symlink, .trailingSlash, .underAFile, .directory]
    case .outputFolder:
        return [.deviceNode, .fifo, .fileForFolder, .underAFile] + (command.flags.contains("force") ? [.nonEmptyFolder] : [])
    case .value: return []
    }
}

/// Listing of everything under `dir` (relative path + type + size), to detect leftovers.
private func snapshot(_ dir: String) -> Set<String> {
    var out = Set<String>()
    guard let e = FileManager.default.enumerator(atPath: dir) else { return out }
    while let rel = e.nextObject() as? String {
        var st = stat()
        lstat(dir + "/" + rel, &st)
        out.insert("\(rel)|\(st.st_mode & S_IFMT)|\((st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : 0)")
    }
    return out
}

// MARK: - Probes and outcomes

struct Probe: Sendable {
    var command: BadInput.Command
    var flag: String
    var category: BadInput.Category
    var kind: BadInput.Kind
    var rawValue: String?
    var key: String { "\(command.display)|\(flag)|\(category.rawValue)" }
}

enum Outcome: String, Sendable {
    case clean = "clean error", cleanOther = "clean error (other argument)", unclear, acceptedValid = "accepted (valid value)", acceptedBad = "accepted (bad value)"
    case nanSuccess = "NaN as success", crash, hang, skipped
}

struct Result1: Sendable { var probe: Probe; var outcome: Outcome; var detail: String; var args: [String]; var seconds = 0.0 }

private let forbiddenMarkers = ["NSCocoaErrorDomain", "Fatal error", "DecodingError", "UserInfo=", "Stack dump", "Swift runtime failure",
                                "Swift.", "Foundation.", "LAPACK gesv info", "💣"]

private func baseValue(_ o: BadInput.Option, command: BadInput.Command, dir: String) -> String {
    switch BadInput.kind(o, in: command) {
    case .outputFolder: return dir + "/out-req"
    case .outputFile:
        let a = o.abstract.lowercased()
        let ext = [".npy", ".npz", ".csv", ".json", ".svg"].first { a.contains($0) || a.contains($0.dropFirst()) } ?? ".out"
        return dir + "/out-req" + ext
    case .inputFile, .inputFolder: return dir + "/missing-required-input"
    case .value:
        // A required choice documented as "a | b | c." gets its first choice.
        if let first = o.allValues.first { return first }
        if o.abstract.contains(" | "), let w = o.abstract.split(separator: " ").first { return String(w) }
        return o.defaultValue ?? "1"
    }
}

private func runOne(_ probe: Probe, exe: URL, root: String, timeout: Double) -> Result1 {
    let dir = root + "/p-\(UInt64.random(in: 0...UInt64.max))"
    let logs = root + "/logs"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var args = probe.command.path
    for o in probe.command.options where o.required && o.name != probe.flag { args += ["--\(o.name)", baseValue(o, command: probe.command, dir: dir)] }
    let base = BadInput.baseArguments(probe, dir: dir)
    args += base.extra
    var displayValue = ""
    if probe.category == .unknownFlag {
        args += ["--frobnicate-\(probe.command.path.last ?? "x")"]
    } else if let v = probe.rawValue {
        args += ["--\(probe.flag)", v]; displayValue = v
    } else {
        guard let p = try? fixture(probe.category, in: dir, kind: probe.kind) else {
            return Result1(probe: probe, outcome: .skipped, detail: "fixture failed", args: args)
        }
        args += ["--\(probe.flag)", p]; displayValue = p
    }
    args += base.trailing
    let valid = probe.rawValue != nil && BadInput.allowed(probe)
    let light = BadInput.lightCommands.contains(probe.command.display)
    let limit = valid && !light ? BadInput.validProbeSeconds
        : BadInput.knownHangs.contains(probe.key) ? min(timeout, BadInput.knownHangSeconds) : timeout
    let before = snapshot(dir)
    let symlinkTarget = FileManager.default.contents(atPath: dir + "/target.txt")
    guard let r = try? runProbe(exe, args, cwd: dir, logDir: logs, timeout: limit) else {
        return Result1(probe: probe, outcome: .skipped, detail: "could not start", args: args)
    }
    let err = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    let firstLine = String(err.split(separator: "\n").first ?? "")
    if r.signaled { return Result1(probe: probe, outcome: .crash, detail: "signal \(r.status): \(err.suffix(300))", args: args) }
    if r.timedOut {
        if valid { return Result1(probe: probe, outcome: .acceptedValid, detail: "still running after \(Int(limit)) s (valid value)", args: args) }
        return Result1(probe: probe, outcome: .hang, detail: "killed after \(Int(limit)) s", args: args)
    }
    // Things a bad output path must never do, whatever the exit status.
    var damage: [String] = []
    if probe.category == .fifo {
        var st = stat(); lstat(dir + "/fifo", &st)
        if st.st_mode & S_IFMT != S_IFIFO { damage.append("the FIFO was replaced") }
    }
    if probe.category == .symlink {
        var st = stat(); lstat(dir + "/link", &st)
        if st.st_mode & S_IFMT != S_IFLNK { damage.append("the symlink was replaced") }
        if FileManager.default.contents(atPath: dir + "/target.txt") != symlinkTarget { damage.append("the symlink's target was overwritten") }
    }
    if probe.category == .nonEmptyFolder, FileManager.default.contents(atPath: dir + "/full/precious.txt") == nil {
        damage.append("the non-empty folder was replaced without --force")
    }
    if probe.category == .trailingSlash {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir + "/newdir", isDirectory: &isDir), !isDir.boolValue { damage.append("wrote a FILE named newdir") }
    }
    if r.status == 0 {
        if !damage.isEmpty { return Result1(probe: probe, outcome: .acceptedBad, detail: damage.joined(separator: "; "), args: args) }
        let lower = r.stdout.lowercased()
        let nonFinite = lower.range(of: #"(^|[^a-z])(nan|-?inf(inity)?)([^a-z]|$)"#, options: .regularExpression) != nil
        if nonFinite { return Result1(probe: probe, outcome: .nanSuccess, detail: "exit 0 with NaN/inf on stdout", args: args) }
        if valid { return Result1(probe: probe, outcome: .acceptedValid, detail: "exit 0, finite output", args: args) }
        return Result1(probe: probe, outcome: .acceptedBad, detail: "exit 0 for \(probe.category.rawValue) value '\(displayValue)'", args: args)
    }
    var problems = damage
    if !r.stdout.isEmpty { problems.append("stdout not empty") }
    if err.isEmpty { problems.append("no message on stderr") }
    if let m = forbiddenMarkers.first(where: { err.contains($0) }) { problems.append("raw dump/internal text '\(m)'") }
    let after = snapshot(dir)
    let left = after.subtracting(before).map { String($0.split(separator: "|").first ?? "") }
        .filter { !$0.hasSuffix(".isac.lock") }
    if !left.isEmpty { problems.append("left behind: \(left.sorted().prefix(3).joined(separator: ", "))") }
    let names: [String]
    switch probe.category {
    case .unknownFlag: names = ["frobnicate"]
    default:
        var n = ["--\(probe.flag)", "'\(probe.flag)'", "\(probe.flag)"]
        if probe.rawValue == nil { n.append(URL(fileURLWithPath: displayValue).lastPathComponent); n.append(displayValue) }
        names = n
    }
    let namesProbe = names.contains(where: { !$0.isEmpty && err.contains($0) })
    // The first error may legitimately be about another argument (a required input that does not
    // exist, a missing companion flag): clean if it names another flag of the command or a path
    // of this invocation.
    let others = (probe.command.options.map { "--\($0.name)" } + probe.command.flags.map { "--\($0)" })
        + args.filter { $0.hasPrefix("/") }.map { URL(fileURLWithPath: $0).lastPathComponent }
    let namesOther = !namesProbe && others.contains { !$0.isEmpty && err.contains($0) }
    if !err.isEmpty && !namesProbe && !namesOther { problems.append("message does not name --\(probe.flag)") }
    if problems.isEmpty { return Result1(probe: probe, outcome: namesOther ? .cleanOther : .clean, detail: firstLine, args: args) }
    return Result1(probe: probe, outcome: .unclear, detail: problems.joined(separator: "; ") + " — " + firstLine.prefix(160), args: args)
}

// MARK: - The suite

@Suite(.serialized) struct BadInputSuite {
    @Test func everyFlagRejectsBadValuesCleanly() throws {
        let exe = try isacBinary()
        let env = ProcessInfo.processInfo.environment
        let timeout = Double(env["ISAC_BADINPUT_TIMEOUT"] ?? "") ?? 30
        let jobs = max(1, Int(env["ISAC_BADINPUT_JOBS"] ?? "") ?? 3)
        let root = NSTemporaryDirectory() + "isac-badinput-\(getpid())"
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }

        let dump = try runProbe(exe, ["--experimental-dump-help"], cwd: root, logDir: root + "/logs", timeout: 60, maxOutput: 1 << 26)
        #expect(dump.status == 0)
        let commands = try BadInput.commands(fromDump: Data(dump.stdout.utf8))
        #expect(commands.count >= 20, "the command tree lists \(commands.count) leaf commands")
        let only = env["ISAC_BADINPUT_ONLY"]  // optional: restrict to commands whose name contains this

        var probes: [Probe] = []
        // An option group shared by several commands of one group (e.g. the 21 system options of
        // every `multitarget` command) is probed with every value in the first command that has it,
        // and only with the parse-level values (non-numeric, empty) in the others — unless
        // ISAC_BADINPUT_FULL=1. This keeps the suite's CI time modest.
        let full = env["ISAC_BADINPUT_FULL"] == "1"
        var seenShared = Set<String>()
        var deduplicated = 0
        for c in commands where only == nil || c.display.contains(only!) {
            probes.append(Probe(command: c, flag: "frobnicate", category: .unknownFlag, kind: .value, rawValue: nil))
            for o in c.options {
                let k = BadInput.kind(o, in: c)
                let sharedKey = "\(c.path.first ?? "")|\(o.name)|\(o.abstract)|\(o.defaultValue ?? "-")"
                let repeated = !full && c.path.count > 1 && !seenShared.insert(sharedKey).inserted
                if k == .value {
                    for (cat, v) in BadInput.values(for: o, in: c) {
                        if repeated && cat != .nonNumeric && cat != .empty { deduplicated += 1; continue }
                        probes.append(Probe(command: c, flag: o.name, category: cat, kind: k, rawValue: v))
                    }
                } else {
                    for cat in pathProbes(k, command: c) { probes.append(Probe(command: c, flag: o.name, category: cat, kind: k, rawValue: nil)) }
                    probes.append(Probe(command: c, flag: o.name, category: .empty, kind: k, rawValue: ""))
                }
            }
        }
        // Unknown subcommand and `help` of an unknown topic.
        let topLevel = [["frobnicate"], ["help", "frobnicate"], [commands.first?.path.first ?? "rate", "frobnicate"]]

        /// Work queue shared by the pool threads (all access under `lock`).
        final class Pool: @unchecked Sendable {
            let probes: [Probe]
            var results: [Result1?]
            var next = 0
            let lock = NSLock()
            init(_ p: [Probe]) { probes = p; results = Array(repeating: nil, count: p.count) }
            func take() -> Int? { lock.lock(); defer { lock.unlock() }; guard next < probes.count else { return nil }; next += 1; return next - 1 }
            var log: FileHandle?
            func put(_ i: Int, _ r: Result1) {
                lock.lock(); defer { lock.unlock() }
                results[i] = r
                // Append as we go, so an interrupted run still leaves its findings.
                log?.write(Data("\(r.outcome.rawValue)\t\(r.probe.key)\t\(r.detail.replacingOccurrences(of: "\n", with: " ").prefix(300))\t\(r.args.joined(separator: " "))\n".utf8))
            }
        }
        let pool = Pool(probes)
        let progressPath = NSTemporaryDirectory() + "isac-badinput-progress.tsv"
        FileManager.default.createFile(atPath: progressPath, contents: nil)
        pool.log = FileHandle(forWritingAtPath: progressPath)
        let group = DispatchGroup()
        for _ in 0..<jobs {
            group.enter()
            Thread.detachNewThread {
                while let i = pool.take() {
                    let t0 = Date()
                    var r = runOne(pool.probes[i], exe: exe, root: root, timeout: timeout)
                    r.seconds = Date().timeIntervalSince(t0)
                    pool.put(i, r)
                }
                group.leave()
            }
        }
        group.wait()
        let results = pool.results
        let all = results.compactMap { $0 }

        var topProblems: [String] = []
        for args in topLevel {
            let r = try runProbe(exe, args, cwd: root, logDir: root + "/logs", timeout: timeout)
            if r.status == 0 || r.signaled || r.timedOut || !r.stderr.contains("frobnicate") {
                topProblems.append("`isac \(args.joined(separator: " "))`: exit \(r.status)\(r.timedOut ? " (timeout)" : "")")
            }
        }

        // Summary.
        var counts: [Outcome: Int] = [:]
        for r in all { counts[r.outcome, default: 0] += 1 }
        let failing: Set<Outcome> = [.crash, .hang, .acceptedBad, .nanSuccess, .unclear]
        let findings = all.filter { failing.contains($0.outcome) }
        let known = findings.filter { BadInput.knownFindings.contains($0.probe.key) }
        let new = findings.filter { !BadInput.knownFindings.contains($0.probe.key) }
        let probedCommands = Set(all.map { $0.probe.command.display })
        let stale = BadInput.knownFindings.subtracting(findings.map(\.probe.key))
            .filter { probedCommands.contains(String($0.split(separator: "|").first ?? "")) }
        let order: [Outcome] = [.clean, .cleanOther, .unclear, .acceptedValid, .acceptedBad, .nanSuccess, .crash, .hang, .skipped]
        var summary = "bad-input suite: \(all.count) probes over \(Set(all.map(\.probe.command.display)).count) commands "
            + "(\(jobs) jobs, \(Int(timeout)) s timeout)\n"
        for o in order { summary += "  " + o.rawValue.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%5d\n", counts[o] ?? 0) }
        summary += "  top-level (unknown command / help topic) problems: \(topProblems.count)\n"
        if deduplicated > 0 { summary += "  (\(deduplicated) probes of options shared within a command group not repeated; ISAC_BADINPUT_FULL=1 runs them)\n" }
        summary += "  findings: \(findings.count) (known, owned elsewhere: \(known.count); new: \(new.count))\n"
        // Where the suite's time goes (probe seconds summed over the pool's threads).
        var secondsBy: [Outcome: Double] = [:]
        for r in all { secondsBy[r.outcome, default: 0] += r.seconds }
        let totalSeconds = all.reduce(0) { $0 + $1.seconds }
        let timeLine = "  probe time \(Int(totalSeconds.rounded())) s over \(jobs) jobs; of it hangs \(Int((secondsBy[.hang] ?? 0).rounded())) s, "
            + "valid values \(Int((secondsBy[.acceptedValid] ?? 0).rounded())) s, everything else \(Int((totalSeconds - (secondsBy[.hang] ?? 0) - (secondsBy[.acceptedValid] ?? 0)).rounded())) s\n"
        var table = "outcome\tcommand\tflag\tcategory\tseconds\tdetail\targs\n"
        for r in all.sorted(by: { ($0.outcome.rawValue, $0.probe.key) < ($1.outcome.rawValue, $1.probe.key) }) {
            table += "\(r.outcome.rawValue)\t\(r.probe.command.display)\t--\(r.probe.flag)\t\(r.probe.category.rawValue)\t\(String(format: "%.2f", r.seconds))\t\(r.detail.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " "))\t\(r.args.joined(separator: " "))\n"
        }
        let reportPath = NSTemporaryDirectory() + "isac-badinput-report.tsv"
        try? table.write(toFile: reportPath, atomically: true, encoding: .utf8)
        print(summary + timeLine + "  per-probe table: \(reportPath)")
        for f in findings.prefix(400) { print("  \(f.outcome.rawValue): isac \(f.probe.command.display) --\(f.probe.flag) [\(f.probe.category.rawValue)] — \(f.detail.prefix(200))") }
        for s in stale.sorted() { print("  known finding no longer reproduces (delete its line in Tests/isacTests/badinput-known-findings.txt): \(s)") }
        if only == nil { writeSummaryToDocs(summary: summary, findings: findings) }

        for p in topProblems { Issue.record(Comment(rawValue: p)) }
        for f in new { Issue.record(Comment(rawValue: "\(f.outcome.rawValue): isac \(f.probe.command.display) --\(f.probe.flag) [\(f.probe.category.rawValue)]: \(f.detail)")) }
    }
}

/// Replaces the block between the summary markers in docs/reliability.md (found from this file's
/// path) with the latest counts and findings.
private func writeSummaryToDocs(summary: String, findings: [Result1]) {
    let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/reliability.md").path
    guard let text = try? String(contentsOfFile: docs, encoding: .utf8),
          let b = text.range(of: "<!-- badinput-summary:begin -->"), let e = text.range(of: "<!-- badinput-summary:end -->"), b.upperBound <= e.lowerBound
    else { return }
    var block = "\n```\n" + summary + "```\n"
    if !findings.isEmpty {
        block += "\nFindings (outcome · command · flag · value kind · detail):\n\n"
        for f in findings.sorted(by: { $0.probe.key < $1.probe.key }) {
            block += "- \(f.outcome.rawValue) · `isac \(f.probe.command.display)` · `--\(f.probe.flag)` · \(f.probe.category.rawValue) · \(f.detail.prefix(140).replacingOccurrences(of: "\n", with: " "))\n"
        }
    }
    let new = String(text[..<b.upperBound]) + block + String(text[e.lowerBound...])
    if new != text { try? new.write(toFile: docs, atomically: true, encoding: .utf8) }
}
