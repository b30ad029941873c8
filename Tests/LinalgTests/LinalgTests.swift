import Foundation
import Numerics
import Testing
@testable import Linalg

// Independent references: naive loops written directly from the definitions.

private func op<T: BLASScalar>(_ a: Matrix<T>, _ t: Transpose, _ i: Int, _ j: Int) -> T {
    switch t {
    case .none: return a[i, j]
    case .transpose: return a[j, i]
    case .conjugateTranspose: return a[j, i].conj
    }
}

private func naiveGemm<T: BLASScalar>(_ ta: Transpose, _ a: Matrix<T>, _ tb: Transpose, _ b: Matrix<T>, m: Int, n: Int, k: Int) -> Matrix<T> {
    Matrix(rows: m, cols: n) { i, j in
        var s = T.zero
        for p in 0..<k { s += op(a, ta, i, p) * op(b, tb, p, j) }
        return s
    }
}

private func maxAbsDiff<T: BLASScalar>(_ a: Matrix<T>, _ b: Matrix<T>) -> Double {
    zip(a.data, b.data).reduce(0) { Swift.max($0, Double((($1.0 - $1.1).absSquared).squareRoot())) }
}

private func randomC(_ r: Int, _ c: Int, seed: UInt64) -> Matrix<CDouble> {
    var rng = RandomSource(seed: seed)
    return rng.complexGaussianMatrix(rows: r, cols: c)
}
private func randomCF(_ r: Int, _ c: Int, seed: UInt64) -> Matrix<CFloat> {
    let m = randomC(r, c, seed: seed)
    return Matrix(rows: r, cols: c, data: m.data.map { CFloat(Float($0.real), Float($0.imaginary)) })
}
private func randomD(_ r: Int, _ c: Int, seed: UInt64) -> Matrix<Double> {
    var rng = RandomSource(seed: seed)
    return Matrix(rows: r, cols: c) { _, _ in rng.gaussian() }
}

private let allTrans: [Transpose] = [.none, .transpose, .conjugateTranspose]

private func checkGemm<T: BLASScalar>(_ make: (Int, Int, UInt64) -> Matrix<T>, tol: Double) {
    let (m, n, k) = (5, 3, 4)
    for ta in allTrans { for tb in allTrans {
        let a = ta == .none ? make(m, k, 1) : make(k, m, 1)
        let b = tb == .none ? make(k, n, 2) : make(n, k, 2)
        var c = make(m, n, 3)
        let c0 = c
        let alpha = T.one + T.one, beta = T.one
        Matrix.gemm(ta, a, tb, b, alpha: alpha, beta: beta, into: &c)
        let ref = naiveGemm(ta, a, tb, b, m: m, n: n, k: k)
        let expected = Matrix(rows: m, cols: n) { i, j in alpha * ref[i, j] + beta * c0[i, j] }
        #expect(maxAbsDiff(c, expected) < tol, "gemm \(T.self) \(ta) \(tb)")
        #expect(maxAbsDiff(Matrix.matmul(a, b, transA: ta, transB: tb), ref) < tol)
    } }
}

@Test func gemmAllTransposesAllScalars() {
    checkGemm({ randomC($0, $1, seed: $2) }, tol: 1e-12)
    checkGemm({ randomCF($0, $1, seed: $2) }, tol: 1e-4)
    checkGemm({ randomD($0, $1, seed: $2) }, tol: 1e-12)
    checkGemm({ r, c, s in Matrix<Float>(rows: r, cols: c, data: randomD(r, c, seed: s).data.map(Float.init)) }, tol: 1e-4)
}

@Test func gemvMatchesNaive() {
    let a = randomC(6, 4, seed: 9)
    for t in allTrans {
        let inDim = t == .none ? 4 : 6, outDim = t == .none ? 6 : 4
        let x = randomC(inDim, 1, seed: 10).data
        let y = a.apply(x, t)
        for i in 0..<outDim {
            var s = CDouble.zero
            for p in 0..<inDim { s += op(a, t, i, p) * x[p] }
            #expect((y[i] - s).length < 1e-12)
        }
    }
}

