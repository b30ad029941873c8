import Foundation
import Linalg
import Estimation
import Numerics

extension AngleDistanceGrid {
    /// The dictionary of `dictionary(system:)` stored in single precision (complex64): every entry is
    /// the double-precision atom value exp(−j k_m r_n)/√(NM) rounded once to `Complex<Float>`.
    /// Half the memory (8·N·M·Q bytes; 0.56 GiB at the paper size) and half the traffic of the
    /// correlation GEMM. Shape [N·M × Q], column q = atom q. Used by `SinglePrecisionSOMP`, which
    /// verifies every pick in double precision, so the selected support does not depend on the rounding.
    public func dictionarySingle(system s: WidebandSystem) -> Matrix<CFloat> {
        let l = s.snapshotLength, q = points.count
        var b = Matrix<CFloat>(rows: l, cols: q)
        let scale = 1 / Double(l).squareRoot()
        let pts = points
        b.data.withUnsafeMutableBufferPointer { pb in
            let base = SendableMutablePointer(pb.baseAddress!)
            Self.concurrentAtomChunks(q) { atoms in
                let scratch = UnsafeMutablePointer<CDouble>.allocate(capacity: l)
                defer { scratch.deallocate() }
                for j in atoms {
                    let p = pts[j]
                    s.fillSpaceFrequency(scratch, distances: s.elementDistances(rangeMeters: p.rangeMeters, angleRad: p.angleRad),
                                         scale: scale)
                    let col = base.pointer + j * l
                    for i in 0..<l { col[i] = CFloat(Float(scratch[i].real), Float(scratch[i].imaginary)) }
                }
            }
        }
        return b
    }
}

/// Plain (or band-excluded) SOMP whose one big step — the correlation C = Bᴴ Y over the whole
/// dictionary — runs in single precision (one CGEMM on a complex64 dictionary), while every decision
/// and every returned number is made in double precision:
///
/// * the float correlation of atom j differs from the exact one by a K-vector of norm at most
///   ε = 4 γ_{L+2} ‖Y‖_F, γ_n = n u/(1 − n u), u = 2⁻²⁴ (rounding of B and Y to float, then the float
///   inner product of length L; ‖b_j‖ = 1; factor 4 covers complex arithmetic with margin);
/// * in each iteration the residual correlations Bᴴ R = C − (Bᴴ B_S) X_S are formed from the float C
///   and the exact closed-form Gram columns; every atom whose approximate residual-correlation norm
///   lies within 2ε of the largest one is a candidate, its exact correlation b_jᴴ Y is computed in
///   double from the exact atom (`atom`), and the pick is the exact argmax among the candidates (ties
///   to the lowest index, as in `SOMP.recover`);
/// * the per-iteration Gram-append and refit are `Estimation.SOMPSupportFit` (as in `SOMP.recover`), fed
///   with the exact double correlations of the support, and the final coefficients come from one QR
///   least-squares fit on the exact double atoms.
///
/// Hence the support equals that of double-precision SOMP (`SOMP.recover` on the complex128
/// dictionary) up to double rounding (ties closer than ~1e-13 relative), and the coefficients and
/// residual norm are those of the same final QR fit on the same atoms. Cost: one CGEMM (half the bytes
/// and ≈ 2× the rate of the ZGEMM) plus, per iteration, O(Q t K) and one exact atom per candidate.
public enum SinglePrecisionSOMP {
    /// Result: the support in pick order, the least-squares coefficients [|S| × K] (row i belongs to
    /// `support[i]`), the residual norm ‖Y − B_S X‖_F, and how many exact (double) candidate
    /// correlations were evaluated over all iterations.
    public struct Result: Sendable {
        /// Selected atom indices, in pick order.
        public var support: [Int]
        /// Coefficients X, row i for atom `support[i]`, from the exact double atoms.
        public var coefficients: Matrix<CDouble>
        /// Residual norm ‖Y − B_S X‖_F.
        public var residualNorm: Double
        /// Exact (double) candidate correlations evaluated over all iterations.
        public var verifiedCandidates: Int
        /// Row energies ‖x_i‖² of the coefficients.
        public var rowEnergies: [Double] {
            (0..<coefficients.rows).map { i in (0..<coefficients.cols).reduce(0.0) { $0 + coefficients[i, $1].absSquared } }
        }
    }

