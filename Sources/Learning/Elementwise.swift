import _Differentiation
import Foundation
import Linalg

// MARK: - Broadcasting machinery (NumPy rules: shapes are right-aligned; a dimension of 1 or a
// missing dimension stretches to the other operand's size).

/// The broadcast result shape of `a` and `b`, or nil when they are incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let da = i < r - a.count ? 1 : a[i - (r - a.count)]
        let db = i < r - b.count ? 1 : b[i - (r - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

/// Strides of a tensor of `shape` read in the index space of `out` (0 along broadcast dimensions).
@usableFromInline func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
    let s = Tensor.strides(shape)
    var res = [Int](repeating: 0, count: out.count)
    let off = out.count - shape.count
    for i in 0..<shape.count where shape[i] != 1 { res[i + off] = s[i] }
    return res
}

/// Visits every element of `out` (row-major) with the matching offsets into two broadcast operands.
/// The innermost dimension is a plain strided loop, so `body` is called once per row.
@inline(__always)
func forEachBroadcastRow(_ out: [Int], _ sa: [Int], _ sb: [Int],
                         _ body: (_ outOffset: Int, _ aOffset: Int, _ bOffset: Int, _ n: Int, _ da: Int, _ db: Int) -> Void) {
    let r = out.count
    if r == 0 { body(0, 0, 0, 1, 0, 0); return }
    let inner = out[r - 1]
    let rows = out.dropLast().reduce(1, *)
    if rows == 0 || inner == 0 { return }
    var idx = [Int](repeating: 0, count: max(r - 1, 0))
    var oa = 0, ob = 0
    for row in 0..<rows {
        body(row * inner, oa, ob, inner, sa[r - 1], sb[r - 1])
        // Odometer increment over the outer dimensions.
        var d = r - 2
        while d >= 0 {
            idx[d] += 1; oa += sa[d]; ob += sb[d]
            if idx[d] < out[d] { break }
            oa -= sa[d] * out[d]; ob -= sb[d] * out[d]; idx[d] = 0
            d -= 1
        }
    }
}

/// One output row of a broadcast binary op: `(out, a, strideA, b, strideB, count)`.
typealias BroadcastRow = @Sendable (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Int) -> Void

/// The driver of both `broadcastBinary` forms: same shapes → contiguous chunks split over the workers past 2¹⁶
/// elements; otherwise one call of `row` per output row of the broadcast shape (every element written once).
private func broadcastRows(_ a: Tensor, _ b: Tensor, _ row: BroadcastRow) -> Tensor {
    if a.shape == b.shape {
        let n = a.count
        let out = a.scalars.withUnsafeBufferPointer { pab in
            b.scalars.withUnsafeBufferPointer { pbb in
                uninitializedFloats(n) { po in
                    let pa = SendableMutablePointer(mutating: pab.baseAddress!), pb = SendableMutablePointer(mutating: pbb.baseAddress!)
                    let o = SendableMutablePointer(po)
                    parallelElementwise(n) { r in
                        row(o.pointer + r.lowerBound, pa.pointer + r.lowerBound, 1, pb.pointer + r.lowerBound, 1, r.count)
                    }
                }
            }
        }
        return Tensor(shape: a.shape, scalars: out)
    }
    guard let shape = broadcastShape(a.shape, b.shape) else {
        preconditionFailure("Tensor: cannot broadcast \(a.shape) with \(b.shape)")
    }
    let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
    let out = a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            uninitializedFloats(shape.reduce(1, *)) { po in
                forEachBroadcastRow(shape, sa, sb) { o, ia, ib, n, da, db in
                    row(po + o, pa.baseAddress! + ia, da, pb.baseAddress! + ib, db, n)
                }
            }
        }
    }
    return Tensor(shape: shape, scalars: out)
}

/// `op(a, b)` elementwise with NumPy broadcasting, `op` called once per element (the rarer ops; the arithmetic
/// operators use the specialized `BinaryOp` form).
func broadcastBinary(_ a: Tensor, _ b: Tensor, _ op: @escaping @Sendable (Float, Float) -> Float) -> Tensor {
    broadcastRows(a, b) { o, x, dx, y, dy, n in
        var ix = 0, iy = 0
        for j in 0..<n { o[j] = op(x[ix], y[iy]); ix &+= dx; iy &+= dy }
    }
}

