import _Differentiation
import Foundation
import Linalg

/// Collects a model's gradient tensors by parameter path.
func gradientTable<M: Layer>(_ model: M.Type, _ gradient: M.TangentVector) -> [String: Tensor] {
    var g = gradient
    var table: [String: Tensor] = [:]
    M.forEachParameter(in: &g, "") { p, t in table[p] = t }
    return table
}

/// Gradient of parameter `path` as a dense tensor of `shape` (zero when AD produced the
/// rank-0 zero placeholder for an unused parameter).
@inline(__always) func denseGradient(_ table: [String: Tensor], _ path: String, _ shape: [Int]) -> Tensor {
    guard let g = table[path] else { return .zeros(shape) }
    if g.shape == shape { return g }
    precondition(g.isScalarZero, "gradient for \(path) has shape \(g.shape), parameter \(shape)")
    return .zeros(shape)
}

/// Global L2 norm √(Σ_p ‖g_p‖²) over every gradient tensor (accumulated in Double).
public func globalNorm<M: Layer>(of gradient: M.TangentVector, model: M.Type) -> Float {
    var g = gradient
    var s: Double = 0
    M.forEachParameter(in: &g, "") { _, t in for v in t.scalars { s += Double(v) * Double(v) } }
    return Float(s.squareRoot())
}

/// Global-norm clipping: when ‖g‖ > `maxNorm`, every gradient is scaled by maxNorm/‖g‖ (the
/// direction is kept). Returns the norm before clipping (for logging).
@discardableResult
public func clipByGlobalNorm<M: Layer>(_ gradient: inout M.TangentVector, maxNorm: Float, model: M.Type) -> Float {
    let norm = globalNorm(of: gradient, model: model)
    if norm > maxNorm && norm > 0 {
        let scale = maxNorm / norm
        M.forEachParameter(in: &gradient, "") { _, t in t = t * scale }
    }
    return norm
}

/// An optimizer updates a model in place from its gradient; state is keyed by parameter path.
public protocol Optimizer {
    /// Learning rate used by the next `update` (schedules set it between steps).
    var learningRate: Float { get set }
    /// One step θ ← θ − update(∇θ).
    mutating func update<M: Layer>(_ model: inout M, along gradient: M.TangentVector)
    /// Optimizer state (moments, step count) as named tensors for checkpoints.
    var stateTensors: [String: Tensor] { get }
    /// Restores `stateTensors` (missing entries reset that parameter's state).
    mutating func loadState(_ state: [String: Tensor])
}

/// Stochastic gradient descent with (heavy-ball) momentum, PyTorch convention:
/// b ← μ·b + g (b = g on the first step), θ ← θ − η·b; plain SGD when μ = 0.
public struct SGD: Optimizer {
    /// Learning rate η.
    public var learningRate: Float
    /// Momentum μ (0 = plain SGD).
    public var momentum: Float
    var buffers: [String: Tensor] = [:]

    /// Throws unless η > 0 and 0 ≤ μ ≤ 0.9999.
    public init(learningRate: Float, momentum: Float = 0) throws {
        try Check.positive(learningRate, "lr")
        try Check.inRange(momentum, 0, 0.9999, "momentum")
        self.learningRate = learningRate; self.momentum = momentum
    }

    /// One step on every parameter of `model`: b ← μ b + g (b = g when μ = 0 or on the first step), θ ← θ − η b.
    public mutating func update<M: Layer>(_ model: inout M, along gradient: M.TangentVector) {
        let table = gradientTable(M.self, gradient)
        let lr = learningRate, mu = momentum
        var buffers = self.buffers
        model.forEachParameter("") { path, p in
            let g = denseGradient(table, path, p.shape)
            var step = g
            if mu > 0 {
                if let b = buffers[path] { step = b.zipMap(g) { b, g in mu * b + g } }
                buffers[path] = step
            }
            p = p.zipMap(step) { p, s in p - lr * s }
        }
        self.buffers = buffers
    }

    /// Momentum buffers as `momentum.<path>`.
    public var stateTensors: [String: Tensor] { buffers.reduce(into: [:]) { $0["momentum." + $1.key] = $1.value } }
    /// Restores the `momentum.` buffers from `state`.
    public mutating func loadState(_ state: [String: Tensor]) {
        buffers = [:]
        for (k, v) in state where k.hasPrefix("momentum.") { buffers[String(k.dropFirst(9))] = v }
    }
}

