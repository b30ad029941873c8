import Foundation
import Linalg
internal import CKernels

/// Vectorized single-precision eˣ for 8 lanes (the softmax kernel's exponential).
///
/// Range reduction x = n·ln 2 + r with n = round(x·log₂e) (round-to-nearest via the 1.5·2²³ shift, so no
/// SSE4.1 rounding instruction is needed), ln 2 split into a hi/lo pair (Cody–Waite) so that r is exact to
/// float rounding, |r| ≤ ln 2 / 2; then e^r ≈ 1 + r + r²·P(r) with the degree-5 minimax polynomial P of the
/// Cephes `expf`, and 2ⁿ is built from the exponent bits. Relative error ≤ 2 ulp over the whole range
/// (checked against `Foundation.expf` in `FastMathTests`). Edge cases: x < −87.33 (where eˣ would be
/// subnormal) → 0 exactly, so −∞ → 0; x > 88.72 → +∞; NaN → NaN.
@inline(__always)
func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let hiLimit: Float = 88.72283, loLimit: Float = -87.33654
    // clamp with masked selects (the generic `clamped`/`pointwiseMin` are not inlined across modules)
    var xc = x
    xc.replace(with: loLimit, where: x .< loLimit)
    xc.replace(with: hiLimit, where: x .> hiLimit)
    let shift: Float = 12_582_912  // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits
    let t = xc * 1.442_695_04 + shift
    let n = t - shift
    let r = (xc - n * 0.693_359_375) + n * 2.121_944_4e-4  // ln 2 = 0.693359375 − 2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * (r * r) + r + 1
    // n as an integer: the bits of t minus the bits of the shift constant
    let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- Int32(bitPattern: shift.bitPattern)
    // 2ⁿ as 2^{n₁}·2^{n₂}, n₁ = ⌊n/2⌋: each factor stays a normal float for every n in −126…128
    let n1 = ni &>> 1, n2 = ni &- n1
    let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: SIMD8<Float>.self)
    let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: SIMD8<Float>.self)
    var y = er * s1 * s2
    y.replace(with: 0, where: x .< loLimit)
    y.replace(with: .infinity, where: x .> hiLimit)
    y.replace(with: .nan, where: x .!= x)
    return y
}

/// Scalar eˣ with the same arithmetic as `fastExp(_: SIMD8<Float>)` (for loop tails), so that the result
/// does not depend on a value's position in a row.
@inline(__always)
func fastExp(_ x: Float) -> Float { fastExp(SIMD8(repeating: x))[0] }

/// Softmax of one contiguous row of `c` floats, `out[j] = e^{x_j − m}/Σ_k e^{x_k − m}` with m = max_j x_j,
/// 8 lanes at a time (`fastExp`); `x` and `out` may be the same buffer.
@inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ c: Int) {
    let c8 = c & ~7
    var mv = SIMD8<Float>(repeating: -.infinity)
    var j = 0
    while j < c8 {
        let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
        mv.replace(with: v, where: v .> mv); j += 8
    }
    var m = mv.max()
    while j < c { m = Swift.max(m, x[j]); j += 1 }
    if m == -.infinity { m = 0 }  // an all −∞ row: e^{−∞} = 0 everywhere, 0/0 = NaN as before
    let mb = SIMD8<Float>(repeating: m)
    var sv = SIMD8<Float>(repeating: 0)
    j = 0
    while j < c8 {
        let e = fastExp(UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) - mb)
        UnsafeMutableRawPointer(out + j).storeBytes(of: e, as: SIMD8<Float>.self)
        sv += e; j += 8
    }
    var s = sv.sum()
    while j < c { let e = fastExp(x[j] - m); out[j] = e; s += e; j += 1 }
    let inv = SIMD8<Float>(repeating: 1 / s)
    j = 0
    while j < c8 {
        let p = UnsafeMutableRawPointer(out + j)
        p.storeBytes(of: p.loadUnaligned(as: SIMD8<Float>.self) * inv, as: SIMD8<Float>.self); j += 8
    }
    while j < c { out[j] *= inv[0]; j += 1 }
}

/// Which softmax kernel `softmaxRows`/`softmaxPullbackRows` run: the C kernels (`ck_softmax_rows_on_path`: 2 =
/// AVX-512F, 1 = AVX2+FMA, 16 or 8 lanes) where the CPU has them, else the SIMD8 Swift rows above (which the x86-64
/// baseline compiles to two 4-lane SSE halves: ≈ 3.5× slower than the AVX-512 path on the attention scores of
/// `bench learning`, docs/BENCHMARKS.md). Paths agree to a few ulp, not bit for bit; one machine always takes one
/// path, so a run stays reproducible. `ISAC_SOFTMAX_PATH=0|1|2` caps it (0 = the Swift rows).
let softmaxKernelPath: Int = {
    let best = Int(ck_softmax_path())
    if let s = ProcessInfo.processInfo.environment["ISAC_SOFTMAX_PATH"], let v = Int(s), v >= 0 { return min(v, best) }
    return best
}()

