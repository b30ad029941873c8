import _Differentiation
import Foundation
import Linalg
import Testing
@testable import Learning

// Finite-difference checks of vector–Jacobian products.
//
// For y = f(x) and a random cotangent R (fixed seed) we compare the AD pullback pb(R) with
// central differences of the scalar φ(x) = Σ_i R_i f(x)_i, evaluated in Double from the float32
// outputs: (φ(x + h e_j) − φ(x − h e_j)) / 2h with h = 1e-2 (float32 inputs). The check passes when
// ‖g_AD − g_FD‖₂ ≤ tol · max(‖g_FD‖₂, 1e-3) with tol = 1e-2 unless stated. Every op is smooth at the
// sampled points (ReLU/abs/max-pool inputs are kept away from their kinks).

let fdStep: Float = 1e-2
let fdTolerance = 1e-2

func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var rng = RandomSource(seed: seed, stream: 77)
    return Tensor.randomNormal(shape, std: std, rng: &rng)
}

func phi(_ y: Tensor, _ r: Tensor) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += Double(y.scalars[i]) * Double(r.scalars[i]) }
    return s
}

func relativeError(_ a: [Float], _ b: [Double]) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<a.count { num += (Double(a[i]) - b[i]) * (Double(a[i]) - b[i]); den += b[i] * b[i] }
    return num.squareRoot() / max(den.squareRoot(), 1e-3)
}

func fdGradient(_ x: Tensor, _ r: Tensor, _ h: Float, _ eval: (Tensor) -> Tensor) -> [Double] {
    var g = [Double](repeating: 0, count: x.count)
    for j in 0..<x.count {
        var xp = x, xm = x
        xp.scalars[j] += h; xm.scalars[j] -= h
        let d = Double(xp.scalars[j]) - Double(xm.scalars[j])  // the step actually taken in float32
        g[j] = (phi(eval(xp), r) - phi(eval(xm), r)) / d
    }
    return g
}

/// Checks the pullback of a one-argument function; returns the relative error.
@discardableResult
func checkGradient(_ x: Tensor, tol: Double = fdTolerance, h: Float = fdStep,
                   _ f: @differentiable(reverse) (Tensor) -> Tensor,
                   sourceLocation: SourceLocation = #_sourceLocation) -> Double {
    let (y, pb) = valueWithPullback(at: x, of: f)
    let r = randomTensor(y.shape, seed: 991)
    let g = pb(r)
    #expect(g.shape == x.shape, sourceLocation: sourceLocation)
    let err = relativeError(g.scalars, fdGradient(x, r, h, { f($0) }))
    #expect(err < tol, "relative VJP error \(err)", sourceLocation: sourceLocation)
    return err
}

/// Checks both pullbacks of a two-argument function.
func checkGradient(_ x: Tensor, _ w: Tensor, tol: Double = fdTolerance, h: Float = fdStep,
                   _ f: @differentiable(reverse) (Tensor, Tensor) -> Tensor,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    let (y, pb) = valueWithPullback(at: x, w, of: f)
    let r = randomTensor(y.shape, seed: 992)
    let (gx, gw) = pb(r)
    #expect(gx.shape == x.shape && gw.shape == w.shape, sourceLocation: sourceLocation)
    let ex = relativeError(gx.scalars, fdGradient(x, r, h, { f($0, w) }))
    let ew = relativeError(gw.scalars, fdGradient(w, r, h, { f(x, $0) }))
    #expect(ex < tol, "relative VJP error (arg 1) \(ex)", sourceLocation: sourceLocation)
    #expect(ew < tol, "relative VJP error (arg 2) \(ew)", sourceLocation: sourceLocation)
}

/// Checks all three pullbacks of a three-argument function.
func checkGradient(_ x: Tensor, _ w: Tensor, _ b: Tensor, tol: Double = fdTolerance, h: Float = fdStep,
                   _ f: @differentiable(reverse) (Tensor, Tensor, Tensor) -> Tensor,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    let (y, pb) = valueWithPullback(at: x, w, b, of: f)
    let r = randomTensor(y.shape, seed: 993)
    let (gx, gw, gb) = pb(r)
    let ex = relativeError(gx.scalars, fdGradient(x, r, h, { f($0, w, b) }))
    let ew = relativeError(gw.scalars, fdGradient(w, r, h, { f(x, $0, b) }))
    let eb = relativeError(gb.scalars, fdGradient(b, r, h, { f(x, w, $0) }))
    #expect(ex < tol, "relative VJP error (arg 1) \(ex)", sourceLocation: sourceLocation)
    #expect(ew < tol, "relative VJP error (arg 2) \(ew)", sourceLocation: sourceLocation)
    #expect(eb < tol, "relative VJP error (arg 3) \(eb)", sourceLocation: sourceLocation)
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
}
