import Foundation
import Linalg
import Numerics

/// Correlation functions that isolate the wideband and near-field effects (paper Sec. IV) and the
/// region boundaries derived from them. All use the exact element distances (eq. 1); the
/// paper's Dirichlet-kernel forms (eqs. 33, 44) are the Fresnel approximations of the same sums.
public enum RegionBoundary {
    /// g₁(r, θ) = |a_WBᴴ a_NB| / (N M) (eq. 31): correlation between the WB-NF vector
    /// exp(−j k_m r_n) and its narrowband reference exp(−j k_c r_n) repeated on every subcarrier.
    /// The sum over m is the Dirichlet kernel, summed in closed form: Σ_m e^{j mΔk r_n}.
    public static func g1(system s: WidebandSystem, rangeMeters r: Double, angleRad th: Double) -> Double {
        let dk = s.wavenumberStep, m = Double(s.subcarriers)
        var re = 0.0, im = 0.0
        for rn in s.elementDistances(rangeMeters: r, angleRad: th) {
            let (dre, dim) = geometricSum(phaseStep: dk * rn, count: m)
            re += dre; im += dim
        }
        return (re * re + im * im).squareRoot() / (Double(s.antennas) * m)
    }

    /// g₂(r, θ) = |a_NFᴴ a_FF| / (N M) (eq. 41): correlation between the WB-NF vector and the
    /// WB far-field (planar) vector exp(−j k_m (r − δ_n d cos θ)) over the same subcarriers.
    public static func g2(system s: WidebandSystem, rangeMeters r: Double, angleRad th: Double) -> Double {
        let k0 = s.carrierWavenumber, dk = s.wavenumberStep, m = Double(s.subcarriers)
        let c = Double.cos(th)
        let rn = s.elementDistances(rangeMeters: r, angleRad: th)
        var re = 0.0, im = 0.0
        for (i, x) in s.elementOffsetsMeters.enumerated() {
            let delta = rn[i] - (r - x * c)           // residual path difference, m
            let (dre, dim) = geometricSum(phaseStep: dk * delta, count: m)
            let p = k0 * delta
            let cr = Double.cos(p), ci = Double.sin(p)
            re += cr * dre - ci * dim; im += cr * dim + ci * dre
        }
        return (re * re + im * im).squareRoot() / (Double(s.antennas) * m)
    }

    /// Σ_{m=0}^{M−1} e^{j m φ} = e^{j(M−1)φ/2} sin(Mφ/2)/sin(φ/2), as (re, im).
    @inlinable
    static func geometricSum(phaseStep phi: Double, count m: Double) -> (Double, Double) {
        let half = phi / 2
        let den = Double.sin(half)
        let mag: Double = abs(den) < 1e-12 ? m : Double.sin(m * half) / den
        let ph = (m - 1) * half
        return (mag * Double.cos(ph), mag * Double.sin(ph))
    }

    /// r_NB-NF (eq. 35): the largest range r such that g₁(ρ, θ) ≥ ρ₀ holds on all of (0, r]
    /// (first crossing scanning outward; g₁ → 1 as r → 0).
    ///
    /// Scan: geometric steps of 0.5 % from `startMeters` to `maxMeters`, then bisection to 1e-6 relative.
    /// - Parameters: rho ∈ (0, 1) (`--rho`); angleRad in the field of view.
    /// - Returns: metres, or `maxMeters` if g₁ stays above ρ₀ up to it.
    public static func narrowbandNearField(system s: WidebandSystem, rho: Double, angleRad th: Double,
                                           startMeters: Double = 0.01, maxMeters: Double = 1e5) throws -> Double {
        try Check.inOpenRange(rho, 0, 1, "--rho")
        try FieldOfView.check(angleRad: th)
        let f = { (r: Double) in g1(system: s, rangeMeters: r, angleRad: th) }
        return try firstCrossing(f, rho: rho, from: startMeters, to: maxMeters, outward: true)
    }

    /// r_WB-FF (eq. 49): the smallest range r such that g₂ ≥ ρ₁ on all of [r, `maxMeters`]
    /// (first crossing scanning inward from far away, where g₂ → 1).
    /// - Parameters: rho ∈ (0, 1) (`--rho`); angleRad in the field of view.
    public static func widebandFarField(system s: WidebandSystem, rho: Double, angleRad th: Double,
                                        minMeters: Double = 0.01, maxMeters: Double = 1e5) throws -> Double {
        try Check.inOpenRange(rho, 0, 1, "--rho")
        try FieldOfView.check(angleRad: th)
        let f = { (r: Double) in g2(system: s, rangeMeters: r, angleRad: th) }
        return try firstCrossing(f, rho: rho, from: maxMeters, to: minMeters, outward: false)
    }

    /// First r along a geometric scan from `a` towards `b` where f(r) < ρ, refined by bisection;
    /// returns the last r with f ≥ ρ (to 1e-7 relative).
    static func firstCrossing(_ f: (Double) -> Double, rho: Double, from a: Double, to b: Double, outward: Bool) throws -> Double {
        let ratio = outward ? 1.005 : 1 / 1.005
        var good = a
        guard f(a) >= rho else { return a }
        while true {
            var next = good * ratio
            if outward ? next >= b : next <= b { next = b }
            if f(next) < rho {
                var ok = good, bad = next
                for _ in 0..<100 {
                    let mid = (ok + bad) / 2
                    if f(mid) >= rho { ok = mid } else { bad = mid }
                    if abs(bad - ok) <= 1e-7 * abs(ok) { break }
                }
                return ok
            }
            if next == b { return b }
            good = next
        }
    }
}
