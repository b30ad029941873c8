import _Differentiation
import Foundation
import ISACIO
import Learning
import Linalg

/// PyTorch interop of `JointNetwork` (see `TorchStateDict` for the name/layout rules and
/// `bench/extended/torch_joint.py` for the PyTorch definition that loads the export).
public enum JointNetworkInterop {
    /// The six BatchNorm layers' statistics by PyTorch module path (`semantic.bn1`, …).
    public static func statistics(_ m: JointNetwork) -> [String: BatchNormStatistics] { batchNormStatistics(m) }

    /// Writes the `state_dict`-compatible archive of `model`.
    public static func saveTorch(_ model: JointNetwork, to path: String) throws {
        try TorchStateDict.save(model, to: path, statistics: batchNormStatistics(model))
    }

    /// Loads a PyTorch-named archive (from `saveTorch` or from PyTorch) into `model`.
    public static func loadTorch(_ model: inout JointNetwork, from path: String) throws {
        try TorchStateDict.load(into: &model, from: path, statistics: batchNormStatistics(model))
    }

    /// Reference data for the PyTorch comparison on samples `indices` of `samples`:
    ///   `input` [B·Ks, C_in, Nr, Nt] (preprocessed as in training, no jitter), `output_eval` [B, C + 7]
    ///   (eval-mode forward), `output_train` (training-mode forward), `loss` (training-mode loss of `spec`),
    ///   `grad/<torch name>` (its gradient, PyTorch layout), the loss targets (`classes`, `range_norm`,
    ///   `range_m`, `sin_theta`, `cos_theta`, `peak`), `tones`, and the loss settings
    ///   (`objective` 0/1/2 = deterministic/nll/physics, `weights` (λr, λθ, λp, λpk, λc), `logvar_bound`,
    ///   `range_mid_m`, `range_half_m`). The model's BN statistics are not modified.
    public static func reference(_ model: JointNetwork, samples: SampleSet, indices: [Int], tones: [Int],
                                 objective: Objective, weights: LossWeights, logVarianceBound: Float = 8) throws -> [String: NPYArray] {
        guard !indices.isEmpty, indices.allSatisfy({ $0 >= 0 && $0 < samples.count }) else {
            throw ISACError.invalidParameter(name: "--samples", value: "\(indices.count)", valid: "1…\(samples.count) samples of the split")
        }
        let cfg = model.config
        let x = samples.batch(indices, tones: tones, input: cfg.input)
        let n = indices.count
        let yEval = model(x, samples: n, toneIndices: tones, training: false)
        var spec = LossSpec(objective: objective, weights: weights, classification: cfg.architecture.classifies,
                            localization: cfg.architecture.localizes, config: cfg)
        spec.logVarianceBound = logVarianceBound
        let t = BatchTargets(samples: samples, indices: indices, tones: tones, config: cfg)
        let work = model.deepCopy()
        let yTrain = work(x, samples: n, toneIndices: tones, training: true)
        let work2 = model.deepCopy()
        let C = cfg.classes
        let (loss, g) = valueWithGradient(at: work2) { m in jointLoss(m(x, samples: n, toneIndices: tones, training: true), targets: t, spec: spec, classes: C) }
        var a: [String: NPYArray] = [:]
        func put(_ k: String, _ v: Tensor) { a[k] = NPYArray(float32: v.scalars, shape: v.shape) }
        put("input", x); put("output_eval", yEval); put("output_train", yTrain); put("loss", Tensor(shape: [1], scalars: [loss.scalar]))
        var gg = g
        var grads: [String: Tensor] = [:]
        JointNetwork.forEachParameter(in: &gg, "") { p, t in grads[p] = t }
        for (p, w) in model.namedParameters {
            var gt = grads[p] ?? .zeros(w.shape)
            if gt.shape != w.shape { gt = .zeros(w.shape) }
            let v = TorchStateDict.isDenseWeight(p, w) ? TorchStateDict.transposed2D(gt) : gt
            put("grad/" + TorchStateDict.torchName(p), v)
        }
        a["classes"] = NPYArray(int64: t.classes.map(Int64.init), shape: [n])
        put("range_norm", t.rangeNorm); put("range_m", t.rangeMeters); put("sin_theta", t.sinTheta)
        put("cos_theta", t.cosTheta); put("peak", t.peak)
        a["tones"] = NPYArray(int64: tones.map(Int64.init), shape: [tones.count])
        let obj: Double = objective == .deterministic ? 0 : (objective == .nll ? 1 : 2)
        a["objective"] = NPYArray(float64: [obj], shape: [1])
        a["weights"] = NPYArray(float64: [weights.range, weights.azimuth, weights.planar, weights.peak, weights.coupling], shape: [5])
        a["logvar_bound"] = NPYArray(float64: [Double(logVarianceBound)], shape: [1])
        a["range_mid_m"] = NPYArray(float64: [cfg.rangeMidMeters], shape: [1])
        a["range_half_m"] = NPYArray(float64: [cfg.rangeHalfMeters], shape: [1])
        return a
    }
}

