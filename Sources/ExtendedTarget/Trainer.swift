import _Differentiation
import Foundation
import Learning
import Linalg

/// Hyper-parameters of one training run (Sec. IV-A defaults: AdamW 2e-4, cosine annealing, 200 epochs).
public struct TrainingConfig: Codable, Sendable {
    public var epochs: Int = 200
    public var batchSize: Int = 32
    public var learningRate: Float = 2e-4
    public var weightDecay: Float = 0.01
    public var objective: Objective = .physics
    public var weights: LossWeights = LossWeights()
    public var pcgrad: Bool = false
    /// Global-norm gradient clipping (nil: off).
    public var clipNorm: Float? = 5
    /// "Mild sample-wise amplitude perturbation" on the training split: gain ~ U[1 − a, 1 + a].
    public var amplitudeJitter: Float = 0.05
    public var seed: UInt64 = 42
    /// Absolute tone indices k_m used for sensing (eq. 15).
    public var tones: [Int] = []

    public init() {}

    public func validate(toneCount k: Int) throws {
        try Check.positive(epochs, "--epochs"); try Check.positive(batchSize, "--batch-size")
        try Check.positive(learningRate, "--lr"); try Check.inRange(weightDecay, 0, 10, "--weight-decay")
        try Check.inRange(amplitudeJitter, 0, 0.5, "amplitudeJitter")
        guard !tones.isEmpty, tones.allSatisfy({ $0 >= 0 && $0 < k }), zip(tones, tones.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ISACError.invalidParameter(name: "--ks", value: "\(tones)", valid: "tones must be increasing indices in 0..<\(k) (the dataset has \(k) subcarriers)")
        }
    }
}

/// Validation-based model-selection score (lower is better), the same for every method:
/// (1 − accuracy) + planar MAE / r_half for joint models, (1 − accuracy) for classifiers,
/// planar MAE / r_half for localizers.
public func selectionScore(_ m: JointMetricSummary, rangeHalfMeters: Double) -> Double {
    var s = 0.0
    if let a = m.accuracy { s += 1 - a }
    if let p = m.planarMAEMeters { s += p / rangeHalfMeters }
    return s
}

/// Per-epoch record.
public struct EpochLog: Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validation: JointMetricSummary
    public var score: Double
    public var learningRate: Float
}

extension JointNetwork {
    /// A copy with its own BatchNorm running statistics (the statistics live in a reference box, so a
    /// plain struct copy would keep updating the snapshot).
    public func deepCopy() -> JointNetwork {
        var c = self
        func clone(_ bn: inout BatchNorm2D) {
            let s = BatchNormStatistics(channels: bn.statistics.mean.count, momentum: bn.statistics.momentum)
            s.mean = bn.statistics.mean; s.variance = bn.statistics.variance
            bn.statistics = s
        }
        clone(&c.semantic.bn1); clone(&c.semantic.bn2); clone(&c.semantic.bn3)
        clone(&c.geometric.bn1); clone(&c.geometric.bn2); clone(&c.geometric.bn3)
        return c
    }

    /// Inference on `samples` (batched, eval-mode BatchNorm). Returns one prediction per sample.
    public func predict(_ samples: SampleSet, tones: [Int], batchSize: Int = 32) -> [JointPrediction] {
        var out: [JointPrediction] = []
        var i = 0
        while i < samples.count {
            let idx = Array(i..<Swift.min(i + batchSize, samples.count))
            let y = self(samples.batch(idx, tones: tones, input: config.input), samples: idx.count, toneIndices: tones, training: false)
            out += decodePredictions(y, config: config)
            i += batchSize
        }
        return out
    }

    /// Test-style metrics on `samples`.
    public func evaluate(_ samples: SampleSet, tones: [Int]) throws -> JointMetricSummary {
        try JointMetricSummary.evaluate(predict(samples, tones: tones), samples.labels)
    }
}