@Test func hermitianEigen() throws {
    let n = 12
    let b = randomC(n, n, seed: 21)
    let a = Matrix.matmul(b, b, transB: .conjugateTranspose) + Matrix<CDouble>.identity(n)
    let (w, v) = try a.hermitianEigen()
    #expect(zip(w, w.dropFirst()).allSatisfy { $0 <= $1 })
    let vl = Matrix(rows: n, cols: n) { i, j in v[i, j] * CDouble(w[j], 0) }
    #expect((a * v - vl).frobeniusNorm < 1e-10 * a.frobeniusNorm)
    #expect((Matrix.matmul(v, v, transA: .conjugateTranspose) - .identity(n)).frobeniusNorm < 1e-12)
    // Trace = Σλ.
    var tr = 0.0
    for i in 0..<n { tr += a[i, i].real }
    #expect(abs(tr - w.reduce(0, +)) < 1e-10 * abs(tr))
    // Real symmetric and Complex<Float> paths.
    let d = randomD(8, 8, seed: 4)
    let s = d + d.transposed
    let (ws, vs) = try s.hermitianEigen()
    #expect((s * vs - Matrix(rows: 8, cols: 8) { i, j in vs[i, j] * ws[j] }).frobeniusNorm < 1e-11)
    let bf = randomCF(6, 6, seed: 5)
    let af = Matrix.matmul(bf, bf, transB: .conjugateTranspose)
    let (wf, vf) = try af.hermitianEigen()
    #expect((af * vf - Matrix(rows: 6, cols: 6) { i, j in vf[i, j] * CFloat(wf[j], 0) }).frobeniusNorm < 1e-4 * af.frobeniusNorm)
    #expect(throws: ISACError.self) { try randomC(3, 4, seed: 1).hermitianEigen() }
}

@Test func svdReconstructs() throws {
    for (m, n) in [(7, 4), (4, 7), (5, 5)] {
        let a = randomC(m, n, seed: UInt64(m * 10 + n))
        let (u, s, vh) = try a.svd()
        let k = Swift.min(m, n)
        #expect(u.rows == m && u.cols == k && vh.rows == k && vh.cols == n)
        let us = Matrix(rows: m, cols: k) { i, j in u[i, j] * CDouble(s[j], 0) }
        #expect((us * vh - a).frobeniusNorm < 1e-12 * a.frobeniusNorm)
        #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 } && s.last! >= 0)
        #expect((Matrix.matmul(u, u, transA: .conjugateTranspose) - .identity(k)).frobeniusNorm < 1e-12)
        // ‖A‖_F² = Σσ².
        #expect(abs(s.reduce(0) { $0 + $1 * $1 } - a.frobeniusNorm * a.frobeniusNorm) < 1e-10)
    }
}

@Test func solveAndLeastSquares() throws {
    let a = randomC(6, 6, seed: 31), b = randomC(6, 2, seed: 32)
    let x = try a.solve(b)
    #expect((a * x - b).frobeniusNorm < 1e-11 * b.frobeniusNorm)
    // Overdetermined: normal equations Aᴴ(Ax − b) = 0.
    let t = randomC(20, 5, seed: 33), y = randomC(20, 3, seed: 34)
    let z = try t.leastSquares(y)
    let residual = t * z - y
    #expect(Matrix.matmul(t, residual, transA: .conjugateTranspose).frobeniusNorm < 1e-11 * t.frobeniusNorm * y.frobeniusNorm)
    // Float path and singular / shape errors.
    let td = randomD(10, 3, seed: 35), yd = randomD(10, 1, seed: 36)
    let zd = try td.leastSquares(yd)
    #expect(Matrix.matmul(td, td * zd - yd, transA: .transpose).frobeniusNorm < 1e-11)
    #expect(throws: ISACError.self) { try Matrix<CDouble>(rows: 3, cols: 3).solve(randomC(3, 1, seed: 1)) }
    #expect(throws: ISACError.self) { try randomC(3, 4, seed: 1).solve(randomC(3, 1, seed: 2)) }
    #expect(throws: ISACError.self) { try randomC(3, 4, seed: 1).leastSquares(randomC(3, 1, seed: 2)) }
}

