internal import CKernels
import Foundation
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
/// Cost: the full correlation C = Bᴴ Y ([Q × K], one pass over B) is formed once. Afterwards
/// Bᴴ R = C − (Bᴴ B_S) X_S, Bᴴ B_S grows by one GEMV per iteration (or a caller-supplied closed
/// form), and the per-iteration refit solves the t × t normal equations (B_Sᴴ B_S) X = C_S, so each
/// iteration costs O(L Q) (O(Q K) with a closed-form Gram) instead of O(L Q K) (L = rows of B).
/// The Gram-append and refit are `SOMPSupportFit`; the last pick needs neither (no residual follows).
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
        // C = Bᴴ Y, [Q × K] (complex double: the streaming kernel on the interleaved storage, `adjointProduct`).
        let corr0: Matrix<T>
        if let bd = b as? Matrix<CDouble>, let yd = y as? Matrix<CDouble>, let c = adjointProduct(bd, yd) as? Matrix<T> {
            corr0 = c
        } else {
            var c = Matrix<T>(rows: q, cols: k)
            Matrix.gemm(.conjugateTranspose, b, .none, y, into: &c)
            corr0 = c
        }
        var fit = SOMPSupportFit<T>(atoms: q, snapshots: k)
        var chosen = [Bool](repeating: false, count: q)
        var excluded = [Bool](repeating: false, count: q)
        for it in 0..<sparsity {
            // Current correlation Bᴴ R = C − (Bᴴ B_S) X.
            var corr = corr0
            if !fit.support.isEmpty {
                Matrix.gemm(.none, fit.gram, .none, fit.coefficients, alpha: T.zero - T.one, beta: T.one, into: &corr)
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
                                                 valid: "band exclusion left no atom to pick after \(fit.support.count) picks")
            }
            chosen[best] = true
            if let exclude { for j in exclude(best) where j >= 0 && j < q { excluded[j] = true } }
            if it == sparsity - 1 {
                // Last pick: its Gram column and refit would only feed a next iteration; the returned
                // coefficients come from the QR fit below.
                fit.appendFinal(best)
            } else {
                try fit.append(best, gramColumn: gramColumn?(best) ?? b.apply(b.column(best), .conjugateTranspose)) { i, kk in
                    corr0.data[i + kk * q]
                }
            }
        }
        let support = fit.support
        // Final coefficients by QR least squares on the chosen atoms (accurate even for coherent atoms).
        let bs = b.columns(support)
        let x = try bs.leastSquares(y)
        var resid = y
        Matrix.gemm(.none, bs, .none, x, alpha: T.zero - T.one, beta: T.one, into: &resid)
        return SOMPResult(support: support, coefficients: x, residualNorm: resid.frobeniusNorm)
    }
}

