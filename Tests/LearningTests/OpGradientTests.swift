import _Differentiation
import Foundation
import Linalg
import Testing
@testable import Learning

/// Keeps every element at least 0.1 away from 0 (kinks of ReLU/abs).
func awayFromZero(_ t: Tensor) -> Tensor { t.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 } }

@Suite struct ElementwiseGradientTests {
    @Test func broadcastingArithmeticMatchesNumPyRules() {
        let a = randomTensor([2, 3, 4], seed: 1), b = randomTensor([3, 1], seed: 2)
        let s = a + b
        #expect(s.shape == [2, 3, 4])
        // element (1, 2, 3) = a[1,2,3] + b[2,0]
        #expect(s.scalars[1 * 12 + 2 * 4 + 3] == a.scalars[1 * 12 + 2 * 4 + 3] + b.scalars[2])
        let p = a * Tensor(shape: [4], scalars: [1, 2, 3, 4])
        #expect(p.scalars[5] == a.scalars[5] * 2)
        // zero is the identity for any shape
        #expect(a + Tensor.zero == a && Tensor.zero + a == a)
    }

    /// The operator-specialized loops (`BinaryOp`, `UnaryOp`, the ReLU pullback, `reduced(toShape:)`) against an
    /// index-by-index reference: each element is one IEEE operation, so the results must agree bit for bit, for
    /// every broadcast pattern (contiguous, scalar-broadcast rows, strided inner dimension), with the parallel split
    /// (past 2¹⁶ elements) and with NaN / ±0 / negative inputs for ReLU.
    @Test func specializedElementwiseKernelsMatchAnIndexReference() {
        func reference(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> [Float] {
            let shape = broadcastShape(a.shape, b.shape)!
            let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
            let st = Tensor.strides(shape)
            return (0..<shape.reduce(1, *)).map { i in
                var ia = 0, ib = 0, r = i
                for d in 0..<shape.count { let q = r / st[d]; r -= q * st[d]; ia += q * sa[d]; ib += q * sb[d] }
                return f(a.scalars[ia], b.scalars[ib])
            }
        }
        let pairs: [([Int], [Int])] = [([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([2, 3, 4], [3, 1]), ([2, 1, 4], [3, 1]),
                                       ([4], [2, 3, 4]), ([1], [2, 3]), ([5, 1], [1, 7]), ([300, 300], [300, 300]),
                                       ([257, 300], [300])]
        for (k, (sa, sb)) in pairs.enumerated() {
            let a = randomTensor(sa, seed: UInt64(100 + k)), b = randomTensor(sb, seed: UInt64(200 + k))
            #expect((a + b).scalars == reference(a, b, +), "\(sa) + \(sb)")
            #expect((a - b).scalars == reference(a, b, -), "\(sa) - \(sb)")
            #expect((a * b).scalars == reference(a, b, *), "\(sa) * \(sb)")
            #expect((a / b).scalars == reference(a, b, /), "\(sa) / \(sb)")
            // the adjoint of broadcasting: row-order sums per output element
            let g = randomTensor(broadcastShape(sa, sb)!, seed: UInt64(300 + k))
            var sum = [Float](repeating: 0, count: b.count)
            let shape = g.shape, strideB = broadcastStrides(sb, to: shape), st = Tensor.strides(shape)
            for i in 0..<g.count {
                var ib = 0, r = i
                for d in 0..<shape.count { let q = r / st[d]; r -= q * st[d]; ib += q * strideB[d] }
                sum[ib] += g.scalars[i]
            }
            #expect(g.reduced(toShape: sb).scalars == sum, "reduce \(shape) → \(sb)")
        }
        var x = randomTensor([70_000], seed: 400)
        x.scalars[3] = .nan; x.scalars[4] = 0; x.scalars[5] = -0.0; x.scalars[69_999] = -.infinity
        let g = randomTensor([70_000], seed: 401)
        #expect(x.relu().scalars.map(\.bitPattern) == x.scalars.map { ($0 > 0 ? $0 : 0).bitPattern })
        let (_, pb) = valueWithPullback(at: x) { $0.relu() }
        #expect(pb(g).scalars.map(\.bitPattern) == zip(g.scalars, x.scalars).map { ($1 > 0 ? $0 : 0).bitPattern })
        #expect((x * 0.37).scalars.map(\.bitPattern) == x.scalars.map { ($0 * 0.37).bitPattern })
        #expect((x + 2.5).scalars.map(\.bitPattern) == x.scalars.map { ($0 + 2.5).bitPattern })
    }

    @Test func broadcastingGradients() {
        let a = randomTensor([2, 3, 4], seed: 3)
        let b = randomTensor([3, 1], seed: 4).map { $0 + ($0 >= 0 ? 1.5 : -1.5) }  // keep divisors away from 0
        checkGradient(a, b) { $0 + $1 }
        checkGradient(a, b) { $0 - $1 }
        checkGradient(a, b) { $0 * $1 }
        checkGradient(a, b) { $0 / $1 }
        let c = randomTensor([4], seed: 5)
        checkGradient(c, a) { $0 * $1 - $1 }
        checkGradient(a) { -$0 * 3 + 2 }
        checkGradient(a) { ($0 / 4 - 1).broadcast(to: [5, 2, 3, 4]) }
    }

    @Test func unaryGradients() {
        let x = awayFromZero(randomTensor([3, 5], seed: 6))
        checkGradient(x) { $0.relu() }
        checkGradient(x) { $0.gelu() }
        checkGradient(x) { $0.tanh() }
        checkGradient(x) { $0.sigmoid() }
        checkGradient(x) { $0.exp() }
        checkGradient(x) { $0.sin() }
        checkGradient(x) { $0.cos() }
        checkGradient(x) { $0.squared() }
        checkGradient(x) { $0.abs() }
        let pos = x.abs() + 0.5
        checkGradient(pos) { $0.log() }
        checkGradient(pos) { $0.sqrt() }
    }

    @Test func unaryValuesMatchClosedForms() {
        let x = Tensor(shape: [4], scalars: [-2, -0.5, 0.3, 1.7])
        for (i, v) in x.scalars.enumerated() {
            let d = Double(v)
            let gelu = 0.5 * d * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)))
            #expect(Swift.abs(Double(x.gelu().scalars[i]) - gelu) < 1e-6)
            #expect(Swift.abs(Double(x.sigmoid().scalars[i]) - 1 / (1 + Foundation.exp(-d))) < 1e-6)
        }
        // sigmoid stays finite far out in both tails
        let big = Tensor(shape: [2], scalars: [-200, 200]).sigmoid()
        #expect(big.scalars == [0, 1])
    }
}