/// The four arithmetic operators and the ReLU gate, dispatched once per row rather than called per element: a
/// closure passed down to the loops (`broadcastBinary(_:_:_:)` with a closure) is an indirect call per element and
/// keeps the loop scalar; these loops are specialized per operator and vectorize. Same results bit for bit (each
/// element is one IEEE operation, or one select, either way).
enum BinaryOp: Sendable {
    case add, sub, mul, div
    /// ReLU pullback `(g, x) ↦ x > 0 ? g : 0` (both operands loaded unconditionally: a select, vectorized).
    case reluGate
}

/// `o[j] = f(a[j·da], b[j·db])` for j < n, with the contiguous and broadcast-scalar cases as plain loops.
@inline(__always)
private func stridedRow(_ o: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ da: Int,
                        _ b: UnsafePointer<Float>, _ db: Int, _ n: Int, _ f: (Float, Float) -> Float) {
    guard n > 0 else { return }
    if da == 1 && db == 1 { for j in 0..<n { o[j] = f(a[j], b[j]) } }
    else if da == 1 && db == 0 { let s = b[0]; for j in 0..<n { o[j] = f(a[j], s) } }
    else if da == 0 && db == 1 { let s = a[0]; for j in 0..<n { o[j] = f(s, b[j]) } }
    else { var ia = 0, ib = 0; for j in 0..<n { o[j] = f(a[ia], b[ib]); ia &+= da; ib &+= db } }
}

/// One row of `op` (see `stridedRow`).
@inline(__always)
private func binaryRow(_ op: BinaryOp, _ o: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ da: Int,
                       _ b: UnsafePointer<Float>, _ db: Int, _ n: Int) {
    switch op {
    case .add: stridedRow(o, a, da, b, db, n) { $0 + $1 }
    case .sub: stridedRow(o, a, da, b, db, n) { $0 - $1 }
    case .mul: stridedRow(o, a, da, b, db, n) { $0 * $1 }
    case .div: stridedRow(o, a, da, b, db, n) { $0 / $1 }
    case .reluGate: stridedRow(o, a, da, b, db, n) { $1 > 0 ? $0 : 0 }
    }
}

/// `a op b` with NumPy broadcasting (the arithmetic operators' kernel; see `BinaryOp`).
func broadcastBinary(_ a: Tensor, _ b: Tensor, _ op: BinaryOp) -> Tensor {
    broadcastRows(a, b) { o, x, dx, y, dy, n in binaryRow(op, o, x, dx, y, dy, n) }
}

/// Unary kernels of the hot elementwise primitives, specialized per operation (see `BinaryOp`).
enum UnaryOp: Sendable {
    /// max(x, 0), with NaN ↦ 0 (`x > 0 ? x : 0`).
    case relu
    /// x · s.
    case scale(Float)
    /// x + s.
    case shift(Float)
}

