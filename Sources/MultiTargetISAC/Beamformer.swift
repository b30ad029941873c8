import Foundation
import Linalg
import Numerics

/// Baseline ISAC transmitter: LS beampattern synthesis (paper eqs. 6–7) and the multi-beam (eq. 5).
public enum Beamformer {
    /// Desired beampattern b (eq. 6): [b]_i = K if θ_i ∈ interval else 0, shape [N_θ].
    public static func desiredPattern(gridAnglesRad: [Double], interval: AngularSector, antennas k: Int) -> [CDouble] {
        gridAnglesRad.map { interval.contains($0) ? CDouble(Double(k), 0) : .zero }
    }

    /// LS beampattern synthesis: f_bs = argmin_f ‖b − Aᵀ f‖² = (A* Aᵀ)⁻¹ A* b (eq. 7).
    ///
    /// - Parameters:
    ///   - steering: A = [a(θ_1) … a(θ_N)], shape [K × N_θ] with N_θ ≥ K (the *assumed* steering:
    ///     nominal for the mismatched baseline, perturbed for the genie or a learned one).
    ///   - gridAnglesRad: θ_i, length N_θ, radians.
    ///   - interval: the angular sector to illuminate.
    ///   - normalize: scale to ‖f‖ = 1 (the power constraint is applied later in eq. 5).
    /// - Returns: f ∈ ℂ^K.
    public static func leastSquares(steering a: Matrix<CDouble>, gridAnglesRad: [Double], interval: AngularSector,
                                    normalize: Bool = true) throws -> [CDouble] {
        guard a.cols == gridAnglesRad.count else {
            throw ISACError.shapeMismatch("Beamformer.leastSquares: steering has \(a.cols) columns, grid has \(gridAnglesRad.count) angles")
        }
        guard a.cols >= a.rows else {
            throw ISACError.invalidParameter(name: "--n-theta", value: "\(a.cols)", valid: "must be >= the number of antennas (\(a.rows)) for the LS beamformer")
        }
        let b = desiredPattern(gridAnglesRad: gridAnglesRad, interval: interval, antennas: a.rows)
        guard b.contains(where: { $0 != .zero }) else {
            throw ISACError.invalidParameter(name: "sector", value: "[\(degrees(interval.lowerRad))°, \(degrees(interval.upperRad))°]",
                                             valid: "must contain at least one angle-grid point (widen it or raise --n-theta)")
        }
        // Aᵀ (N_θ × K) is tall: QR-based LS is the numerically safe form of (A* Aᵀ)⁻¹ A* b.
        let x = try a.transposed.leastSquares(Matrix(rows: b.count, cols: 1, data: b))
        var f = x.data
        if normalize {
            let n = norm2(f)
            guard n > 0 else { throw ISACError.nonFinite(name: "LS beamformer (zero solution)") }
            f = f.map { $0 / CDouble(n, 0) }
        }
        return f
    }

    /// ISAC multi-beam (eq. 5): f(η, φ) = √P (√η f_r + √(1−η) e^{jφ} f_c) / ‖√η f_r + √(1−η) e^{jφ} f_c‖.
    ///
    /// - Parameters: η ∈ [0, 1] (`--eta`), φ ∈ [0, 2π) (`--phi`, any finite value is accepted and wraps),
    ///   P > 0; f_r, f_c ∈ ℂ^K.
    public static func isac(sensing fr: [CDouble], communication fc: [CDouble], eta: Double, phi: Double,
                            power: Double = 1) throws -> [CDouble] {
        try Check.inRange(eta, 0, 1, "--eta")
        try Check.finite(phi, "--phi")
        try Check.positive(power, "--power")
        guard fr.count == fc.count else { throw ISACError.shapeMismatch("isac beam: f_r has \(fr.count), f_c has \(fc.count) entries") }
        let ph = CDouble(Double.cos(phi), Double.sin(phi)) * CDouble((1 - eta).squareRoot(), 0)
        let se = CDouble(eta.squareRoot(), 0)
        var f = zip(fr, fc).map { se * $0 + ph * $1 }
        let n = norm2(f)
        guard n > 0 else { throw ISACError.nonFinite(name: "ISAC beam (f_r and f_c cancel)") }
        let s = CDouble(power.squareRoot() / n, 0)
        f = f.map { s * $0 }
        return f
    }

    /// Beampattern |a(θ)ᵀ f|² on the columns of `steering` ([K × N]), length N (linear power).
    public static func pattern(steering a: Matrix<CDouble>, precoder f: [CDouble]) -> [Double] {
        a.apply(f, .transpose).map { $0.lengthSquared }
    }
}
