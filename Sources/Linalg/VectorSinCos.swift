#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Vectorized double-precision sin and cos of arrays of phases, four lanes at a time (`SIMD4<Double>`, i.e. two
/// SSE2 registers on the baseline x86-64 target), without library calls.
///
/// Method (per lane):
/// 1. Cody–Waite reduction x = n·π/2 + r, n = round(x·2/π), with π/2 = P1 + P2 + P3: P1 and P2 have 33 significant
///    bits (so n·P1 and n·P2 are exact for |n| < 2²⁰), P3 is the 53-bit tail (π/2 to ≈ 119 bits). x − n·P1 is exact
///    (Sterbenz); the rounding error of subtracting n·P2 is recovered (Fast2Sum) and folded into the tail term.
/// 2. fdlibm's minimax polynomials on |r| ≤ π/4 (`__kernel_sin`/`__kernel_cos`, degree 13 and 14; approximation
///    error < 2⁻⁵⁸), cos evaluated as w + ((1 − w) − r²/2 + r⁴·C(r²)) with w = 1 − r²/2 to keep the leading term exact.
/// 3. Quadrant n mod 4 by bit operations: odd n swaps sin and cos; sin is negated for n mod 4 ∈ {2, 3}, cos for {1, 2}.
///
/// Valid for |x| ≤ `maxArgument` (rad). A block of four containing a lane beyond it, or a NaN/±∞, is evaluated by
/// libm `sin`/`cos` per lane (so the result is then libm's). Accuracy vs glibc `sin`/`cos`: test
/// `vectorSinCosMatchesLibm` (max error in ulps of the result, 2·10⁶ arguments over |x| ≤ 10⁶: measured 1.0 ulp, asserted ≤ 2;
/// absolute error 1.11e-16 measured, < 2.3e-16 asserted). sin(0) = 0 and cos(0) = 1 exactly; sin is odd and cos even bit for bit
/// (the reduction and polynomials are odd/even in x).
public enum VectorSinCos {
    /// Largest |x| (rad) for which the reduction above is exact (n = round(2x/π) < 2²⁰ with margin).
    public static let maxArgument = 1.0e6

    @usableFromInline static let p1 = 1.57079632673412561417e+00  // 0x3FF921FB54400000 (33 bits)
    @usableFromInline static let p2 = 6.07710050630396597660e-11  // 0x3DD0B4611A600000 (33 bits)
    @usableFromInline static let p3 = 2.02226624879595063154e-21  // tail
    @usableFromInline static let twoOverPi = 6.36619772367581382433e-01
    @usableFromInline static let magic = 6755399441055744.0  // 1.5·2⁵²: (y + magic) − magic rounds y to an integer

    // fdlibm __kernel_sin: sin r ≈ r + r³(S1 + z S2 + … + z⁵ S6), z = r².
    @usableFromInline static let s1 = -1.66666666666666324348e-01, s2 = 8.33333333332248946124e-03
    @usableFromInline static let s3 = -1.98412698298579493134e-04, s4 = 2.75573137070700676789e-06
    @usableFromInline static let s5 = -2.50507602534068634195e-08, s6 = 1.58969099521155010221e-10
    // fdlibm __kernel_cos: cos r ≈ 1 − z/2 + z²(C1 + z C2 + … + z⁵ C6).
    @usableFromInline static let c1 = 4.16666666666666019037e-02, c2 = -1.38888888888741095749e-03
    @usableFromInline static let c3 = 2.48015872894767294178e-05, c4 = -2.75573143513906633035e-07
    @usableFromInline static let c5 = 2.08757232129817482790e-09, c6 = -1.13596475577881948265e-11