@Test func qrFactorization() throws {
    for (m, n) in [(8, 5), (5, 8)] {
        let a = randomC(m, n, seed: UInt64(40 + m))
        let (q, r) = try a.qr()
        let k = Swift.min(m, n)
        #expect((q * r - a).frobeniusNorm < 1e-12 * a.frobeniusNorm)
        #expect((Matrix.matmul(q, q, transA: .conjugateTranspose) - .identity(k)).frobeniusNorm < 1e-12)
        for j in 0..<n { for i in 0..<k where i > j { #expect(r[i, j] == .zero) } }
    }
    let d = randomD(6, 4, seed: 50)
    let (qd, rd) = try d.qr()
    #expect((qd * rd - d).frobeniusNorm < 1e-12 * d.frobeniusNorm)
}

// MARK: - FFT

private func naiveDFT(_ x: [CDouble], shape: [Int], sign: Double) -> [CDouble] {
    // C-order multi-index; X[k] = Σ_n x[n] Π_d e^{sign·2πi k_d n_d / N_d}.
    let total = shape.reduce(1, *)
    func index(_ flat: Int) -> [Int] {
        var r = flat, out = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) { out[d] = r % shape[d]; r /= shape[d] }
        return out
    }
    return (0..<total).map { kf in
        let k = index(kf)
        var s = CDouble.zero
        for nf in 0..<total {
            let n = index(nf)
            var ph = 0.0
            for d in shape.indices { ph += Double(k[d] * n[d] % shape[d]) / Double(shape[d]) }
            s += x[nf] * CDouble(cos(sign * 2 * .pi * ph), sin(sign * 2 * .pi * ph))
        }
        return s
    }
}

@Test func fftMatchesNaiveDFT() throws {
    for shape in [[16], [7], [64], [100], [4, 6], [16, 12], [3, 4, 5], [8, 8, 8]] {
        let n = shape.reduce(1, *)
        var rng = RandomSource(seed: UInt64(n))
        let x = rng.complexGaussianVector(n)
        let plan = try FFTPlan(shape: shape)
        var f = x
        plan.forward(&f)
        let ref = naiveDFT(x, shape: shape, sign: -1)
        #expect(zip(f, ref).allSatisfy { ($0 - $1).length < 1e-10 }, "forward \(shape)")
        var b = x
        plan.backward(&b)
        let refB = naiveDFT(x, shape: shape, sign: 1)
        #expect(zip(b, refB).allSatisfy { ($0 - $1).length < 1e-10 }, "backward \(shape)")
        var r = f
        plan.inverse(&r)
        #expect(zip(r, x).allSatisfy { ($0 - $1).length < 1e-12 }, "round trip \(shape)")
        // Plan reuse on a second array.
        var y = rng.complexGaussianVector(n)
        let y0 = y
        plan.forward(&y)
        #expect(zip(y, naiveDFT(y0, shape: shape, sign: -1)).allSatisfy { ($0 - $1).length < 1e-10 })
    }
    #expect(throws: ISACError.self) { try FFTPlan(shape: [0]) }
    #expect(throws: ISACError.self) { try FFTPlan(shape: []) }
    #expect(throws: ISACError.self) { try FFTPlan(shape: [2, 2, 2, 2]) }
}

// MARK: - RandomSource

@Test func rngReproducibleAndStreams() {
    var a = RandomSource(seed: 123), b = RandomSource(seed: 123)
    let xa = (0..<1000).map { _ in a.next() }, xb = (0..<1000).map { _ in b.next() }
    #expect(xa == xb)
    var g1 = RandomSource(seed: 5), g2 = RandomSource(seed: 5)
    #expect((0..<100).map { _ in g1.complexGaussian() } == (0..<100).map { _ in g2.complexGaussian() })
    // Different streams / seeds / jumped copies give different sequences.
    var s0 = RandomSource(seed: 123, stream: 0), s1 = RandomSource(seed: 123, stream: 1)
    var other = RandomSource(seed: 124)
    let u0 = (0..<20000).map { _ in s0.uniform() }, u1 = (0..<20000).map { _ in s1.uniform() }
    #expect(u0 != u1)
    #expect((0..<10).map { _ in other.next() } != Array(xa.prefix(10)))
    var j = RandomSource(seed: 123).jumped()
    #expect((0..<10).map { _ in j.next() } != Array(xa.prefix(10)))
    // Streams uncorrelated: sample correlation of U(0,1) within 4/√n of 0.
    let n = Double(u0.count)
    let m0 = u0.reduce(0, +) / n, m1 = u1.reduce(0, +) / n
    var cov = 0.0, v0 = 0.0, v1 = 0.0
    for i in u0.indices { cov += (u0[i] - m0) * (u1[i] - m1); v0 += (u0[i] - m0) * (u0[i] - m0); v1 += (u1[i] - m1) * (u1[i] - m1) }
    #expect(abs(cov / (v0 * v1).squareRoot()) < 4 / n.squareRoot())
}

@Test func rngMoments() {
    let n = 40000
    var rng = RandomSource(seed: 77)
    let u = (0..<n).map { _ in rng.uniform() }
    let se = 1 / Double(n).squareRoot()
    let mu = u.reduce(0, +) / Double(n)
    #expect(abs(mu - 0.5) < 4 * (1.0 / 12).squareRoot() * se)
    #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
    let v = u.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(n - 1)
    #expect(abs(v - 1.0 / 12) < 4 * (1.0 / 180).squareRoot() * se)  // Var of (U−½)² is 1/180
    let g = (0..<n).map { _ in rng.gaussian() }
    let gm = g.reduce(0, +) / Double(n)
    let gv = g.reduce(0) { $0 + $1 * $1 } / Double(n)
    let g4 = g.reduce(0) { $0 + $1 * $1 * $1 * $1 } / Double(n)
    #expect(abs(gm) < 4 * se)
    #expect(abs(gv - 1) < 4 * 2.0.squareRoot() * se)
    #expect(abs(g4 - 3) < 4 * 96.0.squareRoot() * se)
    // CN(0, σ²): E|z|² = σ², E z² = 0 (circularity), Re/Im each variance σ²/2.
    let sigma2 = 2.5
    let z = (0..<n).map { _ in rng.complexGaussian(variance: sigma2) }
    let p = z.reduce(0) { $0 + $1.lengthSquared } / Double(n)
    #expect(abs(p - sigma2) < 4 * sigma2 * se)
    let z2 = z.reduce(CDouble.zero) { $0 + $1 * $1 } / CDouble(Double(n), 0)
    #expect(z2.length < 4 * sigma2 * se)
    let re = z.reduce(0) { $0 + $1.real * $1.real } / Double(n)
    #expect(abs(re - sigma2 / 2) < 4 * sigma2 / 2 * 2.0.squareRoot() * se)
}

@Test func cornerFFTMatchesFullFFTOnTheCorner() throws {
    // Data on the corner of a padded grid: the pruned forward transform must equal the full 3-D FFT everywhere,
    // and the pruned backward transform must equal the full one on the corner (the rest is never read).
    for (p, n) in [((8, 6, 10), (3, 2, 5)), ((7, 9, 5), (7, 4, 1)), ((12, 10, 8), (6, 5, 4))] {
        let count = p.0 * p.1 * p.2
        var rng = RandomSource(seed: UInt64(count))
        let noise = rng.complexGaussianVector(count)
        var x = [Complex<Double>](repeating: .zero, count: count)
        var inCorner = [Bool](repeating: false, count: count)
        for l in 0..<n.2 { for j in 0..<n.1 { for i in 0..<n.0 {
            let idx = i + p.0 * (j + p.1 * l); x[idx] = noise[idx]; inCorner[idx] = true
        } } }
        let full = try FFTPlan(shape: [p.2, p.1, p.0])
        let cf = try CornerFFT3(padded: p, corner: n)
        var a = x, b = x
        full.forward(&a); cf.forwardFromCorner(&b)
        #expect(zip(a, b).allSatisfy { ($0 - $1).length < 1e-10 }, "forward \(p) \(n)")
        var c = noise, d = noise
        full.backward(&c); cf.backwardToCorner(&d)
        #expect((0..<count).allSatisfy { !inCorner[$0] || (c[$0] - d[$0]).length < 1e-10 }, "backward \(p) \(n)")
    }
    #expect(throws: ISACError.self) { try CornerFFT3(padded: (4, 4, 4), corner: (5, 1, 1)) }
    #expect(throws: ISACError.self) { try CornerFFT3(padded: (4, 4, 4), corner: (0, 1, 1)) }
}
