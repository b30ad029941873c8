import _Differentiation
import Foundation
import Linalg

/// The conv + attention network used for the training-throughput benchmark, sized after the
/// extended-target recognition network (one branch of it):
///
///   input [B, 2K, N_r, N_t]  (real/imaginary × K subcarriers stacked as channels)
///   → 3 × (conv 3×3 pad 1 → BatchNorm → ReLU), 2×2 max-pool after blocks 1 and 2
///     (channels 2K → c₁ → c₂ → D)
///   → tokens [B, L = (N_r/4)(N_t/4), D] + learned positional embedding [L, D]
///   → 2 pre-norm transformer blocks (4 heads, GELU FFN of width 2D)
///   → mean over tokens → Dense(D → classes), softmax cross-entropy.
///
/// `bench/learning/torch_bench.py` builds the identical network in PyTorch.
public struct ConvAttentionNet: Layer {
    /// First conv block: 3×3 convolution and its batch norm (2K → c₁ channels).
    public var conv1: Conv2D, bn1: BatchNorm2D
    /// Second conv block (c₁ → c₂ channels).
    public var conv2: Conv2D, bn2: BatchNorm2D
    /// Third conv block (c₂ → D channels).
    public var conv3: Conv2D, bn3: BatchNorm2D
    /// Learned positional embedding [L, D].
    public var position: LearnedTensor
    /// First pre-norm transformer block.
    public var block1: TransformerEncoderBlock
    /// Second pre-norm transformer block.
    public var block2: TransformerEncoderBlock
    /// Classifier Dense(D → classes) on the token mean.
    public var head: Dense

    /// - Parameters: `inputChannels` = 2K; `height`, `width` = N_r, N_t (multiples of 4);
    ///   `channels` = (c₁, c₂); `modelSize` = D (divisible by `heads`).
    public init(inputChannels: Int, height: Int, width: Int, channels: (Int, Int) = (32, 64), modelSize: Int = 64,
                heads: Int = 4, classes: Int = 2, seed: UInt64) throws {
        try Check.positive(inputChannels, "input-channels")
        guard height >= 4, width >= 4, height % 4 == 0, width % 4 == 0 else {
            throw ISACError.invalidParameter(name: "antennas", value: "\(height)×\(width)", valid: "must be multiples of 4, at least 4")
        }
        var rng = RandomSource(seed: seed)
        conv1 = Conv2D(inChannels: inputChannels, outChannels: channels.0, kernel: 3, padding: 1, rng: &rng)
        bn1 = BatchNorm2D(channels: channels.0)
        conv2 = Conv2D(inChannels: channels.0, outChannels: channels.1, kernel: 3, padding: 1, rng: &rng)
        bn2 = BatchNorm2D(channels: channels.1)
        conv3 = Conv2D(inChannels: channels.1, outChannels: modelSize, kernel: 3, padding: 1, rng: &rng)
        bn3 = BatchNorm2D(channels: modelSize)
        position = LearnedTensor(Tensor.randomNormal([(height / 4) * (width / 4), modelSize], std: 0.02, rng: &rng))
        block1 = try TransformerEncoderBlock(modelSize: modelSize, heads: heads, ffnSize: 2 * modelSize, rng: &rng)
        block2 = try TransformerEncoderBlock(modelSize: modelSize, heads: heads, ffnSize: 2 * modelSize, rng: &rng)
        head = Dense(inputSize: modelSize, outputSize: classes, rng: &rng)
    }

