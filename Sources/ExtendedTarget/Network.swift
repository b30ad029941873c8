import _Differentiation
import Foundation
import Learning
import Linalg

/// Input preprocessing of a channel tensor H_s (see `SampleSet.batch`); part of `ModelConfig`, so a
/// saved model is always fed the way it was trained.
public struct InputPreprocessing: Codable, Sendable, Equatable {
    /// How a sample's channel values are scaled before they enter the network.
    public enum Normalization: String, Codable, Sendable, CaseIterable {
        /// Inputs as stored (the dataset loader divides by one training-split RMS); 2 channels (Re, Im).
        case global
        /// Each sample at unit RMS plus a standardized log-amplitude channel; 3 channels.
        case perSample = "per-sample"
    }
    /// Scaling scheme of the input (`global` or `per-sample`).
    public var normalization: Normalization
    /// Rotate each sample by the conjugate phase of its strongest entry on the first selected tone.
    public var phaseReference: Bool
    /// Standardization (μ, σ) of ln ρ for the amplitude channel (training-split statistics).
    public var logAmplitudeMean: Float, logAmplitudeStd: Float
    public var channels: Int { normalization == .perSample ? 3 : 2 }

    /// Creates the preprocessing; `phaseReference` defaults to on for `.perSample` and off for `.global`.
    public init(normalization: Normalization = .perSample, phaseReference: Bool? = nil,
                logAmplitudeMean: Float = 0, logAmplitudeStd: Float = 1) {
        self.normalization = normalization
        self.phaseReference = phaseReference ?? (normalization == .perSample)
        self.logAmplitudeMean = logAmplitudeMean; self.logAmplitudeStd = logAmplitudeStd
    }
}

/// Which joint-learning architecture a `JointNetwork` instantiates (Table II rows).
public enum Architecture: String, Codable, Sendable, CaseIterable {
    /// Proposed: semantic + geometric branches, optional cross-task attention (eqs. 28–33).
    case dualBranch
    /// Shared-MTL [26]: one encoder feeds both task heads (hard parameter sharing).
    case sharedMTL
    /// Cross-Stitch [27]: two branches whose features are linearly mixed by a cross-stitch unit after every
    /// block (3 conv blocks + 2 transformer blocks), as Misra et al. place one after every pooling/FC layer.
    case crossStitch
    /// Single-task classification: one branch, classification head only.
    case singleClassification
    /// Single-task localization: one branch, range/azimuth heads only.
    case singleLocalization

    /// True when the architecture has a classification head in use (all but `.singleLocalization`).
    public var classifies: Bool { self != .singleLocalization }
    /// True when the architecture has range/azimuth heads in use (all but `.singleClassification`).
    public var localizes: Bool { self != .singleClassification }
}

/// Sizes of the network. `paper` values follow Sec. III-A where stated (3 conv blocks, 2 max-pools,
/// 2 encoder blocks, 4 heads, FFN 2·d_f); the channel counts, token grid and d_f are not given in the
/// paper and are our choices (documented in docs/extended-target.md).
public struct NetworkSize: Codable, Sendable, Equatable {
    /// Output channels of the three conv blocks.
    public var channels: [Int]
    /// Each subcarrier's reduced feature map is average-pooled to `tokenGrid × tokenGrid` tokens.
    public var tokenGrid: Int
    /// Token dimension d_f (FFN width 2·d_f).
    public var modelSize: Int
    public var heads: Int
    /// Task embedding size d of eq. (33).
    public var embedSize: Int

