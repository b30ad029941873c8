import _Differentiation
import Linalg
import Foundation
internal import CKernels

/// The kernels behind `conv2d` and its pullbacks.
///
/// - `im2col`: im2col + OpenBLAS sgemm in row blocks (this file), always available.
/// - `onednn`: oneDNN's direct convolutions (Debian `libdnnl-dev`, loaded at run time by `CKernels/DNNLConv.c`;
///   the library PyTorch's CPU convolutions use), with plain ↔ blocked reorders around each call.
///
/// `ConvolutionBackend.current` is `onednn` when libdnnl.so.2 loads and `im2col` otherwise; `ISAC_CONV=im2col` or
/// `ISAC_CONV=onednn` chooses (an unavailable oneDNN falls back to im2col). The two agree to float rounding, not bit
/// for bit (different summation orders); one process always uses one backend, so a run stays reproducible.
/// Measured step times: docs/BENCHMARKS.md ("oneDNN convolutions").
public enum ConvolutionBackend: String, Sendable, CaseIterable {
    /// im2col + sgemm.
    case im2col
    /// oneDNN direct convolutions.
    case onednn

    /// The backend this process uses (fixed at first use).
    public static let current: ConvolutionBackend = {
        let raw = ProcessInfo.processInfo.environment["ISAC_CONV"]
        let env = raw.flatMap { ConvolutionBackend(rawValue: $0.lowercased()) }
        let available = env != .im2col && oneDNNAvailable
        let chosen: ConvolutionBackend = env == .im2col || !available ? .im2col : .onednn
        if let raw, env == nil {
            FileHandle.standardError.write(Data("warning: ISAC_CONV=\(raw) is not im2col or onednn; using \(chosen.rawValue)\n".utf8))
        } else if env == .onednn, !available {
            FileHandle.standardError.write(Data("warning: ISAC_CONV=onednn but \(oneDNNDescription); using im2col\n".utf8))
        }
        return chosen
    }()

    /// Whether oneDNN (libdnnl.so.2, 2.x) loaded in this process.
    public static var oneDNNAvailable: Bool { ck_dnnl_available() != 0 }
    /// What oneDNN is (version, runtime) or why it is not available.
    public static var oneDNNDescription: String { String(cString: ck_dnnl_description()) }
}

@inline(__always)
func dnnlShape(_ g: ConvGeometry, cout: Int) -> ck_conv_shape {
    ck_conv_shape(n: g.n, c: g.c, h: g.h, w: g.w, cout: cout, kh: g.kh, kw: g.kw, stride: g.stride, pad: g.padding)
}

/// Geometry of a 2-D convolution / pooling window.
@usableFromInline struct ConvGeometry: Sendable {
    let n, c, h, w, kh, kw, stride, padding, ho, wo: Int
    var ckk: Int { c * kh * kw }
    var cols: Int { n * ho * wo }
}

/// im2col for one image: `col[(c·kh + i)·kw + j, oy·Wo + ox] = x[c, oy·s − p + i, ox·s − p + j]`
/// (zero outside the image). `x` points at one `[C, H, W]` sample; `col` is `[C·kh·kw, Ho·Wo]`.
@inline(__always)
func im2colSample(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>) {
    im2colRows(x, g, 0, g.ho, col)
}

/// im2col of the output rows `oy0 ..< oy1` only: `col` is `[C·kh·kw, (oy1 − oy0)·Wo]` with
/// `col[r, (oy − oy0)·Wo + ox]` = the `im2colSample` entry `[r, oy·Wo + ox]`.
@inline(__always)
func im2colRows(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ oy0: Int, _ oy1: Int, _ col: UnsafeMutablePointer<Float>) {
    let tn = (oy1 - oy0) * g.wo
    for r in 0..<g.ckk {
        let c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw
        let img = x + c * g.h * g.w
        var dst = col + r * tn
        // ox range whose input column lies inside the image: 0 ≤ ox·s − p + j < W
        let oxLo = Swift.max(0, (g.padding - j + g.stride - 1) / g.stride)
        let lastIn = g.w - 1 + g.padding - j  // ox·s ≤ lastIn
        let oxHi = lastIn < 0 ? 0 : Swift.min(g.wo, lastIn / g.stride + 1)
        for oy in oy0..<oy1 {
            let y = oy * g.stride - g.padding + i
            if y < 0 || y >= g.h || oxLo >= oxHi {
                for ox in 0..<g.wo { dst[ox] = 0 }
            } else {
                let row = img + y * g.w
                for ox in 0..<oxLo { dst[ox] = 0 }
                if g.stride == 1 {
                    let off = j - g.padding
                    for ox in oxLo..<oxHi { dst[ox] = row[ox + off] }
                } else {
                    for ox in oxLo..<oxHi { dst[ox] = row[ox * g.stride - g.padding + j] }
                }
                for ox in oxHi..<g.wo { dst[ox] = 0 }
            }
            dst += g.wo
        }
    }
}

