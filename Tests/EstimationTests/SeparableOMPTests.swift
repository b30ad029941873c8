import Testing
import Foundation
import Numerics
import Arrays
import Estimation
import Linalg

/// Separable (angle × delay) OMP on a noise-free sum of two dictionary atoms: the pursuit must pick exactly
/// those atoms, the LS gains must equal the true ones, and the residual must vanish.
@Test func separableOMPRecoversOnGridAtoms() throws {
    let g = try ArrayGeometry.ula(count: 12, spacingMeters: 0.5)
    let th = Steering.uniformGrid(-0.6, 0.6, count: 25)
    let tau = Steering.uniformGrid(0, 1e-6, count: 20)
    let dict = try OMPDictionary(angleAtoms: Steering.linearMatrix(g, anglesRad: th, wavelengthMeters: 1), anglesRad: th,
                                 delayAtoms: Steering.delayMatrix(delaysSeconds: tau, subcarriers: 24, spacingHz: 1e6),
                                 delaysSeconds: tau)
    let truth = [(i: 4, j: 3, gain: CDouble(2, -1)), (i: 19, j: 14, gain: CDouble(-0.5, 1.5))]
    var y = Matrix<CDouble>(rows: 12, cols: 24)
    for t in truth {
        let a = dict.angleAtoms.column(t.i), r = dict.delayAtoms.column(t.j)
        for s in 0..<24 { for k in 0..<12 { y[k, s] += t.gain * a[k] * r[s] } }
    }
    let res = try OMP.run(observation: y, dictionary: dict, threshold: 1e-9, maxIterations: 5)
    #expect(Set(zip(res.angleIndices, res.delayIndices).map { [$0, $1] }) == Set(truth.map { [$0.i, $0.j] }))
    for (n, (i, j)) in zip(res.angleIndices, res.delayIndices).enumerated() {
        let t = truth.first { $0.i == i && $0.j == j }!
        #expect((res.gains[n] - t.gain).length < 1e-9)
    }
    // Stopped by the threshold after two atoms: the third peak is numerically zero.
    #expect(res.peaks.count == 3 && res.peaks[2] < 1e-9)
    #expect(throws: ISACError.self) { try OMP.run(observation: y, dictionary: dict, threshold: -1, maxIterations: 1) }
}

/// The ULA steering helpers against their closed forms.
@Test func linearSteeringAndDelayAtomsMatchClosedForms() throws {
    let g = try ArrayGeometry.ula(count: 7, spacingMeters: 0.3)
    let lam = 0.6, th = 0.4
    let a = Steering.linear(g, angleRad: th, wavelengthMeters: lam)
    let m = Steering.linearMatrix(g, anglesRad: [th, -1.1], wavelengthMeters: lam)
    for (k, p) in g.positions.enumerated() {
        let ph = -2 * Double.pi * p.x * Foundation.sin(th) / lam
        #expect((a[k] - CDouble(Foundation.cos(ph), Foundation.sin(ph))).length < 1e-12)
        #expect((m[k, 0] - a[k]).length < 1e-12)
    }
    let rho = Steering.delay(delaySeconds: 3e-7, subcarriers: 9, spacingHz: 2e5)
    for s in 0..<9 {
        let ph = -2 * Double.pi * Double(s) * 2e5 * 3e-7
        #expect((rho[s] - CDouble(Foundation.cos(ph), Foundation.sin(ph))).length < 1e-12)
    }
    let grid = Steering.uniformGrid(-1, 2, count: 4)
    #expect(grid == [-1, 0, 1, 2])
}