/// Softmax of `rows` contiguous rows of `c` floats (see `softmaxKernelPath`); `x` and `out` may alias.
@inline(__always)
func softmaxRows(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ rows: Int, _ c: Int, path: Int = softmaxKernelPath) {
    if path > 0 { ck_softmax_rows_on_path(Int32(path), x, out, rows, c); return }
    for r in 0..<rows { softmaxRow(x + r * c, out + r * c, c) }
}

/// Softmax pullback of `rows` rows (see `softmaxKernelPath`).
@inline(__always)
func softmaxPullbackRows(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ rows: Int, _ c: Int,
                         path: Int = softmaxKernelPath) {
    if path > 0 { ck_softmax_pullback_rows_on_path(Int32(path), y, g, dx, rows, c); return }
    for r in 0..<rows { softmaxPullbackRow(y + r * c, g + r * c, dx + r * c, c) }
}

/// Softmax pullback of one row: `dx[j] = y[j]·(g[j] − Σ_k g_k y_k)`, 8 lanes at a time.
@inline(__always)
func softmaxPullbackRow(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ c: Int) {
    let c8 = c & ~7
    var dv = SIMD8<Float>(repeating: 0)
    var j = 0
    while j < c8 {
        dv += UnsafeRawPointer(g + j).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
        j += 8
    }
    var dot = dv.sum()
    while j < c { dot += g[j] * y[j]; j += 1 }
    let db = SIMD8<Float>(repeating: dot)
    j = 0
    while j < c8 {
        let yv = UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
        let gv = UnsafeRawPointer(g + j).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(dx + j).storeBytes(of: yv * (gv - db), as: SIMD8<Float>.self); j += 8
    }
    while j < c { dx[j] = y[j] * (g[j] - dot); j += 1 }
}

/// Σ of `n` contiguous floats, 8 lanes at a time.
@inline(__always)
func vectorSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    let n8 = n & ~7
    var a = SIMD8<Float>(repeating: 0), b = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 16 <= n8 {
        a += UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self)
        b += UnsafeRawPointer(p + j + 8).loadUnaligned(as: SIMD8<Float>.self); j += 16
    }
    while j < n8 { a += UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self); j += 8 }
    var s = (a + b).sum()
    while j < n { s += p[j]; j += 1 }
    return s
}

/// `dst[i] += src[i]` for `n` contiguous floats, 8 lanes at a time (`dst` and `src` must not overlap).
@inline(__always)
func vectorAccumulate(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var j = 0
    while j + 8 <= n {
        let d = UnsafeMutableRawPointer(dst + j)
        d.storeBytes(of: d.loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(src + j).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
        j += 8
    }
    while j < n { dst[j] += src[j]; j += 1 }
}

/// (gelu(x), gelu'(x)) of 8 lanes, tanh form: gelu = ½x(1 + t), t = tanh(√(2/π)(x + 0.044715x³)) =
/// 1 − 2/(e^{2u} + 1) with `fastExp` (saturates to ±1 at ±∞; NaN stays NaN).
@inline(__always)
func geluLanes(_ x: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
    let c: Float = 0.7978845608028654, a: Float = 0.044715
    let x2 = x * x
    let u = c * (x + a * x2 * x)
    let t = 1 - 2 / (fastExp(2 * u) + 1)
    let du = c * (1 + 3 * a * x2)
    let half: SIMD8<Float> = SIMD8(repeating: 0.5)
    return (half * x * (1 + t), half * (1 + t) + half * x * (1 - t * t) * du)
}

/// GELU (tanh form) of every element of `x` when `grad` is nil, else `grad ⊙ gelu'(x)` (same shape), 8 lanes
/// at a time (`geluLanes`; a tail element is evaluated in lane 0 of a broadcast vector, so the result does not
/// depend on an element's position), split over the cores past 2¹⁶ elements.
func geluKernel(_ x: Tensor, _ grad: Tensor?) -> Tensor {
    let n = x.count
    if let grad { precondition(grad.shape == x.shape, "gelu pullback: gradient \(grad.shape) for input \(x.shape)") }
    if n == 0 { return x }
    let gs = grad?.scalars ?? []
    let out = x.scalars.withUnsafeBufferPointer { pxb in
        gs.withUnsafeBufferPointer { pgb in
            uninitializedFloats(n) { po in
                let px = SendableMutablePointer(mutating: pxb.baseAddress!), o = SendableMutablePointer(po)
                let pg = grad == nil ? nil : SendableMutablePointer(mutating: pgb.baseAddress!)
                parallelElementwise(n) { r in
                    var i = r.lowerBound
                    while i + 8 <= r.upperBound {
                        let (y, d) = geluLanes(UnsafeRawPointer(px.pointer + i).loadUnaligned(as: SIMD8<Float>.self))
                        let v = pg.map { UnsafeRawPointer($0.pointer + i).loadUnaligned(as: SIMD8<Float>.self) * d } ?? y
                        UnsafeMutableRawPointer(o.pointer + i).storeBytes(of: v, as: SIMD8<Float>.self)
                        i += 8
                    }
                    while i < r.upperBound {
                        let (y, d) = geluLanes(SIMD8(repeating: px.pointer[i]))
                        o.pointer[i] = pg.map { $0.pointer[i] * d[0] } ?? y[0]
                        i += 1
                    }
                }
            }
        }
    }
    return Tensor(shape: x.shape, scalars: out)
}