@Suite struct LinearAlgebraGradientTests {
    /// Naive triple loop reference for op(A)·op(B) on 2-D tensors.
    func naiveMatmul(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool) -> [Float] {
        let m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1]
        let n = tb ? b.shape[0] : b.shape[1]
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for l in 0..<k {
            let av = ta ? a.scalars[l * a.shape[1] + i] : a.scalars[i * a.shape[1] + l]
            let bv = tb ? b.scalars[j * b.shape[1] + l] : b.scalars[l * b.shape[1] + j]
            c[i * n + j] += av * bv
        } } }
        return c
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matmulForwardAndGradient(ta: Bool, tb: Bool) {
        let a = randomTensor(ta ? [4, 3] : [3, 4], seed: 10), b = randomTensor(tb ? [5, 4] : [4, 5], seed: 11)
        let c = matmul(a, b, transposeA: ta, transposeB: tb)
        #expect(c.shape == [3, 5])
        #expect(maxAbsDiff(c.scalars, naiveMatmul(a, b, ta, tb)) < 1e-5)
        checkGradient(a, b) { matmul($0, $1, transposeA: ta, transposeB: tb) }
    }

    @Test func batchedMatmul() {
        let a = randomTensor([2, 3, 4], seed: 12), b = randomTensor([2, 4, 5], seed: 13)
        let c = matmul(a, b)
        for i in 0..<2 {
            let ai = a.slice(axis: 0, i..<(i + 1)).reshaped([3, 4]), bi = b.slice(axis: 0, i..<(i + 1)).reshaped([4, 5])
            #expect(maxAbsDiff(Array(c.scalars[(i * 15)..<((i + 1) * 15)]), naiveMatmul(ai, bi, false, false)) < 1e-5)
        }
        checkGradient(a, b) { matmul($0, $1) }
        let bt = randomTensor([2, 5, 4], seed: 14)
        checkGradient(a, bt) { matmul($0, $1, transposeB: true) }
        // shared weight: [N, L, K] · [K, M]
        let w = randomTensor([4, 6], seed: 15)
        checkGradient(a, w) { matmul($0, $1) }
        #expect(matmul(a, w).shape == [2, 3, 6])
    }

    @Test func shapeOps() {
        let x = randomTensor([2, 3, 4], seed: 16)
        checkGradient(x) { $0.reshaped([6, -1]) * 2 }
        checkGradient(x) { $0.permuted([2, 0, 1]) }
        let p = x.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(p.scalars[3 * 6 + 1 * 3 + 2] == x.scalars[1 * 12 + 2 * 4 + 3])  // p[3,1,2] == x[1,2,3]
        checkGradient(x) { $0.transposedLast2() }
        checkGradient(x) { $0.slice(axis: 1, 1..<3) }
        checkGradient(x) { $0.slice(axis: 2, 0..<1) }
        let y = randomTensor([2, 2, 4], seed: 17)
        checkGradient(x, y) { concat($0, $1, axis: 1) }
        let cat = concat(x, y, axis: 1)
        #expect(cat.shape == [2, 5, 4] && cat.slice(axis: 1, 3..<5) == y && cat.slice(axis: 1, 0..<3) == x)
        let table = randomTensor([5, 3], seed: 18)
        checkGradient(table) { $0.gathering([4, 0, 4, 2]) }
        // repeated index accumulates: gradient of row 4 is the sum of two cotangent rows
        let (_, pb) = valueWithPullback(at: table) { $0.gathering([4, 4]) }
        #expect(pb(Tensor.ones([2, 3])).scalars[12..<15].allSatisfy { $0 == 2 })
    }

    @Test func reductions() {
        let x = randomTensor([2, 3, 4], seed: 19)
        checkGradient(x) { $0.sum() }
        checkGradient(x) { $0.mean() }
        checkGradient(x) { $0.sum(axes: [1]) }
        checkGradient(x) { $0.mean(axes: [0, 2], keepDims: true) }
        let s = x.sum(axes: [0, 2])
        #expect(s.shape == [3])
        var ref: Float = 0
        for i in 0..<2 { for k in 0..<4 { ref += x.scalars[i * 12 + 1 * 4 + k] } }
        #expect(Swift.abs(s.scalars[1] - ref) < 1e-5)
    }
}