    /// Validated sizes; throws `ISACError.invalidParameter` unless there are three positive conv widths, all sizes
    /// are positive and `modelSize` is divisible by `heads`.
    public init(channels: [Int], tokenGrid: Int, modelSize: Int, heads: Int = 4, embedSize: Int) throws {
        guard channels.count == 3, channels.allSatisfy({ $0 > 0 }) else {
            throw ISACError.invalidParameter(name: "channels", value: "\(channels)", valid: "three positive conv widths")
        }
        try Check.positive(tokenGrid, "tokenGrid"); try Check.positive(modelSize, "--model-size")
        try Check.positive(heads, "heads"); try Check.positive(embedSize, "embedSize")
        guard modelSize % heads == 0 else {
            throw ISACError.invalidParameter(name: "--model-size", value: "\(modelSize)", valid: "must be divisible by heads = \(heads)")
        }
        self.channels = channels; self.tokenGrid = tokenGrid; self.modelSize = modelSize
        self.heads = heads; self.embedSize = embedSize
    }
    /// Small network for quick runs: conv widths [8, 16, 16], 2 × 2 token grid, d_f = 32, 4 heads, d = 32.
    public static let small = try! NetworkSize(channels: [8, 16, 16], tokenGrid: 2, modelSize: 32, heads: 4, embedSize: 32)
    /// Paper-scale network: conv widths [16, 32, 64], 4 × 4 token grid, d_f = 64, 4 heads, d = 64.
    public static let paper = try! NetworkSize(channels: [16, 32, 64], tokenGrid: 4, modelSize: 64, heads: 4, embedSize: 64)
}

/// Static description of a model (stored next to checkpoints).
public struct ModelConfig: Codable, Sendable, Equatable {
    /// Joint-learning architecture (Table II row).
    public var architecture: Architecture
    /// Cross-task attention on/off (only for `.dualBranch`).
    public var crossTaskAttention: Bool
    public var size: NetworkSize
    public var classes: Int
    /// Receive/transmit antennas (input height/width) and the number of available tones K (vocabulary
    /// of the subcarrier embedding).
    public var receiveCount: Int, transmitCount: Int, toneCount: Int
    /// Range normalization r = r_mid + r_half·z (m), from the dataset's range interval.
    public var rangeMidMeters: Double, rangeHalfMeters: Double
    /// Initial value of the learnable CTA / cross-stitch mixing coefficients ("initialised small").
    public var mixInit: Float
    /// How channel tensors become network inputs (normalization, phase reference, amplitude channel).
    public var input: InputPreprocessing

    /// Validated config; the range interval [rangeMinMeters, rangeMaxMeters] (m) is stored as mid-point and half-width.
    /// Throws `ISACError.invalidParameter` unless classes and tones are positive, both antenna counts are positive multiples of 4·tokenGrid and
    /// 0 ≤ rangeMin < rangeMax.
    public init(architecture: Architecture, crossTaskAttention: Bool = true, size: NetworkSize, classes: Int = 2,
                receiveCount: Int, transmitCount: Int, toneCount: Int, rangeMinMeters: Double = 5,
                rangeMaxMeters: Double = 50, mixInit: Float = 0.1,
                input: InputPreprocessing = InputPreprocessing()) throws {
        try Check.positive(classes, "classes"); try Check.positive(toneCount, "tones")
        let pool = 4 * size.tokenGrid
        for (n, v) in [("receive antennas", receiveCount), ("transmit antennas", transmitCount)] {
            guard v > 0, v % pool == 0 else {
                throw ISACError.invalidParameter(name: n, value: "\(v)", valid: "must be a positive multiple of 4·tokenGrid = \(pool) (two 2× max-pools, then a \(size.tokenGrid)×\(size.tokenGrid) token grid)")
            }
        }
        guard rangeMaxMeters > rangeMinMeters, rangeMinMeters >= 0 else {
            throw ISACError.invalidParameter(name: "range", value: "[\(rangeMinMeters), \(rangeMaxMeters)]", valid: "need 0 ≤ min < max")
        }
        self.architecture = architecture; self.crossTaskAttention = crossTaskAttention; self.size = size
        self.classes = classes; self.receiveCount = receiveCount; self.transmitCount = transmitCount
        self.toneCount = toneCount
        rangeMidMeters = (rangeMinMeters + rangeMaxMeters) / 2; rangeHalfMeters = (rangeMaxMeters - rangeMinMeters) / 2
        self.mixInit = mixInit
        self.input = input
    }

    /// Columns of the packed network output [N, C + 7]: logits (C), z_r, s_r, a_sin, a_cos, s_θ, u_1, u_2.
    public var outputWidth: Int { classes + 7 }
}

