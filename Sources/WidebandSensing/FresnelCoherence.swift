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

    /// Smallest Δ accepted by `threshold(delta:)`. Below it ζ_Δ ≈ 1/(√2 Δ) exceeds 7·10⁴, the
    /// bracket of the first crossing holds ≳ 10⁶ oscillations of |F| (each must be resolved) and
    /// the ring scale G_Δ ∝ 1/ζ² is far below any physical grid step.
    public static let minimumDelta = 1e-5

    /// ζ_Δ: the first ζ > 0 where |F(ζ)| falls to Δ (the paper: ζ_0.5 ≈ 1.55, ζ_0.1 ≈ 6.62,
    /// ζ_0.01 ≈ 70.22; the exact first crossings are 1.5562, 6.5909, 70.280).
    ///
    /// Root finding on a rigorous bracket. With E(ζ) = ∫_ζ^∞ e^{jπt²/2} dt, |E| ≤ 1/(πζ)
    /// (integration by parts), so (1/√2 − 1/(πζ))/ζ ≤ |F(ζ)| ≤ (1/√2 + 1/(πζ))/ζ: no crossing
    /// before ζ_a (lower envelope = Δ) and |F| < Δ beyond ζ_b (upper envelope = Δ). |F| oscillates
    /// with local period ≈ 2/ζ (the phase πζ²/2), so [ζ_a, ζ_b] is sampled with step
    /// min(0.01, 0.05/ζ) (≥ 40 samples per period); every sampled local minimum above Δ is polished
    /// by golden-section search (so a dip narrower than the step is not missed), and the first
    /// bracketed sign change of |F| − Δ is bisected to 1e-12 relative.
    /// - Parameter delta: Δ ∈ [`minimumDelta`, 1) (`--delta`).
    public static func threshold(delta: Double) throws -> Double {
        try Check.inOpenRange(delta, 0, 1, "--delta")
        guard delta >= minimumDelta else {
            throw ISACError.invalidParameter(name: "--delta", value: "\(delta)",
                valid: "must lie in [\(minimumDelta), 1): ζ_Δ ≈ 1/(√2 Δ) would exceed \(Int(1 / (2.0.squareRoot() * minimumDelta))) (grid ring scale G_Δ ∝ 1/ζ_Δ² below 1e-9 m)")
        }
        let invSqrt2 = 1 / 2.0.squareRoot()
        // Envelope roots (both envelopes are decreasing for ζ > 2√2/π ≈ 0.9).
        func envelopeRoot(_ sign: Double) -> Double {
            var lo = 0.9, hi = Swift.max(2.0, 2 / delta)
            for _ in 0..<200 {
                let mid = (lo + hi) / 2
                if (invSqrt2 + sign / (Double.pi * mid)) / mid > delta { lo = mid } else { hi = mid }
                if hi - lo <= 1e-13 * hi { break }
            }
            return hi
        }
        // The lower envelope only bounds |F| from below usefully beyond its maximum at ζ = 2√2/π ≈ 0.9
        // (value 0.39): the scan covers [0, 0.9] fully and then jumps to ζ_a.
        let za = delta < 0.35 ? envelopeRoot(-1) * (1 - 1e-12) : 0
        let zb = envelopeRoot(1) * (1 + 1e-12)
        func g(_ z: Double) -> Double { magnitude(z) - delta }
        func bisect(_ a0: Double, _ b0: Double) -> Double {
            var a = a0, b = b0                        // g(a) > 0 ≥ g(b)
            for _ in 0..<200 {
                let m = (a + b) / 2
                if g(m) > 0 { a = m } else { b = m }
                if b - a <= 1e-12 * b { break }
            }
            return (a + b) / 2
        }
        // First crossing on [from, to], or nil if |F| > Δ on every sample and every polished local minimum.
        func scan(from: Double, to: Double) -> Double? {
            var z0 = from, g0 = g(from)
            var zPrev = z0, gPrev = g0 + 1              // no local-minimum test at the first sample
            while z0 < to {
                let z1 = Swift.min(to, z0 + Swift.min(0.01, 0.05 / Swift.max(z0, 1e-3)))
                let g1 = g(z1)
                if g1 <= 0 { return bisect(z0, z1) }
                if g0 < gPrev && g0 <= g1 {
                    // Sampled local minimum at z0: golden-section search for the true minimum on [zPrev, z1].
                    var a = zPrev, b = z1
                    let r = (5.0.squareRoot() - 1) / 2
                    var c = b - r * (b - a), d = a + r * (b - a)
                    var gc = g(c), gd = g(d)
                    for _ in 0..<100 {
                        if gc <= 0 || gd <= 0 || b - a <= 1e-14 * b { break }
                        if gc < gd { b = d; d = c; gd = gc; c = b - r * (b - a); gc = g(c) }
                        else { a = c; c = d; gc = gd; d = a + r * (b - a); gd = g(d) }
                    }
                    // g(zPrev) > 0 ≥ g(zm): the first crossing is the one of the decreasing branch in [zPrev, zm].
                    let zm: Double? = gc <= 0 ? c : (gd <= 0 ? d : nil)
                    if let zm { return bisect(zPrev, zm) }
                }
                zPrev = z0; gPrev = g0; z0 = z1; g0 = g1
            }
            return nil
        }
        if let z = scan(from: 0, to: Swift.min(0.9, zb)) { return z }
        if zb > 0.9, let z = scan(from: Swift.max(0.9, za), to: zb) { return z }
        return zb                                      // |F(ζ_b)| < Δ by the envelope bound; not reached in practice
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
