import Foundation
import Linalg
import Metrics

/// Mean GOSPA decomposition over the test samples of one operating point (`GOSPAComponents` per sample at the
/// calibrated δ, averaged): `localization + missed + falseTargets == meanGOSPAPower`, the sample mean of
/// d_p^{(γ,μ)}(P, P̂)^p (metres^p; for p = 2 the mean *squared* GOSPA, not the square of `meanGOSPA`).
public struct GOSPABreakdown: Sendable, Equatable, Codable {
    /// GOSPA order p (the unit of the parts is metres^p).
    public var order: Double
    /// Mean localization part, metres^p.
    public var localization: Double
    /// Mean missed-target part, metres^p.
    public var missed: Double
    /// Mean false-target part, metres^p.
    public var falseTargets: Double
    /// Mean of GOSPA^p over the samples (= the sum of the three parts up to round-off), metres^p.
    public var meanGOSPAPower: Double
    /// Mean number of missed / false targets per sample (cut-off pairs count as one of each).
    public var missedPerSample: Double
    public var falsePerSample: Double

    enum CodingKeys: String, CodingKey {
        case order = "p", localization, missed, falseTargets = "false", meanGOSPAPower = "mean_gospa_pow_p",
             missedPerSample = "missed_targets_per_sample", falsePerSample = "false_targets_per_sample"
    }

    /// The decomposition of `outcomes` at threshold δ (`SampleOutcome.estimatedPositions(threshold:)`, as
    /// `BaselineSystem.aggregate` scores them).
    public init(_ outcomes: [SampleOutcome], threshold: Double, gospa: GOSPA) {
        var sum = GOSPAComponents(), pw = 0.0
        for o in outcomes {
            let est = o.estimatedPositions(threshold: threshold)
            sum = sum + gospa.components(truth: o.truePositions, estimate: est)
            pw += Foundation.pow(gospa.distance(o.truePositions, est), gospa.order)
        }
        let n = Double(max(outcomes.count, 1))
        order = gospa.order
        localization = sum.localization / n; missed = sum.missed / n; falseTargets = sum.falseTargets / n
        meanGOSPAPower = pw / n
        missedPerSample = Double(sum.missedCount) / n; falsePerSample = Double(sum.falseCount) / n
    }
}

/// The calibrated evaluation of one operating point with what the metrics alone do not keep: the GOSPA
/// decomposition of the test samples.
public enum CalibratedEvaluation {
    /// `BaselineSystem.calibratedEvaluation` (the same calls of `run`, the same metrics) plus the GOSPA breakdown of
    /// its test outcomes (streams 0..<samples) at the calibrated δ.
    public static func run(config: MultiTargetConfig, samples: Int, calibrationSamples: Int, targetPfa: Double,
                           eta: Double, phi: Double, gospa: GOSPA,
                           run: (Int, UInt64) throws -> [SampleOutcome]) throws -> (metrics: OperatingPointMetrics, gospa: GOSPABreakdown) {
        var test: [SampleOutcome] = []
        let m = try BaselineSystem.calibratedEvaluation(config: config, samples: samples, calibrationSamples: calibrationSamples,
                                                        targetPfa: targetPfa, eta: eta, phi: phi, gospa: gospa) { n, first in
            let o = try run(n, first)
            if first == 0 { test = o }
            return o
        }
        return (m, GOSPABreakdown(test, threshold: m.threshold, gospa: gospa))
    }
}
