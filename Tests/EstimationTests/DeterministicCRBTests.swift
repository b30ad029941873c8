import Testing
import Foundation
import Numerics
@testable import Estimation
import Linalg

/// e^{jωl}, l = 0..<L.
private func tone(_ w: Double, _ l: Int) -> [CDouble] { (0..<l).map { CDouble(Foundation.cos(w * Double($0)), Foundation.sin(w * Double($0))) } }

@Test func deterministicCRBOfOneToneMatchesClassicalClosedForm() throws {
    // One complex tone with unknown complex amplitude x in CN(0, σ²) noise, L samples, one snapshot:
    // CRB(ω) = 6σ² / (|x|² L (L² − 1)) (Rife & Boorstyn 1974).
    let l = 24, w = 0.7, sigma2 = 0.3
    let x = CDouble(0.8, -0.5)
    let a = Matrix<CDouble>(rows: l, cols: 1, data: tone(w, l))
    let d = Matrix<CDouble>(rows: l, cols: 1, data: tone(w, l).enumerated().map { CDouble(0, Double($0.offset)) * $0.element })
    let crb = try DeterministicCRB.bound(steering: a, derivatives: [d], gains: Matrix(rows: 1, cols: 1, data: [x]), noiseVariance: sigma2)
    let closed = 6 * sigma2 / (x.lengthSquared * Double(l) * Double(l * l - 1))
    #expect(abs(crb[0, 0] - closed) / closed < 1e-12)
    // Two well-separated tones, K snapshots with orthogonal gains: each bound equals its one-tone value
    // up to the tiny coupling through P⊥_A (checked loosely), and K snapshots divide it by Σ_k |x_k|².
    let k = 4
    var a2 = Matrix<CDouble>(rows: l, cols: 2)
    a2.setColumn(0, tone(0.7, l)); a2.setColumn(1, tone(2.2, l))
    let d0 = Matrix<CDouble>(rows: l, cols: 1, data: tone(0.7, l).enumerated().map { CDouble(0, Double($0.offset)) * $0.element })
    let d1 = Matrix<CDouble>(rows: l, cols: 1, data: tone(2.2, l).enumerated().map { CDouble(0, Double($0.offset)) * $0.element })
    let g = Matrix<CDouble>(rows: 2, cols: k) { p, kk in p == 0 ? CDouble(1, 0) : (kk % 2 == 0 ? CDouble(1, 0) : CDouble(-1, 0)) }
    let c2 = try DeterministicCRB.bound(steering: a2, derivatives: [d0, d1], gains: g, noiseVariance: sigma2)
    let one = 6 * sigma2 / (Double(k) * Double(l) * Double(l * l - 1))
    #expect(abs(c2[0, 0] - one) / one < 0.05)
    #expect(abs(c2[1, 1] - one) / one < 0.05)
}

@Test func offGridRefinementFindsTheContinuousMaximum() throws {
    // One tone, no noise: the concentrated likelihood |aᴴy|²/‖a‖² peaks exactly at the true frequency.
    let l = 32, w = 1.2345
    let y = Matrix<CDouble>(rows: l, cols: 1, data: tone(w, l).map { $0 * CDouble(0.3, 0.9) })
    let cell = 2 * Double.pi / Double(l)
    let start = (w / cell).rounded() * cell                       // nearest DFT bin
    let (par, obj) = try OffGridRefinement.refine(observations: y, initial: [[start]], scales: [cell],
                                                  options: .init(tolerance: 1e-7)) { tone($0[0], l) }
    #expect(abs(par[0][0] - w) < 1e-6 * cell)
    #expect(abs(obj - 0.9 * Double(l)) < 1e-6 * Double(l))       // ‖y‖² = |x|² L, |x|² = 0.09 + 0.81
    // Stays within `radius` cells of the start.
    let (far, _) = try OffGridRefinement.refine(observations: y, initial: [[start + 5 * cell]], scales: [cell],
                                                options: .init(radius: 1)) { tone($0[0], l) }
    #expect(abs(far[0][0] - (start + 5 * cell)) <= cell * (1 + 1e-12))
}
