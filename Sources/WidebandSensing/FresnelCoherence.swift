import Foundation
import Linalg

/// Fresnel-based column coherence of two same-angle atoms (paper eqs. 21–25).
///
/// For atoms on one angular ray α at inverse distances 1/r_i, 1/r_j the spatial coherence is
/// |F(x)| = |(1/N) Σ_{n'=−N'}^{N'} e^{jπ n'² x}|, x = d²(1−α²)/λ_c · (1/r_i − 1/r_j).
/// Replacing the sum by an integral and substituting κ = n'√(2|x|) gives
///
///     |F(ζ)| = √(C(ζ)² + S(ζ)²) / ζ,   ζ = N'√(2|x|)   (N ≈ 2N'),
///
/// with C, S the Fresnel integrals in the π/2 convention (C(z) = ∫₀^z cos(πt²/2) dt). The paper's
/// U, V (eq. 23) are these C, S. |F| → 1 as ζ → 0 and decays like 1/(√2 ζ).
public enum FresnelCoherence {
    /// |F(ζ)| for ζ ≥ 0 (|F(0)| = 1).
    public static func magnitude(_ zeta: Double) -> Double {
        let z = abs(zeta)
        if z < 1e-8 { return 1 }
        let (c, s) = Special.fresnel(z)
        return (c * c + s * s).squareRoot() / z
    }

    /// ζ_Δ: the first ζ > 0 where |F(ζ)| falls to Δ (the paper: ζ_0.5 ≈ 1.55, ζ_0.1 ≈ 6.62,
    /// ζ_0.01 ≈ 70.2). Found by a forward scan in steps of 0.01 followed by bisection to 1e-10.
    /// - Parameter delta: Δ ∈ (0, 1) (`--delta`).
    public static func threshold(delta: Double) throws -> Double {
        try Check.inOpenRange(delta, 0, 1, "--delta")
        var lo = 0.0, hi = 0.01
        // |F| ≥ 1/(√2·ζ)·(1 − O(1/ζ)) on average, so the first crossing is below ~1/Δ + 10.
        let limit = 2 / delta + 50
        while magnitude(hi) > delta {
            lo = hi; hi += 0.01
            if hi > limit { throw ISACError.invalidParameter(name: "--delta", value: "\(delta)", valid: "too small: no crossing below ζ = \(limit)") }
        }
        for _ in 0..<80 {
            let mid = (lo + hi) / 2
            if magnitude(mid) > delta { lo = mid } else { hi = mid }
            if hi - lo < 1e-10 { break }
        }
        return (lo + hi) / 2
    }

    /// G_Δ = D²/(2 ζ_Δ² λ_c), m (eq. 26): same-angle atoms are Fresnel-orthogonal (|F| ≤ Δ) when
    /// |1/r_i − 1/r_j| ≥ 1/(G_Δ (1 − α²)).
    public static func ringScale(system: WidebandSystem, zeta: Double) -> Double {
        let d = system.apertureMeters
        return d * d / (2 * zeta * zeta * system.wavelengthMeters)
    }

    /// The discrete coherence |(1/N) Σ_{n'} e^{jπ n'² x}| that |F(ζ)| approximates (x from ζ via
    /// ζ = N'√(2x), N = 2N'+1). Exposed so tests and figures can compare the two.
    public static func discreteMagnitude(zeta: Double, antennas n: Int) -> Double {
        let nh = Double((n - 1) / 2)
        let x = (zeta / nh) * (zeta / nh) / 2
        var re = 0.0, im = 0.0
        for i in -(n - 1) / 2...(n - 1) / 2 {
            let ph = Double.pi * Double(i * i) * x
            re += Double.cos(ph); im += Double.sin(ph)
        }
        return (re * re + im * im).squareRoot() / Double(n)
    }
}