@Suite struct NetworkOpGradientTests {
    @Test func softmaxIsStableAndDifferentiable() {
        let x = randomTensor([3, 5], seed: 20)
        checkGradient(x) { $0.softmax() }
        let big = Tensor(shape: [1, 3], scalars: [1000, 1001, 1002]).softmax()
        let e = [Foundation.exp(-2.0), Foundation.exp(-1.0), 1]
        for i in 0..<3 { #expect(Swift.abs(Double(big.scalars[i]) - e[i] / e.reduce(0, +)) < 1e-6) }
    }

    @Test func parallelPathsMatchSerialReferences() {
        // ≥ 2¹⁶ elements take the multi-core paths of elementwise ops and softmax
        let x = randomTensor([300, 256], seed: 60), y = randomTensor([300, 256], seed: 61)
        let s = x * y + x.tanh()
        var worst: Float = 0
        for i in Swift.stride(from: 0, to: x.count, by: 97) {
            worst = Swift.max(worst, Swift.abs(s.scalars[i] - (x.scalars[i] * y.scalars[i] + Foundation.tanhf(x.scalars[i]))))
        }
        #expect(worst < 1e-6)
        let p = x.softmax()
        for r in [0, 151, 299] {
            let row = (0..<256).map { Double(x.scalars[r * 256 + $0]) }
            let m = row.max()!, z = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            for j in [0, 100, 255] { #expect(Swift.abs(Double(p.scalars[r * 256 + j]) - Foundation.exp(row[j] - m) / z) < 1e-6) }
        }
        let (_, pb) = valueWithPullback(at: x) { $0.softmax() }
        let g = pb(y)
        let r = 42
        let dot = (0..<256).map { Double(y.scalars[r * 256 + $0]) * Double(p.scalars[r * 256 + $0]) }.reduce(0, +)
        #expect(Swift.abs(Double(g.scalars[r * 256 + 7]) - Double(p.scalars[r * 256 + 7]) * (Double(y.scalars[r * 256 + 7]) - dot)) < 1e-5)
        // permute, max-pool and layer norm split their outer loops past 2¹⁶ elements: check against index formulas
        let t = randomTensor([40, 30, 64], seed: 62), pt = t.permuted([2, 0, 1])
        #expect(pt.shape == [64, 40, 30])
        for (i, j, k) in [(0, 0, 0), (39, 29, 63), (17, 3, 40), (5, 22, 1)] {
            #expect(pt.scalars[(k * 40 + i) * 30 + j] == t.scalars[(i * 30 + j) * 64 + k])
        }
        let img = randomTensor([4, 16, 64, 64], seed: 63), pooled = maxPool2d(img, kernel: 2)
        for (pl, oy, ox) in [(0, 0, 0), (63, 31, 31), (20, 7, 19)] {
            let base = pl * 4096 + 2 * oy * 64 + 2 * ox
            let m = [0, 1, 64, 65].map { img.scalars[base + $0] }.max()!
            #expect(pooled.scalars[pl * 1024 + oy * 32 + ox] == m)
        }
        let ln = layerNorm(x, gamma: .ones([256]), beta: .zeros([256]))
        for r in [0, 150, 299] {
            let row = (0..<256).map { Double(x.scalars[r * 256 + $0]) }
            let m = row.reduce(0, +) / 256, sd = (row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 256 + 1e-5).squareRoot()
            for j in [0, 128, 255] { #expect(Swift.abs(Double(ln.scalars[r * 256 + j]) - (row[j] - m) / sd) < 1e-4) }
        }
    }

    @Test func layerNormValuesAndGradients() {
        let x = randomTensor([2, 3, 6], seed: 21), g = randomTensor([6], seed: 22), b = randomTensor([6], seed: 23)
        checkGradient(x, g, b) { layerNorm($0, gamma: $1, beta: $2) }
        let y = layerNorm(x, gamma: .ones([6]), beta: .zeros([6]))
        for r in 0..<6 {
            let row = y.scalars[(r * 6)..<(r * 6 + 6)].map(Double.init)
            let m = row.reduce(0, +) / 6, v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 6
            #expect(Swift.abs(m) < 1e-5 && Swift.abs(v - 1) < 1e-3)
        }
    }

    @Test func batchNormTrainingAndInference() {
        let x = randomTensor([3, 2, 2, 3], seed: 24), g = randomTensor([2], seed: 25), b = randomTensor([2], seed: 26)
        checkGradient(x, g, b) { batchNormTraining($0, gamma: $1, beta: $2) }
        let stats = BatchNormStatistics(channels: 2, momentum: 0.5)
        _ = batchNormTraining(x, gamma: g, beta: b, statistics: stats)
        // running mean after one update = 0.5·0 + 0.5·batch mean of channel 0
        var s = 0.0, n = 0
        for i in 0..<3 { for j in 0..<6 { s += Double(x.scalars[i * 12 + j]); n += 1 } }
        #expect(Swift.abs(Double(stats.mean[0]) - 0.5 * s / Double(n)) < 1e-5)
        checkGradient(x, g, b) { batchNormInference($0, gamma: $1, beta: $2, statistics: stats) }
        // eval mode with running stats equal to the batch stats reproduces the training output
        let f = batchNormForward(x, g, b, 1e-5)
        let exact = BatchNormStatistics(channels: 2)
        exact.mean = f.mean; exact.variance = f.variance
        let yi = batchNormInference(x, gamma: g, beta: b, statistics: exact)
        #expect(maxAbsDiff(yi.scalars, f.y.scalars) < 1e-5)
    }

    /// Direct-summation reference convolution.
    func naiveConv(_ x: Tensor, _ w: Tensor, _ b: Tensor, s: Int, p: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (co, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let ho = (h + 2 * p - kh) / s + 1, wo = (wd + 2 * p - kw) / s + 1
        var out = [Float](repeating: 0, count: n * co * ho * wo)
        for i in 0..<n { for o in 0..<co { for y in 0..<ho { for xx in 0..<wo {
            var acc = Double(b.scalars[o])
            for ch in 0..<c { for u in 0..<kh { for v in 0..<kw {
                let iy = y * s - p + u, ix = xx * s - p + v
                if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                    acc += Double(w.scalars[((o * c + ch) * kh + u) * kw + v]) * Double(x.scalars[((i * c + ch) * h + iy) * wd + ix])
                }
            } } }
            out[((i * co + o) * ho + y) * wo + xx] = Float(acc)
        } } } }
        return Tensor(shape: [n, co, ho, wo], scalars: out)
    }

    @Test(arguments: [(1, 1), (2, 0), (2, 1)])
    func conv2dMatchesDirectSumAndGradients(stride: Int, padding: Int) {
        let x = randomTensor([2, 3, 5, 6], seed: 27), w = randomTensor([4, 3, 3, 3], seed: 28), b = randomTensor([4], seed: 29)
        let y = conv2d(x, filter: w, bias: b, stride: stride, padding: padding)
        let ref = naiveConv(x, w, b, s: stride, p: padding)
        #expect(y.shape == ref.shape)
        #expect(maxAbsDiff(y.scalars, ref.scalars) < 1e-4)
        checkGradient(x, w, b) { conv2d($0, filter: $1, bias: $2, stride: stride, padding: padding) }
    }

    /// The row-blocked conv kernels (im2col of `blockRows` output rows at a time, dx accumulated block by block)
    /// against independent references for every block height, including blocks that do not divide Ho:
    /// forward vs the direct sum; pullback vs float64 sums over the whole-image im2col matrix
    /// (dW = Σ_n G_n colₙᵀ, db = Σ G, dx = col2im(Wᵀ G_n), col2im being the tested adjoint of im2col).
    @Test(arguments: [(1, 1), (2, 1), (1, 0), (2, 2)])
    func blockedConvKernelsMatchWholeImageReferences(stride: Int, padding: Int) {
        let x = randomTensor([2, 3, 7, 5], seed: 61), w = randomTensor([4, 3, 3, 3], seed: 62), b = randomTensor([4], seed: 63)
        let g = convGeometry(x, w, stride: stride, padding: padding)
        let cout = 4, hw = g.ho * g.wo, chw = g.c * g.h * g.w
        let gy = randomTensor([g.n, cout, g.ho, g.wo], seed: 64)
        // float64 references from the whole-image column matrices
        var dwRef = [Double](repeating: 0, count: w.count), dbRef = [Double](repeating: 0, count: cout)
        var dxRef = [Float](repeating: 0, count: x.count)
        for n in 0..<g.n {
            var col = [Float](repeating: 0, count: g.ckk * hw)
            x.scalars.withUnsafeBufferPointer { xp in col.withUnsafeMutableBufferPointer { im2colSample(xp.baseAddress! + n * chw, g, $0.baseAddress!) } }
            var dcol = [Float](repeating: 0, count: g.ckk * hw)
            for o in 0..<cout {
                for q in 0..<hw {
                    let gv = Double(gy.scalars[(n * cout + o) * hw + q])
                    dbRef[o] += gv
                    for r in 0..<g.ckk { dwRef[o * g.ckk + r] += gv * Double(col[r * hw + q]) }
                }
            }
            for r in 0..<g.ckk {
                for q in 0..<hw {
                    var s: Double = 0
                    for o in 0..<cout { s += Double(w.scalars[o * g.ckk + r]) * Double(gy.scalars[(n * cout + o) * hw + q]) }
                    dcol[r * hw + q] = Float(s)
                }
            }
            dcol.withUnsafeBufferPointer { cp in dxRef.withUnsafeMutableBufferPointer { col2imSample(cp.baseAddress!, g, $0.baseAddress! + n * chw) } }
        }
        let yRef = naiveConv(x, w, b, s: stride, p: padding)
        for rows in Set([1, 2, 3, g.ho]) {
            let y = conv2dForward(x, w, b, g, blockRows: rows, backend: .im2col)
            #expect(maxAbsDiff(y.scalars, yRef.scalars) < 1e-4, "forward, block rows \(rows)")
            let r = conv2dBackward(x, w, gy, g, blockRows: rows, backend: .im2col)
            #expect(maxAbsDiff(r.dx, dxRef) < 1e-4, "dx, block rows \(rows)")
            #expect(maxAbsDiff(r.dw, dwRef.map { Float($0) }) < 1e-4, "dW, block rows \(rows)")
            #expect(maxAbsDiff(r.db, dbRef.map { Float($0) }) < 1e-4, "db, block rows \(rows)")
        }
    }

    /// Both backends (`ConvolutionBackend`) against independent references: forward vs the direct sum, pullback vs
    /// float64 sums (dW = Σ G·x-window, db = Σ G, dx = Σ W·G over the windows), with and without the input
    /// gradient; the oneDNN half runs where libdnnl.so.2 loads (CI installs it, scripts/setup.sh too).
    @Test(arguments: [(1, 1, 5, 6), (2, 1, 7, 5), (1, 0, 6, 6), (2, 2, 5, 4), (1, 1, 16, 16)])
    func convBackendsMatchDirectReferences(stride: Int, padding: Int, h: Int, wd: Int) {
        let c = 3, cout = 5
        let x = randomTensor([3, c, h, wd], seed: 71), w = randomTensor([cout, c, 3, 3], seed: 72), b = randomTensor([cout], seed: 73)
        let g = convGeometry(x, w, stride: stride, padding: padding)
        let gy = randomTensor([g.n, cout, g.ho, g.wo], seed: 74)
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count), db = [Double](repeating: 0, count: cout)
        for n in 0..<g.n { for o in 0..<cout { for oy in 0..<g.ho { for ox in 0..<g.wo {
            let gv = Double(gy.scalars[((n * cout + o) * g.ho + oy) * g.wo + ox])
            db[o] += gv
            for ch in 0..<c { for u in 0..<3 { for v in 0..<3 {
                let iy = oy * stride - padding + u, ix = ox * stride - padding + v
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                let xi = ((n * c + ch) * h + iy) * wd + ix, wi = ((o * c + ch) * 3 + u) * 3 + v
                dw[wi] += gv * Double(x.scalars[xi]); dx[xi] += gv * Double(w.scalars[wi])
            } } }
        } } } }
        let yRef = naiveConv(x, w, b, s: stride, p: padding)
        let backends: [ConvolutionBackend] = ConvolutionBackend.oneDNNAvailable ? [.im2col, .onednn] : [.im2col]
        for be in backends {
            let y = conv2dForward(x, w, b, g, backend: be)
            #expect(maxAbsDiff(y.scalars, yRef.scalars) < 1e-4, "\(be) forward")
            for withDx in [true, false] {
                let r = conv2dBackward(x, w, gy, g, inputGradient: withDx, backend: be)
                #expect(r.dx.count == (withDx ? x.count : 0))
                if withDx { #expect(maxAbsDiff(r.dx, dx.map { Float($0) }) < 1e-4, "\(be) dx") }
                #expect(maxAbsDiff(r.dw, dw.map { Float($0) }) < 1e-4, "\(be) dW (dx \(withDx))")
                #expect(maxAbsDiff(r.db, db.map { Float($0) }) < 1e-4, "\(be) db (dx \(withDx))")
            }
        }
    }

    /// Where the input is not differentiated (a first layer on data), the compiler picks conv2d's `wrt: (filter,
    /// bias)` derivative, which skips the input gradient; its parameter gradients equal the full derivative's.
    /// A convolution shape first run on a thread that then exits, and later on other threads: oneDNN's cached
    /// primitives must not depend on the creating thread (its default thread-local scratchpads did, and crashed).
    @Test(.enabled(if: ConvolutionBackend.oneDNNAvailable))
    func oneDNNPrimitivesOutliveTheirCreatingThread() {
        // a shape no other test uses, so its cache entry is created on the first thread below
        // (blocked channels, so the primitives need scratchpads)
        let x = randomTensor([4, 32, 24, 20], seed: 81), w = randomTensor([48, 32, 3, 3], seed: 82), b = randomTensor([48], seed: 83)
        let g = convGeometry(x, w, stride: 1, padding: 1)
        let gy = randomTensor([4, 48, 24, 20], seed: 84)
        let ref = conv2dForward(x, w, b, g, backend: .im2col), refB = conv2dBackward(x, w, gy, g, backend: .im2col)
        /// Runs forward + backward on a new thread that exits afterwards; returns once it has exited.
        func onFreshThread() -> (Tensor, (dx: [Float], dw: [Float], db: [Float])) {
            final class Box: @unchecked Sendable { var value: (Tensor, (dx: [Float], dw: [Float], db: [Float]))? }
            let box = Box(), done = DispatchSemaphore(value: 0)
            let t = Thread {
                box.value = (conv2dForward(x, w, b, g, backend: .onednn), conv2dBackward(x, w, gy, g, backend: .onednn))
                done.signal()
            }
            t.start()
            done.wait()
            while !t.isFinished { usleep(1000) }
            usleep(20_000)   // let the thread's exit (and its thread-local destructors) complete
            return box.value!
        }
        for (y, r) in [onFreshThread(), onFreshThread(),
                       (conv2dForward(x, w, b, g, backend: .onednn), conv2dBackward(x, w, gy, g, backend: .onednn))] {
            // relative to the largest reference entry (dW sums 1920 products per entry in float32)
            func rel(_ a: [Float], _ b: [Float]) -> Float { maxAbsDiff(a, b) / Swift.max(b.map(Swift.abs).max() ?? 1, 1e-30) }
            #expect(rel(y.scalars, ref.scalars) < 1e-5, "y")
            #expect(rel(r.dx, refB.dx) < 1e-5, "dx")
            #expect(rel(r.dw, refB.dw) < 1e-5, "dW")
            #expect(rel(r.db, refB.db) < 1e-5, "db")
        }
    }

    /// CI sets ISAC_REQUIRE_ONEDNN=1 (it installs libdnnl-dev), so the oneDNN half above cannot silently skip there.
    @Test func oneDNNLoadsWhereRequired() {
        if ProcessInfo.processInfo.environment["ISAC_REQUIRE_ONEDNN"] == "1" {
            #expect(ConvolutionBackend.oneDNNAvailable, "\(ConvolutionBackend.oneDNNDescription)")
            #expect(ConvolutionBackend.current == .onednn || ProcessInfo.processInfo.environment["ISAC_CONV"] == "im2col")
        }
    }

    @Test func parameterOnlyConvDerivativeEqualsTheFullOne() {
        var rng = RandomSource(seed: 75)
        let layer = Conv2D(inChannels: 2, outChannels: 3, kernel: 3, padding: 1, rng: &rng)
        let x = randomTensor([2, 2, 6, 5], seed: 76), t = randomTensor([2, 3, 6, 5], seed: 77)
        let gSelf = valueWithGradient(at: layer) { l in (l(x) * t).sum() }.1
        let (y, pb) = valueWithPullback(at: layer, x) { l, xi in (l(xi) * t).sum() }
        let (gFull, gx) = pb(Tensor(shape: y.shape, scalars: [1]))
        #expect(maxAbsDiff(gSelf.filter.scalars, gFull.filter.scalars) < 1e-5)
        #expect(maxAbsDiff(gSelf.bias.scalars, gFull.bias.scalars) < 1e-5)
        #expect(gx.shape == x.shape && gx.scalars.contains { $0 != 0 })
    }

    @Test func conv2dOnImagesNarrowerThanTheKernel() {
        // W = 1 with a 3×3 kernel and padding 1: some kernel columns never touch the image
        let x = randomTensor([2, 2, 3, 1], seed: 35), w = randomTensor([3, 2, 3, 3], seed: 36), b = randomTensor([3], seed: 37)
        let y = conv2d(x, filter: w, bias: b, padding: 1)
        #expect(maxAbsDiff(y.scalars, naiveConv(x, w, b, s: 1, p: 1).scalars) < 1e-5)
        checkGradient(x, w, b) { conv2d($0, filter: $1, bias: $2, padding: 1) }
        let y2 = conv2d(x, filter: w, bias: b, stride: 2, padding: 2)
        #expect(maxAbsDiff(y2.scalars, naiveConv(x, w, b, s: 2, p: 2).scalars) < 1e-5)
    }

    @Test func maxPool() {
        // distinct values so every window has a unique maximum (no kink at the sample point)
        var rng = RandomSource(seed: 30)
        var vals = (0..<(2 * 2 * 4 * 6)).map { Float($0) * 0.1 }
        vals.shuffle(using: &rng)
        let x = Tensor(shape: [2, 2, 4, 6], scalars: vals)
        let y = maxPool2d(x, kernel: 2)
        #expect(y.shape == [2, 2, 2, 3])
        #expect(y.scalars[0] == [x.scalars[0], x.scalars[1], x.scalars[6], x.scalars[7]].max()!)
        checkGradient(x, h: 1e-2) { maxPool2d($0, kernel: 2) }
        checkGradient(x, h: 1e-2) { maxPool2d($0, kernel: 3, stride: 1) }
    }

    @Test func lossesValuesAndGradients() {
        let logits = randomTensor([4, 3], seed: 31), labels = [0, 2, 1, 2]
        checkGradient(logits) { softmaxCrossEntropy(logits: $0, labels: labels) }
        var ref = 0.0
        for (i, y) in labels.enumerated() {
            let row = (0..<3).map { Double(logits.scalars[i * 3 + $0]) }
            ref += -row[y] + Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +))
        }
        #expect(Swift.abs(Double(softmaxCrossEntropy(logits: logits, labels: labels).scalar) - ref / 4) < 1e-5)

        let mu = randomTensor([2, 3], seed: 32), s = randomTensor([2, 3], seed: 33, std: 0.5), t = randomTensor([2, 3], seed: 34)
        checkGradient(mu, s) { gaussianNLL(mean: $0, logVariance: $1, target: t) }
        var nll = 0.0
        for i in 0..<6 {
            let r = Double(t.scalars[i] - mu.scalars[i]), si = Double(s.scalars[i])
            nll += 0.5 * (Foundation.exp(-si) * r * r + si)
        }
        #expect(Swift.abs(Double(gaussianNLL(mean: mu, logVariance: s, target: t).scalar) - nll / 6) < 1e-5)
        checkGradient(mu) { meanSquaredError($0, t) }
        checkGradient(mu) { meanAbsoluteError($0, t) }
    }

    @Test func dropoutMaskIsSeededAndScaled() {
        let x = Tensor.ones([10_000])
        let y = dropout(x, rate: 0.25, seed: 7, stream: 3)
        #expect(y == dropout(x, rate: 0.25, seed: 7, stream: 3))
        #expect(y != dropout(x, rate: 0.25, seed: 7, stream: 4))
        let kept = y.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { Swift.abs($0 - 1 / 0.75) < 1e-6 })
        #expect(Swift.abs(Double(kept.count) / 10_000 - 0.75) < 0.02)  // ~5σ of the binomial
        let (_, pb) = valueWithPullback(at: x) { dropout($0, rate: 0.25, seed: 7, stream: 3) }
        #expect(pb(Tensor.ones([10_000])) == y)  // d(x⊙m)/dx · 1 = m
    }
}

