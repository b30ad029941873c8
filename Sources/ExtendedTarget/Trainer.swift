import _Differentiation
import Foundation
import Learning
import Linalg

/// Hyper-parameters of one training run (Sec. IV-A defaults: AdamW 2e-4, cosine annealing, 200 epochs).
public struct TrainingConfig: Codable, Sendable {
    /// Number of training epochs.
    public var epochs: Int = 200
    /// Mini-batch size B (samples per optimizer step).
    public var batchSize: Int = 32
    /// AdamW learning rate.
    public var learningRate: Float = 2e-4
    /// AdamW decoupled weight decay.
    public var weightDecay: Float = 0.01
    /// Parameters that receive the AdamW decay: dense/conv weight matrices only (norms, biases,
    /// embeddings, CTA α and cross-stitch coefficients are in the no-decay group).
    public var decayGroups: WeightDecayGroups = .matricesOnly
    public var objective: Objective = .physics
    public var weights: LossWeights = LossWeights()
    public var pcgrad: Bool = false
    /// Global-norm gradient clipping (nil: off).
    public var clipNorm: Float? = 5
    /// Bound b of the NLL log-variances, s = b·tanh(ŝ/b) (see `LossSpec.logVarianceBound`).
    public var logVarianceBound: Float = 8
    /// A step whose loss or gradient norm is NaN/∞ is skipped (no update, BatchNorm statistics
    /// restored, one warning on stderr); this many such steps in a row abort the run.
    public var maxNonFiniteSteps: Int = 5
    /// "Mild sample-wise amplitude perturbation" on the training split: gain ~ U[1 − a, 1 + a].
    public var amplitudeJitter: Float = 0.05
    public var seed: UInt64 = 42
    /// Absolute tone indices k_m used for sensing (eq. 15).
    public var tones: [Int] = []

    /// Creates the default configuration.
    public init() {}

    /// Throws `ISACError.invalidParameter` when a setting is out of range or `tones` is not an increasing list of indices in 0..<k.
    public func validate(toneCount k: Int) throws {
        try Check.positive(epochs, "--epochs"); try Check.positive(batchSize, "--batch-size")
        try Check.positive(learningRate, "--lr"); try Check.inRange(weightDecay, 0, 10, "--weight-decay")
        try Check.inRange(amplitudeJitter, 0, 0.5, "amplitudeJitter")
        try Check.finite(learningRate, "--lr")
        if let c = clipNorm { try Check.positive(c, "--clip-norm") }
        try Check.inRange(logVarianceBound, 0.5, 80, "--logvar-bound")
        try Check.positive(maxNonFiniteSteps, "--max-nonfinite-steps")
        guard !tones.isEmpty, tones.allSatisfy({ $0 >= 0 && $0 < k }), zip(tones, tones.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ISACError.invalidParameter(name: "--ks", value: "\(tones)", valid: "tones must be increasing indices in 0..<\(k) (the dataset has \(k) subcarriers)")
        }
    }
}

