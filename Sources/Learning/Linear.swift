import _Differentiation
import Linalg
import Foundation

// MARK: - Matrix products (cblas_sgemm, row-major)

/// Raw batched row-major sgemm: for each batch `i`, C_i = op(A_i) · op(B_i) with
/// `op(A_i)` [m × k] and `op(B_i)` [k × n]. `strideA`/`strideB` of 0 reuse one operand.
@usableFromInline func sgemmBatched(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                                    batch: Int, m: Int, n: Int, k: Int, transA: Bool, transB: Bool,
                                    strideA: Int, strideB: Int, beta: Float = 0) {
    _ = blasSingleThreaded
    let lda = transA ? m : k, ldb = transB ? k : n
    let pa = SendableMutablePointer(mutating: a), pb = SendableMutablePointer(mutating: b), pc = SendableMutablePointer(c)
    if batch * m * n * k < 32 * 32 * 32 {
        for i in 0..<batch {
            RowMajorBLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb, beta: beta, c: c + i * m * n, ldc: n)
        }
    } else if batch >= learningWorkers {
        // Many products (attention heads, batch samples): split the batch over the cores.
        parallelChunks(batch) { _, r in
            for i in r {
                RowMajorBLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: pa.pointer + i * strideA, lda: lda, b: pb.pointer + i * strideB, ldb: ldb, beta: beta, c: pc.pointer + i * m * n, ldc: n)
            }
        }
    } else {
        // Few large products: split the rows of op(A) (and C). Row i of op(A) starts at a + i·lda
        // when A is not transposed and at a + i (a column of the stored A) when it is.
        for i in 0..<batch {
            parallelChunks(m) { _, rows in
                let aOff = transA ? rows.lowerBound : rows.lowerBound * lda
                RowMajorBLAS.sgemm(transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: 1, a: pa.pointer + i * strideA + aOff, lda: lda, b: pb.pointer + i * strideB, ldb: ldb, beta: beta, c: pc.pointer + i * m * n + rows.lowerBound * n, ldc: n)
            }
        }
    }
}

/// Core product of two operands of equal rank (2: [M × K]·[K × N]; ≥ 3: the leading dimensions
/// are a batch and must match). `transposeA`/`transposeB` transpose the last two dimensions.
@usableFromInline func matmulCore(_ a: Tensor, _ b: Tensor, _ tA: Bool, _ tB: Bool) -> Tensor {
    precondition(a.rank >= 2 && a.rank == b.rank, "matmul: ranks \(a.shape) and \(b.shape)")
    let lead = Array(a.shape.dropLast(2))
    precondition(lead == Array(b.shape.dropLast(2)), "matmul: batch dims \(a.shape) vs \(b.shape)")
    let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1]
    let br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
    let m = tA ? ac : ar, k = tA ? ar : ac
    let k2 = tB ? bc : br, n = tB ? br : bc
    precondition(k == k2, "matmul: inner dimensions \(a.shape)\(tA ? "ᵀ" : "") · \(b.shape)\(tB ? "ᵀ" : "")")
    let batch = lead.reduce(1, *)
    // sgemm with β = 0 overwrites C, so the output is not zero-filled first (only k = 0 needs zeros)
    var out = k > 0 ? [Float](unsafeUninitializedCapacity: batch * m * n) { _, c in c = batch * m * n }
                    : [Float](repeating: 0, count: batch * m * n)
    if k > 0 {
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    sgemmBatched(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, batch: batch, m: m, n: n, k: k,
                                 transA: tA, transB: tB, strideA: ar * ac, strideB: br * bc)
                }
            }
        }
    }
    return Tensor(shape: lead + [m, n], scalars: out)
}

@differentiable(reverse)
@usableFromInline func matmulPrimitive(_ a: Tensor, _ b: Tensor, _ tA: Bool, _ tB: Bool) -> Tensor {
    matmulCore(a, b, tA, tB)
}
@derivative(of: matmulPrimitive)
@usableFromInline func _vjpMatmulPrimitive(_ a: Tensor, _ b: Tensor, _ tA: Bool, _ tB: Bool)
    -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
    let c = matmulCore(a, b, tA, tB)
    return (c, { g in
        let g = g.materialized(c.shape)
        switch (tA, tB) {
        case (false, false): return (matmulCore(g, b, false, true), matmulCore(a, g, true, false))
        case (false, true): return (matmulCore(g, b, false, false), matmulCore(g, a, true, false))
        case (true, false): return (matmulCore(b, g, false, true), matmulCore(a, g, false, false))
        case (true, true): return (matmulCore(b, g, true, true), matmulCore(g, a, true, true))
        }
    })
}