@Suite struct ComplexAndAttentionTests {
    @Test func complexHelpers() {
        let ar = randomTensor([3, 4], seed: 40), ai = randomTensor([3, 4], seed: 41)
        let br = randomTensor([4, 2], seed: 42), bi = randomTensor([4, 2], seed: 43)
        let c = complexMatmul(ComplexTensor(re: ar, im: ai), ComplexTensor(re: br, im: bi))
        // reference with swift-numerics-free Double arithmetic
        for i in 0..<3 { for j in 0..<2 {
            var re = 0.0, im = 0.0
            for k in 0..<4 {
                let (a, b) = (Double(ar.scalars[i * 4 + k]), Double(ai.scalars[i * 4 + k]))
                let (cc, d) = (Double(br.scalars[k * 2 + j]), Double(bi.scalars[k * 2 + j]))
                re += a * cc - b * d; im += a * d + b * cc
            }
            #expect(Swift.abs(Double(c.re.scalars[i * 2 + j]) - re) < 1e-5 && Swift.abs(Double(c.im.scalars[i * 2 + j]) - im) < 1e-5)
        } }
        checkGradient(ar, ai) { complexMatmul(ComplexTensor(re: $0, im: $1), ComplexTensor(re: br, im: bi)).magnitudeSquared() }
        let ahr = randomTensor([4, 3], seed: 44)
        checkGradient(ahr, ai.reshaped([4, 3])) {
            complexMatmul(ComplexTensor(re: $0, im: $1), ComplexTensor(re: br, im: bi), adjointA: true).re
        }
        // steering-vector phase: a(d) = exp(j·π·d·sinθ); gradient w.r.t. positions d
        let d = randomTensor([5], seed: 45), sinT: Float = 0.3
        checkGradient(d) { ComplexTensor.expi($0 * (Float.pi * sinT)).re }
        checkGradient(d) { (ComplexTensor(re: $0 * 0.2, im: $0).exp() * ComplexTensor(re: $0, im: $0 * 0.5)).im }
        let e = ComplexTensor.expi(Tensor(shape: [1], scalars: [0.7]))
        #expect(Swift.abs(e.re.scalars[0] - Foundation.cosf(0.7)) < 1e-7 && Swift.abs(e.im.scalars[0] - Foundation.sinf(0.7)) < 1e-7)
    }

