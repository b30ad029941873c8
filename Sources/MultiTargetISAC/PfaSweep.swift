import Foundation
import Linalg
import Metrics

/// Sensing performance against the target false-alarm probability (paper Sec. V-D, Figs. 7–8).
///
/// The OMP path of a sample does not depend on the threshold δ (`DetectionTrace`), so one calibration pass
/// and one evaluation pass serve every target p_fa: δ(p_fa) is the smallest observed-peak threshold whose
/// empirical p_fa (eq. 21) on the calibration traces is ≤ p_fa — a quantile-like statistic of the same
/// traces — and the evaluation outcomes are re-aggregated at each δ. The cost is therefore that of a single
/// `BaselineSystem.calibratedEvaluation`, whatever the number of p_fa values, and every p_fa is measured on
/// the same test scenes (streams 0..<samples), so curves of one method are comparable point by point.
public enum PfaSweep {
    /// Checks a list of target false-alarm probabilities: non-empty, each in the open interval (0, 1).
    /// - Parameter name: the CLI flag reported in the error (`--pfa-values`).
    public static func validate(_ targetPfas: [Double], name: String = "--pfa-values") throws {
        guard !targetPfas.isEmpty else {
            throw ISACError.invalidParameter(name: name, value: "(empty)", valid: "a comma list of at least one p_fa in (0, 1)")
        }
        for p in targetPfas { try Check.inOpenRange(p, 0, 1, name) }
    }

    /// Wilson score interval for a binomial proportion k/n at `z` standard errors (1.96: 95 %), the band drawn
    /// around p_md (k = missed, n = true targets) and p_fa (k = false alarms, n = K_max·N − ΣT opportunities).
    /// Returns (NaN, NaN) for n = 0.
    public static func wilsonInterval(successes k: Int, trials n: Int, z: Double = 1.96) -> (lower: Double, upper: Double) {
        guard n > 0 else { return (.nan, .nan) }
        let nn = Double(n), p = Double(k) / nn, z2 = z * z
        let centre = (p + z2 / (2 * nn)) / (1 + z2 / nn)
        let half = z / (1 + z2 / nn) * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        return (max(0, centre - half), min(1, centre + half))
    }

    /// 95 % Wilson bands of p_md and p_fa of one operating point.
    public static func bands(_ d: DetectionCounts) -> (pmd: (lower: Double, upper: Double), pfa: (lower: Double, upper: Double)) {
        (wilsonInterval(successes: d.trueTargets - d.detected, trials: d.trueTargets),
         wilsonInterval(successes: d.falseAlarms, trials: d.falseAlarmOpportunities))
    }

    /// Parses a comma list such as `1e-3,1e-2,0.1` (sorted ascending, duplicates removed).
    public static func parse(_ text: String, name: String = "--pfa-values") throws -> [Double] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !(parts.count == 1 && parts[0].isEmpty) else {
            throw ISACError.invalidParameter(name: name, value: "\"\(text)\"", valid: "a comma list of at least one p_fa in (0, 1)")
        }
        var vals: [Double] = []
        for p in parts {
            guard let v = Double(p) else {
                throw ISACError.invalidParameter(name: name, value: "\"\(p)\"", valid: "numbers in (0, 1), comma separated")
            }
            vals.append(v)
        }
        try validate(vals, name: name)
        return Array(Set(vals)).sorted()
    }

    /// Thresholds δ(p_fa) for every target p_fa from one set of calibration traces
    /// (`ThresholdCalibration.calibrate` per value; each call is O(n log n) on the traces, no new samples).
    /// - Returns: δ per entry of `targetPfas` (raw 𝓛 units), non-increasing as p_fa increases.
    public static func thresholds(_ traces: [DetectionTrace], maxTargets: Int, targetPfas: [Double]) throws -> [Double] {
        try validate(targetPfas)
        return try targetPfas.map { try ThresholdCalibration.calibrate(traces, maxTargets: maxTargets, targetPfa: $0) }
    }

    /// The calibrate-then-evaluate protocol of `BaselineSystem.calibratedEvaluation`, for many target p_fa at once:
    /// `run(calibrationSamples, 2³²)` once, δ(p_fa) for each value, `run(samples, 0)` once, metrics at each δ
    /// (`config.calibration == .testSet`: δ(p_fa) from the `run(samples, 0)` outcomes themselves, no calibration run).
    /// - Returns: one `OperatingPointMetrics` per entry of `targetPfas`, in the same order; the result at a single
    ///   p_fa equals `BaselineSystem.calibratedEvaluation` with that p_fa.
    public static func evaluate(config: MultiTargetConfig, samples: Int, calibrationSamples: Int, targetPfas: [Double],
                                eta: Double, phi: Double, gospa: GOSPA,
                                run: (Int, UInt64) throws -> [SampleOutcome]) throws -> [OperatingPointMetrics] {
        try validate(targetPfas)
        try Check.positive(samples, "--samples")
        let ev: [SampleOutcome], deltas: [Double]
        switch config.calibration {
        case .outOfSample:
            try Check.positive(calibrationSamples, "--calibration-samples")
            let cal = try run(calibrationSamples, 1 << 32)
            deltas = try thresholds(cal.map(\.trace), maxTargets: config.maxTargets, targetPfas: targetPfas)
            ev = try run(samples, 0)
        case .testSet:
            // The official code's protocol: δ chosen on the very draws it is evaluated on (no calibration draws).
            ev = try run(samples, 0)
            deltas = try thresholds(ev.map(\.trace), maxTargets: config.maxTargets, targetPfas: targetPfas)
        }
        return try deltas.map {
            try BaselineSystem.aggregate(ev, config: config, threshold: $0, eta: eta, phi: phi, gospa: gospa)
        }
    }
}
