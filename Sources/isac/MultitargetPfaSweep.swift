import ArgumentParser
import Foundation
import Linalg
import ISACIO
import Metrics
import MultiTargetISAC

/// `isac multitarget pfa-sweep`: p_md, fresh p_fa and mean GOSPA against the target false-alarm probability
/// (paper Sec. V-D, Figs. 7–8) at one operating point (η, φ). One calibration pass and one evaluation pass per
/// method serve all p_fa values (`PfaSweep.evaluate`); every p_fa is measured on the same test scenes.
struct MTPfaSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pfa-sweep",
        abstract: "Sweep the target p_fa at one (eta, phi): thresholds calibrated per p_fa from one calibration pass, p_md / fresh p_fa / GOSPA on the same test scenes; CSV + SVG (paper Figs. 7-8).")
    @OptionGroup var system: MTSystemOptions
    @Option(name: .customLong("pfa-values"), help: "Target false-alarm probabilities, comma list, each in (0, 1).")
    var pfaValues = "1e-3,3e-3,1e-2,3e-2,1e-1,3e-1"
    @Option(name: .customLong("eta"), help: "ISAC trade-off eta in [0, 1] (1 = all power to sensing).") var eta = 0.5
    @Option(name: .customLong("phi"), help: "Inter-beam phase phi, degrees.") var phiDeg = 0.0
    @Option(name: .customLong("impairments"), help: "none | unknown | known, or a comma list (one curve each; may be empty with --checkpoint).") var impairments = "unknown,known"
    @Option(name: .customLong("receiver"), help: "Receiver for the --impairments curves: omp (baseline, Algorithm 1) | domp (differentiable OMP, Sec. IV-B); one value for all curves, or a comma list paired with --impairments (e.g. --impairments known,known --receiver omp,domp).") var receiver = "omp"
    @Option(name: .customLong("checkpoint"), help: "Learned models (.npz from `isac multitarget train`: impairment, dictionary or nnbl; comma list): one curve each.") var checkpoint: String?
    @OptionGroup var dompOptions: MTDOMPOptions
    @Option(name: .customLong("samples"), help: "Evaluation samples (the same scenes for every p_fa).") var samples = 400
    @Option(name: .customLong("calibration-samples"), help: "Calibration samples (default: --samples); small p_fa needs many (p_fa * T_max * n >> 1).") var calSamples: Int?
    @Option(name: .customLong("seed"), help: "Scenario seed.") var seed: UInt64 = 7
    @Option(name: .customLong("out"), help: "Output folder for pfa_sweep.csv and the SVG figures (optional).") var out: String?
    @OptionGroup var output: MTOutputFlags
    var json: Bool { output.json }
    var quiet: Bool { output.quiet }
    @OptionGroup var sharding: ShardOptions

    func validate() throws {
        try MultiTargetLimits.checkSamples(samples, "--samples")
        if let c = calSamples { try MultiTargetLimits.checkSamples(c, "--calibration-samples") }
        try system.applyThreads()
        _ = try system.config(); _ = try system.gospa()
        try system.config().checkMemory(samples: samples + (calSamples ?? samples))
        if let c = checkpoint { _ = try MultiTargetLimits.checkpointPaths(c) }
        _ = try PfaSweep.parse(pfaValues)
        // The shared system options carry the single-point --pfa of evaluate/tradeoff; here it would be silently
        // ignored, so anything but its default is refused.
        guard system.pfa == 1e-2 else {
            throw ISACError.invalidParameter(name: "--pfa", value: "\(system.pfa)", valid: "not used by pfa-sweep; give the targets with --pfa-values")
        }
        try MultiTargetLimits.checkOperatingPoint(eta: eta, phiDeg: phiDeg)
        if !impairments.isEmpty { _ = try parseImpairments(impairments) }
        if impairments.isEmpty && (checkpoint ?? "").isEmpty {
            throw ISACError.invalidParameter(name: "--impairments/--checkpoint", value: "none given", valid: "give at least one baseline mode or checkpoint")
        }
        _ = try parseReceivers(receiver, entries: impairments.isEmpty ? 0 : try parseImpairments(impairments).count, allowList: true)
        try dompOptions.settings.validate()
        if let o = out, o.isEmpty { throw ISACError.invalidParameter(name: "--out", value: "\"\"", valid: "must be a folder path") }
        if let o = out { try CLIOutput.checkFolder(o) }  // before the sweep, not after it
    }

    func run() throws {
        if sharding.isActive { return try runShard() }
        let cfg = try system.config()
        let gospa = try system.gospa()
        let pfas = try PfaSweep.parse(pfaValues)
        let cal = calSamples ?? samples
        let phi = radians(phiDeg)
        let modes = impairments.isEmpty ? [] : try parseImpairments(impairments)
        let meths = try buildMethods(system: system, config: cfg, gospa: gospa, impairments: impairments,
                                     receivers: try parseReceivers(receiver, entries: modes.count, allowList: true),
                                     checkpoints: checkpoint, domp: dompOptions.settings)
        var rows: [PfaSweepReport.Row] = []
        let pl = ProgressLine("pfa-sweep", total: meths.count * (samples + cal), enabled: !quiet)
        let t0 = Date()
        for meth in meths {
            let t1 = Date()
            let ms = try PfaSweep.evaluate(config: cfg, samples: samples, calibrationSamples: cal, targetPfas: pfas,
                                           eta: eta, phi: phi, gospa: gospa) { n, first in
                try meth.run(eta, phi, n, first, seed, { pl.advance($0) })
            }
            let el = Date().timeIntervalSince(t1)
            for (p, m) in zip(pfas, ms) { rows.append(PfaSweepReport.Row(label: meth.label, targetPfa: p, metrics: m, methodRunTimeSeconds: el)) }
        }
        pl.finish()
        let total = Date().timeIntervalSince(t0)
        if let o = out {
            try writeFiles(rows: rows, curves: meths.map { TradeoffExperiment.Curve(label: $0.label, dashed: $0.dashed) }, config: cfg, to: o)
        }
        if json {
            print(try ResultJSON.string(report(rows: rows, config: cfg, runTimeSeconds: total)))
        } else {
            print("eta=\(eta) phi=\(phiDeg)deg  T_max=\(cfg.maxTargets)  samples=\(samples) (+\(cal) calibration)")
            func pad(_ t: String, _ w: Int) -> String { t.count >= w ? t : t + String(repeating: " ", count: w - t.count) }
            let w = max(8, rows.map(\.label.count).max() ?? 0)
            func lpad(_ t: String, _ w: Int) -> String { t.count >= w ? t : String(repeating: " ", count: w - t.count) + t }
            print(pad("method", w) + " " + [("target", 9), ("p_md", 8), ("p_fa", 8), ("GOSPA[m]", 9), ("delta/KSN0", 10)]
                .map { lpad($0.0, $0.1) }.joined(separator: " "))
            for r in rows {
                print(pad(r.label, w) + String(format: " %9.2g %8.4f %8.4f %9.3f %10.3f", r.targetPfa,
                             r.metrics.detection.missedDetectionProbability, r.metrics.detection.falseAlarmProbability, r.metrics.meanGOSPA,
                             r.metrics.normalizedThreshold))
            }
            print(String(format: "%.1f s", total) + (out.map { "; wrote \($0)/pfa_sweep.csv, pmd_vs_pfa.svg, gospa_vs_pfa.svg" } ?? ""))
        }
    }

    /// `--out`: pfa_sweep.csv and the SVG figures (`PfaSweepReport.write`), from one run or from merged shards.
    func writeFiles(rows: [PfaSweepReport.Row], curves: [TradeoffExperiment.Curve], config cfg: MultiTargetConfig, to dir: String) throws {
        try PfaSweepReport.write(rows: rows, curves: curves, samples: samples,
                                 calibrationSamples: cfg.calibration == .testSet ? 0 : (calSamples ?? samples),
                                 eta: eta, phiDeg: phiDeg, maxTargets: cfg.maxTargets, to: dir)
    }

    /// The `--json` object of `run()` and of the shard merge (`method_run_time_s`/`run_time_s`: summed shard times).
    func report(rows: [PfaSweepReport.Row], config cfg: MultiTargetConfig, runTimeSeconds total: Double) throws -> PfaSweepJSONReport {
        PfaSweepJSONReport(rows: rows, pfaValues: try PfaSweep.parse(pfaValues), eta: eta, phiDeg: phiDeg, samples: samples,
                           calibrationSamples: calSamples ?? samples, seed: seed, targetsMax: cfg.maxTargets, runTimeSeconds: total, out: out)
    }
}