/// Adjoint of `im2colRows` for the output rows `oy0 ..< oy1`: **adds** the contributions of the
/// `[C·kh·kw, (oy1 − oy0)·Wo]` column block `col` into one `[C, H, W]` image gradient `dx` (zeroed by
/// the caller before the first block). Summed over blocks that cover `0 ..< Ho` once, it equals
/// `col2imSample` of the whole column matrix (up to the order of the float additions).
@inline(__always)
func col2imRowsAccumulate(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ oy0: Int, _ oy1: Int,
                          _ dx: UnsafeMutablePointer<Float>) {
    let tn = (oy1 - oy0) * g.wo
    for r in 0..<g.ckk {
        let c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw
        let img = dx + c * g.h * g.w
        let src = col + r * tn
        let oxLo = Swift.max(0, (g.padding - j + g.stride - 1) / g.stride)
        let lastIn = g.w - 1 + g.padding - j  // ox·s ≤ lastIn
        let oxHi = lastIn < 0 ? 0 : Swift.min(g.wo, lastIn / g.stride + 1)
        if oxLo >= oxHi { continue }
        for oy in oy0..<oy1 {
            let y = oy * g.stride - g.padding + i
            if y < 0 || y >= g.h { continue }
            let row = img + y * g.w, s = src + (oy - oy0) * g.wo
            if g.stride == 1 {
                vectorAccumulate(row + (oxLo - g.padding + j), s + oxLo, oxHi - oxLo)
            } else {
                for ox in oxLo..<oxHi { row[ox * g.stride - g.padding + j] += s[ox] }
            }
        }
    }
}

/// Output rows per im2col block of the convolution kernels: the block's `[C·kh·kw, rows·Wo]` columns (and,
/// in the pullback, their gradient) stay within `convBlockFloats` floats (256 KiB), so im2col writes them,
/// and the sgemm packs them, from L2 rather than DRAM (the whole-image column matrix of a 32-channel 64 × 64
/// layer is 4.7 MB per sample).
let convBlockFloats = 65_536
@inline(__always)
func convBlockRows(_ g: ConvGeometry) -> Int {
    Swift.max(1, Swift.min(g.ho, convBlockFloats / Swift.max(1, g.ckk * g.wo)))
}

