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

/// System options shared by the subcommands (defaults = paper Sec. V-A).
/// Differentiable-OMP receiver settings (eq. 16 window, softmax temperature), shared by every command that runs it.
struct MTDOMPOptions: ParsableArguments {
    @Option(name: .customLong("temperature"), help: "Differentiable-OMP softmax temperature relative to the peak (--receiver domp and learned models).") var temperature = 0.1
    @Option(name: .customLong("window-scale"), help: "Differentiable-OMP window, in resolution cells of eq. (16).") var windowScale = 1.0
    var settings: DifferentiableOMPSettings { DifferentiableOMPSettings(temperature: temperature, windowScale: windowScale) }
    func validate() throws { try MultiTargetLimits.checkDOMP(temperature: temperature, windowScale: windowScale) }
}

extension MultiTargetPreset: ExpressibleByArgument {}
extension RadarGainModel: ExpressibleByArgument {}
extension CommChannelModel: ExpressibleByArgument {}
extension CalibrationProtocol: ExpressibleByArgument {}
extension DetectionRule: ExpressibleByArgument {}
extension TrainingMethod: ExpressibleByArgument {}
extension TrainingSchedule: ExpressibleByArgument {}
extension TrainingSectorChoice: ExpressibleByArgument {}
extension ReceiverColumns: ExpressibleByArgument {}
extension TransmitterColumns: ExpressibleByArgument {}
extension ArrayImpairment.SpacingModel: ExpressibleByArgument {}

/// System options shared by the subcommands: `--preset` picks the defaults (paper Sec. V-A or the official code),
/// every other flag overrides one field of it (docs/multitarget.md, "Presets"). Flags that take negative values
/// parse them unconditionally (`--sector-min -40`).
struct MTSystemOptions: ParsableArguments {
    @Option(name: .customLong("preset"), help: "System defaults: paper (Sec. V-A) | official-code (the authors' repository defaults). Every flag below overrides one field.")
    var preset: MultiTargetPreset = .paper
    @Option(name: .customLong("targets-max"), help: "T_max, maximum number of targets (also the OMP cap), >= 1.") var targetsMax: Int?
    @Option(name: .customLong("antennas"), help: "K, ULA elements.") var antennas: Int?
    @Option(name: .customLong("subcarriers"), help: "S, OFDM subcarriers.") var subcarriers: Int?
    @Option(name: .customLong("subcarrier-spacing-hz"), help: "Delta_f, subcarrier spacing, Hz (paper 120e3, official code 240e3).") var subcarrierSpacingHz: Double?
    @Option(name: .customLong("carrier-hz"), help: "f_c, carrier frequency, Hz (60e9).") var carrierHz: Double?
    @Option(name: .customLong("n-theta"), help: "N_theta, angle grid points.") var nTheta: Int?
    @Option(name: .customLong("n-tau"), help: "N_tau, delay grid points.") var nTau: Int?
    @Option(name: .customLong("power-w"), help: "P, transmit power ||f||^2, W (1).") var powerW: Double?
    @Option(name: .customLong("radar-gain"), help: "fixed-snr (paper: psi ~ CN(0, SNR_r N0/K)) | link-budget (official code: radar equation, R^-4, Swerling-1 RCS, noise k T F S Delta_f).")
    var radarGain: RadarGainModel?
    @Option(name: .customLong("snr-r-db"), parsing: .unconditional, help: "fixed-snr: integrated sensing SNR K sigma_r^2/N0, dB (15).") var snrR: Double?
    @Option(name: .customLong("noise-figure-db"), parsing: .unconditional, help: "link-budget: receiver noise figure F, dB (8).") var noiseFigureDB: Double?
    @Option(name: .customLong("noise-temperature-k"), help: "link-budget: system temperature T, K (290).") var noiseTemperatureK: Double?
    @Option(name: .customLong("mean-rcs-m2"), help: "link-budget: mean RCS of the Swerling-1 targets and scatterers, m^2 (1).") var meanRCS: Double?
    @Option(name: .customLong("comm-channel"), help: "rayleigh (paper: L-tap exponential-profile Rayleigh at --snr-c-db) | los-nlos (official code: LOS + up to --comm-paths-max - 1 scatterers, link budget).")
    var commChannel: CommChannelModel?
    @Option(name: .customLong("snr-c-db"), parsing: .unconditional, help: "rayleigh: average communication SNR per subcarrier, dB (20).") var snrC: Double?
    @Option(name: .customLong("taps"), help: "rayleigh: L, channel taps (5).") var taps: Int?
    @Option(name: .customLong("comm-paths-max"), help: "los-nlos: P_max, paths including LOS, P ~ U{1..P_max} (6).") var commPathsMax: Int?
    @Option(name: .customLong("comm-range-min"), help: "los-nlos: UE/scatterer range interval lower edge, m (10).") var commRangeMin: Double?
    @Option(name: .customLong("comm-range-max"), help: "los-nlos: UE range interval upper edge, m (200).") var commRangeMax: Double?
    @Option(name: .customLong("cyclic-prefix-fraction"), help: "los-nlos: cyclic prefix / OFDM symbol (0.07), bounds the NLOS excess path.") var cpFraction: Double?
    @Option(name: .customLong("sector-min"), parsing: .unconditional, help: "Target sector lower edge, degrees (-40).") var sectorMin: Double?
    @Option(name: .customLong("sector-max"), parsing: .unconditional, help: "Target sector upper edge, degrees (-20).") var sectorMax: Double?
    @Flag(name: .customLong("random-sector"), help: "Draw the target sector per sample (mean ~ U[-60,60] deg, span ~ U[10,20] deg) instead of --sector-min/max.")
    var randomSector = false
    @Option(name: .customLong("comm-min"), parsing: .unconditional, help: "Communication sector lower edge, degrees (paper 30, official code 40).") var commMin: Double?
    @Option(name: .customLong("comm-max"), parsing: .unconditional, help: "Communication sector upper edge, degrees (paper 50, official code 60).") var commMax: Double?
    @Option(name: .customLong("range-min"), help: "R_min, metres (10).") var rangeMin: Double?
    @Option(name: .customLong("range-max"), help: "R_max, metres (paper 190, official code 43.75).") var rangeMax: Double?
    @Option(name: .customLong("spacing-std-mm"), help: "sigma_lambda of the element spacings, mm (paper lambda/25 = 0.2 mm, official code lambda/15 at 60 GHz).")
    var spacingStdMM: Double?
    @Option(name: .customLong("spacing-model"), help: "cumulative (spacings x_{k+1}-x_k = d_k, default) | per-element (x_k = (k-(K-1)/2) d_k, paper Example 1 literally).")
    var spacingModel: ArrayImpairment.SpacingModel?
    @Option(name: .customLong("array-positions"), help: "True element positions x_k (metres, increasing): a .npy file of K real numbers (e.g. a measured array); replaces the random realization.")
    var arrayPositions: String?
    @Option(name: .customLong("impairment-seed"), help: "Seed of the single hardware realization d.") var impairmentSeed: UInt64 = 1
    @Option(name: .customLong("pfa"), help: "Target false-alarm probability for threshold calibration.") var pfa = 1e-2
    @Option(name: .customLong("calibration"), help: "Threshold calibration: out-of-sample (separate draws; paper preset) | test-set (on the evaluation draws, official code).")
    var calibration: CalibrationProtocol?
    @Option(name: .customLong("detection-rule"), help: "Baseline OMP detections at delta: first-below (Algorithm 1: stop at the first peak <= delta; paper preset) | all-above (every peak > delta, official code).")
    var detectionRule: DetectionRule?
    @Option(name: .customLong("gospa-cutoff"), help: "GOSPA cut-off gamma, metres (paper preset (R_max-R_min)/2, official code R_max-R_min).") var gospaCutoff: Double?
    @Option(name: .customLong("gospa-mu"), help: "GOSPA mu.") var gospaMu = 2.0
    @Option(name: .customLong("gospa-p"), help: "GOSPA order p.") var gospaP = 2.0