    @Test func attentionAgainstNaiveAndGradients() throws {
        var rng = RandomSource(seed: 50)
        let mha = try MultiHeadAttention(modelSize: 8, heads: 2, rng: &rng)
        let x = randomTensor([2, 3, 8], seed: 51)
        let y = mha(x)
        #expect(y.shape == [2, 3, 8])
        // naive per-head reference for batch 1, token 2
        let q = mha.query(x), k = mha.key(x), v = mha.value(x)
        var concatHeads = [Float](repeating: 0, count: 8)
        for h in 0..<2 {
            var scores = [Double](repeating: 0, count: 3)
            for j in 0..<3 { for c in 0..<4 {
                scores[j] += Double(q.scalars[(1 * 3 + 2) * 8 + h * 4 + c]) * Double(k.scalars[(1 * 3 + j) * 8 + h * 4 + c])
            } }
            let mx = scores.max()!
            let e = scores.map { Foundation.exp(($0 - mx) / 2) }  // √dh = 2
            let z = e.reduce(0, +)
            for c in 0..<4 {
                var acc = 0.0
                for j in 0..<3 { acc += e[j] / z * Double(v.scalars[(1 * 3 + j) * 8 + h * 4 + c]) }
                concatHeads[h * 4 + c] = Float(acc)
            }
        }
        let ref = mha.output(Tensor(shape: [1, 8], scalars: concatHeads))
        #expect(maxAbsDiff(Array(y.scalars[((1 * 3 + 2) * 8)..<((1 * 3 + 2) * 8 + 8)]), ref.scalars) < 1e-5)

        checkGradient(x) { mha($0) }
        let ctx = randomTensor([2, 5, 8], seed: 52)
        checkGradient(x, ctx) { mha(query: $0, context: $1) }
        checkGradient(mha.query.weight) { w in
            var m = mha
            m.query.weight = w
            return m(x)
        }
        #expect(throws: ISACError.self) { _ = try MultiHeadAttention(modelSize: 8, heads: 3, rng: &rng) }
    }