    /// (sin x, cos x) lane-wise for lanes with |x| ≤ `maxArgument` (no range check; see `sinCos(_:count:sin:cos:)`).
    @inlinable @inline(__always)
    public static func kernel(_ x: SIMD4<Double>) -> (sin: SIMD4<Double>, cos: SIMD4<Double>) {
        let t: SIMD4<Double> = x * twoOverPi + magic
        let n: SIMD4<Double> = t - magic
        let q = unsafeBitCast(t, to: SIMD4<UInt64>.self)  // low bits: n mod 2⁵¹ (two's complement)
        let a: SIMD4<Double> = x - n * p1                 // exact
        let w: SIMD4<Double> = n * p2                     // exact
        let b: SIMD4<Double> = a - w
        let e: SIMD4<Double> = (a - b) - w                // rounding error of b (Fast2Sum)
        let r: SIMD4<Double> = b + (e - n * p3)
        let z: SIMD4<Double> = r * r
        // Horner steps one per line (typed), which also keeps the type checker fast.
        var sp: SIMD4<Double> = z * s6 + s5
        sp = sp * z + s4
        sp = sp * z + s3
        sp = sp * z + s2
        sp = sp * z + s1
        let rz: SIMD4<Double> = r * z
        let sv: SIMD4<Double> = r + rz * sp
        var cp: SIMD4<Double> = z * c6 + c5
        cp = cp * z + c4
        cp = cp * z + c3
        cp = cp * z + c2
        cp = cp * z + c1
        cp = cp * z
        let hz: SIMD4<Double> = 0.5 * z
        let w1: SIMD4<Double> = 1 - hz
        let lo: SIMD4<Double> = ((1 - w1) - hz) + z * cp
        let cv: SIMD4<Double> = w1 + lo
        let one = SIMD4<UInt64>(repeating: 1), two = SIMD4<UInt64>(repeating: 2)
        let swap = SIMD4<UInt64>(repeating: 0) &- (q & one)  // all ones where n is odd
        let sb = unsafeBitCast(sv, to: SIMD4<UInt64>.self), cb = unsafeBitCast(cv, to: SIMD4<UInt64>.self)
        let sSel = (sb & ~swap) | (cb & swap), cSel = (cb & ~swap) | (sb & swap)
        let sSign = (q & two) &<< 62, cSign = ((q &+ one) & two) &<< 62
        return (unsafeBitCast(sSel ^ sSign, to: SIMD4<Double>.self), unsafeBitCast(cSel ^ cSign, to: SIMD4<Double>.self))
    }

    /// sin[i] = sin x[i], cos[i] = cos x[i] for i < count (any x; libm per lane for blocks with |x| > `maxArgument`,
    /// NaN or ±∞, and for the < 4 trailing elements). `sin` and `cos` must not overlap `x` partially.
    public static func sinCos(_ x: UnsafePointer<Double>, count: Int, sin so: UnsafeMutablePointer<Double>,
                              cos co: UnsafeMutablePointer<Double>) {
        var i = 0
        let bound = SIMD4<Double>(repeating: maxArgument)
        while i + 4 <= count {
            let v = SIMD4<Double>(x[i], x[i + 1], x[i + 2], x[i + 3])
            // |x| ≤ bound is false for NaN, so NaN lanes also take the libm path.
            let ok = (v .<= bound) .& (v .>= -bound)
            if all(ok) {
                let (s, c) = kernel(v)
                so[i] = s[0]; so[i + 1] = s[1]; so[i + 2] = s[2]; so[i + 3] = s[3]
                co[i] = c[0]; co[i + 1] = c[1]; co[i + 2] = c[2]; co[i + 3] = c[3]
            } else {
                for l in i..<(i + 4) { let y = x[l]; so[l] = sin(y); co[l] = cos(y) }
            }
            i += 4
        }
        while i < count {
            let y = x[i]
            if Swift.abs(y) <= maxArgument {
                let (s, c) = kernel(SIMD4<Double>(y, 0, 0, 0))
                so[i] = s[0]; co[i] = c[0]
            } else {
                so[i] = sin(y); co[i] = cos(y)
            }
            i += 1
        }
    }
}