/// One task branch E(·) of eq. (28): three conv–BN–ReLU blocks with 2×2 max-pools after the first two,
/// per-subcarrier tokenization, learnable subcarrier (and token-position) embeddings, two pre-norm
/// transformer encoder blocks (4 heads, GELU FFN of width 2 d_f).
///
/// Input [N·Ks, 2, Nr, Nt]: every selected subcarrier's real/imag slice of H̃_s (eq. 17) is one 2-channel
/// image, processed with shared conv weights. Output tokens [N, Ks·P², d_f]: each tone's reduced map is
/// average-pooled to P × P, projected to d_f and tagged with the embedding of its absolute tone index k_m,
/// so the same weights serve every K_s.
public struct BranchEncoder: Layer {
    /// Block 1: 3 × 3 convolution (padding 1) and its batch norm.
    public var conv1: Conv2D, bn1: BatchNorm2D
    /// Block 2: 3 × 3 convolution (padding 1) and its batch norm, after a 2 × 2 max-pool.
    public var conv2: Conv2D, bn2: BatchNorm2D
    /// Block 3: 3 × 3 convolution (padding 1) and its batch norm, after a 2 × 2 max-pool.
    public var conv3: Conv2D, bn3: BatchNorm2D
    /// Linear projection of the pooled conv features (channels[2]) to the token dimension d_f.
    public var project: Dense
    /// Learnable subcarrier embedding, [K, d_f] (row k_m is added to the tokens of tone k_m).
    public var toneEmbedding: Tensor
    /// Learnable token-position embedding, [P², d_f].
    public var positionEmbedding: Tensor
    /// First pre-norm transformer encoder block.
    public var block1: TransformerEncoderBlock
    /// Second pre-norm transformer encoder block.
    public var block2: TransformerEncoderBlock
    /// Token grid side P (`NetworkSize.tokenGrid`).
    @noDerivative public var grid: Int

    /// Randomly initialised branch for `toneCount` tones and `inputChannels` input channels (2, or 3 with the
    /// log-amplitude channel); embeddings drawn from N(0, 0.02²).
    public init(size s: NetworkSize, toneCount: Int, inputChannels: Int = 2, rng: inout RandomSource) throws {
        conv1 = Conv2D(inChannels: inputChannels, outChannels: s.channels[0], kernel: 3, padding: 1, rng: &rng)
        conv2 = Conv2D(inChannels: s.channels[0], outChannels: s.channels[1], kernel: 3, padding: 1, rng: &rng)
        conv3 = Conv2D(inChannels: s.channels[1], outChannels: s.channels[2], kernel: 3, padding: 1, rng: &rng)
        bn1 = BatchNorm2D(channels: s.channels[0]); bn2 = BatchNorm2D(channels: s.channels[1]); bn3 = BatchNorm2D(channels: s.channels[2])
        project = Dense(inputSize: s.channels[2], outputSize: s.modelSize, rng: &rng)
        toneEmbedding = Tensor.randomNormal([toneCount, s.modelSize], std: 0.02, rng: &rng)
        positionEmbedding = Tensor.randomNormal([s.tokenGrid * s.tokenGrid, s.modelSize], std: 0.02, rng: &rng)
        block1 = try TransformerEncoderBlock(modelSize: s.modelSize, heads: s.heads, ffnSize: 2 * s.modelSize, rng: &rng)
        block2 = try TransformerEncoderBlock(modelSize: s.modelSize, heads: s.heads, ffnSize: 2 * s.modelSize, rng: &rng)
        grid = s.tokenGrid
    }

    /// Conv block 1: conv1 → BN → ReLU, [N·Ks, C_in, Nr, Nt] → [N·Ks, channels[0], Nr, Nt].
    @differentiable(reverse) public func stage1(_ x: Tensor, training: Bool) -> Tensor { bn1(conv1(x), training: training).relu() }
    /// Conv block 2: 2 × 2 max-pool → conv2 → BN → ReLU (halves height and width).
    @differentiable(reverse) public func stage2(_ x: Tensor, training: Bool) -> Tensor {
        bn2(conv2(maxPool2d(x, kernel: 2)), training: training).relu()
    }
    /// Conv block 3: 2 × 2 max-pool → conv3 → BN → ReLU (halves height and width).
    @differentiable(reverse) public func stage3(_ x: Tensor, training: Bool) -> Tensor {
        bn3(conv3(maxPool2d(x, kernel: 2)), training: training).relu()
    }

