import Arrays
import Foundation
import Linalg
import Numerics
import Testing
@testable import Scattering

/// ∫_{[−1/2, 1/2]³} dV/|r| = 3 ln((√3 + 1)/(√3 − 1)) − π/2 (potential at the centre of a unit cube of unit charge density).
private let unitCubeInverseDistance = 3 * Foundation.log((3.0.squareRoot() + 1) / (3.0.squareRoot() - 1)) - Double.pi / 2

@Test func cubeSelfTermMatchesSingularitySubtractedQuadrature() throws {
    // Independent reference: ∫_cube g = h² C/(4π) + ∫_cube (e^{−jkR} − 1)/(4πR) dV, the second integrand bounded and
    // smooth (→ −jk/4π), by a 12³ Gauss–Legendre rule; T_self = −1/3 + (2k²/3) ∫_cube g.
    let (x, w) = GaussLegendre.rule(12)
    for (h, k) in [(0.1, 2 * Double.pi), (0.05, 2 * Double.pi), (0.2, 2 * Double.pi)] {
        var reg = CDouble.zero
        for a in 0..<12 { for b in 0..<12 { for c in 0..<12 {
            let r = (h / 2) * (x[a] * x[a] + x[b] * x[b] + x[c] * x[c]).squareRoot()
            let v = (CDouble(Double.cos(k * r), -Double.sin(k * r)) - CDouble(1, 0)) / CDouble(4 * Double.pi * r, 0)
            reg += v * CDouble(w[a] * w[b] * w[c] * h * h * h / 8, 0)
        } } }
        let ig = CDouble(h * h * unitCubeInverseDistance / (4 * Double.pi), 0) + reg
        let want = CDouble(-1.0 / 3.0, 0) + ig * CDouble(2 * k * k / 3, 0)
        let got = VIEOperator.cubeSelfTerm(pitch: h, wavenumber: k)
        // (The reference integrand has a |r| kink at the centre, so its Gauss–Legendre sum converges slowly: 1e-5.)
        #expect((got - want).length < 1e-5 * max(1, want.length), "h = \(h)")
        // Radiative reaction −k³h³/(6π) to leading order, corrected at O((kh)²).
        let rr = Foundation.pow(k * h, 3) / (6 * Double.pi)
        #expect(abs(got.imaginary + rr) < 0.15 * (k * h) * (k * h) * rr, "h = \(h)")
    }
}

@Test func integratedCouplingApproachesPointDipoleFarAway() throws {
    // Taylor expansion about the cube centre: the cube's second moment is isotropic, (h²/12) h³ I, so
    // ∫_cube G(d − r′) dr′ = h³ (1 + (h²/24)∇²) G(d) + O(h⁴∂⁴G) = h³ (1 − (kh)²/24) G(d) + O((h/|d|)⁴) (∇²G = −k²G off the source).
    let h = 0.05, k = 2 * Double.pi
    let (x, w) = GaussLegendre.rule(8)
    var errs: [Double] = []
    for n in [4.0, 8.0] {
        let d = h * Point3(n, 0.5 * n, 0.25 * n)
        let v = VIEOperator.integratedCoupling(offset: d, pitch: h, wavenumber: k, nodes: x, weights: w)
        let (al, be, u) = Fields.dyadicGreenCoefficients(separation: d, wavenumber: k)
        let s = CDouble(k * k * h * h * h * (1 - k * k * h * h / 24), 0)
        let p = [s * (al + be * CDouble(u.x * u.x, 0)), s * (al + be * CDouble(u.y * u.y, 0)), s * (al + be * CDouble(u.z * u.z, 0)),
                 s * be * CDouble(u.x * u.y, 0), s * be * CDouble(u.x * u.z, 0), s * be * CDouble(u.y * u.z, 0)]
        var num = 0.0, den = 0.0
        for c in 0..<6 { num += (v[c] - p[c]).lengthSquared; den += p[c].lengthSquared }
        errs.append((num / den).squareRoot())
    }
    #expect(errs[0] < 0.01 && errs[1] < errs[0] / 8)
}
