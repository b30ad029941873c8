import Foundation

/// The GOSPA decomposition into localization, missed-target and false-target parts (Rahmathullah et al. 2017,
/// Sec. IV, for α = 2), in metres^p, so that `localization + missed + false == distance^p` of `GOSPA.evaluate`:
///
///   d_p^{(γ,μ)}(P, P̂)^p = Σ_{assigned pairs, ‖p − p̂‖ < γ} ‖p − p̂‖^p                       (localization)
///                        + (γ^p/μ)·#unassigned truths  + (γ^p/2)·#pairs at the cut-off       (missed)
///                        + (γ^p/μ)·#unassigned estimates + (γ^p/2)·#pairs at the cut-off     (false)
///
/// A pair the optimal assignment matches at distance ≥ γ costs exactly γ^p; it is one missed and one false target,
/// γ^p/2 each (for μ = 2, the paper's choice, this is the standard decomposition and every missed or false target
/// costs γ^p/2; for μ ≠ 2 the cut-off pairs are still split in halves so the identity holds exactly).
public struct GOSPAComponents: Sendable, Equatable {
    /// Σ of ‖p − p̂‖^p over the assigned pairs closer than the cut-off, metres^p.
    public var localization: Double
    /// Cost of the missed targets (unassigned truths and the truth side of cut-off pairs), metres^p.
    public var missed: Double
    /// Cost of the false targets (unassigned estimates and the estimate side of cut-off pairs), metres^p.
    public var falseTargets: Double
    /// Number of missed targets: unassigned truths plus cut-off pairs.
    public var missedCount: Int
    /// Number of false targets: unassigned estimates plus cut-off pairs.
    public var falseCount: Int
    /// Number of truths matched to an estimate closer than the cut-off.
    public var localizedCount: Int

    /// Components as documented on each property (costs in metres^p); all zero by default (the empty sum).
    public init(localization: Double = 0, missed: Double = 0, falseTargets: Double = 0, missedCount: Int = 0, falseCount: Int = 0,
                localizedCount: Int = 0) {
        self.localization = localization; self.missed = missed; self.falseTargets = falseTargets
        self.missedCount = missedCount; self.falseCount = falseCount; self.localizedCount = localizedCount
    }

    /// localization + missed + false = d_p^{(γ,μ)}(P, P̂)^p, metres^p.
    public var total: Double { localization + missed + falseTargets }

    /// Component-wise sum (for means over samples).
    public static func + (a: GOSPAComponents, b: GOSPAComponents) -> GOSPAComponents {
        GOSPAComponents(localization: a.localization + b.localization, missed: a.missed + b.missed,
                        falseTargets: a.falseTargets + b.falseTargets, missedCount: a.missedCount + b.missedCount,
                        falseCount: a.falseCount + b.falseCount, localizedCount: a.localizedCount + b.localizedCount)
    }
}

extension GOSPA {
    /// The decomposition of `evaluate(truth:estimate:)` (same optimal assignment) into localization, missed and
    /// false parts; `components(…).total == pow(evaluate(…).distance, order)` up to round-off.
    public func components(truth: [Position2], estimate: [Position2]) -> GOSPAComponents {
        let r = evaluate(truth: truth, estimate: estimate)
        let gp = cutoff.pow(order)
        var c = GOSPAComponents()
        var cut = 0
        for (i, j) in r.pairs {
            let d = estimate[j] - truth[i]
            let dist = (d * d).sum().squareRoot()
            if dist < cutoff { c.localization += dist.pow(order); c.localizedCount += 1 } else { cut += 1 }
        }
        c.missedCount = r.missedCount + cut
        c.falseCount = r.falseCount + cut
        c.missed = gp / mu * Double(r.missedCount) + gp / 2 * Double(cut)
        c.falseTargets = gp / mu * Double(r.falseCount) + gp / 2 * Double(cut)
        return c
    }
}
