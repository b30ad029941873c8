import ExtendedDatasets
import _Differentiation
import Foundation
import Learning
import Linalg

/// Training objective of a model (Sec. III-C/D and Table IV).
public enum Objective: String, Codable, Sendable, CaseIterable {
    /// "Basic deterministic objective" of the external baselines: L_cls + λr·MSE(z_r) + λθ·‖â − a‖²
    /// (range in half-span units; â the normalized (sin, cos) pair).
    case deterministic
    /// Uncertainty-aware task loss only: eq. (39) with the heteroscedastic NLL of eq. (41).
    case nll
    /// Full objective L = L_task + L_phy of eqs. (42)–(43).
    case physics
}

/// Samples held in memory for training/evaluation, in the layout the network consumes.
///
/// `inputs[i]` is sample i as [K, 2, Nr, Nt] (tone-major; real then imaginary part, eq. 17), already
/// divided by the training-split RMS `scale` so magnitudes are O(1) while the relative amplitude (a
/// range cue) is preserved across samples.
public struct SampleSet: Sendable {
    /// Per-sample network inputs, each K·2·Nr·Nt floats in [K, 2, Nr, Nt] order.
    public var inputs: [[Float]]
    /// Per-sample labels (class, range in m, azimuth in rad).
    public var labels: [JointLabel]
    /// Receive antennas Nr, transmit antennas Nt and available tones K of every sample.
    public var receiveCount: Int, transmitCount: Int, toneCount: Int
    /// Number of samples.
    public var count: Int { labels.count }

    /// Builds from C-order [S, 2, Nr, Nt, K] floats (`ExtendedTargetDataset.load`) and labels.
    /// Throws `ISACError.nonFinite` naming the first sample with NaN/∞ and `shapeMismatch` on bad sizes.
    public init(cOrderRealTensor x: [Float], shape: [Int], labels: [JointLabel], name: String = "dataset") throws {
        guard shape.count == 5, shape[1] == 2, shape[0] == labels.count, x.count == shape.reduce(1, *), shape[0] > 0 else {
            throw ISACError.shapeMismatch("\(name): tensor shape \(shape) with \(x.count) values for \(labels.count) labels (expected [S, 2, Nr, Nt, K], S ≥ 1)")
        }
        let (s, nr, nt, k) = (shape[0], shape[2], shape[3], shape[4])
        let per = 2 * nr * nt * k
        var out: [[Float]] = []
        out.reserveCapacity(s)
        for i in 0..<s {
            let src = i * per
            var v = [Float](repeating: 0, count: per)
            for c in 0..<2 { for r in 0..<nr { for t in 0..<nt { for m in 0..<k {
                let val = x[src + ((c * nr + r) * nt + t) * k + m]
                guard val.isFinite else { throw ISACError.nonFinite(name: "\(name) sample \(i)") }
                v[((m * 2 + c) * nr + r) * nt + t] = val
            } } } }
            out.append(v)
        }
        inputs = out; self.labels = labels; receiveCount = nr; transmitCount = nt; toneCount = k
    }

    /// Memberwise initializer; `inputs` must already be in the [K, 2, Nr, Nt] layout.
    public init(inputs: [[Float]], labels: [JointLabel], receiveCount: Int, transmitCount: Int, toneCount: Int) {
        self.inputs = inputs; self.labels = labels
        self.receiveCount = receiveCount; self.transmitCount = transmitCount; self.toneCount = toneCount
    }

    /// RMS over all entries (the normalization constant computed on the training split).
    public var rms: Float {
        var s = 0.0, n = 0
        for v in inputs { for x in v { s += Double(x) * Double(x) }; n += v.count }
        return n > 0 ? Float((s / Double(n)).squareRoot()) : 1
    }

    /// Every sample multiplied by `factor`.
    public func scaled(by factor: Float) -> SampleSet {
        var c = self
        c.inputs = inputs.map { $0.map { $0 * factor } }
        return c
    }

