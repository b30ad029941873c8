import Linalg
import Numerics

/// Local continuous ("off-grid") refinement of the atoms picked by a sparse-recovery step.
///
/// Model: Y = A(η) X + W, [L × K], A = [a(η_1) … a(η_P)], X unknown (deterministic complex gains),
/// white Gaussian W. Concentrating X out of the log-likelihood leaves the objective
///
///     J(η_1, …, η_P) = ‖P_A Y‖_F²,   P_A the orthogonal projector onto span A.
///
/// Starting from the grid atoms, each source's parameter vector η_p is improved in turn with the
/// others fixed: with Q an orthonormal basis of the other atoms, Ỹ = (I − QQᴴ) Y and
/// ã = (I − QQᴴ) a(η_p), J = ‖QᴴY‖² + ‖ãᴴỸ‖²/‖ã‖², so only the second term is maximized. The
/// maximization is a compass (pattern) search in coordinates scaled by `scales` (one grid cell per
/// unit): try ± step along each coordinate, move on improvement, halve the step otherwise, stop
/// below `tolerance` cells; η_p stays within `radius` cells of its start (a local polish, not a
/// global search). Derivative-free, so any steering model works. With a screen
/// (`Options.screenHalfWidth`), the first sweep starts each source's search from the best point of a
/// small lattice around its atom instead of the atom itself — for atoms that are poorly coherent with
/// the source (a start outside the objective's main lobe).
public enum OffGridRefinement {
    /// Options of `refine`.
    public struct Options: Sendable {
        /// Initial step, cells.
        public var initialStep: Double = 0.5
        /// Stop when the step falls below this, cells.
        public var tolerance: Double = 1e-3
        /// Maximum distance from the starting atom, cells (per coordinate).
        public var radius: Double = 1.5
        /// Cyclic sweeps over the P sources.
        public var sweeps: Int = 2
        /// Optional basin screen (first sweep only): per coordinate d a half-width h_d and a spacing s_d
        /// in cells; the objective is evaluated on the lattice start + (i_d s_d) cells, |i_d s_d| ≤ h_d, and
        /// the compass search starts from the lattice point with the largest objective (its `radius`
        /// then counts from there). Empty = start at the given point (no screen).
        public var screenHalfWidth: [Double] = []
        /// Lattice spacing of the screen, cells per coordinate (same length as `screenHalfWidth`).
        public var screenStep: [Double] = []
        /// Settings as documented on each property (steps, tolerance and radius in grid cells).
        public init(initialStep: Double = 0.5, tolerance: Double = 1e-3, radius: Double = 1.5, sweeps: Int = 2,
                    screenHalfWidth: [Double] = [], screenStep: [Double] = []) {
            self.initialStep = initialStep; self.tolerance = tolerance; self.radius = radius; self.sweeps = sweeps
            self.screenHalfWidth = screenHalfWidth; self.screenStep = screenStep
        }
    }

