import Foundation
import Linalg
import Metrics

/// One sample's detection path: the true T and the OMP peak sequence run to the cap.
public struct DetectionTrace: Sendable, Equatable {
    /// True number of targets T of the sample.
    public var trueCount: Int
    /// max 𝓛 before each iteration, length T_max (OMP run with δ = 0).
    public var peaks: [Double]
    /// How detections are read off the peak sequence (`MultiTargetConfig.detectionRule`).
    public var rule: DetectionRule = .firstBelow
    /// Trace from the true count, the OMP peak sequence and the detection rule.
    public init(trueCount: Int, peaks: [Double], rule: DetectionRule = .firstBelow) {
        self.trueCount = trueCount; self.peaks = peaks; self.rule = rule
    }
    /// T̂(δ): `firstBelow`: the first I with peaks[I] ≤ δ (else T_max); `allAbove`: the number of peaks > δ.
    /// Both are non-increasing in δ, so the calibration's bisection applies to either.
    @inlinable public func estimatedCount(threshold: Double) -> Int {
        switch rule {
        case .firstBelow:
            for (i, p) in peaks.enumerated() where !(p > threshold) { return i }
            return peaks.count
        case .allAbove:
            return peaks.reduce(0) { $0 + ($1 > threshold ? 1 : 0) }
        }
    }
    /// OMP iterations reported as detections at δ, in selection order.
    public func selectedIterations(threshold: Double) -> [Int] {
        switch rule {
        case .firstBelow: return Array(0..<estimatedCount(threshold: threshold))
        case .allAbove: return peaks.indices.filter { peaks[$0] > threshold }
        }
    }
}

/// How the detections of a sample are read off its OMP peak sequence at a threshold δ.
public enum DetectionRule: String, Sendable, Equatable, CaseIterable, Codable {
    /// Algorithm 1: stop at the first iteration whose peak is ≤ δ; the earlier ones are the detections (paper).
    case firstBelow = "first-below"
    /// The official code's `getSensingMetrics`: every iteration whose peak exceeds δ is a detection, wherever it
    /// sits in the sequence (differs from `firstBelow` only when the peaks are not decreasing).
    case allAbove = "all-above"
}

/// Threshold calibration to a target false-alarm rate (paper eq. 21) by bisection.
public enum ThresholdCalibration {
    /// p_md and p_fa (eqs. 20–21) of the traces at threshold δ.
    public static func counts(_ traces: [DetectionTrace], maxTargets: Int, threshold: Double) throws -> DetectionCounts {
        var c = try DetectionCounts(maxTargets: maxTargets)
        for t in traces { c.add(trueCount: t.trueCount, estimatedCount: t.estimatedCount(threshold: threshold)) }
        return c
    }

    /// Smallest threshold δ whose empirical p_fa on `traces` is ≤ `targetPfa`.
    ///
    /// T̂_i(δ) is non-increasing in δ for every sample (the OMP path does not depend on δ, only where
    /// it stops), so p_fa(δ) is a non-increasing step function that only changes at observed peak
    /// values. Bisection over the sorted candidate set {0} ∪ {peaks} therefore finds the exact
    /// smallest feasible δ in O(log n) evaluations; the smallest feasible δ maximises detection.
    /// - Parameter targetPfa: in (0, 1) (`--pfa`).
    public static func calibrate(_ traces: [DetectionTrace], maxTargets: Int, targetPfa: Double) throws -> Double {
        try Check.inOpenRange(targetPfa, 0, 1, "--pfa")
        guard !traces.isEmpty else { throw ISACError.invalidParameter(name: "--samples", value: "0", valid: "calibration needs >= 1 sample") }
        var cand = Array(Set(traces.flatMap { $0.peaks }.filter { $0.isFinite && $0 >= 0 })).sorted()
        cand.insert(0, at: 0)
        func pfa(_ d: Double) throws -> Double {
            let v = try counts(traces, maxTargets: maxTargets, threshold: d).falseAlarmProbability
            return v.isNaN ? 0 : v
        }
        var lo = 0, hi = cand.count - 1          // pfa(cand[hi]) == 0 (nothing exceeds the largest peak)
        if try pfa(cand[lo]) <= targetPfa { return cand[lo] }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if try pfa(cand[mid]) <= targetPfa { hi = mid } else { lo = mid }
        }
        return cand[hi]
    }
}
