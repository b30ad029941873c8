import _Differentiation
import Foundation
import Learning
import Linalg
import Numerics

// Neural-network-based learning (NNBL) baseline of the multi-target ISAC paper (Appendix A):
// an MLP precoder f_ε and three residual-bottleneck CNNs on the angle-delay map |𝓛| —
// detection f_ζ, angle and range (together f_ξ).

/// `--complexity`: the paper's unconstrained network or its "limited complexity" variant (App. A-B).
public enum NNBLComplexity: String, Sendable, CaseIterable {
    case full, limited
    /// Parses the CLI value; throws `invalidParameter(--complexity)` otherwise.
    public init(parsing s: String) throws {
        guard let c = NNBLComplexity(rawValue: s) else {
            throw ISACError.invalidParameter(name: "--complexity", value: s, valid: "must be full or limited")
        }
        self = c
    }
}

/// Sizes of the NNBL networks (paper App. A-B, Tables I–II).
///
/// Full: precoder MLP 2 → 8K → 8K → 8K → 2K; CNN conv 5×5 (1 → 8) + BN + ReLU, max-pool 2×2, residual
/// bottleneck blocks 8→16 (stride 1), 16→32, 32→64, 64→128, 128→256, 256→512 (stride 2), conv 3×3 (512 → 1) + BN +
/// ReLU, then an MLP (features + prior) → 4K → 4K → T_max.
/// Limited: precoder hidden width 4, max-pool 4×4, 3 blocks, channels ÷ 4 (2 → 4 → 8 → 16), head hidden width 4.
public struct NNBLArchitecture: Sendable, Equatable {
    /// K, antennas (precoder output 2K reals).
    public var antennas: Int
    /// T_max, outputs per receiver head.
    public var maxTargets: Int
    /// Angle-delay map size fed to the CNNs: N_θ (rows, angle) × N_τ (columns, delay). Paper: 320 × 128.
    public var mapAngles: Int
    public var mapDelays: Int
    /// Hidden width and number of hidden layers of the precoder MLP.
    public var precoderHidden: Int
    public var precoderLayers = 3
    /// Stem conv (5×5) output channels and max-pool kernel.
    public var stemChannels: Int
    public var poolKernel: Int
    /// Output channels and strides of the residual bottleneck blocks (at most 6).
    public var blockChannels: [Int]
    public var blockStrides: [Int]
    /// Hidden width of the two hidden layers of each head MLP (Table II: 4K).
    public var headHidden: Int

    /// The paper's architecture for `complexity` (map size is a free choice; the paper uses 320 × 128).
    public static func paper(_ complexity: NNBLComplexity, antennas: Int, maxTargets: Int, mapAngles: Int = 320,
                             mapDelays: Int = 128) throws -> NNBLArchitecture {
        let a: NNBLArchitecture
        switch complexity {
        case .full:
            a = NNBLArchitecture(antennas: antennas, maxTargets: maxTargets, mapAngles: mapAngles, mapDelays: mapDelays,
                                 precoderHidden: 8 * antennas, stemChannels: 8, poolKernel: 2,
                                 blockChannels: [16, 32, 64, 128, 256, 512], blockStrides: [1, 2, 2, 2, 2, 2], headHidden: 4 * antennas)
        case .limited:
            a = NNBLArchitecture(antennas: antennas, maxTargets: maxTargets, mapAngles: mapAngles, mapDelays: mapDelays,
                                 precoderHidden: 4, stemChannels: 2, poolKernel: 4,
                                 blockChannels: [4, 8, 16], blockStrides: [1, 2, 2], headHidden: 4)
        }
        try a.validate()
        return a
    }

    /// Total down-sampling factor per map axis: pool · Π strides.
    public var downsampling: Int { poolKernel * blockStrides.reduce(1, *) }
    /// Feature map after the last conv: (N_θ / down) × (N_τ / down) (paper: N_θN_τ/2¹²).
    public var featureCount: Int { (mapAngles / downsampling) * (mapDelays / downsampling) }

