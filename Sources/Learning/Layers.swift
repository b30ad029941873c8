import _Differentiation
import Foundation
import Linalg

// MARK: - Parameter enumeration

/// Something that owns named parameter tensors: every layer and every layer's `TangentVector`.
///
/// Design: Swift has no `KeyPathIterable` outside the old S4TF toolchains and `Mirror` is read-only,
/// so a layer lists its parameters explicitly, once for itself and once for its tangent vector (the
/// two bodies are identical). Optimizers, gradient clipping and checkpoints pair a parameter with its
/// gradient by the dotted path (`"block1.attention.query.weight"`), which doubles as the `.npz` key.
public protocol ParameterContainer {
    /// Calls `body(path, &tensor)` for every parameter, in a fixed order. `prefix` is prepended
    /// to each path as `prefix.name` (nothing when empty).
    mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void)
}

/// A differentiable model component whose parameters (and gradients) can be enumerated.
///
/// The tangent vector is visited through the static `forEachParameter(in:_:_:)` because the
/// compiler-synthesized `TangentVector` types cannot be extended with conformances.
public protocol Layer: Differentiable, ParameterContainer {
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    static func forEachParameter(in tangent: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void)
}

/// Joins a parameter path: `"a" + "b" → "a.b"`, `"" + "b" → "b"`.
@inlinable public func parameterPath(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : prefix + "." + name
}

extension Tensor: Layer {
    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        body(prefix, &self)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in tangent: inout Tensor, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        body(prefix, &tangent)
    }
}

extension ParameterContainer {
    /// All parameters as `path → tensor` (copies share storage until mutated).
    public var namedParameters: [(String, Tensor)] {
        var copy = self
        var out: [(String, Tensor)] = []
        copy.forEachParameter("") { p, t in out.append((p, t)) }
        return out
    }
    /// Total number of scalar parameters.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.1.count } }
}

/// A free learnable tensor (positional/subcarrier embeddings, element positions, dictionaries).
public struct LearnedTensor: Layer {
    /// The learnable tensor.
    public var value: Tensor
    /// Wraps `value` as a parameter.
    public init(_ value: Tensor) { self.value = value }
    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        value.forEachParameter(prefix, body)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in tangent: inout TangentVector, _ prefix: String,
                                        _ body: (String, inout Tensor) -> Void) {
        Tensor.forEachParameter(in: &tangent.value, prefix, body)
    }
}

// MARK: - Initializers

/// Deterministic initializers (all draws from `RandomSource`).
public enum Initializer {
    /// Xavier/Glorot uniform U(±√(6/(fanIn + fanOut))).
    public static func xavierUniform(_ shape: [Int], fanIn: Int, fanOut: Int, rng: inout RandomSource) -> Tensor {
        let a = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
        return Tensor.randomUniform(shape, lo: -a, hi: a, rng: &rng)
    }
    /// Kaiming/He normal N(0, 2/fanIn) (for ReLU networks).
    public static func kaimingNormal(_ shape: [Int], fanIn: Int, rng: inout RandomSource) -> Tensor {
        Tensor.randomNormal(shape, std: Float((2.0 / Double(fanIn)).squareRoot()), rng: &rng)
    }
}

// MARK: - Dense

/// Fully connected layer y = x·W + b on the last axis: `x` [… , in] → [… , out].
/// `weight` is stored `[in, out]` (the transpose of PyTorch's `nn.Linear.weight`); Xavier-uniform
/// weights, zero bias.
public struct Dense: Layer {
    /// Weight W, `[in, out]`.
    public var weight: Tensor
    /// Bias b, `[out]`.
    public var bias: Tensor
    /// Xavier-uniform weight and zero bias.
    public init(inputSize: Int, outputSize: Int, rng: inout RandomSource) {
        weight = Initializer.xavierUniform([inputSize, outputSize], fanIn: inputSize, fanOut: outputSize, rng: &rng)
        bias = .zeros([outputSize])
    }
    /// Layer with the given weight `[in, out]` and bias `[out]`.
    public init(weight: Tensor, bias: Tensor) { self.weight = weight; self.bias = bias }
    /// y = x·W + b on the last axis.
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor) -> Tensor { matmul(x, weight) + bias }
    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        weight.forEachParameter(parameterPath(prefix, "weight"), body)
        bias.forEachParameter(parameterPath(prefix, "bias"), body)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in tangent: inout TangentVector, _ prefix: String,
                                        _ body: (String, inout Tensor) -> Void) {
        Tensor.forEachParameter(in: &tangent.weight, parameterPath(prefix, "weight"), body)
        Tensor.forEachParameter(in: &tangent.bias, parameterPath(prefix, "bias"), body)
    }
}

