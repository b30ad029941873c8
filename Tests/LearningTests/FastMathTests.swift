import _Differentiation
import Foundation
import Linalg
import CKernels
import Testing
@testable import Learning

/// The vectorized kernels of the speed work (issue 16): `fastExp`, the 8-lane softmax rows, the gather
/// col2im and the vector sum, each against an independent scalar / float64 reference.
@Suite struct FastMathTests {
    @Test func fastExpIsWithinTwoUlpOfLibm() {
        var worst = 0.0
        var x: Float = -87.3
        while x < 88.7 {
            let v = SIMD8<Float>(x, x + 1e-3, x - 2e-3, x * 0.5, x * 0.25, -x * 0.1, x * 0.999, x * 1e-4)
            let y = fastExp(v)
            for l in 0..<8 {
                let ref = Foundation.exp(Double(v[l]))
                guard ref >= Double(Float.leastNormalMagnitude), ref <= Double(Float.greatestFiniteMagnitude) else { continue }
                // error in units of the float spacing at the reference value
                worst = Swift.max(worst, Swift.abs(Double(y[l]) - ref) / Double(Float(ref).ulp))
            }
            x += 0.0173
        }
        #expect(worst <= 2)
        let edge = fastExp(SIMD8<Float>(-.infinity, .infinity, .nan, 0, -100, 100, -87.5, 88.0))
        #expect(edge[0] == 0 && edge[1] == .infinity && edge[2].isNaN && edge[3] == 1)
        #expect(edge[4] == 0 && edge[5] == .infinity && edge[6] == 0)
        #expect(Swift.abs(Double(edge[7]) / Foundation.exp(88.0) - 1) < 1e-6)
        #expect(fastExp(Float(1)) == fastExp(SIMD8<Float>(repeating: 1))[0])
    }