    func config() throws -> MultiTargetConfig {
        var c = preset.config
        if let v = targetsMax { c.maxTargets = v }
        if let v = antennas { c.antennas = v }
        if let v = subcarriers { c.subcarriers = v }
        if let v = subcarrierSpacingHz { c.subcarrierSpacingHz = v }
        if let v = carrierHz { c.carrierHz = v }
        if let v = nTheta { c.angleGridSize = v }
        if let v = nTau { c.delayGridSize = v }
        if let v = powerW { c.power = v }
        if let v = radarGain { c.radarGainModel = v }
        if let v = snrR { c.sensingSNRdB = v }
        if let v = noiseFigureDB { c.linkBudget.noiseFigureDB = v }
        if let v = noiseTemperatureK { c.linkBudget.temperatureK = v }
        if let v = meanRCS { c.linkBudget.meanRCSm2 = v }
        if let v = commChannel { c.commChannelModel = v }
        if let v = snrC { c.commSNRdB = v }
        if let v = taps { c.channelTaps = v }
        if let v = commPathsMax { c.maxCommPaths = v }
        if let v = commRangeMin { c.commRangeMinMeters = v }
        if let v = commRangeMax { c.commRangeMaxMeters = v }
        if let v = cpFraction { c.cyclicPrefixFraction = v }
        if randomSector {
            c.targetSector = .random(meanLowRad: radians(-60), meanHighRad: radians(60), spanLowRad: radians(10), spanHighRad: radians(20))
        } else if sectorMin != nil || sectorMax != nil {
            guard case let .fixed(s0) = c.targetSector else {
                throw ISACError.invalidParameter(name: "--preset", value: preset.rawValue, valid: "a preset with a fixed test sector")
            }
            c.targetSector = .fixed(try AngularSector(lowerDeg: sectorMin ?? degrees(s0.lowerRad), upperDeg: sectorMax ?? degrees(s0.upperRad),
                                                      name: "--sector-min/--sector-max"))
        }
        if commMin != nil || commMax != nil {
            c.commSector = try AngularSector(lowerDeg: commMin ?? degrees(c.commSector.lowerRad), upperDeg: commMax ?? degrees(c.commSector.upperRad),
                                             name: "--comm-min/--comm-max")
        }
        if let v = rangeMin { c.rangeMinMeters = v }
        if let v = rangeMax { c.rangeMaxMeters = v }
        if let s = spacingStdMM { c.spacingStdMeters = s * 1e-3 }
        if let v = spacingModel { c.spacingModel = v }
        if let v = calibration { c.calibration = v }
        if let v = detectionRule { c.detectionRule = v }
        if let g = gospaCutoff { c.gospaCutoffMeters = g }
        if let path = arrayPositions { c.trueArrayPositionsMeters = try ArrayImpairment.readPositions(npyPath: path, antennas: c.antennas) }
        try c.validate()
        return c
    }