    /// The subset at `indices`.
    public func subset(_ indices: [Int]) -> SampleSet {
        SampleSet(inputs: indices.map { inputs[$0] }, labels: indices.map { labels[$0] },
                  receiveCount: receiveCount, transmitCount: transmitCount, toneCount: toneCount)
    }

    /// Network input [B·Ks, C_in, Nr, Nt] for samples `idx` and tones `tones` (C_in = `input.channels`),
    /// each sample first scaled by `gains[b]` (training-time amplitude jitter).
    ///
    /// With `input.normalization == .perSample` every sample is divided by its own RMS over the selected
    /// tones, ρ = (Σ|H_k[r,t]|² / (K_s Nr Nt))^{1/2}, and a third, constant channel carries the
    /// standardized log-amplitude (ln ρ − μ)/σ (μ, σ from the training split). The received power falls
    /// as ~1/r⁴ over 5–50 m (four decades), so a single global scale leaves far targets as near-zero
    /// images; per-sample normalization puts every image at unit RMS while the amplitude channel keeps
    /// the coarse range/RCS cue. With `input.phaseReference` the whole sample is rotated by e^{−jφ₀},
    /// φ₀ the phase of the strongest entry of the first selected tone, which removes the carrier phase
    /// 4πr/λ (random on the scale of the range interval) and keeps every relative phase (across
    /// antennas: angle and curvature; across tones: delay).
    public func batch(_ idx: [Int], tones: [Int], gains: [Float]? = nil, input p: InputPreprocessing = InputPreprocessing(normalization: .global)) -> Tensor {
        let px = receiveCount * transmitCount, img = 2 * px, ch = p.channels, outImg = ch * px
        var out = [Float](repeating: 0, count: idx.count * tones.count * outImg)
        for (b, i) in idx.enumerated() {
            let g = gains?[b] ?? 1
            let v = inputs[i]
            var rot: (c: Float, s: Float) = (1, 0)
            if p.phaseReference, let k0 = tones.first {
                var best: Float = -1, bq = 0
                for q in 0..<px {
                    let re = v[k0 * img + q], im = v[k0 * img + px + q], m = re * re + im * im
                    if m > best { best = m; bq = q }
                }
                let re = v[k0 * img + bq], im = v[k0 * img + px + bq], mag = (re * re + im * im).squareRoot()
                if mag > 0 { rot = (re / mag, -im / mag) }
            }
            var factor = g, amp: Float = 0
            if p.normalization == .perSample {
                var ss = 0.0
                for m in tones { for q in 0..<img { let x = Double(v[m * img + q]); ss += x * x } }
                let rho = Float((ss / Double(tones.count * px)).squareRoot())
                factor = rho > 0 ? 1 / rho : 1
                amp = rho > 0 ? (Foundation.log(rho * g) - p.logAmplitudeMean) / p.logAmplitudeStd : 0
            }
            for (j, m) in tones.enumerated() {
                let dst = (b * tones.count + j) * outImg, src = m * img
                for q in 0..<px {
                    let re = v[src + q], im = v[src + px + q]
                    out[dst + q] = (re * rot.c - im * rot.s) * factor
                    out[dst + px + q] = (re * rot.s + im * rot.c) * factor
                }
                if ch == 3 { for q in 0..<px { out[dst + img + q] = amp } }
            }
        }
        return Tensor(shape: [idx.count * tones.count, ch, receiveCount, transmitCount], scalars: out)
    }

    /// Mean and std of ln ρ over the set (ρ the per-sample RMS over all tones, see `batch`): the
    /// standardization of the amplitude channel, computed on the training split.
    public var logAmplitudeStatistics: (mean: Float, std: Float) {
        let l = inputs.map { v -> Double in
            let ss = v.reduce(0.0) { $0 + Double($1) * Double($1) }
            return Foundation.log(Swift.max((ss / Double(v.count / 2)).squareRoot(), 1e-30))
        }
        guard !l.isEmpty else { return (0, 1) }
        let m = l.reduce(0, +) / Double(l.count)
        let sd = (l.reduce(0.0) { $0 + ($1 - m) * ($1 - m) } / Double(l.count)).squareRoot()
        return (Float(m), Float(sd > 1e-6 ? sd : 1))
    }