    /// [N·Ks, C, H, W] conv features → [N, Ks·P², d_f] tokens with subcarrier + position embeddings.
    @differentiable(reverse)
    public func tokens(_ f: Tensor, samples n: Int, toneIndices: [Int]) -> Tensor {
        let s = withoutDerivative(at: f).shape
        let ks = toneIndices.count, c = s[1], p = grid
        let pooled = f.reshaped([s[0], c, p, s[2] / p, p, s[3] / p]).mean(axes: [3, 5])     // [N·Ks, C, P, P]
        let t = pooled.reshaped([n, ks, c, p * p]).permuted([0, 1, 3, 2]).reshaped([n * ks * p * p, c])
        let d = withoutDerivative(at: toneEmbedding).shape[1]
        let proj = project(t).reshaped([n, ks, p * p, d])
        let e = toneEmbedding.gathering(toneIndices).reshaped([1, ks, 1, d])
        let pe = positionEmbedding.reshaped([1, 1, p * p, d])
        return (proj + e + pe).reshaped([n, ks * p * p, d])
    }

    /// The two transformer encoder blocks applied to tokens [N, L, d_f].
    @differentiable(reverse)
    public func encode(_ tokens: Tensor) -> Tensor { block2(block1(tokens)) }

    /// Full branch: input [N·Ks, 2, Nr, Nt] → tokens [N, L, d_f].
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor, samples n: Int, toneIndices: [Int], training: Bool) -> Tensor {
        let f = stage3(stage2(stage1(x, training: training), training: training), training: training)
        return encode(tokens(f, samples: n, toneIndices: toneIndices))
    }

    /// Visits every trainable parameter with its dotted path under `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        conv1.forEachParameter(parameterPath(prefix, "conv1"), body); bn1.forEachParameter(parameterPath(prefix, "bn1"), body)
        conv2.forEachParameter(parameterPath(prefix, "conv2"), body); bn2.forEachParameter(parameterPath(prefix, "bn2"), body)
        conv3.forEachParameter(parameterPath(prefix, "conv3"), body); bn3.forEachParameter(parameterPath(prefix, "bn3"), body)
        project.forEachParameter(parameterPath(prefix, "project"), body)
        toneEmbedding.forEachParameter(parameterPath(prefix, "toneEmbedding"), body)
        positionEmbedding.forEachParameter(parameterPath(prefix, "positionEmbedding"), body)
        block1.forEachParameter(parameterPath(prefix, "block1"), body); block2.forEachParameter(parameterPath(prefix, "block2"), body)
    }
    /// Visits every parameter component of the tangent vector `t` (e.g. a gradient), with the same paths as the instance method.
    public static func forEachParameter(in t: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        Conv2D.forEachParameter(in: &t.conv1, parameterPath(prefix, "conv1"), body); BatchNorm2D.forEachParameter(in: &t.bn1, parameterPath(prefix, "bn1"), body)
        Conv2D.forEachParameter(in: &t.conv2, parameterPath(prefix, "conv2"), body); BatchNorm2D.forEachParameter(in: &t.bn2, parameterPath(prefix, "bn2"), body)
        Conv2D.forEachParameter(in: &t.conv3, parameterPath(prefix, "conv3"), body); BatchNorm2D.forEachParameter(in: &t.bn3, parameterPath(prefix, "bn3"), body)
        Dense.forEachParameter(in: &t.project, parameterPath(prefix, "project"), body)
        Tensor.forEachParameter(in: &t.toneEmbedding, parameterPath(prefix, "toneEmbedding"), body)
        Tensor.forEachParameter(in: &t.positionEmbedding, parameterPath(prefix, "positionEmbedding"), body)
        TransformerEncoderBlock.forEachParameter(in: &t.block1, parameterPath(prefix, "block1"), body)
        TransformerEncoderBlock.forEachParameter(in: &t.block2, parameterPath(prefix, "block2"), body)
    }
}