/// Training-step benchmark of the real `JointNetwork` (forward + backward of the full joint loss + AdamW)
/// on random inputs of the paper size: input [B·Ks, 2, Nr, Nt] (B samples × Ks tones), the paper network
/// (`NetworkSize.paper`), architecture `.dualBranch` with CTA, physics objective. The PyTorch twin is
/// `bench/extended/torch_joint.py --bench` (same network, loss and optimizer).
public enum JointNetworkBenchmark {
    /// Estimated peak bytes of one training step (activations kept for the backward pass, their
    /// gradients, and the im2col scratch), used to refuse sizes that cannot fit before allocating.
    /// Per conv image of Nr × Nt pixels: input 2, then per block (conv out, BN out, ReLU out) at full,
    /// ¼ and 1/16 resolution, two branches, ×2 for the backward buffers; float32.
    public static func estimatedBytes(batch: Int, antennas: Int, subcarriers: Int, size: NetworkSize) -> Double {
        let px = Double(antennas * antennas), images = Double(batch) * Double(subcarriers)
        let c = size.channels.map(Double.init)
        let perImage = 2 + 3 * c[0] + c[0] / 4 + 3 * c[1] / 4 + c[1] / 16 + 3 * c[2] / 16
        return 4 * images * px * perImage * 2 * 2
    }

    /// Runs the training-step benchmark at B = `batch`, Nr = Nt = `antennas`, Ks = `subcarriers`, with `warmup`
    /// and `steps` steps from `seed`, and returns the timings; throws unless batch, subcarriers, steps > 0, warmup ≥ 0.
    public static func run(batch: Int = 32, antennas: Int = 64, subcarriers: Int = 16, size: NetworkSize = .paper,
                           steps: Int = 5, warmup: Int = 1, seed: UInt64 = 42,
                           progress: ((Int, Int) -> Void)? = nil) throws -> LearningBenchmarkResult {
        try Check.positive(batch, "--batch"); try Check.positive(subcarriers, "--subcarriers")
        try Check.positive(steps, "--steps"); try Check.nonNegative(warmup, "--warmup")
        let cfg = try ModelConfig(architecture: .dualBranch, crossTaskAttention: true, size: size, classes: 2,
                                  receiveCount: antennas, transmitCount: antennas, toneCount: subcarriers,
                                  input: InputPreprocessing(normalization: .global))
        var model = try JointNetwork(config: cfg, seed: seed)
        var opt = try AdamW(learningRate: 2e-4, weightDecay: 0.01, decayGroups: .matricesOnly)
        var rng = RandomSource(seed: seed, stream: 1)
        let tones = Array(0..<subcarriers)
        let x = Tensor.randomNormal([batch * subcarriers, 2, antennas, antennas], rng: &rng)
        let labels = (0..<batch).map { i in
            JointLabel(classIndex: i % 2, rangeMeters: 5 + 45 * rng.uniform(), azimuthRad: (rng.uniform() - 0.5) * Double.pi / 2)
        }
        let set = SampleSet(inputs: (0..<batch).map { b in
            // SampleSet layout [K, 2, Nr, Nt] per sample (only used for the peak targets).
            Array(x.scalars[(b * subcarriers * 2 * antennas * antennas)..<((b + 1) * subcarriers * 2 * antennas * antennas)])
        }, labels: labels, receiveCount: antennas, transmitCount: antennas, toneCount: subcarriers)
        let t = BatchTargets(samples: set, indices: Array(0..<batch), tones: tones, config: cfg)
        let spec = LossSpec(objective: .physics, weights: LossWeights(), classification: true, localization: true, config: cfg)
        var times: [Double] = [], cpu: [Double] = [], losses: [Float] = []
        for i in 0..<(warmup + steps) {
            let c0 = processCPUSeconds()
            let t0 = DispatchTime.now().uptimeNanoseconds
            let (l, g) = valueWithGradient(at: model) { m in jointLoss(m(x, samples: batch, toneIndices: tones, training: true), targets: t, spec: spec, classes: 2) }
            opt.update(&model, along: g)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            if i >= warmup { times.append(dt); cpu.append((processCPUSeconds() - c0) * 1000) }
            losses.append(l.scalar)
            progress?(i + 1, warmup + steps)
        }
        let s = times.sorted()
        let median = s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
        return LearningBenchmarkResult(
            model: "JointNetwork (dual branch + CTA, paper size, physics loss)",
            input_shape: [batch * subcarriers, 2, antennas, antennas], batch: batch, antennas: antennas,
            subcarriers: subcarriers, parameters: model.parameterCount, steps: steps, warmup: warmup,
            step_ms_median: median, step_ms_mean: times.reduce(0, +) / Double(times.count),
            cpu_ms_per_step_median: cpu.sorted()[cpu.count / 2],
            samples_per_s: Double(batch) / (median / 1000),
            loss_first: Double(losses.first ?? .nan), loss_last: Double(losses.last ?? .nan),
            threads: LearningThreads.count)
    }
}