    func gospa() throws -> GOSPA {
        try config().gospa(mu: gospaMu, order: gospaP)
    }

    /// The flags that reproduce this system from the command line (`--preset` plus every field that differs from
    /// it, shortest round-trip number text), so a printed command (e.g. train's `test_command`) runs as printed.
    func replayFlags() throws -> [String] {
        let c = try config(), p = preset.config
        var f = ["--preset", preset.rawValue]
        // Degrees went through radians: 12 significant digits undo the round-off (−15, not −14.999999999999998).
        func deg(_ r: Double) -> String { String(format: "%.12g", degrees(r)) }
        func add(_ name: String, _ v: Double, _ d: Double) { if v != d { f += [name, "\(v)"] } }
        func add(_ name: String, _ v: Int, _ d: Int) { if v != d { f += [name, "\(v)"] } }
        add("--targets-max", c.maxTargets, p.maxTargets); add("--antennas", c.antennas, p.antennas)
        add("--subcarriers", c.subcarriers, p.subcarriers); add("--subcarrier-spacing-hz", c.subcarrierSpacingHz, p.subcarrierSpacingHz)
        add("--carrier-hz", c.carrierHz, p.carrierHz); add("--n-theta", c.angleGridSize, p.angleGridSize)
        add("--n-tau", c.delayGridSize, p.delayGridSize); add("--power-w", c.power, p.power)
        if c.radarGainModel != p.radarGainModel { f += ["--radar-gain", c.radarGainModel.rawValue] }
        add("--snr-r-db", c.sensingSNRdB, p.sensingSNRdB); add("--noise-figure-db", c.linkBudget.noiseFigureDB, p.linkBudget.noiseFigureDB)
        add("--noise-temperature-k", c.linkBudget.temperatureK, p.linkBudget.temperatureK)
        add("--mean-rcs-m2", c.linkBudget.meanRCSm2, p.linkBudget.meanRCSm2)
        if c.commChannelModel != p.commChannelModel { f += ["--comm-channel", c.commChannelModel.rawValue] }
        add("--snr-c-db", c.commSNRdB, p.commSNRdB); add("--taps", c.channelTaps, p.channelTaps)
        add("--comm-paths-max", c.maxCommPaths, p.maxCommPaths); add("--comm-range-min", c.commRangeMinMeters, p.commRangeMinMeters)
        add("--comm-range-max", c.commRangeMaxMeters, p.commRangeMaxMeters)
        add("--cyclic-prefix-fraction", c.cyclicPrefixFraction, p.cyclicPrefixFraction)
        if case let .fixed(s) = c.targetSector, case let .fixed(s0) = p.targetSector, s != s0 {
            f += ["--sector-min", deg(s.lowerRad), "--sector-max", deg(s.upperRad)]
        }
        if c.commSector != p.commSector {
            f += ["--comm-min", deg(c.commSector.lowerRad), "--comm-max", deg(c.commSector.upperRad)]
        }
        add("--range-min", c.rangeMinMeters, p.rangeMinMeters); add("--range-max", c.rangeMaxMeters, p.rangeMaxMeters)
        add("--spacing-std-mm", c.spacingStdMeters * 1e3, p.spacingStdMeters * 1e3)
        if c.spacingModel != p.spacingModel { f += ["--spacing-model", c.spacingModel.rawValue] }
        if let a = arrayPositions { f += ["--array-positions", a] }
        if impairmentSeed != 1 { f += ["--impairment-seed", "\(impairmentSeed)"] }
        if pfa != 1e-2 { f += ["--pfa", "\(pfa)"] }
        if c.calibration != p.calibration { f += ["--calibration", c.calibration.rawValue] }
        if c.detectionRule != p.detectionRule { f += ["--detection-rule", c.detectionRule.rawValue] }
        if let g = gospaCutoff { f += ["--gospa-cutoff", "\(g)"] }
        if gospaMu != 2 { f += ["--gospa-mu", "\(gospaMu)"] }
        if gospaP != 2 { f += ["--gospa-p", "\(gospaP)"] }
        return f
    }

