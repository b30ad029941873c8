import Arrays
import Foundation
import Linalg
import Numerics

/// Vacuum permittivity ε0, F/m.
public let vacuumPermittivity: Double = 8.854_187_8128e-12

/// Free-space fields in the e^{+jωt} time convention of the paper (eqs. 2, 4, 8, 9):
/// outgoing waves are e^{−jk0R}, and loss is a *negative* imaginary part of ε_r.
///
/// Eq. (4) of the paper prints the near-zone factor as (1/R³ − jk0/R²), which is the e^{−iωt}
/// (physics) form; with e^{−jk0R} the field that actually solves Maxwell's equations — and the only
/// one consistent with the dyadic Green's function of eq. (8), which reciprocity needs — has
/// (1/R³ + jk0/R²). We therefore define the dipole field through G itself:
/// E_dip(r) = (k0²/ε0) G(r, r_src) p, which expands to the textbook e^{jωt} dipole field.
public enum Fields {
    /// Free-space wavenumber k0 = 2πf/c, rad/m.
    @inlinable public static func wavenumber(frequencyHz f: Double) -> Double { 2 * Double.pi * f / speedOfLight }

    /// Scalar Green's function g(R) = e^{−jk0R} / (4πR) (eq. 9), 1/m. R > 0 in metres.
    @inlinable
    public static func scalarGreen(distance r: Double, wavenumber k: Double) -> CDouble {
        let s = 1 / (4 * Double.pi * r)
        return CDouble(Double.cos(k * r) * s, -Double.sin(k * r) * s)
    }

    /// Closed form of the free-space dyadic Green's function (eq. 8) including the near-zone terms:
    ///
    ///     G(R) = g(R) [ (1 + u + u²) I − (1 + 3u + 3u²) R̂R̂ᵀ ],   u = 1/(j k0 R) = −j/(k0 R)
    ///
    /// returned as the pair (α, β) with G = α I + β R̂R̂ᵀ, plus R̂. `separation` = r − r′ (metres, ≠ 0).
    /// As k0R → ∞, G → g (I − R̂R̂ᵀ) (transverse, 1/R decay); as k0R → 0 the 1/R³ static dipole term dominates.
    @inlinable
    public static func dyadicGreenCoefficients(separation d: Point3, wavenumber k: Double)
        -> (alpha: CDouble, beta: CDouble, unit: Point3)
    {
        let r = (d * d).sum().squareRoot()
        let g = scalarGreen(distance: r, wavenumber: k)
        let ikr = 1 / (k * r)               // u = −j·ikr
        let ikr2 = ikr * ikr                // u² = −ikr²
        let a = CDouble(1 - ikr2, -ikr)     // 1 + u + u²
        let b = CDouble(1 - 3 * ikr2, -3 * ikr) // 1 + 3u + 3u²
        return (g * a, -(g * b), d / r)
    }

    /// Full dyadic Green's function G(r, r′) as a row-major 3×3 array, 1/m. G is symmetric, and
    /// G(r, r′) = G(r′, r) (it depends on r − r′ only through |r − r′| and R̂R̂ᵀ): reciprocity.
    public static func dyadicGreen(_ r: Point3, _ rPrime: Point3, wavenumber k: Double) throws -> [CDouble] {
        try Check.positive(k, "wavenumber")
        let d = r - rPrime
        guard (d * d).sum() > 0 else {
            throw ISACError.invalidParameter(name: "r − r′", value: "0", valid: "G is singular at r = r′; points must differ")
        }
        let (al, be, u) = dyadicGreenCoefficients(separation: d, wavenumber: k)
        var out = [CDouble](repeating: .zero, count: 9)
        for i in 0..<3 { for j in 0..<3 {
            out[3 * i + j] = CDouble(u[i] * u[j], 0) * be + (i == j ? al : .zero)
        } }
        return out
    }

    /// Small-dipole incident field (eq. 4) at `r` from a dipole of moment `p` (C·m) at `source`:
    ///
    ///     E = e^{−jk0R}/(4πε0) [ k0²/R (I − R̂R̂ᵀ) + (1/R³ + jk0/R²)(3R̂R̂ᵀ − I) ] p  = (k0²/ε0) G(r, r_src) p
    ///
    /// in V/m (see the type's note on the sign of the jk0/R² term). Returns the 3 Cartesian components.
    public static func dipoleField(at r: Point3, source: Point3, moment p: SIMD3<Double>, wavenumber k: Double,
                                   momentScale: Double = 1 / vacuumPermittivity) -> [CDouble] {
        let (al, be, u) = dyadicGreenCoefficients(separation: r - source, wavenumber: k)
        let up = (u * p).sum()
        let s = CDouble(k * k * momentScale, 0)
        return (0..<3).map { i in s * (al * CDouble(p[i], 0) + be * CDouble(u[i] * up, 0)) }
    }

    /// Complex contrast χ_k = ε_r − 1 − j σ/(ω_k ε0) (eq. 2), dimensionless. `relativePermittivity` may
    /// itself be complex (Im ≤ 0 is lossy in this convention); σ ≥ 0 in S/m; f > 0 in Hz.
    public static func contrast(relativePermittivity eps: CDouble, conductivity sigma: Double,
                                frequencyHz f: Double) throws -> CDouble {
        guard sigma.isFinite, sigma >= 0 else {
            throw ISACError.invalidParameter(name: "conductivity", value: "\(sigma)", valid: "must be finite and >= 0 S/m (a passive material)")
        }
        try Check.positive(f, "frequencyHz")
        guard eps.real.isFinite, eps.imaginary.isFinite, eps.imaginary <= 0 else {
            throw ISACError.invalidParameter(name: "relativePermittivity", value: "\(eps)",
                                             valid: "must be finite with Im ≤ 0 (e^{jωt} convention: loss is a negative imaginary part)")
        }
        return CDouble(eps.real - 1, eps.imaginary - sigma / (2 * Double.pi * f * vacuumPermittivity))
    }
}
