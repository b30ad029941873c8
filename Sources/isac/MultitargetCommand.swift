import ArgumentParser
import Foundation
import Linalg
import ISACIO
import Learning
import Metrics
import MultiTargetISAC
import Estimation
import Arrays

/// `isac multitarget …`: the model-based multi-target OFDM ISAC baseline under antenna impairments
/// (Mateos-Ramos et al., paper 2; docs/multitarget.md).
struct MultitargetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multitarget",
        abstract: "Model-based multi-target ISAC under impairments (paper 2).",
        subcommands: [MTEvaluate.self, MTTradeoff.self, MTTrain.self, MTTrainSweep.self, MTBench.self, MTPfaSweep.self, MTFigure.self])
}

struct MTEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "One operating point (eta, phi): calibrate the OMP threshold to --pfa, then p_md, p_fa, GOSPA, SER on fresh samples.")
    @OptionGroup var system: MTSystemOptions
    @Option(name: .customLong("eta"), help: "ISAC trade-off eta in [0, 1] (1 = all power to sensing).") var eta = 0.5
    @Option(name: .customLong("phi"), help: "Inter-beam phase phi, degrees.") var phiDeg = 0.0
    @Option(name: .customLong("impairments"), help: "none | unknown | known (comma list allowed; empty with --checkpoint = learned model only).") var impairments = "unknown"
    @Option(name: .customLong("checkpoint"), help: "Also evaluate a learned model (.npz from `isac multitarget train`): impairment/dictionary with the differentiable-OMP receiver, nnbl with its CNNs (kind read from the checkpoint).")
    var checkpoint: String?
    @Option(name: .customLong("receiver"), help: "Receiver for the --impairments rows: omp (baseline, Algorithm 1) | domp (differentiable OMP, Sec. IV-B).") var receiver = "omp"
    @OptionGroup var dompOptions: MTDOMPOptions
    @Option(name: .customLong("rx-columns"), help: "Dictionary checkpoints, ablation: receiver columns learned (as trained) | unit-norm (learned, rescaled to sqrt(K)) | nominal | nominal-learned-norms (nominal, rescaled to the learned norms).")
    var rxColumns: ReceiverColumns = .learned
    @Option(name: .customLong("tx-columns"), help: "Dictionary checkpoints, ablation: LS beamformer columns learned (as trained) | nominal.")
    var txColumns: TransmitterColumns = .learned
    @Option(name: .customLong("samples"), help: "Evaluation samples.") var samples = 400
    @Option(name: .customLong("calibration-samples"), help: "Samples for threshold calibration (default: --samples).") var calSamples: Int?
    @Option(name: .customLong("seed"), help: "Scenario seed.") var seed: UInt64 = 7
    @OptionGroup var output: MTOutputFlags
    var json: Bool { output.json }
    var quiet: Bool { output.quiet }
    @OptionGroup var sharding: ShardOptions

    func validate() throws {
        try MultiTargetLimits.checkSamples(samples, "--samples")
        if let c = calSamples { try MultiTargetLimits.checkSamples(c, "--calibration-samples") }
        try system.validateCommon(samples: samples + (calSamples ?? samples))
        try MultiTargetLimits.checkOperatingPoint(eta: eta, phiDeg: phiDeg)
        if let c = checkpoint { _ = try MultiTargetLimits.checkpointPaths(c) }
        if !(checkpoint != nil && impairments.isEmpty) { _ = try parseImpairments(impairments) }
        _ = try parseReceivers(receiver, entries: 0, allowList: false)
        try dompOptions.settings.validate()
    }

    func run() throws {
        if sharding.isActive { return try runShard() }
        let cfg = try system.config()
        let modes = checkpoint != nil && impairments.isEmpty ? [] : try parseImpairments(impairments)
        let gospa = try system.gospa()
        let cal = calSamples ?? samples
        var results: [OperatingPointReport] = []
        if let path = checkpoint, try NNBLCheckpoint.kind(at: path) == "nnbl" {
            let (meth, ck) = try nnblMethod(path: path, system: system, config: cfg, gospa: gospa)
            var r = try evaluate(meth.label) { try meth.evaluateWithGOSPA(eta, radians(phiDeg), samples, cal, seed, $0) }
            r.checkpoint = path
            r.parameters = ck.model.parameterCount
            results.append(r)
        } else if let path = checkpoint {
            let lc = try LearnedCheckpointEvaluation(path: path, config: cfg, impairmentSeed: system.impairmentSeed,
                                                     rxColumns: rxColumns, txColumns: txColumns)
            var r = try evaluate(lc.label) { pr in
                try CalibratedEvaluation.run(config: cfg, samples: samples, calibrationSamples: cal, targetPfa: system.pfa,
                                             eta: eta, phi: radians(phiDeg), gospa: gospa) { n, first in
                    try lc.system.runBatch(count: n, firstIndex: first, seed: seed, eta: eta, phi: radians(phiDeg), progress: pr)
                }
            }
            lc.annotate(&r, path: path)
            results.append(r)
        }
        let methods = modes.isEmpty ? [] : try buildMethods(system: system, config: cfg, gospa: gospa, impairments: impairments,
                                                            receivers: try parseReceivers(receiver, entries: modes.count, allowList: false),
                                                            checkpoints: nil, domp: dompOptions.settings)
        for meth in methods {
            results.append(try evaluate(meth.label) { try meth.evaluateWithGOSPA(eta, radians(phiDeg), samples, cal, seed, $0) })
        }
        if json {
            // One shape whatever the number of modes (docs/multitarget.md, "evaluate --json").
            print(try ResultJSON.string(report(results: results, config: cfg, calibrationSamples: cal)))
        } else {
            print("eta=\(eta) phi=\(phiDeg)deg  target p_fa=\(system.pfa)  samples=\(samples) (+\(cal) calibration)")
            print(String(format: "%-20@ %8@ %8@ %9@ %8@ %9@", "method" as NSString, "p_md" as NSString, "p_fa" as NSString,
                         "GOSPA[m]" as NSString, "SER" as NSString, "time[s]" as NSString))
            for r in results {
                print(String(format: "%-20@ %8.4f %8.4f %9.3f %8.4f %9.2f", r.impairments as NSString, r.pMD, r.pFA, r.gospaM, r.ser,
                             r.runTimeSeconds ?? .nan))
            }
        }
    }

    /// One row: the calibrated evaluation `body(progress)` timed, with its GOSPA decomposition and sample rate.
    func evaluate(_ label: String, _ body: (@escaping @Sendable (Int) -> Void) throws -> (metrics: OperatingPointMetrics, gospa: GOSPABreakdown)) throws -> OperatingPointReport {
        let cal = calSamples ?? samples
        let pl = ProgressLine("evaluate \(label)", total: samples + cal, enabled: !quiet)
        let t0 = Date()
        let (m, g) = try body { pl.advance($0) }
        pl.finish()
        var r = OperatingPointReport(m, label: label)
        r.gospaDecomposition = g
        return r.timed(Date().timeIntervalSince(t0), draws: samples + cal)
    }
}

