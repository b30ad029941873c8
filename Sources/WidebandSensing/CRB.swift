import Foundation
import Linalg
import Estimation
import Numerics

/// Cramér–Rao bound of target range and angle for the exact WB-NF model (eqs. 1, 6, 9) with
/// unknown complex gains (deterministic model, `DeterministicCRB`).
///
/// Mean of the data: Y = Σ_p a(r_p, θ_p) x_pᵀ, a[n + mN] = exp(−j k_m r_n(r, θ)), x_p = β_p s_p
/// the per-snapshot complex amplitudes ([K]). Jacobian of the atom (eq. 1 distances):
///
///     ∂a/∂r = −j k_m (∂r_n/∂r) a,   ∂r_n/∂r = (r − δ_n d cos θ)/r_n,
///     ∂a/∂θ = −j k_m (∂r_n/∂θ) a,   ∂r_n/∂θ = r δ_n d sin θ / r_n.
///
/// SNR convention (the same as `WidebandSystem.simulate`): |x_{p,k}| = 1 (unit gain, unit-modulus
/// pilots), σ² = 10^(−SNR/10), so SNR is per antenna, per subcarrier and per snapshot; the
/// array-and-band processing gain 10·log10(NMK) comes on top.
public enum WidebandCRB {
    /// Per-target bound.
    public struct TargetBound: Sendable, Equatable {
        /// CRB of the range, m².
        public var rangeVariance: Double
        /// CRB of the angle θ, rad².
        public var angleVariance: Double
        /// Cross term, m·rad.
        public var covariance: Double
        /// Bound on E‖x̂ − x‖² of the Cartesian position, m²: CRB_rr + r² CRB_θθ (the r and θ
        /// directions are orthogonal, so the cross term drops out of the trace).
        public var positionVariance: Double
    }

    /// ∂a/∂r and ∂a/∂θ of the unit-modulus WB-NF atom, as an [NM × 2] matrix, and the atom itself.
    public static func jacobian(system s: WidebandSystem, target t: PolarTarget) -> (atom: [CDouble], derivatives: Matrix<CDouble>) {
        let n = s.antennas, m = s.subcarriers
        let a = s.nearFieldWideband(rangeMeters: t.rangeMeters, angleRad: t.angleRad)
        let r = t.rangeMeters, c = Double.cos(t.angleRad), sn = Double.sin(t.angleRad)
        let offs = s.elementOffsetsMeters
        let rn = s.elementDistances(rangeMeters: r, angleRad: t.angleRad)
        let ks = s.wavenumbers
        var d = Matrix<CDouble>(rows: n * m, cols: 2)
        for mi in 0..<m {
            for i in 0..<n {
                let idx = i + mi * n
                let drr = (r - offs[i] * c) / rn[i], drt = r * offs[i] * sn / rn[i]
                let mj = CDouble(0, -ks[mi]) * a[idx]          // −j k_m a
                d.data[idx] = mj * CDouble(drr, 0)
                d.data[idx + n * m] = mj * CDouble(drt, 0)
            }
        }
        return (a, d)
    }

    /// CRB of (r_p, θ_p) for every target, [P × 2 × 2] flattened into `TargetBound`s.
    /// - Parameters: targets (P ≥ 1, distinct); gains X [P × K] (x_{p,k} = β_p s_{p,k});
    ///   noiseVariance σ² > 0.
    public static func bound(system s: WidebandSystem, targets: [PolarTarget], gains x: Matrix<CDouble>,
                             noiseVariance: Double) throws -> [TargetBound] {
        try Check.positive(targets.count, "--targets")
        for t in targets { try Check.positive(t.rangeMeters, "target range (m)") }
        guard x.rows == targets.count else {
            throw ISACError.shapeMismatch("CRB: gains have \(x.rows) rows for \(targets.count) targets")
        }
        var a = Matrix<CDouble>(rows: s.snapshotLength, cols: targets.count)
        var ds: [Matrix<CDouble>] = []
        for (p, t) in targets.enumerated() {
            let (atom, d) = jacobian(system: s, target: t)
            a.setColumn(p, atom)
            ds.append(d)
        }
        let c = try DeterministicCRB.bound(steering: a, derivatives: ds, gains: x, noiseVariance: noiseVariance)
        return targets.enumerated().map { p, t in
            let rr = c[2 * p, 2 * p], tt = c[2 * p + 1, 2 * p + 1], rt = c[2 * p, 2 * p + 1]
            return TargetBound(rangeVariance: rr, angleVariance: tt, covariance: rt,
                               positionVariance: rr + t.rangeMeters * t.rangeMeters * tt)
        }
    }

    /// Single target with |x_k| = 1 on all K snapshots at per-entry SNR `snrDb` (the convention of
    /// `WidebandSystem.simulate`). For one target the bound does not depend on the gain phases.
    public static func singleTarget(system s: WidebandSystem, target t: PolarTarget, snapshots k: Int, snrDb: Double) throws -> TargetBound {
        try Check.positive(k, "--snapshots")
        try Check.finite(snrDb, "--snr-db")
        let x = Matrix<CDouble>(rows: 1, cols: k, repeating: .one)
        return try bound(system: s, targets: [t], gains: x, noiseVariance: Foundation.pow(10, -snrDb / 10))[0]
    }

    /// Far-field closed form of the single-target bound (r → ∞, planar wavefront, delay-only range):
    /// with E = Σ_k |x_k|², k̄ = mean k_m and centred elements (Σ_n δ_n = 0) the Fisher matrix is
    /// diagonal and
    ///
    ///     CRB(r) = σ² / (2 E N Σ_m (k_m − k̄)²),   CRB(θ) = σ² / (2 E sin²θ Σ_m k_m² Σ_n (δ_n d)²).
    public static func farFieldBound(system s: WidebandSystem, angleRad th: Double, snapshotEnergy e: Double,
                                     noiseVariance: Double) -> (rangeVariance: Double, angleVariance: Double) {
        let ks = s.wavenumbers
        let kbar = ks.reduce(0, +) / Double(ks.count)
        let varK = ks.reduce(0) { $0 + ($1 - kbar) * ($1 - kbar) }
        let k2 = ks.reduce(0) { $0 + $1 * $1 }
        let x2 = s.elementOffsetsMeters.reduce(0) { $0 + $1 * $1 }
        let sn = Double.sin(th)
        return (noiseVariance / (2 * e * Double(s.antennas) * varK), noiseVariance / (2 * e * sn * sn * k2 * x2))
    }
}
