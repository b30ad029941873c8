import ArgumentParser
import Foundation
import ISACIO
import Linalg
import Metrics
import MultiTargetISAC

/// `--shard i/n --shard-dir DIR [--resume]`: the options a shardable Monte-Carlo command adds with one
/// `@OptionGroup`. A shard computes its block of the samples and writes raw per-sample results to DIR;
/// `isac merge DIR` turns a complete set into the command's own `--json` output.
struct ShardOptions: ParsableArguments {
    @Option(name: .customLong("shard"), help: "Compute only block i of n of the samples (i/n, 0-based) and write it to --shard-dir; `isac merge` combines the blocks bit-identically to one run.")
    var shard: String?
    @Option(name: .customLong("shard-dir"), help: "Folder for the shard files of --shard (shared by all shards of a run).")
    var shardDir: String?
    @Flag(name: .customLong("resume"), help: "With --shard: keep this shard's finished result in --shard-dir (same configuration) instead of refusing it.")
    var resume = false

    var isActive: Bool { shard != nil }

    func validate() throws {
        guard let s = shard else {
            if shardDir != nil { throw ISACError.invalidParameter(name: "--shard-dir", value: shardDir!, valid: "needs --shard i/n") }
            if resume { throw ISACError.invalidParameter(name: "--resume", value: "set", valid: "needs --shard i/n and --shard-dir") }
            return
        }
        _ = try ShardSpec.parse(s)
        guard let d = shardDir, !d.isEmpty else {
            throw ISACError.invalidParameter(name: "--shard-dir", value: shardDir.map { "\"\($0)\"" } ?? "(missing)", valid: "--shard needs a folder for the shard files")
        }
    }

    func spec() throws -> ShardSpec { try ShardSpec.parse(shard ?? "0/1") }

    /// The option labels that do not influence a shard's result (so shards differing only in them still merge); `output` is
    /// the `--json/--quiet` group of the multitarget commands (`MTOutputFlags`).
    static let neutralLabels: Set<String> = ["sharding", "json", "quiet", "output"]

    /// This process's command line after the subcommand path, with the shard options removed: what the merge
    /// re-parses to rebuild the configuration.
    static func argumentsWithoutShardOptions(dropping pathCount: Int) -> [String] {
        var out: [String] = []
        var it = CommandLine.arguments.dropFirst(1 + pathCount).makeIterator()
        while let a = it.next() {
            if a == "--shard" || a == "--shard-dir" { _ = it.next(); continue }
            if a.hasPrefix("--shard=") || a.hasPrefix("--shard-dir=") || a == "--resume" { continue }
            out.append(a)
        }
        return out
    }
}

/// Every parsed option of `command` as `name → value` text (ArgumentParser's property wrappers print their
/// values; option groups print as their struct), minus the neutral ones. Reflection rather than a hand-kept list,
/// so options added to a command later are covered automatically.
func shardConfig(of command: Any, extra: [String: String] = [:]) -> [String: String] {
    var c = extra
    for child in Mirror(reflecting: command).children {
        guard var label = child.label else { continue }
        if label.hasPrefix("_") { label.removeFirst() }
        if ShardOptions.neutralLabels.contains(label) { continue }
        c[label] = String(describing: child.value)
    }
    return c
}

/// CRC-32 of each file of a comma list (checkpoints): the same path with other content is another configuration.
func fileFingerprints(_ list: String?) throws -> String {
    try (list ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }.map { p in
        guard let d = FileManager.default.contents(atPath: p) else {
            throw ISACError.invalidParameter(name: "--checkpoint", value: p, valid: "must be a readable checkpoint file")
        }
        return String(format: "%@:%08x", p, ISACIO.CRC32.checksum(d))
    }.joined(separator: ",")
}

// MARK: multitarget evaluate

extension MTEvaluate {
    static let shardCommandName = "multitarget evaluate"

