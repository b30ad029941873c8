import Foundation
import Linalg

/// Wraps an angle to [−π, π) (rad): wrap(x) = x − 2π·floor((x + π) / 2π). Used for Δθ in eqs. (26), (41), (44), (48).
@inlinable
public func wrapAngle(_ x: Double) -> Double {
    let twoPi = 2 * Double.pi
    var y = x - twoPi * ((x + Double.pi) / twoPi).rounded(.down)
    if y >= Double.pi { y -= twoPi }   // guards the rounding edge at exactly +π
    return y
}

/// Azimuth decode of eq. (25): θ̂ = atan2([â]₁, [â]₂) from the (sin, cos) pair, rad in (−π, π].
/// The pair need not be normalized (eq. 38 normalization does not change atan2).
@inlinable
public func decodeAzimuth(sin s: Double, cos c: Double) -> Double { atan2(s, c) }

/// Exact planar localization error of eq. (26): e = sqrt(r̂² + r² − 2 r̂ r cos Δθ) (m), Δθ = wrap(θ̂ − θ).
@inlinable
public func planarError(rangeHat rh: Double, range r: Double, azimuthHat th: Double, azimuth t: Double) -> Double {
    let d = wrapAngle(th - t)
    return Swift.max(0, rh * rh + r * r - 2 * rh * r * cos(d)).squareRoot()
}

/// Predictive (Shannon) entropy H(p̂) = −Σ_c p_c ln p_c of a probability vector, nats (0 ln 0 = 0).
public func predictiveEntropy(_ p: [Double]) -> Double {
    -p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
}

/// Ground truth of one sample: class index c ∈ 0..<C, range r (m) and azimuth θ (rad) of the projected centre (eq. 22).
public struct JointLabel: Sendable, Equatable, Codable {
    /// c, the class index in 0..<C.
    public var classIndex: Int
    /// r, range of the projected centre in metres.
    public var rangeMeters: Double
    /// θ, azimuth of the projected centre in radians.
    public var azimuthRad: Double
    /// Creates a label from class index, range (m) and azimuth (rad).
    public init(classIndex: Int, rangeMeters: Double, azimuthRad: Double) {
        self.classIndex = classIndex; self.rangeMeters = rangeMeters; self.azimuthRad = azimuthRad
    }
}

/// One model output. Classification-only models leave the location nil; localization-only models
/// (and the classical references) leave `classProbabilities` nil.
public struct JointPrediction: Sendable, Equatable {
    /// p̂ = softmax(o_cls), length C (eq. 35).
    public var classProbabilities: [Double]?
    /// Estimated range (m) and azimuth (rad); nil for classification-only models.
    public var location: LocationEstimate?
    /// Creates a prediction; either part may be nil.
    public init(classProbabilities: [Double]? = nil, location: LocationEstimate? = nil) {
        self.classProbabilities = classProbabilities; self.location = location
    }
    /// ĉ = argmax_c p̂_c (eq. 35).
    public var predictedClass: Int? {
        guard let p = classProbabilities, !p.isEmpty else { return nil }
        return p.indices.max { p[$0] < p[$1] }
    }
}

/// Test-set metrics of Table II. Fields are nil when the model does not produce that output.
public struct JointMetricSummary: Sendable, Equatable {
    /// Classification accuracy in [0, 1].
    public var accuracy: Double?
    /// Mean |r̂ − r| (m).
    public var rangeMAEMeters: Double?
    /// Mean |wrap(θ̂ − θ)| (degrees, as tabulated).
    public var azimuthMAEDeg: Double?
    /// Mean planar error of eq. (26) (m).
    public var planarMAEMeters: Double?
    /// Fraction of samples with planar error ≤ `successRadiusMeters` (Succ@1m by default), in [0, 1].
    public var successRate: Double?
    /// Mean predictive entropy (nats).
    public var meanEntropy: Double?
    public var count: Int