    /// Checks the system and, given the sample count of the run, that it fits in memory (flag named otherwise).
    func validateCommon(samples: Int = 1, samplesFlag: String = "--samples") throws {
        let c = try config(); _ = try gospa()
        try Check.inOpenRange(pfa, 0, 1, "--pfa")
        try c.checkMemory(samples: samples, samplesFlag: samplesFlag)
    }
}

func parseImpairments(_ s: String) throws -> [ImpairmentMode] {
    let parts = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let modes = parts.compactMap { ImpairmentMode(rawValue: $0) }
    guard !parts.isEmpty, modes.count == parts.count else {
        throw ISACError.invalidParameter(name: "--impairments", value: s, valid: "must be none, unknown, known or a comma-separated list of them")
    }
    return modes
}

/// `OperatingPointReport(m, label:)` as a JSON dictionary (for the shard merges that compose dictionaries).
func metricsDict(_ m: OperatingPointMetrics, label: String) -> [String: Any] {
    // Encoding a struct of numbers and strings cannot fail.
    (try? ReportJSON.dictionary(OperatingPointReport(m, label: label))) ?? [:]
}


/// One curve/row of an experiment (`EvaluationMethod`: a baseline mode, differentiable OMP, or a checkpoint).
typealias MTMethod = EvaluationMethod

/// The `gospa_decomposition` object of an `evaluate --json` result (docs/multitarget.md, "evaluate --json").
func gospaDict(_ g: GOSPABreakdown) -> [String: Any] { (try? ReportJSON.dictionary(g)) ?? [:] }

/// The receiver of each --impairments entry from `--receiver`: one of omp | domp for all entries or, with
/// `allowList`, a comma list paired with the entries.
func parseReceivers(_ receiver: String, entries: Int, allowList: Bool) throws -> [String] {
    let rx = receiver.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard rx.allSatisfy({ ["omp", "domp"].contains($0) }), rx.count == 1 || (allowList && rx.count == entries) else {
        throw ISACError.invalidParameter(name: "--receiver", value: receiver, valid: allowList
            ? "omp or domp, or a comma list of them with one entry per --impairments entry (\(entries))"
            : "must be omp or domp")
    }
    return rx.count == 1 ? Array(repeating: rx[0], count: entries) : rx
}

/// The curves of `--impairments` (each with its receiver from `receivers`, omp | domp) and `--checkpoint` (comma
/// list), in that order (`EvaluationMethods`).
func buildMethods(system: MTSystemOptions, config cfg: MultiTargetConfig, gospa: GOSPA, impairments: String, receivers: [String],
                  checkpoints: String?, domp: DifferentiableOMPSettings) throws -> [MTMethod] {
    let modes = impairments.isEmpty ? [] : try parseImpairments(impairments)
    let kinds = try receivers.map { r in
        guard let k = ReceiverKind(rawValue: r) else { throw ISACError.invalidParameter(name: "--receiver", value: r, valid: "must be omp or domp") }
        return k
    }
    var out = try EvaluationMethods.baseline(modes: modes, receivers: kinds, config: cfg, gospa: gospa,
                                             impairmentSeed: system.impairmentSeed, targetPfa: system.pfa, domp: domp)
    for path in (checkpoints ?? "").split(separator: ",").map(String.init) where !path.isEmpty {
        out.append(try EvaluationMethods.checkpoint(path: path, config: cfg, gospa: gospa, impairmentSeed: system.impairmentSeed,
                                                    targetPfa: system.pfa).method)
    }
    guard !out.isEmpty else {
        throw ISACError.invalidParameter(name: "--impairments/--checkpoint", value: "none given", valid: "give at least one baseline mode or checkpoint")
    }
    return out
}