    /// Logits `[B, classes]` for input `[B, 2K, N_r, N_t]`. The `wrt: self` form is what training uses: the input is
    /// data, so the first convolution skips its input gradient.
    @differentiable(reverse)
    @differentiable(reverse, wrt: self)
    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        var h = maxPool2d(bn1(conv1(x), training: training).relu(), kernel: 2)
        h = maxPool2d(bn2(conv2(h), training: training).relu(), kernel: 2)
        h = bn3(conv3(h), training: training).relu()
        let s = withoutDerivative(at: h).shape  // [B, D, H/4, W/4]
        var t = h.reshaped([s[0], s[1], s[2] * s[3]]).permuted([0, 2, 1]) + position.value
        t = block2(block1(t))
        return head(t.mean(axes: [1]))
    }

    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        conv1.forEachParameter(parameterPath(prefix, "conv1"), body); bn1.forEachParameter(parameterPath(prefix, "bn1"), body)
        conv2.forEachParameter(parameterPath(prefix, "conv2"), body); bn2.forEachParameter(parameterPath(prefix, "bn2"), body)
        conv3.forEachParameter(parameterPath(prefix, "conv3"), body); bn3.forEachParameter(parameterPath(prefix, "bn3"), body)
        position.forEachParameter(parameterPath(prefix, "position"), body)
        block1.forEachParameter(parameterPath(prefix, "block1"), body)
        block2.forEachParameter(parameterPath(prefix, "block2"), body)
        head.forEachParameter(parameterPath(prefix, "head"), body)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in t: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        Conv2D.forEachParameter(in: &t.conv1, parameterPath(prefix, "conv1"), body)
        BatchNorm2D.forEachParameter(in: &t.bn1, parameterPath(prefix, "bn1"), body)
        Conv2D.forEachParameter(in: &t.conv2, parameterPath(prefix, "conv2"), body)
        BatchNorm2D.forEachParameter(in: &t.bn2, parameterPath(prefix, "bn2"), body)
        Conv2D.forEachParameter(in: &t.conv3, parameterPath(prefix, "conv3"), body)
        BatchNorm2D.forEachParameter(in: &t.bn3, parameterPath(prefix, "bn3"), body)
        LearnedTensor.forEachParameter(in: &t.position, parameterPath(prefix, "position"), body)
        TransformerEncoderBlock.forEachParameter(in: &t.block1, parameterPath(prefix, "block1"), body)
        TransformerEncoderBlock.forEachParameter(in: &t.block2, parameterPath(prefix, "block2"), body)
        Dense.forEachParameter(in: &t.head, parameterPath(prefix, "head"), body)
    }
}

/// CPU time of this process (all threads, user + system), seconds: on a shared machine the wall time of a
/// step mostly measures the scheduler, so the benchmarks also report CPU time per step.
public func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// One training-step benchmark's summary (`isac bench learning --json`; JSON keys as the field names). Times in
/// ms, throughput in samples/s; `model_size` and `tokens` only for `ConvAttentionNet`.
public struct LearningBenchmarkResult: Codable, Sendable {
    /// Human-readable architecture.
    public var model: String
    /// The network's input tensor shape, [batch, channels, N_r, N_t].
    public var input_shape: [Int]
    public var batch: Int, antennas: Int, subcarriers: Int
    public var model_size: Int?
    /// Transformer tokens (N_r/4)·(N_t/4).
    public var tokens: Int?
    public var parameters: Int
    /// Timed and untimed (warm-up) steps.
    public var steps: Int, warmup: Int
    /// Wall time per timed step, ms (median, mean), and process CPU time per step, ms (median).
    public var step_ms_median: Double, step_ms_mean: Double, cpu_ms_per_step_median: Double
    /// batch / median step time.
    public var samples_per_s: Double
    /// Training loss of the first and the last step (warm-up included).
    public var loss_first: Double, loss_last: Double
    /// Worker threads of the learning kernels.
    public var threads: Int
    /// The convolution kernels used (`ConvolutionBackend`: "onednn" or "im2col") and, for oneDNN, its version.
    public var conv_backend: String = ConvolutionBackend.current.rawValue
        + (ConvolutionBackend.current == .onednn ? " (\(ConvolutionBackend.oneDNNDescription))" : "")

