internal import CLinalg

/// Row-major single-precision BLAS for the `Learning` tensors (row-major, `Float`), so no target above
/// Linalg needs to import the C system library.
public enum RowMajorBLAS {
    /// C = α op(A) op(B) + β C, all row-major: op(A) [m × k], op(B) [k × n], C [m × n], with leading
    /// dimensions lda/ldb/ldc (row strides, in elements). One `cblas_sgemm(CblasRowMajor, …)` call.
    @inline(__always)
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets OpenBLAS's process-wide thread count (`openblas_set_num_threads`); 1 when the caller
    /// parallelizes over samples itself.
    public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}