/// An NNBL checkpoint as an evaluation method: same protocol as the others (threshold calibrated to --pfa on
/// calibration draws, then fresh test draws of the same seed/scenes).
func nnblMethod(path: String, system: MTSystemOptions, config cfg: MultiTargetConfig, gospa: GOSPA) throws -> (method: MTMethod, checkpoint: NNBLCheckpoint) {
    let (m, ck) = try EvaluationMethods.checkpoint(path: path, config: cfg, gospa: gospa, impairmentSeed: system.impairmentSeed, targetPfa: system.pfa)
    guard let ck else { throw ISACError.invalidParameter(name: "--checkpoint", value: path, valid: "an NNBL checkpoint") }
    return (m, ck)
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
    @Flag(name: .customLong("json"), help: "Print one JSON object on stdout.") var json = false
    @Flag(name: .customLong("quiet"), help: "No progress on stderr.") var quiet = false
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
            print(try ReportJSON.string(report(results: results, config: cfg, calibrationSamples: cal)))
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
    @Flag(name: .customLong("json"), help: "Print one JSON summary object on stdout.") var json = false
    @Flag(name: .customLong("quiet"), help: "No progress on stderr.") var quiet = false
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
            print(try ReportJSON.string(TradeoffReport(out: out, points: points, runTimeSeconds: el, targetPfa: system.pfa, seed: seed)))
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
        (try? ReportJSON.dictionary(TradeoffReport(out: out, points: points, runTimeSeconds: runTimeSeconds, targetPfa: system.pfa, seed: seed))) ?? [:]
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
        if json { print(try ReportJSON.string(r)) } else {
            print(String(format: "full baseline evaluation: %.1f samples/s (%d threads)", r.fullPipelineSamplesPerSecond, r.threads))
            print(String(format: "OMP receiver only, 1 thread: %.1f samples/s (K=%d S=%d Ntheta=%d Ntau=%d Tmax=%d)",
                         r.ompOnlySamplesPerSecond1Thread, r.K, r.S, r.nTheta, r.nTau, r.tMax))
        }
    }
}

