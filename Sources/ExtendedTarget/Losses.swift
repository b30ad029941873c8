import Foundation
import Linalg

/// Loss weights of eqs. (39) and (43): L = L_cls + λr L_r + λθ L_θ + λp L_pl + λpk L_peak + λc L_cp.
/// Defaults are the paper's (λr, λθ, λp, λpk, λc) = (1.0, 1.8, 0.2, 0.05, 0.1).
public struct LossWeights: Sendable, Equatable, Codable {
    /// λr, weight of the range loss.
    public var range: Double = 1.0
    /// λθ, weight of the azimuth loss.
    public var azimuth: Double = 1.8
    /// λp, weight of the planar-position loss.
    public var planar: Double = 0.2
    /// λpk, weight of the peak loss.
    public var peak: Double = 0.05
    /// λc, weight of the coupling loss.
    public var coupling: Double = 0.1
    /// Creates loss weights; the defaults are the paper's values.
    public init(range: Double = 1.0, azimuth: Double = 1.8, planar: Double = 0.2, peak: Double = 0.05, coupling: Double = 0.1) {
        self.range = range; self.azimuth = azimuth; self.planar = planar; self.peak = peak; self.coupling = coupling
    }
}

/// Reference (non-differentiable, Double) implementations of the paper's losses. The training code
/// uses the differentiable Float versions; these are the independent references their tests compare against.
public enum ReferenceLoss {
    /// Cross-entropy of eq. (40): −(1/B) Σ_i log softmax(o_i)[c_i], computed with log-sum-exp.
    /// - Parameters: logits [B][C]; labels c_i ∈ 0..<C.
    public static func crossEntropy(logits: [[Double]], labels: [Int]) -> Double {
        var s = 0.0
        for (o, c) in zip(logits, labels) {
            let m = o.max() ?? 0
            let lse = m + log(o.reduce(0) { $0 + exp($1 - m) })
            s += lse - o[c]
        }
        return s / Double(labels.count)
    }

    /// Heteroscedastic Gaussian NLL of eq. (41): (1/2B) Σ_i (e^{−s_i} e_i² + s_i), with e the residual and
    /// s the predicted log-variance. For range e = r̂ − r (m); for azimuth e = wrap(θ̂ − θ)/π.
    public static func heteroscedasticNLL(errors e: [Double], logVariances s: [Double]) -> Double {
        var acc = 0.0
        for (ei, si) in zip(e, s) { acc += exp(-si) * ei * ei + si }
        return acc / (2 * Double(e.count))
    }

    /// The bounded log-variance s = b·tanh(ŝ/b) that the training loss feeds to the NLL (`LossSpec.logVarianceBound`).
    public static func boundedLogVariance(_ s: Double, bound b: Double = 8) -> Double { b * tanh(s / b) }

    /// Planar consistency of eq. (44): (1/B) Σ_i sqrt(r̂² + r² − 2 r̂ r cos Δθ + ϵ) (m).
    public static func planarConsistency(rangeHat: [Double], range: [Double], azimuthHat: [Double], azimuth: [Double],
                                         epsilon: Double = 1e-6) -> Double {
        var acc = 0.0
        for i in range.indices {
            let d = wrapAngle(azimuthHat[i] - azimuth[i])
            acc += (rangeHat[i] * rangeHat[i] + range[i] * range[i] - 2 * rangeHat[i] * range[i] * cos(d) + epsilon).squareRoot()
        }
        return acc / Double(range.count)
    }

    /// Peak-response prior of eq. (47): (1/B) Σ_i ‖û_i − u*_i‖₁, coordinates as in `peakCoordinate`.
    public static func peakResponse(predicted: [[Double]], target: [[Double]]) -> Double {
        var acc = 0.0
        for (u, v) in zip(predicted, target) { for (a, b) in zip(u, v) { acc += abs(a - b) } }
        return acc / Double(predicted.count)
    }

    /// Geometry coupling of eq. (48): (1/B) Σ_i | |r̂_i − r_i| − |r_i Δθ_i| | (m).
    public static func geometryCoupling(rangeHat: [Double], range: [Double], azimuthHat: [Double], azimuth: [Double]) -> Double {
        var acc = 0.0
        for i in range.indices {
            let d = wrapAngle(azimuthHat[i] - azimuth[i])
            acc += abs(abs(rangeHat[i] - range[i]) - abs(range[i] * d))
        }
        return acc / Double(range.count)
    }
}

/// Dominant-peak coordinate u* of eq. (46): M = Σ_m |H_{k_m}| (an [Nr × Nt] magnitude map summed over the
/// selected tones), u* = argmax M. The paper leaves the coordinate scale open; we return it normalized to
/// [0, 1]² as (row/(Nr−1), col/(Nt−1)) so the L1 prior of eq. (47) has the same scale for every array size
/// (a size-1 axis maps to 0).
public func peakCoordinate(_ h: MultiToneChannel) -> [Double] {
    let nr = h.receiveCount, nt = h.transmitCount
    var m = [Double](repeating: 0, count: nr * nt)
    for hk in h.tones { for i in m.indices { m[i] += hk.data[i].length } }
    let best = m.indices.max { m[$0] < m[$1] } ?? 0
    let r = best % nr, t = best / nr        // column-major [Nr × Nt]
    return [nr > 1 ? Double(r) / Double(nr - 1) : 0, nt > 1 ? Double(t) / Double(nt - 1) : 0]
}
