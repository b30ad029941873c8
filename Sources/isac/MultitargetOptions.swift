import ArgumentParser
import Foundation
import ISACIO
import Linalg
import Metrics
import MultiTargetISAC
import Estimation
import Arrays

// The option groups and value parsers shared by the `isac multitarget` subcommands.

/// `--json` / `--quiet`: how a command reports, not what it computes. Its `description` is constant, so the shard
/// configuration of a sharded run (`shardConfig`, which prints every option group) ignores them, as it ignored the
/// separate flags. `bench` and `figure fig3` print no progress and keep a plain `--json`.
///
/// `--seed` stays a per-command option because its default differs and must not change: 7 (evaluate, tradeoff,
/// pfa-sweep, bench: the scenario seed), 1 (train: the training seed; `--test-seed` 7), 3 (figure fig3: the scene).
struct MTOutputFlags: ParsableArguments, CustomStringConvertible {
    @Flag(name: .customLong("json"), help: "Print one JSON object on stdout.") var json = false
    @Flag(name: .customLong("quiet"), help: "No progress on stderr.") var quiet = false
    var description: String { "(output flags)" }
}

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
    @Option(help: "Worker threads of the batch gradients and learned-receiver kernels, 1…4096 (default: ISAC_THREADS, OMP_NUM_THREADS, or the CPU affinity mask). Training is reproducible for a given seed and thread count.")
    var threads: Int?

    func config() throws -> MultiTargetConfig {
        var c = preset.config
        // The plain overrides as one table (option value → config field; nil = keep the preset's), so a new option is
        // one row; the options below that combine or convert values stay explicit.
        let ints: [(Int?, WritableKeyPath<MultiTargetConfig, Int>)] = [
            (targetsMax, \.maxTargets), (antennas, \.antennas), (subcarriers, \.subcarriers), (nTheta, \.angleGridSize),
            (nTau, \.delayGridSize), (taps, \.channelTaps), (commPathsMax, \.maxCommPaths)]
        let doubles: [(Double?, WritableKeyPath<MultiTargetConfig, Double>)] = [
            (subcarrierSpacingHz, \.subcarrierSpacingHz), (carrierHz, \.carrierHz), (powerW, \.power), (snrR, \.sensingSNRdB),
            (noiseFigureDB, \.linkBudget.noiseFigureDB), (noiseTemperatureK, \.linkBudget.temperatureK),
            (meanRCS, \.linkBudget.meanRCSm2), (snrC, \.commSNRdB), (commRangeMin, \.commRangeMinMeters),
            (commRangeMax, \.commRangeMaxMeters), (cpFraction, \.cyclicPrefixFraction), (rangeMin, \.rangeMinMeters),
            (rangeMax, \.rangeMaxMeters)]
        for (v, field) in ints { if let v { c[keyPath: field] = v } }
        for (v, field) in doubles { if let v { c[keyPath: field] = v } }
        if let v = radarGain { c.radarGainModel = v }
        if let v = commChannel { c.commChannelModel = v }
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

    /// `--threads` (else a valid ISAC_THREADS / OMP_NUM_THREADS) into `ThreadCount`, before any sizing or work.
    func applyThreads() throws {
        try applyThreadOption(threads)
    }

    /// Checks the system and, given the sample count of the run, that it fits in memory (flag named otherwise).
    func validateCommon(samples: Int = 1, samplesFlag: String = "--samples") throws {
        // First: the memory check below sizes the per-worker buffers from the thread count.
        try applyThreads()
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

/// `OperatingPointReport(m, label:)` as a JSON dictionary (for the shard merges that compose dictionaries).
func metricsDict(_ m: OperatingPointMetrics, label: String) -> [String: Any] {
    // Encoding a struct of numbers and strings cannot fail.
    (try? ResultJSON.object(OperatingPointReport(m, label: label))) ?? [:]
}


/// One curve/row of an experiment (`EvaluationMethod`: a baseline mode, differentiable OMP, or a checkpoint).
typealias MTMethod = EvaluationMethod

/// The `gospa_decomposition` object of an `evaluate --json` result (docs/multitarget.md, "evaluate --json").
func gospaDict(_ g: GOSPABreakdown) -> [String: Any] { (try? ResultJSON.object(g)) ?? [:] }

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
