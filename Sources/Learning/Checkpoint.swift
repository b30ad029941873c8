import _Differentiation
import Foundation
import ISACIO
import Linalg

/// Model checkpoints as NumPy `.npz` archives (float32 arrays, C order), written atomically.
///
/// Keys are parameter paths (`"conv1.filter"`, `"block1.attention.query.weight"`), so
/// `np.load("model.npz")["conv1.filter"]` gives the array with its shape. Optimizer state goes under
/// `"optimizer/…"` and batch-norm running statistics under `"<path>.running_mean"` /
/// `"<path>.running_var"` when the caller lists the layers in `statistics`.
public enum Checkpoint {
    /// Saves every parameter of `model` (+ optional optimizer state and BN buffers) to `path`.
    public static func save<M: Layer>(_ model: M, to path: String, optimizer: (any Optimizer)? = nil,
                                      statistics: [String: BatchNormStatistics] = [:]) throws {
        var arrays: [String: NPYArray] = [:]
        for (name, t) in model.namedParameters { arrays[name] = NPYArray(float32: t.scalars, shape: t.shape) }
        if let opt = optimizer {
            for (name, t) in opt.stateTensors { arrays["optimizer/" + name] = NPYArray(float32: t.scalars, shape: t.shape) }
        }
        for (name, s) in statistics {
            arrays[name + ".running_mean"] = NPYArray(float32: s.mean, shape: [s.mean.count])
            arrays[name + ".running_var"] = NPYArray(float32: s.variance, shape: [s.variance.count])
        }
        try NPZ.write(arrays, to: path)
    }

    /// Loads parameters saved by `save` into `model` (shapes must match) and the batch-norm
    /// statistics listed in `statistics`.
    /// - Throws: `ISACError.malformedFile` naming the missing key or mismatched shape.
    public static func load<M: Layer>(into model: inout M, from path: String,
                                      statistics: [String: BatchNormStatistics] = [:]) throws {
        let arrays = try NPZ.read(from: path)
        var failure: ISACError?
        model.forEachParameter("") { name, t in
            guard failure == nil else { return }
            guard let a = arrays[name] else {
                failure = .malformedFile(path: path, reason: "missing parameter \(name)"); return
            }
            do {
                let loaded = try tensor(from: a, name: name, path: path)
                guard loaded.shape == t.shape else {
                    failure = .malformedFile(path: path, reason: "parameter \(name) has shape \(loaded.shape), model expects \(t.shape)")
                    return
                }
                t = loaded
            } catch let e as ISACError { failure = e } catch { failure = .io("\(error)") }
        }
        if let f = failure { throw f }
        for (name, s) in statistics {
            if let m = arrays[name + ".running_mean"], let v = arrays[name + ".running_var"] {
                let mt = try tensor(from: m, name: name + ".running_mean", path: path)
                let vt = try tensor(from: v, name: name + ".running_var", path: path)
                guard mt.count == s.mean.count, vt.count == s.variance.count else {
                    throw ISACError.malformedFile(path: path, reason: "batch-norm statistics \(name) have the wrong size")
                }
                s.mean = mt.scalars; s.variance = vt.scalars
            }
        }
    }

    /// Restores optimizer state (moments, step) saved by `save(_:to:optimizer:)`.
    public static func loadOptimizer<O: Optimizer>(_ optimizer: inout O, from path: String) throws {
        let arrays = try NPZ.read(from: path)
        var state: [String: Tensor] = [:]
        for (k, a) in arrays where k.hasPrefix("optimizer/") {
            state[String(k.dropFirst(10))] = try tensor(from: a, name: k, path: path)
        }
        optimizer.loadState(state)
    }

    static func tensor(from a: NPYArray, name: String, path: String) throws -> Tensor {
        let c = a.cOrdered()
        switch c.data {
        case .float32(let f): return try Tensor(validatingShape: c.shape, scalars: f)
        case .float64(let d): return try Tensor(validatingShape: c.shape, scalars: d.map { Float($0) })
        default: throw ISACError.malformedFile(path: path, reason: "\(name) must be float32 or float64")
        }
    }
}

