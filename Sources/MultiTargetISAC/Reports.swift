import Foundation
import Linalg
import ISACIO
import Metrics

/// A JSON key chosen at run time (fields whose name carries the unit of a run-dependent loss).
struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The metrics of one operating point as every multitarget command reports them (`--json`; docs/multitarget.md
/// "evaluate --json"), plus the optional per-command fields (nil = key absent).
public struct OperatingPointReport: Codable, Sendable {
    /// The method label (baseline mode, `domp-…`, `…-learning`, NNBL label).
    public var impairments: String
    /// Sensing power fraction η of the ISAC beam (eq. 5).
    public var eta: Double
    /// Communication beam phase φ (eq. 5), degrees.
    public var phiDeg: Double
    /// Detection threshold δ, raw 𝓛 units.
    public var threshold: Double
    /// δ/(K S N0), the noise-normalised threshold.
    public var thresholdOverKSN0: Double
    /// Missed-detection probability p_md (0…1).
    public var pMD: Double
    /// False-alarm probability p_fa (0…1).
    public var pFA: Double
    /// Mean GOSPA over samples (eq. 17), metres.
    public var gospaM: Double
    /// Communication symbol error rate (0…1).
    public var ser: Double
    /// Single-target angle RMSE (T = 1, T̂ ≥ 1, first detection), degrees.
    public var angleRmseDeg: Double
    /// Single-target range RMSE, metres.
    public var rangeRmseM: Double
    /// Number of single-target samples behind the RMSEs.
    public var singleTargetSamples: Int
    /// Number of test samples.
    public var samples: Int
    /// Single-target samples with a gross error (more than one resolution cell off).
    public var grossErrors: Int
    /// Single-target angle RMSE without the gross errors, degrees.
    public var angleRmseFineDeg: Double
    /// Single-target range RMSE without the gross errors, metres.
    public var rangeRmseFineM: Double
    // pfa-sweep points
    /// pfa-sweep: the method label of the point.
    public var method: String?
    /// pfa-sweep: the target p_fa the threshold was calibrated to.
    public var targetPfa: Double?
    /// pfa-sweep: wall time spent on the method, seconds.
    public var methodRunTimeSeconds: Double?
    // evaluate of a checkpoint
    /// Checkpoint evaluation: path of the `.npz`.
    public var checkpoint: String?
    /// Checkpoint evaluation: number of learned parameters.
    public var parameters: Int?
    /// Dictionary checkpoints: transmitter columns used (`learned` or `nominal`).
    public var txColumns: String?
    /// Dictionary checkpoints: receiver columns used.
    public var rxColumns: String?
    /// Impairment checkpoints: ‖d̂ − d‖₂ of the learned spacings, millimetres.
    public var spacingErrorMM: Double?
    /// Impairment checkpoints: RMS of the linear-in-k element-position error, millimetres.
    public var positionErrorLinearRmsMM: Double?
    /// Impairment checkpoints: RMS of the remaining (nonlinear) element-position error, millimetres.
    public var positionErrorNonlinearRmsMM: Double?
    // evaluate
    /// evaluate: the GOSPA split into its parts.
    public var gospaDecomposition: GOSPABreakdown?
    /// evaluate: wall time of the run, seconds.
    public var runTimeSeconds: Double?
    /// evaluate: throughput, draws per second.
    public var samplesPerSecond: Double?

    enum CodingKeys: String, CodingKey {
        case impairments, eta, phiDeg = "phi_deg", threshold, thresholdOverKSN0 = "threshold_over_KSN0", pMD = "p_md", pFA = "p_fa",
             gospaM = "gospa_m", ser, angleRmseDeg = "angle_rmse_deg", rangeRmseM = "range_rmse_m",
             singleTargetSamples = "single_target_samples", samples, grossErrors = "gross_errors",
             angleRmseFineDeg = "angle_rmse_fine_deg", rangeRmseFineM = "range_rmse_fine_m",
             method, targetPfa = "target_pfa", methodRunTimeSeconds = "method_run_time_s",
             checkpoint, parameters, txColumns = "tx_columns", rxColumns = "rx_columns", spacingErrorMM = "spacing_error_mm",
             positionErrorLinearRmsMM = "position_error_linear_rms_mm", positionErrorNonlinearRmsMM = "position_error_nonlinear_rms_mm",
             gospaDecomposition = "gospa_decomposition", runTimeSeconds = "run_time_s", samplesPerSecond = "samples_per_s"
    }

    /// The report of `m` under the method label `label` (no optional fields).
    public init(_ m: OperatingPointMetrics, label: String) {
        impairments = label; eta = m.eta; phiDeg = degrees(m.phi); threshold = m.threshold; thresholdOverKSN0 = m.normalizedThreshold
        pMD = m.detection.missedDetectionProbability; pFA = m.detection.falseAlarmProbability
        gospaM = m.meanGOSPA; ser = m.ser.rate; angleRmseDeg = m.angleErrorDeg.rmse; rangeRmseM = m.rangeErrorMeters.rmse
        singleTargetSamples = m.angleErrorDeg.count; samples = m.detection.samples; grossErrors = m.grossErrorCount
        angleRmseFineDeg = m.angleErrorFineDeg.rmse; rangeRmseFineM = m.rangeErrorFineMeters.rmse
    }

    /// With `run_time_s` and `samples_per_s` = `draws` / `seconds`.
    public func timed(_ seconds: Double, draws: Int) -> OperatingPointReport {
        var r = self; r.runTimeSeconds = seconds; r.samplesPerSecond = Double(draws) / seconds; return r
    }
}

/// `isac multitarget evaluate --json` (and the merge of its shards): always `{"results": [...], …}`.
public struct EvaluateReport: Codable, Sendable {
    /// One row per method.
    public var results: [OperatingPointReport]
    /// Target false-alarm probability p_fa of the calibration.
    public var targetPfa: Double
    /// Scenario seed.
    public var seed: Int
    /// Configuration preset name.
    public var preset: String
    /// Calibration protocol (`CalibrationProtocol` raw value).
    public var calibration: String
    /// Test samples per method.
    public var samples: Int
    /// The calibration draws used (0 for `--calibration test-set`).
    public var calibrationSamples: Int
    enum CodingKeys: String, CodingKey {
        case results, targetPfa = "target_pfa", seed, preset, calibration, samples, calibrationSamples = "calibration_samples"
    }
    /// Stores the seed as `Int` and the protocol's raw value; `calibrationSamples` is 0 for the test-set protocol.
    public init(results: [OperatingPointReport], targetPfa: Double, seed: UInt64, preset: String, calibration: CalibrationProtocol,
                samples: Int, calibrationSamples: Int) {
        self.results = results; self.targetPfa = targetPfa; self.seed = Int(seed); self.preset = preset
        self.calibration = calibration.rawValue; self.samples = samples
        self.calibrationSamples = calibration == .testSet ? 0 : calibrationSamples
    }
}

/// `isac multitarget tradeoff --json` (and the merge of its shards).
public struct TradeoffReport: Codable, Sendable {
    /// Output folder of the CSV and SVG files.
    public var out: String
    /// One report per (curve, φ, η) point, in sweep order.
    public var points: [OperatingPointReport]
    /// Wall time of the sweep, seconds.
    public var runTimeSeconds: Double
    /// Target false-alarm probability p_fa of every point's calibration.
    public var targetPfa: Double
    /// Scenario seed.
    public var seed: Int
    enum CodingKeys: String, CodingKey { case out, points, runTimeSeconds = "run_time_s", targetPfa = "target_pfa", seed }
    /// Converts the sweep points to reports; stores the seed as `Int`.
    public init(out: String, points: [TradeoffExperiment.Point], runTimeSeconds: Double, targetPfa: Double, seed: UInt64) {
        self.out = out; self.points = points.map { OperatingPointReport($0.metrics, label: $0.label) }
        self.runTimeSeconds = runTimeSeconds; self.targetPfa = targetPfa; self.seed = Int(seed)
    }
}

/// `isac multitarget pfa-sweep --json` (and the merge of its shards).
public struct PfaSweepJSONReport: Codable, Sendable {
    /// One report per (method, target p_fa) row.
    public var points: [OperatingPointReport]
    /// The target p_fa values swept.
    public var pfaValues: [Double]
    /// Sensing power fraction η of the sweep.
    public var eta: Double
    /// Communication beam phase φ of the sweep, degrees.
    public var phiDeg: Double
    /// Test samples per point.
    public var samples: Int
    /// `--calibration-samples` as given (default `--samples`), also with `--calibration test-set`.
    public var calibrationSamples: Int
    public var seed: Int
    public var targetsMax: Int
    public var runTimeSeconds: Double
    public var out: String?
    enum CodingKeys: String, CodingKey {
        case points, pfaValues = "pfa_values", eta, phiDeg = "phi_deg", samples, calibrationSamples = "calibration_samples", seed,
             targetsMax = "targets_max", runTimeSeconds = "run_time_s", out
    }
    /// Converts the sweep rows to reports (with `method`, `target_pfa`, `method_run_time_s` set); stores the seed as `Int`.
    public init(rows: [PfaSweepReport.Row], pfaValues: [Double], eta: Double, phiDeg: Double, samples: Int, calibrationSamples: Int,
                seed: UInt64, targetsMax: Int, runTimeSeconds: Double, out: String?) {
        points = rows.map { r in
            var p = OperatingPointReport(r.metrics, label: r.label)
            p.method = r.label; p.targetPfa = r.targetPfa; p.methodRunTimeSeconds = r.methodRunTimeSeconds
            return p
        }
        self.pfaValues = pfaValues; self.eta = eta; self.phiDeg = phiDeg; self.samples = samples; self.calibrationSamples = calibrationSamples
        self.seed = Int(seed); self.targetsMax = targetsMax; self.runTimeSeconds = runTimeSeconds; self.out = out
    }
}

/// `isac multitarget figure fig3 --json`.
public struct Fig3Report: Codable, Sendable {
    /// Output path of the figure.
    public var out: String
    /// Target angles, degrees.
    public var targetsAngleDeg: [Double]
    /// Target ranges, metres.
    public var targetsRangeM: [Double]
    /// Peak of the impaired-array map 𝓛 / max 𝓛_ideal (1 = no peak loss).
    public var impairedPeakOverIdealPeak: Double
    /// Sensing SNR used for the maps, dB.
    public var snrRdB: Double
    /// Angle-grid size N_θ of the maps.
    public var nTheta: Int
    /// Range/delay-grid size N_τ of the maps.
    public var nTau: Int
    enum CodingKeys: String, CodingKey {
        case out, targetsAngleDeg = "targets_angle_deg", targetsRangeM = "targets_range_m",
             impairedPeakOverIdealPeak = "impaired_peak_over_ideal_peak", snrRdB = "snr_r_db", nTheta = "n_theta", nTau = "n_tau"
    }
    /// Reads the target list, peak ratio and grid sizes from `fig`.
    public init(out: String, figure fig: AngleDelayMapFigure, snrDB: Double) {
        self.out = out; targetsAngleDeg = fig.targetAnglesDeg; targetsRangeM = fig.targetRangesMeters
        impairedPeakOverIdealPeak = fig.impaired.data.max() ?? .nan; snrRdB = snrDB
        nTheta = fig.anglesDeg.count; nTau = fig.rangesMeters.count
    }
}

/// `isac multitarget train-sweep --json` (and its merge): one entry per (seed, learning rate) run with the run's
/// flattened `summary.json` numbers.
public struct TrainSweepReport: Encodable, Sendable {
    /// One finished train-sweep run.
    public struct Run: Encodable, Sendable {
        /// Training seed of the run.
        public var seed: UInt64
        /// `--lrs` entry of the run; nil (JSON `null`) = the method's preset rate.
        public var lrRequested: Double?
        /// The run's `train --out` folder.
        public var run: String
        /// The run's summary numbers, flattened (`a_b` for nested keys, test rows by label), wall times left out.
        public var values: [String: Double]
        /// Memberwise initialiser.
        public init(seed: UInt64, lrRequested: Double?, run: String, values: [String: Double]) {
            self.seed = seed; self.lrRequested = lrRequested; self.run = run; self.values = values
        }
        /// Writes `seed`, `lr_requested` (null if nil), `run` and every `values` entry as its own key.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: DynamicKey.self)
            try c.encode(Int(seed), forKey: DynamicKey("seed"))
            if let lr = lrRequested { try c.encode(lr, forKey: DynamicKey("lr_requested")) } else { try c.encodeNil(forKey: DynamicKey("lr_requested")) }
            try c.encode(run, forKey: DynamicKey("run"))
            for (n, x) in values { try c.encode(x, forKey: DynamicKey(n)) }
        }
    }
    /// Output folder of the sweep.
    public var out: String
    /// Path of the sweep's summary table.
    public var table: String
    /// One entry per (seed, learning rate) run.
    public var runs: [Run]
    /// Wall time of the sweep, seconds; nil = key absent.
    public var runTimeSeconds: Double?
    /// Shards merged (merge only).
    public var shards: Int?
    enum CodingKeys: String, CodingKey { case out, table, runs, runTimeSeconds = "run_time_s", shards }
    /// Report with no run time or shard count.
    public init(out: String, table: String, runs: [Run]) { self.out = out; self.table = table; self.runs = runs }
}

/// `sweep_run.json`: the marker of a finished train-sweep run (its sweep configuration, seed and requested rate).
public struct TrainSweepMarker: Codable, Sendable {
    /// Hash of the sweep configuration the run belongs to.
    public var configHash: String
    /// Training seed of the run.
    public var seed: Int
    /// Requested learning rate; nil = the method's preset rate.
    public var lr: Double?
    enum CodingKeys: String, CodingKey { case configHash = "config_hash", seed, lr }
    /// Stores the seed as `Int`.
    public init(configHash: String, seed: UInt64, lr: Double?) { self.configHash = configHash; self.seed = Int(seed); self.lr = lr }
    /// Writes `config_hash`, `seed` and `lr` (JSON `null` when nil).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configHash, forKey: .configHash); try c.encode(seed, forKey: .seed)
        if let lr { try c.encode(lr, forKey: .lr) } else { try c.encodeNil(forKey: .lr) }
    }
}