// MARK: sharding (`--shard i/n`, `isac merge`)

extension MTPfaSweep {
    static let shardCommandName = "multitarget pfa-sweep"

    /// NNBL checkpoints evaluate in network batches of 64: then every curve's shard boundaries fall on multiples of 64.
    static func granule(_ checkpoints: String?) throws -> Int {
        for p in (checkpoints ?? "").split(separator: ",") where try NNBLCheckpoint.kind(at: String(p)) == "nnbl" { return 64 }
        return 1
    }

    /// Every curve of the sweep, as `run()` builds them, with the shard granule.
    func shardMethods(config cfg: MultiTargetConfig, gospa: GOSPA) throws -> [(MTMethod, Int)] {
        let modes = impairments.isEmpty ? [] : try parseImpairments(impairments)
        let g = try Self.granule(checkpoint)
        return try buildMethods(system: system, config: cfg, gospa: gospa, impairments: impairments,
                                receivers: try parseReceivers(receiver, entries: modes.count, allowList: true),
                                checkpoints: checkpoint, domp: dompOptions.settings).map { ($0, g) }
    }

    /// `--shard i/n`: this shard's blocks of every curve's samples into `--shard-dir`. `--out` is written by the
    /// merge, not by the shards (its path is part of the shard configuration, so all shards of a run name the same).
    func runShard() throws {
        let cfg = try system.config(), gospa = try system.gospa()
        try runSampleShard(command: Self.shardCommandName, sharding: sharding,
                           config: shardConfig(of: self, extra: ["checkpoint_files": try fileFingerprints(checkpoint)]),
                           methods: { try shardMethods(config: cfg, gospa: gospa) },
                           samples: samples, calibrationSamples: shardCalibrationSamples(cfg, calSamples ?? samples), eta: eta, phiRad: radians(phiDeg), seed: seed,
                           quiet: quiet, json: json)
    }

