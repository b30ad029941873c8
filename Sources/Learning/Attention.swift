import _Differentiation
import Linalg

/// Fused multi-head scaled dot-product attention on token-major tensors:
///
///   O[n, :, h·dₕ ..< (h+1)·dₕ] = softmax(Qₕ Kₕᵀ / √dₕ) Vₕ,   Qₕ = Q[n, :, h·dₕ ..< (h+1)·dₕ] (likewise Kₕ, Vₕ),
///
/// with `q` [N, Lq, D], `k`, `v` [N, Lk, D], `heads` H dividing D, dₕ = D / H → [N, Lq, D].
///
/// Why fused: the unfused form (split heads by a permute, one batched GEMM for the scores, a softmax over the whole
/// [N, H, Lq, Lk] tensor, a second batched GEMM, a merge permute) streams the N·H·Lq·Lk scores through memory once
/// per operation, forward and backward. Here each (sample, head) item runs its two GEMMs, its softmax and, in the
/// pullback, its four GEMMs and softmax pullback back to back on one Lq × Lk tile that stays in cache, and the heads
/// are read and written in place through the GEMM leading dimension (row stride D), so no permute is needed. The
/// items are split over the Learning workers (single-threaded BLAS inside). The probabilities P are kept for the
/// pullback (N·H·Lq·Lk floats, as the unfused form keeps them).
///
/// Pullback (per item, S = Qₕ Kₕᵀ/√dₕ, P = softmax(S), G = dOₕ):
///   dVₕ = Pᵀ G,   dP = G Vₕᵀ,   dS = P ⊙ (dP − rowsum(dP ⊙ P)),   dQₕ = dS Kₕ / √dₕ,   dKₕ = dSᵀ Qₕ / √dₕ.
///
/// The 1/√dₕ scale is applied as the GEMM's α, so results differ from the unfused composition (which scaled Q
/// first) only by rounding.
@differentiable(reverse)
public func multiHeadAttentionCore(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int) -> Tensor {
    attentionForward(q, k, v, heads: heads).output
}

/// Shapes of one fused attention call.
private struct AttentionGeometry {
    let n: Int, lq: Int, lk: Int, d: Int, heads: Int, dh: Int
    var items: Int { n * heads }
    var tile: Int { lq * lk }
    var scale: Float { 1 / Float(dh).squareRoot() }
    /// Whether the items have work (then their GEMMs write every element of the output and of the gradients).
    var fills: Bool { items > 0 && tile > 0 && dh > 0 }
    /// Offset of head h of sample s in a [N, L, D] tensor with L rows per sample.
    func offset(_ item: Int, rows: Int) -> Int { (item / heads) * rows * d + (item % heads) * dh }

    init(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int) {
        precondition(q.rank == 3 && k.rank == 3 && v.rank == 3, "attention: q \(q.shape), k \(k.shape), v \(v.shape) must be [N, L, D]")
        precondition(k.shape == v.shape && q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2],
                     "attention: q \(q.shape), k \(k.shape), v \(v.shape) disagree")
        precondition(heads > 0 && q.shape[2] % heads == 0, "attention: \(heads) heads do not divide D = \(q.shape[2])")
        n = q.shape[0]; lq = q.shape[1]; lk = k.shape[1]; d = q.shape[2]; self.heads = heads; dh = d / heads
    }
}

/// Forward pass: the output [N, Lq, D], the probabilities P [N·H, Lq, Lk] for the pullback, and the geometry.
private func attentionForward(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int)
    -> (output: Tensor, probabilities: [Float], geometry: AttentionGeometry) {
    _ = blasSingleThreaded
    let g = AttentionGeometry(q, k, v, heads: heads)
    var probs = [Float](unsafeUninitializedCapacity: g.items * g.tile) { _, c in c = g.items * g.tile }
    // the items' P·V products write every column block of every row when there is work (dₕ > 0 and Lk > 0)
    var out = g.fills ? [Float](unsafeUninitializedCapacity: g.n * g.lq * g.d) { _, c in c = g.n * g.lq * g.d }
                      : [Float](repeating: 0, count: g.n * g.lq * g.d)
    if g.fills {
        q.scalars.withUnsafeBufferPointer { pq in
            k.scalars.withUnsafeBufferPointer { pk in
                v.scalars.withUnsafeBufferPointer { pv in
                    probs.withUnsafeMutableBufferPointer { pp in
                        out.withUnsafeMutableBufferPointer { po in
                            let q = SendableMutablePointer(mutating: pq.baseAddress!), k = SendableMutablePointer(mutating: pk.baseAddress!)
                            let v = SendableMutablePointer(mutating: pv.baseAddress!), p = SendableMutablePointer(pp.baseAddress!)
                            let o = SendableMutablePointer(po.baseAddress!)
                            parallelChunks(g.items) { _, items in
                                for i in items {
                                    let qi = q.pointer + g.offset(i, rows: g.lq), ki = k.pointer + g.offset(i, rows: g.lk)
                                    let vi = v.pointer + g.offset(i, rows: g.lk), pi = p.pointer + i * g.tile
                                    RowMajorBLAS.sgemm(transA: false, transB: true, m: g.lq, n: g.lk, k: g.dh, alpha: g.scale,
                                                       a: qi, lda: g.d, b: ki, ldb: g.d, beta: 0, c: pi, ldc: g.lk)
                                    softmaxRows(pi, pi, g.lq, g.lk)
                                    RowMajorBLAS.sgemm(transA: false, transB: false, m: g.lq, n: g.dh, k: g.lk, alpha: 1,
                                                       a: pi, lda: g.lk, b: vi, ldb: g.d, beta: 0,
                                                       c: o.pointer + g.offset(i, rows: g.lq), ldc: g.d)
                                }
                            }
                        }
                    }
                }
            }
        }
    } else if g.items > 0, g.tile > 0 {
        // dₕ = 0: the scores are all 0, so P is uniform (the output has no columns)
        for i in probs.indices { probs[i] = 1 / Float(g.lk) }
    }
    return (Tensor(shape: [g.n, g.lq, g.d], scalars: out), probs, g)
}

