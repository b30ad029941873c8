import Foundation
import ISACIO
import Learning
import Linalg

/// An NNBL checkpoint (`isac multitarget train --method nnbl`): the `.npz` of `NNBLModel.save` (float32 parameters
/// and BN running statistics by path) plus a `meta_json` uint8 array, a JSON object of strings holding
/// `method = "nnbl"`, the full `NNBLArchitecture` (so a checkpoint reloads without the training flags) and the
/// system key of `LearnedCheckpoint.systemKey` + `targets_max` that an evaluation must match.
///
/// `meta_json` is the same field the impairment/dictionary checkpoints carry, so `kind(at:)` tells the three apart
/// from the metadata alone.
public struct NNBLCheckpoint {
    /// The stored NN-BL model.
    public var model: NNBLModel
    /// String metadata stored with the model.
    public var meta: [String: String]

    /// Checkpoint from a model and its metadata.
    public init(model: NNBLModel, meta: [String: String]) { self.model = model; self.meta = meta }

    /// The parameters an evaluation must share with training (K, S, N_θ, carrier, σ_λ, impairment seed, T_max).
    public static func systemKey(config c: MultiTargetConfig, impairmentSeed: UInt64) -> [String: String] {
        var k = LearnedCheckpoint.systemKey(config: c, impairmentSeed: impairmentSeed)
        k["targets_max"] = "\(c.maxTargets)"
        return k
    }

    /// Architecture fields of `meta_json`.
    static func architectureMeta(_ a: NNBLArchitecture) -> [String: String] {
        ["arch_antennas": "\(a.antennas)", "arch_targets_max": "\(a.maxTargets)", "map_angles": "\(a.mapAngles)",
         "map_delays": "\(a.mapDelays)", "precoder_hidden": "\(a.precoderHidden)", "precoder_layers": "\(a.precoderLayers)",
         "stem_channels": "\(a.stemChannels)", "pool_kernel": "\(a.poolKernel)",
         "block_channels": a.blockChannels.map(String.init).joined(separator: ","),
         "block_strides": a.blockStrides.map(String.init).joined(separator: ","), "head_hidden": "\(a.headHidden)"]
    }

    static func architecture(from m: [String: String], path: String) throws -> NNBLArchitecture {
        func int(_ k: String) throws -> Int {
            guard let v = Int(m[k] ?? "") else {
                throw ISACError.invalidParameter(name: "--checkpoint", value: path, valid: "NNBL meta_json lacks integer \(k)")
            }
            return v
        }
        func ints(_ k: String) throws -> [Int] {
            let parts = (m[k] ?? "").split(separator: ",").map { Int($0) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                throw ISACError.invalidParameter(name: "--checkpoint", value: path, valid: "NNBL meta_json lacks integer list \(k)")
            }
            return parts.map { $0! }
        }
        var a = NNBLArchitecture(antennas: try int("arch_antennas"), maxTargets: try int("arch_targets_max"),
                                 mapAngles: try int("map_angles"), mapDelays: try int("map_delays"),
                                 precoderHidden: try int("precoder_hidden"), stemChannels: try int("stem_channels"),
                                 poolKernel: try int("pool_kernel"), blockChannels: try ints("block_channels"),
                                 blockStrides: try ints("block_strides"), headHidden: try int("head_hidden"))
        a.precoderLayers = try int("precoder_layers")
        try a.validate()
        return a
    }

    /// Writes parameters, BN statistics and `meta_json` (architecture + `meta`, e.g. `systemKey` and the complexity)
    /// atomically to `path`.
    public static func write(model: NNBLModel, meta extra: [String: String], to path: String) throws {
        var arrays: [String: NPYArray] = [:]
        for (name, t) in model.namedParameters { arrays[name] = NPYArray(float32: t.scalars, shape: t.shape) }
        for (name, s) in model.statistics {
            arrays[name + ".running_mean"] = NPYArray(float32: s.mean, shape: [s.mean.count])
            arrays[name + ".running_var"] = NPYArray(float32: s.variance, shape: [s.variance.count])
        }
        var meta = extra.merging(architectureMeta(model.architecture)) { _, b in b }
        meta["method"] = "nnbl"
        meta["range_scale_m"] = "\(model.rangeScaleMeters)"
        let json = try JSONOutput.string(meta)
        arrays["meta_json"] = NPYArray(uint8: Array(json.utf8), shape: [json.utf8.count])
        try AtomicFile.write(try NPZ.encode(arrays), to: path)
    }

    /// `meta_json` of a multi-target checkpoint, or nil when the archive has none.
    static func metaJSON(_ arrays: [String: NPYArray]) -> [String: String]? {
        guard let mj = arrays["meta_json"], case let .uint8(bytes) = mj.data else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: String]
    }

    /// The `method` recorded in the checkpoint's metadata: "impairment", "dictionary" or "nnbl".
    /// - Throws: `invalidParameter(--checkpoint)` when the file has no `meta_json`.
    public static func kind(at path: String) throws -> String {
        guard let m = metaJSON(try NPZ.read(from: path)), let k = m["method"] else {
            throw ISACError.invalidParameter(name: "--checkpoint", value: path,
                                             valid: "must be an .npz written by `isac multitarget train` (meta_json missing)")
        }
        return k
    }

    /// Loads an NNBL checkpoint: architecture from `meta_json`, then parameters and BN statistics.
    public static func read(from path: String) throws -> NNBLCheckpoint {
        guard let m = metaJSON(try NPZ.read(from: path)), m["method"] == "nnbl" else {
            throw ISACError.invalidParameter(name: "--checkpoint", value: path, valid: "must be an NNBL checkpoint (meta_json method = nnbl)")
        }
        var model = try NNBLModel.load(try architecture(from: m, path: path), from: path)
        if let r = Float(m["range_scale_m"] ?? "") { model.rangeScaleMeters = r }
        return NNBLCheckpoint(model: model, meta: m)
    }

    /// Throws unless the checkpoint was trained for the same system (`systemKey`).
    public func checkCompatible(config: MultiTargetConfig, impairmentSeed: UInt64) throws {
        for (k, v) in Self.systemKey(config: config, impairmentSeed: impairmentSeed).sorted(by: { $0.key < $1.key }) where meta[k] != v {
            throw ISACError.invalidParameter(name: "--checkpoint", value: "\(k) = \(meta[k] ?? "missing")",
                                             valid: "was trained for a different system: pass the training value \(k) (now \(v))")
        }
    }

    /// The evaluation system of the CLI (`evaluate`/`tradeoff --checkpoint`): checks `systemKey`, then builds the
    /// NNBL system on the true array of `impairmentSeed` with the checkpoint's architecture. Evaluate with
    /// `evaluate(model: self.model, …)` (threshold calibrated to the target p_fa on separate calibration draws).
    public func system(config: MultiTargetConfig, impairmentSeed: UInt64) throws -> NNBLSystem {
        try checkCompatible(config: config, impairmentSeed: impairmentSeed)
        let truth = ArrayImpairment.realization(config: config, seed: impairmentSeed)
        return try NNBLSystem(config: config, trueArray: truth, architecture: model.architecture)
    }

    /// Label of the evaluation rows: "nnbl-full", "nnbl-limited" or "nnbl" for a custom architecture.
    public var label: String { meta["complexity"].map { "nnbl-\($0)" } ?? "nnbl" }
}
