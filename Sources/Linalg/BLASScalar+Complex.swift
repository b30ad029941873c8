internal import CLinalg
import Numerics

/// Reinterprets a `Complex<T>` buffer as LAPACKE's complex type (identical layout: re, im).
@inline(__always)
func lz<U>(_ p: UnsafeMutablePointer<U>) -> OpaquePointer { OpaquePointer(p) }

extension Complex: BLASScalar where RealType: BLASComplexReal {
    /// The real component type.
    public typealias RealPart = RealType
    /// Multiplicative identity, 1 + 0i.
    public static var one: Complex<RealType> { Complex(1, 0) }
    /// Complex conjugate.
    /// True when both the real and imaginary parts are finite.
    /// |z|² = re² + im², without a square root.
    /// The real part.
    /// The complex number with real part `realPart` and zero imaginary part.
    @inlinable public var conj: Complex<RealType> { conjugate }
    @inlinable public var absSquared: RealType { real * real + imaginary * imaginary }
    @inlinable public init(realPart: RealType) { self.init(realPart, 0) }
    @inlinable public var realPart: RealType { real }
    @inlinable public var isFiniteValue: Bool { real.isFinite && imaginary.isFinite }

    /// Column-major C = α op(A) op(B) + β C (complex `?gemm`).
    public static func gemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Complex<RealType>,
                            a: UnsafePointer<Complex<RealType>>, lda: Int, b: UnsafePointer<Complex<RealType>>, ldb: Int,
                            beta: Complex<RealType>, c: UnsafeMutablePointer<Complex<RealType>>, ldc: Int) {
        RealType.cgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
    /// Column-major y = α op(A) x + β y (complex `?gemv`).
    public static func gemv(_ t: Transpose, m: Int, n: Int, alpha: Complex<RealType>, a: UnsafePointer<Complex<RealType>>, lda: Int,
                            x: UnsafePointer<Complex<RealType>>, incx: Int, beta: Complex<RealType>,
                            y: UnsafeMutablePointer<Complex<RealType>>, incy: Int) {
        RealType.cgemv(t, m, n, alpha, a, lda, x, incx, beta, y, incy)
    }
    /// General solve A X = B (LU, complex `?gesv`), overwriting `b` with X. Returns LAPACK info.
    public static func gesv(n: Int, nrhs: Int, a: UnsafeMutablePointer<Complex<RealType>>, lda: Int,
                            b: UnsafeMutablePointer<Complex<RealType>>, ldb: Int) -> Int32 {
        RealType.cgesv(n, nrhs, a, lda, b, ldb)
    }
    /// Least squares min ‖A X − B‖ (QR, complex `?gels`). Returns LAPACK info.
    public static func gels(m: Int, n: Int, nrhs: Int, a: UnsafeMutablePointer<Complex<RealType>>, lda: Int,
                            b: UnsafeMutablePointer<Complex<RealType>>, ldb: Int) -> Int32 {
        RealType.cgels(m, n, nrhs, a, lda, b, ldb)
    }
    /// Hermitian eigendecomposition (`?heevd`). Returns LAPACK info.
    public static func heevd(n: Int, a: UnsafeMutablePointer<Complex<RealType>>, lda: Int, w: UnsafeMutablePointer<RealType>) -> Int32 {
        RealType.cheevd(n, a, lda, w)
    }
    /// Thin SVD (complex `?gesdd`, jobz = S). Returns LAPACK info.
    public static func gesdd(m: Int, n: Int, a: UnsafeMutablePointer<Complex<RealType>>, lda: Int, s: UnsafeMutablePointer<RealType>,
                             u: UnsafeMutablePointer<Complex<RealType>>, ldu: Int, vt: UnsafeMutablePointer<Complex<RealType>>, ldvt: Int) -> Int32 {
        RealType.cgesdd(m, n, a, lda, s, u, ldu, vt, ldvt)
    }
    /// QR factorization (complex `?geqrf`). Returns LAPACK info.
    public static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Complex<RealType>>, lda: Int,
                             tau: UnsafeMutablePointer<Complex<RealType>>) -> Int32 {
        RealType.cgeqrf(m, n, a, lda, tau)
    }
    /// Forms Q from `geqrf` output (`?ungqr`). Returns LAPACK info.
    public static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Complex<RealType>>, lda: Int,
                             tau: UnsafePointer<Complex<RealType>>) -> Int32 {
        RealType.cungqr(m, n, k, a, lda, tau)
    }
}

