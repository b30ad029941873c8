import Linalg

/// Optimal linear assignment (Hungarian / Kuhn–Munkres with potentials, Jonker–Volgenant style).
///
/// Solves min_π Σ_{i<n} C[i][π(i)] over injective maps π: {0..<n} → {0..<m} for a rectangular
/// cost matrix with n ≤ m rows (every row is assigned, m − n columns stay free). O(n²·m) time,
/// which is what makes GOSPA exact for any cardinality instead of enumerating n! permutations.
public enum Hungarian {
    /// - Parameter cost: [n][m] finite costs, n ≤ m (pass the transpose otherwise); ragged rows are rejected.
    /// - Returns: `assignment[i]` = column assigned to row i (length n), and the minimal total cost.
    public static func solve(_ cost: [[Double]]) throws -> (assignment: [Int], cost: Double) {
        let n = cost.count
        if n == 0 { return ([], 0) }
        let m = cost[0].count
        guard m >= n else {
            throw ISACError.shapeMismatch("Hungarian.solve needs rows <= cols, got \(n)x\(m) (pass the transpose)")
        }
        for (i, r) in cost.enumerated() {
            guard r.count == m else { throw ISACError.shapeMismatch("Hungarian.solve: row \(i) has \(r.count) entries, expected \(m)") }
            guard r.allSatisfy({ $0.isFinite }) else { throw ISACError.nonFinite(name: "Hungarian cost row \(i)") }
        }
        // 1-based potentials u (rows), v (cols); p[j] = row matched to column j (0 = none).
        var u = [Double](repeating: 0, count: n + 1)
        var v = [Double](repeating: 0, count: m + 1)
        var p = [Int](repeating: 0, count: m + 1)
        var way = [Int](repeating: 0, count: m + 1)
        for i in 1...n {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: m + 1)
            var used = [Bool](repeating: false, count: m + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity
                var j1 = 0
                for j in 1...m where !used[j] {
                    let cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...m {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var assignment = [Int](repeating: -1, count: n)
        for j in 1...m where p[j] != 0 { assignment[p[j] - 1] = j - 1 }
        var total = 0.0
        for i in 0..<n { total += cost[i][assignment[i]] }
        return (assignment, total)
    }
}