/// Matrix product C = op(A) · op(B) (BLAS sgemm), op = transpose of the last two dims when requested.
///
/// Shapes: `[M, K] · [K, N] → [M, N]`; batched `[…, M, K] · […, K, N] → […, M, N]` with equal
/// leading dimensions; and `[…, M, K] · [K, N] → […, M, N]` (a weight matrix shared across the
/// batch, e.g. a dense layer on `[N, L, D]` tokens), which is computed as one GEMM.
/// Gradients: dA = g·op(B)ᵀ, dB = op(A)ᵀ·g (transposed appropriately).
@differentiable(reverse)
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    let sa = withoutDerivative(at: a).shape, sb = withoutDerivative(at: b).shape
    if sb.count == 2 && sa.count > 2 && !transposeA {
        let lead = Array(sa.dropLast())
        let n = transposeB ? sb[0] : sb[1]
        let a2 = a.reshaped([lead.reduce(1, *), sa[sa.count - 1]])
        let c = matmulPrimitive(a2, b, false, transposeB)
        return c.reshaped(lead + [n])
    }
    return matmulPrimitive(a, b, transposeA, transposeB)
}

// MARK: - Shape manipulation

extension Tensor {
    /// Same scalars, new shape (one entry may be −1 and is inferred).
    @differentiable(reverse)
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            s[i] = known == 0 ? 0 : count / known
        }
        return Tensor(shape: s, scalars: scalars)
    }
    /// Reverse-mode derivative of `reshaped`: the value and its pullback.
    @derivative(of: reshaped)
    public func _vjpReshaped(_ newShape: [Int]) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let old = shape
        let y = reshaped(newShape)
        return (y, { g in Tensor(shape: old, scalars: g.materialized(y.shape).scalars) })
    }

    /// Flattens all dimensions after the first: `[N, …] → [N, ∏…]`.
    @differentiable(reverse)
    public func flattenedBatch() -> Tensor {
        let s = withoutDerivative(at: self).shape
        return reshaped([s[0], s.dropFirst().reduce(1, *)])
    }

    /// Non-differentiable permutation kernel: out[i_{perm[0]}, …] layout, i.e. `out.shape[d] = shape[perm[d]]`.
    func permutedRaw(_ perm: [Int]) -> Tensor {
        precondition(perm.sorted() == Array(0..<rank), "permuted: \(perm) is not a permutation of 0..<\(rank)")
        let outShape = perm.map { shape[$0] }
        let inStrides = Tensor.strides(shape)
        let srcStrides = perm.map { inStrides[$0] }  // stride in the source per output dim
        var out = [Float](unsafeUninitializedCapacity: count) { _, k in k = count }  // a permutation writes every element
        // Large tensors: the outermost output dimension is split over the workers (each writes its own slab, so the
        // result is the same for any worker count).
        let outer = rank > 1 ? outShape[0] : 1
        let slabShape = rank > 1 ? Array(outShape.dropFirst()) : outShape
        let slabStrides = rank > 1 ? Array(srcStrides.dropFirst()) : srcStrides
        let slab = rank > 1 ? count / Swift.max(outer, 1) : count, step0 = rank > 1 ? srcStrides[0] : 0
        let slabZeros = [Int](repeating: 0, count: slabShape.count)
        scalars.withUnsafeBufferPointer { pib in
            out.withUnsafeMutableBufferPointer { pob in
                guard let pi0 = pib.baseAddress, let po0 = pob.baseAddress else { return }
                let pi = SendableMutablePointer(mutating: pi0), po = SendableMutablePointer(po0)
                parallelChunks(outer, workers: count >= 65_536 ? learningWorkers : 1) { _, r in
                    for i0 in r {
                        let src = pi.pointer + i0 * step0, dst = po.pointer + i0 * slab
                        forEachBroadcastRow(slabShape, slabStrides, slabZeros) { o, ia, _, n, da, _ in
                            var ia = ia
                            for j in 0..<n { dst[o + j] = src[ia]; ia += da }
                        }
                    }
                }
            }
        }
        return Tensor(shape: outShape, scalars: out)
    }

    /// Permutes dimensions: `result.shape[d] == shape[perm[d]]` (NumPy `transpose(perm)`).
    @differentiable(reverse)
    public func permuted(_ perm: [Int]) -> Tensor { permutedRaw(perm) }
    /// Reverse-mode derivative of `permuted`: the value and its pullback.
    @derivative(of: permuted)
    public func _vjpPermuted(_ perm: [Int]) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        var inv = [Int](repeating: 0, count: perm.count)
        for (d, p) in perm.enumerated() { inv[p] = d }
        let y = permutedRaw(perm)
        return (y, { g in g.materialized(y.shape).permutedRaw(inv) })
    }

    /// Swaps the last two dimensions.
    @differentiable(reverse)
    public func transposedLast2() -> Tensor {
        let r = withoutDerivative(at: self).rank
        var p = Array(0..<r)
        p.swapAt(r - 2, r - 1)
        return permuted(p)
    }

    /// Elements `range` along `axis` (other dimensions kept).
    @differentiable(reverse)
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor { sliceRaw(axis: axis, range) }
    func sliceRaw(axis: Int, _ range: Range<Int>) -> Tensor {
        precondition(axis >= 0 && axis < rank && range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice: axis \(axis) range \(range) out of \(shape)")
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let n = shape[axis], m = range.count
        var out = [Float](repeating: 0, count: outer * m * inner)
        scalars.withUnsafeBufferPointer { pi in
            out.withUnsafeMutableBufferPointer { po in
                for o in 0..<outer {
                    let src = (o * n + range.lowerBound) * inner, dst = o * m * inner
                    for j in 0..<(m * inner) { po[dst + j] = pi[src + j] }
                }
            }
        }
        var s = shape; s[axis] = m
        return Tensor(shape: s, scalars: out)
    }
    /// Reverse-mode derivative of `slice`: the value and its pullback.
    @derivative(of: slice)
    public func _vjpSlice(axis: Int, _ range: Range<Int>) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let full = shape
        let y = sliceRaw(axis: axis, range)
        return (y, { g in
            let g = g.materialized(y.shape)
            let outer = full[..<axis].reduce(1, *), inner = full[(axis + 1)...].reduce(1, *)
            let n = full[axis], m = range.count
            var dx = [Float](repeating: 0, count: full.reduce(1, *))
            g.scalars.withUnsafeBufferPointer { pg in
                dx.withUnsafeMutableBufferPointer { pd in
                    for o in 0..<outer {
                        let dst = (o * n + range.lowerBound) * inner, src = o * m * inner
                        for j in 0..<(m * inner) { pd[dst + j] = pg[src + j] }
                    }
                }
            }
            return Tensor(shape: full, scalars: dx)
        })
    }

    /// Rows of axis 0 selected by `indices` (embedding lookup): `[V, …] → [indices.count, …]`.
    /// The pullback scatter-adds, so repeated indices accumulate.
    @differentiable(reverse)
    public func gathering(_ indices: [Int]) -> Tensor { gatherRaw(indices) }
    func gatherRaw(_ indices: [Int]) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        var out = [Float](repeating: 0, count: indices.count * inner)
        scalars.withUnsafeBufferPointer { pi in
            out.withUnsafeMutableBufferPointer { po in
                for (r, i) in indices.enumerated() {
                    precondition(i >= 0 && i < shape[0], "gathering: index \(i) out of 0..<\(shape[0])")
                    for j in 0..<inner { po[r * inner + j] = pi[i * inner + j] }
                }
            }
        }
        return Tensor(shape: [indices.count] + shape.dropFirst(), scalars: out)
    }
    /// Reverse-mode derivative of `gathering`: the value and its pullback.
    @derivative(of: gathering)
    public func _vjpGathering(_ indices: [Int]) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let full = shape
        let y = gatherRaw(indices)
        return (y, { g in
            let g = g.materialized(y.shape)
            let inner = full.dropFirst().reduce(1, *)
            var dx = [Float](repeating: 0, count: full.reduce(1, *))
            g.scalars.withUnsafeBufferPointer { pg in
                dx.withUnsafeMutableBufferPointer { pd in
                    for (r, i) in indices.enumerated() { for j in 0..<inner { pd[i * inner + j] += pg[r * inner + j] } }
                }
            }
            return Tensor(shape: full, scalars: dx)
        })
    }
}

