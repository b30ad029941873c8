import Arrays
import Foundation
import Linalg
import Numerics
import Testing
@testable import Scattering

/// Numerical ∇∇g by central differences: an independent check of the closed-form near-zone terms.
private func numericGreen(_ d: Point3, k: Double) -> [CDouble] {
    let h = 1e-4
    func g(_ p: Point3) -> CDouble { Fields.scalarGreen(distance: (p * p).sum().squareRoot(), wavenumber: k) }
    var out = [CDouble](repeating: .zero, count: 9)
    let e = [Point3(1, 0, 0), Point3(0, 1, 0), Point3(0, 0, 1)]
    for i in 0..<3 { for j in 0..<3 {
        let dd = (g(d + h * e[i] + h * e[j]) - g(d + h * e[i] - h * e[j]) - g(d - h * e[i] + h * e[j]) + g(d - h * e[i] - h * e[j])) / CDouble(4 * h * h, 0)
        out[3 * i + j] = dd / CDouble(k * k, 0) + (i == j ? g(d) : .zero)
    } }
    return out
}

@Test func dyadicGreenMatchesFiniteDifferenceOfScalarGreen() throws {
    let k = 2 * Double.pi  // λ = 1 m
    for d in [Point3(0.3, -0.2, 0.15), Point3(1.2, 0.4, -0.7), Point3(0.05, 0.02, 0.08)] {
        let G = try Fields.dyadicGreen(d, Point3(0, 0, 0), wavenumber: k)
        let N = numericGreen(d, k: k)
        let scale = N.map { $0.length }.max()!
        for i in 0..<9 { #expect((G[i] - N[i]).length / scale < 1e-5) }
    }
}

@Test func dyadicGreenReciprocity() throws {
    let k = 102.7
    var rng = RandomSource(seed: 7, stream: 0)
    for _ in 0..<20 {
        let r = Point3(rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-2, 2))
        let s = Point3(rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-2, 2))
        let a = try Fields.dyadicGreen(r, s, wavenumber: k), b = try Fields.dyadicGreen(s, r, wavenumber: k)
        for i in 0..<3 { for j in 0..<3 {
            // G(r, r′) = G(r′, r)ᵀ and each is symmetric.
            #expect((a[3 * i + j] - b[3 * j + i]).length <= 1e-12 * a.map { $0.length }.max()!)
            #expect((a[3 * i + j] - a[3 * j + i]).length <= 1e-12 * a.map { $0.length }.max()!)
        } }
    }
}

@Test func dyadicGreenFarFieldIsTransverseAndDecaysAsOneOverR() throws {
    let k = 2 * Double.pi
    let u = Point3(0.48, -0.6, 0.64)  // unit
    var prev: Double? = nil
    for r in [1e3, 1e4, 1e5] {
        let G = try Fields.dyadicGreen(r * u, Point3(0, 0, 0), wavenumber: k)
        // Longitudinal part G·R̂ vanishes like 1/(kR)² relative to the transverse part.
        var gl = 0.0
        for i in 0..<3 { var s = CDouble.zero; for j in 0..<3 { s += G[3 * i + j] * CDouble(u[j], 0) }; gl += s.lengthSquared }
        let gt = G.map { $0.lengthSquared }.reduce(0, +).squareRoot()
        #expect(gl.squareRoot() / gt < 2 / (k * r))
        // r·|G| → |I − R̂R̂ᵀ|_F/(4π) = √2/(4π).
        #expect(abs(r * gt - 2.0.squareRoot() / (4 * Double.pi)) < 1e-3)
        if let p = prev { #expect(abs(p / gt - 10) < 1e-3) }
        prev = gt
    }
}

@Test func dipoleFieldIsTextbookEJOmegaTDipole() {
    // On the dipole's equatorial plane, E = e^{−jkR}/(4πε0)(k²/R − jk/R² − 1/R³) p (e^{jωt}).
    let k = 3.0, R = 0.7
    let e = Fields.dipoleField(at: Point3(R, 0, 0), source: Point3(0, 0, 0), moment: SIMD3(0, 0, 1), wavenumber: k)
    let ph = CDouble(Double.cos(k * R), -Double.sin(k * R))
    let ref = ph * CDouble(k * k / R - 1 / (R * R * R), -k / (R * R)) / CDouble(4 * Double.pi * vacuumPermittivity, 0)
    #expect((e[2] - ref).length / ref.length < 1e-12)
    #expect(e[0].length < 1e-9 * ref.length && e[1].length < 1e-9 * ref.length)
}

@Test func contrastFollowsEq2AndRejectsNegativeConductivity() throws {
    let chi = try Fields.contrast(relativePermittivity: CDouble(4, -0.5), conductivity: 0.1, frequencyHz: 1e9)
    #expect(abs(chi.real - 3) < 1e-15)
    #expect(abs(chi.imaginary - (-0.5 - 0.1 / (2 * Double.pi * 1e9 * vacuumPermittivity))) < 1e-12)
    #expect(throws: ISACError.self) { try Fields.contrast(relativePermittivity: CDouble(2, 0), conductivity: -1, frequencyHz: 1e9) }
    #expect(throws: ISACError.self) { try Material(name: "bad", relativePermittivity: CDouble(2, 0), conductivity: -0.1) }
}
