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