/// Which parameters receive decoupled weight decay (the AdamW "parameter groups").
public enum WeightDecayGroups: String, Codable, Sendable {
    /// Every parameter (PyTorch's default when one parameter group is passed).
    case all
    /// Only dense and convolution weight matrices: parameters whose last path component is
    /// `weight` or `filter`. Biases, norm γ/β, embeddings, positional tensors and mixing
    /// coefficients (CTA α, cross-stitch) are not decayed — the usual no-decay group (BERT,
    /// minGPT, timm): decaying a norm gain or a mixing coefficient pulls it towards 0, which is
    /// not a prior on model complexity but a change of the architecture.
    case matricesOnly = "matrices-only"

    /// Whether the parameter at `path` is decayed.
    public func decays(_ path: String) -> Bool {
        switch self {
        case .all: return true
        case .matricesOnly:
            let last = path.split(separator: ".").last.map(String.init) ?? path
            return last == "weight" || last == "filter"
        }
    }
}

/// Adam (Kingma & Ba) with optional decoupled weight decay (AdamW, Loshchilov & Hutter):
///   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ),
///   θ ← θ − η·λ·θ  (AdamW only, on the parameters selected by `decayGroups`),
///   θ ← θ − η·m̂/(√v̂ + ε).
/// `Adam` is this type with `weightDecay = 0`; `AdamW` presets λ = 0.01 like PyTorch.
public struct Adam: Optimizer {
    /// Learning rate η.
    public var learningRate: Float
    /// Moment decay rates β₁, β₂ and the denominator ε.
    public var beta1: Float, beta2: Float, epsilon: Float
    /// Decoupled weight decay λ (0 = plain Adam).
    public var weightDecay: Float
    /// Which parameters λ applies to (default `.all`, PyTorch's single-group behaviour).
    public var decayGroups: WeightDecayGroups = .all
    public private(set) var step: Int = 0
    var m: [String: Tensor] = [:]
    var v: [String: Tensor] = [:]

    /// Adam (`weightDecay` = 0) or AdamW; throws for an invalid hyper-parameter.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0) throws {
        try Check.positive(learningRate, "lr")
        try Check.inRange(beta1, 0, 0.9999999, "beta1")
        try Check.inRange(beta2, 0, 0.9999999, "beta2")
        try Check.positive(epsilon, "epsilon")
        try Check.inRange(weightDecay, 0, 1e6, "weight-decay")
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2
        self.epsilon = epsilon; self.weightDecay = weightDecay
    }

    /// One Adam/AdamW step on every parameter of `model`.
    public mutating func update<M: Layer>(_ model: inout M, along gradient: M.TangentVector) {
        let table = gradientTable(M.self, gradient)
        step += 1
        let b1 = beta1, b2 = beta2, eps = epsilon, lr = learningRate, wd = weightDecay
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(step)))
        let c2 = 1 - Float(Foundation.pow(Double(b2), Double(step)))
        var mm = self.m, vv = self.v
        let groups = decayGroups
        model.forEachParameter("") { path, p in
            let g = denseGradient(table, path, p.shape)
            let wd = groups.decays(path) ? wd : 0
            var mt = mm[path] ?? .zeros(p.shape), vt = vv[path] ?? .zeros(p.shape)
            let n = p.count
            p.scalars.withUnsafeMutableBufferPointer { pp in
                g.scalars.withUnsafeBufferPointer { pg in
                    mt.scalars.withUnsafeMutableBufferPointer { pm in
                        vt.scalars.withUnsafeMutableBufferPointer { pv in
                            for i in 0..<n {
                                let gi = pg[i]
                                pm[i] = b1 * pm[i] + (1 - b1) * gi
                                pv[i] = b2 * pv[i] + (1 - b2) * gi * gi
                                let mhat = pm[i] / c1, vhat = pv[i] / c2
                                if wd > 0 { pp[i] -= lr * wd * pp[i] }
                                pp[i] -= lr * mhat / (vhat.squareRoot() + eps)
                            }
                        }
                    }
                }
            }
            mm[path] = mt; vv[path] = vt
        }
        self.m = mm; self.v = vv
    }

    /// State as `step`, `m.<path>` and `v.<path>` (first and second moment estimates).
    public var stateTensors: [String: Tensor] {
        var s: [String: Tensor] = ["step": Tensor(Float(step))]
        for (k, t) in m { s["m." + k] = t }
        for (k, t) in v { s["v." + k] = t }
        return s
    }
    /// Restores `stateTensors`.
    public mutating func loadState(_ state: [String: Tensor]) {
        m = [:]; v = [:]
        step = Int(state["step"]?.scalars.first ?? 0)
        for (k, t) in state {
            if k.hasPrefix("m.") { m[String(k.dropFirst(2))] = t }
            if k.hasPrefix("v.") { v[String(k.dropFirst(2))] = t }
        }
    }
}