    /// Peak coordinate u* of eq. (46) on the selected tones, normalized to [0, 1]² as (row/(Nr−1), col/(Nt−1)).
    public func peak(_ i: Int, tones: [Int]) -> [Float] {
        let nr = receiveCount, nt = transmitCount, img = 2 * nr * nt
        var best: Float = -1, bi = 0
        for q in 0..<(nr * nt) {
            var m: Float = 0
            for k in tones {
                let re = inputs[i][k * img + q], im = inputs[i][k * img + nr * nt + q]
                m += (re * re + im * im).squareRoot()
            }
            if m > best { best = m; bi = q }
        }
        let r = bi / nt, t = bi % nt
        return [nr > 1 ? Float(r) / Float(nr - 1) : 0, nt > 1 ? Float(t) / Float(nt - 1) : 0]
    }
}

/// Non-differentiable per-batch targets of the loss.
public struct BatchTargets: Sendable {
    /// Class index of each sample in the batch, [N].
    public var classes: [Int]
    /// Normalized range (r − r_mid)/r_half, [N, 1]; range in metres [N, 1]; sin θ, cos θ [N, 1]; u* [N, 2].
    public var rangeNorm: Tensor, rangeMeters: Tensor, sinTheta: Tensor, cosTheta: Tensor, peak: Tensor

    /// Memberwise initializer.
    public init(classes: [Int], rangeNorm: Tensor, rangeMeters: Tensor, sinTheta: Tensor, cosTheta: Tensor, peak: Tensor) {
        self.classes = classes; self.rangeNorm = rangeNorm; self.rangeMeters = rangeMeters
        self.sinTheta = sinTheta; self.cosTheta = cosTheta; self.peak = peak
    }

    /// Targets of the samples `indices` of `samples`: range normalized with `config`'s r_mid / r_half, and the peak
    /// coordinate u* computed on `tones`.
    public init(samples: SampleSet, indices: [Int], tones: [Int], config: ModelConfig) {
        let l = indices.map { samples.labels[$0] }
        let n = l.count
        classes = l.map(\.classIndex)
        rangeNorm = Tensor(shape: [n, 1], scalars: l.map { Float(($0.rangeMeters - config.rangeMidMeters) / config.rangeHalfMeters) })
        rangeMeters = Tensor(shape: [n, 1], scalars: l.map { Float($0.rangeMeters) })
        sinTheta = Tensor(shape: [n, 1], scalars: l.map { Float(Foundation.sin($0.azimuthRad)) })
        cosTheta = Tensor(shape: [n, 1], scalars: l.map { Float(Foundation.cos($0.azimuthRad)) })
        peak = Tensor(shape: [n, 2], scalars: indices.flatMap { samples.peak($0, tones: tones) })
    }
}

/// Elementwise atan2(y, x) with its exact gradient (∂/∂y = x/(x²+y²), ∂/∂x = −y/(x²+y²)); returns the
/// wrapped azimuth error when fed sin Δθ and cos Δθ.
@differentiable(reverse)
public func atan2(_ y: Tensor, _ x: Tensor) -> Tensor {
    Tensor(shape: y.shape, scalars: zip(y.scalars, x.scalars).map { Foundation.atan2f($0, $1) })
}
/// Pullback of `atan2(_:_:)`: ∂/∂y = x/(x²+y²), ∂/∂x = −y/(x²+y²), with x²+y² floored at 1e-12.
@derivative(of: atan2)
public func _vjpAtan2(_ y: Tensor, _ x: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
    let v = atan2(y, x)
    return (v, { g in
        let gs: [Float] = g.shape == y.shape ? g.scalars : [Float](repeating: g.scalars.first ?? 0, count: y.count)
        var dy = [Float](repeating: 0, count: y.count), dx = dy
        for i in 0..<y.count {
            let a = y.scalars[i], b = x.scalars[i], d = Swift.max(a * a + b * b, 1e-12)
            dy[i] = gs[i] * b / d; dx[i] = -gs[i] * a / d
        }
        return (Tensor(shape: y.shape, scalars: dy), Tensor(shape: x.shape, scalars: dx))
    })
}