// MARK: - Conv2D

/// 2-D convolution layer (see `conv2d`): `[N, Cin, H, W] → [N, Cout, Ho, Wo]`; filter
/// `[Cout, Cin, k, k]` Kaiming-normal, zero bias.
public struct Conv2D: Layer {
    /// Filter `[Cout, Cin, k, k]`.
    public var filter: Tensor
    /// Bias `[Cout]`.
    public var bias: Tensor
    /// Stride (both spatial axes).
    @noDerivative public var stride: Int
    /// Zero padding (both spatial axes).
    @noDerivative public var padding: Int
    /// Kaiming-normal filter and zero bias.
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, rng: inout RandomSource) {
        filter = Initializer.kaimingNormal([outChannels, inChannels, kernel, kernel], fanIn: inChannels * kernel * kernel, rng: &rng)
        bias = .zeros([outChannels])
        self.stride = stride; self.padding = padding
    }
    /// `conv2d` of `x` [N, Cin, H, W] → [N, Cout, Ho, Wo]. Differentiable with respect to the layer and its input, or
    /// the layer alone (used where `x` is data: no input gradient is computed).
    @differentiable(reverse)
    @differentiable(reverse, wrt: self)
    public func callAsFunction(_ x: Tensor) -> Tensor { conv2d(x, filter: filter, bias: bias, stride: stride, padding: padding) }
    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        filter.forEachParameter(parameterPath(prefix, "filter"), body)
        bias.forEachParameter(parameterPath(prefix, "bias"), body)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in tangent: inout TangentVector, _ prefix: String,
                                        _ body: (String, inout Tensor) -> Void) {
        Tensor.forEachParameter(in: &tangent.filter, parameterPath(prefix, "filter"), body)
        Tensor.forEachParameter(in: &tangent.bias, parameterPath(prefix, "bias"), body)
    }
}

// MARK: - BatchNorm2D

/// Batch normalization over channel axis 1 of `[N, C, …]`. Training mode normalizes with batch
/// statistics and updates the running statistics (a shared reference box, not parameters); eval
/// mode uses the running statistics: y = (x − μ_run)/√(σ²_run + ε)·γ + β.
/// Checkpoints store the running statistics as `<path>.running_mean` / `<path>.running_var`.
public struct BatchNorm2D: Layer {
    /// Scale γ, `[C]`.
    public var gamma: Tensor
    /// Shift β, `[C]`.
    public var beta: Tensor
    /// Running mean/variance (shared reference box, not a parameter).
    /// γ = 1, β = 0; `momentum` is the running-statistics update rate.
    /// ε added to the variance.
    @noDerivative public var statistics: BatchNormStatistics
    @noDerivative public var epsilon: Float
    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        gamma = .ones([channels]); beta = .zeros([channels])
        statistics = BatchNormStatistics(channels: channels, momentum: momentum)
        self.epsilon = epsilon
    }
    /// Batch statistics (and running update) when `training`, running statistics otherwise.
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        if training {
            return batchNormTraining(x, gamma: gamma, beta: beta, epsilon: epsilon, statistics: statistics)
        }
        return batchNormInference(x, gamma: gamma, beta: beta, epsilon: epsilon, statistics: statistics)
    }
    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        gamma.forEachParameter(parameterPath(prefix, "gamma"), body)
        beta.forEachParameter(parameterPath(prefix, "beta"), body)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in tangent: inout TangentVector, _ prefix: String,
                                        _ body: (String, inout Tensor) -> Void) {
        Tensor.forEachParameter(in: &tangent.gamma, parameterPath(prefix, "gamma"), body)
        Tensor.forEachParameter(in: &tangent.beta, parameterPath(prefix, "beta"), body)
    }
}

// MARK: - LayerNorm

/// Layer normalization over the last axis (`layerNorm`), γ = 1, β = 0 at init.
public struct LayerNorm: Layer {
    /// Scale γ, `[size]`.
    public var gamma: Tensor
    /// Shift β, `[size]`.
    public var beta: Tensor
    /// ε added to the variance.
    /// γ = 1, β = 0 over a last axis of `size`.
    @noDerivative public var epsilon: Float
    public init(size: Int, epsilon: Float = 1e-5) { gamma = .ones([size]); beta = .zeros([size]); self.epsilon = epsilon }
    /// `layerNorm` over the last axis.
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, gamma: gamma, beta: beta, epsilon: epsilon) }
    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        gamma.forEachParameter(parameterPath(prefix, "gamma"), body)
        beta.forEachParameter(parameterPath(prefix, "beta"), body)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in tangent: inout TangentVector, _ prefix: String,
                                        _ body: (String, inout Tensor) -> Void) {
        Tensor.forEachParameter(in: &tangent.gamma, parameterPath(prefix, "gamma"), body)
        Tensor.forEachParameter(in: &tangent.beta, parameterPath(prefix, "beta"), body)
    }
}

