import Linalg
import Foundation

/// Multi-target detection counts over a batch, the sufficient statistics of the paper's
/// eqs. (20)–(21) (definitions of Muth & Schmalen):
///   p_md = 1 − Σ_i min(T_i, T̂_i) / Σ_i T_i,
///   p_fa = Σ_i (max(T_i, T̂_i) − T_i) / Σ_i (T_max − T_i).
/// Accumulate per-sample (T_i, T̂_i) with `add`, merge shards with `+`.
public struct DetectionCounts: Sendable, Equatable {
    /// T_max, the largest possible number of targets per sample.
    public let maxTargets: Int
    /// Σ_i T_i.
    public private(set) var trueTargets = 0
    /// Σ_i min(T_i, T̂_i).
    public private(set) var detected = 0
    /// Σ_i (max(T_i, T̂_i) − T_i).
    public private(set) var falseAlarms = 0
    /// Σ_i (T_max − T_i): how many false alarms were possible.
    public private(set) var falseAlarmOpportunities = 0
    /// Number of samples B.
    public private(set) var samples = 0

    /// - Parameter maxTargets: T_max ≥ 0.
    public init(maxTargets: Int) throws {
        try Check.nonNegative(maxTargets, "--targets-max")
        self.maxTargets = maxTargets
    }

    /// Adds one sample with `trueCount` T_i ∈ [0, T_max] and `estimatedCount` T̂_i ∈ [0, T_max].
    public mutating func add(trueCount t: Int, estimatedCount e: Int) {
        precondition(t >= 0 && t <= maxTargets && e >= 0 && e <= maxTargets, "DetectionCounts: counts outside [0, T_max]")
        trueTargets += t
        detected += Swift.min(t, e)
        falseAlarms += Swift.max(t, e) - t
        falseAlarmOpportunities += maxTargets - t
        samples += 1
    }

    /// p_md (eq. 20); NaN when no targets were present in the batch.
    public var missedDetectionProbability: Double {
        trueTargets == 0 ? .nan : 1 - Double(detected) / Double(trueTargets)
    }
    /// p_fa (eq. 21); NaN when every sample had T_max targets.
    public var falseAlarmProbability: Double {
        falseAlarmOpportunities == 0 ? .nan : Double(falseAlarms) / Double(falseAlarmOpportunities)
    }

    /// Merges two batches with the same T_max.
    public static func + (a: DetectionCounts, b: DetectionCounts) -> DetectionCounts {
        precondition(a.maxTargets == b.maxTargets, "DetectionCounts: different T_max")
        var c = a
        c.trueTargets += b.trueTargets; c.detected += b.detected; c.falseAlarms += b.falseAlarms
        c.falseAlarmOpportunities += b.falseAlarmOpportunities; c.samples += b.samples
        return c
    }
}

/// Symbol error rate (eq. 22): SER = (1/(B·S)) Σ_i Σ_j 𝟙{m_ij ≠ m̂_ij}.
public struct SymbolErrorCounts: Sendable, Equatable {
    /// Symbol errors and symbols counted so far.
    public private(set) var errors = 0
    public private(set) var symbols = 0
    /// An empty accumulator.
    public init() {}
    /// Adds the symbols of one sample (equal lengths).
    public mutating func add(sent: [Int], decided: [Int]) {
        precondition(sent.count == decided.count, "SymbolErrorCounts: length mismatch")
        for k in sent.indices where sent[k] != decided[k] { errors += 1 }
        symbols += sent.count
    }
    /// Adds pre-counted errors.
    public mutating func add(errors e: Int, symbols n: Int) { errors += e; symbols += n }
    /// The SER; NaN with no symbols.
    public var rate: Double { symbols == 0 ? .nan : Double(errors) / Double(symbols) }
    /// Pooled counts of two disjoint sets of samples (e.g. two shards).
    public static func + (a: SymbolErrorCounts, b: SymbolErrorCounts) -> SymbolErrorCounts {
        var c = a; c.errors += b.errors; c.symbols += b.symbols; return c
    }
}

/// Root-mean-square and mean-absolute error accumulator (angle or range RMSE, single target).
public struct ErrorAccumulator: Sendable, Equatable {
    /// Running Σe², Σ|e| and the number of errors n.
    public private(set) var sumSquares = 0.0
    public private(set) var sumAbs = 0.0
    public private(set) var count = 0
    /// An empty accumulator.
    public init() {}
    /// Adds one error e = estimate − truth (units of the quantity).
    public mutating func add(_ e: Double) { sumSquares += e * e; sumAbs += Swift.abs(e); count += 1 }
    /// √(Σe²/n); NaN when empty.
    public var rmse: Double { count == 0 ? .nan : (sumSquares / Double(count)).squareRoot() }
    /// Σ|e|/n; NaN when empty.
    public var mae: Double { count == 0 ? .nan : sumAbs / Double(count) }
    /// Pooled sums of two disjoint sets of errors (e.g. two shards).
    public static func + (a: ErrorAccumulator, b: ErrorAccumulator) -> ErrorAccumulator {
        var c = a; c.sumSquares += b.sumSquares; c.sumAbs += b.sumAbs; c.count += b.count; return c
    }
}

/// Closed forms used as references.
public enum ClosedForm {
    /// Gaussian tail Q(x) = ½ erfc(x/√2).
    public static func qFunction(_ x: Double) -> Double { 0.5 * erfc(x / 2.0.squareRoot()) }
    /// Gray-mapped QPSK symbol error probability over AWGN at Es/N0 = `snr` (linear):
    /// P_s = 2Q(√snr) − Q(√snr)².
    public static func qpskSymbolErrorRate(snr: Double) -> Double {
        let q = qFunction(snr.squareRoot())
        return 2 * q - q * q
    }
}