/// Everything besides the weights that a training loop needs to continue bit-identically: optimizer
/// state (moments, step), named counters (epoch, global step, best score, …) and named generator
/// states. Saved next to the model parameters in one `.npz`:
///   `optimizer/<name>` (float32, from `Optimizer.stateTensors`),
///   `state/<name>` (float64 scalar; integers up to 2⁵³ are exact),
///   `rng/<name>` (int64 × 6, `RandomSource.state` bit patterns).
/// Generic: the extended-target trainer and any other loop (e.g. `multitarget train`) use the same
/// archive layout; see docs/learning.md.
public struct TrainingState {
    /// Optimizer state tensors by name, saved as `optimizer/<name>`.
    public var optimizer: [String: Tensor] = [:]
    /// Scalar counters by name, saved as `state/<name>` (float64).
    public var counters: [String: Double] = [:]
    /// Random generators by name, saved as `rng/<name>`.
    public var generators: [String: RandomSource] = [:]
    /// Empty state.
    public init() {}

    /// Writes `model` (+ BN statistics) and this state atomically to `path`.
    public func save<M: Layer>(_ model: M, to path: String, statistics: [String: BatchNormStatistics] = [:],
                               extra: [String: Tensor] = [:]) throws {
        var arrays: [String: NPYArray] = [:]
        for (name, t) in model.namedParameters { arrays[name] = NPYArray(float32: t.scalars, shape: t.shape) }
        for (name, s) in statistics {
            arrays[name + ".running_mean"] = NPYArray(float32: s.mean, shape: [s.mean.count])
            arrays[name + ".running_var"] = NPYArray(float32: s.variance, shape: [s.variance.count])
        }
        for (name, t) in optimizer { arrays["optimizer/" + name] = NPYArray(float32: t.scalars, shape: t.shape) }
        for (name, v) in counters { arrays["state/" + name] = NPYArray(float64: [v], shape: [1]) }
        for (name, g) in generators {
            arrays["rng/" + name] = NPYArray(int64: g.state.map { Int64(bitPattern: $0) }, shape: [6])
        }
        for (name, t) in extra { arrays["extra/" + name] = NPYArray(float32: t.scalars, shape: t.shape) }
        try NPZ.write(arrays, to: path)
    }

    /// Loads `model` (+ BN statistics) and returns the state stored by `save`; `extra` tensors are
    /// returned under their names.
    /// - Throws: `ISACError.malformedFile` for missing parameters, wrong shapes or a corrupt generator state.
    public static func load<M: Layer>(into model: inout M, from path: String,
                                      statistics: [String: BatchNormStatistics] = [:]) throws -> (TrainingState, [String: Tensor]) {
        try Checkpoint.load(into: &model, from: path, statistics: statistics)
        let arrays = try NPZ.read(from: path)
        var s = TrainingState()
        var extra: [String: Tensor] = [:]
        for (k, a) in arrays {
            if k.hasPrefix("optimizer/") {
                s.optimizer[String(k.dropFirst(10))] = try Checkpoint.tensor(from: a, name: k, path: path)
            } else if k.hasPrefix("state/") {
                guard case .float64(let d) = a.data, d.count == 1 else {
                    throw ISACError.malformedFile(path: path, reason: "\(k) must be one float64")
                }
                s.counters[String(k.dropFirst(6))] = d[0]
            } else if k.hasPrefix("rng/") {
                guard case .int64(let w) = a.data else { throw ISACError.malformedFile(path: path, reason: "\(k) must be int64") }
                do { s.generators[String(k.dropFirst(4))] = try RandomSource(state: w.map { UInt64(bitPattern: $0) }) } catch {
                    throw ISACError.malformedFile(path: path, reason: "\(k): \(error)")
                }
            } else if k.hasPrefix("extra/") {
                extra[String(k.dropFirst(6))] = try Checkpoint.tensor(from: a, name: k, path: path)
            }
        }
        return (s, extra)
    }

    /// Counter `name`, or throws naming it when the checkpoint lacks it.
    public func counter(_ name: String, path: String) throws -> Double {
        guard let v = counters[name] else { throw ISACError.malformedFile(path: path, reason: "missing state/\(name) (not a training checkpoint?)") }
        return v
    }
}

extension ParameterContainer {
    /// True when every parameter scalar is finite (a diverged model is never saved as a result).
    public var allParametersFinite: Bool {
        var copy = self, ok = true
        copy.forEachParameter("") { _, t in if ok { ok = t.scalars.allSatisfy { $0.isFinite } } }
        return ok
    }
}