// MARK: - Attention

/// Scaled dot-product attention per head: softmax(Q Kᵀ/√d_h) V.
/// Shapes: `q` [N, H, Lq, dh], `k`, `v` [N, H, Lk, dh] → [N, H, Lq, dh].
/// Runs the fused kernel `multiHeadAttentionCore` with one head on the N·H slices.
@differentiable(reverse)
public func scaledDotProductAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> Tensor {
    let sq = withoutDerivative(at: q).shape, sk = withoutDerivative(at: k).shape
    precondition(sq.count >= 2 && sk.count == sq.count, "scaledDotProductAttention: q \(sq), k \(sk)")
    let batch = sq.dropLast(2).reduce(1, *), dh = sq[sq.count - 1]
    let o = multiHeadAttentionCore(q.reshaped([batch, sq[sq.count - 2], dh]), k.reshaped([batch, sk[sk.count - 2], dh]),
                                   v.reshaped([batch, sk[sk.count - 2], dh]), heads: 1)
    return o.reshaped(sq)
}

/// Multi-head attention with separate Q/K/V/output projections (`Dense`, d_model → d_model).
/// Self-attention: `callAsFunction(x)`; cross-attention: `callAsFunction(query:context:)`, where the
/// queries come from one token sequence and keys/values from another (the cross-task attention of
/// the extended-target network). Shapes: `query` [N, Lq, D], `context` [N, Lk, D] → [N, Lq, D];
/// D must be divisible by `heads`.
public struct MultiHeadAttention: Layer {
    /// Query projection (D → D).
    public var query: Dense
    /// Key projection (D → D).
    public var key: Dense
    /// Value projection (D → D).
    public var value: Dense
    /// Output projection (D → D).
    public var output: Dense
    /// Number of heads H.
    @noDerivative public var heads: Int

    /// Four Dense(D → D) projections; throws unless `modelSize` is divisible by `heads`.
    public init(modelSize: Int, heads: Int, rng: inout RandomSource) throws {
        try Check.positive(heads, "heads")
        guard modelSize % heads == 0 else {
            throw ISACError.invalidParameter(name: "heads", value: "\(heads)", valid: "must divide the model size \(modelSize)")
        }
        query = Dense(inputSize: modelSize, outputSize: modelSize, rng: &rng)
        key = Dense(inputSize: modelSize, outputSize: modelSize, rng: &rng)
        value = Dense(inputSize: modelSize, outputSize: modelSize, rng: &rng)
        output = Dense(inputSize: modelSize, outputSize: modelSize, rng: &rng)
        self.heads = heads
    }

    /// Cross-attention: `q` [N, Lq, D] attends to `c` [N, Lk, D] → [N, Lq, D]. The heads are column blocks of the
    /// projections, attended to in place by `multiHeadAttentionCore` (no split/merge permutes).
    @differentiable(reverse)
    public func callAsFunction(query q: Tensor, context c: Tensor) -> Tensor {
        output(multiHeadAttentionCore(query(q), key(c), value(c), heads: heads))
    }

    /// Self-attention: [N, L, D] → [N, L, D].
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor) -> Tensor { callAsFunction(query: x, context: x) }

    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        query.forEachParameter(parameterPath(prefix, "query"), body)
        key.forEachParameter(parameterPath(prefix, "key"), body)
        value.forEachParameter(parameterPath(prefix, "value"), body)
        output.forEachParameter(parameterPath(prefix, "output"), body)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in tangent: inout TangentVector, _ prefix: String,
                                        _ body: (String, inout Tensor) -> Void) {
        Dense.forEachParameter(in: &tangent.query, parameterPath(prefix, "query"), body)
        Dense.forEachParameter(in: &tangent.key, parameterPath(prefix, "key"), body)
        Dense.forEachParameter(in: &tangent.value, parameterPath(prefix, "value"), body)
        Dense.forEachParameter(in: &tangent.output, parameterPath(prefix, "output"), body)
    }
}

/// Transformer encoder block, **pre-norm** (LayerNorm before each sub-layer, as in GPT-2/ViT;
/// it trains stably without warm-up):
///   x ← x + MHA(LN₁(x)),  x ← x + W₂ GELU(W₁ LN₂(x) + b₁) + b₂.
/// Shapes: [N, L, D] → [N, L, D]; the feed-forward width is `ffnSize` (2·D in the extended-target paper).
public struct TransformerEncoderBlock: Layer {
    /// LayerNorm before attention.
    public var norm1: LayerNorm
    /// Self-attention sub-layer.
    public var attention: MultiHeadAttention
    /// LayerNorm before the feed-forward network.
    public var norm2: LayerNorm
    /// Feed-forward W₁ (D → ffnSize).
    public var ffn1: Dense
    /// Feed-forward W₂ (ffnSize → D).
    public var ffn2: Dense