/// Adjoint of `im2colSample`: `dx[c, y, x] = Σ_{i,j} col[(c·kh + i)·kw + j, oy·Wo + ox]` over the window
/// positions with oy·s − p + i = y, ox·s − p + j = x. **Overwrites** one `[C, H, W]` image gradient (no
/// zero-filled input needed). Stride 1: a gather per output row (the row is zeroed in L1, then each of the
/// kh·kw taps adds one contiguous, 8-lane vectorized run of `col`); other strides: zero + scatter-add.
@inline(__always)
func col2imSample(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ dx: UnsafeMutablePointer<Float>) {
    let hw = g.ho * g.wo
    if g.stride == 1 {
        for c in 0..<g.c {
            for y in 0..<g.h {
                let row = dx + (c * g.h + y) * g.w
                row.update(repeating: 0, count: g.w)
                for i in 0..<g.kh {
                    let oy = y + g.padding - i
                    if oy < 0 || oy >= g.ho { continue }
                    for j in 0..<g.kw {
                        // ox = x + p − j ∈ [0, Wo) and x ∈ [0, W)
                        let xLo = Swift.max(0, j - g.padding), xHi = Swift.min(g.w, g.wo + j - g.padding)
                        if xLo >= xHi { continue }
                        let src = col + ((c * g.kh + i) * g.kw + j) * hw + oy * g.wo + (xLo + g.padding - j)
                        vectorAccumulate(row + xLo, src, xHi - xLo)
                    }
                }
            }
        }
        return
    }
    dx.update(repeating: 0, count: g.c * g.h * g.w)
    for r in 0..<g.ckk {
        let c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw
        let img = dx + c * g.h * g.w
        let src = col + r * hw
        let oxLo = Swift.max(0, (g.padding - j + g.stride - 1) / g.stride)
        let lastIn = g.w - 1 + g.padding - j  // ox·s ≤ lastIn
        let oxHi = lastIn < 0 ? 0 : Swift.min(g.wo, lastIn / g.stride + 1)
        if oxLo >= oxHi { continue }
        for oy in 0..<g.ho {
            let y = oy * g.stride - g.padding + i
            if y < 0 || y >= g.h { continue }
            let row = img + y * g.w, s = src + oy * g.wo
            for ox in oxLo..<oxHi { row[ox * g.stride - g.padding + j] += s[ox] }
        }
    }
}

func convGeometry(_ x: Tensor, _ w: Tensor, stride: Int, padding: Int) -> ConvGeometry {
    precondition(x.rank == 4 && w.rank == 4 && x.shape[1] == w.shape[1],
                 "conv2d: input [N, C, H, W] and filter [Cout, C, kh, kw] expected, got \(x.shape), \(w.shape)")
    precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride), padding \(padding)")
    let h = x.shape[2], wd = x.shape[3], kh = w.shape[2], kw = w.shape[3]
    let ho = (h + 2 * padding - kh) / stride + 1, wo = (wd + 2 * padding - kw) / stride + 1
    precondition(ho > 0 && wo > 0, "conv2d: kernel \(kh)×\(kw) larger than padded input \(h)×\(wd)")
    return ConvGeometry(n: x.shape[0], c: x.shape[1], h: h, w: wd, kh: kh, kw: kw, stride: stride,
                        padding: padding, ho: ho, wo: wo)
}

/// An array whose every element the caller overwrites (skips zero-filling large buffers).
@inline(__always)
func uninitializedFloats(_ count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buf, n in
        if count > 0 { fill(buf.baseAddress!) }
        n = count
    }
}

/// Forward kernel: per sample, blocks of `blockRows` output rows (`convBlockRows`): im2col of the block into a
/// per-worker scratch buffer and one sgemm `[Cout, CKK]·[CKK, rows·Wo]` written straight into the NCHW output
/// (row stride Ho·Wo); samples are split over the cores.
func conv2dForward(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ g: ConvGeometry, blockRows: Int? = nil,
                   backend: ConvolutionBackend = .current) -> Tensor {
    _ = blasSingleThreaded
    let cout = w.shape[0], hw = g.ho * g.wo, chw = g.c * g.h * g.w
    if backend == .onednn {
        var shape = dnnlShape(g, cout: cout)
        var ok = false
        let y = uninitializedFloats(g.n * cout * hw) { po in
            ok = x.scalars.withUnsafeBufferPointer { px in w.scalars.withUnsafeBufferPointer { pw in b.scalars.withUnsafeBufferPointer { pb in
                ck_dnnl_conv2d_forward(&shape, px.baseAddress, pw.baseAddress, pb.baseAddress, po, Int32(learningWorkers)) == 0
            } } }
        }
        if ok { return Tensor(shape: [g.n, cout, g.ho, g.wo], scalars: y) }
    }
    let rows = Swift.max(1, Swift.min(g.ho, blockRows ?? convBlockRows(g)))
    let out = x.scalars.withUnsafeBufferPointer { pxb in
        w.scalars.withUnsafeBufferPointer { pwb in
            b.scalars.withUnsafeBufferPointer { pbb in
                uninitializedFloats(g.n * cout * hw) { po in
                    let px = SendableMutablePointer(mutating: pxb.baseAddress!), pw = SendableMutablePointer(mutating: pwb.baseAddress!)
                    let pb = SendableMutablePointer(mutating: pbb.baseAddress!), pout = SendableMutablePointer(po)
                    parallelChunks(g.n) { _, samples in
                        let col = UnsafeMutablePointer<Float>.allocate(capacity: g.ckk * rows * g.wo)
                        defer { col.deallocate() }
                        for n in samples {
                            let o = pout.pointer + n * cout * hw
                            for co in 0..<cout { (o + co * hw).update(repeating: pb.pointer[co], count: hw) }
                            var oy0 = 0
                            while oy0 < g.ho {
                                let oy1 = Swift.min(g.ho, oy0 + rows), tn = (oy1 - oy0) * g.wo
                                im2colRows(px.pointer + n * chw, g, oy0, oy1, col)
                                RowMajorBLAS.sgemm(transA: false, transB: false, m: cout, n: tn, k: g.ckk, alpha: 1, a: pw.pointer, lda: g.ckk, b: col, ldb: tn, beta: 1, c: o + oy0 * g.wo, ldc: hw)
                                oy0 = oy1
                            }
                        }
                    }
                }
            }
        }
    }
    return Tensor(shape: [g.n, cout, g.ho, g.wo], scalars: out)
}

