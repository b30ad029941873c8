import _Differentiation
import CLinalg
import Foundation

/// Geometry of a 2-D convolution / pooling window.
@usableFromInline struct ConvGeometry: Sendable {
    let n, c, h, w, kh, kw, stride, padding, ho, wo: Int
    var ckk: Int { c * kh * kw }
    var cols: Int { n * ho * wo }
}

/// im2col: `col[(c·kh + i)·kw + j, (n·Ho + oy)·Wo + ox] = x[n, c, oy·s − p + i, ox·s − p + j]`
/// (zero outside the image). Rows are split over the cores.
func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>) {
    let px = SendableConstPointer(x), pc = SendablePointer(col)
    parallelFor(g.ckk, costPerItem: g.cols) { rows in
        for r in rows {
            let c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw
            var dst = pc.p + r * g.cols
            for n in 0..<g.n {
                let img = px.p + (n * g.c + c) * g.h * g.w
                for oy in 0..<g.ho {
                    let y = oy * g.stride - g.padding + i
                    if y < 0 || y >= g.h {
                        for ox in 0..<g.wo { dst[ox] = 0 }
                    } else {
                        let row = img + y * g.w
                        if g.stride == 1 {
                            for ox in 0..<g.wo {
                                let xx = ox - g.padding + j
                                dst[ox] = (xx >= 0 && xx < g.w) ? row[xx] : 0
                            }
                        } else {
                            for ox in 0..<g.wo {
                                let xx = ox * g.stride - g.padding + j
                                dst[ox] = (xx >= 0 && xx < g.w) ? row[xx] : 0
                            }
                        }
                    }
                    dst += g.wo
                }
            }
        }
    }
}

