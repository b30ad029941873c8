import Testing
import Foundation
import Numerics
import Linalg
@testable import ExtendedTarget

@Suite("Metrics (eq. 26) and reference losses (eqs. 40–48)")
struct MetricsLossTests {
    @Test("wrap maps to [−π, π) with the +π edge going to −π")
    func wrap() {
        #expect(wrapAngle(Double.pi) == -Double.pi)
        #expect(wrapAngle(-Double.pi) == -Double.pi)
        #expect(abs(wrapAngle(1.5 * Double.pi) - (-0.5 * Double.pi)) < 1e-12)
        #expect(abs(wrapAngle(-1.5 * Double.pi) - 0.5 * Double.pi) < 1e-12)
        #expect(abs(wrapAngle(0.3 + 6 * Double.pi) - 0.3) < 1e-9)
        for x in stride(from: -20.0, through: 20.0, by: 0.37) {
            let w = wrapAngle(x)
            #expect(w >= -Double.pi && w < Double.pi)
            // Same angle: differs from x by an integer multiple of 2π.
            let k = (x - w) / (2 * Double.pi)
            #expect(abs(k - k.rounded()) < 1e-9)
        }
    }

    @Test("azimuth decode from (sin, cos) and the error across the ±π seam")
    func decodeAcrossSeam() {
        let th = Double.pi - 0.01
        #expect(abs(decodeAzimuth(sin: sin(th), cos: cos(th)) - th) < 1e-12)
        // Scaling the pair (unnormalized head output) does not move the decoded angle.
        #expect(abs(decodeAzimuth(sin: 3 * sin(-2.0), cos: 3 * cos(-2.0)) - (-2.0)) < 1e-12)
        let pred = -Double.pi + 0.01
        #expect(abs(wrapAngle(pred - th) - 0.02) < 1e-12)
        // Planar error: chord 2 r sin(Δθ/2) for equal ranges, not a 2π-sized error.
        let e = planarError(rangeHat: 10, range: 10, azimuthHat: pred, azimuth: th)
        #expect(abs(e - 20 * sin(0.01)) < 1e-9)
        #expect(abs(planarError(rangeHat: 3, range: 4, azimuthHat: Double.pi / 2, azimuth: 0) - 5) < 1e-12)
    }

    @Test("metric summary on a hand-built example")
    func summary() throws {
        let labels = [JointLabel(classIndex: 0, rangeMeters: 10, azimuthRad: 0),
                      JointLabel(classIndex: 1, rangeMeters: 20, azimuthRad: 0.5)]
        let preds = [JointPrediction(classProbabilities: [0.5, 0.5], location: LocationEstimate(rangeMeters: 10.5, azimuthRad: 0)),
                     JointPrediction(classProbabilities: [0.9, 0.1], location: LocationEstimate(rangeMeters: 20, azimuthRad: 0.5 + 0.2))]
        let s = try JointMetricSummary.evaluate(preds, labels)
        // Tie [0.5, 0.5] decodes to class 0 (first max), so sample 0 is right and sample 1 wrong.
        #expect(s.accuracy == 0.5)
        #expect(abs(s.rangeMAEMeters! - 0.25) < 1e-12)
        #expect(abs(s.azimuthMAEDeg! - 0.1 * 180 / Double.pi) < 1e-9)
        let e2 = 2 * 20 * sin(0.1)       // chord for equal ranges, Δθ = 0.2
        #expect(abs(s.planarMAEMeters! - (0.5 + e2) / 2) < 1e-9)
        #expect(s.successRate == 0.5)    // 0.5 m ≤ 1 m, 3.97 m > 1 m
        let h0 = log(2.0), h1 = -(0.9 * log(0.9) + 0.1 * log(0.1))
        #expect(abs(s.meanEntropy! - (h0 + h1) / 2) < 1e-12)
        #expect(throws: ISACError.self) { try JointMetricSummary.evaluate([], []) }
        // Classification-only predictions leave location metrics empty.
        let c = try JointMetricSummary.evaluate([JointPrediction(classProbabilities: [0.2, 0.8])], [labels[1]])
        #expect(c.accuracy == 1 && c.planarMAEMeters == nil)
    }

    @Test("mean ± population std")
    func meanStd() {
        let m = MeanStd([1, 2, 3])
        #expect(m.mean == 2)
        #expect(abs(m.std - (2.0 / 3).squareRoot()) < 1e-15)
    }

    @Test("cross-entropy against the softmax closed form")
    func crossEntropy() {
        let l = ReferenceLoss.crossEntropy(logits: [[2, 1, 0], [0, 0, 0]], labels: [0, 2])
        let a = -log(exp(2.0) / (exp(2.0) + exp(1.0) + 1)), b = log(3.0)
        #expect(abs(l - (a + b) / 2) < 1e-12)
        // Large logits stay finite (log-sum-exp).
        #expect(abs(ReferenceLoss.crossEntropy(logits: [[1000, 0]], labels: [1]) - 1000) < 1e-9)
    }

    @Test("heteroscedastic NLL (eq. 41) by hand")
    func nll() {
        // e = [2, −1], s = [0, ln 4]: (1/4)·(4 + 0 + 1/4 + ln 4).
        let v = ReferenceLoss.heteroscedasticNLL(errors: [2, -1], logVariances: [0, log(4)])
        #expect(abs(v - (4.25 + log(4.0)) / 4) < 1e-12)
    }

    @Test("planar consistency (eq. 44) and geometry coupling (eq. 48) by hand")
    func planarCoupling() {
        let p = ReferenceLoss.planarConsistency(rangeHat: [3, 10], range: [4, 10], azimuthHat: [Double.pi / 2, Double.pi / 3],
                                                azimuth: [0, 0], epsilon: 0)
        #expect(abs(p - 7.5) < 1e-12)        // (5 + 10) / 2: 3-4-5 triangle and an equilateral one
        // |7−4| − |4·0.25| = 2 and |5−4| − |4·0.25| = 0 → mean 1.
        let c = ReferenceLoss.geometryCoupling(rangeHat: [7, 5], range: [4, 4], azimuthHat: [0.25, -0.25], azimuth: [0, 0])
        #expect(abs(c - 1) < 1e-12)
        // Across the seam the wrapped Δθ is used: θ̂ = π − 0.1, θ = −π + 0.1 → |Δθ| = 0.2.
        let w = ReferenceLoss.geometryCoupling(rangeHat: [4], range: [4], azimuthHat: [Double.pi - 0.1], azimuth: [-Double.pi + 0.1])
        #expect(abs(w - 0.8) < 1e-9)
    }

    @Test("peak coordinate (eq. 46) and peak prior (eq. 47)")
    func peak() throws {
        var tones = [Matrix<CDouble>(rows: 4, cols: 5, repeating: CDouble(0.1, 0)), Matrix<CDouble>(rows: 4, cols: 5)]
        tones[0][2, 3] = CDouble(0, 1)       // |·| = 1 on tone 0
        tones[1][1, 1] = CDouble(0.6, 0.6)   // |·| ≈ 0.85 on tone 1, sum with 0.1 → 0.95 < 1
        let h = try MultiToneChannel(tones: tones, frequenciesHz: [1e9, 2e9])
        let expected: [Double] = [2.0 / 3.0, 3.0 / 4.0]
        #expect(peakCoordinate(h) == expected)
        let l = ReferenceLoss.peakResponse(predicted: [[0.5, 0.5], [0, 1]], target: [[0.25, 1], [0, 0]])
        #expect(abs(l - (0.75 + 1) / 2) < 1e-12)
    }
}