/// Checkpoint/resume options of `train`.
public struct ResumeOptions: Sendable {
    /// When set, the full training state (weights, BN statistics, AdamW moments and step, epoch, best
    /// model and score, per-epoch log) is written atomically to this `.npz` after every epoch.
    public var checkpointPath: String?
    /// Continue from this checkpoint (written by a run with the same data, model and `TrainingConfig`).
    public var resumeFrom: String?
    /// Stop after this many epochs in total (an "interrupted" run; the schedule still spans `epochs`).
    public var stopAfterEpochs: Int?
    /// Creates checkpoint options; every argument defaults to nil (no checkpoint, no resume, no early stop).
    public init(checkpointPath: String? = nil, resumeFrom: String? = nil, stopAfterEpochs: Int? = nil) {
        self.checkpointPath = checkpointPath; self.resumeFrom = resumeFrom; self.stopAfterEpochs = stopAfterEpochs
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
    /// Epoch index.
    public var epoch: Int
    /// Training loss of the epoch.
    public var trainLoss: Double
    /// Metrics on the validation set after the epoch.
    public var validation: JointMetricSummary
    /// Validation score of the epoch.
    public var score: Double
    /// Learning rate used in the epoch.
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

    /// Running means/variances of the six BatchNorm layers (undo a skipped step's statistics update).
    public func batchNormSnapshot() -> [String: ([Float], [Float])] {
        batchNormStatistics(self).mapValues { ($0.mean, $0.variance) }
    }
    /// Restores statistics captured by `batchNormSnapshot`.
    public func restoreBatchNorm(_ s: [String: ([Float], [Float])]) {
        for (k, box) in batchNormStatistics(self) { if let v = s[k] { box.mean = v.0; box.variance = v.1 } }
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

func warn(_ text: String) { FileHandle.standardError.write(Data(("warning: " + text + "\n").utf8)) }

/// Trains `model` with AdamW + cosine annealing (per step), keeping the epoch with the best validation
/// `selectionScore`. Each epoch prints one line to stderr unless `quiet`.
///
/// Stability: the NLL log-variances are bounded (`TrainingConfig.logVarianceBound`); a step with a
/// non-finite loss or gradient norm is skipped with a warning (its BatchNorm statistics update is
/// undone) and `maxNonFiniteSteps` consecutive ones abort with `ISACError.nonFinite`; an epoch whose
/// validation predictions are non-finite is never selected; the returned model is checked finite.
///
/// Determinism and resume: the shuffle and amplitude-jitter generator of epoch e is
/// `RandomSource(seed, stream: 1_000_000 + e)`, so the only generator position a checkpoint needs is the
/// epoch index; with `resume.checkpointPath` the state after every epoch is saved, and a run resumed from
/// it is bit-identical to an uninterrupted one (same thread count).
/// - Returns: the selected model and the epoch log (epochs restored from a checkpoint carry their
///   train loss, score and rate but an empty validation summary).
public func train(_ model: JointNetwork, train trainSet: SampleSet, validation: SampleSet, config tc: TrainingConfig,
                  quiet: Bool = false, label: String = "train", resume: ResumeOptions = ResumeOptions()) throws -> (model: JointNetwork, log: [EpochLog]) {
    try tc.validate(toneCount: trainSet.toneCount)
    guard trainSet.count > 0, validation.count > 0 else {
        throw ISACError.invalidParameter(name: "dataset", value: "train \(trainSet.count), val \(validation.count)", valid: "both splits need ≥ 1 sample")
    }
    if let s = resume.stopAfterEpochs { try Check.positive(s, "--stop-after") }
    var model = model.deepCopy()
    let cfg = model.config
    var opt = try AdamW(learningRate: tc.learningRate, weightDecay: tc.weightDecay, decayGroups: tc.decayGroups)
    let stepsPerEpoch = (trainSet.count + tc.batchSize - 1) / tc.batchSize
    let schedule = try CosineAnnealing(initial: tc.learningRate, minimum: 0, totalSteps: tc.epochs * stepsPerEpoch)
    var both = LossSpec(objective: tc.objective, weights: tc.weights, classification: cfg.architecture.classifies,
                        localization: cfg.architecture.localizes, config: cfg)
    both.logVarianceBound = tc.logVarianceBound
    var clsOnly = both; clsOnly.localization = false
    var locOnly = both; locOnly.classification = false
    var best = model.deepCopy(), bestScore = Double.infinity
    var log: [EpochLog] = []
    var step = 0, firstEpoch = 0
    let identity = trainingIdentity(tc, stepsPerEpoch: stepsPerEpoch, trainCount: trainSet.count)
    if let path = resume.resumeFrom {
        let r = try restoreTraining(from: path, model: &model, optimizer: &opt, identity: identity)
        best = r.best; bestScore = r.bestScore; log = r.log; step = r.step; firstEpoch = r.epoch
    }
    let lastEpoch = Swift.min(tc.epochs, resume.stopAfterEpochs ?? tc.epochs)
    var consecutiveBad = 0
    for epoch in firstEpoch..<Swift.max(firstEpoch, lastEpoch) {
        var rng = RandomSource(seed: tc.seed, stream: 1_000_000 + UInt64(epoch))
        var order = Array(0..<trainSet.count)
        order.shuffle(using: &rng)
        var lossSum = 0.0, goodSteps = 0
        for b in 0..<stepsPerEpoch {
            let idx = Array(order[(b * tc.batchSize)..<Swift.min((b + 1) * tc.batchSize, order.count)])
            let gains = idx.map { _ in Float(rng.uniform(Double(1 - tc.amplitudeJitter), Double(1 + tc.amplitudeJitter))) }
            let x = trainSet.batch(idx, tones: tc.tones, gains: gains, input: cfg.input)
            let t = BatchTargets(samples: trainSet, indices: idx, tones: tc.tones, config: cfg)
            let n = idx.count, tones = tc.tones, C = cfg.classes
            opt.learningRate = Swift.max(schedule.learningRate(at: step), 1e-12)
            let statsBefore = model.batchNormSnapshot()
            var grad: JointNetwork.TangentVector
            let stepLoss: Double
            if tc.pcgrad && both.classification && both.localization {
                // One forward pass (one BatchNorm statistics update), two pullbacks of the same graph.
                let (out, pullback) = valueWithPullback(at: model) { m in m(x, samples: n, toneIndices: tones, training: true) }
                let (l1, d1) = valueWithGradient(at: out) { o in jointLoss(o, targets: t, spec: clsOnly, classes: C) }
                let (l2, d2) = valueWithGradient(at: out) { o in jointLoss(o, targets: t, spec: locOnly, classes: C) }
                stepLoss = Double(l1.scalar) + Double(l2.scalar)
                grad = pcgradCombine(pullback(d1), pullback(d2))
            } else {
                let (l, g) = valueWithGradient(at: model) { m in jointLoss(m(x, samples: n, toneIndices: tones, training: true), targets: t, spec: both, classes: C) }
                stepLoss = Double(l.scalar)
                grad = g
            }
            let gradNorm = globalNorm(of: grad, model: JointNetwork.self)
            guard stepLoss.isFinite, gradNorm.isFinite else {
                model.restoreBatchNorm(statsBefore)
                consecutiveBad += 1
                warn("\(label): non-finite \(stepLoss.isFinite ? "gradient" : "loss") at epoch \(epoch + 1) step \(b + 1); step skipped (\(consecutiveBad) in a row, abort at \(tc.maxNonFiniteSteps))")
                if consecutiveBad >= tc.maxNonFiniteSteps {
                    throw ISACError.nonFinite(name: "\(label): diverged, no model saved (lower --lr or set --clip-norm): the training loss/gradient of \(consecutiveBad) consecutive steps at epoch \(epoch + 1)")
                }
                step += 1
                continue
            }
            consecutiveBad = 0
            lossSum += stepLoss; goodSteps += 1
            if let c = tc.clipNorm, gradNorm > c {
                let scale = c / gradNorm
                JointNetwork.forEachParameter(in: &grad, "") { _, t in t = t * scale }
            }
            opt.update(&model, along: grad)
            step += 1
        }
        let trainLoss = goodSteps > 0 ? lossSum / Double(goodSteps) : .nan
        var vm = JointMetricSummary(count: 0), score = Double.infinity
        do {
            vm = try model.evaluate(validation, tones: tc.tones)
            score = selectionScore(vm, rangeHalfMeters: cfg.rangeHalfMeters)
        } catch let e as ISACError {
            warn("\(label): epoch \(epoch + 1) not selectable: \(e)")
        }
        if score < bestScore { bestScore = score; best = model.deepCopy() }
        log.append(EpochLog(epoch: epoch + 1, trainLoss: trainLoss, validation: vm, score: score,
                            learningRate: opt.learningRate))
        if !quiet {
            let parts = vm.named.map { String(format: "%@=%.3f", $0.0, $0.1) }.joined(separator: " ")
            FileHandle.standardError.write(Data(String(format: "%@ epoch %d/%d  loss=%.4f  val: %@%@\n", label, epoch + 1, tc.epochs,
                                                       trainLoss, parts, score <= bestScore && score.isFinite ? "  *" : "").utf8))
        }
        if let path = resume.checkpointPath {
            try saveTraining(to: path, model: model, optimizer: opt, best: best, bestScore: bestScore, log: log,
                             epoch: epoch + 1, step: step, identity: identity)
        }
    }
    guard bestScore.isFinite || log.isEmpty else {
        throw ISACError.nonFinite(name: "\(label): validation predictions of every epoch (the model diverged); no model saved")
    }
    guard best.allParametersFinite else {
        throw ISACError.nonFinite(name: "\(label): trained parameters (the model diverged); no model saved")
    }
    return (best, log)
}

/// Scalars that must match between a checkpoint and the run that resumes it.
func trainingIdentity(_ tc: TrainingConfig, stepsPerEpoch: Int, trainCount: Int) -> [String: Double] {
    ["epochs": Double(tc.epochs), "steps_per_epoch": Double(stepsPerEpoch), "train_samples": Double(trainCount),
     "lr": Double(tc.learningRate), "batch_size": Double(tc.batchSize), "seed_low32": Double(tc.seed & 0xFFFF_FFFF),
     "seed_high32": Double(tc.seed >> 32), "tones": Double(tc.tones.count), "pcgrad": tc.pcgrad ? 1 : 0]
}

func saveTraining(to path: String, model: JointNetwork, optimizer: Adam, best: JointNetwork, bestScore: Double,
                  log: [EpochLog], epoch: Int, step: Int, identity: [String: Double]) throws {
    var st = TrainingState()
    st.optimizer = optimizer.stateTensors
    st.counters = identity
    st.counters["epoch"] = Double(epoch); st.counters["step"] = Double(step); st.counters["best_score"] = bestScore
    var extra: [String: Tensor] = [:]
    for (k, t) in best.namedParameters { extra["best/" + k] = t }
    for (k, s) in batchNormStatistics(best) {
        extra["best/" + k + ".running_mean"] = Tensor(shape: [s.mean.count], scalars: s.mean)
        extra["best/" + k + ".running_var"] = Tensor(shape: [s.variance.count], scalars: s.variance)
    }
    // Per-epoch log as float32 rows (train loss, score, lr): enough to rebuild model selection.
    extra["log/train_loss"] = Tensor(shape: [log.count], scalars: log.map { Float($0.trainLoss) })
    extra["log/score"] = Tensor(shape: [log.count], scalars: log.map { Float($0.score) })
    extra["log/lr"] = Tensor(shape: [log.count], scalars: log.map(\.learningRate))
    // The score is compared in Double: keep its exact bits next to the float32 copy.
    st.counters["best_score_bits_low"] = Double(bestScore.bitPattern & 0xFFFF_FFFF)
    st.counters["best_score_bits_high"] = Double(bestScore.bitPattern >> 32)
    try st.save(model, to: path, statistics: batchNormStatistics(model), extra: extra)
}

func restoreTraining(from path: String, model: inout JointNetwork, optimizer: inout Adam, identity: [String: Double]) throws
    -> (best: JointNetwork, bestScore: Double, log: [EpochLog], epoch: Int, step: Int) {
    let (st, extra) = try TrainingState.load(into: &model, from: path, statistics: batchNormStatistics(model))
    for (k, v) in identity {
        let saved = try st.counter(k, path: path)
        guard saved == v else {
            let flag = ["epochs": "--epochs", "lr": "--lr", "batch_size": "--batch-size", "tones": "--ks",
                        "seed_low32": "--seed", "seed_high32": "--seed", "pcgrad": "--method"][k] ?? "--data"
            throw ISACError.invalidParameter(name: flag, value: "\(v)", valid: "must match the checkpoint \(path) (\(k) = \(saved))")
        }
    }
    optimizer.loadState(st.optimizer)
    let low = UInt64(try st.counter("best_score_bits_low", path: path))
    let high = UInt64(try st.counter("best_score_bits_high", path: path))
    let bits = low | (high << 32)
    let bestScore = Double(bitPattern: bits)
    var best = model.deepCopy()
    var missing: String?
    best.forEachParameter("") { k, t in
        if let b = extra["best/" + k], b.shape == t.shape { t = b } else { missing = k }
    }
    for (k, s) in batchNormStatistics(best) {
        guard let m = extra["best/" + k + ".running_mean"], let v = extra["best/" + k + ".running_var"] else { missing = k; continue }
        s.mean = m.scalars; s.variance = v.scalars
    }
    if let k = missing { throw ISACError.malformedFile(path: path, reason: "best model entry \(k) missing") }
    let tl = extra["log/train_loss"]?.scalars ?? [], sc = extra["log/score"]?.scalars ?? [], lr = extra["log/lr"]?.scalars ?? []
    let epoch = Int(try st.counter("epoch", path: path))
    guard tl.count == epoch, sc.count == epoch, lr.count == epoch else {
        throw ISACError.malformedFile(path: path, reason: "epoch log has \(tl.count) rows for \(epoch) epochs")
    }
    let log = (0..<epoch).map { EpochLog(epoch: $0 + 1, trainLoss: Double(tl[$0]), validation: JointMetricSummary(count: 0),
                                         score: Double(sc[$0]), learningRate: lr[$0]) }
    return (best, bestScore, log, epoch, Int(try st.counter("step", path: path)))
}

/// Task-specific parameters of `JointNetwork` (the pooling projections and heads of eq. 33–37); every
/// other parameter is shared between the tasks (in Shared-MTL: the one encoder).
func isTaskSpecific(_ path: String) -> Bool {
    ["poolCls", "headCls", "poolLoc", "headLoc"].contains { path == $0 || path.hasPrefix($0 + ".") }
}

/// PCGrad [31] as published (Yu et al. 2020, Alg. 1, applied to the shared parameters θ_sh): the task
/// gradients restricted to the shared parameters are projected with `pcgradProject`; task-specific
/// parameters (heads) get their own task's gradient unchanged (g₁ + g₂, one of which is zero there).
func pcgradCombine(_ g1: JointNetwork.TangentVector, _ g2: JointNetwork.TangentVector) -> JointNetwork.TangentVector {
    var a = g1, b = g2
    var fa: [Float] = [], fb: [Float] = []
    var shapes: [(String, [Int], Bool)] = []
    var tb: [String: Tensor] = [:]
    JointNetwork.forEachParameter(in: &b, "") { p, t in tb[p] = t }
    var headSums: [String: Tensor] = [:]
    JointNetwork.forEachParameter(in: &a, "") { p, t in
        let other = tb[p] ?? .zeros(t.shape)
        // Zero placeholders (rank-0) become dense zeros of the partner's shape.
        let shape = t.count >= other.count ? t.shape : other.shape
        let n = shape.reduce(1, *)
        let ta = t.count == n ? t.scalars : [Float](repeating: 0, count: n)
        let tb = other.count == n ? other.scalars : [Float](repeating: 0, count: n)
        if isTaskSpecific(p) {
            headSums[p] = Tensor(shape: shape, scalars: zip(ta, tb).map { $0 + $1 })
        } else {
            fa += ta; fb += tb
            shapes.append((p, shape, true))
        }
    }
    let (pa, pb) = pcgradProject(fa, fb)
    var offset = 0
    var out: [String: Tensor] = headSums
    for (p, s, _) in shapes {
        let n = s.reduce(1, *)
        out[p] = Tensor(shape: s, scalars: (0..<n).map { pa[offset + $0] + pb[offset + $0] })
        offset += n
    }
    JointNetwork.forEachParameter(in: &a, "") { p, t in t = out[p]! }
    return a
}