    /// Throws `invalidParameter` naming the flag when a size is out of range or the map does not divide.
    public func validate() throws {
        try Check.positive(antennas, "--antennas")
        try Check.positive(maxTargets, "--targets-max")
        try Check.positive(precoderHidden, "precoderHidden")
        try Check.positive(precoderLayers, "precoderLayers")
        try Check.positive(stemChannels, "stemChannels")
        try Check.positive(poolKernel, "poolKernel")
        try Check.positive(headHidden, "headHidden")
        guard !blockChannels.isEmpty, blockChannels.count <= 6, blockChannels.count == blockStrides.count,
              blockChannels.allSatisfy({ $0 > 0 }), blockStrides.allSatisfy({ $0 == 1 || $0 == 2 }) else {
            throw ISACError.invalidParameter(name: "blockChannels", value: "\(blockChannels) strides \(blockStrides)",
                                             valid: "1...6 blocks, positive channels, strides 1 or 2")
        }
        let d = downsampling
        guard mapAngles >= d, mapDelays >= d, mapAngles % d == 0, mapDelays % d == 0 else {
            throw ISACError.invalidParameter(name: "--map-size", value: "\(mapAngles)x\(mapDelays)",
                                             valid: "both sides must be positive multiples of the down-sampling factor \(d)")
        }
    }

    /// Bottleneck width of a block with C channels: C/4 (ResNet bottleneck), at least 1.
    public static func bottleneckWidth(_ c: Int) -> Int { max(1, c / 4) }

    // Closed-form parameter counts (conv k×k: k²·C_in·C_out + C_out; BN: 2C; dense: in·out + out).
    static func conv(_ k: Int, _ i: Int, _ o: Int) -> Int { k * k * i * o + o }
    static func dense(_ i: Int, _ o: Int) -> Int { i * o + o }
    /// Parameters of one residual bottleneck block C_in → C_out.
    public static func blockParameterCount(_ cin: Int, _ cout: Int) -> Int {
        let m = bottleneckWidth(cout)
        return conv(3, cin, cout) + 2 * (conv(1, cout, m) + conv(3, m, m) + 2 * m + conv(1, m, cout))
    }
    /// Precoder MLP parameters: 2 → H (×layers) → 2K.
    public var precoderParameterCount: Int {
        Self.dense(2, precoderHidden) + (precoderLayers - 1) * Self.dense(precoderHidden, precoderHidden) + Self.dense(precoderHidden, 2 * antennas)
    }
    /// One receiver CNN + head with `priorInputs` a-priori inputs (2 for angle/range, 4 for detection).
    public func receiverParameterCount(priorInputs: Int) -> Int {
        var n = Self.conv(5, 1, stemChannels) + 2 * stemChannels
        var c = stemChannels
        for o in blockChannels { n += Self.blockParameterCount(c, o); c = o }
        n += Self.conv(3, c, 1) + 2
        n += Self.dense(featureCount + priorInputs, headHidden) + Self.dense(headHidden, headHidden) + Self.dense(headHidden, maxTargets)
        return n
    }
    /// ε + ζ + ξ (precoder, detection, angle, range).
    public var totalParameterCount: Int {
        precoderParameterCount + receiverParameterCount(priorInputs: 4) + 2 * receiverParameterCount(priorInputs: 2)
    }
}