/// Which terms enter the loss. `classification`/`localization` select the task parts (PCGrad evaluates
/// them separately); `weights` are (λr, λθ, λp, λpk, λc); ablations zero a physics weight.
public struct LossSpec: Sendable {
    /// Which training objective the loss evaluates.
    public var objective: Objective
    /// Loss weights (λr, λθ, λp, λpk, λc).
    public var weights: LossWeights
    /// Include the classification loss.
    public var classification: Bool
    /// Include the localization losses.
    public var localization: Bool
    /// Range normalization r = r_mid + r_half·z, m (from `ModelConfig`).
    public var rangeMidMeters: Float, rangeHalfMeters: Float
    /// Bound b of the predicted log-variances: the NLL uses s = b·tanh(ŝ/b) ∈ (−b, b) instead of the raw
    /// head output ŝ. Unbounded, ŝ → −∞ on well-fitted samples makes the weight e^{−s} of eq. (41) overflow
    /// float32 (e^{88}) and the run turns NaN (seen: proposed-full, seed 42, epoch 12). With b = 8 the
    /// weight stays ≤ e⁸ ≈ 3·10³, σ ∈ [e^{−4}, e⁴] in normalized units (range: 0.41 m … 1.2 km at
    /// r_half = 22.5 m; azimuth: 3.3° … ∞ in π units); tanh keeps the gradient non-zero everywhere and is the
    /// identity to first order for |ŝ| ≪ b. The mean estimate's optimum is unaffected (its gradient is only
    /// rescaled by e^{−s}).
    public var logVarianceBound: Float = 8
    /// Loss spec for `objective` and `weights`, taking the range normalization from `config`; `logVarianceBound` stays 8.
    public init(objective: Objective, weights: LossWeights, classification: Bool, localization: Bool, config: ModelConfig) {
        self.objective = objective; self.weights = weights
        self.classification = classification; self.localization = localization
        rangeMidMeters = Float(config.rangeMidMeters); rangeHalfMeters = Float(config.rangeHalfMeters)
    }
}

/// The training loss on packed outputs `out` [N, C + 7] (see `JointNetwork`):
/// L = L_cls + λr L_r + λθ L_θ (+ λp L_pl + λpk L_peak + λc L_cp for `.physics`), eqs. (39)–(48), the NLL
/// log-variances bounded by `spec.logVarianceBound` (s = b·tanh(ŝ/b)), with
/// e_r = z_r − (r − r_mid)/r_half (half-span units) and e_θ = Δθ/π, Δθ = atan2(sin Δθ, cos Δθ) from the
/// normalized â (eq. 38) — the wrap of eq. (41) without a branch cut in the gradient.
@differentiable(reverse, wrt: out)
public func jointLoss(_ out: Tensor, targets t: BatchTargets, spec: LossSpec, classes: Int) -> Tensor {
    var loss = Tensor(0)
    if spec.classification {
        loss = loss + softmaxCrossEntropy(logits: out.slice(axis: 1, 0..<classes), labels: t.classes)
    }
    if spec.localization {
        let z = out.slice(axis: 1, classes..<(classes + 1))
        let sr = out.slice(axis: 1, (classes + 1)..<(classes + 2))
        let aS = out.slice(axis: 1, (classes + 2)..<(classes + 3))
        let aC = out.slice(axis: 1, (classes + 3)..<(classes + 4))
        let sth = out.slice(axis: 1, (classes + 4)..<(classes + 5))
        let u = out.slice(axis: 1, (classes + 5)..<(classes + 7))
        let norm = (aS * aS + aC * aC + 1e-8).sqrt()
        let s = aS / norm, c = aC / norm
        let sinD = s * t.cosTheta - c * t.sinTheta          // sin(θ̂ − θ)
        let cosD = c * t.cosTheta + s * t.sinTheta          // cos(θ̂ − θ)
        let w = spec.weights
        switch spec.objective {
        case .deterministic:
            let lr = meanSquaredError(z, t.rangeNorm)
            let la = ((s - t.sinTheta).squared() + (c - t.cosTheta).squared()).mean()
            loss = loss + Float(w.range) * lr + Float(w.azimuth) * la
        case .nll, .physics:
            let dth = atan2(sinD, cosD)
            let zeros = withoutDerivative(at: dth) * 0
            let b = spec.logVarianceBound
            let srB = (sr * (1 / b)).tanh() * b, sthB = (sth * (1 / b)).tanh() * b
            loss = loss + Float(w.range) * gaussianNLL(mean: z - t.rangeNorm, logVariance: srB, target: zeros)
                + Float(w.azimuth) * gaussianNLL(mean: dth * Float(1 / Double.pi), logVariance: sthB, target: zeros)
            if spec.objective == .physics {
                let rh = z * spec.rangeHalfMeters + spec.rangeMidMeters
                let r = t.rangeMeters
                if w.planar > 0 {
                    let pl = (rh * rh + r * r - 2 * rh * r * cosD + 1e-6).sqrt().mean()       // eq. (44)
                    loss = loss + Float(w.planar) * pl
                }
                if w.peak > 0 {
                    let pk = (u - t.peak).abs().sum(axes: [1]).mean()                      // eq. (47)
                    loss = loss + Float(w.peak) * pk
                }
                if w.coupling > 0 {
                    let cp = ((rh - r).abs() - (r * dth).abs()).abs().mean()                // eq. (48)
                    loss = loss + Float(w.coupling) * cp
                }
            }
        }
    }
    return loss
}

