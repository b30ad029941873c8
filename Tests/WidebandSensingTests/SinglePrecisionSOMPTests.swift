import Testing
import Foundation
import Linalg
import Numerics
@testable import WidebandSensing

// Single-precision correlation SOMP (issue 17 speed item) against the independent double-precision path
// (`SOMP.recover` on the complex128 dictionary through `Localizer.compressedSensing`).

private func reducedSystem() throws -> (WidebandSystem, AngleDistanceGrid) {
    // The paper's array and bandwidth (same Δr and angle grid), M = 16 subcarriers to fit a debug test.
    let s = try WidebandSystem(antennas: 127, subcarriers: 16)
    return (s, try AngleDistanceGrid.make(.hybridMin, system: s))
}

@Test func singlePrecisionDictionaryIsTheDoubleDictionaryRoundedOnce() throws {
    let (s, grid) = try reducedSystem()
    let b = grid.dictionary(system: s), bf = grid.dictionarySingle(system: s)
    #expect(bf.rows == b.rows && bf.cols == b.cols)
    var mismatches = 0
    for i in 0..<b.data.count where bf.data[i].real != Float(b.data[i].real) || bf.data[i].imaginary != Float(b.data[i].imaginary) {
        mismatches += 1
    }
    #expect(mismatches == 0)
}

@Test func floatCorrelationErrorStaysWithinTheVerificationBound() throws {
    // The candidate rule of SinglePrecisionSOMP assumes ‖ĉ_j − c_j‖ ≤ ε = 4γ_{L+2}‖Y‖_F for every atom j.
    let (s, grid) = try reducedSystem()
    let b = grid.dictionary(system: s), bf = grid.dictionarySingle(system: s)
    for seed in 0..<3 {
        var rng = RandomSource(seed: 99, stream: UInt64(seed))
        let truth = WidebandExperiments.randomTargets(count: 3, rMin: 3.4, rMax: 60, rng: &rng)
        let y = try s.simulate(targets: truth, snapshots: 8, snrDb: 10, rng: &rng).data
        var c = Matrix<CDouble>(rows: b.cols, cols: y.cols)
        Matrix.gemm(.conjugateTranspose, b, .none, y, into: &c)
        let yf = Matrix<CFloat>(rows: y.rows, cols: y.cols) { i, k in CFloat(Float(y[i, k].real), Float(y[i, k].imaginary)) }
        var cf = Matrix<CFloat>(rows: b.cols, cols: y.cols)
        Matrix.gemm(.conjugateTranspose, bf, .none, yf, into: &cf)
        let u = Double(Float.ulpOfOne) / 2, nu = Double(y.rows + 2) * u
        let eps = 4 * nu / (1 - nu) * y.frobeniusNorm
        var worst = 0.0
        for j in 0..<b.cols {
            var e = 0.0
            for k in 0..<y.cols {
                e += (c[j, k] - CDouble(Double(cf[j, k].real), Double(cf[j, k].imaginary))).absSquared
            }
            worst = Swift.max(worst, e.squareRoot())
        }
        #expect(worst <= eps, "float correlation error \(worst) > bound \(eps)")
    }
}

@Test func singlePrecisionSOMPMatchesDoubleSOMP() throws {
    // Same support, estimates and (to double rounding) coefficient powers as double SOMP, plain and band-excluded,
    // with strong targets and at an SNR so low that later picks are near-ties in the noise (many candidates).
    let (s, grid) = try reducedSystem()
    let b = grid.dictionary(system: s), bf = grid.dictionarySingle(system: s)
    var checked = 0
    for (snr, trials) in [(0.0, 8), (-25.0, 4)] {
        for t in 0..<trials {
            var rng = RandomSource(seed: 2027, stream: UInt64(t))
            let truth = WidebandExperiments.randomTargets(count: 3, rMin: s.radiativeNearFieldInnerMeters, rMax: 60, rng: &rng)
            let y = try s.simulate(targets: truth, snapshots: 8, snrDb: snr, rng: &rng).data
            for excl in [0, 1] {
                let d = try Localizer.compressedSensing(observation: y, grid: grid, dictionary: b, targets: 3, exclusionCells: excl, system: s)
                let (f, verified) = try Localizer.compressedSensing(observation: y, grid: grid, singlePrecisionDictionary: bf, targets: 3,
                                                                    exclusionCells: excl, system: s)
                #expect(f.support == d.support, "snr \(snr) trial \(t) excl \(excl)")
                #expect(verified >= 3)
                for (pf, pd) in zip(f.coefficientPower, d.coefficientPower) {
                    #expect(abs(pf - pd) <= 1e-10 * Swift.max(pd, 1e-300))
                }
                checked += 1
            }
        }
    }
    #expect(checked == 24)
}