/// Reverse-mode derivative of `multiHeadAttentionCore` (see its doc comment for the per-item formulas).
@derivative(of: multiHeadAttentionCore)
public func _vjpMultiHeadAttentionCore(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int)
    -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
    let (out, probs, g) = attentionForward(q, k, v, heads: heads)
    return (out, { dOut in
        let dOut = dOut.materialized(out.shape)
        // with work to do, the items' GEMMs (β = 0) write every column block of dQ, dK and dV
        func gradient(_ count: Int) -> [Float] {
            g.fills ? [Float](unsafeUninitializedCapacity: count) { _, c in c = count } : [Float](repeating: 0, count: count)
        }
        var dq = gradient(q.count), dk = gradient(k.count), dv = gradient(v.count)
        if g.fills {
            q.scalars.withUnsafeBufferPointer { pq in
            k.scalars.withUnsafeBufferPointer { pk in
            v.scalars.withUnsafeBufferPointer { pv in
            probs.withUnsafeBufferPointer { pp in
            dOut.scalars.withUnsafeBufferPointer { pg in
            dq.withUnsafeMutableBufferPointer { pdq in
            dk.withUnsafeMutableBufferPointer { pdk in
            dv.withUnsafeMutableBufferPointer { pdv in
                let q = SendableMutablePointer(mutating: pq.baseAddress!), k = SendableMutablePointer(mutating: pk.baseAddress!)
                let v = SendableMutablePointer(mutating: pv.baseAddress!), p = SendableMutablePointer(mutating: pp.baseAddress!)
                let go = SendableMutablePointer(mutating: pg.baseAddress!)
                let dq = SendableMutablePointer(pdq.baseAddress!), dk = SendableMutablePointer(pdk.baseAddress!)
                let dv = SendableMutablePointer(pdv.baseAddress!)
                parallelChunks(g.items) { _, items in
                    // one Lq × Lk tile per worker for dP, overwritten in place by dS
                    var tile = [Float](unsafeUninitializedCapacity: g.tile) { _, c in c = g.tile }
                    tile.withUnsafeMutableBufferPointer { tb in
                        let ds = tb.baseAddress!
                        for i in items {
                            let oq = g.offset(i, rows: g.lq), okv = g.offset(i, rows: g.lk)
                            let pi = p.pointer + i * g.tile, gi = go.pointer + oq
                            RowMajorBLAS.sgemm(transA: true, transB: false, m: g.lk, n: g.dh, k: g.lq, alpha: 1,
                                               a: pi, lda: g.lk, b: gi, ldb: g.d, beta: 0, c: dv.pointer + okv, ldc: g.d)
                            RowMajorBLAS.sgemm(transA: false, transB: true, m: g.lq, n: g.lk, k: g.dh, alpha: 1,
                                               a: gi, lda: g.d, b: v.pointer + okv, ldb: g.d, beta: 0, c: ds, ldc: g.lk)
                            softmaxPullbackRows(pi, ds, ds, g.lq, g.lk)
                            RowMajorBLAS.sgemm(transA: false, transB: false, m: g.lq, n: g.dh, k: g.lk, alpha: g.scale,
                                               a: ds, lda: g.lk, b: k.pointer + okv, ldb: g.d, beta: 0, c: dq.pointer + oq, ldc: g.d)
                            RowMajorBLAS.sgemm(transA: true, transB: false, m: g.lk, n: g.dh, k: g.lq, alpha: g.scale,
                                               a: ds, lda: g.lk, b: q.pointer + oq, ldb: g.d, beta: 0, c: dk.pointer + okv, ldc: g.d)
                        }
                    }
                }
            }}}}}}}}
        }
        return (Tensor(shape: q.shape, scalars: dq), Tensor(shape: k.shape, scalars: dk), Tensor(shape: v.shape, scalars: dv))
    })
}
