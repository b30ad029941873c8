import Foundation
import Linalg
import Arrays
import Numerics
import Metrics
import ISACIO
import Estimation

/// Adam (Kingma & Ba) on a flat Double parameter vector. The learnable parameters here are physical
/// quantities (spacings in metres, dictionary entries) that need float64 resolution for µm-size steps on
/// mm-size values, so this is kept separate from the float32 `Learning` engine.
public struct AdamState: Sendable {
    /// Adam moment decay rates β₁, β₂ and the denominator offset ε.
    public var beta1 = 0.9, beta2 = 0.999, epsilon: Double
    public private(set) var m: [Double], v: [Double]
    public private(set) var step = 0
    /// Zero first/second moments for `count` parameters.
    public init(count: Int, epsilon: Double) {
        m = [Double](repeating: 0, count: count); v = m; self.epsilon = epsilon
    }
    /// θ ← θ − lr · m̂/(√v̂ + ε).
    public mutating func update(_ params: inout [Double], gradient g: [Double], learningRate lr: Double) {
        step += 1
        let c1 = 1 - Foundation.pow(beta1, Double(step)), c2 = 1 - Foundation.pow(beta2, Double(step))
        for i in params.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            params[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}

/// Settings of the end-to-end training (paper Sec. V-A: Adam, lr 1e-7 for impairments and 5e-3 for the
/// dictionary, B = 1500–3000, 25k–100k iterations; presets scale this down for 2 cores).
/// What `isac multitarget train --method` learns: the K element spacings (impairment learning), the K × N_θ
/// steering dictionary (dictionary learning), or the NNBL networks (paper App. A).
public enum TrainingMethod: String, Sendable, CaseIterable, Codable { case impairment, dictionary, nnbl }

/// Training budget (`--schedule`): `small` (minutes on 2 cores) or the paper's (B = 1500, 25 000 steps).
public enum TrainingSchedule: String, Sendable, CaseIterable, Codable { case small, paper }

/// Where training scenes put their targets (`--train-sector`): a random sector per scene (paper: mean ~ U[−60°, 60°],
/// span ~ U[10°, 20°]) or the fixed test sector.
public enum TrainingSectorChoice: String, Sendable, CaseIterable, Codable { case random, test }

/// Transmitter (LS beamformer) columns of a dictionary checkpoint at evaluation (`--tx-columns`, ablation).
public enum TransmitterColumns: String, Sendable, CaseIterable, Codable { case learned, nominal }

/// Settings of the end-to-end training of impairment / dictionary learning (Adam, cosine-annealed learning rate).
public struct TrainingSettings: Sendable {
    /// Number of Adam steps.
    public var steps = 200
    /// Scenes per batch B.
    public var batchSize = 32
    /// Initial (peak) Adam learning rate.
    public var learningRate = 2e-6
    /// Cosine annealing from `learningRate` to `learningRate·finalFraction` over `steps`.
    public var finalLearningRateFraction = 0.1
    /// η ~ U[etaLow, etaHigh] per training scene (the paper does not state the training η; sensing needs power
    /// on the targets to produce a gradient, so the default is [0.5, 1]). φ = 0.
    public var etaLow = 0.5
    public var etaHigh = 1.0
    /// Position loss: eq. (18) (`gospa`, default) or the single-target MSE of Sec. V-C (`mse`, `--loss mse`).
    public var loss: PositionLoss = .gospa
    /// Training scenes: `RandomSource(seed: seed, stream: 2⁴⁰ + step·B + b)` (disjoint from evaluation streams).
    public var seed: UInt64 = 1
    /// Default settings.
    public init() {}
    /// Throws if steps, batch size, learning rate, `finalLearningRateFraction` or the η range is out of range.
    public func validate() throws {
        try MultiTargetLimits.checkTraining(steps: steps, batch: batchSize, learningRate: learningRate)
        try Check.inRange(finalLearningRateFraction, 0, 1, "finalLearningRateFraction")
        try Check.inRange(etaLow, 0, 1, "--train-eta-min")
        try Check.inRange(etaHigh, etaLow, 1, "--train-eta-max")
    }
    /// Learning rate at `step` (0-based).
    public func learningRate(at step: Int) -> Double {
        let t = steps > 1 ? Double(step) / Double(steps - 1) : 1
        let lo = learningRate * finalLearningRateFraction
        return lo + (learningRate - lo) * 0.5 * (1 + Foundation.cos(Double.pi * t))
    }
}

/// One logged training step.
public struct TrainingRecord: Sendable {
    /// Step index (0-based).
    public var step: Int
    /// Mean loss over the batch: metres (eq. 18) or m² (MSE).
    public var loss: Double
    public var learningRate: Double
    /// ‖d̂ − d‖₂ over the effective spacings (impairment learning), metres; nil for dictionary learning.
    public var spacingErrorMeters: Double?
}

/// End-to-end trainer of `LearnedISACSystem` parameters.
public enum ISACTrainer {
    /// Trains `initial` on scenes drawn from `config` (use a random target-sector prior for the paper setting).
    /// - Returns: final parameters and the per-step log.
    public static func train(config: MultiTargetConfig, trueArray: ArrayImpairment, initial: LearnedSteering,
                             domp: DifferentiableOMPSettings, settings: TrainingSettings, gospa: GOSPA,
                             progress: ((TrainingRecord) -> Void)? = nil) throws -> (LearnedSteering, [TrainingRecord]) {
        try settings.validate()
        var model = initial
        var params: [Double]
        switch initial {
        case let .impairment(a): params = a.spacingsMeters
        case let .dictionary(m): params = m.data.flatMap { [$0.real, $0.imaginary] }
        }
        // ε relative to the gradient scale of the parameters: metres need a tiny ε, dictionary entries the usual 1e-8.
        var adam = AdamState(count: params.count, epsilon: initial.methodName == "impairment" ? 1e-20 : 1e-8)
        var log: [TrainingRecord] = []
        let generator = try ScenarioGenerator(config: config, trueArray: trueArray)
        for step in 0..<settings.steps {
            let sys = try LearnedISACSystem(config: config, trueArray: trueArray, model: model, settings: domp)
            var batch: [(SceneDraw, Double)] = []
            for b in 0..<settings.batchSize {
                var rng = RandomSource(seed: settings.seed, stream: (1 << 40) + UInt64(step * settings.batchSize + b))
                let eta = rng.uniform(settings.etaLow, settings.etaHigh)
                batch.append((generator.draw(rng: &rng), eta))
            }
            let g = try sys.batchGradient(batch, phi: 0, gospa: gospa, loss: settings.loss)
            let pg = sys.parameterGradient(g.steering)
            guard pg.allSatisfy(\.isFinite) else { throw ISACError.nonFinite(name: "training gradient at step \(step)") }
            let lr = settings.learningRate(at: step)
            adam.update(&params, gradient: pg, learningRate: lr)
            switch initial {
            case let .impairment(a):
                var b = a; b.spacingsMeters = params; model = .impairment(b)
            case let .dictionary(m):
                var d = m
                for i in d.data.indices { d.data[i] = CDouble(params[2 * i], params[2 * i + 1]) }
                model = .dictionary(d)
            }
            var err: Double? = nil
            if case let .impairment(a) = model { err = spacingError(a, trueArray) }
            let rec = TrainingRecord(step: step, loss: g.loss, learningRate: lr, spacingErrorMeters: err)
            log.append(rec)
            progress?(rec)
        }
        return (model, log)
    }

    /// Element-position error x̂ − x (both centred) split into its linear-in-k part (an apparent aperture scaling,
    /// the only part that moves the angle-map peak to first order) and the rest: RMS of each, metres.
    public static func positionErrorParts(_ a: ArrayImpairment, _ truth: ArrayImpairment) -> (linearRMS: Double, residualRMS: Double) {
        let e = zip(a.geometry.positions, truth.geometry.positions).map { $0.x - $1.x }
        let c = Double(e.count - 1) / 2
        let num = e.enumerated().reduce(0) { $0 + (Double($1.offset) - c) * $1.element }
        let den = e.indices.reduce(0) { $0 + (Double($1) - c) * (Double($1) - c) }
        let slope = den > 0 ? num / den : 0
        let mean = e.reduce(0, +) / Double(max(e.count, 1))
        var lin = 0.0, res = 0.0
        for (k, v) in e.enumerated() {
            let l = slope * (Double(k) - c)
            lin += l * l; res += (v - mean - l) * (v - mean - l)
        }
        let n = Double(max(e.count, 1))
        return ((lin / n).squareRoot(), (res / n).squareRoot())
    }

    /// ‖d̂ − d‖₂ over the effective spacings, metres.
    public static func spacingError(_ a: ArrayImpairment, _ truth: ArrayImpairment) -> Double {
        zip(a.effectiveSpacings, truth.effectiveSpacings).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    }
}

/// A trained model on disk: `.npz` readable from NumPy with
/// `spacings_m` (float64 [K], impairment learning) or `dictionary` (complex128 [K, N_θ], dictionary learning),
/// and `meta_json` (uint8 bytes of a JSON object: method, system parameters it was trained for, DOMP settings,
/// training summary) — `json.loads(np.load(f)["meta_json"].tobytes())`.
public struct LearnedCheckpoint: Sendable {
    /// The learned steering dictionary (spacings or free dictionary).
    public var model: LearnedSteering
    /// Differentiable-OMP settings (temperature, window scale) the model was trained with.
    public var domp: DifferentiableOMPSettings
    /// System parameters that must match at evaluation (K, N_θ, …, impairment seed).
    public var meta: [String: String]

    /// Memberwise initialiser.
    public init(model: LearnedSteering, domp: DifferentiableOMPSettings, meta: [String: String]) {
        self.model = model; self.domp = domp; self.meta = meta
    }

    /// The parameters an evaluation must share with training (anything else, e.g. η or the test sector, may differ).
    public static func systemKey(config c: MultiTargetConfig, impairmentSeed: UInt64) -> [String: String] {
        ["antennas": "\(c.antennas)", "subcarriers": "\(c.subcarriers)", "n_theta": "\(c.angleGridSize)",
         "carrier_hz": "\(c.carrierHz)", "spacing_std_m": "\(c.spacingStdMeters)", "spacing_model": c.spacingModel.rawValue,
         "impairment_seed": "\(impairmentSeed)"]
    }

    /// Writes the checkpoint as `.npz` (model array plus `meta_json` with `method`, `temperature`, `window_scale`), atomically.
    public func write(to path: String) throws {
        var arrays: [String: NPYArray] = [:]
        switch model {
        case let .impairment(a): arrays["spacings_m"] = NPYArray(float64: a.spacingsMeters, shape: [a.spacingsMeters.count])
        case let .dictionary(m): arrays["dictionary"] = try NPYArray(matrix: m)
        }
        var meta = self.meta
        meta["method"] = model.methodName
        meta["temperature"] = "\(domp.temperature)"
        meta["window_scale"] = "\(domp.windowScale)"
        let json = try JSONOutput.string(meta)
        arrays["meta_json"] = NPYArray(uint8: Array(json.utf8), shape: [json.utf8.count])
        try AtomicFile.write(try NPZ.encode(arrays), to: path)
    }

    /// Reads a checkpoint written by `write(to:)`; throws if `meta_json` or the DOMP settings are missing.
    public static func read(from path: String) throws -> LearnedCheckpoint {
        let a = try NPZ.read(from: path)
        guard let mj = a["meta_json"], case let .uint8(bytes) = mj.data,
              let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String],
              let method = obj["method"] else {
            throw ISACError.invalidParameter(name: "--checkpoint", value: path, valid: "must be an .npz written by `isac multitarget train` (meta_json missing)")
        }
        guard let t = Double(obj["temperature"] ?? ""), let w = Double(obj["window_scale"] ?? "") else {
            throw ISACError.invalidParameter(name: "--checkpoint", value: path, valid: "meta_json lacks temperature/window_scale")
        }
        let model: LearnedSteering
        switch method {
        case "impairment":
            guard let s = a["spacings_m"], let lam = Double(obj["carrier_hz"] ?? "").map({ speedOfLight / $0 }),
                  let sm = ArrayImpairment.SpacingModel(rawValue: obj["spacing_model"] ?? "") else {
                throw ISACError.invalidParameter(name: "--checkpoint", value: path, valid: "impairment checkpoint needs spacings_m, carrier_hz, spacing_model")
            }
            model = .impairment(ArrayImpairment(spacingsMeters: try s.doubles(), wavelengthMeters: lam, model: sm))
        case "dictionary":
            guard let d = a["dictionary"] else {
                throw ISACError.invalidParameter(name: "--checkpoint", value: path, valid: "dictionary checkpoint needs `dictionary`")
            }
            model = .dictionary(try d.complexMatrix())
        default:
            throw ISACError.invalidParameter(name: "--checkpoint", value: method, valid: "method must be impairment or dictionary")
        }
        return LearnedCheckpoint(model: model, domp: DifferentiableOMPSettings(temperature: t, windowScale: w), meta: obj)
    }

    /// Throws unless the checkpoint was trained for the same system (`systemKey`).
    public func checkCompatible(config: MultiTargetConfig, impairmentSeed: UInt64) throws {
        for (k, v) in Self.systemKey(config: config, impairmentSeed: impairmentSeed) where meta[k] != v {
            throw ISACError.invalidParameter(name: "--checkpoint", value: "\(k) = \(meta[k] ?? "missing")",
                                             valid: "was trained for a different system: pass the training value \(k) (now \(v))")
        }
    }
}