extension Tensor {
    /// The driver of `unary(_:)` and `map(_:)`: `row(out, in, count)` over contiguous chunks of the elements, split
    /// over the workers past 2¹⁶ elements.
    fileprivate func elementwiseRows(_ row: @Sendable (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void) -> Tensor {
        let n = count
        let out = scalars.withUnsafeBufferPointer { pb in
            uninitializedFloats(n) { po in
                let p = SendableMutablePointer(mutating: pb.baseAddress!), o = SendableMutablePointer(po)
                parallelElementwise(n) { r in row(o.pointer + r.lowerBound, p.pointer + r.lowerBound, r.count) }
            }
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// `op` applied to every element (split over the workers past 2¹⁶ elements).
    func unary(_ op: UnaryOp) -> Tensor {
        elementwiseRows { y, x, m in
            switch op {
            case .relu: for j in 0..<m { let v = x[j]; y[j] = v > 0 ? v : 0 }
            case .scale(let s): for j in 0..<m { y[j] = x[j] * s }
            case .shift(let s): for j in 0..<m { y[j] = x[j] + s }
            }
        }
    }

    /// ReLU pullback: `g` where `x > 0`, else 0 (same shapes).
    func reluPullback(_ x: Tensor) -> Tensor {
        precondition(shape == x.shape, "relu pullback: \(shape) vs \(x.shape)")
        return broadcastBinary(self, x, .reluGate)
    }
}

extension Tensor {
    /// Sums `self` (a broadcast result) down to `target`, the shape of the operand that was
    /// broadcast: the adjoint of broadcasting.
    public func reduced(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        if isScalarZero { return .zeros(target) }
        let n = target.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        if n == 1 {
            out[0] = scalars.withUnsafeBufferPointer { p in var s: Float = 0; for v in p { s += v }; return s }
            return Tensor(shape: target, scalars: out)
        }
        let st = broadcastStrides(target, to: shape)
        let zeros = [Int](repeating: 0, count: shape.count)
        scalars.withUnsafeBufferPointer { pg in
            out.withUnsafeMutableBufferPointer { po in
                forEachBroadcastRow(shape, st, zeros) { o, it, _, m, dt, _ in
                    if dt == 1 {
                        // a row onto a row: each output element still sums its inputs in row order (same bits)
                        let src = pg.baseAddress! + o, dst = po.baseAddress! + it
                        for j in 0..<m { dst[j] += src[j] }
                    } else {
                        var it = it
                        for j in 0..<m { po[it] += pg[o + j]; it += dt }
                    }
                }
            }
        }
        return Tensor(shape: target, scalars: out)
    }

    /// `self` broadcast to `target` (materialized copy).
    @differentiable(reverse)
    public func broadcast(to target: [Int]) -> Tensor {
        broadcastBinary(self, Tensor.zeros(target)) { a, _ in a }
    }
    /// Reverse-mode derivative of `broadcast(to:)`: the value and its pullback.
    @derivative(of: broadcast(to:))
    public func _vjpBroadcast(to target: [Int]) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let s = shape
        return (broadcast(to: target), { g in g.reduced(toShape: s) })
    }

    /// Elementwise map (no derivative): the building block of the unary primitives below.
    @inline(__always)
    func map(_ f: @escaping @Sendable (Float) -> Float) -> Tensor {
        elementwiseRows { y, x, m in for j in 0..<m { y[j] = f(x[j]) } }
    }

    /// Elementwise combination of two same-shape tensors (no derivative).
    @inline(__always)
    func zipMap(_ other: Tensor, _ f: @escaping @Sendable (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "zipMap: \(shape) vs \(other.shape)")
        return broadcastBinary(self, other, f)
    }
}

// MARK: - Broadcasting arithmetic

extension Tensor {
    /// Broadcasting sum. Also the `AdditiveArithmetic` addition used to accumulate gradients.
    @differentiable(reverse)
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        if rhs.isScalarZero { return lhs }
        if lhs.isScalarZero { return rhs }
        return broadcastBinary(lhs, rhs, .add)
    }
    /// Reverse-mode derivative of `+` (with broadcasting): the value and its pullback.
    @derivative(of: +)
    public static func _vjpAdd(lhs: Tensor, rhs: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        let sa = lhs.shape, sb = rhs.shape
        return (lhs + rhs, { g in (g.reduced(toShape: sa), g.reduced(toShape: sb)) })
    }

    /// Broadcasting difference.
    @differentiable(reverse)
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        if rhs.isScalarZero { return lhs }
        return broadcastBinary(lhs, rhs, .sub)
    }
    /// Reverse-mode derivative of `-` (with broadcasting): the value and its pullback.
    @derivative(of: -)
    public static func _vjpSub(lhs: Tensor, rhs: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        let sa = lhs.shape, sb = rhs.shape
        return (lhs - rhs, { g in (g.reduced(toShape: sa), (-g).reduced(toShape: sb)) })
    }