    /// The methods of this evaluation, in the order `run()` reports them, with the shard granule of each.
    /// Sharding covers the `--impairments` rows (omp/domp receivers) and NNBL checkpoints; impairment/dictionary
    /// checkpoints add fields computed from the checkpoint that the merge does not rebuild yet.
    func shardMethods(config cfg: MultiTargetConfig, gospa: GOSPA) throws -> [(method: MTMethod, granule: Int, extra: [String: Any])] {
        var out: [(MTMethod, Int, [String: Any])] = []
        if let path = checkpoint {
            guard try NNBLCheckpoint.kind(at: path) == "nnbl" else {
                throw ISACError.invalidParameter(name: "--checkpoint", value: path, valid: "--shard supports NNBL checkpoints and --impairments rows; run impairment/dictionary checkpoints unsharded")
            }
            let (meth, ck) = try nnblMethod(path: path, system: system, config: cfg, gospa: gospa)
            // NNBLSystem.runBatch evaluates its networks on batches of 64 samples from the block start: shard
            // boundaries on multiples of 64 keep the batches (and so every float) those of a single run.
            out.append((meth, 64, ["checkpoint": path, "parameters": ck.model.parameterCount]))
        }
        let modes = checkpoint != nil && impairments.isEmpty ? [] : try parseImpairments(impairments)
        if !modes.isEmpty {
            for m in try buildMethods(system: system, config: cfg, gospa: gospa, impairments: impairments,
                                      receivers: try parseReceivers(receiver, entries: modes.count, allowList: false),
                                      checkpoints: nil, domp: dompOptions.settings) {
                out.append((m, 1, [:]))
            }
        }
        return out
    }

    /// `--shard i/n`: runs this shard's blocks of the calibration and test samples for every method and writes
    /// them to `--shard-dir` (see `ShardedEvaluation`).
    func runShard() throws {
        let cfg = try system.config(), gospa = try system.gospa()
        try runSampleShard(command: Self.shardCommandName, sharding: sharding,
                           config: shardConfig(of: self, extra: ["checkpoint_files": try fileFingerprints(checkpoint)]),
                           methods: { try shardMethods(config: cfg, gospa: gospa).map { ($0.method, $0.granule) } },
                           samples: samples, calibrationSamples: shardCalibrationSamples(cfg, calSamples ?? samples), eta: eta, phiRad: radians(phiDeg), seed: seed,
                           quiet: quiet, json: json)
    }

    /// The merge of a complete set of shards: the JSON object `run()` prints with `--json` (same keys, same
    /// values; `run_time_s` is the sum of the shards' times for the method and `samples_per_s` derives from it).
    static func mergedJSON(_ shards: [(manifest: ShardManifest, payload: Data)]) throws -> [String: Any] {
        let cmd = try MTEvaluate.parse(shards[0].manifest.arguments)
        let cfg = try cmd.system.config(), gospa = try cmd.system.gospa()
        let cal = cmd.calSamples ?? cmd.samples
        let combined = try combineShards(shards, samples: cmd.samples, calibrationSamples: shardCalibrationSamples(cfg, cal))
        let extras = try cmd.shardMethods(config: cfg, gospa: gospa).map(\.extra)
        var results: [[String: Any]] = []
        for (k, c) in combined.enumerated() {
            let m = try ShardedEvaluation.evaluate(c, config: cfg, targetPfas: [cmd.system.pfa], eta: cmd.eta, phi: radians(cmd.phiDeg), gospa: gospa)[0]
            var d = metricsDict(m, label: c.label)
            d["gospa_decomposition"] = gospaDict(GOSPABreakdown(c.test, threshold: m.threshold, gospa: gospa))
            for (key, v) in extras[k] { d[key] = v }
            d["run_time_s"] = c.runTimeSeconds
            d["samples_per_s"] = Double(cmd.samples + cal) / c.runTimeSeconds
            results.append(d)
        }
        // The composition of MTEvaluate.run's --json object.
        return cmd.jsonObject(results: results, config: cfg, calibrationSamples: cal)
    }
}