/// Real types (`Float`, `Double`) whose complex BLAS/LAPACK kernels exist (c*/z* routines).
public protocol BLASComplexReal: BLASScalar, BinaryFloatingPoint, Real where RealPart == Self {
    static func cgemm(_ ta: Transpose, _ tb: Transpose, _ m: Int, _ n: Int, _ k: Int, _ alpha: Complex<Self>,
                      _ a: UnsafePointer<Complex<Self>>, _ lda: Int, _ b: UnsafePointer<Complex<Self>>, _ ldb: Int,
                      _ beta: Complex<Self>, _ c: UnsafeMutablePointer<Complex<Self>>, _ ldc: Int)
    static func cgemv(_ t: Transpose, _ m: Int, _ n: Int, _ alpha: Complex<Self>, _ a: UnsafePointer<Complex<Self>>, _ lda: Int,
                      _ x: UnsafePointer<Complex<Self>>, _ incx: Int, _ beta: Complex<Self>,
                      _ y: UnsafeMutablePointer<Complex<Self>>, _ incy: Int)
    static func cgesv(_ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Complex<Self>>, _ lda: Int,
                      _ b: UnsafeMutablePointer<Complex<Self>>, _ ldb: Int) -> Int32
    static func cgels(_ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Complex<Self>>, _ lda: Int,
                      _ b: UnsafeMutablePointer<Complex<Self>>, _ ldb: Int) -> Int32
    static func cheevd(_ n: Int, _ a: UnsafeMutablePointer<Complex<Self>>, _ lda: Int, _ w: UnsafeMutablePointer<Self>) -> Int32
    static func cgesdd(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Complex<Self>>, _ lda: Int, _ s: UnsafeMutablePointer<Self>,
                       _ u: UnsafeMutablePointer<Complex<Self>>, _ ldu: Int, _ vt: UnsafeMutablePointer<Complex<Self>>, _ ldvt: Int) -> Int32
    static func cgeqrf(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Complex<Self>>, _ lda: Int, _ tau: UnsafeMutablePointer<Complex<Self>>) -> Int32
    static func cungqr(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafeMutablePointer<Complex<Self>>, _ lda: Int, _ tau: UnsafePointer<Complex<Self>>) -> Int32
}

extension Double: BLASComplexReal {
    /// Complex GEMM kernel behind `Complex<Double>.gemm`.
    public static func cgemm(_ ta: Transpose, _ tb: Transpose, _ m: Int, _ n: Int, _ k: Int, _ alpha: Complex<Double>,
                             _ a: UnsafePointer<Complex<Double>>, _ lda: Int, _ b: UnsafePointer<Complex<Double>>, _ ldb: Int,
                             _ beta: Complex<Double>, _ c: UnsafeMutablePointer<Complex<Double>>, _ ldc: Int) {
        var al = alpha, be = beta
        cblas_zgemm(colMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), &al, a, Int32(lda), b, Int32(ldb), &be, c, Int32(ldc))
    }
    /// Complex GEMV kernel behind `Complex<Double>.gemv`.
    public static func cgemv(_ t: Transpose, _ m: Int, _ n: Int, _ alpha: Complex<Double>, _ a: UnsafePointer<Complex<Double>>, _ lda: Int,
                             _ x: UnsafePointer<Complex<Double>>, _ incx: Int, _ beta: Complex<Double>,
                             _ y: UnsafeMutablePointer<Complex<Double>>, _ incy: Int) {
        var al = alpha, be = beta
        cblas_zgemv(colMajor, t.cblas, Int32(m), Int32(n), &al, a, Int32(lda), x, Int32(incx), &be, y, Int32(incy))
    }
    /// Complex LU solve kernel behind `Complex<Double>.gesv`.
    public static func cgesv(_ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Complex<Double>>, _ lda: Int,
                             _ b: UnsafeMutablePointer<Complex<Double>>, _ ldb: Int) -> Int32 {
        var ipiv = [Int32](repeating: 0, count: max(n, 1))
        return LAPACKE_zgesv(lapackColMajor, Int32(n), Int32(nrhs), lz(a), Int32(lda), &ipiv, lz(b), Int32(ldb))
    }
    /// Complex least-squares kernel behind `Complex<Double>.gels`.
    public static func cgels(_ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Complex<Double>>, _ lda: Int,
                             _ b: UnsafeMutablePointer<Complex<Double>>, _ ldb: Int) -> Int32 {
        LAPACKE_zgels(lapackColMajor, CChar(UInt8(ascii: "N")), Int32(m), Int32(n), Int32(nrhs), lz(a), Int32(lda), lz(b), Int32(ldb))
    }
    /// Hermitian eigensolver kernel behind `Complex<Double>.heevd`.
    public static func cheevd(_ n: Int, _ a: UnsafeMutablePointer<Complex<Double>>, _ lda: Int, _ w: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_zheevd(lapackColMajor, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), Int32(n), lz(a), Int32(lda), w)
    }
    /// Complex thin-SVD kernel behind `Complex<Double>.gesdd`.
    public static func cgesdd(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Complex<Double>>, _ lda: Int, _ s: UnsafeMutablePointer<Double>,
                              _ u: UnsafeMutablePointer<Complex<Double>>, _ ldu: Int, _ vt: UnsafeMutablePointer<Complex<Double>>, _ ldvt: Int) -> Int32 {
        LAPACKE_zgesdd(lapackColMajor, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), lz(a), Int32(lda), s, lz(u), Int32(ldu), lz(vt), Int32(ldvt))
    }
    /// Complex QR kernel behind `Complex<Double>.geqrf`.
    public static func cgeqrf(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Complex<Double>>, _ lda: Int, _ tau: UnsafeMutablePointer<Complex<Double>>) -> Int32 {
        LAPACKE_zgeqrf(lapackColMajor, Int32(m), Int32(n), lz(a), Int32(lda), lz(tau))
    }
    /// Complex Q-forming kernel (`?ungqr`) behind `Complex<Double>.orgqr`.
    public static func cungqr(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafeMutablePointer<Complex<Double>>, _ lda: Int, _ tau: UnsafePointer<Complex<Double>>) -> Int32 {
        LAPACKE_zungqr(lapackColMajor, Int32(m), Int32(n), Int32(k), lz(a), Int32(lda), lz(UnsafeMutablePointer(mutating: tau)))
    }
}