/// Residual bottleneck block (paper Fig. 10, after ResNet with fewer activations/normalizations as in ConvNeXt):
///   h = conv3×3_stride(x)                      (C_in → C_out, padding 1)
///   y = h + W₃ ReLU(BN(W₂ W₁ h))               (W₁ 1×1 C→C/4, W₂ 3×3 C/4→C/4, W₃ 1×1 C/4→C)
///   z = y + (same with its own weights)(y)
///   out = h + z                                 (the long skip over both bottlenecks)
/// Shape: [B, C_in, H, W] → [B, C_out, ⌈H/s⌉, ⌈W/s⌉].
public struct ResidualBottleneckBlock: Layer {
    /// Strided 3×3 convolution h = conv3×3_stride(x), C_in → C_out.
    public var down: Conv2D
    /// First bottleneck: W₁ (1×1, C → C/4), W₂ (3×3, C/4 → C/4), its batch norm, W₃ (1×1, C/4 → C).
    public var reduce1: Conv2D, spatial1: Conv2D, norm1: BatchNorm2D, expand1: Conv2D
    /// Second bottleneck, same layout with its own weights.
    public var reduce2: Conv2D, spatial2: Conv2D, norm2: BatchNorm2D, expand2: Conv2D

    /// Random initialisation from `rng`; the bottleneck width C/4 comes from `NNBLArchitecture.bottleneckWidth`.
    public init(inChannels: Int, outChannels: Int, stride: Int, rng: inout RandomSource) {
        let m = NNBLArchitecture.bottleneckWidth(outChannels)
        down = Conv2D(inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride, padding: 1, rng: &rng)
        reduce1 = Conv2D(inChannels: outChannels, outChannels: m, kernel: 1, rng: &rng)
        spatial1 = Conv2D(inChannels: m, outChannels: m, kernel: 3, padding: 1, rng: &rng)
        norm1 = BatchNorm2D(channels: m)
        expand1 = Conv2D(inChannels: m, outChannels: outChannels, kernel: 1, rng: &rng)
        reduce2 = Conv2D(inChannels: outChannels, outChannels: m, kernel: 1, rng: &rng)
        spatial2 = Conv2D(inChannels: m, outChannels: m, kernel: 3, padding: 1, rng: &rng)
        norm2 = BatchNorm2D(channels: m)
        expand2 = Conv2D(inChannels: m, outChannels: outChannels, kernel: 1, rng: &rng)
    }

    /// out = h + z with h = down(x): [B, C_in, H, W] → [B, C_out, ⌈H/s⌉, ⌈W/s⌉].
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        let h = down(x)
        let y = h + expand1(norm1(spatial1(reduce1(h)), training: training).relu())
        let z = y + expand2(norm2(spatial2(reduce2(y)), training: training).relu())
        return h + z
    }

    /// Batch-norm buffers of `norm1` and `norm2`, keyed by layer name.
    public var statistics: [String: BatchNormStatistics] { ["norm1": norm1.statistics, "norm2": norm2.statistics] }

    /// Visits every trainable tensor with its parameter path under `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        down.forEachParameter(parameterPath(prefix, "down"), body)
        reduce1.forEachParameter(parameterPath(prefix, "reduce1"), body); spatial1.forEachParameter(parameterPath(prefix, "spatial1"), body)
        norm1.forEachParameter(parameterPath(prefix, "norm1"), body); expand1.forEachParameter(parameterPath(prefix, "expand1"), body)
        reduce2.forEachParameter(parameterPath(prefix, "reduce2"), body); spatial2.forEachParameter(parameterPath(prefix, "spatial2"), body)
        norm2.forEachParameter(parameterPath(prefix, "norm2"), body); expand2.forEachParameter(parameterPath(prefix, "expand2"), body)
    }
    /// Visits the tangent (gradient) tensors with the same paths as `forEachParameter(_:_:)`.
    public static func forEachParameter(in t: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        Conv2D.forEachParameter(in: &t.down, parameterPath(prefix, "down"), body)
        Conv2D.forEachParameter(in: &t.reduce1, parameterPath(prefix, "reduce1"), body)
        Conv2D.forEachParameter(in: &t.spatial1, parameterPath(prefix, "spatial1"), body)
        BatchNorm2D.forEachParameter(in: &t.norm1, parameterPath(prefix, "norm1"), body)
        Conv2D.forEachParameter(in: &t.expand1, parameterPath(prefix, "expand1"), body)
        Conv2D.forEachParameter(in: &t.reduce2, parameterPath(prefix, "reduce2"), body)
        Conv2D.forEachParameter(in: &t.spatial2, parameterPath(prefix, "spatial2"), body)
        BatchNorm2D.forEachParameter(in: &t.norm2, parameterPath(prefix, "norm2"), body)
        Conv2D.forEachParameter(in: &t.expand2, parameterPath(prefix, "expand2"), body)
    }
}

