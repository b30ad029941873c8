internal import CLinalg
import Numerics

/// Scalars with BLAS/LAPACK kernels: `Float`, `Double`, `Complex<Float>`, `Complex<Double>`.
///
/// `Complex<T>` from swift-numerics stores (real, imaginary) contiguously, the same layout as
/// C99 `double complex`, so buffers are handed to CBLAS/LAPACKE as raw pointers.
public protocol BLASScalar: Sendable, Equatable, AdditiveArithmetic, Numeric where Magnitude: BinaryFloatingPoint {
    /// The real type underlying the scalar (`Double` for `Complex<Double>`).
    associatedtype RealPart: BinaryFloatingPoint & Real & Sendable
    static var one: Self { get }
    /// Complex conjugate (identity for real scalars).
    var conj: Self { get }
    /// |x|² computed without a square root.
    var absSquared: RealPart { get }
    init(realPart: RealPart)
    var realPart: RealPart { get }
    var isFiniteValue: Bool { get }

    static func gemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                     alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func gemv(_ trans: Transpose, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     x: UnsafePointer<Self>, incx: Int, beta: Self, y: UnsafeMutablePointer<Self>, incy: Int)
    /// General solve A X = B (LU, `?gesv`), overwriting `b` with X. Returns LAPACK info.
    static func gesv(n: Int, nrhs: Int, a: UnsafeMutablePointer<Self>, lda: Int,
                     b: UnsafeMutablePointer<Self>, ldb: Int) -> Int32
    /// Least squares min ‖A X − B‖ (QR, `?gels`). Returns LAPACK info.
    static func gels(m: Int, n: Int, nrhs: Int, a: UnsafeMutablePointer<Self>, lda: Int,
                     b: UnsafeMutablePointer<Self>, ldb: Int) -> Int32
    /// Hermitian/symmetric eigendecomposition (`?heevd`/`?syevd`, jobz = V, uplo = L).
    static func heevd(n: Int, a: UnsafeMutablePointer<Self>, lda: Int, w: UnsafeMutablePointer<RealPart>) -> Int32
    /// Thin SVD (`?gesdd`, jobz = S).
    static func gesdd(m: Int, n: Int, a: UnsafeMutablePointer<Self>, lda: Int, s: UnsafeMutablePointer<RealPart>,
                      u: UnsafeMutablePointer<Self>, ldu: Int, vt: UnsafeMutablePointer<Self>, ldvt: Int) -> Int32
    /// QR factorization (`?geqrf`).
    static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Self>, lda: Int, tau: UnsafeMutablePointer<Self>) -> Int32
    /// Forms Q from `geqrf` output (`?orgqr` / `?ungqr`).
    static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Self>, lda: Int, tau: UnsafePointer<Self>) -> Int32
}

/// BLAS operation applied to a matrix operand.
public enum Transpose: Sendable {
    case none, transpose, conjugateTranspose
    var cblas: CBLAS_TRANSPOSE {
        switch self {
        case .none: return CblasNoTrans
        case .transpose: return CblasTrans
        case .conjugateTranspose: return CblasConjTrans
        }
    }
}

let colMajor = CblasColMajor
let lapackColMajor = Int32(LAPACK_COL_MAJOR)

extension Double: BLASScalar {
    /// The real part type (`Double` itself).
    public typealias RealPart = Double
    /// Multiplicative identity, 1.
    public static var one: Double { 1 }
    /// Identity: a real scalar is its own conjugate.
    /// Column-major C = α op(A) op(B) + β C (`cblas_dgemm`).
    /// x², the squared magnitude.
    /// Same as `isFinite`.
    /// Identity: `self = realPart`.
    /// The value itself.
    @inlinable public var conj: Double { self }
    @inlinable public var absSquared: Double { self * self }
    @inlinable public init(realPart: Double) { self = realPart }
    @inlinable public var realPart: Double { self }
    @inlinable public var isFiniteValue: Bool { isFinite }
    public static func gemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(colMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    /// Column-major y = α op(A) x + β y (`cblas_dgemv`).
    public static func gemv(_ t: Transpose, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            x: UnsafePointer<Double>, incx: Int, beta: Double, y: UnsafeMutablePointer<Double>, incy: Int) {
        cblas_dgemv(colMajor, t.cblas, Int32(m), Int32(n), alpha, a, Int32(lda), x, Int32(incx), beta, y, Int32(incy))
    }
    /// General solve A X = B (LU, `LAPACKE_dgesv`), overwriting `b` with X. Returns LAPACK info.
    public static func gesv(n: Int, nrhs: Int, a: UnsafeMutablePointer<Double>, lda: Int, b: UnsafeMutablePointer<Double>, ldb: Int) -> Int32 {
        var ipiv = [Int32](repeating: 0, count: max(n, 1))
        return LAPACKE_dgesv(lapackColMajor, Int32(n), Int32(nrhs), a, Int32(lda), &ipiv, b, Int32(ldb))
    }
    /// Least squares min ‖A X − B‖ (QR, `LAPACKE_dgels`). Returns LAPACK info.
    public static func gels(m: Int, n: Int, nrhs: Int, a: UnsafeMutablePointer<Double>, lda: Int, b: UnsafeMutablePointer<Double>, ldb: Int) -> Int32 {
        LAPACKE_dgels(lapackColMajor, CChar(UInt8(ascii: "N")), Int32(m), Int32(n), Int32(nrhs), a, Int32(lda), b, Int32(ldb))
    }
    /// Symmetric eigendecomposition (`LAPACKE_dsyevd`, jobz = V, uplo = L). Returns LAPACK info.
    public static func heevd(n: Int, a: UnsafeMutablePointer<Double>, lda: Int, w: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dsyevd(lapackColMajor, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), Int32(n), a, Int32(lda), w)
    }
    /// Thin SVD (`LAPACKE_dgesdd`, jobz = S). Returns LAPACK info.
    public static func gesdd(m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int, s: UnsafeMutablePointer<Double>,
                             u: UnsafeMutablePointer<Double>, ldu: Int, vt: UnsafeMutablePointer<Double>, ldvt: Int) -> Int32 {
        LAPACKE_dgesdd(lapackColMajor, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), a, Int32(lda), s, u, Int32(ldu), vt, Int32(ldvt))
    }
    /// QR factorization (`LAPACKE_dgeqrf`). Returns LAPACK info.
    public static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int, tau: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dgeqrf(lapackColMajor, Int32(m), Int32(n), a, Int32(lda), tau)
    }
    /// Forms Q from `geqrf` output (`LAPACKE_dorgqr`). Returns LAPACK info.
    public static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Double>, lda: Int, tau: UnsafePointer<Double>) -> Int32 {
        LAPACKE_dorgqr(lapackColMajor, Int32(m), Int32(n), Int32(k), a, Int32(lda), tau)
    }
}