/// Bidirectional cross-task attention of eqs. (29)–(32) with learnable mixing coefficients:
///   F̃_cls = F_cls + α_cls · softmax(Q_cls K_locᵀ/√d_a) V_loc,   F̃_loc = F_loc + α_loc · softmax(Q_loc K_clsᵀ/√d_a) V_cls,
/// each followed by a pre-norm GELU feed-forward refinement F̃ ← F̃ + W₂ GELU(W₁ LN(F̃)). Single-head
/// attention with d_a = d_f as written in the paper (plus an output projection W_O); α initialised to `mixInit`.
public struct CrossTaskAttention: Layer {
    /// Attention of the classification tokens (query) onto the localization tokens (context), eq. (29).
    public var clsFromLoc: MultiHeadAttention
    /// Attention of the localization tokens (query) onto the classification tokens (context), eq. (30).
    public var locFromCls: MultiHeadAttention
    /// Pre-norm layer norms of the two feed-forward refinements.
    public var normCls: LayerNorm, normLoc: LayerNorm
    /// Feed-forward refinement weights, d_f → 2 d_f → d_f, for each task.
    public var ffnCls1: Dense, ffnCls2: Dense, ffnLoc1: Dense, ffnLoc2: Dense
    /// [α_cls, α_loc].
    public var mix: Tensor

    /// Randomly initialised CTA block of token dimension `d`, with both mixing coefficients set to `mixInit`.
    public init(modelSize d: Int, mixInit: Float, rng: inout RandomSource) throws {
        clsFromLoc = try MultiHeadAttention(modelSize: d, heads: 1, rng: &rng)
        locFromCls = try MultiHeadAttention(modelSize: d, heads: 1, rng: &rng)
        normCls = LayerNorm(size: d); normLoc = LayerNorm(size: d)
        ffnCls1 = Dense(inputSize: d, outputSize: 2 * d, rng: &rng); ffnCls2 = Dense(inputSize: 2 * d, outputSize: d, rng: &rng)
        ffnLoc1 = Dense(inputSize: d, outputSize: 2 * d, rng: &rng); ffnLoc2 = Dense(inputSize: 2 * d, outputSize: d, rng: &rng)
        mix = Tensor(shape: [2], scalars: [mixInit, mixInit])
    }

    /// Returns F̃_cls and F̃_loc concatenated on the token axis ([N, 2L, d]); split with `slice`.
    @differentiable(reverse)
    public func callAsFunction(cls: Tensor, loc: Tensor) -> Tensor {
        let c = cls + mix.slice(axis: 0, 0..<1) * clsFromLoc(query: cls, context: loc)
        let l = loc + mix.slice(axis: 0, 1..<2) * locFromCls(query: loc, context: cls)
        let c2 = c + ffnCls2(ffnCls1(normCls(c)).gelu())
        let l2 = l + ffnLoc2(ffnLoc1(normLoc(l)).gelu())
        return concat(c2, l2, axis: 1)
    }

    /// Visits every trainable parameter with its dotted path under `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        clsFromLoc.forEachParameter(parameterPath(prefix, "clsFromLoc"), body)
        locFromCls.forEachParameter(parameterPath(prefix, "locFromCls"), body)
        normCls.forEachParameter(parameterPath(prefix, "normCls"), body); normLoc.forEachParameter(parameterPath(prefix, "normLoc"), body)
        ffnCls1.forEachParameter(parameterPath(prefix, "ffnCls1"), body); ffnCls2.forEachParameter(parameterPath(prefix, "ffnCls2"), body)
        ffnLoc1.forEachParameter(parameterPath(prefix, "ffnLoc1"), body); ffnLoc2.forEachParameter(parameterPath(prefix, "ffnLoc2"), body)
        mix.forEachParameter(parameterPath(prefix, "mix"), body)
    }
    /// Visits every parameter component of the tangent vector `t` (e.g. a gradient), with the same paths as the instance method.
    public static func forEachParameter(in t: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        MultiHeadAttention.forEachParameter(in: &t.clsFromLoc, parameterPath(prefix, "clsFromLoc"), body)
        MultiHeadAttention.forEachParameter(in: &t.locFromCls, parameterPath(prefix, "locFromCls"), body)
        LayerNorm.forEachParameter(in: &t.normCls, parameterPath(prefix, "normCls"), body); LayerNorm.forEachParameter(in: &t.normLoc, parameterPath(prefix, "normLoc"), body)
        Dense.forEachParameter(in: &t.ffnCls1, parameterPath(prefix, "ffnCls1"), body); Dense.forEachParameter(in: &t.ffnCls2, parameterPath(prefix, "ffnCls2"), body)
        Dense.forEachParameter(in: &t.ffnLoc1, parameterPath(prefix, "ffnLoc1"), body); Dense.forEachParameter(in: &t.ffnLoc2, parameterPath(prefix, "ffnLoc2"), body)
        Tensor.forEachParameter(in: &t.mix, parameterPath(prefix, "mix"), body)
    }
}