    /// Evaluates predictions against labels (same length, ≥ 1).
    public static func evaluate(_ predictions: [JointPrediction], _ labels: [JointLabel],
                                successRadiusMeters: Double = 1) throws -> JointMetricSummary {
        guard predictions.count == labels.count, !labels.isEmpty else {
            throw ISACError.shapeMismatch("\(predictions.count) predictions for \(labels.count) labels (need equal, ≥ 1)")
        }
        try Check.positive(successRadiusMeters, "successRadiusMeters")
        // A NaN estimate must never score: `planarError` clamps with max(0, ·), which maps NaN to 0 m
        // (and Succ@1m to 100 %), so non-finite predictions are rejected here, naming how many.
        let bad = predictions.filter { p in
            (p.classProbabilities?.contains { !$0.isFinite } ?? false)
                || (p.location.map { !$0.rangeMeters.isFinite || !$0.azimuthRad.isFinite } ?? false)
        }.count
        if bad > 0 {
            throw ISACError.nonFinite(name: "predictions (\(bad) of \(predictions.count) samples; the model diverged)")
        }
        var s = JointMetricSummary(count: labels.count)
        let n = Double(labels.count)
        if predictions.allSatisfy({ $0.classProbabilities != nil }) {
            var correct = 0.0, ent = 0.0
            for (p, l) in zip(predictions, labels) {
                if p.predictedClass == l.classIndex { correct += 1 }
                ent += predictiveEntropy(p.classProbabilities!)
            }
            s.accuracy = correct / n; s.meanEntropy = ent / n
        }
        if predictions.allSatisfy({ $0.location != nil }) {
            var er = 0.0, ea = 0.0, ep = 0.0, succ = 0.0
            for (p, l) in zip(predictions, labels) {
                let e = p.location!
                er += abs(e.rangeMeters - l.rangeMeters)
                ea += abs(wrapAngle(e.azimuthRad - l.azimuthRad))
                let pe = planarError(rangeHat: e.rangeMeters, range: l.rangeMeters, azimuthHat: e.azimuthRad, azimuth: l.azimuthRad)
                ep += pe
                if pe <= successRadiusMeters { succ += 1 }
            }
            s.rangeMAEMeters = er / n; s.azimuthMAEDeg = ea / n * 180 / Double.pi
            s.planarMAEMeters = ep / n; s.successRate = succ / n
        }
        return s
    }

    /// Creates a summary from already computed metrics (accuracy and success rate as fractions, MAEs in m / degrees).
    public init(accuracy: Double? = nil, rangeMAEMeters: Double? = nil, azimuthMAEDeg: Double? = nil,
                planarMAEMeters: Double? = nil, successRate: Double? = nil, meanEntropy: Double? = nil, count: Int = 0) {
        self.accuracy = accuracy; self.rangeMAEMeters = rangeMAEMeters; self.azimuthMAEDeg = azimuthMAEDeg
        self.planarMAEMeters = planarMAEMeters; self.successRate = successRate; self.meanEntropy = meanEntropy
        self.count = count
    }

    /// Named metric values (for tables/JSON); nil entries omitted. Accuracy and Succ@1m in percent.
    public var named: [(String, Double)] {
        var out: [(String, Double)] = []
        if let a = accuracy { out.append(("acc_pct", 100 * a)) }
        if let v = rangeMAEMeters { out.append(("range_mae_m", v)) }
        if let v = azimuthMAEDeg { out.append(("azimuth_mae_deg", v)) }
        if let v = planarMAEMeters { out.append(("planar_mae_m", v)) }
        if let v = successRate { out.append(("succ_1m_pct", 100 * v)) }
        if let v = meanEntropy { out.append(("entropy_nats", v)) }
        return out
    }
}

/// Mean and standard deviation across seeds. The std is the population value (ddof = 0, NumPy's default);
/// the paper does not say which it uses, and with 3 seeds ddof = 1 is √1.5 ≈ 1.22× larger.
public struct MeanStd: Sendable, Equatable {
    /// Sample mean.
    public var mean: Double
    /// Population standard deviation (ddof = 0).
    public var std: Double
    /// Mean and ddof = 0 standard deviation of `xs`.
    public init(_ xs: [Double]) {
        let n = Double(Swift.max(xs.count, 1))
        let m = xs.reduce(0, +) / n
        mean = m
        std = (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
    }
    /// "m±s" with `digits` decimals.
    public func formatted(_ digits: Int = 4) -> String {
        String(format: "%.\(digits)f±%.\(digits)f", mean, std)
    }
}