/// One NNBL receiver network (Table I + Table II): map [B, 1, N_θ, N_τ] and prior [B, P] → raw outputs [B, T_max]
/// (the task's output activation is applied by the caller).
///
/// Six block slots are always allocated (`blockCount` are used; the unused ones are 1-channel placeholders that
/// are neither enumerated, saved nor counted) because fixed stored properties differentiate reliably where
/// arrays of layers do not.
public struct NNBLReceiver: Layer {
    /// Stem: 5×5 convolution (1 → stem channels, padding 2) and its batch norm.
    public var stem: Conv2D, stemNorm: BatchNorm2D
    /// Residual blocks 1–3 (slots beyond `blockCount` are 1-channel placeholders).
    public var b1: ResidualBottleneckBlock, b2: ResidualBottleneckBlock, b3: ResidualBottleneckBlock
    /// Residual blocks 4–6 (slots beyond `blockCount` are 1-channel placeholders).
    public var b4: ResidualBottleneckBlock, b5: ResidualBottleneckBlock, b6: ResidualBottleneckBlock
    /// Final 3×3 convolution to one channel and its batch norm.
    public var last: Conv2D, lastNorm: BatchNorm2D
    /// Head MLP: features + prior → hidden → hidden → T_max.
    public var fc1: Dense, fc2: Dense, fc3: Dense
    /// Number of residual blocks in use (`blockChannels.count`, at most 6).
    @noDerivative public var blockCount: Int
    /// Max-pool kernel applied after the stem.
    @noDerivative public var poolKernel: Int

    /// Random initialisation from `rng` for architecture `a`, with `priorInputs` prior values P appended to the features.
    public init(_ a: NNBLArchitecture, priorInputs: Int, rng: inout RandomSource) {
        stem = Conv2D(inChannels: 1, outChannels: a.stemChannels, kernel: 5, padding: 2, rng: &rng)
        stemNorm = BatchNorm2D(channels: a.stemChannels)
        var blocks: [ResidualBottleneckBlock] = []
        var c = a.stemChannels
        for i in 0..<6 {
            if i < a.blockChannels.count {
                blocks.append(ResidualBottleneckBlock(inChannels: c, outChannels: a.blockChannels[i], stride: a.blockStrides[i], rng: &rng))
                c = a.blockChannels[i]
            } else {
                blocks.append(ResidualBottleneckBlock(inChannels: 1, outChannels: 1, stride: 1, rng: &rng))
            }
        }
        b1 = blocks[0]; b2 = blocks[1]; b3 = blocks[2]; b4 = blocks[3]; b5 = blocks[4]; b6 = blocks[5]
        last = Conv2D(inChannels: c, outChannels: 1, kernel: 3, padding: 1, rng: &rng)
        lastNorm = BatchNorm2D(channels: 1)
        fc1 = Dense(inputSize: a.featureCount + priorInputs, outputSize: a.headHidden, rng: &rng)
        fc2 = Dense(inputSize: a.headHidden, outputSize: a.headHidden, rng: &rng)
        fc3 = Dense(inputSize: a.headHidden, outputSize: a.maxTargets, rng: &rng)
        blockCount = a.blockChannels.count
        poolKernel = a.poolKernel
    }