/// Pullback kernel of `conv2dForward` for the output gradient `grad` `[N, Cout, Ho, Wo]`: per sample and
/// block of `blockRows` output rows, recompute the block's columns, dW += G_blk·colᵀ (per-worker partial
/// sums), dcol = Wᵀ·G_blk added back into dx_n with `col2imRowsAccumulate`; db += Σ G_n.
/// - Returns: (dx [N, C, H, W], dW [Cout, C, kh, kw], db [Cout]) as flat arrays.
func conv2dBackward(_ x: Tensor, _ filter: Tensor, _ grad: Tensor, _ g: ConvGeometry, blockRows: Int? = nil,
                    inputGradient: Bool = true, backend: ConvolutionBackend = .current) -> (dx: [Float], dw: [Float], db: [Float]) {
    _ = blasSingleThreaded
    let cout = filter.shape[0], hw = g.ho * g.wo, chw = g.c * g.h * g.w
    // both backends overwrite every element of dx (im2col: each sample's block is zeroed, then accumulated, by the one
    // worker that owns the sample); empty without the input gradient
    var dx = [Float](unsafeUninitializedCapacity: inputGradient ? x.count : 0) { _, n in n = inputGradient ? x.count : 0 }
    if backend == .onednn {
        var shape = dnnlShape(g, cout: cout)
        var dwo = [Float](unsafeUninitializedCapacity: filter.count) { _, n in n = filter.count }
        var dbo = [Float](unsafeUninitializedCapacity: cout) { _, n in n = cout }
        let ok = x.scalars.withUnsafeBufferPointer { px in filter.scalars.withUnsafeBufferPointer { pf in grad.scalars.withUnsafeBufferPointer { pg in
            dx.withUnsafeMutableBufferPointer { pdx in dwo.withUnsafeMutableBufferPointer { pdw in dbo.withUnsafeMutableBufferPointer { pdb in
                ck_dnnl_conv2d_backward(&shape, px.baseAddress, pf.baseAddress, pg.baseAddress, inputGradient ? pdx.baseAddress : nil,
                                        pdw.baseAddress, pdb.baseAddress, Int32(learningWorkers)) == 0
            } } }
        } } }
        if ok { return (dx, dwo, dbo) }
    }
    let rows = Swift.max(1, Swift.min(g.ho, blockRows ?? convBlockRows(g)))
    let workers = Swift.max(1, Swift.min(learningWorkers, g.n))
    var partialW = [Float](repeating: 0, count: workers * filter.count)
    var partialB = [Float](repeating: 0, count: workers * cout)
    let wcount = filter.count
    x.scalars.withUnsafeBufferPointer { pxb in
        filter.scalars.withUnsafeBufferPointer { pfb in
            grad.scalars.withUnsafeBufferPointer { pgb in
                partialW.withUnsafeMutableBufferPointer { pwb in
                    partialB.withUnsafeMutableBufferPointer { pbb in
                        dx.withUnsafeMutableBufferPointer { pdb in
                            let px = SendableMutablePointer(mutating: pxb.baseAddress!), pf = SendableMutablePointer(mutating: pfb.baseAddress!)
                            let pg = SendableMutablePointer(mutating: pgb.baseAddress!), pw = SendableMutablePointer(pwb.baseAddress!)
                            let pb = SendableMutablePointer(pbb.baseAddress!)
                            // without the input gradient dx is empty; its pointer is never dereferenced then
                            let pd = SendableMutablePointer(pdb.baseAddress ?? pbb.baseAddress!)
                            parallelChunks(g.n, workers: workers) { worker, samples in
                                let col = UnsafeMutablePointer<Float>.allocate(capacity: g.ckk * rows * g.wo)
                                let dcol = UnsafeMutablePointer<Float>.allocate(capacity: g.ckk * rows * g.wo)
                                defer { col.deallocate(); dcol.deallocate() }
                                let dW = pw.pointer + worker * wcount, db = pb.pointer + worker * cout
                                for n in samples {
                                    let gn = pg.pointer + n * cout * hw, dxn = pd.pointer + n * chw
                                    for co in 0..<cout { db[co] += vectorSum(gn + co * hw, hw) }
                                    if inputGradient { dxn.update(repeating: 0, count: chw) }
                                    var oy0 = 0
                                    while oy0 < g.ho {
                                        let oy1 = Swift.min(g.ho, oy0 + rows), tn = (oy1 - oy0) * g.wo
                                        im2colRows(px.pointer + n * chw, g, oy0, oy1, col)
                                        RowMajorBLAS.sgemm(transA: false, transB: true, m: cout, n: g.ckk, k: tn, alpha: 1, a: gn + oy0 * g.wo, lda: hw, b: col, ldb: tn, beta: 1, c: dW, ldc: g.ckk)
                                        if inputGradient {
                                            RowMajorBLAS.sgemm(transA: true, transB: false, m: g.ckk, n: tn, k: cout, alpha: 1, a: pf.pointer, lda: g.ckk, b: gn + oy0 * g.wo, ldb: hw, beta: 0, c: dcol, ldc: tn)
                                            col2imRowsAccumulate(dcol, g, oy0, oy1, dxn)
                                        }
                                        oy0 = oy1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    var dw = [Float](repeating: 0, count: wcount), dbias = [Float](repeating: 0, count: cout)
    for w in 0..<workers {
        for i in 0..<wcount { dw[i] += partialW[w * wcount + i] }
        for i in 0..<cout { dbias[i] += partialB[w * cout + i] }
    }
    return (dx, dw, dbias)
}

/// 2-D cross-correlation (the deep-learning "convolution"), NCHW layout, via im2col + one sgemm:
/// y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v] · x[n, c, i·s − p + u, j·s − p + v].
/// Shapes: `x` [N, C, H, W], `filter` [Cout, C, kh, kw], `bias` [Cout] → [N, Cout, Ho, Wo] with
/// Ho = ⌊(H + 2p − kh)/s⌋ + 1. Pullbacks: dW = G·colᵀ, dcol = Wᵀ·G then col2im, db = Σ G.
@differentiable(reverse, wrt: (x, filter, bias))
public func conv2d(_ x: Tensor, filter: Tensor, bias: Tensor, stride: Int = 1, padding: Int = 0) -> Tensor {
    conv2dForward(x, filter, bias, convGeometry(x, filter, stride: stride, padding: padding))
}

/// Reverse-mode derivative of `conv2d`: the value and its pullback.
@derivative(of: conv2d, wrt: (x, filter, bias))
public func _vjpConv2d(_ x: Tensor, filter: Tensor, bias: Tensor, stride: Int, padding: Int)
    -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
    let g = convGeometry(x, filter, stride: stride, padding: padding)
    let y = conv2dForward(x, filter, bias, g)
    return (y, { grad in
        let r = conv2dBackward(x, filter, grad.materialized(y.shape), g)
        return (Tensor(shape: x.shape, scalars: r.dx), Tensor(shape: filter.shape, scalars: r.dw), Tensor(shape: [filter.shape[0]], scalars: r.db))
    })
}

/// Reverse-mode derivative of `conv2d` with respect to the filter and bias only, which the compiler selects when the
/// input is not being differentiated (e.g. a network's first layer, whose input is data): the pullback skips the
/// input-gradient GEMM and col2im (PyTorch likewise skips it for inputs that do not require grad).
@derivative(of: conv2d, wrt: (filter, bias))
public func _vjpConv2dParameters(_ x: Tensor, filter: Tensor, bias: Tensor, stride: Int, padding: Int)
    -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
    let g = convGeometry(x, filter, stride: stride, padding: padding)
    let y = conv2dForward(x, filter, bias, g)
    return (y, { grad in
        let r = conv2dBackward(x, filter, grad.materialized(y.shape), g, inputGradient: false)
        return (Tensor(shape: filter.shape, scalars: r.dw), Tensor(shape: [filter.shape[0]], scalars: r.db))
    })
}

func maxPoolForward(_ x: Tensor, _ k: Int, _ s: Int) -> (Tensor, [Int32]) {
    precondition(x.rank == 4 && k >= 1 && s >= 1 && x.shape[2] >= k && x.shape[3] >= k,
                 "maxPool2d: input [N, C, H, W] with H, W ≥ kernel expected, got \(x.shape), kernel \(k)")
    let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
    let ho = (h - k) / s + 1, wo = (w - k) / s + 1
    // every window writes its element of `out` and `arg`: no zero-fill
    var out = [Float](unsafeUninitializedCapacity: planes * ho * wo) { _, c in c = planes * ho * wo }
    var arg = [Int32](unsafeUninitializedCapacity: out.count) { _, c in c = planes * ho * wo }
    x.scalars.withUnsafeBufferPointer { pxb in
        out.withUnsafeMutableBufferPointer { pob in
            arg.withUnsafeMutableBufferPointer { pab in
                guard let x0 = pxb.baseAddress, let o0 = pob.baseAddress, let a0 = pab.baseAddress else { return }
                let px = SendableMutablePointer(mutating: x0), po = SendableMutablePointer(o0), pa = SendableMutablePointer(a0)
                // planes are independent: split over the workers past 2¹⁶ outputs (same result for any split)
                parallelChunks(planes, workers: planes * ho * wo >= 65_536 ? learningWorkers : 1) { _, range in
                    for p in range {
                        for oy in 0..<ho {
                            for ox in 0..<wo {
                                // the window's first element, so an all-NaN window still points inside itself
                                var bi = p * h * w + oy * s * w + ox * s, best = px.pointer[bi]
                                for i in 0..<k {
                                    for j in 0..<k {
                                        let idx = p * h * w + (oy * s + i) * w + ox * s + j
                                        if px.pointer[idx] > best { best = px.pointer[idx]; bi = idx }
                                    }
                                }
                                let o = (p * ho + oy) * wo + ox
                                po.pointer[o] = best; pa.pointer[o] = Int32(bi)
                            }
                        }
                    }
                }
            }
        }
    }
    return (Tensor(shape: [x.shape[0], x.shape[1], ho, wo], scalars: out), arg)
}

/// 2-D max pooling, window `kernel`×`kernel`, step `stride` (default = kernel), no padding.
/// `[N, C, H, W] → [N, C, ⌊(H − k)/s⌋ + 1, ⌊(W − k)/s⌋ + 1]`. The gradient flows to the
/// (first) maximal element of each window.
@differentiable(reverse, wrt: x)
public func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil) -> Tensor {
    maxPoolForward(x, kernel, stride ?? kernel).0
}
/// Reverse-mode derivative of `maxPool2d`: the value and its pullback.
@derivative(of: maxPool2d, wrt: x)
public func _vjpMaxPool2d(_ x: Tensor, kernel: Int, stride: Int?) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
    let (y, arg) = maxPoolForward(x, kernel, stride ?? kernel)
    let n = x.count, shape = x.shape
    return (y, { g in
        let g = g.materialized(y.shape)
        var dx = [Float](repeating: 0, count: n)
        for o in 0..<arg.count { dx[Int(arg[o])] += g.scalars[o] }
        return Tensor(shape: shape, scalars: dx)
    })
}
