import Numerics

extension Matrix {
    /// C ← α·op(A)·op(B) + β·C (`?gemm`). Shapes: op(A) m×k, op(B) k×n, C m×n.
    public static func gemm(_ transA: Transpose = .none, _ a: Matrix, _ transB: Transpose = .none, _ b: Matrix,
                            alpha: Element = .one, beta: Element = .zero, into c: inout Matrix) {
        let (m, ka) = transA == .none ? (a.rows, a.cols) : (a.cols, a.rows)
        let (kb, n) = transB == .none ? (b.rows, b.cols) : (b.cols, b.rows)
        precondition(ka == kb, "gemm: inner dimensions \(ka) vs \(kb)")
        precondition(c.rows == m && c.cols == n, "gemm: C is \(c.rows)x\(c.cols), expected \(m)x\(n)")
        if m == 0 || n == 0 { return }
        if ka == 0 {
            if beta == .zero { for i in c.data.indices { c.data[i] = .zero } } else { for i in c.data.indices { c.data[i] *= beta } }
            return
        }
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                c.data.withUnsafeMutableBufferPointer { pc in
                    Element.gemm(transA, transB, m: m, n: n, k: ka, alpha: alpha,
                                 a: pa.baseAddress!, lda: max(a.rows, 1), b: pb.baseAddress!, ldb: max(b.rows, 1),
                                 beta: beta, c: pc.baseAddress!, ldc: max(m, 1))
                }
            }
        }
    }

    /// op(A)·op(B) as a new matrix.
    public static func matmul(_ a: Matrix, _ b: Matrix, transA: Transpose = .none, transB: Transpose = .none) -> Matrix {
        let m = transA == .none ? a.rows : a.cols
        let n = transB == .none ? b.cols : b.rows
        var c = Matrix(rows: m, cols: n)
        gemm(transA, a, transB, b, into: &c)
        return c
    }

    /// A·B.
    public static func * (a: Matrix, b: Matrix) -> Matrix { matmul(a, b) }

    /// y = op(A)·x (`?gemv`).
    public func apply(_ x: [Element], _ trans: Transpose = .none) -> [Element] {
        let (inDim, outDim) = trans == .none ? (cols, rows) : (rows, cols)
        precondition(x.count == inDim, "apply: x has \(x.count) elements, expected \(inDim)")
        var y = [Element](repeating: .zero, count: outDim)
        if outDim == 0 || inDim == 0 { return y }
        data.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    Element.gemv(trans, m: rows, n: cols, alpha: .one, a: pa.baseAddress!, lda: max(rows, 1),
                                 x: px.baseAddress!, incx: 1, beta: .zero, y: py.baseAddress!, incy: 1)
                }
            }
        }
        return y
    }

    /// Elementwise sum; shapes must match.
    public static func + (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols, "+: shape mismatch")
        var c = a
        for i in c.data.indices { c.data[i] += b.data[i] }
        return c
    }
    /// Elementwise difference; shapes must match.
    public static func - (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols, "-: shape mismatch")
        var c = a
        for i in c.data.indices { c.data[i] -= b.data[i] }
        return c
    }
    /// Scalar times matrix, elementwise.
    public static func * (s: Element, a: Matrix) -> Matrix {
        var c = a
        for i in c.data.indices { c.data[i] *= s }
        return c
    }
}

/// Inner product xᴴy = Σ conj(xᵢ)·yᵢ.
@inlinable
public func dotc<T: BLASScalar>(_ x: [T], _ y: [T]) -> T {
    precondition(x.count == y.count, "dotc: length mismatch")
    var s = T.zero
    for i in x.indices { s += x[i].conj * y[i] }
    return s
}

/// Euclidean norm ‖x‖₂.
@inlinable
public func norm2<T: BLASScalar>(_ x: [T]) -> T.RealPart {
    var s: T.RealPart = 0
    for v in x { s += v.absSquared }
    return s.squareRoot()
}