/// PyTorch `state_dict` interop. Naming and layout rules (the inverse is applied by `loadTorch`):
///   * paths are kept (`semantic.block1.attention.query.weight`), so a PyTorch module whose attributes
///     carry the Swift property names loads the archive with `load_state_dict` (strict);
///   * `Dense.weight` [in, out] → `weight` [out, in] (nn.Linear), transposed; `bias` unchanged;
///   * `Conv2D.filter` [Cout, Cin, k, k] → `weight` (same layout as nn.Conv2d);
///   * `BatchNorm2D`/`LayerNorm` `gamma`/`beta` → `weight`/`bias`; BN buffers `running_mean`,
///     `running_var` (unbiased, momentum 0.1 as PyTorch) and `num_batches_tracked` (int64, 0: not tracked);
///   * `Embedding.table` → `weight`; free tensors (embeddings, mixing coefficients) keep their names.
/// A rank-2 parameter named `weight` is a `Dense` weight by construction of `Layers.swift`.
public enum TorchStateDict {
    /// PyTorch name of a Swift parameter path.
    public static func torchName(_ path: String) -> String {
        var parts = path.split(separator: ".").map(String.init)
        guard let last = parts.last else { return path }
        switch last {
        case "filter", "gamma", "table": parts[parts.count - 1] = "weight"
        case "beta": parts[parts.count - 1] = "bias"
        default: break
        }
        return parts.joined(separator: ".")
    }

    /// True for a rank-2 tensor whose path is `weight` or ends in `.weight` (a `Dense` weight).
    public static func isDenseWeight(_ path: String, _ t: Tensor) -> Bool { t.rank == 2 && (path.hasSuffix(".weight") || path == "weight") }

    /// Transpose of a rank-2 tensor, [r, c] → [c, r].
    public static func transposed2D(_ t: Tensor) -> Tensor {
        let r = t.shape[0], c = t.shape[1]
        var out = [Float](repeating: 0, count: t.count)
        for i in 0..<r { for j in 0..<c { out[j * r + i] = t.scalars[i * c + j] } }
        return Tensor(shape: [c, r], scalars: out)
    }

    /// The model (+ BN buffers) as PyTorch-named arrays.
    public static func arrays<M: Layer>(_ model: M, statistics: [String: BatchNormStatistics] = [:]) -> [String: NPYArray] {
        var arrays: [String: NPYArray] = [:]
        for (path, t) in model.namedParameters {
            let v = isDenseWeight(path, t) ? transposed2D(t) : t
            arrays[torchName(path)] = NPYArray(float32: v.scalars, shape: v.shape)
        }
        for (name, s) in statistics {
            arrays[name + ".running_mean"] = NPYArray(float32: s.mean, shape: [s.mean.count])
            arrays[name + ".running_var"] = NPYArray(float32: s.variance, shape: [s.variance.count])
            arrays[name + ".num_batches_tracked"] = NPYArray(int64: [0], shape: [])
        }
        return arrays
    }

    /// Writes `arrays(model, statistics:)` atomically as `.npz` (load in PyTorch with
    /// `{k: torch.from_numpy(v) for k, v in np.load(path).items()}`).
    public static func save<M: Layer>(_ model: M, to path: String, statistics: [String: BatchNormStatistics] = [:]) throws {
        try NPZ.write(arrays(model, statistics: statistics), to: path)
    }

    /// Loads a PyTorch-named archive (e.g. a `state_dict` saved from PyTorch with NumPy) into `model`.
    /// - Throws: `ISACError.malformedFile` naming the missing key or wrong shape.
    public static func load<M: Layer>(into model: inout M, from path: String, statistics: [String: BatchNormStatistics] = [:]) throws {
        let a = try NPZ.read(from: path)
        var failure: ISACError?
        model.forEachParameter("") { p, t in
            guard failure == nil else { return }
            let name = torchName(p)
            guard let arr = a[name] else { failure = .malformedFile(path: path, reason: "missing \(name)"); return }
            do {
                var v = try Checkpoint.tensor(from: arr, name: name, path: path)
                if isDenseWeight(p, t) && v.rank == 2 { v = transposed2D(v) }
                guard v.shape == t.shape else {
                    failure = .malformedFile(path: path, reason: "\(name) has shape \(v.shape), expected \(isDenseWeight(p, t) ? [t.shape[1], t.shape[0]] : t.shape)")
                    return
                }
                t = v
            } catch let e as ISACError { failure = e } catch { failure = .io("\(error)") }
        }
        if let f = failure { throw f }
        for (name, s) in statistics {
            guard let m = a[name + ".running_mean"], let v = a[name + ".running_var"] else {
                throw ISACError.malformedFile(path: path, reason: "missing \(name).running_mean/running_var")
            }
            let mt = try Checkpoint.tensor(from: m, name: name, path: path), vt = try Checkpoint.tensor(from: v, name: name, path: path)
            guard mt.count == s.mean.count, vt.count == s.variance.count else {
                throw ISACError.malformedFile(path: path, reason: "\(name) statistics have the wrong size")
            }
            s.mean = mt.scalars; s.variance = vt.scalars
        }
    }
}