    /// Runs `sparsity` iterations.
    /// - Parameters:
    ///   - bf: complex64 dictionary [L × Q] (unit-norm atoms, e.g. `AngleDistanceGrid.dictionarySingle`).
    ///   - y: observations [L × K], double.
    ///   - sparsity: number of atoms, 1 ≤ sparsity ≤ min(L, Q).
    ///   - exclude: optional band exclusion (as in `SOMP.recover`); nil = plain SOMP.
    ///   - gramColumn: exact Bᴴ b_q ([Q], double) of the double-precision dictionary.
    ///   - atom: exact double-precision atom b_q ([L]); the value the complex128 dictionary holds.
    public static func recover(dictionary bf: Matrix<CFloat>, observations y: Matrix<CDouble>, sparsity: Int,
                               exclude: ((Int) -> [Int])? = nil, gramColumn: (Int) -> [CDouble],
                               atom: (Int) -> [CDouble]) throws -> Result {
        guard bf.rows == y.rows else {
            throw ISACError.shapeMismatch("SOMP: dictionary has \(bf.rows) rows, observations \(y.rows)")
        }
        try Check.inRange(sparsity, 1, Swift.max(1, Swift.min(bf.rows, bf.cols)), "sparsity (number of targets)")
        guard y.isFinite else { throw ISACError.nonFinite(name: "SOMP observations") }
        let l = bf.rows, q = bf.cols, k = y.cols
        // Approximate C = Bᴴ Y in single precision, promoted to double.
        let yf = Matrix<CFloat>(rows: l, cols: k) { i, kk in
            let v = y.data[i + kk * l]; return CFloat(Float(v.real), Float(v.imaginary))
        }
        var cf = Matrix<CFloat>(rows: q, cols: k)
        Matrix.gemm(.conjugateTranspose, bf, .none, yf, into: &cf)
        var c0 = Matrix<CDouble>(rows: q, cols: k)
        for i in 0..<(q * k) { c0.data[i] = CDouble(Double(cf.data[i].real), Double(cf.data[i].imaginary)) }
        let u = Double(Float.ulpOfOne) / 2, nu = Double(l + 2) * u
        let eps = 4 * nu / (1 - nu) * y.frobeniusNorm
        var exact: [Int: [CDouble]] = [:]             // exact double b_jᴴ Y rows, by atom
        var verified = 0
        var fit = SOMPSupportFit<CDouble>(atoms: q, snapshots: k)
        var chosen = [Bool](repeating: false, count: q)
        var excluded = [Bool](repeating: false, count: q)
        for it in 0..<sparsity {
            // G X ([Q × K]) and the approximate residual correlations C − G X.
            var gx = Matrix<CDouble>(rows: q, cols: k)
            if !fit.support.isEmpty { Matrix.gemm(.none, fit.gram, .none, fit.coefficients, into: &gx) }
            var norms = [Double](repeating: -1, count: q)
            var amax = -1.0
            for j in 0..<q where !chosen[j] && !excluded[j] {
                var e = 0.0
                for kk in 0..<k { e += (c0.data[j + kk * q] - gx.data[j + kk * q]).absSquared }
                norms[j] = e.squareRoot()
                amax = Swift.max(amax, norms[j])
            }
            guard amax >= 0 else {
                throw ISACError.invalidParameter(name: "sparsity (number of targets)", value: "\(sparsity)",
                                                 valid: "band exclusion left no atom to pick after \(fit.support.count) picks")
            }
            let cands = (0..<q).filter { norms[$0] >= 0 && norms[$0] >= amax - 2 * eps }
            // Exact double b_jᴴ Y for the candidates not seen before (one ZGEMM on their exact atoms).
            let need = cands.filter { exact[$0] == nil }
            if !need.isEmpty {
                var a = Matrix<CDouble>(rows: l, cols: need.count)
                for (c, j) in need.enumerated() { a.data.replaceSubrange(c * l..<(c + 1) * l, with: atom(j)) }
                var cj = Matrix<CDouble>(rows: need.count, cols: k)
                Matrix.gemm(.conjugateTranspose, a, .none, y, into: &cj)
                for (c, j) in need.enumerated() { exact[j] = (0..<k).map { cj.data[c + $0 * need.count] } }
                verified += need.count
            }
            var best = -1, bestE = -Double.infinity
            for j in cands {
                let row = exact[j]!
                var e = 0.0
                for kk in 0..<k { e += (row[kk] - gx.data[j + kk * q]).absSquared }
                if e > bestE { bestE = e; best = j }
            }
            chosen[best] = true
            if let exclude { for j in exclude(best) where j >= 0 && j < q { excluded[j] = true } }
            if it == sparsity - 1 {
                fit.appendFinal(best)                 // no residual follows: no Gram column, no refit
            } else {
                let ex = exact
                try fit.append(best, gramColumn: gramColumn(best)) { i, kk in ex[i]![kk] }
            }
        }
        let support = fit.support
        // Final coefficients: QR least squares on the exact double atoms (as `SOMP.recover`).
        var bs = Matrix<CDouble>(rows: l, cols: support.count)
        for (c, j) in support.enumerated() { bs.data.replaceSubrange(c * l..<(c + 1) * l, with: atom(j)) }
        let x = try bs.leastSquares(y)
        var resid = y
        Matrix.gemm(.none, bs, .none, x, alpha: CDouble(-1, 0), beta: .one, into: &resid)
        return Result(support: support, coefficients: x, residualNorm: resid.frobeniusNorm, verifiedCandidates: verified)
    }
}
