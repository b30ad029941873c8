import Numerics

extension Matrix {
    /// Eigendecomposition of a Hermitian (symmetric, for real scalars) matrix A = V Λ Vᴴ (`?heevd`).
    ///
    /// Only the lower triangle of `self` is read. Eigenvalues ascend; column k of `vectors`
    /// is the unit eigenvector of `values[k]`.
    public func hermitianEigen() throws -> (values: [Element.RealPart], vectors: Matrix) {
        guard rows == cols else { throw ISACError.shapeMismatch("hermitianEigen needs a square matrix, got \(rows)x\(cols)") }
        guard isFinite else { throw ISACError.nonFinite(name: "hermitianEigen input") }
        var a = self
        var w = [Element.RealPart](repeating: 0, count: rows)
        if rows == 0 { return (w, a) }
        let info = a.data.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in Element.heevd(n: rows, a: pa.baseAddress!, lda: rows, w: pw.baseAddress!) }
        }
        guard info == 0 else { throw ISACError.lapack(routine: "heevd", info: Int(info)) }
        return (w, a)
    }

    /// Thin SVD A = U·diag(s)·Vᴴ (`?gesdd`): U is m×k, s has k = min(m, n) descending values, Vᴴ is k×n.
    public func svd() throws -> (u: Matrix, s: [Element.RealPart], vh: Matrix) {
        guard isFinite else { throw ISACError.nonFinite(name: "svd input") }
        let k = Swift.min(rows, cols)
        var a = self
        var s = [Element.RealPart](repeating: 0, count: k)
        var u = Matrix(rows: rows, cols: k)
        var vh = Matrix(rows: k, cols: cols)
        if k == 0 { return (u, s, vh) }
        let info = a.data.withUnsafeMutableBufferPointer { pa in
            s.withUnsafeMutableBufferPointer { ps in
                u.data.withUnsafeMutableBufferPointer { pu in
                    vh.data.withUnsafeMutableBufferPointer { pv in
                        Element.gesdd(m: rows, n: cols, a: pa.baseAddress!, lda: rows, s: ps.baseAddress!,
                                      u: pu.baseAddress!, ldu: rows, vt: pv.baseAddress!, ldvt: k)
                    }
                }
            }
        }
        guard info == 0 else { throw ISACError.lapack(routine: "gesdd", info: Int(info)) }
        return (u, s, vh)
    }

    /// Solves the square system A X = B by LU with partial pivoting (`?gesv`).
    public func solve(_ b: Matrix) throws -> Matrix {
        guard rows == cols else { throw ISACError.shapeMismatch("solve needs square A, got \(rows)x\(cols)") }
        guard b.rows == rows else { throw ISACError.shapeMismatch("solve: B has \(b.rows) rows, A has \(rows)") }
        guard isFinite, b.isFinite else { throw ISACError.nonFinite(name: "solve input") }
        var a = self, x = b
        if rows == 0 || b.cols == 0 { return x }
        let info = a.data.withUnsafeMutableBufferPointer { pa in
            x.data.withUnsafeMutableBufferPointer { px in
                Element.gesv(n: rows, nrhs: b.cols, a: pa.baseAddress!, lda: rows, b: px.baseAddress!, ldb: rows)
            }
        }
        guard info == 0 else { throw ISACError.lapack(routine: "gesv (singular matrix?)", info: Int(info)) }
        return x
    }

    /// Least-squares solution X = argmin ‖A X − B‖_F for full-rank A with rows ≥ cols (`?gels`).
    /// Shapes: A m×n, B m×r → X n×r.
    public func leastSquares(_ b: Matrix) throws -> Matrix {
        guard b.rows == rows else { throw ISACError.shapeMismatch("leastSquares: B has \(b.rows) rows, A has \(rows)") }
        guard rows >= cols else { throw ISACError.shapeMismatch("leastSquares needs rows >= cols (overdetermined), got \(rows)x\(cols)") }
        guard isFinite, b.isFinite else { throw ISACError.nonFinite(name: "leastSquares input") }
        var a = self, x = b
        if cols == 0 || b.cols == 0 { return Matrix(rows: cols, cols: b.cols) }
        let info = a.data.withUnsafeMutableBufferPointer { pa in
            x.data.withUnsafeMutableBufferPointer { px in
                Element.gels(m: rows, n: cols, nrhs: b.cols, a: pa.baseAddress!, lda: rows, b: px.baseAddress!, ldb: rows)
            }
        }
        guard info == 0 else { throw ISACError.lapack(routine: "gels (rank-deficient A?)", info: Int(info)) }
        // gels leaves X in the first n rows of B.
        var out = Matrix(rows: cols, cols: b.cols)
        for j in 0..<b.cols { for i in 0..<cols { out[i, j] = x[i, j] } }
        return out
    }

    /// Thin QR A = Q R with Q m×k orthonormal columns, R k×n upper triangular, k = min(m, n).
    public func qr() throws -> (q: Matrix, r: Matrix) {
        guard isFinite else { throw ISACError.nonFinite(name: "qr input") }
        let k = Swift.min(rows, cols)
        var a = self
        var tau = [Element](repeating: .zero, count: Swift.max(k, 1))
        if k == 0 { return (Matrix(rows: rows, cols: 0), Matrix(rows: 0, cols: cols)) }
        var info = a.data.withUnsafeMutableBufferPointer { pa in
            tau.withUnsafeMutableBufferPointer { pt in Element.geqrf(m: rows, n: cols, a: pa.baseAddress!, lda: rows, tau: pt.baseAddress!) }
        }
        guard info == 0 else { throw ISACError.lapack(routine: "geqrf", info: Int(info)) }
        var r = Matrix(rows: k, cols: cols)
        for j in 0..<cols { for i in 0...Swift.min(j, k - 1) { r[i, j] = a[i, j] } }
        var q = Matrix(rows: rows, cols: k)
        for j in 0..<k { for i in 0..<rows { q[i, j] = a[i, j] } }
        info = q.data.withUnsafeMutableBufferPointer { pq in
            tau.withUnsafeBufferPointer { pt in Element.orgqr(m: rows, n: k, k: k, a: pq.baseAddress!, lda: rows, tau: pt.baseAddress!) }
        }
        guard info == 0 else { throw ISACError.lapack(routine: "orgqr/ungqr", info: Int(info)) }
        return (q, r)
    }
}