/// Concatenation of `a` and `b` along `axis` (all other dimensions equal).
@differentiable(reverse)
public func concat(_ a: Tensor, _ b: Tensor, axis: Int) -> Tensor { concatRaw(a, b, axis: axis) }
func concatRaw(_ a: Tensor, _ b: Tensor, axis: Int) -> Tensor {
    precondition(a.rank == b.rank && axis >= 0 && axis < a.rank, "concat: \(a.shape) and \(b.shape) on axis \(axis)")
    var s = a.shape; s[axis] = b.shape[axis]
    precondition(s == b.shape, "concat: \(a.shape) and \(b.shape) differ off axis \(axis)")
    let outer = a.shape[..<axis].reduce(1, *)
    let ia = a.shape[axis...].reduce(1, *), ib = b.shape[axis...].reduce(1, *)
    var out = [Float](repeating: 0, count: a.count + b.count)
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { po in
                for o in 0..<outer {
                    let d = o * (ia + ib)
                    for j in 0..<ia { po[d + j] = pa[o * ia + j] }
                    for j in 0..<ib { po[d + ia + j] = pb[o * ib + j] }
                }
            }
        }
    }
    var outShape = a.shape; outShape[axis] += b.shape[axis]
    return Tensor(shape: outShape, scalars: out)
}
/// Reverse-mode derivative of `concat`: the value and its pullback.
@derivative(of: concat)
public func _vjpConcat(_ a: Tensor, _ b: Tensor, axis: Int) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
    let y = concatRaw(a, b, axis: axis)
    let na = a.shape[axis], nb = b.shape[axis]
    return (y, { g in
        let g = g.materialized(y.shape)
        return (g.sliceRaw(axis: axis, 0..<na), g.sliceRaw(axis: axis, na..<(na + nb)))
    })
}