/// `isac multitarget train`: end-to-end model-based learning (paper Sec. IV) of the steering dictionary shared by
/// the LS beamformer and the differentiable-OMP receiver, then a test evaluation against the baseline.
struct MTTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train impairment learning (K spacings), dictionary learning (K x N_theta) or the NNBL baseline (App. A) end to end with the GOSPA loss (eq. 18); saves DIR/model.npz, training.csv, SVGs, and evaluates vs the baseline at --pfa.")
    @OptionGroup var system: MTSystemOptions
    @Option(name: .customLong("method"), help: "impairment | dictionary | nnbl.") var method: TrainingMethod = .impairment
    @Option(name: .customLong("schedule"), help: "Training schedule: small (minutes on 2 cores) | paper (B = 1500, 25k steps: a big machine). (--preset picks the system.)") var schedule: TrainingSchedule = .small
    @Option(name: .customLong("out"), help: "Output folder.") var out: String
    @Flag(help: "Replace a non-empty --out.") var force = false
    @Option(name: .customLong("seed"), help: "Training seed (scenes use streams 2^40 + step*B + b).") var seed: UInt64 = 1
    @Option(name: .customLong("steps"), help: "Override the preset's training steps.") var steps: Int?
    @Option(name: .customLong("batch"), help: "Override the preset's batch size B.") var batch: Int?
    @Option(name: .customLong("lr"), help: "Override the preset's Adam learning rate (metres for spacings).") var lr: Double?
    @OptionGroup var dompOptions: MTDOMPOptions
    @Option(name: .customLong("train-eta-min"), help: "Training eta ~ U[min, max].") var etaMin = 0.5
    @Option(name: .customLong("train-eta-max"), help: "Training eta ~ U[min, max].") var etaMax = 1.0
    @Option(name: .customLong("train-sector"), help: "random (paper: mean ~ U[-60,60] deg, span ~ U[10,20] deg) | test (the --sector-min/max sector).")
    var trainSector: TrainingSectorChoice = .random
    @Option(name: .customLong("eta"), help: "Test eta.") var eta = 0.5
    @Option(name: .customLong("test-samples"), help: "Test samples (and as many calibration samples); 0 skips the test.") var testSamples = 600
    @Option(name: .customLong("test-seed"), help: "Test scenario seed (same meaning as evaluate --seed).") var testSeed: UInt64 = 7
    @Option(name: .customLong("loss"), help: "auto (mse if --targets-max 1, as the paper's single-target Figs. 5-6; else gospa) | gospa (eq. 18) | mse (sum of squared position errors, no cut-off; nnbl: step 2 then plain BCE).")
    var loss = "auto"
    @Option(name: .customLong("range-bias-init"), help: "nnbl, --targets-max 1 only: initial bias b of the range head's output, R = 100 m * ReLU(. + b) (avoids a dead single range unit).")
    var rangeBiasInit = 1.0
    @Option(name: .customLong("complexity"), help: "nnbl only: full (paper App. A-B) | limited (the paper's limited-complexity variant).") var complexity = "full"
    @Option(name: .customLong("map-angles"), help: "nnbl only: N_theta of the angle-delay map fed to the CNNs (default: small 64, paper 320).") var mapAngles: Int?
    @Option(name: .customLong("map-delays"), help: "nnbl only: N_tau of the angle-delay map (default: small 64, paper 128).") var mapDelays: Int?
    @Option(name: .customLong("detection-steps"), help: "nnbl only: steps of training step 2 (detection, eq. 19); --steps sets step 1 (eq. 18).") var detectionSteps: Int?
    @Option(name: .customLong("detection-lr"), help: "nnbl only: Adam learning rate of step 2.") var detectionLR: Double?
    @Flag(name: .customLong("json"), help: "Print one JSON object on stdout.") var json = false
    @Flag(name: .customLong("quiet"), help: "No progress on stderr.") var quiet = false

    func validate() throws {
        try MultiTargetLimits.checkSamples(testSamples, "--test-samples", allowZero: true)
        try system.validateCommon(samples: max(testSamples * 2, 1), samplesFlag: "--test-samples")
        try MultiTargetLimits.checkTraining(steps: steps, batch: batch, learningRate: lr)
        try MultiTargetLimits.checkTraining(steps: detectionSteps, stepsFlag: "--detection-steps", learningRate: detectionLR, lrFlag: "--detection-lr")
        if method != .nnbl {
            // NNBL-only flags would be silently ignored by the other methods.
            for (flag, given) in [("--map-angles", mapAngles != nil), ("--map-delays", mapDelays != nil),
                                  ("--detection-steps", detectionSteps != nil), ("--detection-lr", detectionLR != nil)] where given {
                throw ISACError.invalidParameter(name: flag, value: "given with --method \(method.rawValue)", valid: "applies to --method nnbl only")
            }
        }
        if let b = batch { try checkTrainingBatchMemory(b) }
        _ = try NNBLComplexity(parsing: complexity)
        if let m = mapAngles { try Check.inRange(m, 1, MultiTargetLimits.maxNNBLMapSide, "--map-angles") }
        if let m = mapDelays { try Check.inRange(m, 1, MultiTargetLimits.maxNNBLMapSide, "--map-delays") }
        try MultiTargetLimits.check(rangeBiasInit, in: -MultiTargetLimits.maxRangeBiasInit...MultiTargetLimits.maxRangeBiasInit, "--range-bias-init",
                                    unit: "", why: "an initial range offset within +-10 km")
        guard loss == "auto" || PositionLoss(rawValue: loss) != nil else {
            throw ISACError.invalidParameter(name: "--loss", value: loss, valid: "must be auto, gospa or mse")
        }
        guard !out.isEmpty else { throw ISACError.invalidParameter(name: "--out", value: "\"\"", valid: "must be a folder path") }
        try CLIOutput.checkStaged(out, force: force)
        try dompOptions.settings.validate()
        try Check.inRange(etaMin, 0, 1, "--train-eta-min")
        try Check.inRange(etaMax, etaMin, 1, "--train-eta-max")
        try Check.inRange(eta, 0, 1, "--eta")
    }

    /// The request the library runs (`TrainingExperiment`), from the flags.
    func request() throws -> TrainingRequest {
        TrainingRequest(method: method, schedule: schedule, seed: seed, steps: steps, batch: batch, learningRate: lr,
                        domp: dompOptions.settings, etaMin: etaMin, etaMax: etaMax, trainSector: trainSector,
                        loss: PositionLoss(rawValue: loss), testEta: eta, testSamples: testSamples, testSeed: testSeed,
                        targetPfa: system.pfa, impairmentSeed: system.impairmentSeed, complexity: try NNBLComplexity(parsing: complexity),
                        mapAngles: mapAngles, mapDelays: mapDelays, detectionSteps: detectionSteps, detectionLearningRate: detectionLR,
                        rangeBiasInit: rangeBiasInit)
    }

    /// The progress line of the test evaluation (created when the test starts).
    func testHooks() -> TrainingHooks {
        let quietFlag = quiet
        let box = ProgressBox()
        return TrainingHooks(testStart: { n in
            let pt = ProgressLine("test", total: n, enabled: !quietFlag)
            box.line = pt
            return { pt.advance($0) }
        }, testEnd: { box.line?.finish() })
    }

    func run() throws {
        if method == .nnbl { try runNNBL(); return }
        let cfg = try system.config(), gospa = try system.gospa()
        let rq = try request()
        let ts = rq.steeringSettings(config: cfg)
        let lossUnit = ts.loss == .mse ? "m^2" : "m"
        let staged = try CLIOutput.stage(out, force: force)
        let pl = ProgressLine("train \(method.rawValue)", total: ts.steps, enabled: !quiet)
        let t0 = Date()
        let quietFlag = quiet
        let ckPath = TrainingOutput.checkpointPath(out: out)
        var result = try TrainingExperiment.steering(rq, config: cfg, gospa: gospa, dir: staged.path, checkpointPath: ckPath,
                                                     hooks: testHooks(), onRecord: { r in
            pl.advance()
            if !quietFlag && (r.step % 25 == 0 || r.step == ts.steps - 1) {
                let e = r.spacingErrorMeters.map { String(format: "  |d-d0| %.4f mm", $0 * 1e3) } ?? ""
                FileHandle.standardError.write("\nstep \(r.step) loss \(String(format: "%.3f", r.loss)) \(lossUnit)\(e)\n".data(using: .utf8)!)
            }
            if r.step == ts.steps - 1 { pl.finish() }
        })
        if result.test != nil { result.testCommand = try testCommand(checkpoint: ckPath) }
        result.totalTimeSeconds = Date().timeIntervalSince(t0)
        try AtomicFile.write(try ReportJSON.string(result, pretty: true), to: staged.file("summary.json"))
        try staged.commit()
        if json { print(try ReportJSON.string(result)) } else {
            print("\(method.rawValue) learning: \(result.parameters) parameters, \(result.steps) steps x B=\(result.batch), \(String(format: "%.0f", result.trainTimeSeconds)) s")
            if let b = result.spacingErrorBeforeMM, let a = result.spacingErrorAfterMM {
                print(String(format: "||d_hat - d||: %.4f mm (nominal) -> %.4f mm (learned)", b, a))
                if let l = result.positionErrorLinearRmsMM, let r = result.positionErrorNonlinearRmsMM {
                    print(String(format: "position error RMS: linear part %.4f -> %.4f mm, rest %.4f -> %.4f mm", l.before, l.after, r.before, r.after))
                }
            }
            printTestTable(result.test ?? [])
            print("wrote \(out)/model.npz, training.csv, loss.svg, summary.json")
        }
    }
}