    /// Convolutional trunk: [B, 1, N_θ, N_τ] → [B, 1, N_θ/down, N_τ/down].
    @differentiable(reverse)
    public func features(_ x: Tensor, training: Bool) -> Tensor {
        var h = maxPool2d(stemNorm(stem(x), training: training).relu(), kernel: poolKernel)
        h = b1(h, training: training)
        if blockCount > 1 { h = b2(h, training: training) }
        if blockCount > 2 { h = b3(h, training: training) }
        if blockCount > 3 { h = b4(h, training: training) }
        if blockCount > 4 { h = b5(h, training: training) }
        if blockCount > 5 { h = b6(h, training: training) }
        return lastNorm(last(h), training: training).relu()
    }

    /// Raw outputs [B, T_max] for map [B, 1, N_θ, N_τ] and prior [B, P].
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor, prior: Tensor, training: Bool) -> Tensor {
        let f = features(x, training: training)
        let n = withoutDerivative(at: f).shape[0]
        let flat = f.reshaped([n, -1])
        return fc3(fc2(fc1(concat(flat, prior, axis: 1)).relu()).relu())
    }

    private var activeBlocks: [(String, ResidualBottleneckBlock)] {
        Array([("b1", b1), ("b2", b2), ("b3", b3), ("b4", b4), ("b5", b5), ("b6", b6)].prefix(blockCount))
    }

    /// Batch-norm buffers by parameter path (for checkpoints).
    public func statistics(prefix: String) -> [String: BatchNormStatistics] {
        var s = [parameterPath(prefix, "stemNorm"): stemNorm.statistics, parameterPath(prefix, "lastNorm"): lastNorm.statistics]
        for (name, b) in activeBlocks { for (k, v) in b.statistics { s[parameterPath(parameterPath(prefix, name), k)] = v } }
        return s
    }

    /// Visits every trainable tensor of the used layers with its parameter path under `prefix` (placeholder blocks skipped).
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        stem.forEachParameter(parameterPath(prefix, "stem"), body); stemNorm.forEachParameter(parameterPath(prefix, "stemNorm"), body)
        if blockCount > 0 { b1.forEachParameter(parameterPath(prefix, "b1"), body) }
        if blockCount > 1 { b2.forEachParameter(parameterPath(prefix, "b2"), body) }
        if blockCount > 2 { b3.forEachParameter(parameterPath(prefix, "b3"), body) }
        if blockCount > 3 { b4.forEachParameter(parameterPath(prefix, "b4"), body) }
        if blockCount > 4 { b5.forEachParameter(parameterPath(prefix, "b5"), body) }
        if blockCount > 5 { b6.forEachParameter(parameterPath(prefix, "b6"), body) }
        last.forEachParameter(parameterPath(prefix, "last"), body); lastNorm.forEachParameter(parameterPath(prefix, "lastNorm"), body)
        fc1.forEachParameter(parameterPath(prefix, "fc1"), body); fc2.forEachParameter(parameterPath(prefix, "fc2"), body)
        fc3.forEachParameter(parameterPath(prefix, "fc3"), body)
    }
    /// Visits every slot (the optimizer looks gradients up by the model's paths, so the extra
    /// placeholder entries are simply never read).
    public static func forEachParameter(in t: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        Conv2D.forEachParameter(in: &t.stem, parameterPath(prefix, "stem"), body)
        BatchNorm2D.forEachParameter(in: &t.stemNorm, parameterPath(prefix, "stemNorm"), body)
        ResidualBottleneckBlock.forEachParameter(in: &t.b1, parameterPath(prefix, "b1"), body)
        ResidualBottleneckBlock.forEachParameter(in: &t.b2, parameterPath(prefix, "b2"), body)
        ResidualBottleneckBlock.forEachParameter(in: &t.b3, parameterPath(prefix, "b3"), body)
        ResidualBottleneckBlock.forEachParameter(in: &t.b4, parameterPath(prefix, "b4"), body)
        ResidualBottleneckBlock.forEachParameter(in: &t.b5, parameterPath(prefix, "b5"), body)
        ResidualBottleneckBlock.forEachParameter(in: &t.b6, parameterPath(prefix, "b6"), body)
        Conv2D.forEachParameter(in: &t.last, parameterPath(prefix, "last"), body)
        BatchNorm2D.forEachParameter(in: &t.lastNorm, parameterPath(prefix, "lastNorm"), body)
        Dense.forEachParameter(in: &t.fc1, parameterPath(prefix, "fc1"), body)
        Dense.forEachParameter(in: &t.fc2, parameterPath(prefix, "fc2"), body)
        Dense.forEachParameter(in: &t.fc3, parameterPath(prefix, "fc3"), body)
    }
}