extension Float: BLASComplexReal {
    /// Complex GEMM kernel behind `Complex<Float>.gemm`.
    public static func cgemm(_ ta: Transpose, _ tb: Transpose, _ m: Int, _ n: Int, _ k: Int, _ alpha: Complex<Float>,
                             _ a: UnsafePointer<Complex<Float>>, _ lda: Int, _ b: UnsafePointer<Complex<Float>>, _ ldb: Int,
                             _ beta: Complex<Float>, _ c: UnsafeMutablePointer<Complex<Float>>, _ ldc: Int) {
        var al = alpha, be = beta
        cblas_cgemm(colMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), &al, a, Int32(lda), b, Int32(ldb), &be, c, Int32(ldc))
    }
    /// Complex GEMV kernel behind `Complex<Float>.gemv`.
    public static func cgemv(_ t: Transpose, _ m: Int, _ n: Int, _ alpha: Complex<Float>, _ a: UnsafePointer<Complex<Float>>, _ lda: Int,
                             _ x: UnsafePointer<Complex<Float>>, _ incx: Int, _ beta: Complex<Float>,
                             _ y: UnsafeMutablePointer<Complex<Float>>, _ incy: Int) {
        var al = alpha, be = beta
        cblas_cgemv(colMajor, t.cblas, Int32(m), Int32(n), &al, a, Int32(lda), x, Int32(incx), &be, y, Int32(incy))
    }
    /// Complex LU solve kernel behind `Complex<Float>.gesv`.
    public static func cgesv(_ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Complex<Float>>, _ lda: Int,
                             _ b: UnsafeMutablePointer<Complex<Float>>, _ ldb: Int) -> Int32 {
        var ipiv = [Int32](repeating: 0, count: max(n, 1))
        return LAPACKE_cgesv(lapackColMajor, Int32(n), Int32(nrhs), lz(a), Int32(lda), &ipiv, lz(b), Int32(ldb))
    }
    /// Complex least-squares kernel behind `Complex<Float>.gels`.
    public static func cgels(_ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Complex<Float>>, _ lda: Int,
                             _ b: UnsafeMutablePointer<Complex<Float>>, _ ldb: Int) -> Int32 {
        LAPACKE_cgels(lapackColMajor, CChar(UInt8(ascii: "N")), Int32(m), Int32(n), Int32(nrhs), lz(a), Int32(lda), lz(b), Int32(ldb))
    }
    /// Hermitian eigensolver kernel behind `Complex<Float>.heevd`.
    public static func cheevd(_ n: Int, _ a: UnsafeMutablePointer<Complex<Float>>, _ lda: Int, _ w: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_cheevd(lapackColMajor, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), Int32(n), lz(a), Int32(lda), w)
    }
    /// Complex thin-SVD kernel behind `Complex<Float>.gesdd`.
    public static func cgesdd(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Complex<Float>>, _ lda: Int, _ s: UnsafeMutablePointer<Float>,
                              _ u: UnsafeMutablePointer<Complex<Float>>, _ ldu: Int, _ vt: UnsafeMutablePointer<Complex<Float>>, _ ldvt: Int) -> Int32 {
        LAPACKE_cgesdd(lapackColMajor, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), lz(a), Int32(lda), s, lz(u), Int32(ldu), lz(vt), Int32(ldvt))
    }
    /// Complex QR kernel behind `Complex<Float>.geqrf`.
    public static func cgeqrf(_ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Complex<Float>>, _ lda: Int, _ tau: UnsafeMutablePointer<Complex<Float>>) -> Int32 {
        LAPACKE_cgeqrf(lapackColMajor, Int32(m), Int32(n), lz(a), Int32(lda), lz(tau))
    }
    /// Complex Q-forming kernel (`?ungqr`) behind `Complex<Float>.orgqr`.
    public static func cungqr(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafeMutablePointer<Complex<Float>>, _ lda: Int, _ tau: UnsafePointer<Complex<Float>>) -> Int32 {
        LAPACKE_cungqr(lapackColMajor, Int32(m), Int32(n), Int32(k), lz(a), Int32(lda), lz(UnsafeMutablePointer(mutating: tau)))
    }
}