extension EtaGrid: ExpressibleByArgument {}

struct MTTradeoff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tradeoff",
        abstract: "Sweep eta in [0, 1] (and phi) at a calibrated p_fa: CSV + SVG of p_md, GOSPA, SER (and single-target RMSE) vs eta (paper Figs. 5, 9).")
    @OptionGroup var system: MTSystemOptions
    @Option(name: .customLong("impairments"), help: "none | unknown | known, or a comma list (one curve each; may be empty with --checkpoint).") var impairments = "unknown,known"
    @Option(name: .customLong("receiver"), help: "Receiver for the --impairments curves: omp (baseline, Algorithm 1) | domp (differentiable OMP, Sec. IV-B).") var receiver = "omp"
    @Option(name: .customLong("checkpoint"), help: "Learned models (.npz from `isac multitarget train`: impairment, dictionary or nnbl, kind read from the file; comma list): one curve each.") var checkpoint: String?
    @OptionGroup var dompOptions: MTDOMPOptions
    @Option(name: .customLong("etas"), help: "Number of eta values (see --eta-grid).") var etas = 8
    @Option(name: .customLong("eta-grid"), help: "linear (uniform in [0, 1]) | log (10^-3 .. 1 log-spaced, as the official code's testISAC).") var etaGrid: EtaGrid = .linear
    @Option(name: .customLong("phases"), help: "Number of phi values uniformly in [0, 2pi) (1 = phi 0, as the paper's Fig. 9).") var phases = 1
    @Option(name: .customLong("samples"), help: "Evaluation samples per point.") var samples = 150
    @Option(name: .customLong("calibration-samples"), help: "Calibration samples per point (default: --samples).") var calSamples: Int?
    @Option(name: .customLong("seed"), help: "Scenario seed.") var seed: UInt64 = 7
    @Option(name: .customLong("out"), help: "Output folder.") var out: String
    @Flag(help: "Replace a non-empty --out.") var force = false
    @OptionGroup var output: MTOutputFlags
    var json: Bool { output.json }
    var quiet: Bool { output.quiet }
    @OptionGroup var sharding: ShardOptions

    func validate() throws {
        try MultiTargetLimits.checkSamples(samples, "--samples")
        if let c = calSamples { try MultiTargetLimits.checkSamples(c, "--calibration-samples") }
        try system.validateCommon(samples: samples + (calSamples ?? samples))
        try Check.inRange(etas, 2, 1000, "--etas")
        try Check.inRange(phases, 1, 64, "--phases")
        if let c = checkpoint { _ = try MultiTargetLimits.checkpointPaths(c) }
        if !impairments.isEmpty { _ = try parseImpairments(impairments) }
        _ = try parseReceivers(receiver, entries: 0, allowList: false)
        guard !out.isEmpty else { throw ISACError.invalidParameter(name: "--out", value: "\"\"", valid: "must be a folder path") }
        try CLIOutput.checkStaged(out, force: force)
    }

    /// The curves of the sweep (`--impairments` rows, then `--checkpoint` models), as `run()` and the shard merge build them.
    func methods(config cfg: MultiTargetConfig, gospa: GOSPA) throws -> [MTMethod] {
        let entries = impairments.isEmpty ? 0 : try parseImpairments(impairments).count
        return try buildMethods(system: system, config: cfg, gospa: gospa, impairments: impairments,
                                receivers: try parseReceivers(receiver, entries: entries, allowList: false),
                                checkpoints: checkpoint, domp: dompOptions.settings)
    }

    func run() throws {
        if sharding.isActive { return try runShard() }
        let cfg = try system.config()
        let gospa = try system.gospa()
        let methods = try methods(config: cfg, gospa: gospa)
        let cal = calSamples ?? samples
        let etaValues = etaGrid.values(count: etas), phis = TradeoffExperiment.phiGrid(count: phases)
        let curves = methods.map { TradeoffExperiment.Curve(label: $0.label, dashed: $0.dashed) }
        let pl = ProgressLine("tradeoff", total: methods.count * etaValues.count * phis.count * (samples + cal), enabled: !quiet)
        let t0 = Date()
        let points = try TradeoffExperiment.grid(curves: curves, phis: phis, etas: etaValues).map { g in
            TradeoffExperiment.Point(label: methods[g.curve].label,
                                     metrics: try methods[g.curve].evaluate(g.eta, g.phi, samples, cal, seed, { pl.advance($0) }))
        }
        pl.finish()
        let staged = try CLIOutput.stage(out, force: force)
        try TradeoffExperiment.write(points: points, curves: curves, phis: phis, targetPfa: system.pfa, maxTargets: cfg.maxTargets, to: staged.path)
        let el = Date().timeIntervalSince(t0)
        try staged.commit()
        if json {
            print(try ResultJSON.string(TradeoffReport(out: out, points: points, runTimeSeconds: el, targetPfa: system.pfa, seed: seed)))
        } else {
            print(String(format: "%-8@ %5@ %6@ %8@ %8@ %9@ %8@", "impair" as NSString, "eta" as NSString, "phi" as NSString,
                         "p_md" as NSString, "p_fa" as NSString, "GOSPA[m]" as NSString, "SER" as NSString))
            for p in points {
                let m = p.metrics
                print(String(format: "%-8@ %5.3f %6.1f %8.4f %8.4f %9.3f %8.4f", p.label as NSString, m.eta, degrees(m.phi),
                             m.detection.missedDetectionProbability, m.detection.falseAlarmProbability, m.meanGOSPA, m.ser.rate))
            }
            print("wrote \(out)/tradeoff.csv and SVG figures (\(String(format: "%.1f", el)) s)")
        }
    }

    /// The `--json` summary of `run()` (and of the shard merge, with the summed shard times).
    func jsonObject(points: [TradeoffExperiment.Point], runTimeSeconds: Double) -> [String: Any] {
        (try? ResultJSON.object(TradeoffReport(out: out, points: points, runTimeSeconds: runTimeSeconds, targetPfa: system.pfa, seed: seed))) ?? [:]
    }
}