    /// Broadcasting elementwise (Hadamard) product.
    @differentiable(reverse)
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { broadcastBinary(lhs, rhs, .mul) }
    /// Reverse-mode derivative of elementwise `*` (with broadcasting): the value and its pullback.
    @derivative(of: *)
    public static func _vjpMul(lhs: Tensor, rhs: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        let out = lhs * rhs
        return (out, { g in
            let g = g.materialized(out.shape)
            return (broadcastBinary(g, rhs, .mul).reduced(toShape: lhs.shape),
                    broadcastBinary(g, lhs, .mul).reduced(toShape: rhs.shape))
        })
    }

    /// Broadcasting elementwise quotient.
    @differentiable(reverse)
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { broadcastBinary(lhs, rhs, .div) }
    /// Reverse-mode derivative of elementwise `/` (with broadcasting): the value and its pullback.
    @derivative(of: /)
    public static func _vjpDiv(lhs: Tensor, rhs: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        let out = lhs / rhs
        return (out, { g in
            let g = g.materialized(out.shape)
            let ga = broadcastBinary(g, rhs, .div).reduced(toShape: lhs.shape)
            // d(a/b)/db = −(a/b)/b
            let gb = broadcastBinary(broadcastBinary(g, out, *), rhs, { x, y in -x / y }).reduced(toShape: rhs.shape)
            return (ga, gb)
        })
    }

    /// Negation.
    @differentiable(reverse)
    public static prefix func - (x: Tensor) -> Tensor { x.map { -$0 } }
    /// Reverse-mode derivative of prefix `-`: the value and its pullback.
    @derivative(of: -)
    public static func _vjpNeg(x: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        (-x, { g in g.map { -$0 } })
    }

    /// `x · s` for a constant scalar `s` (not differentiated with respect to `s`).
    @differentiable(reverse, wrt: lhs)
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.unary(.scale(rhs)) }
    /// Reverse-mode derivative of `Tensor * Float`: the value and its pullback.
    @derivative(of: *, wrt: lhs)
    public static func _vjpMulScalar(lhs: Tensor, rhs: Float) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        (lhs * rhs, { g in g.unary(.scale(rhs)) })
    }
    /// Scalar times tensor, elementwise (`rhs * lhs`).
    @differentiable(reverse, wrt: rhs)
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }

    /// `x / s` for a constant scalar `s`.
    @differentiable(reverse, wrt: lhs)
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * (1 / rhs) }

    /// `x + s` for a constant scalar `s`.
    @differentiable(reverse, wrt: lhs)
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.unary(.shift(rhs)) }
    /// Reverse-mode derivative of `Tensor + Float`: the value and its pullback.
    @derivative(of: +, wrt: lhs)
    public static func _vjpAddScalar(lhs: Tensor, rhs: Float) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        (lhs + rhs, { g in g })
    }
    /// `x − s` for a constant scalar `s`.
    @differentiable(reverse, wrt: lhs)
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + (-rhs) }
}

// MARK: - Unary primitives

