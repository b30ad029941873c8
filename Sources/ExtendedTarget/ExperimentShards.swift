import ExtendedDatasets
import Foundation
import ISACIO
import Linalg
import Scattering

/// One trained run of an experiment: (method, seed, K_s, training fraction), the unit of work of a
/// sharded `extended experiment` (issue 18).
public struct PlannedRun: Codable, Sendable, Hashable {
    /// Method trained or evaluated by this run.
    public var method: Method
    /// Random seed of the run.
    public var seed: UInt64
    /// K_s, the number of sensing tones.
    public var ks: Int
    /// Fraction of the training set used; 1 (the default) uses all of it.
    public var trainFraction: Double
    /// Creates a planned run.
    public init(method: Method, seed: UInt64, ks: Int, trainFraction: Double = 1) {
        self.method = method; self.seed = seed; self.ks = ks; self.trainFraction = trainFraction
    }
    /// The run-cache key `method_sSEED_ksK_fPCT` (file stem under OUT/runs).
    public var key: String { ExperimentRunner.key(method, seed: seed, ks: ks, trainFraction: trainFraction) }
}

extension ExperimentSuite {
    /// The experiments `all` runs, in order.
    public static let names = ["table2", "gainmap", "ks-sweep", "rate-tradeoff", "ablations", "sectors", "train-fraction", "robustness"]

    /// Every trained run experiment `name` reads (`all` = the union), without duplicates, in a fixed order
    /// (experiment order, then method, K_s / fraction, seed). This is exactly the set of `runner.run` calls
    /// the experiment makes; `ShardedExperiment.merge` refuses to train, so a run missing from this list
    /// would surface there as an error, never as a silent retraining.
    public func plannedRuns(_ name: String) throws -> [PlannedRun] {
        try Self.plannedRuns(name, preset: p, toneCount: fullK)
    }

    /// The planned runs of experiment `name` for `preset` on a dataset of `toneCount` subcarriers (K), without
    /// loading the dataset: what `isac cluster` sizes a job array with before the dataset exists.
    public static func plannedRuns(_ name: String, preset p: ExperimentPreset, toneCount k: Int) throws -> [PlannedRun] {
        let seeds = p.seeds
        func full(_ ms: [Method]) -> [PlannedRun] { ms.flatMap { m in seeds.map { PlannedRun(method: m, seed: $0, ks: k) } } }
        let out: [PlannedRun]
        switch name {
        case "table2", "gainmap": out = full(Method.table2)
        case "ks-sweep", "rate-tradeoff":
            out = p.sweepMethods.flatMap { m in p.ksValues.filter { $0 <= k }.flatMap { ks in seeds.map { PlannedRun(method: m, seed: $0, ks: ks) } } }
        case "ablations": out = full(Method.table4)
        case "sectors": out = full([.singleLocalization, .sharedMTLPCGrad, .crossStitch, .proposedFull, .singleClassification, .sharedMTL, .proposedCTA])
        case "train-fraction":
            out = p.sweepMethods.flatMap { m in p.trainFractions.flatMap { f in seeds.map { PlannedRun(method: m, seed: $0, ks: k, trainFraction: f) } } }
        case "robustness": out = full([.sharedMTLPCGrad, .crossStitch, .proposedFull])
        case "all":
            out = try Self.names.flatMap { try plannedRuns($0, preset: p, toneCount: k) }
        default: throw ISACError.invalidParameter(name: "experiment", value: name, valid: "unknown experiment")
        }
        var seen = Set<String>(), unique: [PlannedRun] = []
        for r in out where seen.insert(r.key).inserted { unique.append(r) }
        return unique
    }
}

/// `extended experiment NAME --shard i/n`: shard i trains its contiguous block of the experiment's planned
/// runs into the shared run cache OUT/runs and writes a shard record OUT/shards/shard-i-of-n.json (payload:
/// the run keys and their cached results). `merge` checks that the records form one complete run of one
/// configuration, that every planned run is cached, and then builds the experiment's tables and figures from
/// the cache with training disabled — the same code path and the same cached runs as a single process, so the
/// CSV outputs are byte-identical to the unsharded run (runs are deterministic for a given seed and thread
/// count; use the same `--threads` in every task).
public enum ShardedExperiment {
    /// CLI command name of the sharded experiment.
    public static let commandName = "extended experiment"

