import _Differentiation
import Foundation
import Linalg

// MARK: - Softmax and normalization over the last axis

extension Tensor {
    /// Softmax over the last axis, computed stably as e^{x−max}/Σe^{x−max} (8-lane `fastExp`, ≤ 2 ulp).
    /// Pullback: dx = y ⊙ (g − Σ_j g_j y_j).
    @differentiable(reverse)
    public func softmax() -> Tensor { softmaxRaw() }
    func softmaxRaw() -> Tensor {
        let c = shape.last ?? 1, rows = count / Swift.max(c, 1)
        let out = scalars.withUnsafeBufferPointer { pb in
            uninitializedFloats(count) { po in
                let p = SendableMutablePointer(mutating: pb.baseAddress!), o = SendableMutablePointer(po)
                parallelChunks(rows * c >= 65_536 ? rows : 1) { _, rr in
                    let range = rows * c >= 65_536 ? rr : 0..<rows
                    softmaxRows(p.pointer + range.lowerBound * c, o.pointer + range.lowerBound * c, range.count, c)
                }
            }
        }
        return Tensor(shape: shape, scalars: out)
    }
    /// Reverse-mode derivative of `softmax`: the value and its pullback.
    @derivative(of: softmax)
    public func _vjpSoftmax() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let y = softmaxRaw()
        return (y, { g in
            let g = g.materialized(y.shape)
            let c = y.shape.last ?? 1, rows = y.count / Swift.max(c, 1)
            let big = y.count >= 65_536
            let dx = y.scalars.withUnsafeBufferPointer { pyb in
                g.scalars.withUnsafeBufferPointer { pgb in
                    uninitializedFloats(y.count) { pdp in
                        let py = SendableMutablePointer(mutating: pyb.baseAddress!), pg = SendableMutablePointer(mutating: pgb.baseAddress!)
                        let pd = SendableMutablePointer(pdp)
                        parallelChunks(big ? rows : 1) { _, rr in
                            let range = big ? rr : 0..<rows
                            softmaxPullbackRows(py.pointer + range.lowerBound * c, pg.pointer + range.lowerBound * c,
                                                pd.pointer + range.lowerBound * c, range.count, c)
                        }
                    }
                }
            }
            return Tensor(shape: y.shape, scalars: dx)
        })
    }
}

/// Layer normalization over the last axis: y = (x − μ)/√(σ² + ε) · γ + β with the biased
/// variance σ² of each row. Shapes: `x` [… , D], `gamma`, `beta` [D].
@differentiable(reverse, wrt: (x, gamma, beta))
public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5) -> Tensor {
    layerNormForward(x, gamma, beta, epsilon).y
}

