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
    public var eta: Double
    public var phiDeg: Double
    public var threshold: Double
    public var thresholdOverKSN0: Double
    public var pMD: Double
    public var pFA: Double
    public var gospaM: Double
    public var ser: Double
    public var angleRmseDeg: Double
    public var rangeRmseM: Double
    public var singleTargetSamples: Int
    public var samples: Int
    public var grossErrors: Int
    public var angleRmseFineDeg: Double
    public var rangeRmseFineM: Double
    // pfa-sweep points
    public var method: String?
    public var targetPfa: Double?
    public var methodRunTimeSeconds: Double?
    // evaluate of a checkpoint
    public var checkpoint: String?
    public var parameters: Int?
    public var txColumns: String?
    public var rxColumns: String?
    public var spacingErrorMM: Double?
    public var positionErrorLinearRmsMM: Double?
    public var positionErrorNonlinearRmsMM: Double?
    // evaluate
    public var gospaDecomposition: GOSPABreakdown?
    public var runTimeSeconds: Double?
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
    public var results: [OperatingPointReport]
    public var targetPfa: Double
    public var seed: Int
    public var preset: String
    public var calibration: String
    public var samples: Int
    /// The calibration draws used (0 for `--calibration test-set`).
    public var calibrationSamples: Int
    enum CodingKeys: String, CodingKey {
        case results, targetPfa = "target_pfa", seed, preset, calibration, samples, calibrationSamples = "calibration_samples"
    }
    public init(results: [OperatingPointReport], targetPfa: Double, seed: UInt64, preset: String, calibration: CalibrationProtocol,
                samples: Int, calibrationSamples: Int) {
        self.results = results; self.targetPfa = targetPfa; self.seed = Int(seed); self.preset = preset
        self.calibration = calibration.rawValue; self.samples = samples
        self.calibrationSamples = calibration == .testSet ? 0 : calibrationSamples
    }
}

/// `isac multitarget tradeoff --json` (and the merge of its shards).
public struct TradeoffReport: Codable, Sendable {
    public var out: String
    public var points: [OperatingPointReport]
    public var runTimeSeconds: Double
    public var targetPfa: Double
    public var seed: Int
    enum CodingKeys: String, CodingKey { case out, points, runTimeSeconds = "run_time_s", targetPfa = "target_pfa", seed }
    public init(out: String, points: [TradeoffExperiment.Point], runTimeSeconds: Double, targetPfa: Double, seed: UInt64) {
        self.out = out; self.points = points.map { OperatingPointReport($0.metrics, label: $0.label) }
        self.runTimeSeconds = runTimeSeconds; self.targetPfa = targetPfa; self.seed = Int(seed)
    }
}

/// `isac multitarget pfa-sweep --json` (and the merge of its shards).
public struct PfaSweepJSONReport: Codable, Sendable {
    public var points: [OperatingPointReport]
    public var pfaValues: [Double]
    public var eta: Double
    public var phiDeg: Double
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
    public var out: String
    public var targetsAngleDeg: [Double]
    public var targetsRangeM: [Double]
    public var impairedPeakOverIdealPeak: Double
    public var snrRdB: Double
    public var nTheta: Int
    public var nTau: Int
    enum CodingKeys: String, CodingKey {
        case out, targetsAngleDeg = "targets_angle_deg", targetsRangeM = "targets_range_m",
             impairedPeakOverIdealPeak = "impaired_peak_over_ideal_peak", snrRdB = "snr_r_db", nTheta = "n_theta", nTau = "n_tau"
    }
    public init(out: String, figure fig: AngleDelayMapFigure, snrDB: Double) {
        self.out = out; targetsAngleDeg = fig.targetAnglesDeg; targetsRangeM = fig.targetRangesMeters
        impairedPeakOverIdealPeak = fig.impaired.data.max() ?? .nan; snrRdB = snrDB
        nTheta = fig.anglesDeg.count; nTau = fig.rangesMeters.count
    }
}

/// `isac multitarget train-sweep --json` (and its merge): one entry per (seed, learning rate) run with the run's
/// flattened `summary.json` numbers.
public struct TrainSweepReport: Encodable, Sendable {
    public struct Run: Encodable, Sendable {
        public var seed: UInt64
        /// `--lrs` entry of the run; nil (JSON `null`) = the method's preset rate.
        public var lrRequested: Double?
        /// The run's `train --out` folder.
        public var run: String
        /// The run's summary numbers, flattened (`a_b` for nested keys, test rows by label), wall times left out.
        public var values: [String: Double]
        public init(seed: UInt64, lrRequested: Double?, run: String, values: [String: Double]) {
            self.seed = seed; self.lrRequested = lrRequested; self.run = run; self.values = values
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: DynamicKey.self)
            try c.encode(Int(seed), forKey: DynamicKey("seed"))
            if let lr = lrRequested { try c.encode(lr, forKey: DynamicKey("lr_requested")) } else { try c.encodeNil(forKey: DynamicKey("lr_requested")) }
            try c.encode(run, forKey: DynamicKey("run"))
            for (n, x) in values { try c.encode(x, forKey: DynamicKey(n)) }
        }
    }
    public var out: String
    public var table: String
    public var runs: [Run]
    public var runTimeSeconds: Double?
    /// Shards merged (merge only).
    public var shards: Int?
    enum CodingKeys: String, CodingKey { case out, table, runs, runTimeSeconds = "run_time_s", shards }
    public init(out: String, table: String, runs: [Run]) { self.out = out; self.table = table; self.runs = runs }
}

/// `sweep_run.json`: the marker of a finished train-sweep run (its sweep configuration, seed and requested rate).
public struct TrainSweepMarker: Codable, Sendable {
    public var configHash: String
    public var seed: Int
    public var lr: Double?
    enum CodingKeys: String, CodingKey { case configHash = "config_hash", seed, lr }
    public init(configHash: String, seed: UInt64, lr: Double?) { self.configHash = configHash; self.seed = Int(seed); self.lr = lr }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configHash, forKey: .configHash); try c.encode(seed, forKey: .seed)
        if let lr { try c.encode(lr, forKey: .lr) } else { try c.encodeNil(forKey: .lr) }
    }
}