/// Trains `model` with AdamW + cosine annealing (per step), keeping the epoch with the best validation
/// `selectionScore`. Each epoch prints one line to stderr unless `quiet`.
/// - Returns: the selected model and the epoch log.
public func train(_ model: JointNetwork, train trainSet: SampleSet, validation: SampleSet, config tc: TrainingConfig,
                  quiet: Bool = false, label: String = "train") throws -> (model: JointNetwork, log: [EpochLog]) {
    try tc.validate(toneCount: trainSet.toneCount)
    guard trainSet.count > 0, validation.count > 0 else {
        throw ISACError.invalidParameter(name: "dataset", value: "train \(trainSet.count), val \(validation.count)", valid: "both splits need ≥ 1 sample")
    }
    var model = model
    let cfg = model.config
    var opt = try AdamW(learningRate: tc.learningRate, weightDecay: tc.weightDecay)
    let stepsPerEpoch = (trainSet.count + tc.batchSize - 1) / tc.batchSize
    let schedule = try CosineAnnealing(initial: tc.learningRate, minimum: 0, totalSteps: tc.epochs * stepsPerEpoch)
    let both = LossSpec(objective: tc.objective, weights: tc.weights, classification: cfg.architecture.classifies,
                        localization: cfg.architecture.localizes, config: cfg)
    var clsOnly = both; clsOnly.localization = false
    var locOnly = both; locOnly.classification = false
    var best = model.deepCopy(), bestScore = Double.infinity
    var log: [EpochLog] = []
    var step = 0
    for epoch in 0..<tc.epochs {
        var rng = RandomSource(seed: tc.seed, stream: 1_000_000 + UInt64(epoch))
        var order = Array(0..<trainSet.count)
        order.shuffle(using: &rng)
        var lossSum = 0.0
        for b in 0..<stepsPerEpoch {
            let idx = Array(order[(b * tc.batchSize)..<Swift.min((b + 1) * tc.batchSize, order.count)])
            let gains = idx.map { _ in Float(rng.uniform(Double(1 - tc.amplitudeJitter), Double(1 + tc.amplitudeJitter))) }
            let x = trainSet.batch(idx, tones: tc.tones, gains: gains, input: cfg.input)
            let t = BatchTargets(samples: trainSet, indices: idx, tones: tc.tones, config: cfg)
            let n = idx.count, tones = tc.tones, C = cfg.classes
            opt.learningRate = Swift.max(schedule.learningRate(at: step), 1e-12)
            var grad: JointNetwork.TangentVector
            if tc.pcgrad && both.classification && both.localization {
                let (l1, g1) = valueWithGradient(at: model) { m in jointLoss(m(x, samples: n, toneIndices: tones, training: true), targets: t, spec: clsOnly, classes: C) }
                let (l2, g2) = valueWithGradient(at: model) { m in jointLoss(m(x, samples: n, toneIndices: tones, training: true), targets: t, spec: locOnly, classes: C) }
                lossSum += Double(l1.scalar + l2.scalar)
                grad = pcgradCombine(g1, g2)
            } else {
                let (l, g) = valueWithGradient(at: model) { m in jointLoss(m(x, samples: n, toneIndices: tones, training: true), targets: t, spec: both, classes: C) }
                lossSum += Double(l.scalar)
                grad = g
            }
            guard lossSum.isFinite else {
                throw ISACError.nonFinite(name: "\(label): training loss at epoch \(epoch + 1) (lower --lr?)")
            }
            if let c = tc.clipNorm { clipByGlobalNorm(&grad, maxNorm: c, model: JointNetwork.self) }
            opt.update(&model, along: grad)
            step += 1
        }
        let vm = try model.evaluate(validation, tones: tc.tones)
        let score = selectionScore(vm, rangeHalfMeters: cfg.rangeHalfMeters)
        if score < bestScore { bestScore = score; best = model.deepCopy() }
        log.append(EpochLog(epoch: epoch + 1, trainLoss: lossSum / Double(stepsPerEpoch), validation: vm, score: score,
                            learningRate: opt.learningRate))
        if !quiet {
            let parts = vm.named.map { String(format: "%@=%.3f", $0.0, $0.1) }.joined(separator: " ")
            FileHandle.standardError.write(Data(String(format: "%@ epoch %d/%d  loss=%.4f  val: %@%@\n", label, epoch + 1, tc.epochs,
                                                       lossSum / Double(stepsPerEpoch), parts, score <= bestScore ? "  *" : "").utf8))
        }
    }
    return (best, log)
}

/// Applies `pcgradProject` to the flattened task gradients and returns g₁' + g₂'.
func pcgradCombine(_ g1: JointNetwork.TangentVector, _ g2: JointNetwork.TangentVector) -> JointNetwork.TangentVector {
    var a = g1, b = g2
    var fa: [Float] = [], fb: [Float] = []
    var shapes: [(String, [Int])] = []
    var tb: [String: Tensor] = [:]
    JointNetwork.forEachParameter(in: &b, "") { p, t in tb[p] = t }
    JointNetwork.forEachParameter(in: &a, "") { p, t in
        let other = tb[p] ?? .zeros(t.shape)
        // Zero placeholders (rank-0) become dense zeros of the partner's shape.
        let shape = t.count >= other.count ? t.shape : other.shape
        let n = shape.reduce(1, *)
        fa += t.count == n ? t.scalars : [Float](repeating: 0, count: n)
        fb += other.count == n ? other.scalars : [Float](repeating: 0, count: n)
        shapes.append((p, shape))
    }
    let (pa, pb) = pcgradProject(fa, fb)
    var offset = 0
    var out: [String: Tensor] = [:]
    for (p, s) in shapes {
        let n = s.reduce(1, *)
        out[p] = Tensor(shape: s, scalars: (0..<n).map { pa[offset + $0] + pb[offset + $0] })
        offset += n
    }
    JointNetwork.forEachParameter(in: &a, "") { p, t in t = out[p]! }
    return a
}