    /// The merge of a complete set of shards: writes `--out` (if the shards were given one) byte-identical to one
    /// run and returns the `--json` object of `run()` (`method_run_time_s` and `run_time_s` are summed shard times).
    static func mergedJSON(_ shards: [(manifest: ShardManifest, payload: Data)]) throws -> [String: Any] {
        let cmd = try MTPfaSweep.parse(shards[0].manifest.arguments)
        let cfg = try cmd.system.config(), gospa = try cmd.system.gospa()
        let pfas = try PfaSweep.parse(cmd.pfaValues)
        let cal = cmd.calSamples ?? cmd.samples
        var rows: [PfaSweepReport.Row] = []
        var total = 0.0
        let combined = try combineShards(shards, samples: cmd.samples, calibrationSamples: shardCalibrationSamples(cfg, cal))
        for c in combined {
            let ms = try ShardedEvaluation.evaluate(c, config: cfg, targetPfas: pfas, eta: cmd.eta, phi: radians(cmd.phiDeg), gospa: gospa)
            for (p, m) in zip(pfas, ms) { rows.append(PfaSweepReport.Row(label: c.label, targetPfa: p, metrics: m, methodRunTimeSeconds: c.runTimeSeconds)) }
            total += c.runTimeSeconds
        }
        if let o = cmd.out {
            let curves = try cmd.shardMethods(config: cfg, gospa: gospa).map { TradeoffExperiment.Curve(label: $0.0.label, dashed: $0.0.dashed) }
            guard curves.map(\.label) == combined.map(\.label) else {
                throw ISACError.shapeMismatch("the shards hold curves \(combined.map(\.label)), the command line \(curves.map(\.label))")
            }
            try CLIOutput.checkFolder(o)
            try cmd.writeFiles(rows: rows, curves: curves, config: cfg, to: o)
        }
        return try ResultJSON.object(cmd.report(rows: rows, config: cfg, runTimeSeconds: total))
    }
}