extension SOMP {
    /// C = Bᴴ Y for complex double B [L × Q] and Y [L × K], by a streaming kernel that reads B exactly once.
    ///
    /// B's interleaved storage is a real [2L × Q] matrix (rows re, im of each entry); C comes from the real
    /// product Bᵀ_real Ŷ with Ŷ [2L × 2K], row 2i = (Re y_i, Im y_i) and row 2i+1 = (Im y_i, −Re y_i):
    /// Re C = Σ (Re b Re y + Im b Im y), Im C = Σ (Re b Im y − Im b Re y). The product runs in
    /// `ck_tall_thin_tn` (Sources/CKernels): for this tall-thin shape (2L ≈ 65k rows, 2K ≈ 16 columns) a packed
    /// DGEMM spends ≈ 2/3 of its time copying B into panels (one more pass over B, 1.18 GiB in the wideband
    /// benchmark); the kernel instead keeps a row block of Ŷ in L2 and streams each atom's contiguous rows
    /// through register accumulators (AVX-512F / AVX2+FMA chosen at run time, portable C otherwise).
    /// Atoms are split over `threads` workers (disjoint output rows, so the result does not depend on it).
    /// The values equal the ZGEMM's up to the summation order (relative ≈ 1e-15 of Σ|b||y|).
    /// - Parameters: threads: workers (nil: `ThreadCount.count`).
    /// - Returns: [Q × K].
    public static func adjointProduct(_ b: Matrix<CDouble>, _ y: Matrix<CDouble>, threads: Int? = nil) -> Matrix<CDouble> {
        precondition(b.rows == y.rows, "adjointProduct: B has \(b.rows) rows, Y \(y.rows)")
        let l = b.rows, q = b.cols, k = y.cols
        guard l > 0, q > 0, k > 0 else { return Matrix<CDouble>(rows: q, cols: k) }
        // Ŷ row-major with its 2K columns padded to a multiple of 8 (one AVX-512 register per 8 columns).
        let npad = (2 * k + 7) / 8 * 8
        var yh = [Double](repeating: 0, count: 2 * l * npad)
        for kk in 0..<k {
            for i in 0..<l {
                let v = y.data[i + kk * l], re = 2 * i * npad, im = re + npad
                yh[re + kk] = v.real; yh[re + k + kk] = v.imaginary
                yh[im + kk] = v.imaginary; yh[im + k + kk] = -v.real
            }
        }
        var r = [Double](repeating: 0, count: q * npad)
        // Work items of whole 8-atom register blocks, one per worker.
        let workers = Swift.max(1, Swift.min(threads ?? adjointProductWorkers, (q + 7) / 8))
        let per = ((q + workers - 1) / workers + 7) / 8 * 8
        let items = (q + per - 1) / per
        b.data.withUnsafeBufferPointer { pb in
            pb.withMemoryRebound(to: Double.self) { bd in
                yh.withUnsafeBufferPointer { py in
                    r.withUnsafeMutableBufferPointer { pr in
                        let bs = SendableMutablePointer(mutating: bd.baseAddress!), ys = SendableMutablePointer(mutating: py.baseAddress!)
                        let out = SendableMutablePointer(pr)
                        let run: (Int) -> Void = { w in
                            let a0 = w * per, a1 = Swift.min(q, a0 + per)
                            ck_tall_thin_tn(bs.pointer + a0 * 2 * l, 2 * l, 2 * l, a1 - a0, ys.pointer, npad,
                                            out.pointer + a0 * npad)
                        }
                        if items == 1 { run(0) } else { parallelForEach(items, run) }
                    }
                }
            }
        }
        var c = Matrix<CDouble>(rows: q, cols: k)
        for kk in 0..<k { for j in 0..<q { c.data[j + kk * q] = CDouble(r[j * npad + kk], r[j * npad + k + kk]) } }
        return c
    }

    /// Default worker count of `adjointProduct`: the process-wide `ThreadCount.count` (`--threads`, `ISAC_THREADS`,
    /// `OMP_NUM_THREADS`, else the affinity mask).
    static var adjointProductWorkers: Int { ThreadCount.count }

    /// The previous path of `adjointProduct`, kept as an independent reference and for benchmarks: one real
    /// DGEMM on B's interleaved storage, Bᵀ_real [Ŷ_re Ŷ_im] (column-major Ŷ [2L × 2K]; OpenBLAS packs B).
    /// - Returns: [Q × K].
    public static func adjointProductGEMM(_ b: Matrix<CDouble>, _ y: Matrix<CDouble>) -> Matrix<CDouble> {
        precondition(b.rows == y.rows, "adjointProductGEMM: B has \(b.rows) rows, Y \(y.rows)")
        let l = b.rows, q = b.cols, k = y.cols
        guard l > 0, q > 0, k > 0 else { return Matrix<CDouble>(rows: q, cols: k) }
        var yh = [Double](repeating: 0, count: 2 * l * 2 * k)
        for kk in 0..<k {
            let re = 2 * l * kk, im = 2 * l * (kk + k)
            for i in 0..<l {
                let v = y.data[i + kk * l]
                yh[re + 2 * i] = v.real; yh[re + 2 * i + 1] = v.imaginary
                yh[im + 2 * i] = v.imaginary; yh[im + 2 * i + 1] = -v.real
            }
        }
        var r = [Double](repeating: 0, count: q * 2 * k)
        b.data.withUnsafeBufferPointer { pb in
            pb.withMemoryRebound(to: Double.self) { bd in
                yh.withUnsafeBufferPointer { py in
                    r.withUnsafeMutableBufferPointer { pr in
                        Double.gemm(.transpose, .none, m: q, n: 2 * k, k: 2 * l, alpha: 1, a: bd.baseAddress!, lda: 2 * l,
                                    b: py.baseAddress!, ldb: 2 * l, beta: 0, c: pr.baseAddress!, ldc: q)
                    }
                }
            }
        }
        var c = Matrix<CDouble>(rows: q, cols: k)
        for kk in 0..<k { for j in 0..<q { c.data[j + kk * q] = CDouble(r[j + kk * q], r[j + (kk + k) * q]) } }
        return c
    }
}