    /// The fused attention kernel against the unfused composition of independently tested primitives (split heads by
    /// a permute, batched matmul, softmax, matmul, merge), values and all three input gradients, for one and several
    /// heads, Lq ≠ Lk, and enough items for the parallel split; plus finite differences of all three inputs.
    @Test func fusedAttentionMatchesTheUnfusedComposition() {
        @differentiable(reverse)
        func unfused(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ heads: Int) -> Tensor {
            func split(_ x: Tensor) -> Tensor {
                let s = withoutDerivative(at: x).shape
                return x.reshaped([s[0], s[1], heads, s[2] / heads]).permuted([0, 2, 1, 3])
            }
            let s = withoutDerivative(at: q).shape, dh = s[2] / heads
            let scores = matmul(split(q) * (1 / Float(dh).squareRoot()), split(k), transposeB: true)
            return matmul(scores.softmax(), split(v)).permuted([0, 2, 1, 3]).reshaped(s)
        }
        for (n, lq, lk, d, heads) in [(2, 3, 5, 8, 2), (1, 4, 4, 6, 1), (3, 7, 9, 16, 4), (5, 16, 12, 8, 4)] {
            let q = randomTensor([n, lq, d], seed: 60), k = randomTensor([n, lk, d], seed: 61), v = randomTensor([n, lk, d], seed: 62)
            let (y, pb) = valueWithPullback(at: q, k, v) { multiHeadAttentionCore($0, $1, $2, heads: heads) }
            let (y0, pb0) = valueWithPullback(at: q, k, v) { unfused($0, $1, $2, heads) }
            #expect(y.shape == [n, lq, d] && maxAbsDiff(y.scalars, y0.scalars) < 1e-5)
            let r = randomTensor([n, lq, d], seed: 63)
            let (dq, dk, dv) = pb(r), (dq0, dk0, dv0) = pb0(r)
            #expect(maxAbsDiff(dq.scalars, dq0.scalars) < 1e-5 && maxAbsDiff(dk.scalars, dk0.scalars) < 1e-5
                    && maxAbsDiff(dv.scalars, dv0.scalars) < 1e-5, "\(n)×\(lq)×\(lk)×\(d), \(heads) heads")
        }
        let q = randomTensor([2, 3, 8], seed: 64), k = randomTensor([2, 5, 8], seed: 65), v = randomTensor([2, 5, 8], seed: 66)
        checkGradient(q, k, v) { multiHeadAttentionCore($0, $1, $2, heads: 2) }
        // the public per-head form runs the same kernel on [N·H, L, dₕ] slices
        let q4 = randomTensor([2, 2, 3, 4], seed: 67), k4 = randomTensor([2, 2, 5, 4], seed: 68), v4 = randomTensor([2, 2, 5, 4], seed: 69)
        let o4 = scaledDotProductAttention(q4, k4, v4)
        let ref4 = matmul((matmul(q4, k4, transposeB: true) * 0.5).softmax(), v4)
        #expect(o4.shape == [2, 2, 3, 4] && maxAbsDiff(o4.scalars, ref4.scalars) < 1e-5)
    }

    @Test func transformerBlockGradients() throws {
        var rng = RandomSource(seed: 53)
        let block = try TransformerEncoderBlock(modelSize: 8, heads: 4, ffnSize: 16, rng: &rng)
        let x = randomTensor([2, 3, 8], seed: 54)
        checkGradient(x) { block($0) }
        // whole-model gradient: check the ffn1 weight entry through the model tangent
        let r = randomTensor([2, 3, 8], seed: 55)
        let g = valueWithGradient(at: block) { b in (b(x) * r).sum() }.gradient
        var table: [String: Tensor] = [:]
        var gg = g
        TransformerEncoderBlock.forEachParameter(in: &gg, "") { table[$0] = $1 }
        #expect(table.keys.contains("attention.query.weight") && table.count == block.namedParameters.count)
        let fd = fdGradient(block.ffn1.weight, r, fdStep) { w in var b = block; b.ffn1.weight = w; return b(x) }
        #expect(relativeError(g.ffn1.weight.scalars, fd) < fdTolerance)
    }
}
