import Testing
import Numerics
import CKernels
@testable import Estimation
import Linalg

// Issue 17 (wideband speed): the streaming correlation kernel behind `SOMP.adjointProduct`, against
// references that share none of its code: a scalar triple loop for the real kernel, the complex GEMM
// (ZGEMM) and a direct complex sum for Bᴴ Y. Errors are measured against the entrywise bound
// Σ_r |b_r||y_r| (the scale of rounding in any summation order), not against the possibly cancelled value.

/// Real kernel on every code path (capped at what this CPU has) against a scalar triple loop; shapes cover
/// ragged row blocks (rows not a multiple of the row block, below and above it), atom counts that are not a
/// multiple of the 8-atom register block, one- and two-register column chunks, and a leading dimension > rows.
@Test func tallThinKernelMatchesTripleLoop() {
    var rng = RandomSource(seed: 1701, stream: 0)
    // (rows, atoms, npad, ldb − rows)
    let shapes = [(1, 1, 8, 0), (7, 3, 8, 2), (333, 17, 16, 0), (4097, 13, 16, 5), (9001, 9, 24, 0), (2048, 8, 32, 1),
                  (5000, 23, 8, 3)]
    for (rows, atoms, npad, pad) in shapes {
        let ldb = rows + pad
        let b = (0..<(ldb * atoms)).map { _ in rng.gaussian() }
        let yh = (0..<(rows * npad)).map { _ in rng.gaussian() }
        var ref = [Double](repeating: 0, count: atoms * npad), bound = ref
        for a in 0..<atoms {
            for c in 0..<npad {
                var s = 0.0, m = 0.0
                for r in 0..<rows { s += b[r + a * ldb] * yh[r * npad + c]; m += abs(b[r + a * ldb] * yh[r * npad + c]) }
                ref[a * npad + c] = s; bound[a * npad + c] = m
            }
        }
        for path in [2, 1, 0] {
            var out = [Double](repeating: .nan, count: atoms * npad)
            ck_tall_thin_tn_on_path(Int32(path), b, ldb, rows, atoms, yh, npad, &out)
            var worst = 0.0
            for i in 0..<out.count { worst = max(worst, abs(out[i] - ref[i]) / bound[i]) }
            #expect(worst <= 1e-13, "rows \(rows) atoms \(atoms) npad \(npad) path \(path): relative error \(worst)")
        }
    }
    #expect((0...2).contains(ck_tall_thin_tn_path()))
}

/// Bᴴ Y through the kernel equals ZGEMM and a direct complex sum; Q odd, K = 1 (one padded column chunk),
/// K = 5 (2K = 10 padded to 16), K = 8 (the wideband shape's 16 columns), K = 12 (16 + 8 columns),
/// rows across several row blocks, and 1 or 3 workers (same values: workers own disjoint atoms).
@Test func adjointProductMatchesZGEMMAndDirectSum() {
    var rng = RandomSource(seed: 1702, stream: 0)
    for (l, q, k) in [(1, 1, 1), (77, 40, 5), (2500, 37, 1), (3001, 61, 8), (1200, 19, 12)] {
        let b = rng.complexGaussianMatrix(rows: l, cols: q), y = rng.complexGaussianMatrix(rows: l, cols: k)
        var zg = Matrix<CDouble>(rows: q, cols: k)
        Matrix.gemm(.conjugateTranspose, b, .none, y, into: &zg)
        let one = SOMP.adjointProduct(b, y, threads: 1), three = SOMP.adjointProduct(b, y, threads: 3)
        #expect(one.rows == q && one.cols == k)
        #expect(one.data == three.data)
        var worstZ = 0.0, worstD = 0.0
        for kk in 0..<k {
            for j in 0..<q {
                var s = CDouble.zero, m = 0.0
                for i in 0..<l { s += b[i, j].conjugate * y[i, kk]; m += b[i, j].magnitude * y[i, kk].magnitude }
                let c = one[j, kk]
                worstZ = max(worstZ, (c - zg[j, kk]).magnitude / m)
                worstD = max(worstD, (c - s).magnitude / m)
            }
        }
        #expect(worstZ <= 1e-13 && worstD <= 1e-13, "L \(l) Q \(q) K \(k): vs ZGEMM \(worstZ), vs direct \(worstD)")
        let g = SOMP.adjointProductGEMM(b, y)
        for i in 0..<(q * k) { #expect((g.data[i] - zg.data[i]).magnitude <= 1e-13 * (1 + zg.data[i].magnitude)) }
    }
}

/// SOMP on the kernel's correlations picks the same support as the naive SOMP (residual recomputed from B
/// each iteration), on a shape with several row blocks and an odd atom count.
@Test func sompSupportUnchangedOnTheStreamingKernel() throws {
    var rng = RandomSource(seed: 1703, stream: 0)
    let l = 2100, q = 45, k = 3
    var b = rng.complexGaussianMatrix(rows: l, cols: q)
    for j in 0..<q {
        let n = (0..<l).reduce(0.0) { $0 + b[$1, j].absSquared }.squareRoot()
        for i in 0..<l { b[i, j] = b[i, j] / CDouble(n, 0) }
    }
    let y = b.columns([4, 31, 44]) * rng.complexGaussianMatrix(rows: 3, cols: k) + rng.complexGaussianMatrix(rows: l, cols: k, variance: 0.01)
    let fast = try SOMP.recover(dictionary: b, observations: y, sparsity: 4)
    let slow = try naiveSOMP(b, y, 4)
    #expect(fast.support == slow)
    #expect(Set(fast.support.prefix(3)) == Set([4, 31, 44]))
}
