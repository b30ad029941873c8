import ArgumentParser
import Foundation
import ISACIO
import MultiTargetISAC
import Linalg

/// `isac multitarget train-sweep --seeds 1,2,3 --lrs 1e-3,3e-4 --out DIR -- <multitarget train flags>`: one
/// `multitarget train` per (seed, learning rate) into `DIR/runs/s<SEED>_lr<LR>/`, collected into one results table
/// `DIR/train_sweep.csv` (issue 18).
///
/// Work item w = (seed index)·L + (lr index) (seeds outermost, L = number of learning rates). With `--shard i/n
/// --shard-dir SD` a task trains its contiguous block of items (`ShardSpec.range`) and records their rows in SD;
/// `isac merge SD` writes the table from the records of all n shards, byte-identical to one process (every run is
/// the same deterministic `multitarget train`, and the table is built from the rows in item order by the same code).
struct MTTrainSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-sweep",
        abstract: "Train one model per (seed, learning rate) and collect a results table; --shard i/n for job arrays (`isac merge`).",
        discussion: "Flags after `--` go to every `multitarget train` (all but --seed, --lr, --out, --force, --json, --quiet).")
    @Option(name: .customLong("seeds"), help: "Comma-separated training seeds (non-negative integers, at most 1000).") var seeds: String
    @Option(name: .customLong("lrs"), help: "Comma-separated Adam learning rates (> 0, finite; default: the method's preset rate).") var lrs: String?
    @Option(name: .customLong("out"), help: "Sweep folder: runs/ (one train --out per item) and train_sweep.csv.") var out: String
    @OptionGroup var output: MTOutputFlags
    var json: Bool { output.json }
    var quiet: Bool { output.quiet }
    @OptionGroup var sharding: ShardOptions
    @Argument(parsing: .postTerminator, help: "`multitarget train` flags shared by every run, after `--`.") var trainArguments: [String] = []

    static let shardCommandName = "multitarget train-sweep"
    static let tableName = "train_sweep.csv"
    /// Summary fields that are wall times (they differ between runs of the same configuration): not in the table.
    static let timingKeys: Set<String> = ["train_time_s", "total_time_s"]
    static let reserved = ["--seed", "--lr", "--out", "--force", "--json", "--quiet"]

    /// One (seed, learning rate) run; `lr` nil = the preset's rate.
    struct Item: Equatable {
        var seed: UInt64
        var lr: Double?
        /// Run folder name under `runs/`.
        var key: String { "s\(seed)_lr" + (lr.map { "\($0)" } ?? "preset") }
    }

    func parsedSeeds() throws -> [UInt64] {
        let v = seeds.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !v.isEmpty, v.count <= 1000, v.allSatisfy({ $0 != nil }), Set(v.map { $0! }).count == v.count else {
            throw ISACError.invalidParameter(name: "--seeds", value: seeds, valid: "1 to 1000 distinct comma-separated non-negative integers, e.g. 1,2,3")
        }
        return v.map { $0! }
    }

    func parsedLRs() throws -> [Double?] {
        guard let l = lrs else { return [nil] }
        let v = l.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !v.isEmpty, v.count <= 1000, v.allSatisfy({ $0 != nil && $0!.isFinite && $0! > 0 && $0! <= 1e3 }), Set(v.map { $0! }).count == v.count else {
            throw ISACError.invalidParameter(name: "--lrs", value: l, valid: "1 to 1000 distinct comma-separated learning rates in (0, 1000], e.g. 1e-3,3e-4")
        }
        return v.map { $0! }
    }

    /// Every (seed, lr) in work-item order (seeds outermost).
    func items() throws -> [Item] {
        let ls = try parsedLRs()
        return try parsedSeeds().flatMap { s in ls.map { Item(seed: s, lr: $0) } }
    }

    func runFolder(_ item: Item) -> String { (out.hasSuffix("/") ? out : out + "/") + "runs/" + item.key }

    /// The `multitarget train` of one item (parsed, so validated, with the train command's own parser).
    func trainCommand(_ item: Item, out runOut: String) throws -> MTTrain {
        var args = trainArguments.filter { $0 != "--" } + ["--seed", "\(item.seed)", "--out", runOut, "--quiet"]
        if let lr = item.lr { args += ["--lr", "\(lr)"] }
        do { return try MTTrain.parse(args) } catch let e as ISACError { throw e } catch {
            throw ISACError.invalidParameter(name: "TRAIN-FLAGS", value: trainArguments.joined(separator: " "), valid: MTTrain.message(for: error))
        }
    }

    func validate() throws {
        guard !out.isEmpty else { throw ISACError.invalidParameter(name: "--out", value: "\"\"", valid: "must be a folder path") }
        try CLIOutput.checkFolder(out)
        let its = try items()
        for a in trainArguments {
            for r in Self.reserved where a == r || a.hasPrefix(r + "=") {
                throw ISACError.invalidParameter(name: "TRAIN-FLAGS", value: a, valid: "leave out \(Self.reserved.joined(separator: ", ")): the sweep sets them per run (--seeds, --lrs, --out)")
            }
        }
        // The train flags are checked once here (a typo fails before any training, or at `isac cluster` submission).
        _ = try trainCommand(its[0], out: out + "/runs/.config-check")
    }

    /// Everything that decides the table: the seeds, the rates, the sweep folder and every parsed train option.
    func shardConfiguration() throws -> [String: String] {
        var c = shardConfig(of: try trainCommand(Item(seed: 0, lr: nil), out: out + "/runs/.config-check"))
        for k in ["seed", "lr", "out", "force"] { c[k] = nil }
        c["sweep_seeds"] = try parsedSeeds().map(String.init).joined(separator: ",")
        c["sweep_lrs"] = try parsedLRs().map { $0.map { "\($0)" } ?? "preset" }.joined(separator: ",")
        c["sweep_out"] = out
        return c
    }

    /// One finished run's row: its summary's numbers flattened to `name → value` (nested objects and the test rows
    /// joined with `_`, wall times left out).
    struct Row: Codable, Equatable {
        var index: Int
        var seed: UInt64
        var lr: Double?
        var names: [String]
        /// IEEE-754 bit patterns of the values (exact through JSON).
        var bits: [UInt64]
    }

    static func flatten(_ v: Any, prefix: String, into out: inout [String: Double]) {
        switch v {
        case let d as [String: Any]:
            for (k, x) in d where !timingKeys.contains(k) { flatten(x, prefix: prefix.isEmpty ? k : prefix + "_" + k, into: &out) }
        case let a as [Any]:
            for (i, x) in a.enumerated() {
                let label = ((x as? [String: Any])?["impairments"] as? String) ?? "\(i)"
                flatten(x, prefix: prefix + "_" + label, into: &out)
            }
        case let x as Double: out[prefix] = x
        case let i as Int: out[prefix] = Double(i)
        default: break   // strings (paths, labels), nulls (non-finite values)
        }
    }

    /// Trains item `index` (or, with `resume`, keeps its finished run folder of this configuration) and returns its row.
    func runItem(_ index: Int, _ item: Item, configHash: String, resume: Bool) throws -> Row {
        let dir = runFolder(item), marker = dir + "/sweep_run.json", fm = FileManager.default
        let done = try? JSONDecoder().decode(TrainSweepMarker.self, from: Data(contentsOf: URL(fileURLWithPath: marker)))
        if let done, resume, done.configHash == configHash, fm.fileExists(atPath: dir + "/summary.json") {
            // finished earlier in this configuration: keep it
        } else {
            if done != nil || OutputPaths.isNonEmptyFolder(dir) {
                throw ISACError.invalidParameter(name: resume ? "--resume" : "--out", value: dir,
                                                 valid: resume ? "holds a run of another sweep configuration; use another --out"
                                                               : "already holds this run; use --shard … --resume to keep finished runs, or a new --out")
            }
            let train = try trainCommand(item, out: dir)
            if !quiet { FileHandle.standardError.write("train-sweep: run \(index + 1) (seed \(item.seed), lr \(item.lr.map { "\($0)" } ?? "preset")) -> \(dir)\n".data(using: .utf8)!) }
            try Self.withStdout(on: quiet ? "/dev/null" : nil) { try train.run() }
            try AtomicFile.write(try ResultJSON.string(TrainSweepMarker(configHash: configHash, seed: item.seed, lr: item.lr)) + "\n", to: marker)
        }
        guard let d = fm.contents(atPath: dir + "/summary.json"),
              let summary = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else {
            throw ISACError.malformedFile(path: dir + "/summary.json", reason: "missing or not JSON; delete \(dir) and rerun")
        }
        var values: [String: Double] = [:]
        Self.flatten(summary, prefix: "", into: &values)
        values["seed"] = nil   // the table's first column
        let names = values.keys.sorted()
        return Row(index: index, seed: item.seed, lr: item.lr, names: names, bits: names.map { values[$0]!.bitPattern })
    }

    /// `multitarget train` prints its own report on stdout: send it to stderr (or to `path`, e.g. /dev/null with
    /// --quiet) so this command's stdout is its own.
    static func withStdout(on path: String?, _ body: () throws -> Void) throws {
        fflush(nil)
        let saved = dup(1)
        let target = path.map { open($0, O_WRONLY) } ?? 2
        dup2(target >= 0 ? target : 2, 1)
        if path != nil, target >= 0 { close(target) }
        defer { fflush(nil); dup2(saved, 1); close(saved) }
        try body()
    }

    /// The results table (rows in item order; columns: seed, requested rate, then the sorted union of the summary
    /// fields, `nan` where a run has none, e.g. a non-finite value) and the JSON object.
    static func table(_ rows: [Row], command cmd: MTTrainSweep) throws -> (csv: CSVTable, object: TrainSweepReport) {
        guard !rows.isEmpty else { throw ISACError.shapeMismatch("no runs") }
        let names = Set(rows.flatMap(\.names)).sorted()
        var csv = CSVTable(header: ["seed", "lr_requested"] + names)
        var runs: [TrainSweepReport.Run] = []
        for r in rows {
            var v: [String: Double] = [:]
            for (n, b) in zip(r.names, r.bits) { v[n] = Double(bitPattern: b) }
            csv.append([Double(r.seed), r.lr ?? .nan] + names.map { v[$0] ?? .nan })
            runs.append(TrainSweepReport.Run(seed: r.seed, lrRequested: r.lr, run: cmd.runFolder(Item(seed: r.seed, lr: r.lr)), values: v))
        }
        let tablePath = (cmd.out.hasSuffix("/") ? cmd.out : cmd.out + "/") + tableName
        return (csv, TrainSweepReport(out: cmd.out, table: tablePath, runs: runs))
    }

    func run() throws {
        let its = try items()
        let config = try shardConfiguration()
        let hash = ShardManifest.hash(config)
        if sharding.isActive {
            let shard = try sharding.spec(), sdir = sharding.shardDir!
            var seconds: Double, resumed = false
            if let done = try ShardStore.finished(shard, in: sdir, configHash: hash, resume: sharding.resume, dirFlag: "--shard-dir") {
                seconds = done.manifest.runTimeSeconds; resumed = true
            } else {
                let block = try shard.range(of: its.count, what: "(seed, learning rate) runs", countFlag: "--shard")
                try OutputFolderCheck.ensureWritable(sdir, flag: "--shard-dir")
                let t0 = Date()
                let rows = try block.map { try runItem($0, its[$0], configHash: hash, resume: sharding.resume) }
                seconds = Date().timeIntervalSince(t0)
                try ShardStore.write(payload: try JSONEncoder().encode(rows), command: Self.shardCommandName, shard: shard, config: config,
                                     arguments: ShardOptions.argumentsWithoutShardOptions(dropping: 2), runTimeSeconds: seconds, to: sdir)
            }
            try printShardReport(shard, dir: sdir, resumed: resumed, seconds: seconds, json: json)
            return
        }
        if OutputPaths.isNonEmptyFolder(out) {
            throw ISACError.invalidParameter(name: "--out", value: out, valid: "must be a new or empty folder (an unsharded sweep writes every run; shard it with --shard i/n --resume to keep finished runs)")
        }
        let t0 = Date()
        let rows = try its.enumerated().map { try runItem($0.offset, $0.element, configHash: hash, resume: false) }
        var (csv, obj) = try Self.table(rows, command: self)
        try csv.write(to: obj.table)
        obj.runTimeSeconds = Date().timeIntervalSince(t0)
        if json { print(try ResultJSON.string(obj)) } else { print("\(obj.runs.count) runs -> \(obj.table)") }
    }

    /// `isac merge SD`: the table from the rows of a complete set of shards, written to the sweep's `--out`.
    static func mergeShards(_ shards: [(manifest: ShardManifest, payload: Data)]) throws -> [String: Any] {
        let cmd = try MTTrainSweep.parse(shards[0].manifest.arguments)
        let its = try cmd.items()
        var rows: [Row] = []
        for sh in shards {
            let spec = try ShardSpec(index: sh.manifest.shardIndex, count: sh.manifest.shardCount)
            let part: [Row]
            do { part = try JSONDecoder().decode([Row].self, from: sh.payload) } catch {
                throw ISACError.malformedFile(path: sh.manifest.payload, reason: "not a train-sweep shard payload (\(error))")
            }
            let block = try spec.range(of: its.count, what: "runs")
            guard part.map(\.index) == Array(block), zip(part, block).allSatisfy({ $0.seed == its[$1].seed && $0.lr == its[$1].lr }) else {
                throw ISACError.malformedFile(path: sh.manifest.payload, reason: "holds other runs than shard \(spec) of this sweep (\(block))")
            }
            rows += part
        }
        var (csv, obj) = try table(rows, command: cmd)
        try FileManager.default.createDirectory(atPath: cmd.out, withIntermediateDirectories: true)
        try csv.write(to: obj.table)
        obj.runTimeSeconds = shards.reduce(0) { $0 + $1.manifest.runTimeSeconds }
        obj.shards = shards.count
        return try ResultJSON.object(obj)
    }
}