    /// Memberwise initializer.
    public init(model: String, input_shape: [Int], batch: Int, antennas: Int, subcarriers: Int, model_size: Int? = nil,
                tokens: Int? = nil, parameters: Int, steps: Int, warmup: Int, step_ms_median: Double, step_ms_mean: Double,
                cpu_ms_per_step_median: Double, samples_per_s: Double, loss_first: Double, loss_last: Double, threads: Int) {
        self.model = model; self.input_shape = input_shape; self.batch = batch; self.antennas = antennas
        self.subcarriers = subcarriers; self.model_size = model_size; self.tokens = tokens; self.parameters = parameters
        self.steps = steps; self.warmup = warmup; self.step_ms_median = step_ms_median; self.step_ms_mean = step_ms_mean
        self.cpu_ms_per_step_median = cpu_ms_per_step_median; self.samples_per_s = samples_per_s
        self.loss_first = loss_first; self.loss_last = loss_last; self.threads = threads
    }
}

/// Training-step throughput benchmark (forward + backward + AdamW step) of `ConvAttentionNet`.
public enum LearningBenchmark {
    /// Runs `warmup` untimed then `steps` timed training steps on random data (seeded) and returns
    /// its summary (`LearningBenchmarkResult`, JSON-ready through `ResultJSON`): `samples_per_s`, `step_ms_median`, `step_ms_mean`, the configuration,
    /// `parameters` and the first/last loss. Paper default: batch 16, N_r = N_t = 64, K = 16.
    /// - Throws: `ISACError.invalidParameter` for non-positive sizes.
    public static func run(batch: Int = 16, antennas: Int = 64, subcarriers: Int = 16, modelSize: Int = 64,
                           steps: Int = 10, warmup: Int = 2, seed: UInt64 = 42,
                           progress: ((Int, Int) -> Void)? = nil) throws -> LearningBenchmarkResult {
        try Check.positive(batch, "batch")
        try Check.positive(subcarriers, "subcarriers")
        try Check.positive(steps, "steps")
        try Check.nonNegative(warmup, "warmup")
        var model = try ConvAttentionNet(inputChannels: 2 * subcarriers, height: antennas, width: antennas,
                                         modelSize: modelSize, seed: seed)
        var opt = try AdamW(learningRate: 2e-4, weightDecay: 0.01)
        var rng = RandomSource(seed: seed, stream: 1)
        let x = Tensor.randomNormal([batch, 2 * subcarriers, antennas, antennas], rng: &rng)
        let labels = (0..<batch).map { $0 % 2 }
        var times: [Double] = [], cpu: [Double] = []
        var losses: [Float] = []
        for i in 0..<(warmup + steps) {
            let c0 = processCPUSeconds()
            let t0 = DispatchTime.now().uptimeNanoseconds
            let (loss, g) = valueWithGradient(at: model) { m in softmaxCrossEntropy(logits: m(x, training: true), labels: labels) }
            opt.update(&model, along: g)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            if i >= warmup { times.append(dt); cpu.append((processCPUSeconds() - c0) * 1000) }
            losses.append(loss.scalar)
            progress?(i + 1, warmup + steps)
        }
        let sorted = times.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : 0.5 * (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2])
        let mean = times.reduce(0, +) / Double(times.count)
        return LearningBenchmarkResult(
            model: "ConvAttentionNet (3 conv-BN-ReLU blocks, 2 transformer blocks, 4 heads)",
            input_shape: [batch, 2 * subcarriers, antennas, antennas],
            batch: batch, antennas: antennas, subcarriers: subcarriers, model_size: modelSize,
            tokens: (antennas / 4) * (antennas / 4),
            parameters: model.parameterCount,
            steps: steps, warmup: warmup,
            step_ms_median: median, step_ms_mean: mean,
            cpu_ms_per_step_median: cpu.sorted()[cpu.count / 2],
            samples_per_s: Double(batch) / (median / 1000),
            loss_first: Double(losses.first ?? .nan), loss_last: Double(losses.last ?? .nan),
            threads: learningWorkers)
    }
}