func layerNormForward(_ x: Tensor, _ gamma: Tensor, _ beta: Tensor, _ eps: Float) -> (y: Tensor, xhat: [Float], rstd: [Float]) {
    let d = x.shape.last ?? 1, rows = x.count / Swift.max(d, 1)
    precondition(gamma.shape == [d] && beta.shape == [d], "layerNorm: gamma/beta must be [\(d)]")
    var y = [Float](repeating: 0, count: x.count), xhat = y
    var rstd = [Float](repeating: 0, count: rows)
    x.scalars.withUnsafeBufferPointer { pxb in
        gamma.scalars.withUnsafeBufferPointer { pgb in
            beta.scalars.withUnsafeBufferPointer { pbb in
                y.withUnsafeMutableBufferPointer { pyb in
                    xhat.withUnsafeMutableBufferPointer { phb in
                        rstd.withUnsafeMutableBufferPointer { prb in
                            guard let x0 = pxb.baseAddress, let g0 = pgb.baseAddress, let b0 = pbb.baseAddress,
                                  let y0 = pyb.baseAddress, let h0 = phb.baseAddress, let r0 = prb.baseAddress else { return }
                            let px = SendableMutablePointer(mutating: x0), pg = SendableMutablePointer(mutating: g0)
                            let pb = SendableMutablePointer(mutating: b0), py = SendableMutablePointer(y0)
                            let ph = SendableMutablePointer(h0), prs = SendableMutablePointer(r0)
                            // rows are independent: split over the workers past 2¹⁶ elements (same result for any split)
                            parallelChunks(rows, workers: x.count >= 65_536 ? learningWorkers : 1) { _, range in
                                let px = px.pointer, pg = pg.pointer, pb = pb.pointer, py = py.pointer, ph = ph.pointer
                                for r in range {
                                    let b = r * d
                                    var m: Float = 0
                                    for j in 0..<d { m += px[b + j] }
                                    m /= Float(d)
                                    var v: Float = 0
                                    for j in 0..<d { let t = px[b + j] - m; v += t * t }
                                    v /= Float(d)
                                    let rs = 1 / (v + eps).squareRoot()
                                    prs.pointer[r] = rs
                                    for j in 0..<d {
                                        let h = (px[b + j] - m) * rs
                                        ph[b + j] = h
                                        py[b + j] = h * pg[j] + pb[j]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return (Tensor(shape: x.shape, scalars: y), xhat, rstd)
}

/// Reverse-mode derivative of `layerNorm`: the value and its pullback.
@derivative(of: layerNorm, wrt: (x, gamma, beta))
public func _vjpLayerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float)
    -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
    let (y, xhat, rstd) = layerNormForward(x, gamma, beta, epsilon)
    return (y, { g in
        let g = g.materialized(y.shape)
        let d = x.shape.last ?? 1, rows = x.count / Swift.max(d, 1)
        var dx = [Float](repeating: 0, count: x.count)
        var dg = [Float](repeating: 0, count: d), db = dg
        g.scalars.withUnsafeBufferPointer { pg in
            gamma.scalars.withUnsafeBufferPointer { pgam in
                xhat.withUnsafeBufferPointer { ph in
                    dx.withUnsafeMutableBufferPointer { pd in
                        for r in 0..<rows {
                            let b = r * d
                            var s1: Float = 0, s2: Float = 0
                            for j in 0..<d {
                                let dh = pg[b + j] * pgam[j]
                                s1 += dh; s2 += dh * ph[b + j]
                                dg[j] += pg[b + j] * ph[b + j]; db[j] += pg[b + j]
                            }
                            s1 /= Float(d); s2 /= Float(d)
                            for j in 0..<d { pd[b + j] = rstd[r] * (pg[b + j] * pgam[j] - s1 - ph[b + j] * s2) }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: x.shape, scalars: dx), Tensor(shape: [d], scalars: dg), Tensor(shape: [d], scalars: db))
    })
}

// MARK: - Batch normalization

/// Running mean/variance of a batch-norm layer. A reference type on purpose: the statistics are
/// updated as a side effect of a training forward pass, outside the differentiable data flow
/// (they are buffers, not parameters). Copies of a layer share one box.
public final class BatchNormStatistics: @unchecked Sendable {
    /// Per-channel running mean and (unbiased) running variance, `[C]` each.
    public var mean: [Float]
    public var variance: [Float]
    /// Update rate: running ← (1 − momentum)·running + momentum·batch (PyTorch convention).
    public let momentum: Float
    private let lock = NSLock()

    /// Running mean 0 and variance for `channels` channels.
    public init(channels: Int, momentum: Float = 0.1) {
        mean = [Float](repeating: 0, count: channels)
        variance = [Float](repeating: 1, count: channels)
        self.momentum = momentum
    }

    func update(batchMean: [Float], batchVariance: [Float], count: Int) {
        lock.lock(); defer { lock.unlock() }
        let unbias = count > 1 ? Float(count) / Float(count - 1) : 1
        for c in 0..<mean.count {
            mean[c] = (1 - momentum) * mean[c] + momentum * batchMean[c]
            variance[c] = (1 - momentum) * variance[c] + momentum * batchVariance[c] * unbias
        }
    }
}

/// Batch normalization with batch statistics (training mode). `x` is `[N, C, …]` (any trailing
/// spatial dims); statistics are per channel over N and the spatial dims; `gamma`, `beta` `[C]`.
/// y = (x − μ_c)/√(σ²_c + ε) · γ_c + β_c with the biased batch variance. When `statistics` is
/// given, its running averages are updated once per call (also when differentiated).
@differentiable(reverse, wrt: (x, gamma, beta))
public func batchNormTraining(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5,
                              statistics: BatchNormStatistics? = nil) -> Tensor {
    let f = batchNormForward(x, gamma, beta, epsilon)
    statistics?.update(batchMean: f.mean, batchVariance: f.variance, count: f.m)
    return f.y
}

func batchNormForward(_ x: Tensor, _ gamma: Tensor, _ beta: Tensor, _ eps: Float)
    -> (y: Tensor, xhat: [Float], rstd: [Float], mean: [Float], variance: [Float], m: Int) {
    precondition(x.rank >= 2, "batchNorm: input must be [N, C, …], got \(x.shape)")
    let n = x.shape[0], c = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
    precondition(gamma.shape == [c] && beta.shape == [c], "batchNorm: gamma/beta must be [\(c)]")
    let m = n * inner
    var mean = [Float](repeating: 0, count: c), variance = mean, rstd = mean
    // y and xhat are written element by element below (no zero-fill)
    var y = [Float](unsafeUninitializedCapacity: x.count) { _, k in k = x.count }
    var xhat = [Float](unsafeUninitializedCapacity: x.count) { _, k in k = x.count }
    // Per channel (channels split over the cores past 2¹⁶ elements, each worker writes only its channels):
    // 8-lane float sums of each contiguous [inner] row, accumulated over the batch in float64; then the
    // normalization of that channel's rows.
    x.scalars.withUnsafeBufferPointer { pxb in
        gamma.scalars.withUnsafeBufferPointer { pgb in
            beta.scalars.withUnsafeBufferPointer { pbb in
                xhat.withUnsafeMutableBufferPointer { phb in
                    y.withUnsafeMutableBufferPointer { pyb in
                        mean.withUnsafeMutableBufferPointer { pmb in
                            variance.withUnsafeMutableBufferPointer { pvb in
                                rstd.withUnsafeMutableBufferPointer { prb in
                                    guard x.count > 0 else { return }
                                    let px = SendableMutablePointer(mutating: pxb.baseAddress!), pg = SendableMutablePointer(mutating: pgb.baseAddress!)
                                    let pbe = SendableMutablePointer(mutating: pbb.baseAddress!), ph = SendableMutablePointer(phb.baseAddress!)
                                    let py = SendableMutablePointer(pyb.baseAddress!), pm = SendableMutablePointer(pmb.baseAddress!)
                                    let pv = SendableMutablePointer(pvb.baseAddress!), pr = SendableMutablePointer(prb.baseAddress!)
                                    parallelChunks(x.count >= 65_536 ? c : 1) { _, chunk in
                                        for ch in (x.count >= 65_536 ? chunk : 0..<c) {
                                            var s: Double = 0
                                            for b in 0..<n { s += Double(vectorSum(px.pointer + (b * c + ch) * inner, inner)) }
                                            let mu = Float(s / Double(Swift.max(m, 1)))
                                            var v: Double = 0
                                            for b in 0..<n { v += Double(vectorSquaredDeviation(px.pointer + (b * c + ch) * inner, inner, mu)) }
                                            let vr = Float(v / Double(Swift.max(m, 1)))
                                            let rs = 1 / (vr + eps).squareRoot()
                                            pm.pointer[ch] = mu; pv.pointer[ch] = vr; pr.pointer[ch] = rs
                                            let ga = pg.pointer[ch], be = pbe.pointer[ch]
                                            for b in 0..<n {
                                                let o = (b * c + ch) * inner
                                                batchNormRow(px.pointer + o, ph.pointer + o, py.pointer + o, inner, mu, rs, ga, be)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return (Tensor(shape: x.shape, scalars: y), xhat, rstd, mean, variance, m)
}

/// Σ (p[i] − mu)² over `n` contiguous floats, 8 lanes at a time.
@inline(__always)
func vectorSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
    let mb = SIMD8<Float>(repeating: mu)
    var a = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= n { let t = UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self) - mb; a += t * t; j += 8 }
    var s = a.sum()
    while j < n { let t = p[j] - mu; s += t * t; j += 1 }
    return s
}

/// One row of the batch-norm forward: h = (x − mu)·rs, y = h·ga + be.
@inline(__always)
func batchNormRow(_ x: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                  _ n: Int, _ mu: Float, _ rs: Float, _ ga: Float, _ be: Float) {
    let mb = SIMD8<Float>(repeating: mu), rb = SIMD8<Float>(repeating: rs)
    let gb = SIMD8<Float>(repeating: ga), bb = SIMD8<Float>(repeating: be)
    var j = 0
    while j + 8 <= n {
        let hv = (UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) - mb) * rb
        UnsafeMutableRawPointer(h + j).storeBytes(of: hv, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + j).storeBytes(of: hv * gb + bb, as: SIMD8<Float>.self)
        j += 8
    }
    while j < n { let hv = (x[j] - mu) * rs; h[j] = hv; y[j] = hv * ga + be; j += 1 }
}

/// One row of the batch-norm training pullback: adds Σ g and Σ g·h to `sg`, `sgh`.
@inline(__always)
func batchNormGradSums(_ g: UnsafePointer<Float>, _ h: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
    var a = SIMD8<Float>(repeating: 0), b = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= n {
        let gv = UnsafeRawPointer(g + j).loadUnaligned(as: SIMD8<Float>.self)
        a += gv; b += gv * UnsafeRawPointer(h + j).loadUnaligned(as: SIMD8<Float>.self); j += 8
    }
    var sg = a.sum(), sgh = b.sum()
    while j < n { sg += g[j]; sgh += g[j] * h[j]; j += 1 }
    return (sg, sgh)
}

/// Reverse-mode derivative of `batchNormTraining`: the value and its pullback.
@derivative(of: batchNormTraining, wrt: (x, gamma, beta))
public func _vjpBatchNormTraining(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float,
                                  statistics: BatchNormStatistics?)
    -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
    let f = batchNormForward(x, gamma, beta, epsilon)
    statistics?.update(batchMean: f.mean, batchVariance: f.variance, count: f.m)
    let shape = x.shape
    return (f.y, { g in
        let g = g.materialized(shape)
        let n = shape[0], c = shape[1], inner = shape.dropFirst(2).reduce(1, *)
        var dx = [Float](unsafeUninitializedCapacity: g.count) { _, k in k = g.count }  // every element written below
        var dg = [Float](repeating: 0, count: c), db = dg
        let big = g.count >= 65_536
        g.scalars.withUnsafeBufferPointer { pgb in
            f.xhat.withUnsafeBufferPointer { phb in
                gamma.scalars.withUnsafeBufferPointer { pgab in
                    f.rstd.withUnsafeBufferPointer { prb in
                        dx.withUnsafeMutableBufferPointer { pdb in
                            dg.withUnsafeMutableBufferPointer { pdgb in
                                db.withUnsafeMutableBufferPointer { pdbb in
                                    guard g.count > 0 else { return }
                                    let pg = SendableMutablePointer(mutating: pgb.baseAddress!), ph = SendableMutablePointer(mutating: phb.baseAddress!)
                                    let pga = SendableMutablePointer(mutating: pgab.baseAddress!), pr = SendableMutablePointer(mutating: prb.baseAddress!)
                                    let pd = SendableMutablePointer(pdb.baseAddress!), pdg = SendableMutablePointer(pdgb.baseAddress!)
                                    let pdbias = SendableMutablePointer(pdbb.baseAddress!)
                                    let inv = 1 / Float(f.m)
                                    parallelChunks(big ? c : 1) { _, chunk in
                                        for ch in (big ? chunk : 0..<c) {
                                            var sg: Float = 0, sgh: Float = 0
                                            for b in 0..<n {
                                                let o = (b * c + ch) * inner
                                                let (a1, a2) = batchNormGradSums(pg.pointer + o, ph.pointer + o, inner)
                                                sg += a1; sgh += a2
                                            }
                                            pdg.pointer[ch] = sgh; pdbias.pointer[ch] = sg
                                            let k0 = SIMD8<Float>(repeating: pga.pointer[ch] * pr.pointer[ch])
                                            let k1 = SIMD8<Float>(repeating: sg * inv), k2 = SIMD8<Float>(repeating: sgh * inv)
                                            for b in 0..<n {
                                                let o = (b * c + ch) * inner
                                                let gp = pg.pointer + o, hp = ph.pointer + o, dp = pd.pointer + o
                                                var j = 0
                                                while j + 8 <= inner {
                                                    let gv = UnsafeRawPointer(gp + j).loadUnaligned(as: SIMD8<Float>.self)
                                                    let hv = UnsafeRawPointer(hp + j).loadUnaligned(as: SIMD8<Float>.self)
                                                    UnsafeMutableRawPointer(dp + j).storeBytes(of: k0 * (gv - k1 - hv * k2), as: SIMD8<Float>.self)
                                                    j += 8
                                                }
                                                while j < inner { dp[j] = k0[0] * (gp[j] - k1[0] - hp[j] * k2[0]); j += 1 }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: shape, scalars: dx), Tensor(shape: [c], scalars: dg), Tensor(shape: [c], scalars: db))
    })
}

/// Batch normalization with the running statistics (eval mode):
/// y = (x − μ_run,c)/√(σ²_run,c + ε) · γ_c + β_c, an affine map per channel of `[N, C, …]`.
@differentiable(reverse, wrt: (x, gamma, beta))
public func batchNormInference(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5,
                               statistics: BatchNormStatistics) -> Tensor {
    batchNormInferenceForward(x, gamma, beta, epsilon, statistics).y
}
func batchNormInferenceForward(_ x: Tensor, _ gamma: Tensor, _ beta: Tensor, _ eps: Float, _ st: BatchNormStatistics)
    -> (y: Tensor, xhat: [Float], rstd: [Float]) {
    let n = x.shape[0], c = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
    precondition(gamma.shape == [c] && st.mean.count == c, "batchNormInference: \(c) channels expected")
    let rstd = st.variance.map { 1 / ($0 + eps).squareRoot() }
    var y = [Float](repeating: 0, count: x.count), xhat = y
    for b in 0..<n {
        for ch in 0..<c {
            let o = (b * c + ch) * inner
            for j in 0..<inner {
                let h = (x.scalars[o + j] - st.mean[ch]) * rstd[ch]
                xhat[o + j] = h; y[o + j] = h * gamma.scalars[ch] + beta.scalars[ch]
            }
        }
    }
    return (Tensor(shape: x.shape, scalars: y), xhat, rstd)
}
/// Reverse-mode derivative of `batchNormInference`: the value and its pullback.
@derivative(of: batchNormInference, wrt: (x, gamma, beta))
public func _vjpBatchNormInference(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float,
                                   statistics: BatchNormStatistics)
    -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
    let f = batchNormInferenceForward(x, gamma, beta, epsilon, statistics)
    let shape = x.shape
    return (f.y, { g in
        let g = g.materialized(shape)
        let n = shape[0], c = shape[1], inner = shape.dropFirst(2).reduce(1, *)
        var dx = [Float](repeating: 0, count: g.count)
        var dg = [Float](repeating: 0, count: c), db = dg
        for b in 0..<n {
            for ch in 0..<c {
                let o = (b * c + ch) * inner, k = gamma.scalars[ch] * f.rstd[ch]
                for j in 0..<inner {
                    let v = g.scalars[o + j]
                    dx[o + j] = v * k; dg[ch] += v * f.xhat[o + j]; db[ch] += v
                }
            }
        }
        return (Tensor(shape: shape, scalars: dx), Tensor(shape: [c], scalars: dg), Tensor(shape: [c], scalars: db))
    })
}

// MARK: - Dropout

/// Inverted dropout: each element is zeroed with probability `rate` and the survivors are scaled
/// by 1/(1 − rate), so the expectation is unchanged. The mask is drawn from
/// `RandomSource(seed: seed, stream: stream)`; pass e.g. the training step as `stream` so each
/// step draws a fresh, reproducible mask.
@differentiable(reverse, wrt: x)
public func dropout(_ x: Tensor, rate: Float, seed: UInt64, stream: UInt64) -> Tensor {
    x * dropoutMask(shape: withoutDerivative(at: x).shape, rate: rate, seed: seed, stream: stream)
}

func dropoutMask(shape: [Int], rate: Float, seed: UInt64, stream: UInt64) -> Tensor {
    var rng = RandomSource(seed: seed, stream: stream)
    let keep = 1 / (1 - rate)
    let n = shape.reduce(1, *)
    var m = [Float](repeating: 0, count: n)
    for i in 0..<n { m[i] = Float(rng.uniform()) >= rate ? keep : 0 }
    return Tensor(shape: shape, scalars: m)
}

// MARK: - Losses (mean over all elements/rows; rank-0 results)

/// Mean cross-entropy of softmax(logits) against integer class labels:
/// L = −(1/N) Σ_n log softmax(z_n)[y_n]. `logits` `[N, C]`, `labels` N integers in 0..<C.
/// Gradient: (softmax(z) − onehot(y))/N.
@differentiable(reverse, wrt: logits)
public func softmaxCrossEntropy(logits: Tensor, labels: [Int]) -> Tensor {
    crossEntropyForward(logits, labels).loss
}
func crossEntropyForward(_ logits: Tensor, _ labels: [Int]) -> (loss: Tensor, probs: Tensor) {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count, "softmaxCrossEntropy: logits \(logits.shape), \(labels.count) labels")
    let c = logits.shape[1]
    let p = logits.softmaxRaw()
    var loss: Double = 0
    for (i, y) in labels.enumerated() {
        precondition(y >= 0 && y < c, "softmaxCrossEntropy: label \(y) out of 0..<\(c)")
        // log-sum-exp form for accuracy: −z_y + m + log Σ e^{z−m}
        var m = -Float.infinity
        for j in 0..<c { m = Swift.max(m, logits.scalars[i * c + j]) }
        var s: Double = 0
        for j in 0..<c { s += Foundation.exp(Double(logits.scalars[i * c + j] - m)) }
        loss += -Double(logits.scalars[i * c + y] - m) + Foundation.log(s)
    }
    return (Tensor(Float(loss / Double(Swift.max(labels.count, 1)))), p)
}
/// Reverse-mode derivative of `softmaxCrossEntropy`: the value and its pullback.
@derivative(of: softmaxCrossEntropy, wrt: logits)
public func _vjpSoftmaxCrossEntropy(logits: Tensor, labels: [Int]) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
    let (loss, p) = crossEntropyForward(logits, labels)
    return (loss, { g in
        let c = logits.shape[1], scale = g.scalars[0] / Float(Swift.max(labels.count, 1))
        var d = p.scalars
        for (i, y) in labels.enumerated() { d[i * c + y] -= 1 }
        for i in 0..<d.count { d[i] *= scale }
        return Tensor(shape: logits.shape, scalars: d)
    })
}

/// Heteroscedastic Gaussian negative log-likelihood (constant dropped), mean over elements:
/// L = mean ½(e^{−s}(y − μ)² + s) with s = log σ² predicted by the network.
/// Gradients: ∂/∂μ = −e^{−s}(y − μ)/n, ∂/∂s = ½(1 − e^{−s}(y − μ)²)/n. All three share a shape.
@differentiable(reverse, wrt: (mean, logVariance))
public func gaussianNLL(mean: Tensor, logVariance: Tensor, target: Tensor) -> Tensor {
    gaussianNLLForward(mean, logVariance, target)
}
func gaussianNLLForward(_ mu: Tensor, _ s: Tensor, _ y: Tensor) -> Tensor {
    precondition(mu.shape == s.shape && mu.shape == y.shape, "gaussianNLL: shapes \(mu.shape), \(s.shape), \(y.shape)")
    var acc: Double = 0
    for i in 0..<mu.count {
        let r = Double(y.scalars[i] - mu.scalars[i]), si = Double(s.scalars[i])
        acc += 0.5 * (Foundation.exp(-si) * r * r + si)
    }
    return Tensor(Float(acc / Double(Swift.max(mu.count, 1))))
}
/// Reverse-mode derivative of `gaussianNLL`: the value and its pullback.
@derivative(of: gaussianNLL, wrt: (mean, logVariance))
public func _vjpGaussianNLL(mean: Tensor, logVariance: Tensor, target: Tensor)
    -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
    let v = gaussianNLLForward(mean, logVariance, target)
    return (v, { g in
        let n = Float(Swift.max(mean.count, 1)), sc = g.scalars[0] / n
        var dmu = [Float](repeating: 0, count: mean.count), ds = dmu
        for i in 0..<mean.count {
            let r = target.scalars[i] - mean.scalars[i], w = Foundation.expf(-logVariance.scalars[i])
            dmu[i] = -w * r * sc
            ds[i] = 0.5 * (1 - w * r * r) * sc
        }
        return (Tensor(shape: mean.shape, scalars: dmu), Tensor(shape: mean.shape, scalars: ds))
    })
}

/// Mean squared error mean((p − t)²) (rank-0); `target` is a constant.
@differentiable(reverse, wrt: prediction)
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    (prediction - target).squared().mean()
}

/// Mean absolute error mean|p − t| (rank-0); `target` is a constant; subgradient 0 at p = t.
@differentiable(reverse, wrt: prediction)
public func meanAbsoluteError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    (prediction - target).abs().mean()
}
