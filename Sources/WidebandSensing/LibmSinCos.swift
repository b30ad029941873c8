#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// sin x and cos x from one libm call: glibc's `sincos` (a GNU extension that Swift's Glibc module does
/// not export, so it is looked up once with `dlsym`). glibc computes the pair with the same argument
/// reduction and polynomials as its `sin` and `cos`, so the results are bit-identical to two separate
/// calls (test `libmSinCosIsBitIdenticalToSinAndCos`; checked on 2·10⁷ arguments up to |x| = 3·10⁴ with
/// glibc 2.36) at about 0.65 of the time (14.6 vs 22.8 ns per pair on this VM). Where the symbol is
/// missing (non-glibc platforms) it falls back to the two calls. The phase fills of the MUSIC scans
/// and the closed-form Gram columns use it, so their values do not change.
enum LibmSinCos {
    typealias Function = @convention(c) (Double, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void

    /// glibc `sincos`, or nil.
    static let function: Function? = {
        guard let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, "sincos") else { return nil }
        return unsafeBitCast(sym, to: Function.self)
    }()

    /// Whether sin(−x) = −sin(x) and cos(−x) = cos(x) hold bit for bit for this libm (glibc: yes; the
    /// kernels evaluate |x| and restore the sign). Checked once on a fixed set of arguments spanning
    /// the ranges the scans use (|x| ≤ 3·10⁴ rad); the symmetric fills fall back to full evaluation if not.
    static let isOddEven: Bool = {
        withEvaluator { sc in
            var x = 1e-9
            while x < 4e4 {
                for f in [1.0, 1.0000000001, 1.3, 1.7, 2.9] {
                    let a = sc(x * f), b = sc(-x * f)
                    if b.sin != -a.sin || b.cos != a.cos { return false }
                }
                x *= 1.37
            }
            return true
        }
    }()

    /// A per-thread evaluator: holds the two-double output buffer the C call writes into.
    /// Not Sendable; make one per task (`withEvaluator`).
    struct Evaluator {
        let fn: Function?
        let out: UnsafeMutablePointer<Double>
        /// (sin x, cos x), bit-identical to (Double.sin(x), Double.cos(x)).
        @inline(__always) func callAsFunction(_ x: Double) -> (sin: Double, cos: Double) {
            if let fn { fn(x, out, out + 1); return (out[0], out[1]) }
            return (sin(x), cos(x))
        }
    }

    /// Runs `body` with an evaluator whose output buffer lives for the call.
    @inline(__always) static func withEvaluator<R>(_ body: (Evaluator) throws -> R) rethrows -> R {
        let out = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        defer { out.deallocate() }
        return try body(Evaluator(fn: function, out: out))
    }
}
