import Numerics

// Krylov solvers for complex linear systems A x = b given only the product x ↦ A x (matrix-free).

/// Krylov solver outcome for one right-hand side.
public struct KrylovResult: Sendable {
    /// Computed solution x (length n).
    public var solution: [CDouble]
    /// GMRES iterations (Arnoldi steps, one product with A each), at most `maxIterations`.
    public var iterations: Int
    /// Final relative residual ‖b − A x‖/‖b‖ (GMRES estimate).
    public var relativeResidual: Double
    /// Whether the relative residual reached the tolerance.
    public var converged: Bool
}

/// Restarted GMRES(m) (Saad & Schultz 1986) with modified Gram–Schmidt and complex Givens rotations.
///
/// Minimizes ‖b − A x‖₂ over x₀ + K_m(A, r₀) per cycle; `apply` is y = A x for vectors of length n.
/// Memory: (m + 1) Krylov vectors of n complex entries (16 (m + 1) n bytes) plus an (m + 1) × m Hessenberg.
/// Stops when the relative residual ‖b − A x‖/‖b‖ ≤ `tolerance` (the true residual is recomputed at the end)
/// or after `maxIterations` products. A warm start `initialGuess` worse than x = 0 is discarded.
public enum GMRES {
    /// Working memory of one GMRES(m) solve on n unknowns, bytes: (m + 2) vectors of n complex doubles plus the
    /// (m + 1) × m Hessenberg matrix; nil when it overflows Int (a restart length no machine can hold).
    public static func memoryBytes(dimension n: Int, restart m: Int) -> Int? {
        let (v, o1) = (m + 2).multipliedReportingOverflow(by: n)
        let (h, o2) = (m + 1).multipliedReportingOverflow(by: m)
        let (s, o3) = v.addingReportingOverflow(h)
        let (b, o4) = s.multipliedReportingOverflow(by: 16)
        return o1 || o2 || o3 || o4 ? nil : b
    }

    /// Solves A x = b by restarted GMRES(`restart`), A given as the product `apply`; see the type docs for stopping rules.
    public static func solve(_ apply: ([CDouble]) -> [CDouble], b: [CDouble], initialGuess: [CDouble]? = nil,
                             tolerance: Double = 1e-4, restart: Int = 40, maxIterations: Int = 1000) -> KrylovResult {
        let n = b.count
        // A Krylov space never exceeds n (nor the iteration budget): larger restarts would only allocate.
        let m = max(1, min(restart, n, maxIterations))
        func nrm(_ v: [CDouble]) -> Double { v.reduce(0) { $0 + $1.lengthSquared }.squareRoot() }
        let bnorm = nrm(b)
        if bnorm == 0 { return KrylovResult(solution: .init(repeating: .zero, count: n), iterations: 0, relativeResidual: 0, converged: true) }
        var x = initialGuess ?? [CDouble](repeating: .zero, count: n)
        if initialGuess != nil {
            // A warm start worse than zero is discarded.
            let ax = apply(x)
            var r = b; for i in r.indices { r[i] -= ax[i] }
            if nrm(r) >= bnorm { x = .init(repeating: .zero, count: n) }
        }
        var it = 0
        var rel = 1.0
        while true {
            var r = b
            if x.contains(where: { $0 != .zero }) { let ax = apply(x); for i in r.indices { r[i] -= ax[i] } }
            let beta = nrm(r)
            rel = beta / bnorm
            if rel <= tolerance || it >= maxIterations { return KrylovResult(solution: x, iterations: it, relativeResidual: rel, converged: rel <= tolerance) }
            var V: [[CDouble]] = [r.map { $0 / CDouble(beta, 0) }]
            var H = [[CDouble]](repeating: [CDouble](repeating: .zero, count: m), count: m + 1)
            var cs = [Double](repeating: 0, count: m), sn = [CDouble](repeating: .zero, count: m)
            var g = [CDouble](repeating: .zero, count: m + 1); g[0] = CDouble(beta, 0)
            var used = 0
            for j in 0..<m {
                var w = apply(V[j]); it += 1
                for i in 0...j {
                    var h = CDouble.zero
                    for q in 0..<n { h += V[i][q].conjugate * w[q] }
                    H[i][j] = h
                    for q in 0..<n { w[q] -= h * V[i][q] }
                }
                let hn = nrm(w)
                H[j + 1][j] = CDouble(hn, 0)
                for i in 0..<j {
                    let t = CDouble(cs[i], 0) * H[i][j] + sn[i] * H[i + 1][j]
                    H[i + 1][j] = -sn[i].conjugate * H[i][j] + CDouble(cs[i], 0) * H[i + 1][j]
                    H[i][j] = t
                }
                let a = H[j][j], bb = H[j + 1][j]
                let am = a.length, t = (a.lengthSquared + bb.lengthSquared).squareRoot()
                if am == 0 { cs[j] = 0; sn[j] = CDouble(1, 0); H[j][j] = bb }
                else {
                    cs[j] = am / t
                    sn[j] = (a / CDouble(am, 0)) * bb.conjugate / CDouble(t, 0)
                    H[j][j] = (a / CDouble(am, 0)) * CDouble(t, 0)
                }
                H[j + 1][j] = .zero
                g[j + 1] = -sn[j].conjugate * g[j]
                g[j] = CDouble(cs[j], 0) * g[j]
                used = j + 1
                rel = g[j + 1].length / bnorm
                if rel <= tolerance || it >= maxIterations || hn == 0 { break }
                V.append(w.map { $0 / CDouble(hn, 0) })
            }
            // Back substitution H y = g, then x += V y.
            var y = [CDouble](repeating: .zero, count: used)
            for i in stride(from: used - 1, through: 0, by: -1) {
                var s = g[i]
                for q in (i + 1)..<used { s -= H[i][q] * y[q] }
                y[i] = s / H[i][i]
            }
            for i in 0..<used { for q in 0..<n { x[q] += y[i] * V[i][q] } }
            if rel <= tolerance || it >= maxIterations {
                // Report the true residual rather than the recurrence estimate.
                let ax = apply(x); var r2 = b; for i in r2.indices { r2[i] -= ax[i] }
                let tr = nrm(r2) / bnorm
                return KrylovResult(solution: x, iterations: it, relativeResidual: tr, converged: tr <= tolerance * 1.5)
            }
        }
    }
}

