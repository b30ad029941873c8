import Testing
import Numerics
@testable import Estimation
import Linalg

private func unitColumns(_ m: Matrix<CDouble>) -> Matrix<CDouble> {
    var out = m
    for j in 0..<m.cols {
        let c = m.column(j)
        let n = norm2(c)
        out.setColumn(j, c.map { $0 / CDouble(n, 0) })
    }
    return out
}

/// Naive SOMP: recomputes Bᴴ R from scratch every iteration (the textbook algorithm). Shared with CorrelationKernelTests.
func naiveSOMP(_ b: Matrix<CDouble>, _ y: Matrix<CDouble>, _ s: Int) throws -> [Int] {
    var support: [Int] = []
    var r = y
    for _ in 0..<s {
        var best = -1, bestE = -1.0
        for j in 0..<b.cols where !support.contains(j) {
            var e = 0.0
            for k in 0..<y.cols { e += dotc(b.column(j), r.column(k)).absSquared }
            if e > bestE { bestE = e; best = j }
        }
        support.append(best)
        let bs = b.columns(support)
        let x = try bs.leastSquares(y)
        r = y - bs * x
    }
    return support
}

@Test func sompRecoversExactRowSparseSignal() throws {
    var rng = RandomSource(seed: 11, stream: 0)
    let b = unitColumns(rng.complexGaussianMatrix(rows: 64, cols: 200))
    let truth = [17, 123, 5]
    var x = Matrix<CDouble>(rows: 3, cols: 4)
    for i in 0..<3 { for k in 0..<4 { x[i, k] = rng.complexGaussian() + CDouble(i == 0 ? 1 : -1, 0) } }
    let y = b.columns(truth) * x
    let res = try SOMP.recover(dictionary: b, observations: y, sparsity: 3)
    #expect(Set(res.support) == Set(truth))
    #expect(res.residualNorm < 1e-9)
    // Coefficients of each recovered atom equal the generating rows.
    for (i, s) in res.support.enumerated() {
        let ti = truth.firstIndex(of: s)!
        for k in 0..<4 { #expect((res.coefficients[i, k] - x[ti, k]).magnitude < 1e-9) }
    }
}

@Test func sompIncrementalCorrelationMatchesNaive() throws {
    var rng = RandomSource(seed: 12, stream: 1)
    let b = unitColumns(rng.complexGaussianMatrix(rows: 40, cols: 90))
    var y = b.columns([3, 50, 77, 8]) * rng.complexGaussianMatrix(rows: 4, cols: 6)
    let noise = rng.complexGaussianMatrix(rows: 40, cols: 6, variance: 0.3)
    y = y + noise
    let fast = try SOMP.recover(dictionary: b, observations: y, sparsity: 5)
    let slow = try naiveSOMP(b, y, 5)
    #expect(fast.support == slow)
}

/// D4 (issue 17): the shared Gram-append + normal-equation step reproduces the QR least-squares fit
/// on every prefix of the support, with Gram columns computed from B.
@Test func sompSupportFitMatchesQRLeastSquares() throws {
    var rng = RandomSource(seed: 14, stream: 0)
    let b = unitColumns(rng.complexGaussianMatrix(rows: 30, cols: 25))
    let y = rng.complexGaussianMatrix(rows: 30, cols: 4)
    var c = Matrix<CDouble>(rows: 25, cols: 4)
    Matrix.gemm(.conjugateTranspose, b, .none, y, into: &c)
    var fit = SOMPSupportFit<CDouble>(atoms: 25, snapshots: 4)
    for (t, j) in [7, 3, 19, 0].enumerated() {
        try fit.append(j, gramColumn: b.apply(b.column(j), .conjugateTranspose)) { i, k in c[i, k] }
        #expect(fit.support.count == t + 1 && fit.gram.cols == t + 1)
        let ref = try b.columns(fit.support).leastSquares(y)
        for i in 0..<(t + 1) { for k in 0..<4 { #expect((fit.coefficients[i, k] - ref[i, k]).magnitude < 1e-10) } }
    }
    fit.appendFinal(11)
    #expect(fit.support == [7, 3, 19, 0, 11] && fit.gram.cols == 4 && fit.coefficients.rows == 4)
    #expect(throws: ISACError.self) { try fit.append(2, gramColumn: [CDouble](repeating: .zero, count: 25)) { i, k in c[i, k] } }
    var fresh = SOMPSupportFit<CDouble>(atoms: 25, snapshots: 4)
    #expect(throws: ISACError.self) { try fresh.append(2, gramColumn: [CDouble](repeating: .zero, count: 24)) { i, k in c[i, k] } }
}

/// Bᴴ Y as one real GEMM on the interleaved storage equals the complex GEMM.
@Test func adjointProductMatchesComplexGEMM() {
    var rng = RandomSource(seed: 15, stream: 0)
    let b = rng.complexGaussianMatrix(rows: 77, cols: 40), y = rng.complexGaussianMatrix(rows: 77, cols: 5)
    var ref = Matrix<CDouble>(rows: 40, cols: 5)
    Matrix.gemm(.conjugateTranspose, b, .none, y, into: &ref)
    let c = SOMP.adjointProduct(b, y)
    #expect(c.rows == 40 && c.cols == 5)
    for i in 0..<(40 * 5) { #expect((c.data[i] - ref.data[i]).magnitude < 1e-12 * (1 + ref.data[i].magnitude)) }
}

/// The refinement's basin screen: a start on a side lobe, 2.2 cells off, is out of reach of the
/// compass search (radius 1.5 cells) but found by a ±3-cell screen; noise-free, so the maximum is the truth.
@Test func offGridScreenLeavesASideLobe() throws {
    let n = 64, cell = 2 * Double.pi / Double(n), omega = 1.234
    let steer: ([Double]) -> [CDouble] = { v in (0..<n).map { CDouble(Double.cos(v[0] * Double($0)), Double.sin(v[0] * Double($0))) } }
    let y = Matrix<CDouble>(rows: n, cols: 1, data: steer([omega]))
    let start = [[omega + 2.2 * cell]]
    let (plain, _) = try OffGridRefinement.refine(observations: y, initial: start, scales: [cell],
                                                  options: OffGridRefinement.Options(tolerance: 1e-8), steering: steer)
    let (screened, _) = try OffGridRefinement.refine(observations: y, initial: start, scales: [cell],
                                                     options: OffGridRefinement.Options(tolerance: 1e-8, screenHalfWidth: [3], screenStep: [0.5]),
                                                     steering: steer)
    #expect(abs(plain[0][0] - omega) > 0.5 * cell)
    #expect(abs(screened[0][0] - omega) < 1e-6 * cell)
    #expect(throws: ISACError.self) {
        try OffGridRefinement.refine(observations: y, initial: start, scales: [cell],
                                     options: OffGridRefinement.Options(screenHalfWidth: [3], screenStep: [0]), steering: steer)
    }
}

@Test func sompRejectsBadSparsity() {
    let b = Matrix<CDouble>(rows: 4, cols: 3, repeating: .one)
    let y = Matrix<CDouble>(rows: 4, cols: 1, repeating: .one)
    #expect(throws: ISACError.self) { try SOMP.recover(dictionary: b, observations: y, sparsity: 0) }
    #expect(throws: ISACError.self) { try SOMP.recover(dictionary: b, observations: y, sparsity: 4) }
    let y2 = Matrix<CDouble>(rows: 5, cols: 1)
    #expect(throws: ISACError.self) { try SOMP.recover(dictionary: b, observations: y2, sparsity: 1) }
}

@Test func musicSubspaceSpectrumMatchesNoiseProjector() throws {
    var rng = RandomSource(seed: 13, stream: 0)
    let l = 24, k = 40, p = 2
    let a0 = rng.complexGaussianMatrix(rows: l, cols: p)
    let y = a0 * rng.complexGaussianMatrix(rows: p, cols: k) + rng.complexGaussianMatrix(rows: l, cols: k, variance: 0.01)
    let us = try MUSIC.signalSubspace(data: y, rank: p)
    // Reference: noise subspace of the explicit covariance, aᴴ U_n U_nᴴ a.
    let r = Matrix.matmul(y, y, transB: .conjugateTranspose)
    let (_, v) = try r.hermitianEigen()
    let un = v.columns(Array(0..<(l - p)))
    let cand = rng.complexGaussianMatrix(rows: l, cols: 7)
    let s = MUSIC.spectrum(signalSubspace: us, steering: cand)
    for j in 0..<7 {
        let t = un.apply(cand.column(j), .conjugateTranspose)
        let ref = 1 / t.reduce(0.0) { $0 + $1.absSquared }
        #expect(abs(s[j] - ref) / ref < 1e-8)
    }
    // The true steering columns lie (almost) in the signal subspace: spectrum far above random vectors.
    let sTrue = MUSIC.spectrum(signalSubspace: us, steering: a0)
    #expect(sTrue.min()! > 100 * s.max()!)
    // The covariance route gives the same subspace projector.
    let usC = try MUSIC.signalSubspace(covariance: r, rank: p)
    let s2 = MUSIC.spectrum(signalSubspace: usC, steering: cand)
    for j in 0..<7 { #expect(abs(s2[j] - s[j]) / s[j] < 1e-8) }
}

@Test func peakPickingFindsSeparatedBumps() {
    let centers = [(5, 7, 3.0), (20, 30, 2.0), (12, 40, 1.0)]
    var map = [[Double]](repeating: [Double](repeating: 0, count: 50), count: 30)
    for i in 0..<30 { for j in 0..<50 {
        for (ci, cj, a) in centers { map[i][j] += a * Double.exp(-Double((i - ci) * (i - ci) + (j - cj) * (j - cj)) / 4) }
    } }
    let pk = Peaks.localMaxima2D(map, count: 3)
    #expect(pk.map { [$0.row, $0.col] } == centers.map { [$0.0, $0.1] })
    let line = (0..<100).map { Double.sin(Double($0) * 0.3) * Double($0) }
    let idx = Peaks.localMaxima1D(line, count: 2)
    for i in idx { #expect(line[i] >= line[i - 1] && line[i] >= line[i + 1]) }
    #expect(line[idx[0]] >= line[idx[1]])
}