/// The shard runner shared by evaluate and pfa-sweep: for each method (with its granule), its blocks of the
/// calibration and test samples; one payload + record in `--shard-dir`. `methods` is only built when the shard
/// is not already finished (`--resume`), since building receivers can take a while at paper size.
func runSampleShard(command: String, sharding: ShardOptions, config: [String: String], methods: () throws -> [(MTMethod, Int)],
                    samples: Int, calibrationSamples cal: Int, eta: Double, phiRad: Double, seed: UInt64,
                    quiet: Bool, json: Bool) throws {
    let shard = try sharding.spec()
    let dir = sharding.shardDir!
    let hash = ShardManifest.hash(config)
    var seconds: Double
    var resumed = false
    if let done = try ShardStore.finished(shard, in: dir, configHash: hash, resume: sharding.resume, dirFlag: "--shard-dir") {
        seconds = done.manifest.runTimeSeconds; resumed = true
    } else {
        let ms = try methods()
        // Every block exists (e.g. not more shards than samples) before the shard folder is created (no calibration
        // block when a run calibrates without calibration draws, cal = 0).
        for (_, granule) in ms {
            if cal > 0 { _ = try shard.range(of: cal, granule: granule, what: "calibration samples", countFlag: "--shard") }
            _ = try shard.range(of: samples, granule: granule, what: "samples", countFlag: "--shard")
        }
        try OutputFolderCheck.ensureWritable(dir, flag: "--shard-dir")
        let t0 = Date()
        var parts: [MethodShardResult] = []
        for (meth, granule) in ms {
            let c = cal == 0 ? 0..<0 : try shard.range(of: cal, granule: granule, what: "calibration samples", countFlag: "--shard")
            let t = try shard.range(of: samples, granule: granule, what: "samples", countFlag: "--shard")
            let pl = ProgressLine("\(command) \(meth.label) shard \(shard)", total: c.count + t.count, enabled: !quiet)
            parts.append(try ShardedEvaluation.runShard(label: meth.label, samples: samples, calibrationSamples: cal, shard: shard,
                                                        granule: granule) { n, first in
                try meth.run(eta, phiRad, n, first, seed, { pl.advance($0) })
            })
            pl.finish()
        }
        seconds = Date().timeIntervalSince(t0)
        try ShardStore.write(payload: ShardedEvaluation.encode(parts), command: command, shard: shard, config: config,
                             arguments: ShardOptions.argumentsWithoutShardOptions(dropping: 2), runTimeSeconds: seconds, to: dir)
    }
    try printShardReport(shard, dir: dir, resumed: resumed, seconds: seconds, json: json)
}

/// The one-line answer of a `--shard` task: its record's path, whether it was resumed, its run time.
func printShardReport(_ shard: ShardSpec, dir: String, resumed: Bool, seconds: Double, json: Bool) throws {
    let path = dir + "/" + ShardManifest.stem(shard) + ".json"
    if json {
        print(try ResultJSON.string(ShardReport(shard: shard.description, record: path, resumed: resumed, runTimeSeconds: seconds)))
    } else {
        print("shard \(shard) \(resumed ? "already finished" : "written"): \(path) (\(String(format: "%.1f", seconds)) s); merge with `isac merge \(dir)`")
    }
}

/// `--shard i/n --json` of a sample-sharded command: the task's record, whether it was kept (`--resume`), its time.
struct ShardReport: Encodable {
    var shard: String
    var record: String
    var resumed: Bool
    var runTimeSeconds: Double
    enum CodingKeys: String, CodingKey { case shard, record, resumed, runTimeSeconds = "run_time_s" }
}

/// Decodes and concatenates a complete, consistent set of shards (from `ShardStore.collect`).
func combineShards(_ shards: [(manifest: ShardManifest, payload: Data)], samples: Int, calibrationSamples: Int) throws -> [ShardedEvaluation.Combined] {
    let decoded = try shards.map { try ShardedEvaluation.decode($0.payload, path: $0.manifest.payload) }
    return try ShardedEvaluation.combine(decoded, samples: samples, calibrationSamples: calibrationSamples)
}

// MARK: multitarget pfa-sweep: MultitargetPfaSweep.swift (shardCommandName, granule, runShard, mergedJSON)

/// Up-front writability check of an output folder (creates it), naming the flag on failure.
enum OutputFolderCheck {
    static func ensureWritable(_ dir: String, flag: String) throws {
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw ISACError.invalidParameter(name: flag, value: dir, valid: "must be a folder that can be created and written")
        }
        guard fm.isWritableFile(atPath: dir) else {
            throw ISACError.invalidParameter(name: flag, value: dir, valid: "must be a writable folder")
        }
    }
}