    /// Block of width `modelSize` with `heads` heads and feed-forward width `ffnSize`.
    public init(modelSize: Int, heads: Int, ffnSize: Int, rng: inout RandomSource) throws {
        try Check.positive(ffnSize, "ffnSize")
        norm1 = LayerNorm(size: modelSize)
        attention = try MultiHeadAttention(modelSize: modelSize, heads: heads, rng: &rng)
        norm2 = LayerNorm(size: modelSize)
        ffn1 = Dense(inputSize: modelSize, outputSize: ffnSize, rng: &rng)
        ffn2 = Dense(inputSize: ffnSize, outputSize: modelSize, rng: &rng)
    }

    /// x ← x + MHA(LN₁(x)), x ← x + FFN(LN₂(x)); [N, L, D] → [N, L, D].
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x + attention(norm1(x))
        return h + ffn2(ffn1(norm2(h)).gelu())
    }

    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        norm1.forEachParameter(parameterPath(prefix, "norm1"), body)
        attention.forEachParameter(parameterPath(prefix, "attention"), body)
        norm2.forEachParameter(parameterPath(prefix, "norm2"), body)
        ffn1.forEachParameter(parameterPath(prefix, "ffn1"), body)
        ffn2.forEachParameter(parameterPath(prefix, "ffn2"), body)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in tangent: inout TangentVector, _ prefix: String,
                                        _ body: (String, inout Tensor) -> Void) {
        LayerNorm.forEachParameter(in: &tangent.norm1, parameterPath(prefix, "norm1"), body)
        MultiHeadAttention.forEachParameter(in: &tangent.attention, parameterPath(prefix, "attention"), body)
        LayerNorm.forEachParameter(in: &tangent.norm2, parameterPath(prefix, "norm2"), body)
        Dense.forEachParameter(in: &tangent.ffn1, parameterPath(prefix, "ffn1"), body)
        Dense.forEachParameter(in: &tangent.ffn2, parameterPath(prefix, "ffn2"), body)
    }
}

// MARK: - Embedding, Dropout

/// Lookup table `[vocabulary, size]`; `callAsFunction(indices)` → `[indices.count, size]`.
/// N(0, 1) init (PyTorch `nn.Embedding` default).
public struct Embedding: Layer {
    /// Embedding table `[vocabulary, size]`.
    public var table: Tensor
    /// N(0, 1) table `[vocabulary, size]`.
    public init(vocabulary: Int, size: Int, rng: inout RandomSource) {
        table = Tensor.randomNormal([vocabulary, size], rng: &rng)
    }
    /// Rows of `table` at `indices` → `[indices.count, size]`.
    @differentiable(reverse)
    public func callAsFunction(_ indices: [Int]) -> Tensor { table.gathering(indices) }
    /// Calls `body(path, &tensor)` for every parameter, paths prefixed by `prefix`.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        table.forEachParameter(parameterPath(prefix, "table"), body)
    }
    /// Visits the gradient entries of `tangent` with the same paths and order as the parameters.
    public static func forEachParameter(in tangent: inout TangentVector, _ prefix: String,
                                        _ body: (String, inout Tensor) -> Void) {
        Tensor.forEachParameter(in: &tangent.table, parameterPath(prefix, "table"), body)
    }
}

/// Dropout as a parameter-free layer: identity in eval mode; in training mode `dropout` with the
/// mask stream `step` (callers pass the global training step for reproducible, fresh masks).
public struct Dropout: Layer {
    /// Drop probability, in [0, 0.999].
    /// Throws unless 0 ≤ `rate` ≤ 0.999.
    /// Seed of the mask stream.
    @noDerivative public var rate: Float
    @noDerivative public var seed: UInt64
    public init(rate: Float, seed: UInt64) throws {
        try Check.inRange(rate, 0, 0.999, "dropout")
        self.rate = rate; self.seed = seed
    }
    /// Identity unless `training` and `rate` > 0; then `dropout` with mask stream `step`.
    @differentiable(reverse)
    public func callAsFunction(_ x: Tensor, training: Bool, step: UInt64) -> Tensor {
        if !training || rate == 0 { return x }
        return dropout(x, rate: rate, seed: seed, stream: step)
    }
    /// No parameters.
    public mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {}
    /// No parameters.
    public static func forEachParameter(in tangent: inout TangentVector, _ prefix: String,
                                        _ body: (String, inout Tensor) -> Void) {}
}