/// The least-squares step that greedy pursuits over a fixed dictionary share (`SOMP.recover`, and the
/// single-precision SOMP of WidebandSensing): the support in pick order, the Gram block
/// G = Bᴴ B_S ([Q × t], one column Bᴴ b_q per pick, from a closed form or a pass over B) and the refit
/// X_S = argmin ‖Y − B_S X‖_F from the t × t normal equations (B_Sᴴ B_S) X = B_Sᴴ Y, whose blocks are
/// rows of G and of the correlations C = Bᴴ Y — O(t²K) per pick instead of a QR of the L × t atoms.
/// The residual correlations of the next pick are then Bᴴ R = C − G X_S ([Q × K]).
///
/// The normal equations square the condition number of B_S; callers that return coefficients refit
/// them once on the final support by QR (as `SOMP.recover` does).
public struct SOMPSupportFit<T: BLASScalar>: Sendable {
    /// Picked atoms, in pick order.
    public private(set) var support: [Int] = []
    /// G = Bᴴ B_S, [Q × c]: one column per pick that came with a Gram column (`append`), in pick order.
    public private(set) var gram: Matrix<T>
    /// X_S, [c × K]: the normal-equation refit after the last `append` (row i belongs to `support[i]`).
    public private(set) var coefficients: Matrix<T>

    /// - Parameters: atoms Q (dictionary columns), snapshots K (columns of Y).
    public init(atoms q: Int, snapshots k: Int) {
        gram = Matrix<T>(rows: q, cols: 0)
        coefficients = Matrix<T>(rows: 0, cols: k)
    }

    /// Appends atom `index` with its Gram column Bᴴ b_index ([Q], entry j = b_jᴴ b_index) and refits:
    /// X_S = solve(G_SS, C_S), G_SS[i, j] = G[support[i], j], C_S[i, k] = `correlation(support[i], k)`
    /// = b_{support[i]}ᴴ y_k (the exact correlations, e.g. entries of C = Bᴴ Y).
    /// Throws on a Gram column of the wrong length or a singular G_SS (an atom picked twice).
    public mutating func append(_ index: Int, gramColumn g: [T], correlation: (Int, Int) -> T) throws {
        let q = gram.rows, k = coefficients.cols
        guard g.count == q else {
            throw ISACError.shapeMismatch("SOMP: gramColumn returned \(g.count) values, expected \(q)")
        }
        guard gram.cols == support.count else {
            throw ISACError.shapeMismatch("SOMP: append after appendFinal")
        }
        support.append(index)
        var ng = Matrix<T>(rows: q, cols: gram.cols + 1)
        ng.data.replaceSubrange(0..<gram.data.count, with: gram.data)
        ng.data.replaceSubrange(gram.data.count..<ng.data.count, with: g)
        gram = ng
        let t = support.count, s = support, gd = gram.data
        let gs = Matrix<T>(rows: t, cols: t) { i, j in gd[s[i] + j * q] }
        let cs = Matrix<T>(rows: t, cols: k) { i, kk in correlation(s[i], kk) }
        coefficients = try gs.solve(cs)
    }

    /// Appends the last pick without a Gram column or refit (neither is needed once no pick follows);
    /// `gram` and `coefficients` keep the previous support's values.
    public mutating func appendFinal(_ index: Int) {
        support.append(index)
    }
}