/// Adjoint of `im2col`: scatter-adds columns back into the image; split over (n, c) planes so
/// each worker owns its output plane.
func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ dx: UnsafeMutablePointer<Float>) {
    let pc = SendableConstPointer(col), pd = SendablePointer(dx)
    parallelFor(g.n * g.c, costPerItem: g.kh * g.kw * g.ho * g.wo) { planes in
        for plane in planes {
            let n = plane / g.c, c = plane % g.c
            let img = pd.p + plane * g.h * g.w
            for i in 0..<g.kh {
                for j in 0..<g.kw {
                    let r = (c * g.kh + i) * g.kw + j
                    let src = pc.p + r * g.cols + n * g.ho * g.wo
                    for oy in 0..<g.ho {
                        let y = oy * g.stride - g.padding + i
                        if y < 0 || y >= g.h { continue }
                        let row = img + y * g.w, s = src + oy * g.wo
                        for ox in 0..<g.wo {
                            let xx = ox * g.stride - g.padding + j
                            if xx >= 0 && xx < g.w { row[xx] += s[ox] }
                        }
                    }
                }
            }
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

/// Forward kernel; returns the output and the im2col buffer (kept for the weight gradient).
func conv2dForward(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ g: ConvGeometry) -> (Tensor, [Float]) {
    let cout = w.shape[0], hw = g.ho * g.wo
    var col = [Float](repeating: 0, count: g.ckk * g.cols)
    x.scalars.withUnsafeBufferPointer { px in col.withUnsafeMutableBufferPointer { im2col(px.baseAddress!, g, $0.baseAddress!) } }
    // [Cout, CKK] · [CKK, N·Ho·Wo] in one GEMM so OpenBLAS can use every core.
    var mat = [Float](repeating: 0, count: cout * g.cols)
    w.scalars.withUnsafeBufferPointer { pw in
        col.withUnsafeBufferPointer { pc in
            mat.withUnsafeMutableBufferPointer { pm in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(cout), Int32(g.cols), Int32(g.ckk), 1,
                            pw.baseAddress, Int32(g.ckk), pc.baseAddress, Int32(g.cols), 0, pm.baseAddress, Int32(g.cols))
            }
        }
    }
    var out = [Float](repeating: 0, count: g.n * cout * hw)
    mat.withUnsafeBufferPointer { pm in
        out.withUnsafeMutableBufferPointer { po in
            b.scalars.withUnsafeBufferPointer { pb in
                for n in 0..<g.n {
                    for co in 0..<cout {
                        let src = co * g.cols + n * hw, dst = (n * cout + co) * hw, bias = pb[co]
                        for q in 0..<hw { po[dst + q] = pm[src + q] + bias }
                    }
                }
            }
        }
    }
    return (Tensor(shape: [g.n, cout, g.ho, g.wo], scalars: out), col)
}

/// 2-D cross-correlation (the deep-learning "convolution"), NCHW layout, via im2col + one sgemm:
/// y[n, o, i, j] = b[o] + Σ_{c,u,v} w[o, c, u, v] · x[n, c, i·s − p + u, j·s − p + v].
/// Shapes: `x` [N, C, H, W], `filter` [Cout, C, kh, kw], `bias` [Cout] → [N, Cout, Ho, Wo] with
/// Ho = ⌊(H + 2p − kh)/s⌋ + 1. Pullbacks: dW = G·colᵀ, dcol = Wᵀ·G then col2im, db = Σ G.
@differentiable(reverse, wrt: (x, filter, bias))
public func conv2d(_ x: Tensor, filter: Tensor, bias: Tensor, stride: Int = 1, padding: Int = 0) -> Tensor {
    conv2dForward(x, filter, bias, convGeometry(x, filter, stride: stride, padding: padding)).0
}

@derivative(of: conv2d, wrt: (x, filter, bias))
public func _vjpConv2d(_ x: Tensor, filter: Tensor, bias: Tensor, stride: Int, padding: Int)
    -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
    let g = convGeometry(x, filter, stride: stride, padding: padding)
    let (y, col) = conv2dForward(x, filter, bias, g)
    let cout = filter.shape[0], hw = g.ho * g.wo
    return (y, { grad in
        let grad = grad.materialized(y.shape)
        // G as [Cout, N·Ho·Wo] (same layout as the forward GEMM output).
        var gm = [Float](repeating: 0, count: cout * g.cols)
        var db = [Float](repeating: 0, count: cout)
        grad.scalars.withUnsafeBufferPointer { pg in
            gm.withUnsafeMutableBufferPointer { pm in
                for n in 0..<g.n {
                    for co in 0..<cout {
                        let src = (n * cout + co) * hw, dst = co * g.cols + n * hw
                        var s: Float = 0
                        for q in 0..<hw { let v = pg[src + q]; pm[dst + q] = v; s += v }
                        db[co] += s
                    }
                }
            }
        }
        var dw = [Float](repeating: 0, count: filter.count)
        var dcol = [Float](repeating: 0, count: g.ckk * g.cols)
        gm.withUnsafeBufferPointer { pm in
            col.withUnsafeBufferPointer { pc in
                dw.withUnsafeMutableBufferPointer { pw in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(cout), Int32(g.ckk), Int32(g.cols), 1,
                                pm.baseAddress, Int32(g.cols), pc.baseAddress, Int32(g.cols), 0, pw.baseAddress, Int32(g.ckk))
                }
            }
            filter.scalars.withUnsafeBufferPointer { pf in
                dcol.withUnsafeMutableBufferPointer { pd in
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(g.ckk), Int32(g.cols), Int32(cout), 1,
                                pf.baseAddress, Int32(g.ckk), pm.baseAddress, Int32(g.cols), 0, pd.baseAddress, Int32(g.cols))
                }
            }
        }
        var dx = [Float](repeating: 0, count: x.count)
        dcol.withUnsafeBufferPointer { pd in dx.withUnsafeMutableBufferPointer { col2im(pd.baseAddress!, g, $0.baseAddress!) } }
        return (Tensor(shape: x.shape, scalars: dx), Tensor(shape: filter.shape, scalars: dw), Tensor(shape: [cout], scalars: db))
    })
}

func maxPoolForward(_ x: Tensor, _ k: Int, _ s: Int) -> (Tensor, [Int32]) {
    precondition(x.rank == 4 && k >= 1 && s >= 1 && x.shape[2] >= k && x.shape[3] >= k,
                 "maxPool2d: input [N, C, H, W] with H, W ≥ kernel expected, got \(x.shape), kernel \(k)")
    let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
    let ho = (h - k) / s + 1, wo = (w - k) / s + 1
    var out = [Float](repeating: 0, count: planes * ho * wo)
    var arg = [Int32](repeating: 0, count: out.count)
    x.scalars.withUnsafeBufferPointer { px in
        out.withUnsafeMutableBufferPointer { po in
            arg.withUnsafeMutableBufferPointer { pa in
                for p in 0..<planes {
                    for oy in 0..<ho {
                        for ox in 0..<wo {
                            var best = -Float.infinity, bi = 0
                            for i in 0..<k {
                                for j in 0..<k {
                                    let idx = p * h * w + (oy * s + i) * w + ox * s + j
                                    if px[idx] > best { best = px[idx]; bi = idx }
                                }
                            }
                            let o = (p * ho + oy) * wo + ox
                            po[o] = best; pa[o] = Int32(bi)
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