struct MTBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Samples/s of the full baseline evaluation (scenario + LS beam + OMP with T_max, paper grid sizes); optionally writes the OMP inputs for bench/multitarget/numpy_omp.py.")
    @OptionGroup var system: MTSystemOptions
    @Option(name: .customLong("samples"), help: "Samples to time.") var samples = 200
    @Option(name: .customLong("seed"), help: "Scenario seed.") var seed: UInt64 = 7
    @Option(name: .customLong("eta"), help: "ISAC trade-off eta.") var eta = 0.5
    @Option(name: .customLong("write-inputs"), help: "Folder for raw OMP inputs/outputs of the first --export samples (for the NumPy comparison).")
    var writeInputs: String?
    @Option(name: .customLong("export"), help: "How many samples to export with --write-inputs.") var export = 50
    @Flag(name: .customLong("json"), help: "Print one JSON object on stdout.") var json = false

    func validate() throws {
        try MultiTargetLimits.checkSamples(samples, "--samples")
        try system.validateCommon(samples: samples)
        try Check.inRange(eta, 0, 1, "--eta")
        // Each exported sample is a K x S complex128 observation (256 kB at the paper's sizes).
        try Check.inRange(export, 1, 10_000, "--export")
        if let w = writeInputs { try CLIOutput.checkFolder(w, flag: "--write-inputs") }
    }

    func run() throws {
        let r = try BaselineBench.run(config: try system.config(), impairmentSeed: system.impairmentSeed, samples: samples, seed: seed,
                                      eta: eta, export: export, writeInputs: writeInputs)
        if json { print(try ResultJSON.string(r)) } else {
            print(String(format: "full baseline evaluation: %.1f samples/s (%d threads)", r.fullPipelineSamplesPerSecond, r.threads))
            print(String(format: "OMP receiver only, 1 thread: %.1f samples/s (K=%d S=%d Ntheta=%d Ntau=%d Tmax=%d)",
                         r.ompOnlySamplesPerSecond1Thread, r.K, r.S, r.nTheta, r.nTau, r.tMax))
        }
    }
}

extension MTEvaluate {
    /// The `--json` object of `evaluate` (docs/multitarget.md, "evaluate --json"): one shape whatever the number of
    /// modes. Shared by `run()` and the merge of sharded runs (`isac merge`), so both print the same keys.
    func report(results: [OperatingPointReport], config cfg: MultiTargetConfig, calibrationSamples cal: Int) -> EvaluateReport {
        EvaluateReport(results: results, targetPfa: system.pfa, seed: seed, preset: system.preset.rawValue,
                       calibration: cfg.calibration, samples: samples, calibrationSamples: cal)
    }

    /// `report` as a dictionary, for the shard merge that composes its results as dictionaries.
    func jsonObject(results: [[String: Any]], config cfg: MultiTargetConfig, calibrationSamples cal: Int) -> [String: Any] {
        var o = (try? ResultJSON.object(report(results: [], config: cfg, calibrationSamples: cal))) ?? [:]
        o["results"] = results
        return o
    }
}