extension Tensor {
    /// max(x, 0). The derivative at 0 is taken as 0.
    @differentiable(reverse)
    public func relu() -> Tensor { unary(.relu) }
    /// Reverse-mode derivative of `relu`: the value and its pullback.
    @derivative(of: relu)
    public func _vjpRelu() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let x = self
        return (relu(), { g in g.materialized(x.shape).reluPullback(x) })
    }

    /// GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (the PyTorch
    /// `approximate="tanh"` form).
    @differentiable(reverse)
    public func gelu() -> Tensor { geluKernel(self, nil) }
    /// Reverse-mode derivative of `gelu`: the value and its pullback.
    @derivative(of: gelu)
    public func _vjpGelu() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let x = self
        return (geluKernel(x, nil), { g in geluKernel(x, g.materialized(x.shape)) })
    }
    /// (gelu(x), gelu'(x)).
    @inline(__always) static func geluScalar(_ x: Float) -> (Float, Float) {
        let c: Float = 0.7978845608028654, a: Float = 0.044715
        let u = c * (x + a * x * x * x)
        // tanh u = 1 − 2/(e^{2u} + 1): float-only, saturates correctly at ±∞
        let t = 1 - 2 / (Foundation.expf(2 * u) + 1)
        let du = c * (1 + 3 * a * x * x)
        return (0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
    }

    /// Hyperbolic tangent.
    @differentiable(reverse)
    public func tanh() -> Tensor { map { Foundation.tanhf($0) } }
    /// Reverse-mode derivative of `tanh`: the value and its pullback.
    @derivative(of: tanh)
    public func _vjpTanh() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let y = tanh()
        return (y, { g in g.materialized(y.shape).zipMap(y) { g, y in g * (1 - y * y) } })
    }

    /// Logistic sigmoid 1/(1+e^{−x}), evaluated without overflow for large |x|.
    @differentiable(reverse)
    public func sigmoid() -> Tensor {
        map { x in x >= 0 ? 1 / (1 + Foundation.expf(-x)) : Foundation.expf(x) / (1 + Foundation.expf(x)) }
    }
    /// Reverse-mode derivative of `sigmoid`: the value and its pullback.
    @derivative(of: sigmoid)
    public func _vjpSigmoid() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let y = sigmoid()
        return (y, { g in g.materialized(y.shape).zipMap(y) { g, y in g * y * (1 - y) } })
    }

    /// eˣ.
    @differentiable(reverse)
    public func exp() -> Tensor { map { Foundation.expf($0) } }
    /// Reverse-mode derivative of `exp`: the value and its pullback.
    @derivative(of: exp)
    public func _vjpExp() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let y = exp()
        return (y, { g in g.materialized(y.shape).zipMap(y, *) })
    }

    /// Natural logarithm (x > 0).
    @differentiable(reverse)
    public func log() -> Tensor { map { Foundation.logf($0) } }
    /// Reverse-mode derivative of `log`: the value and its pullback.
    @derivative(of: log)
    public func _vjpLog() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let x = self
        return (log(), { g in g.materialized(x.shape).zipMap(x, /) })
    }

    /// sin x (radians).
    @differentiable(reverse)
    public func sin() -> Tensor { map { Foundation.sinf($0) } }
    /// Reverse-mode derivative of `sin`: the value and its pullback.
    @derivative(of: sin)
    public func _vjpSin() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let x = self
        return (sin(), { g in g.materialized(x.shape).zipMap(x) { g, x in g * Foundation.cosf(x) } })
    }

    /// cos x (radians).
    @differentiable(reverse)
    public func cos() -> Tensor { map { Foundation.cosf($0) } }
    /// Reverse-mode derivative of `cos`: the value and its pullback.
    @derivative(of: cos)
    public func _vjpCos() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let x = self
        return (cos(), { g in g.materialized(x.shape).zipMap(x) { g, x in -g * Foundation.sinf(x) } })
    }

    /// √x (x > 0 for a finite derivative).
    @differentiable(reverse)
    public func sqrt() -> Tensor { map { $0.squareRoot() } }
    /// Reverse-mode derivative of `sqrt`: the value and its pullback.
    @derivative(of: sqrt)
    public func _vjpSqrt() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let y = sqrt()
        return (y, { g in g.materialized(y.shape).zipMap(y) { g, y in g / (2 * y) } })
    }

    /// x².
    @differentiable(reverse)
    public func squared() -> Tensor { map { $0 * $0 } }
    /// Reverse-mode derivative of `squared`: the value and its pullback.
    @derivative(of: squared)
    public func _vjpSquared() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let x = self
        return (squared(), { g in g.materialized(x.shape).zipMap(x) { g, x in 2 * g * x } })
    }

    /// |x|; the derivative at 0 is taken as 0 (sign(0) = 0).
    @differentiable(reverse)
    public func abs() -> Tensor { map { Swift.abs($0) } }
    /// Reverse-mode derivative of `abs`: the value and its pullback.
    @derivative(of: abs)
    public func _vjpAbs() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let x = self
        return (abs(), { g in g.materialized(x.shape).zipMap(x) { g, x in x > 0 ? g : (x < 0 ? -g : 0) } })
    }
}