/// Precoder MLP f_ε: sector {lower, upper} (radians) [B, 2] → unit-norm precoder [B, 2K] as (Re f, Im f)
/// concatenated ([:, 0..<K] real, [:, K..<2K] imaginary), ‖f‖₂ = 1 per row. ReLU after each hidden layer.
public struct NNBLPrecoder: Layer {
    /// Three hidden dense layers (width `precoderHidden`) and the output layer (2K).
    public var fc1: Dense, fc2: Dense, fc3: Dense, out: Dense

    /// Random initialisation from `rng` for architecture `a`.
    public init(_ a: NNBLArchitecture, rng: inout RandomSource) {
        fc1 = Dense(inputSize: 2, outputSize: a.precoderHidden, rng: &rng)
        fc2 = Dense(inputSize: a.precoderHidden, outputSize: a.precoderHidden, rng: &rng)
        fc3 = Dense(inputSize: a.precoderHidden, outputSize: a.precoderHidden, rng: &rng)
        out = Dense(inputSize: a.precoderHidden, outputSize: 2 * a.antennas, rng: &rng)
    }

    /// Sector [B, 2] (radians) → unit-norm precoder [B, 2K] (Re f, Im f).
    @differentiable(reverse)
    public func callAsFunction(_ sector: Tensor) -> Tensor {
        let f = out(fc3(fc2(fc1(sector).relu()).relu()).relu())
        return f / (f.squared().sum(axes: [1], keepDims: true) + 1e-12).sqrt()
    }

    /// Visits every trainable tensor with its parameter path under `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        fc1.forEachParameter(parameterPath(prefix, "fc1"), body); fc2.forEachParameter(parameterPath(prefix, "fc2"), body)
        fc3.forEachParameter(parameterPath(prefix, "fc3"), body); out.forEachParameter(parameterPath(prefix, "out"), body)
    }
    /// Visits the tangent (gradient) tensors with the same paths as `forEachParameter(_:_:)`.
    public static func forEachParameter(in t: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        Dense.forEachParameter(in: &t.fc1, parameterPath(prefix, "fc1"), body)
        Dense.forEachParameter(in: &t.fc2, parameterPath(prefix, "fc2"), body)
        Dense.forEachParameter(in: &t.fc3, parameterPath(prefix, "fc3"), body)
        Dense.forEachParameter(in: &t.out, parameterPath(prefix, "out"), body)
    }
}

/// All NNBL networks: ε (precoder), ζ (detection), ξ = (angle, range).
///
/// Output conventions: angle θ̂ = (π/2)·tanh(·) rad (paper: tanh·90°); range R̂ = `rangeScaleMeters`·ReLU(·) m;
/// detection û = sigmoid(·). Prior inputs: angle net {θ_min, θ_max} (rad), range net {R_min, R_max}/100 m,
/// detection net both (4 values).
public struct NNBLModel: Layer {
    /// Precoder network ε.
    public var precoder: NNBLPrecoder
    /// Detection receiver ζ (4 prior inputs).
    public var detection: NNBLReceiver
    /// Angle receiver ξ_θ (2 prior inputs).
    public var angle: NNBLReceiver
    /// Range receiver ξ_R (2 prior inputs).
    public var range: NNBLReceiver
    /// Architecture the networks were built with.
    @noDerivative public var architecture: NNBLArchitecture
    /// Range output scale: R̂ = `rangeScaleMeters`·ReLU(·), metres.
    @noDerivative public var rangeScaleMeters: Float = 100

