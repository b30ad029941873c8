import Linalg
import Foundation

/// A 2-D position in metres, p = [x, y]ᵀ = [R cos θ, R sin θ]ᵀ (paper eq. 2, θ from broadside).
public typealias Position2 = SIMD2<Double>

/// Generalized optimal sub-pattern assignment (GOSPA) metric between finite point sets
/// (Rahmathullah et al. 2017; paper eq. 17).
///
/// For |P| ≤ |P̂|:
///   d_p^{(γ,μ)}(P, P̂) = ( min_π Σ_{i=1}^{|P|} d^{(γ)}(p_i, p̂_{π(i)})^p + (γ^p/μ)(|P̂| − |P|) )^{1/p},
/// with d^{(γ)}(p, p̂) = min(‖p − p̂‖₂, γ); symmetric extension for |P| > |P̂|.
/// μ = 2 (the paper's choice) is GOSPA with α = 2, which is a metric: an assigned pair farther
/// apart than γ costs exactly γ^p = a missed plus a false target at γ^p/2 each.
/// The minimisation is exact (Hungarian algorithm, O(n²m)), not a search over permutations.
public struct GOSPA: Sendable, Equatable {
    /// Cut-off distance γ > 0, metres (paper: (R_max − R_min)/2 = 90 m).
    public var cutoff: Double
    /// Cardinality-penalty divisor μ ∈ (0, 2] (paper: 2).
    public var mu: Double
    /// Order p ≥ 1 (paper: 2).
    public var order: Double

    /// Validates γ > 0, 0 < μ ≤ 2, 1 ≤ p < ∞.
    public init(cutoff: Double = 90, mu: Double = 2, order: Double = 2) throws {
        try Check.positive(cutoff, "--gospa-cutoff")
        guard mu.isFinite, mu > 0, mu <= 2 else {
            throw ISACError.invalidParameter(name: "--gospa-mu", value: "\(mu)", valid: "must lie in (0, 2]")
        }
        guard order.isFinite, order >= 1 else {
            throw ISACError.invalidParameter(name: "--gospa-p", value: "\(order)", valid: "must be a finite number >= 1")
        }
        self.cutoff = cutoff; self.mu = mu; self.order = order
    }

    /// Decomposed GOSPA: total d_p and its ingredients.
    public struct Result: Sendable, Equatable {
        /// d_p^{(γ,μ)}(P, P̂), metres.
        public var distance: Double
        /// Σ of d^{(γ)}(·)^p over the optimally assigned pairs (metres^p).
        public var assignedCost: Double
        /// |P̂| − |P| when positive (false targets), else 0.
        public var falseCount: Int
        /// |P| − |P̂| when positive (missed targets), else 0.
        public var missedCount: Int
        /// `pairs[k] = (i, j)`: truth i matched to estimate j.
        public var pairs: [(Int, Int)]
        /// Equal distance, costs, counts and pairs (tuples are not `Equatable`, so the pairs compare element-wise).
        public static func == (a: Result, b: Result) -> Bool {
            a.distance == b.distance && a.assignedCost == b.assignedCost && a.falseCount == b.falseCount
                && a.missedCount == b.missedCount && a.pairs.map { $0.0 } == b.pairs.map { $0.0 }
                && a.pairs.map { $0.1 } == b.pairs.map { $0.1 }
        }
    }

    /// GOSPA between true positions `truth` (P) and estimates `estimate` (P̂), metres.
    public func evaluate(truth: [Position2], estimate: [Position2]) -> Result {
        let swap = truth.count > estimate.count
        let small = swap ? estimate : truth
        let large = swap ? truth : estimate
        let p = order
        var cost = [[Double]]()
        cost.reserveCapacity(small.count)
        for a in small {
            cost.append(large.map { b in
                let d = b - a
                return Swift.min((d * d).sum().squareRoot(), cutoff).pow(p)
            })
        }
        // Costs are finite and non-negative by construction, so the solver cannot throw.
        let (asg, c) = (try? Hungarian.solve(cost)) ?? ([], 0)
        let extra = large.count - small.count
        let total = c + cutoff.pow(p) / mu * Double(extra)
        let pairs = asg.enumerated().map { swap ? ($0.element, $0.offset) : ($0.offset, $0.element) }
        return Result(distance: total.pow(1 / p), assignedCost: c,
                      falseCount: swap ? 0 : extra, missedCount: swap ? extra : 0, pairs: pairs)
    }

    /// Shorthand for `evaluate(truth:estimate:).distance`.
    public func distance(_ truth: [Position2], _ estimate: [Position2]) -> Double {
        evaluate(truth: truth, estimate: estimate).distance
    }
}

extension Double {
    @inlinable func pow(_ e: Double) -> Double {
        e == 2 ? self * self : (e == 1 ? self : Foundation.pow(self, e))
    }
}