extension MTTrain {
    /// A training step holds the B observations (K×S), their differentiable-OMP tapes (≈ 4 K×S and the windows)
    /// and gradients at once: refuse a --batch whose footprint exceeds 80 % of physical memory.
    func checkTrainingBatchMemory(_ b: Int) throws {
        let c = try system.config()
        let perSample = 16.0 * Double(c.antennas) * Double(c.subcarriers) * 6 + 8.0 * Double(c.angleGridSize) * Double(c.delayGridSize)
        let need = Double(b) * perSample, limit = MultiTargetConfig.availableMemoryBytes()
        guard need <= limit else {
            throw ISACError.invalidParameter(name: "--batch", value: "\(b) (needs ≈ \(String(format: "%.3g", need / 1e9)) GB)",
                                             valid: "a training batch must fit in memory (limit \(String(format: "%.3g", limit / 1e9)) GB)")
        }
    }
    /// `isac multitarget evaluate` of the checkpoint on the train command's test scenes, with every system flag
    /// of this run (a checkpoint only loads into the system it was trained for).
    func testCommand(checkpoint: String) throws -> String {
        func quote(_ t: String) -> String {
            t.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=+,:".contains($0) }) ? t : "'" + t.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        let args = ["isac", "multitarget", "evaluate", "--checkpoint", checkpoint, "--impairments", "unknown",
                    "--eta", "\(eta)", "--samples", "\(testSamples)", "--seed", "\(testSeed)"] + (try system.replayFlags())
        return args.map(quote).joined(separator: " ")
    }

    /// `--method nnbl`: two-step NNBL training (paper eqs. 18–19, App. A), checkpoint, and a test at --pfa next to
    /// the baseline with unknown impairments on the same scenes (`TrainingExperiment.nnbl`). The small schedule shrinks
    /// the CNN input map (64 × 64 instead of 320 × 128), the batch and the step counts so it runs in minutes on 2 cores.
    func runNNBL() throws {
        let cfg = try system.config(), gospa = try system.gospa()
        let rq = try request()
        let ts = try rq.nnblSettings(config: cfg, gospa: gospa)
        _ = try rq.nnblArchitecture(config: cfg)
        let staged = try CLIOutput.stage(out, force: force)
        let total = ts.positionSteps + ts.detectionSteps
        let pl = ProgressLine("train nnbl", total: total, enabled: !quiet)
        let t0 = Date()
        let quietFlag = quiet
        var done = 0
        var result = try TrainingExperiment.nnbl(rq, config: cfg, gospa: gospa, dir: staged.path, checkpointPath: TrainingOutput.checkpointPath(out: out),
                                                 hooks: testHooks(), onRecord: { r in
            pl.advance()
            if !quietFlag && r.step % 50 == 0 {
                FileHandle.standardError.write("\nstep \(r.phase).\(r.step) loss \(String(format: "%.3f", r.loss))\n".data(using: .utf8)!)
            }
            done += 1
            if done == total { pl.finish() }
        })
        result.totalTimeSeconds = Date().timeIntervalSince(t0)
        try AtomicFile.write(try ReportJSON.string(result, pretty: true), to: staged.file("summary.json"))
        try staged.commit()
        if json { print(try ReportJSON.string(result)) } else {
            print("NNBL (\(result.complexity)): \(result.parameters) parameters, map \(result.map[0])x\(result.map[1]), steps \(result.positionSteps)+\(result.detectionSteps) x B=\(result.batch), \(String(format: "%.0f", result.trainTimeSeconds)) s")
            printTestTable(result.test ?? [])
            print("wrote \(out)/model.npz, training.csv, loss_position.svg, loss_detection.svg, summary.json")
        }
    }
}

