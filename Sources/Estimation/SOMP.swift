import Linalg
import Numerics

/// Result of simultaneous orthogonal matching pursuit.
public struct SOMPResult<T: BLASScalar>: Sendable {
    /// Selected dictionary columns, in the order they were picked (length = sparsity).
    public var support: [Int]
    /// Least-squares coefficients on the support, shape [|S| × K] (row i belongs to `support[i]`).
    public var coefficients: Matrix<T>
    /// Frobenius norm of the final residual ‖Y − B_S X‖_F.
    public var residualNorm: T.RealPart
    /// Row energies ‖x_i‖² of `coefficients` (the "average coefficient magnitude" of a sparse plot, squared).
    public var rowEnergies: [T.RealPart] {
        (0..<coefficients.rows).map { i in (0..<coefficients.cols).reduce(T.RealPart(0)) { $0 + coefficients[i, $1].absSquared } }
    }
}

/// Simultaneous orthogonal matching pursuit (SOMP, Tropp–Gilbert–Strauss 2006) for the
/// multiple-measurement-vector model Y = B X + W with a row-sparse X.
///
/// Iteration t picks the atom q maximizing the correlation energy Σ_k |b_qᴴ r_k|² of the current
/// residual R = Y − B_S X_S, then refits X_S = argmin ‖Y − B_S X‖_F by least squares.
///
/// Cost: the full correlation C = Bᴴ Y ([Q × K], one GEMM) is formed once. Afterwards
/// Bᴴ R = C − (Bᴴ B_S) X_S, Bᴴ B_S grows by one GEMV per iteration (or a caller-supplied closed
/// form), and the per-iteration refit solves the t × t normal equations (B_Sᴴ B_S) X = C_S, so each
/// iteration costs O(L Q) (O(Q K) with a closed-form Gram) instead of O(L Q K) (L = rows of B).
/// The returned coefficients come from one final QR least-squares fit on the support.
public enum SOMP {
    /// Runs SOMP for `sparsity` iterations.
    ///
    /// - Parameters:
    ///   - dictionary: B, [L × Q], one atom per column (atoms are assumed unit-norm; if not, the
    ///     selection rule is the unnormalized correlation energy).
    ///   - observations: Y, [L × K] (K snapshots / measurement vectors).
    ///   - sparsity: number of atoms to select, 1 ≤ sparsity ≤ min(L, Q).
    /// - Returns: support (column indices of B), coefficients [sparsity × K], residual norm.
    ///   - exclude: optional band exclusion (Fannjiang & Liao 2012, "band-excluded OMP"): after atom
    ///     q is picked, the atoms `exclude(q)` can no longer be picked. For a highly coherent
    ///     dictionary (neighbouring grid points of a continuous parameter) this stops SOMP from
    ///     spending later picks on the residual of an off-grid source. nil = plain SOMP.
    ///   - gramColumn: optional closed form of Bᴴ b_q ([Q], entry j = b_jᴴ b_q) for structured
    ///     dictionaries; saves one pass over B per iteration (a GEMV over the whole dictionary).
    ///     nil = computed from B.
    public static func recover<T: BLASScalar>(dictionary b: Matrix<T>, observations y: Matrix<T>,
                                             sparsity: Int, exclude: ((Int) -> [Int])? = nil,
                                             gramColumn: ((Int) -> [T])? = nil) throws -> SOMPResult<T> {
        guard b.rows == y.rows else {
            throw ISACError.shapeMismatch("SOMP: dictionary has \(b.rows) rows, observations \(y.rows)")
        }
        try Check.inRange(sparsity, 1, Swift.max(1, Swift.min(b.rows, b.cols)), "sparsity (number of targets)")
        guard b.cols >= sparsity else {
            throw ISACError.invalidParameter(name: "sparsity (number of targets)", value: "\(sparsity)",
                                             valid: "must not exceed the dictionary size \(b.cols)")
        }
        let q = b.cols, k = y.cols
        // C = Bᴴ Y, [Q × K].
        var corr0 = Matrix<T>(rows: q, cols: k)
        Matrix.gemm(.conjugateTranspose, b, .none, y, into: &corr0)
        var gram = Matrix<T>(rows: q, cols: 0)      // Bᴴ B_S, grows one column per pick
        var support: [Int] = []
        var x = Matrix<T>(rows: 0, cols: k)
        var chosen = [Bool](repeating: false, count: q)
        var excluded = [Bool](repeating: false, count: q)
        for _ in 0..<sparsity {
            // Current correlation Bᴴ R = C − (Bᴴ B_S) X.
            var corr = corr0
            if !support.isEmpty {
                Matrix.gemm(.none, gram, .none, x, alpha: T.zero - T.one, beta: T.one, into: &corr)
            }
            var best = -1
            var bestE = -T.RealPart.infinity
            for j in 0..<q where !chosen[j] && !excluded[j] {
                var e = T.RealPart(0)
                for kk in 0..<k { e += corr.data[j + kk * q].absSquared }
                if e > bestE { bestE = e; best = j }
            }
            guard best >= 0 else {
                throw ISACError.invalidParameter(name: "sparsity (number of targets)", value: "\(sparsity)",
                                                 valid: "band exclusion left no atom to pick after \(support.count) picks")
            }
            chosen[best] = true
            if let exclude { for j in exclude(best) where j >= 0 && j < q { excluded[j] = true } }
            support.append(best)
            // Append Bᴴ b_best to the Gram block.
            let g = gramColumn?(best) ?? b.apply(b.column(best), .conjugateTranspose)
            guard g.count == q else {
                throw ISACError.shapeMismatch("SOMP: gramColumn returned \(g.count) values, expected \(q)")
            }
            var ng = Matrix<T>(rows: q, cols: gram.cols + 1)
            ng.data.replaceSubrange(0..<gram.data.count, with: gram.data)
            ng.data.replaceSubrange(gram.data.count..<ng.data.count, with: g)
            gram = ng
            // LS refit from the normal equations (B_Sᴴ B_S) X = B_Sᴴ Y: both blocks are rows of the
            // Gram block and of C, so the refit is O(t²K) instead of a QR of the L × t atoms.
            let t = support.count
            let gs = Matrix<T>(rows: t, cols: t) { i, j in gram.data[support[i] + j * q] }
            let cs = Matrix<T>(rows: t, cols: k) { i, kk in corr0.data[support[i] + kk * q] }
            x = try gs.solve(cs)
        }
        // Final coefficients by QR least squares on the chosen atoms (accurate even for coherent atoms).
        let bs = b.columns(support)
        x = try bs.leastSquares(y)
        var resid = y
        Matrix.gemm(.none, bs, .none, x, alpha: T.zero - T.one, beta: T.one, into: &resid)
        return SOMPResult(support: support, coefficients: x, residualNorm: resid.frobeniusNorm)
    }
}