/// Decodes packed outputs into predictions (p̂ = softmax(o_cls), r̂ = r_mid + r_half z_r, θ̂ = atan2(â)).
public func decodePredictions(_ out: Tensor, config c: ModelConfig) -> [JointPrediction] {
    let n = out.shape[0], w = out.shape[1], C = c.classes
    var res: [JointPrediction] = []
    for i in 0..<n {
        let row = Array(out.scalars[(i * w)..<((i + 1) * w)]).map(Double.init)
        var p: [Double]? = nil
        if c.architecture.classifies {
            let lg = Array(row[0..<C]); let m = lg.max()!
            let e = lg.map { Foundation.exp($0 - m) }; let s = e.reduce(0, +)
            p = e.map { $0 / s }
        }
        var loc: LocationEstimate? = nil
        if c.architecture.localizes {
            loc = LocationEstimate(rangeMeters: c.rangeMidMeters + c.rangeHalfMeters * row[C],
                                   azimuthRad: decodeAzimuth(sin: row[C + 2], cos: row[C + 3]))
        }
        res.append(JointPrediction(classProbabilities: p, location: loc))
    }
    return res
}

/// PCGrad [31] for two tasks on flattened gradients: when g₁·g₂ < 0 each gradient is projected onto
/// the normal plane of the *other original* gradient, g₁' = g₁ − (g₁·g₂/‖g₂‖²) g₂ and symmetrically;
/// the update is g₁' + g₂'. After projection g₁'·g₂ = g₂'·g₁ = 0 and g₁'·g₂' = (g₁·g₂)(cos²φ − 1) ≥ 0 (φ the angle between g₁ and g₂).
/// - Returns: the projected pair (unchanged when they do not conflict).
public func pcgradProject(_ g1: [Float], _ g2: [Float]) -> ([Float], [Float]) {
    precondition(g1.count == g2.count)
    var dot = 0.0, n1 = 0.0, n2 = 0.0
    for i in g1.indices { dot += Double(g1[i]) * Double(g2[i]); n1 += Double(g1[i] * g1[i]); n2 += Double(g2[i] * g2[i]) }
    guard dot < 0, n1 > 0, n2 > 0 else { return (g1, g2) }
    let a = Float(dot / n2), b = Float(dot / n1)
    return (zip(g1, g2).map { $0 - a * $1 }, zip(g2, g1).map { $0 - b * $1 })
}