/// The joint classifier–localizer f_Θ of eq. (23) for every architecture of Table II.
///
/// Output (packed, [N, C + 7]): class logits o_cls (eq. 34), normalized range z_r with r̂ = r_mid + r_half·z_r
/// and its log-variance ŝ_r (eq. 36), the raw azimuth pair â = (sin, cos) and ŝ_θ (eq. 37; normalized in
/// the loss / decoder, eq. 38), and the auxiliary peak coordinate û (eq. 45). Heads are single dense
/// layers on the pooled embeddings h = P(F̃) of eq. (33) (mean over tokens, then a linear projection).
/// Every architecture owns both branches and the CTA block so that checkpoints have one layout; unused
/// parts simply receive zero gradients.
public struct JointNetwork: Layer {
    /// Semantic (classification) branch; also the single encoder of shared-MTL and the single-task models.
    public var semantic: BranchEncoder
    /// Geometric (localization) branch.
    public var geometric: BranchEncoder
    /// Cross-task attention block (used by `.dualBranch` with `crossTaskAttention`).
    public var cta: CrossTaskAttention
    /// Cross-stitch coefficients, `JointNetwork.stitchStages` (5) stages × [α_aa, α_ab, α_ba, α_bb]:
    /// [x̃_A; x̃_B] = [[α_aa, α_ab], [α_ba, α_bb]]·[x_A; x_B] (Misra et al. 2016, eq. 1), one scalar
    /// pair per stage (their "layer-wise" variant), initialised to (α_S, α_D) = (1 − mixInit, mixInit)
    /// (= (0.9, 0.1), their best setting).
    public var stitch: Tensor
    /// Cross-stitch units: after conv blocks 1–3 and after transformer blocks 1–2.
    public static let stitchStages = 5
    public var poolCls: Dense, poolLoc: Dense
    public var headCls: Dense
    /// [z_r, s_r, a_sin, a_cos, s_θ, u_1, u_2].
    public var headLoc: Dense
    @noDerivative public var config: ModelConfig

    /// Network for `config`; its random initial weights are drawn from `RandomSource(seed: seed, stream: 0)`.
    public init(config c: ModelConfig, seed: UInt64) throws {
        var rng = RandomSource(seed: seed, stream: 0)
        semantic = try BranchEncoder(size: c.size, toneCount: c.toneCount, inputChannels: c.input.channels, rng: &rng)
        geometric = try BranchEncoder(size: c.size, toneCount: c.toneCount, inputChannels: c.input.channels, rng: &rng)
        cta = try CrossTaskAttention(modelSize: c.size.modelSize, mixInit: c.mixInit, rng: &rng)
        let a = 1 - c.mixInit, b = c.mixInit
        stitch = Tensor(shape: [4 * Self.stitchStages], scalars: Array([[Float]](repeating: [a, b, b, a], count: Self.stitchStages).joined()))
        poolCls = Dense(inputSize: c.size.modelSize, outputSize: c.size.embedSize, rng: &rng)
        poolLoc = Dense(inputSize: c.size.modelSize, outputSize: c.size.embedSize, rng: &rng)
        headCls = Dense(inputSize: c.size.embedSize, outputSize: c.classes, rng: &rng)
        headLoc = Dense(inputSize: c.size.embedSize, outputSize: 7, rng: &rng)
        config = c
    }

    @differentiable(reverse)
    func mixStage(_ a: Tensor, _ b: Tensor, stage: Int) -> Tensor {
        let o = 4 * stage
        let na = stitch.slice(axis: 0, o..<(o + 1)) * a + stitch.slice(axis: 0, (o + 1)..<(o + 2)) * b
        let nb = stitch.slice(axis: 0, (o + 2)..<(o + 3)) * a + stitch.slice(axis: 0, (o + 3)..<(o + 4)) * b
        return concat(na, nb, axis: 0)
    }

