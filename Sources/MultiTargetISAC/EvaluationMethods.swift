import Foundation
import Linalg
import Metrics
import Arrays
import Estimation

/// One curve/row of a multitarget experiment: a baseline mode, the differentiable-OMP receiver with a fixed
/// assumed array, or a learned checkpoint, with the shared calibrated-evaluation protocol.
public struct EvaluationMethod {
    /// Curve label of the method.
    public var label: String
    /// Drawn dashed (genie / known-impairment curves).
    public var dashed: Bool
    /// Outcomes of samples `first ..< first + n` (scene streams = indices) at (η, φ) and scenario seed.
    public var run: (_ eta: Double, _ phi: Double, _ n: Int, _ first: UInt64, _ seed: UInt64,
                     _ progress: @escaping @Sendable (Int) -> Void) throws -> [SampleOutcome]
    /// System configuration the method is evaluated under.
    public let config: MultiTargetConfig
    /// GOSPA metric used to score the estimates.
    public let gospa: GOSPA
    /// Target false-alarm probability p_fa (0…1) the detection threshold is calibrated to.
    public let targetPfa: Double

    /// Wraps a sample runner `run` with its curve label, line style, configuration, GOSPA metric and target p_fa.
    public init(label: String, dashed: Bool,
                run: @escaping (Double, Double, Int, UInt64, UInt64, @escaping @Sendable (Int) -> Void) throws -> [SampleOutcome],
                config: MultiTargetConfig, gospa: GOSPA, targetPfa: Double) {
        self.label = label; self.dashed = dashed; self.run = run; self.config = config; self.gospa = gospa; self.targetPfa = targetPfa
    }

    /// The shared protocol (`BaselineSystem.calibratedEvaluation`): δ calibrated to `targetPfa`, then fresh test draws.
    public func evaluate(_ eta: Double, _ phi: Double, _ samples: Int, _ cal: Int, _ seed: UInt64,
                         _ progress: @escaping @Sendable (Int) -> Void) throws -> OperatingPointMetrics {
        try BaselineSystem.calibratedEvaluation(config: config, samples: samples, calibrationSamples: cal, targetPfa: targetPfa,
                                                eta: eta, phi: phi, gospa: gospa) { n, first in
            try run(eta, phi, n, first, seed, progress)
        }
    }

    /// `evaluate` plus the GOSPA decomposition of the test samples at the calibrated δ (`CalibratedEvaluation`).
    public func evaluateWithGOSPA(_ eta: Double, _ phi: Double, _ samples: Int, _ cal: Int, _ seed: UInt64,
                                  _ progress: @escaping @Sendable (Int) -> Void) throws -> (metrics: OperatingPointMetrics, gospa: GOSPABreakdown) {
        try CalibratedEvaluation.run(config: config, samples: samples, calibrationSamples: cal, targetPfa: targetPfa,
                                     eta: eta, phi: phi, gospa: gospa) { n, first in
            try run(eta, phi, n, first, seed, progress)
        }
    }
}

/// The receiver of a baseline curve (`--receiver`).
public enum ReceiverKind: String, Sendable, CaseIterable {
    /// Algorithm 1 (OMP on the assumed array's grid).
    case omp
    /// Differentiable OMP (Sec. IV-B) with the assumed array fixed.
    case domp
}

/// Builds the curves of `evaluate`, `tradeoff` and `pfa-sweep`.
public enum EvaluationMethods {
    /// One curve per (mode, receiver) pair: `omp` → the baseline (label = mode), `domp` → `domp-<mode>`; known
    /// impairments are drawn dashed.
    public static func baseline(modes: [ImpairmentMode], receivers: [ReceiverKind], config cfg: MultiTargetConfig, gospa: GOSPA,
                                impairmentSeed: UInt64, targetPfa: Double, domp: DifferentiableOMPSettings) throws -> [EvaluationMethod] {
        guard receivers.count == modes.count else {
            throw ISACError.shapeMismatch("\(receivers.count) receivers for \(modes.count) --impairments entries")
        }
        return try zip(modes, receivers).map { mode, receiver in
            switch receiver {
            case .omp:
                let sys = try BaselineSystem(config: cfg, mode: mode, impairmentSeed: impairmentSeed)
                return EvaluationMethod(label: mode.rawValue, dashed: mode == .known, run: { e, p, n, f, sd, pr in
                    try sys.runBatch(count: n, firstIndex: f, seed: sd, eta: e, phi: p, progress: pr)
                }, config: cfg, gospa: gospa, targetPfa: targetPfa)
            case .domp:
                let truth = ArrayImpairment.realization(config: cfg, seed: impairmentSeed)
                let nominal = ArrayImpairment.nominal(antennas: cfg.antennas, wavelengthMeters: cfg.wavelengthMeters)
                let phys = mode == .none ? nominal : truth
                let assumed = mode == .known ? truth : nominal
                let sys = try LearnedISACSystem(config: cfg, trueArray: phys, model: .impairment(assumed), settings: domp)
                return EvaluationMethod(label: "domp-\(mode.rawValue)", dashed: mode == .known, run: { e, p, n, f, sd, pr in
                    try sys.runBatch(count: n, firstIndex: f, seed: sd, eta: e, phi: p, progress: pr)
                }, config: cfg, gospa: gospa, targetPfa: targetPfa)
            }
        }
    }

    /// A learned checkpoint as a curve: NNBL (its CNNs; kind read from the file) or impairment/dictionary learning
    /// (differentiable-OMP receiver, `…-learning`). Also returns the NNBL checkpoint (nil for the others).
    public static func checkpoint(path: String, config cfg: MultiTargetConfig, gospa: GOSPA, impairmentSeed: UInt64,
                                  targetPfa: Double) throws -> (method: EvaluationMethod, nnbl: NNBLCheckpoint?) {
        if try NNBLCheckpoint.kind(at: path) == "nnbl" {
            let ck = try NNBLCheckpoint.read(from: path)
            let sys = try ck.system(config: cfg, impairmentSeed: impairmentSeed)
            let model = ck.model
            return (EvaluationMethod(label: ck.label, dashed: false, run: { e, p, n, f, sd, pr in
                try sys.runBatch(model: model, count: n, firstIndex: f, seed: sd, eta: e, phi: p, progress: pr)
            }, config: cfg, gospa: gospa, targetPfa: targetPfa), ck)
        }
        let lc = try LearnedCheckpointEvaluation(path: path, config: cfg, impairmentSeed: impairmentSeed)
        let sys = lc.system
        return (EvaluationMethod(label: "\(lc.checkpoint.model.methodName)-learning", dashed: false, run: { e, p, n, f, sd, pr in
            try sys.runBatch(count: n, firstIndex: f, seed: sd, eta: e, phi: p, progress: pr)
        }, config: cfg, gospa: gospa, targetPfa: targetPfa), nil)
    }
}