extension Float: BLASScalar {
    /// The real part type (`Float` itself).
    public typealias RealPart = Float
    /// Multiplicative identity, 1.
    public static var one: Float { 1 }
    /// Identity: a real scalar is its own conjugate.
    /// Column-major C = α op(A) op(B) + β C (`cblas_sgemm`).
    /// x², the squared magnitude.
    /// Same as `isFinite`.
    /// Identity: `self = realPart`.
    /// The value itself.
    @inlinable public var conj: Float { self }
    @inlinable public var absSquared: Float { self * self }
    @inlinable public init(realPart: Float) { self = realPart }
    @inlinable public var realPart: Float { self }
    @inlinable public var isFiniteValue: Bool { isFinite }
    public static func gemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(colMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    /// Column-major y = α op(A) x + β y (`cblas_sgemv`).
    public static func gemv(_ t: Transpose, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, incx: Int, beta: Float, y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_sgemv(colMajor, t.cblas, Int32(m), Int32(n), alpha, a, Int32(lda), x, Int32(incx), beta, y, Int32(incy))
    }
    /// General solve A X = B (LU, `LAPACKE_sgesv`), overwriting `b` with X. Returns LAPACK info.
    public static func gesv(n: Int, nrhs: Int, a: UnsafeMutablePointer<Float>, lda: Int, b: UnsafeMutablePointer<Float>, ldb: Int) -> Int32 {
        var ipiv = [Int32](repeating: 0, count: max(n, 1))
        return LAPACKE_sgesv(lapackColMajor, Int32(n), Int32(nrhs), a, Int32(lda), &ipiv, b, Int32(ldb))
    }
    /// Least squares min ‖A X − B‖ (QR, `LAPACKE_sgels`). Returns LAPACK info.
    public static func gels(m: Int, n: Int, nrhs: Int, a: UnsafeMutablePointer<Float>, lda: Int, b: UnsafeMutablePointer<Float>, ldb: Int) -> Int32 {
        LAPACKE_sgels(lapackColMajor, CChar(UInt8(ascii: "N")), Int32(m), Int32(n), Int32(nrhs), a, Int32(lda), b, Int32(ldb))
    }
    /// Symmetric eigendecomposition (`LAPACKE_ssyevd`, jobz = V, uplo = L). Returns LAPACK info.
    public static func heevd(n: Int, a: UnsafeMutablePointer<Float>, lda: Int, w: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_ssyevd(lapackColMajor, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), Int32(n), a, Int32(lda), w)
    }
    /// Thin SVD (`LAPACKE_sgesdd`, jobz = S). Returns LAPACK info.
    public static func gesdd(m: Int, n: Int, a: UnsafeMutablePointer<Float>, lda: Int, s: UnsafeMutablePointer<Float>,
                             u: UnsafeMutablePointer<Float>, ldu: Int, vt: UnsafeMutablePointer<Float>, ldvt: Int) -> Int32 {
        LAPACKE_sgesdd(lapackColMajor, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), a, Int32(lda), s, u, Int32(ldu), vt, Int32(ldvt))
    }
    /// QR factorization (`LAPACKE_sgeqrf`). Returns LAPACK info.
    public static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Float>, lda: Int, tau: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_sgeqrf(lapackColMajor, Int32(m), Int32(n), a, Int32(lda), tau)
    }
    /// Forms Q from `geqrf` output (`LAPACKE_sorgqr`). Returns LAPACK info.
    public static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Float>, lda: Int, tau: UnsafePointer<Float>) -> Int32 {
        LAPACKE_sorgqr(lapackColMajor, Int32(m), Int32(n), Int32(k), a, Int32(lda), tau)
    }
}