    /// Shard payload: the runs this shard owns, with their cached result JSON.
    public struct Payload: Codable, Sendable {
        /// Name of the experiment the shard belongs to.
        public var experiment: String
        /// Identifiers of the runs this shard owns.
        public var runs: [String]
        /// Cached result JSON, one per run.
        public var results: [String]
    }

    /// The options that change the result (shard flags excluded), for the shard record's config hash.
    public static func config(experiment: String, preset: ExperimentPreset, epochs: Int?, data: ExperimentData) -> [String: String] {
        ["experiment": experiment, "preset": preset.name, "seeds": preset.seeds.map(String.init).joined(separator: ","),
         "epochs": String(epochs ?? preset.epochs), "dataset": data.configHash, "samples": data.splitSizes]
    }

    static func shardDir(_ out: String) -> String { out + "/shards" }

    /// Trains shard `shard`'s block of the planned runs (cached ones are reused, so rerunning a failed task
    /// resumes it) and writes its record. Returns the run keys of the block.
    @discardableResult
    public static func runShard(_ name: String, runner: ExperimentRunner, shard: ShardSpec, epochs: Int?,
                                arguments: [String]) throws -> [String] {
        let t0 = Date()
        let suite = ExperimentSuite(runner: runner)
        let plan = try suite.plannedRuns(name)
        let block = try shard.range(of: plan.count, what: "trained runs of `\(name)`")
        let cfg = config(experiment: name, preset: runner.preset, epochs: epochs, data: runner.data)
        let sdir = shardDir(runner.directory)
        // A record of another configuration in this folder is refused; our own one is simply rewritten.
        _ = try ShardStore.finished(shard, in: sdir, configHash: ShardManifest.hash(cfg), resume: true, dirFlag: "--out")
        var keys: [String] = [], results: [String] = []
        for r in plan[block] {
            let res = try runner.run(r.method, seed: r.seed, ks: r.ks, trainFraction: r.trainFraction)
            keys.append(r.key)
            results.append(String(decoding: try RunResult.encoder.encode(res), as: UTF8.self))
        }
        let payload = try JSONEncoder().encode(Payload(experiment: name, runs: keys, results: results))
        try ShardStore.write(payload: payload, command: commandName, shard: shard, config: cfg, arguments: arguments,
                             runTimeSeconds: Date().timeIntervalSince(t0), to: sdir)
        return keys
    }

    /// Merges the shards under OUT/shards: refuses incomplete sets, other configurations and missing runs
    /// (naming the shard to rerun), then runs experiment `name` from the cache without training.
    /// - Returns: the files the experiment wrote.
    public static func merge(_ name: String, runner: ExperimentRunner, epochs: Int?) throws -> [String] {
        let shards = try ShardStore.collect([shardDir(runner.directory)])
        let m0 = shards[0].manifest
        guard m0.command == commandName else {
            throw ISACError.invalidParameter(name: "--out", value: runner.directory, valid: "holds shards of `\(m0.command)`, not of `\(commandName)`")
        }
        let cfg = config(experiment: name, preset: runner.preset, epochs: epochs, data: runner.data)
        guard m0.configHash == ShardManifest.hash(cfg) else {
            let diff = cfg.keys.sorted().filter { m0.config[$0] != cfg[$0] }.map { "\($0): shards \(m0.config[$0] ?? "(unset)") vs \(cfg[$0]!)" }
            throw ISACError.invalidParameter(name: "--out", value: runner.directory,
                                             valid: "holds shards of another configuration (\(diff.joined(separator: "; "))): merge with the shards' experiment, preset, --seeds, --epochs and --data")
        }
        let plan = try ExperimentSuite(runner: runner).plannedRuns(name)
        let fm = FileManager.default
        let missing = plan.indices.filter { !fm.fileExists(atPath: runner.jsonPath(plan[$0].key)) }
        if !missing.isEmpty {
            let owners = Set(missing.map { j in (0..<m0.shardCount).first { i in (try? ShardSpec(index: i, count: m0.shardCount).range(of: plan.count))?.contains(j) ?? false } ?? -1 })
            throw ISACError.io("\(missing.count) of \(plan.count) runs missing from \(runner.directory)/runs (first: \(plan[missing[0]].key)); rerun shard(s) " +
                               owners.sorted().map { "\($0)/\(m0.shardCount)" }.joined(separator: ", ") + " with the same command")
        }
        runner.trainingAllowed = false
        defer { runner.trainingAllowed = true }
        let suite = ExperimentSuite(runner: runner)
        return try (name == "all" ? ExperimentSuite.names : [name]).flatMap { try suite.run($0) }
    }
}