    /// Forward pass. `x` [N·Ks, 2, Nr, Nt] (see `BranchEncoder`), `toneIndices` the absolute indices k_m.
    /// - Returns: packed outputs [N, C + 7].
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor, samples n: Int, toneIndices: [Int], training: Bool) -> Tensor {
        let fc: Tensor, fl: Tensor
        switch config.architecture {
        case .sharedMTL, .singleClassification, .singleLocalization:
            let f = semantic(x, samples: n, toneIndices: toneIndices, training: training)
            fc = f; fl = f
        case .crossStitch:
            let m = withoutDerivative(at: x).shape[0]
            let s1 = mixStage(semantic.stage1(x, training: training), geometric.stage1(x, training: training), stage: 0)
            let a1 = s1.slice(axis: 0, 0..<m), b1 = s1.slice(axis: 0, m..<(2 * m))
            let s2 = mixStage(semantic.stage2(a1, training: training), geometric.stage2(b1, training: training), stage: 1)
            let a2 = s2.slice(axis: 0, 0..<m), b2 = s2.slice(axis: 0, m..<(2 * m))
            let s3 = mixStage(semantic.stage3(a2, training: training), geometric.stage3(b2, training: training), stage: 2)
            let a3 = s3.slice(axis: 0, 0..<m), b3 = s3.slice(axis: 0, m..<(2 * m))
            let ta = semantic.tokens(a3, samples: n, toneIndices: toneIndices)
            let tb = geometric.tokens(b3, samples: n, toneIndices: toneIndices)
            let s4 = mixStage(semantic.block1(ta), geometric.block1(tb), stage: 3)
            let a4 = s4.slice(axis: 0, 0..<n), b4 = s4.slice(axis: 0, n..<(2 * n))
            let s5 = mixStage(semantic.block2(a4), geometric.block2(b4), stage: 4)
            fc = s5.slice(axis: 0, 0..<n); fl = s5.slice(axis: 0, n..<(2 * n))
        case .dualBranch:
            let c0 = semantic(x, samples: n, toneIndices: toneIndices, training: training)
            let l0 = geometric(x, samples: n, toneIndices: toneIndices, training: training)
            if config.crossTaskAttention {
                let both = cta(cls: c0, loc: l0)
                let len = withoutDerivative(at: c0).shape[1]
                fc = both.slice(axis: 1, 0..<len); fl = both.slice(axis: 1, len..<(2 * len))
            } else {
                fc = c0; fl = l0
            }
        }
        let hc = poolCls(fc.mean(axes: [1]))
        let hl = poolLoc(fl.mean(axes: [1]))
        return concat(headCls(hc), headLoc(hl), axis: 1)
    }

    /// Visits every trainable parameter with its dotted path under `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        semantic.forEachParameter(parameterPath(prefix, "semantic"), body)
        geometric.forEachParameter(parameterPath(prefix, "geometric"), body)
        cta.forEachParameter(parameterPath(prefix, "cta"), body)
        stitch.forEachParameter(parameterPath(prefix, "stitch"), body)
        poolCls.forEachParameter(parameterPath(prefix, "poolCls"), body); poolLoc.forEachParameter(parameterPath(prefix, "poolLoc"), body)
        headCls.forEachParameter(parameterPath(prefix, "headCls"), body); headLoc.forEachParameter(parameterPath(prefix, "headLoc"), body)
    }
    /// Visits every parameter component of the tangent vector `t` (e.g. a gradient), with the same paths as the instance method.
    public static func forEachParameter(in t: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        BranchEncoder.forEachParameter(in: &t.semantic, parameterPath(prefix, "semantic"), body)
        BranchEncoder.forEachParameter(in: &t.geometric, parameterPath(prefix, "geometric"), body)
        CrossTaskAttention.forEachParameter(in: &t.cta, parameterPath(prefix, "cta"), body)
        Tensor.forEachParameter(in: &t.stitch, parameterPath(prefix, "stitch"), body)
        Dense.forEachParameter(in: &t.poolCls, parameterPath(prefix, "poolCls"), body); Dense.forEachParameter(in: &t.poolLoc, parameterPath(prefix, "poolLoc"), body)
        Dense.forEachParameter(in: &t.headCls, parameterPath(prefix, "headCls"), body); Dense.forEachParameter(in: &t.headLoc, parameterPath(prefix, "headLoc"), body)
    }
}