/// Holds the test progress line between `TrainingHooks.testStart` and `testEnd`.
private final class ProgressBox: @unchecked Sendable { var line: ProgressLine? }

/// The short test-metrics table `train` prints after training (one row per system).
private func printTestTable(_ tests: [OperatingPointReport]) {
    guard !tests.isEmpty else { return }
    print(String(format: "%-22@ %8@ %8@ %9@ %8@", "system" as NSString, "p_md" as NSString, "p_fa" as NSString, "GOSPA[m]" as NSString, "SER" as NSString))
    for r in tests {
        print(String(format: "%-22@ %8.4f %8.4f %9.3f %8.4f", r.impairments as NSString, r.pMD, r.pFA, r.gospaM, r.ser))
    }
}

/// `isac multitarget figure …`: paper figures that are not sweeps of the evaluation protocol.
struct MTFigure: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "figure", abstract: "Paper figures (fig3: angle-delay map, ideal vs impaired array).",
                                                    subcommands: [MTFigure3.self])
}

/// `isac multitarget figure fig3 --out DIR`: the angle–delay map of one T-target scene through the ideal and the
/// impaired array (paper Fig. 3; `AngleDelayMapFigure`).
struct MTFigure3: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fig3",
        abstract: "Angle-delay map of one scene, ideal vs impaired array (paper Fig. 3): DIR/fig3.svg, fig3_map.csv, fig3_targets.csv.")
    @OptionGroup var system: MTSystemOptions
    @Option(name: .customLong("targets"), help: "T, targets in the scene (paper: 4; <= --targets-max).") var targets = 4
    @Option(name: .customLong("figure-snr-r-db"), parsing: .unconditional, help: "Integrated sensing SNR of the figure, dB (paper Fig. 3: 20).") var snrDB = 20.0
    @Option(name: .customLong("eta"), help: "ISAC trade-off eta of the beam (1 = sensing only).") var eta = 1.0
    @Option(name: .customLong("floor-db"), parsing: .unconditional, help: "Colour scale floor, dB below the ideal map's maximum.") var floorDB = -30.0
    @Option(name: .customLong("seed"), help: "Scene seed.") var seed: UInt64 = 3
    @Option(name: .customLong("out"), help: "Output folder.") var out: String
    @Flag(name: .customLong("json"), help: "Print one JSON object on stdout.") var json = false

    func validate() throws {
        try system.validateCommon()
        try Check.inRange(eta, 0, 1, "--eta")
        try MultiTargetLimits.check(snrDB, in: MultiTargetLimits.snrDB, "--figure-snr-r-db", unit: "dB", why: "beyond any receiver's dynamic range")
        guard floorDB.isFinite, floorDB < 0 else { throw ISACError.invalidParameter(name: "--floor-db", value: "\(floorDB)", valid: "must be finite and < 0") }
        guard !out.isEmpty else { throw ISACError.invalidParameter(name: "--out", value: "\"\"", valid: "must be a folder path") }
        try CLIOutput.checkFolder(out)
    }

    func run() throws {
        let cfg = try system.config()
        let fig = try AngleDelayMapFigure.make(config: cfg, impairmentSeed: system.impairmentSeed, seed: seed, targets: targets,
                                               sensingSNRdB: snrDB, eta: eta)
        let dir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Figure.writePanels(fig.figures(floorDB: floorDB), columns: 1, to: dir.appendingPathComponent("fig3.svg").path)
        try fig.mapTable().write(to: dir.appendingPathComponent("fig3_map.csv").path)
        try fig.targetTable().write(to: dir.appendingPathComponent("fig3_targets.csv").path)
        let rep = Fig3Report(out: out, figure: fig, snrDB: snrDB)
        if json { print(try ReportJSON.string(rep)) } else {
            print(String(format: "fig3: T = %d, impaired peak / ideal peak = %.3f (%.2f dB); wrote %@/fig3.svg, fig3_map.csv, fig3_targets.csv",
                         targets, rep.impairedPeakOverIdealPeak, 10 * log10(rep.impairedPeakOverIdealPeak), out as NSString))
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
        var o = (try? ReportJSON.dictionary(report(results: [], config: cfg, calibrationSamples: cal))) ?? [:]
        o["results"] = results
        return o
    }
}