    /// Refines `initial` (P parameter vectors of equal length D).
    /// - Parameters:
    ///   - y: Y, [L × K].
    ///   - initial: P starting parameter vectors (e.g. the grid points picked by SOMP).
    ///   - scales: D cell sizes (parameter units per cell).
    ///   - steering: a(η) ([L], any norm) for a parameter vector η.
    ///   - clamp: maps a trial η into the admissible set (e.g. an angle range); identity by default.
    /// - Returns: P refined parameter vectors and the final objective ‖P_A Y‖_F².
    public static func refine(observations y: Matrix<CDouble>, initial: [[Double]], scales: [Double],
                              options o: Options = Options(),
                              clamp: ([Double]) -> [Double] = { $0 },
                              steering: ([Double]) -> [CDouble]) throws -> (parameters: [[Double]], objective: Double) {
        let p = initial.count
        try Check.positive(p, "sources")
        guard initial.allSatisfy({ $0.count == scales.count }), scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ISACError.invalidParameter(name: "scales", value: "\(scales)", valid: "one positive finite cell size per parameter")
        }
        let l = y.rows
        var eta = initial
        var atoms = initial.map(steering)
        guard atoms.allSatisfy({ $0.count == l }) else {
            throw ISACError.shapeMismatch("steering returned vectors of length \(atoms.map(\.count)), expected \(l)")
        }
        let dims = scales.count
        let screening = !o.screenHalfWidth.isEmpty
        if screening {
            guard o.screenHalfWidth.count == dims, o.screenStep.count == dims,
                  o.screenStep.allSatisfy({ $0 > 0 && $0.isFinite }), o.screenHalfWidth.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw ISACError.invalidParameter(name: "screen", value: "\(o.screenHalfWidth) / \(o.screenStep)",
                                                 valid: "one finite half-width ≥ 0 and one positive step (cells) per parameter")
            }
        }
        for sweep in 0..<Swift.max(1, o.sweeps) {
            for s in 0..<p {
                // Orthonormal basis of the other atoms (modified Gram–Schmidt, P − 1 columns).
                var basis: [[CDouble]] = []
                for j in 0..<p where j != s {
                    var v = atoms[j]
                    for q in basis { axpyProject(&v, q) }
                    let nv = norm2(v)
                    if nv > 1e-12 * norm2(atoms[j]) { basis.append(v.map { $0 / CDouble(nv, 0) }) }
                }
                // Ỹ = (I − QQᴴ) Y.
                var yt = y
                for q in basis {
                    let c = y.apply(q, .conjugateTranspose)          // Yᴴ q, [K]; Qᴴ Y row = conj
                    for k in 0..<y.cols {
                        let ck = c[k].conjugate
                        yt.data.withUnsafeMutableBufferPointer { py in
                            for i in 0..<l { py[i + k * l] -= q[i] * ck }
                        }
                    }
                }
                func objective(_ e: [Double]) -> Double {
                    var a = steering(e)
                    for q in basis { axpyProject(&a, q) }
                    let na = norm2(a)
                    guard na > 0 else { return 0 }
                    let c = yt.apply(a, .conjugateTranspose)
                    return c.reduce(0) { $0 + $1.lengthSquared } / (na * na)
                }
                var cur = eta[s], best = objective(cur)
                if screening && sweep == 0 {
                    // Lattice offsets per coordinate, then their Cartesian product (first coordinate fastest).
                    let offsets: [[Double]] = (0..<dims).map { d in
                        let m = Int((o.screenHalfWidth[d] / o.screenStep[d]).rounded(.down))
                        return (-m...m).map { Double($0) * o.screenStep[d] * scales[d] }
                    }
                    let origin = cur
                    var idx = [Int](repeating: 0, count: dims)
                    outer: while true {
                        var t = origin
                        for d in 0..<dims { t[d] += offsets[d][idx[d]] }
                        t = clamp(t)
                        let v = objective(t)
                        if v > best { best = v; cur = t }
                        var d = 0
                        while d < dims {
                            idx[d] += 1
                            if idx[d] < offsets[d].count { break }
                            idx[d] = 0; d += 1
                        }
                        if d == dims { break outer }
                    }
                }
                let start = cur
                var step = o.initialStep
                while step >= o.tolerance {
                    var moved = false
                    for d in 0..<dims {
                        for sign in [1.0, -1.0] {
                            var t = cur
                            t[d] += sign * step * scales[d]
                            t = clamp(t)
                            guard abs(t[d] - start[d]) <= o.radius * scales[d] else { continue }
                            let v = objective(t)
                            if v > best { best = v; cur = t; moved = true; break }
                        }
                    }
                    if !moved { step /= 2 }
                }
                eta[s] = cur
                atoms[s] = steering(cur)
            }
        }
        // Final objective ‖P_A Y‖² = ‖Q_Aᴴ Y‖² with Q_A an orthonormal basis of all atoms.
        var basis: [[CDouble]] = []
        for a in atoms {
            var v = a
            for q in basis { axpyProject(&v, q) }
            let nv = norm2(v)
            if nv > 1e-12 * norm2(a) { basis.append(v.map { $0 / CDouble(nv, 0) }) }
        }
        let obj = basis.reduce(0.0) { acc, q in acc + y.apply(q, .conjugateTranspose).reduce(0) { $0 + $1.lengthSquared } }
        return (eta, obj)
    }

    /// v ← v − q (qᴴ v) for a unit-norm q.
    static func axpyProject(_ v: inout [CDouble], _ q: [CDouble]) {
        let c = dotc(q, v)
        for i in v.indices { v[i] -= q[i] * c }
    }
}