/// AdamW: `Adam` with decoupled weight decay (default λ = 0.01, PyTorch's default).
public func AdamW(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                  weightDecay: Float = 0.01, decayGroups: WeightDecayGroups = .all) throws -> Adam {
    var a = try Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    a.decayGroups = decayGroups
    return a
}

// MARK: - Learning-rate schedules

/// Cosine annealing (SGDR without restarts): η_t = η_min + ½(η_0 − η_min)(1 + cos(π·t/T)),
/// for step t = 0…T (held at η_min after T).
public struct CosineAnnealing: Sendable {
    /// η_0, η_min and the schedule length T (steps).
    public let initial: Float, minimum: Float, totalSteps: Int
    /// Throws unless η_0 > 0, 0 ≤ η_min ≤ η_0 and T > 0.
    public init(initial: Float, minimum: Float = 0, totalSteps: Int) throws {
        try Check.positive(initial, "lr")
        try Check.inRange(minimum, 0, initial, "lr-min")
        try Check.positive(totalSteps, "epochs")
        self.initial = initial; self.minimum = minimum; self.totalSteps = totalSteps
    }
    /// η_t, with t clamped to 0…T.
    public func learningRate(at step: Int) -> Float {
        let t = Double(Swift.min(Swift.max(step, 0), totalSteps)) / Double(totalSteps)
        return minimum + 0.5 * (initial - minimum) * Float(1 + Foundation.cos(Double.pi * t))
    }
}

/// Reduce-on-plateau (PyTorch `ReduceLROnPlateau`, mode "min", relative threshold): when the
/// monitored metric has not improved below best·(1 − threshold) for more than `patience`
/// consecutive observations, the rate is multiplied by `factor` (not below `minimum`).
public struct ReduceOnPlateau: Sendable {
    public private(set) var learningRate: Float
    /// Multiplier, patience (observations), relative threshold and floor of the rate.
    public let factor: Float, patience: Int, threshold: Float, minimum: Float
    public private(set) var best: Float = .infinity
    public private(set) var badEpochs = 0

    /// Starts at `initial`; throws for an invalid setting.
    public init(initial: Float, factor: Float = 0.1, patience: Int = 10, threshold: Float = 1e-4, minimum: Float = 0) throws {
        try Check.positive(initial, "lr")
        try Check.inOpenRange(factor, 0, 1, "factor")
        try Check.nonNegative(patience, "patience")
        self.learningRate = initial; self.factor = factor; self.patience = patience
        self.threshold = threshold; self.minimum = minimum
    }

    /// Records one metric value (e.g. validation loss) and returns the rate for the next epoch.
    @discardableResult
    public mutating func observe(_ metric: Float) -> Float {
        if metric < best * (1 - threshold) || best == .infinity {
            best = metric; badEpochs = 0
        } else {
            badEpochs += 1
            if badEpochs > patience {
                learningRate = Swift.max(learningRate * factor, minimum)
                badEpochs = 0
            }
        }
        return learningRate
    }
}

// MARK: - Gradients of scalar losses

/// Loss value and gradient of a scalar (rank-0 or one-element) `Tensor`-valued loss with
/// respect to `model` (the standard library's `gradient(at:of:)` needs a `FloatingPoint` result).
public func valueWithGradient<M: Differentiable>(at model: M, of loss: @differentiable(reverse) (M) -> Tensor)
    -> (value: Tensor, gradient: M.TangentVector) {
    let (v, pb) = valueWithPullback(at: model, of: loss)
    precondition(v.count == 1, "valueWithGradient: loss must have one element, got shape \(v.shape)")
    return (v, pb(Tensor(shape: v.shape, scalars: [1])))
}