/// The calibration draws a shard runs: none for `--calibration test-set` (the merge calibrates δ on the merged test
/// outcomes, as one run does on its own), else `--calibration-samples`.
func shardCalibrationSamples(_ cfg: MultiTargetConfig, _ calibrationSamples: Int) -> Int {
    cfg.calibration == .testSet ? 0 : calibrationSamples
}

// MARK: multitarget tradeoff

extension MTTradeoff {
    static let shardCommandName = "multitarget tradeoff"

    /// `--shard i/n`: this shard's blocks of the calibration and test samples of every (curve, φ, η) point, in the
    /// order of `run()`; the merge (`isac merge`) replays each point's calibrated evaluation from the stored outcomes
    /// and writes `--out` (CSV + SVG, byte-identical to one run) and prints the `--json` summary.
    func runShard() throws {
        let cfg = try system.config(), gospa = try system.gospa()
        let granule = try MTPfaSweep.granule(checkpoint)
        let etaValues = etaGrid.values(count: etas), phis = TradeoffExperiment.phiGrid(count: phases)
        try runSampleShard(command: Self.shardCommandName, sharding: sharding,
                           config: shardConfig(of: self, extra: ["checkpoint_files": try fileFingerprints(checkpoint)]),
                           methods: {
                               let ms = try methods(config: cfg, gospa: gospa)
                               let curves = ms.map { TradeoffExperiment.Curve(label: $0.label, dashed: $0.dashed) }
                               // One pseudo-method per point: the runner's (η, φ) are replaced by the point's.
                               return TradeoffExperiment.grid(curves: curves, phis: phis, etas: etaValues).map { g in
                                   let m = ms[g.curve]
                                   let point = MTMethod(label: m.label, dashed: m.dashed, run: { _, _, n, first, sd, pr in
                                       try m.run(g.eta, g.phi, n, first, sd, pr)
                                   }, config: m.config, gospa: m.gospa, targetPfa: m.targetPfa)
                                   return (point, granule)
                               }
                           },
                           samples: samples, calibrationSamples: shardCalibrationSamples(cfg, calSamples ?? samples), eta: 0, phiRad: 0, seed: seed,
                           quiet: quiet, json: json)
    }

    /// The merge of a complete set of shards: writes `--out` exactly as `run()` does and returns its `--json`
    /// object (`run_time_s` is the summed shard time).
    static func mergedJSON(_ shards: [(manifest: ShardManifest, payload: Data)]) throws -> [String: Any] {
        let cmd = try MTTradeoff.parse(shards[0].manifest.arguments)
        let cfg = try cmd.system.config(), gospa = try cmd.system.gospa()
        let cal = cmd.calSamples ?? cmd.samples
        let ms = try cmd.methods(config: cfg, gospa: gospa)
        let curves = ms.map { TradeoffExperiment.Curve(label: $0.label, dashed: $0.dashed) }
        let etaValues = cmd.etaGrid.values(count: cmd.etas), phis = TradeoffExperiment.phiGrid(count: cmd.phases)
        let grid = TradeoffExperiment.grid(curves: curves, phis: phis, etas: etaValues)
        let combined = try combineShards(shards, samples: cmd.samples, calibrationSamples: shardCalibrationSamples(cfg, cal))
        guard combined.count == grid.count, zip(combined, grid).allSatisfy({ $0.label == curves[$1.curve].label }) else {
            throw ISACError.shapeMismatch("the shards hold \(combined.count) points, the command line \(grid.count)")
        }
        let points = try zip(grid, combined).map { g, c in
            TradeoffExperiment.Point(label: c.label, metrics: try ShardedEvaluation.evaluate(c, config: cfg, targetPfas: [cmd.system.pfa],
                                                                                             eta: g.eta, phi: g.phi, gospa: gospa)[0])
        }
        try CLIOutput.checkStaged(cmd.out, force: cmd.force)
        let staged = try CLIOutput.stage(cmd.out, force: cmd.force)
        try TradeoffExperiment.write(points: points, curves: curves, phis: phis, targetPfa: cmd.system.pfa, maxTargets: cfg.maxTargets, to: staged.path)
        try staged.commit()
        return cmd.jsonObject(points: points, runTimeSeconds: combined.reduce(0) { $0 + $1.runTimeSeconds })
    }
}
