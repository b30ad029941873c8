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

@Test func sineAndCosineIntegralsMatchTabulatedValues() {
    // Reference values: scipy.special.sici (Cephes), both branches (series x ≤ 2, continued fraction x > 2).
    let table: [(Double, Double, Double)] = [(0.5, 0.49310741804306674, -0.17778407880661287), (1, 0.9460830703671831, 0.33740392290096816),
        (2, 1.605412976802695, 0.422980828774865), (2.5, 1.7785201734438267, 0.2858711963653835), (3, 1.848652527999468, 0.11962978600800067),
        (10, 1.658347594218874, -0.04545643300445537), (20, 1.5482417010434397, 0.044419820845353314), (150.3, 1.5649677556095152, -0.0032076597744530293)]
    for (x, si, ci) in table {
        let got = SineCosineIntegral.ciSi(x)
        #expect(abs(got.si - si) < 1e-13 && abs(got.ci - ci) < 1e-13, "x = \(x): \(got)")
    }
}

@Test func everyPolarizabilityHasTheCMLimitAndTheRadiativeReaction() {
    // ΔV/α = 1/χ − S: S → −1/3 (Clausius–Mossotti) as kd → 0, and −Im S = (kd)³/(6π) + O((kd)⁵) for a lossless voxel
    // (the optical theorem for one dipole, Draine 1988): every option must satisfy both.
    let eps = CDouble(4, 0)
    for p in VIEPolarizability.allCases {
        let tiny = p.selfTerm(pitch: 1e-4, wavenumber: 1, permittivity: eps)
        #expect((tiny - CDouble(-1.0 / 3.0, 0)).length < 1e-7, "\(p)")
        let kd = 0.05
        let s = p.selfTerm(pitch: kd, wavenumber: 1, permittivity: eps)
        let rr = kd * kd * kd / (6 * Double.pi)
        #expect(abs(-s.imaginary - rr) < 0.01 * rr, "\(p): \(s)")
    }
    // LDR's m²-dependent term: b2 + b3 S with S = 0 (lattice axis) and 1/5 (isotropic), at O((kd)²).
    let kd = 0.01
    let d = VIEPolarizability.ldr.selfTerm(pitch: kd, wavenumber: 1, permittivity: CDouble(9, 0)) - VIEPolarizability.ldr.selfTerm(pitch: kd, wavenumber: 1, permittivity: CDouble(1, 0))
    #expect(abs(d.real - 8 * -0.1648469 * kd * kd / (4 * Double.pi)) < 1e-9)
}

@Test func filteredGreenTendsToTheFilteredStaticDipoleAsKdVanishes() {
    // Static limit of the FCD Green's tensor (Piller & Martin; ADDA's "fcd_st"): the point static dipole
    // (3r̂r̂ − I)/(4πr³)·ΔV times (2/(3π))(3 Si(x) + x cos x − 4 sin x), x = π r/h — a different formula from the full one.
    let kd = 1e-4
    for q in [Point3(1, 0, 0), Point3(1, 1, 0), Point3(2, 1, 1), Point3(3, -2, 5)] {
        let rn = (q * q).sum().squareRoot(), u = q / rn, x = Double.pi * rn
        let f = (2 / (3 * Double.pi)) * (3 * SineCosineIntegral.ciSi(x).si + x * Double.cos(x) - 4 * Double.sin(x))
        let corr = VIEOperator.filteredGreenCorrection(offsetInPitches: q, kd: kd)
        let st = 1 / (4 * Double.pi * rn * rn * rn)
        let pointStatic = [st * (3 * u.x * u.x - 1), st * (3 * u.y * u.y - 1), st * (3 * u.z * u.z - 1), 3 * st * u.x * u.y, 3 * st * u.x * u.z, 3 * st * u.y * u.z]
        for c in 0..<6 {
            #expect(abs(pointStatic[c] + corr[c] - f * pointStatic[c]) < 1e-6 * st, "q = \(q), c = \(c)")
        }
    }
}
