import Linalg
import Numerics

/// Cramér–Rao bounds for the deterministic ("conditional") model with unknown complex gains
/// (Stoica & Nehorai 1989):
///
///     Y = A(η) X + W,   Y, W ∈ ℂ^{L×K},  A = [a_1(η_1) … a_P(η_P)] ∈ ℂ^{L×P},  X ∈ ℂ^{P×K} unknown,
///     vec W ~ CN(0, σ² I).
///
/// Source p has D real parameters η_p (e.g. range and angle). The unknowns are η (P·D reals) and
/// Re X, Im X (2PK reals). The Fisher information of a circular Gaussian with parameter-dependent
/// mean μ(φ) = vec(A X) is F = (2/σ²) Re{JᴴJ}, J = ∂μ/∂φᵀ (`gaussianMeanFisher`). Eliminating the
/// gains (Schur complement of the X block) leaves the information on η alone:
///
///     F_η[(p,d),(q,e)] = (2/σ²) Re{ (∂a_p/∂η_{p,d})ᴴ P⊥_A (∂a_q/∂η_{q,e}) · Σ_k x̄_{p,k} x_{q,k} },
///
/// P⊥_A = I − A(AᴴA)⁻¹Aᴴ, and CRB(η) = F_η⁻¹ (`bound`), a lower bound on the covariance of any
/// unbiased estimator of η when X is unknown.
public enum DeterministicCRB {
    /// F_η, [PD × PD] (row/column (p, d) at index p·D + d).
    /// - Parameters:
    ///   - steering: A, [L × P].
    ///   - derivatives: P matrices [L × D]: column d of entry p is ∂a_p/∂η_{p,d}.
    ///   - gains: X, [P × K].
    ///   - noiseVariance: σ² > 0 per complex entry.
    public static func fisherInformation(steering a: Matrix<CDouble>, derivatives: [Matrix<CDouble>],
                                         gains x: Matrix<CDouble>, noiseVariance: Double) throws -> Matrix<Double> {
        let l = a.rows, p = a.cols
        guard derivatives.count == p, x.rows == p, let d = derivatives.first?.cols, d > 0,
              derivatives.allSatisfy({ $0.rows == l && $0.cols == d }) else {
            throw ISACError.shapeMismatch("CRB: A is \(l)×\(p), gains \(x.rows)×\(x.cols), derivatives \(derivatives.map { "\($0.rows)×\($0.cols)" })")
        }
        try Check.positive(noiseVariance, "noise variance")
        // G = [∂a_1/∂η_1 … ∂a_P/∂η_P], [L × PD].
        var g = Matrix<CDouble>(rows: l, cols: p * d)
        for (pi, dm) in derivatives.enumerated() {
            g.data.replaceSubrange(pi * d * l..<(pi + 1) * d * l, with: dm.data)
        }
        // H = Gᴴ P⊥ G = GᴴG − (GᴴA)(AᴴA)⁻¹(AᴴG).
        var h = Matrix.matmul(g, g, transA: .conjugateTranspose)
        let aha = Matrix.matmul(a, a, transA: .conjugateTranspose)
        let ahg = Matrix.matmul(a, g, transA: .conjugateTranspose)
        let sol = try aha.solve(ahg)                                 // (AᴴA)⁻¹ AᴴG, [P × PD]
        Matrix.gemm(.conjugateTranspose, ahg, .none, sol, alpha: CDouble(-1, 0), beta: .one, into: &h)
        // R[p, q] = Σ_k x̄_{p,k} x_{q,k}.
        let xxh = Matrix.matmul(x, x, transB: .conjugateTranspose)   // (XXᴴ)[p,q] = Σ_k x_{p,k} x̄_{q,k}
        let n = p * d
        let c = 2 / noiseVariance
        return Matrix<Double>(rows: n, cols: n) { i, j in
            let r = xxh[j / d, i / d]                                // Σ_k x̄_{p(i),k} x_{p(j),k}
            return c * (h[i, j] * r).real
        }
    }

    /// CRB(η) = F_η⁻¹, [PD × PD] (same arguments as `fisherInformation`). Throws when F_η is singular
    /// (unidentifiable parameters, e.g. two sources at the same point).
    public static func bound(steering a: Matrix<CDouble>, derivatives: [Matrix<CDouble>],
                             gains x: Matrix<CDouble>, noiseVariance: Double) throws -> Matrix<Double> {
        let f = try fisherInformation(steering: a, derivatives: derivatives, gains: x, noiseVariance: noiseVariance)
        return try f.solve(Matrix<Double>.identity(f.rows))
    }

    /// Fisher information of real parameters φ of a circular complex Gaussian vector with mean μ(φ)
    /// and covariance σ² I: F = (2/σ²) Re{JᴴJ}.
    /// - Parameters: jacobian J = ∂μ/∂φᵀ, [n_μ × n_φ]; noiseVariance σ² > 0.
    /// - Returns: [n_φ × n_φ].
    public static func gaussianMeanFisher(jacobian j: Matrix<CDouble>, noiseVariance: Double) throws -> Matrix<Double> {
        try Check.positive(noiseVariance, "noise variance")
        let jj = Matrix.matmul(j, j, transA: .conjugateTranspose)
        let c = 2 / noiseVariance
        return Matrix<Double>(rows: jj.rows, cols: jj.cols) { a, b in c * jj[a, b].real }
    }
}
