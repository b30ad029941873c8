import Testing
import Foundation
import Linalg
import Numerics
import Metrics
import Arrays
@testable import MultiTargetISAC
import Estimation

private func smallConfig() -> MultiTargetConfig { smallReceiverSystem(maxTargets: 2) }

private func columnNorm(_ m: Matrix<CDouble>, _ c: Int) -> Double {
    (0..<m.rows).reduce(0) { $0 + m[$1, c].lengthSquared }.squareRoot()
}

/// |⟨u, v⟩| / (‖u‖‖v‖) of two columns (1 ⇔ same direction up to a complex factor).
private func alignment(_ a: Matrix<CDouble>, _ b: Matrix<CDouble>, _ c: Int) -> Double {
    var ip = CDouble.zero
    for q in 0..<a.rows { ip += a[q, c].conjugate * b[q, c] }
    return ip.length / (columnNorm(a, c) * columnNorm(b, c))
}

@Test func receiverColumnAblationsKeepDirectionsAndSetNorms() throws {
    let cfg = smallConfig()
    let nominal = nominalSteeringMatrix(cfg)
    // A "learned" dictionary: nominal plus a random complex perturbation, so norms and directions both differ.
    var learned = nominal
    var rng = RandomSource(seed: 4, stream: 9)
    for i in learned.data.indices { learned.data[i] += CDouble(0.3 * rng.gaussian(), 0.3 * rng.gaussian()) }
    let rootK = Double(cfg.antennas).squareRoot()
    let unit = try ReceiverColumns.unitNorm.columns(learned: learned, nominal: nominal)
    let reweighted = try ReceiverColumns.nominalLearnedNorms.columns(learned: learned, nominal: nominal)
    #expect(try ReceiverColumns.learned.columns(learned: learned, nominal: nominal) == learned)
    #expect(try ReceiverColumns.nominal.columns(learned: learned, nominal: nominal) == nominal)
    var normsVary = false
    for c in 0..<learned.cols {
        #expect(abs(columnNorm(unit, c) - rootK) < 1e-12 * rootK)
        #expect(abs(alignment(unit, learned, c) - 1) < 1e-12)
        #expect(abs(columnNorm(reweighted, c) - columnNorm(learned, c)) < 1e-12 * rootK)
        #expect(abs(alignment(reweighted, nominal, c) - 1) < 1e-12)
        if abs(columnNorm(learned, c) - rootK) > 0.05 { normsVary = true }
    }
    #expect(normsVary)
    #expect(throws: ISACError.self) {
        try ReceiverColumns.unitNorm.columns(learned: learned, nominal: Matrix<CDouble>(rows: 3, cols: 3))
    }
}

@Test func receiverColumnsEnterOnlyTheDetectionStatistic() throws {
    // Scaling every receiver column by 2 (exact in floating point) scales the map 𝓛 by 4: the softmax window is
    // scale-free and the calibrated threshold scales with the peaks, so every decision and estimate is unchanged
    // and δ is 4×. Passing A itself as the receiver reproduces the shared-A system.
    let cfg = smallConfig()
    let truth = ArrayImpairment.realization(config: cfg, seed: 2)
    let a = nominalSteeringMatrix(cfg)
    var a2 = a
    for i in a2.data.indices { a2.data[i] = a2.data[i] * CDouble(2, 0) }
    let gospa = try GOSPA()
    func run(_ rx: Matrix<CDouble>?) throws -> OperatingPointMetrics {
        try LearnedISACSystem(config: cfg, trueArray: truth, model: .dictionary(a), settings: DifferentiableOMPSettings(), receiverSteering: rx)
            .evaluate(eta: 0.6, phi: 0, samples: 24, calibrationSamples: 24, seed: 5, targetPfa: 0.05, gospa: gospa)
    }
    let base = try run(nil), same = try run(a), scaled = try run(a2)
    #expect(same.detection == base.detection && same.meanGOSPA == base.meanGOSPA && same.threshold == base.threshold)
    // Later OMP iterations refit with 2× atoms (LAPACK may round differently), so estimates agree to rounding.
    #expect(scaled.detection == base.detection && scaled.ser == base.ser)
    #expect(abs(scaled.meanGOSPA - base.meanGOSPA) <= 1e-9 * base.meanGOSPA)
    #expect(abs(scaled.threshold - 4 * base.threshold) <= 1e-9 * base.threshold)
    // The ablation system is evaluation-only: it refuses to produce gradients.
    let sys = try LearnedISACSystem(config: cfg, trueArray: truth, model: .dictionary(a), settings: DifferentiableOMPSettings(), receiverSteering: a2)
    var rng = RandomSource(seed: 1, stream: 0)
    let d = try ScenarioGenerator(config: cfg, trueArray: truth).draw(rng: &rng, targetCount: 1)
    #expect(throws: ISACError.self) { _ = try sys.batchGradient([(d, 0.7)], phi: 0, gospa: gospa) }
}

@Test func singleTargetGrossErrorsAreSplitByTheResolutionCell() throws {
    // K = 16 ⇒ one angle cell is 2/K = 0.125 in sin θ; S = 32, Δf = 1.5 MHz ⇒ one range cell c/(2SΔf) ≈ 3.12 m.
    var cfg = smallConfig(); cfg.maxTargets = 1
    let th0 = 0.2, r0 = 60.0
    func outcome(trueCount: Int, peak: Double, angle: Double, range: Double) -> SampleOutcome {
        SampleOutcome(trace: DetectionTrace(trueCount: trueCount, peaks: [peak]), truePositions: trueCount == 1 ? [Position2(r0 * cos(th0), r0 * sin(th0))] : [],
                      trueAnglesRad: trueCount == 1 ? [th0] : [], trueRangesMeters: trueCount == 1 ? [r0] : [],
                      estimatedAnglesRad: [angle], estimatedRangesMeters: [range], symbolErrors: 0, symbols: 1)
    }
    let fineAngle = asin(sin(th0) + 0.01)
    let outs = [
        outcome(trueCount: 1, peak: 10, angle: fineAngle, range: r0 + 1),       // within one cell
        outcome(trueCount: 1, peak: 10, angle: th0, range: r0 + 50),            // gross in range
        outcome(trueCount: 1, peak: 10, angle: asin(sin(th0) + 0.3), range: r0), // gross in angle
        outcome(trueCount: 1, peak: 0.5, angle: th0 + 1, range: 5),              // missed (peak ≤ δ): no error counted
        outcome(trueCount: 0, peak: 10, angle: 0, range: 20),                    // false alarm: no error counted
    ]
    let m = try BaselineSystem.aggregate(outs, config: cfg, threshold: 1, eta: 0.5, phi: 0, gospa: try GOSPA())
    #expect(m.angleErrorDeg.count == 3 && m.grossErrorCount == 2 && m.angleErrorFineDeg.count == 1)
    let d1 = (fineAngle - th0) * 180 / Double.pi, d3 = (asin(sin(th0) + 0.3) - th0) * 180 / Double.pi
    #expect(abs(m.angleErrorFineDeg.rmse - abs(d1)) < 1e-12)
    #expect(abs(m.rangeErrorFineMeters.rmse - 1) < 1e-12)
    #expect(abs(m.angleErrorDeg.rmse - ((d1 * d1 + d3 * d3) / 3).squareRoot()) < 1e-12)
    #expect(abs(m.rangeErrorMeters.rmse - ((1 + 2500) / 3.0).squareRoot()) < 1e-12)
}
