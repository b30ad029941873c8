import Testing
import Foundation
import Linalg
import Metrics
@testable import MultiTargetISAC

private func tinyConfig() -> MultiTargetConfig { smallReceiverSystem(maxTargets: 3) }

private let pfas = [3e-3, 1e-2, 3e-2, 0.1, 0.3]

@Test func pfaSweepIsMonotoneAndTracksTheTarget() throws {
    let cfg = tinyConfig()
    let sys = try BaselineSystem(config: cfg, mode: .unknown, impairmentSeed: 1)
    let n = 240
    let ms = try PfaSweep.evaluate(config: cfg, samples: n, calibrationSamples: n, targetPfas: pfas, eta: 0.6, phi: 0,
                                   gospa: try GOSPA()) { c, f in try sys.runBatch(count: c, firstIndex: f, seed: 5, eta: 0.6, phi: 0) }
    #expect(ms.count == pfas.count)
    // Same test scenes for every p_fa and T̂_i(δ) non-increasing in δ: raising the target p_fa lowers δ, which can
    // only add detections, so p_md is non-increasing and the fresh p_fa non-decreasing along the sweep.
    for i in 1..<ms.count {
        #expect(ms[i].threshold <= ms[i - 1].threshold)
        #expect(ms[i].detection.missedDetectionProbability <= ms[i - 1].detection.missedDetectionProbability)
        #expect(ms[i].detection.falseAlarmProbability >= ms[i - 1].detection.falseAlarmProbability)
        #expect(ms[i].detection.samples == n)
    }
    // Fresh-data p_fa follows the target: ≈ n·(T_max − E T) = 360 false-alarm opportunities, so the binomial
    // spread at p = 0.3 is ≈ 0.024 per set; 0.1 is a > 3σ band for calibration + test noise together.
    #expect(abs(ms[3].detection.falseAlarmProbability - 0.1) < 0.06)
    #expect(abs(ms[4].detection.falseAlarmProbability - 0.3) < 0.1)
    #expect(ms[4].detection.falseAlarmProbability > ms[1].detection.falseAlarmProbability)
    #expect(ms[4].detection.missedDetectionProbability < ms[0].detection.missedDetectionProbability)
}

@Test func pfaSweepEqualsOneCalibrationPerTarget() throws {
    // Independent path: the existing single-p_fa protocol re-runs calibration and test samples for each value.
    let cfg = tinyConfig()
    let sys = try BaselineSystem(config: cfg, mode: .known, impairmentSeed: 2)
    let g = try GOSPA()
    let targets = [1e-2, 0.1]
    let ms = try PfaSweep.evaluate(config: cfg, samples: 60, calibrationSamples: 80, targetPfas: targets, eta: 0.5, phi: 0.2,
                                   gospa: g) { c, f in try sys.runBatch(count: c, firstIndex: f, seed: 9, eta: 0.5, phi: 0.2) }
    for (p, m) in zip(targets, ms) {
        let ref = try sys.evaluate(eta: 0.5, phi: 0.2, samples: 60, calibrationSamples: 80, seed: 9, targetPfa: p, gospa: g)
        #expect(m.threshold == ref.threshold)
        #expect(m.detection.missedDetectionProbability == ref.detection.missedDetectionProbability)
        #expect(m.detection.falseAlarmProbability == ref.detection.falseAlarmProbability)
        #expect(m.meanGOSPA == ref.meanGOSPA)
    }
}

@Test func calibratedThresholdsAreTheSmallestFeasible() throws {
    // Synthetic traces: the threshold for each target is the smallest candidate whose calibration p_fa ≤ target,
    // i.e. the next lower observed peak would exceed it.
    var rng = RandomSource(seed: 4, stream: 0)
    let traces = (0..<300).map { _ -> DetectionTrace in
        let t = Int(rng.uniform() * 4)
        let peaks = (0..<3).map { i in (i < t ? 50.0 : 1.0) * (1 + rng.uniform()) }.sorted(by: >)
        return DetectionTrace(trueCount: min(t, 3), peaks: peaks)
    }
    let ds = try PfaSweep.thresholds(traces, maxTargets: 3, targetPfas: pfas)
    let cand = Set(traces.flatMap(\.peaks)).sorted()
    for (p, d) in zip(pfas, ds) {
        let at = try ThresholdCalibration.counts(traces, maxTargets: 3, threshold: d).falseAlarmProbability
        #expect(at <= p)
        if let below = cand.last(where: { $0 < d }) {
            #expect(try ThresholdCalibration.counts(traces, maxTargets: 3, threshold: below).falseAlarmProbability > p)
        }
    }
    #expect(zip(ds, ds.dropFirst()).allSatisfy { $0 >= $1 })
}

@Test(arguments: ["", "0", "1", "-0.1", "1e-2,2", "abc", "1e-2,,0.1", "nan"])
func badPfaValuesAreRejected(text: String) throws {
    #expect {
        _ = try PfaSweep.parse(text)
    } throws: { e in
        guard case let ISACError.invalidParameter(name, _, _) = e else { return false }
        return name == "--pfa-values"
    }
}

@Test func emptyPfaListRejected() throws {
    #expect(throws: ISACError.self) { _ = try PfaSweep.thresholds([DetectionTrace(trueCount: 0, peaks: [1])], maxTargets: 1, targetPfas: []) }
    #expect(try PfaSweep.parse(" 0.1, 1e-3 ,0.1") == [1e-3, 0.1])
}