    /// Deterministic initialisation from `seed`.
    public init(_ a: NNBLArchitecture, seed: UInt64) throws {
        try a.validate()
        var rng = RandomSource(seed: seed, stream: 0)
        precoder = NNBLPrecoder(a, rng: &rng)
        detection = NNBLReceiver(a, priorInputs: 4, rng: &rng)
        angle = NNBLReceiver(a, priorInputs: 2, rng: &rng)
        range = NNBLReceiver(a, priorInputs: 2, rng: &rng)
        architecture = a
    }

    /// Angle estimates θ̂ = (π/2)·tanh(·), radians, [B, T_max].
    @differentiable(reverse)
    public func angles(_ map: Tensor, prior: Tensor, training: Bool) -> Tensor {
        angle(map, prior: prior, training: training).tanh() * Float(Double.pi / 2)
    }
    /// Sets the range head's output bias b (zero by default), so R̂ = `rangeScaleMeters`·ReLU(w·h + b) starts near
    /// b·`rangeScaleMeters`. With T_max = 1 there is a single range unit: if it starts negative for every input
    /// (seed 1: R̂ ≡ 0, MSE stuck at E[R²] ≈ 12 700 m² for 300 steps) the ReLU passes no gradient and never recovers.
    public mutating func setRangeOutputBias(_ b: Float) {
        range.fc3.bias = Tensor(shape: range.fc3.bias.shape, scalars: [Float](repeating: b, count: range.fc3.bias.count))
    }
    /// Range estimates R̂ = `rangeScaleMeters`·ReLU(·), metres, [B, T_max].
    @differentiable(reverse)
    public func ranges(_ map: Tensor, prior: Tensor, training: Bool) -> Tensor {
        range(map, prior: prior, training: training).relu() * rangeScaleMeters
    }
    /// Raw detection logits [B, T_max] (û = sigmoid of them).
    @differentiable(reverse)
    public func detectionLogits(_ map: Tensor, prior: Tensor, training: Bool) -> Tensor {
        detection(map, prior: prior, training: training)
    }

    /// Batch-norm buffers of all receivers by path (checkpoints).
    public var statistics: [String: BatchNormStatistics] {
        detection.statistics(prefix: "detection").merging(angle.statistics(prefix: "angle")) { a, _ in a }
            .merging(range.statistics(prefix: "range")) { a, _ in a }
    }

    /// Visits every trainable tensor of all four networks with its parameter path under `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        precoder.forEachParameter(parameterPath(prefix, "precoder"), body)
        detection.forEachParameter(parameterPath(prefix, "detection"), body)
        angle.forEachParameter(parameterPath(prefix, "angle"), body)
        range.forEachParameter(parameterPath(prefix, "range"), body)
    }
    /// Visits the tangent (gradient) tensors with the same paths as `forEachParameter(_:_:)`.
    public static func forEachParameter(in t: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        NNBLPrecoder.forEachParameter(in: &t.precoder, parameterPath(prefix, "precoder"), body)
        NNBLReceiver.forEachParameter(in: &t.detection, parameterPath(prefix, "detection"), body)
        NNBLReceiver.forEachParameter(in: &t.angle, parameterPath(prefix, "angle"), body)
        NNBLReceiver.forEachParameter(in: &t.range, parameterPath(prefix, "range"), body)
    }

    /// Saves parameters and BN buffers to `path` (.npz, atomic).
    public func save(to path: String) throws { try Checkpoint.save(self, to: path, statistics: statistics) }
    /// Loads a checkpoint written by `save` into a model of the same architecture.
    public static func load(_ a: NNBLArchitecture, from path: String) throws -> NNBLModel {
        var m = try NNBLModel(a, seed: 0)
        // Fresh statistics boxes (the placeholder init shares nothing with other models).
        let stats = m.statistics
        try Checkpoint.load(into: &m, from: path, statistics: stats)
        return m
    }
}