// MARK: - Reductions

extension Tensor {
    /// Sum of all elements (rank-0 result).
    @differentiable(reverse)
    public func sum() -> Tensor {
        Tensor(scalars.withUnsafeBufferPointer { p in
            var s: Double = 0  // accumulate in double so large reductions stay accurate
            for v in p { s += Double(v) }
            return Float(s)
        })
    }
    /// Reverse-mode derivative of `sum`: the value and its pullback.
    @derivative(of: sum)
    public func _vjpSum() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let s = shape
        return (sum(), { g in Tensor(repeating: g.scalars[0], shape: s) })
    }

    /// Mean of all elements (rank-0 result).
    @differentiable(reverse)
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(withoutDerivative(at: self).count, 1))) }

    /// Sum over `axes` (any order, no duplicates); reduced dimensions are kept as size 1 when
    /// `keepDims`, removed otherwise.
    @differentiable(reverse)
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let r = reduced(toShape: kept)
        return keepDims ? r : Tensor(shape: shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element),
                                     scalars: r.scalars)
    }
    /// Reverse-mode derivative of `sum(axes:keepDims:)`: the value and its pullback.
    @derivative(of: sum(axes:keepDims:))
    public func _vjpSumAxes(axes: [Int], keepDims: Bool) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let s = shape
        let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let y = sum(axes: axes, keepDims: keepDims)
        return (y, { g in
            let g = g.materialized(y.shape)
            return Tensor(shape: kept, scalars: g.scalars).broadcast(to: s)
        })
    }

    /// Mean over `axes`.
    @differentiable(reverse)
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let s = withoutDerivative(at: self).shape
        let n = axes.map { s[$0] }.reduce(1, *)
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    /// Index of the maximum along the last axis for each row (`[…, C] → [∏…]`), e.g. predicted classes.
    public func argmaxLastAxis() -> [Int] {
        let c = shape.last ?? 1, rows = count / Swift.max(c, 1)
        return scalars.withUnsafeBufferPointer { p in
            (0..<rows).map { r in
                var best = 0
                for j in 1..<Swift.max(c, 1) where p[r * c + j] > p[r * c + best] { best = j }
                return best
            }
        }
    }
}