    @Test(arguments: [1, 7, 8, 9, 64, 259])
    func softmaxRowsMatchFloat64(width c: Int) {
        let x = randomTensor([3, c], seed: 70 + UInt64(c)) * 4, g = randomTensor([3, c], seed: 90 + UInt64(c))
        let (p, pb) = valueWithPullback(at: x) { $0.softmax() }
        let dx = pb(g)
        for r in 0..<3 {
            let row = (0..<c).map { Double(x.scalars[r * c + $0]) }, gr = (0..<c).map { Double(g.scalars[r * c + $0]) }
            let m = row.max()!, z = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            let y = row.map { Foundation.exp($0 - m) / z }
            let dot = zip(gr, y).map { $0 * $1 }.reduce(0, +)
            for j in 0..<c {
                #expect(Swift.abs(Double(p.scalars[r * c + j]) - y[j]) < 1e-6)
                #expect(Swift.abs(Double(dx.scalars[r * c + j]) - y[j] * (gr[j] - dot)) < 1e-5)
            }
        }
        // a row of −∞ but one entry is the one-hot of that entry
        var s = [Float](repeating: -.infinity, count: c); s[c / 2] = 3
        let oh = Tensor(shape: [1, c], scalars: s).softmax()
        for j in 0..<c { #expect(oh.scalars[j] == (j == c / 2 ? 1 : 0)) }
    }

    /// Every softmax code path this CPU has (0 = SIMD8 Swift / portable C, 1 = AVX2+FMA, 2 = AVX-512F) against a
    /// float64 reference (relative error ≤ 2e-6 ≈ 16 float ulps, from the row sum of up to 259 terms; a wrong
    /// exponential is off by far more), at widths that exercise the 8- and 16-lane tails, plus the edge rows:
    /// one-hot from −∞, an all −∞ row (NaN, 0/0), a NaN entry (row NaN), a huge spread (e^{−200} underflows to 0).
    @Test(arguments: [1, 5, 8, 15, 16, 17, 31, 256, 259])
    func softmaxKernelPathsMatchFloat64(width c: Int) {
        let rows = 4
        let x = (randomTensor([rows, c], seed: 170 + UInt64(c)) * 6).scalars, g = randomTensor([rows, c], seed: 190 + UInt64(c)).scalars
        for path in 0...Int(ck_softmax_path()) {
            for viaC in (path == 0 ? [false, true] : [true]) {
                var y = [Float](repeating: .nan, count: x.count), dx = y
                x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in
                    if viaC { ck_softmax_rows_on_path(Int32(path), px.baseAddress!, py.baseAddress!, rows, c) }
                    else { softmaxRows(px.baseAddress!, py.baseAddress!, rows, c, path: 0) }
                } }
                y.withUnsafeBufferPointer { py in g.withUnsafeBufferPointer { pg in dx.withUnsafeMutableBufferPointer { pd in
                    if viaC { ck_softmax_pullback_rows_on_path(Int32(path), py.baseAddress!, pg.baseAddress!, pd.baseAddress!, rows, c) }
                    else { softmaxPullbackRows(py.baseAddress!, pg.baseAddress!, pd.baseAddress!, rows, c, path: 0) }
                } } }
                for r in 0..<rows {
                    let row = (0..<c).map { Double(x[r * c + $0]) }, m = row.max()!
                    let z = row.map { Foundation.exp($0 - m) }.reduce(0, +), ref = row.map { Foundation.exp($0 - m) / z }
                    let yr = (0..<c).map { Double(y[r * c + $0]) }, gr = (0..<c).map { Double(g[r * c + $0]) }
                    let dot = zip(gr, yr).map { $0 * $1 }.reduce(0, +)
                    for j in 0..<c {
                        #expect(Swift.abs(yr[j] - ref[j]) <= 2e-6 * Swift.max(ref[j], 1e-3), "path \(path) c \(c)")
                        #expect(Swift.abs(Double(dx[r * c + j]) - yr[j] * (gr[j] - dot)) < 1e-6, "path \(path) c \(c)")
                    }
                }
                var edge = [Float](repeating: -.infinity, count: 4 * c)
                edge[c / 2] = 3                                    // row 0: one-hot
                                                                   // row 1: all −∞
                for j in 0..<c { edge[2 * c + j] = Float(j) }      // row 2: NaN entry
                edge[2 * c + c / 3] = .nan
                for j in 0..<c { edge[3 * c + j] = j == 0 ? 200 : 0 } // row 3: e^{−200} → 0
                var out = [Float](repeating: 7, count: edge.count)
                edge.withUnsafeBufferPointer { pe in out.withUnsafeMutableBufferPointer { po in
                    if viaC { ck_softmax_rows_on_path(Int32(path), pe.baseAddress!, po.baseAddress!, 4, c) }
                    else { softmaxRows(pe.baseAddress!, po.baseAddress!, 4, c, path: 0) }
                } }
                for j in 0..<c {
                    #expect(out[j] == (j == c / 2 ? 1 : 0))
                    #expect(out[c + j].isNaN)
                    #expect(out[2 * c + j].isNaN)
                    #expect(out[3 * c + j] == (j == 0 ? 1 : 0))
                }
            }
        }
    }

    @Test func vectorSumMatchesFloat64() {
        for n in [0, 1, 7, 8, 15, 16, 17, 100, 4096] {
            let v = randomTensor([Swift.max(n, 1)], seed: UInt64(n) + 5).scalars
            let ref = (0..<n).map { Double(v[$0]) }.reduce(0, +)
            let s = v.withUnsafeBufferPointer { vectorSum($0.baseAddress!, n) }
            #expect(Swift.abs(Double(s) - ref) < 1e-5 * Double(Swift.max(n, 1)).squareRoot())
        }
    }

    /// col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for every geometry, and col2im
    /// overwrites its output (a poisoned buffer gives the same result).
    @Test(arguments: [(3, 8, 19, 3, 1, 1), (2, 9, 9, 3, 2, 1), (4, 6, 21, 2, 1, 0), (1, 5, 17, 5, 1, 2), (2, 7, 3, 3, 1, 2)])
    func col2imIsTheAdjointOfIm2col(_ geometry: (Int, Int, Int, Int, Int, Int)) {
        let (c, h, w, k, s, p) = geometry
        let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
        let g = ConvGeometry(n: 1, c: c, h: h, w: w, kh: k, kw: k, stride: s, padding: p, ho: ho, wo: wo)
        let x = randomTensor([c * h * w], seed: 11).scalars, col = randomTensor([g.ckk * ho * wo], seed: 12).scalars
        var cx = [Float](repeating: 0, count: col.count), dx = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xp in cx.withUnsafeMutableBufferPointer { im2colSample(xp.baseAddress!, g, $0.baseAddress!) } }
        col.withUnsafeBufferPointer { cp in dx.withUnsafeMutableBufferPointer { col2imSample(cp.baseAddress!, g, $0.baseAddress!) } }
        let lhs = zip(cx, col).map { Double($0) * Double($1) }.reduce(0, +)
        let rhs = zip(x, dx).map { Double($0) * Double($1) }.reduce(0, +)
        #expect(Swift.abs(lhs - rhs) < 1e-5 * Swift.max(1, Swift.abs(lhs)))
    }
}
