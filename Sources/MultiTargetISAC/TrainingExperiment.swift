import Foundation
import Linalg
import ISACIO
import Metrics
import Arrays
import Estimation

/// What `isac multitarget train` asks for, independent of the method (the CLI flags; nil = the schedule's default).
public struct TrainingRequest: Sendable {
    /// What to learn (`--method`): impairment, dictionary or NNBL.
    public var method: TrainingMethod
    /// Training budget preset (`--schedule`): small or paper.
    public var schedule: TrainingSchedule
    /// Training seed (scene streams and network initialisation).
    public var seed: UInt64
    /// Training steps override (`--steps`); nil = the schedule's default.
    public var steps: Int?
    /// Batch size override B (`--batch`); nil = the schedule's default.
    public var batch: Int?
    /// Learning-rate override (`--lr`); nil = the schedule's default.
    public var learningRate: Double?
    /// Differentiable-OMP settings (temperature, window scale) for impairment/dictionary learning.
    public var domp: DifferentiableOMPSettings
    /// Lower end of the training η range, η ~ U[etaMin, etaMax].
    public var etaMin: Double
    /// Upper end of the training η range.
    public var etaMax: Double
    /// Training-scene target sector (`--train-sector`): random per scene or the fixed test sector.
    public var trainSector: TrainingSectorChoice
    /// nil = auto: MSE for T_max = 1 (the paper's single-target Figs. 5–6), else GOSPA (eq. 18).
    public var loss: PositionLoss?
    /// Test η, test draws (and as many calibration draws; 0 = no test), test scenario seed.
    public var testEta: Double
    public var testSamples: Int
    public var testSeed: UInt64
    public var targetPfa: Double
    public var impairmentSeed: UInt64
    // NNBL only
    /// NNBL network size (`--complexity`): full or limited.
    public var complexity: NNBLComplexity
    /// NNBL input-map angle points N_θ; nil = the schedule's default (small 64, paper 320).
    public var mapAngles: Int?
    /// NNBL input-map delay points N_τ; nil = the schedule's default (small 64, paper 128).
    public var mapDelays: Int?
    /// NNBL step-2 (detection) steps; nil = the schedule's default (small 200, paper 100 000).
    public var detectionSteps: Int?
    /// NNBL detection learning rate; nil = 1e-3.
    public var detectionLearningRate: Double?
    /// Initial range-head output bias for NNBL with T_max = 1 (see `NNBLModel.setRangeOutputBias`).
    public var rangeBiasInit: Double

    /// Memberwise initialiser; the NNBL-only fields have defaults.
    public init(method: TrainingMethod, schedule: TrainingSchedule, seed: UInt64, steps: Int?, batch: Int?, learningRate: Double?,
                domp: DifferentiableOMPSettings, etaMin: Double, etaMax: Double, trainSector: TrainingSectorChoice, loss: PositionLoss?,
                testEta: Double, testSamples: Int, testSeed: UInt64, targetPfa: Double, impairmentSeed: UInt64,
                complexity: NNBLComplexity = .full, mapAngles: Int? = nil, mapDelays: Int? = nil, detectionSteps: Int? = nil,
                detectionLearningRate: Double? = nil, rangeBiasInit: Double = 1) {
        self.method = method; self.schedule = schedule; self.seed = seed; self.steps = steps; self.batch = batch
        self.learningRate = learningRate; self.domp = domp; self.etaMin = etaMin; self.etaMax = etaMax; self.trainSector = trainSector
        self.loss = loss; self.testEta = testEta; self.testSamples = testSamples; self.testSeed = testSeed; self.targetPfa = targetPfa
        self.impairmentSeed = impairmentSeed; self.complexity = complexity; self.mapAngles = mapAngles; self.mapDelays = mapDelays
        self.detectionSteps = detectionSteps; self.detectionLearningRate = detectionLearningRate; self.rangeBiasInit = rangeBiasInit
    }

    var paper: Bool { schedule == .paper }

    /// The training scenes' system: the test system, with the paper's random sector per scene for `--train-sector random`.
    public func trainingConfig(_ cfg: MultiTargetConfig) -> MultiTargetConfig {
        var c = cfg
        if trainSector == .random {
            c.targetSector = .random(meanLowRad: radians(-60), meanHighRad: radians(60), spanLowRad: radians(10), spanHighRad: radians(20))
        }
        return c
    }

    /// Impairment/dictionary learning settings of the schedule preset (small: 400 steps × B = 32, lr 1e-5 m | 5e-3;
    /// paper: 25 000 × 1500, lr 1e-7 m | 5e-3), with the request's overrides.
    public func steeringSettings(config cfg: MultiTargetConfig) -> TrainingSettings {
        var ts = TrainingSettings()
        ts.steps = steps ?? (paper ? 25_000 : 400)
        ts.batchSize = batch ?? (paper ? 1500 : 32)
        ts.learningRate = learningRate ?? (method == .impairment ? (paper ? 1e-7 : 1e-5) : 5e-3)
        ts.etaLow = etaMin; ts.etaHigh = etaMax; ts.seed = seed
        ts.loss = loss ?? (cfg.maxTargets == 1 ? .mse : .gospa)
        return ts
    }

    /// NNBL settings of the schedule preset (small: 300 + 200 steps × B = 32; paper: 100 000 + 100 000 × 3000).
    public func nnblSettings(config cfg: MultiTargetConfig, gospa: GOSPA) throws -> NNBLTrainingSettings {
        var ts = NNBLTrainingSettings()
        ts.positionSteps = steps ?? (paper ? 100_000 : 300)
        ts.detectionSteps = detectionSteps ?? (paper ? 100_000 : 200)
        ts.batchSize = batch ?? (paper ? 3000 : 32)
        ts.positionLearningRate = learningRate ?? (paper ? 1e-2 : 1e-3)
        ts.detectionLearningRate = detectionLearningRate ?? 1e-3
        ts.plateauPatience = paper ? 10_000 : 100
        ts.etaLow = etaMin; ts.etaHigh = etaMax; ts.seed = seed
        ts.gospaCutoffMeters = gospa.cutoff
        ts.positionLoss = loss ?? (cfg.maxTargets == 1 ? .mse : .gospa)
        try ts.validate()
        return ts
    }

    /// The NNBL architecture of the schedule (input map: small 64 × 64, paper 320 × 128).
    public func nnblArchitecture(config cfg: MultiTargetConfig) throws -> NNBLArchitecture {
        try NNBLArchitecture.paper(complexity, antennas: cfg.antennas, maxTargets: cfg.maxTargets,
                                   mapAngles: mapAngles ?? (paper ? 320 : 64), mapDelays: mapDelays ?? (paper ? 128 : 64))
    }
}

/// Where `train --out DIR` puts its checkpoint, as reported in `summary.json` and `test_command`.
public enum TrainingOutput {
    /// `<out>/model.npz` for output folder `out`.
    public static func checkpointPath(out: String) -> String { out.hasSuffix("/") ? out + "model.npz" : out + "/model.npz" }

    /// The moving average over the last ≤ 10 entries of each position (the smoothed loss curve).
    public static func movingAverage10(_ ls: [Double]) -> [Double] {
        ls.indices.map { i in let lo = max(0, i - 9); return ls[lo...i].reduce(0, +) / Double(i - lo + 1) }
    }

    /// A loss figure: the batch losses and their 10-step moving average against the step.
    static func lossFigure(title: String, yLabel: String, steps: [Double], losses: [Double]) -> Figure {
        var f = Figure(title: title, xLabel: "step", yLabel: yLabel)
        f.line(x: steps, y: losses, label: "batch loss"); f.line(x: steps, y: movingAverage10(losses), label: "moving average (10)")
        return f
    }
}

/// `{"before", "after"}` of a position-error part, millimetres.
public struct BeforeAfter: Codable, Sendable {
    /// Value before training (nominal array), millimetres.
    public var before: Double
    /// Value after training (learned spacings), millimetres.
    public var after: Double
}

/// The result of impairment or dictionary learning (`train --json`, `summary.json`).
public struct SteeringTrainingReport: Encodable, Sendable {
    /// `impairment` or `dictionary`.
    public var method: String
    /// Schedule preset used (`small` or `paper`).
    public var schedule: String
    /// Training steps run.
    public var steps: Int
    /// Batch size B (scenes per step).
    public var batch: Int
    /// Initial Adam learning rate.
    public var learningRate: Double
    /// Wall time of the training loop, seconds.
    public var trainTimeSeconds: Double
    /// Number of learnable parameters (complex entries count once).
    public var parameters: Int
    /// Path of the written checkpoint `.npz`.
    public var checkpoint: String
    /// Training seed.
    public var seed: Int
    /// Training sector choice (`random` or `test`).
    public var trainSector: String
    /// Position loss used (`gospa` or `mse`).
    public var loss: PositionLoss
    /// Mean of the last 10 batch losses (key `final_loss_avg10_m2` for MSE, `final_loss_avg10_m` for GOSPA).
    public var finalLossAvg10: Double
    public var spacingErrorBeforeMM: Double?
    public var spacingErrorAfterMM: Double?
    public var positionErrorLinearRmsMM: BeforeAfter?
    public var positionErrorNonlinearRmsMM: BeforeAfter?
    public var test: [OperatingPointReport]?
    public var testCommand: String?
    public var totalTimeSeconds: Double?

    /// Writes the snake_case JSON keys (`learning_rate`, `train_time_s`, …); nil fields are omitted.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: DynamicKey.self)
        func put<T: Encodable>(_ k: String, _ v: T?) throws { if let v { try c.encode(v, forKey: DynamicKey(k)) } }
        try put("method", method); try put("schedule", schedule); try put("steps", steps); try put("batch", batch)
        try put("learning_rate", learningRate); try put("train_time_s", trainTimeSeconds); try put("parameters", parameters)
        try put("checkpoint", checkpoint); try put("seed", seed); try put("train_sector", trainSector); try put("loss", loss.rawValue)
        try put(loss == .mse ? "final_loss_avg10_m2" : "final_loss_avg10_m", finalLossAvg10)
        try put("spacing_error_before_mm", spacingErrorBeforeMM); try put("spacing_error_after_mm", spacingErrorAfterMM)
        try put("position_error_linear_rms_mm", positionErrorLinearRmsMM); try put("position_error_nonlinear_rms_mm", positionErrorNonlinearRmsMM)
        try put("test", test); try put("test_command", testCommand); try put("total_time_s", totalTimeSeconds)
    }
}

/// The result of NNBL training (`train --method nnbl --json`, `summary.json`).
public struct NNBLTrainingReport: Encodable, Sendable {
    /// Parameter counts of the four networks.
    public struct NetworkParameters: Codable, Sendable { public var precoder, detection, angle, range: Int }
    /// Network size (`full` or `limited`).
    public var complexity: String
    /// Schedule preset used (`small` or `paper`).
    public var schedule: String
    /// Step-1 (position) training steps.
    public var positionSteps: Int
    /// Step-2 (detection) training steps.
    public var detectionSteps: Int
    /// Batch size B (scenes per step).
    public var batch: Int
    /// Step-1 learning rate.
    public var positionLR: Double
    /// Step-2 learning rate.
    public var detectionLR: Double
    /// Input-map size [N_θ, N_τ].
    public var map: [Int]
    /// Wall time of both training steps, seconds.
    public var trainTimeSeconds: Double
    /// Total number of learnable parameters.
    public var parameters: Int
    /// Per-network parameter counts (precoder, detection, angle, range).
    public var parametersByNetwork: NetworkParameters
    /// Path of the written checkpoint `.npz`.
    public var checkpoint: String
    /// Training seed.
    public var seed: Int
    /// Training sector choice (`random` or `test`).
    public var trainSector: String
    /// Step-1 position loss (`gospa` or `mse`).
    public var loss: PositionLoss
    /// Key `final_position_loss_avg10_m2` (MSE) or `final_position_loss_avg10_m` (GOSPA).
    public var finalPositionLossAvg10: Double
    public var finalDetectionLossAvg10: Double
    public var test: [OperatingPointReport]?
    public var totalTimeSeconds: Double?

    /// Writes the snake_case JSON keys (`position_steps`, `train_time_s`, …) with `method` = `nnbl`; nil fields are omitted.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: DynamicKey.self)
        func put<T: Encodable>(_ k: String, _ v: T?) throws { if let v { try c.encode(v, forKey: DynamicKey(k)) } }
        try put("method", "nnbl"); try put("complexity", complexity); try put("schedule", schedule)
        try put("position_steps", positionSteps); try put("detection_steps", detectionSteps); try put("batch", batch)
        try put("position_lr", positionLR); try put("detection_lr", detectionLR); try put("map", map)
        try put("train_time_s", trainTimeSeconds); try put("parameters", parameters); try put("parameters_by_network", parametersByNetwork)
        try put("checkpoint", checkpoint); try put("seed", seed); try put("train_sector", trainSector); try put("loss", loss.rawValue)
        try put(loss == .mse ? "final_position_loss_avg10_m2" : "final_position_loss_avg10_m", finalPositionLossAvg10)
        try put("final_detection_loss_avg10", finalDetectionLossAvg10)
        try put("test", test); try put("total_time_s", totalTimeSeconds)
    }
}

/// Progress hooks of a training run (the CLI's progress line and stderr log).
public struct TrainingHooks {
    /// Called after each training step with (step, batch loss).
    public var step: (Int, Double) -> Void
    /// Called before the test evaluation with its draw count; returns the per-chunk progress sink.
    public var testStart: (Int) -> (@Sendable (Int) -> Void)
    public var testEnd: () -> Void
    /// Hooks; each defaults to a no-op.
    public init(step: @escaping (Int, Double) -> Void = { _, _ in }, testStart: @escaping (Int) -> (@Sendable (Int) -> Void) = { _ in { _ in } },
                testEnd: @escaping () -> Void = {}) {
        self.step = step; self.testStart = testStart; self.testEnd = testEnd
    }
}

/// `isac multitarget train`: the paper's end-to-end training experiments, writing their files into a folder.
public enum TrainingExperiment {
    /// Impairment or dictionary learning (Sec. IV): trains from the nominal array, writes `dir/model.npz`,
    /// `training.csv`, `loss.svg` (+ `spacing_error.svg` for impairment learning), and tests the model next to the
    /// unknown-impairment baseline on `testSamples` scenes (calibrated to `targetPfa` on as many draws).
    /// - Parameters:
    ///   - checkpointPath: the checkpoint's final path as reported (the folder may be a staging folder).
    ///   - onRecord: every training record (loss, spacing error), for a stderr log.
    public static func steering(_ rq: TrainingRequest, config cfg: MultiTargetConfig, gospa: GOSPA, dir: String, checkpointPath: String,
                                hooks: TrainingHooks = TrainingHooks(), onRecord: ((TrainingRecord) -> Void)? = nil) throws -> SteeringTrainingReport {
        let trainCfg = rq.trainingConfig(cfg)
        let truth = ArrayImpairment.realization(config: cfg, seed: rq.impairmentSeed)
        let nominal = ArrayImpairment.nominal(antennas: cfg.antennas, wavelengthMeters: cfg.wavelengthMeters)
        let ts = rq.steeringSettings(config: cfg)
        let domp = rq.domp
        let initial: LearnedSteering
        if rq.method == .impairment { initial = .impairment(nominal) } else {
            let grid = Steering.uniformGrid(-Double.pi / 2, Double.pi / 2, count: cfg.angleGridSize)
            initial = .dictionary(Steering.linearMatrix(nominal.geometry, anglesRad: grid, wavelengthMeters: cfg.wavelengthMeters))
        }
        let base = URL(fileURLWithPath: dir)
        let t0 = Date()
        let (model, log) = try ISACTrainer.train(config: trainCfg, trueArray: truth, initial: initial, domp: domp, settings: ts, gospa: gospa) { r in
            hooks.step(r.step, r.loss)
            onRecord?(r)
        }
        let trainTime = Date().timeIntervalSince(t0)
        var meta = LearnedCheckpoint.systemKey(config: cfg, impairmentSeed: rq.impairmentSeed)
        meta["steps"] = "\(ts.steps)"; meta["batch"] = "\(ts.batchSize)"; meta["lr"] = "\(ts.learningRate)"
        meta["seed"] = "\(rq.seed)"; meta["train_sector"] = rq.trainSector.rawValue; meta["preset"] = rq.schedule.rawValue; meta["loss"] = ts.loss.rawValue
        try LearnedCheckpoint(model: model, domp: domp, meta: meta).write(to: base.appendingPathComponent("model.npz").path)
        var csv = CSVTable(header: ["step", ts.loss == .mse ? "loss_m2" : "loss_m", "learning_rate", "spacing_error_mm"])
        for r in log { csv.append([Double(r.step), r.loss, r.learningRate, (r.spacingErrorMeters ?? .nan) * 1e3]) }
        try csv.write(to: base.appendingPathComponent("training.csv").path)
        let xs = log.map { Double($0.step) }, ls = log.map(\.loss)
        try TrainingOutput.lossFigure(title: "\(rq.method.rawValue) learning: training loss (\(ts.loss == .mse ? "MSE, Sec. V-C" : "eq. 18"))",
                                      yLabel: ts.loss == .mse ? "batch MSE loss [m^2]" : "batch GOSPA loss [m]", steps: xs, losses: ls)
            .write(to: base.appendingPathComponent("loss.svg").path)
        var report = SteeringTrainingReport(method: rq.method.rawValue, schedule: rq.schedule.rawValue, steps: ts.steps, batch: ts.batchSize,
                                            learningRate: ts.learningRate, trainTimeSeconds: trainTime, parameters: model.parameterCount,
                                            checkpoint: checkpointPath, seed: Int(rq.seed), trainSector: rq.trainSector.rawValue, loss: ts.loss,
                                            finalLossAvg10: TrainingOutput.movingAverage10(ls).last ?? .nan)
        if case let .impairment(a) = model {
            report.spacingErrorBeforeMM = ISACTrainer.spacingError(nominal, truth) * 1e3
            report.spacingErrorAfterMM = ISACTrainer.spacingError(a, truth) * 1e3
            let pb = ISACTrainer.positionErrorParts(nominal, truth), pa = ISACTrainer.positionErrorParts(a, truth)
            report.positionErrorLinearRmsMM = BeforeAfter(before: pb.linearRMS * 1e3, after: pa.linearRMS * 1e3)
            report.positionErrorNonlinearRmsMM = BeforeAfter(before: pb.residualRMS * 1e3, after: pa.residualRMS * 1e3)
            var g = Figure(title: "Impairment learning: ||d_hat - d||", xLabel: "step", yLabel: "spacing error [mm]")
            g.line(x: xs, y: log.map { ($0.spacingErrorMeters ?? .nan) * 1e3 }, label: "||d_hat - d||_2")
            try g.write(to: base.appendingPathComponent("spacing_error.svg").path)
        }
        if rq.testSamples > 0 {
            let pr = hooks.testStart(4 * rq.testSamples)
            let mb = try baselineTest(rq, config: cfg, gospa: gospa, progress: pr)
            let sys = try LearnedISACSystem(config: cfg, trueArray: truth, model: model, settings: domp)
            let ml = try sys.evaluate(eta: rq.testEta, phi: 0, samples: rq.testSamples, calibrationSamples: rq.testSamples, seed: rq.testSeed,
                                      targetPfa: rq.targetPfa, gospa: gospa, progress: pr)
            hooks.testEnd()
            report.test = [OperatingPointReport(mb, label: "unknown"), OperatingPointReport(ml, label: "\(rq.method.rawValue)-learning")]
        }
        return report
    }

    /// NNBL (App. A): two-step training (eqs. 18–19), `dir/model.npz`, `training.csv`, `loss_position.svg`,
    /// `loss_detection.svg`, and a test next to the unknown-impairment baseline on the same scenes.
    public static func nnbl(_ rq: TrainingRequest, config cfg: MultiTargetConfig, gospa: GOSPA, dir: String, checkpointPath: String,
                            hooks: TrainingHooks = TrainingHooks(), onRecord: ((NNBLTrainingRecord) -> Void)? = nil) throws -> NNBLTrainingReport {
        let arch = try rq.nnblArchitecture(config: cfg)
        let trainCfg = rq.trainingConfig(cfg)
        let truth = ArrayImpairment.realization(config: cfg, seed: rq.impairmentSeed)
        let ts = try rq.nnblSettings(config: cfg, gospa: gospa)
        let mse = ts.positionLoss == .mse
        let trainSys = try NNBLSystem(config: trainCfg, trueArray: truth, architecture: arch)
        var initial = try NNBLModel(arch, seed: rq.seed)
        // Single target: one range ReLU unit, which can start dead (see setRangeOutputBias); start R̂ near 100 m,
        // the centre of the default [10, 190] m window. Multi-target (T_max > 1) keeps the plain initialisation.
        if cfg.maxTargets == 1 { initial.setRangeOutputBias(Float(rq.rangeBiasInit)) }
        let base = URL(fileURLWithPath: dir)
        let t0 = Date()
        let (model, log) = try NNBLTrainer.train(system: trainSys, model: initial, settings: ts) { r in
            hooks.step(r.step, r.loss)
            onRecord?(r)
        }
        let trainTime = Date().timeIntervalSince(t0)
        var ckMeta = NNBLCheckpoint.systemKey(config: cfg, impairmentSeed: rq.impairmentSeed)
        ckMeta["complexity"] = rq.complexity.rawValue; ckMeta["loss"] = ts.positionLoss.rawValue
        try NNBLCheckpoint.write(model: model, meta: ckMeta, to: base.appendingPathComponent("model.npz").path)
        var csv = CSVTable(header: ["phase", "step", "loss", "learning_rate"])
        for r in log { csv.append([Double(r.phase), Double(r.step), r.loss, r.learningRate]) }
        try csv.write(to: base.appendingPathComponent("training.csv").path)
        for phase in 1...2 {
            let rs = log.filter { $0.phase == phase }
            guard !rs.isEmpty else { continue }
            try TrainingOutput.lossFigure(
                title: phase == 1 ? (mse ? "NNBL step 1: position loss (MSE, Sec. V-C)" : "NNBL step 1: position loss (eq. 18)")
                                  : (mse ? "NNBL step 2: detection loss (BCE, Sec. V-C)" : "NNBL step 2: detection loss (eq. 19)"),
                yLabel: phase == 1 ? (mse ? "batch MSE loss [m^2]" : "batch GOSPA loss [m]") : (mse ? "batch BCE loss" : "batch clipped-BCE loss"),
                steps: rs.map { Double($0.step) }, losses: rs.map(\.loss))
                .write(to: base.appendingPathComponent(phase == 1 ? "loss_position.svg" : "loss_detection.svg").path)
        }
        let p1 = log.filter { $0.phase == 1 }.suffix(10).map(\.loss), p2 = log.filter { $0.phase == 2 }.suffix(10).map(\.loss)
        var report = NNBLTrainingReport(
            complexity: rq.complexity.rawValue, schedule: rq.schedule.rawValue, positionSteps: ts.positionSteps,
            detectionSteps: ts.detectionSteps, batch: ts.batchSize, positionLR: ts.positionLearningRate, detectionLR: ts.detectionLearningRate,
            map: [arch.mapAngles, arch.mapDelays], trainTimeSeconds: trainTime, parameters: model.parameterCount,
            parametersByNetwork: .init(precoder: arch.precoderParameterCount, detection: arch.receiverParameterCount(priorInputs: 4),
                                       angle: arch.receiverParameterCount(priorInputs: 2), range: arch.receiverParameterCount(priorInputs: 2)),
            checkpoint: checkpointPath, seed: Int(rq.seed), trainSector: rq.trainSector.rawValue, loss: ts.positionLoss,
            finalPositionLossAvg10: p1.isEmpty ? Double.nan : p1.reduce(0, +) / Double(p1.count),
            finalDetectionLossAvg10: p2.isEmpty ? Double.nan : p2.reduce(0, +) / Double(p2.count))
        if rq.testSamples > 0 {
            let pr = hooks.testStart(4 * rq.testSamples)
            let mb = try baselineTest(rq, config: cfg, gospa: gospa, progress: pr)
            let testSys = try NNBLSystem(config: cfg, trueArray: truth, architecture: arch)
            let mn = try testSys.evaluate(model: model, eta: rq.testEta, phi: 0, samples: rq.testSamples, calibrationSamples: rq.testSamples,
                                          seed: rq.testSeed, targetPfa: rq.targetPfa, gospa: gospa, progress: pr)
            hooks.testEnd()
            report.test = [OperatingPointReport(mb, label: "unknown"), OperatingPointReport(mn, label: "nnbl-\(rq.complexity.rawValue)")]
        }
        return report
    }

    /// The unknown-impairment baseline on the test scenes of a training run.
    static func baselineTest(_ rq: TrainingRequest, config cfg: MultiTargetConfig, gospa: GOSPA,
                             progress: @escaping @Sendable (Int) -> Void) throws -> OperatingPointMetrics {
        let base = try BaselineSystem(config: cfg, mode: .unknown, impairmentSeed: rq.impairmentSeed)
        return try base.evaluate(eta: rq.testEta, phi: 0, samples: rq.testSamples, calibrationSamples: rq.testSamples, seed: rq.testSeed,
                                 targetPfa: rq.targetPfa, gospa: gospa, progress: progress)
    }
}

/// An impairment or dictionary checkpoint ready to evaluate (`evaluate --checkpoint`): the learned system on the true
/// array, with the `--rx-columns/--tx-columns` ablations of dictionary checkpoints applied.
public struct LearnedCheckpointEvaluation: Sendable {
    /// The checkpoint as read from disk.
    public let checkpoint: LearnedCheckpoint
    /// The learned ISAC system built from the checkpoint on the true array.
    public let system: LearnedISACSystem
    /// `impairment-learning`, `dictionary-learning` or `dictionary-learning (tx …, rx …)` with an ablation.
    public let label: String
    public let rxColumns: ReceiverColumns
    public let txColumns: TransmitterColumns
    let truth: ArrayImpairment

    /// Reads and checks the checkpoint against the system (it only loads into the system it was trained for).
    /// - Throws: `invalidParameter(--rx-columns/--tx-columns)` for an ablation of an impairment checkpoint.
    public init(path: String, config cfg: MultiTargetConfig, impairmentSeed: UInt64, rxColumns: ReceiverColumns = .learned,
                txColumns: TransmitterColumns = .learned) throws {
        let ck = try LearnedCheckpoint.read(from: path)
        try ck.checkCompatible(config: cfg, impairmentSeed: impairmentSeed)
        let truth = ArrayImpairment.realization(config: cfg, seed: impairmentSeed)
        var model = ck.model, rxSteering: Matrix<CDouble>? = nil, label = "\(ck.model.methodName)-learning"
        if rxColumns != .learned || txColumns != .learned {
            guard case let .dictionary(learned) = ck.model else {
                throw ISACError.invalidParameter(name: "--rx-columns/--tx-columns", value: "\(rxColumns.rawValue)/\(txColumns.rawValue)",
                                                 valid: "apply to dictionary checkpoints only")
            }
            let nominalArray = ArrayImpairment.nominal(antennas: cfg.antennas, wavelengthMeters: cfg.wavelengthMeters)
            let nominal = Steering.linearMatrix(nominalArray.geometry, anglesRad: Steering.uniformGrid(-Double.pi / 2, Double.pi / 2, count: cfg.angleGridSize),
                                                wavelengthMeters: cfg.wavelengthMeters)
            rxSteering = try rxColumns.columns(learned: learned, nominal: nominal)
            if txColumns == .nominal { model = .dictionary(nominal) }
            label += " (tx \(txColumns.rawValue), rx \(rxColumns.rawValue))"
        }
        self.checkpoint = ck; self.truth = truth; self.label = label; self.rxColumns = rxColumns; self.txColumns = txColumns
        self.system = try LearnedISACSystem(config: cfg, trueArray: truth, model: model, settings: ck.domp, receiverSteering: rxSteering)
    }

    /// The checkpoint fields of an `evaluate --json` row: path, parameters, the ablation columns (dictionary) or the
    /// learned array's spacing and position errors (impairment).
    public func annotate(_ r: inout OperatingPointReport, path: String) {
        r.checkpoint = path
        if case .dictionary = checkpoint.model { r.txColumns = txColumns.rawValue; r.rxColumns = rxColumns.rawValue }
        r.parameters = checkpoint.model.parameterCount
        if case let .impairment(a) = checkpoint.model {
            r.spacingErrorMM = ISACTrainer.spacingError(a, truth) * 1e3
            let pe = ISACTrainer.positionErrorParts(a, truth)
            r.positionErrorLinearRmsMM = pe.linearRMS * 1e3
            r.positionErrorNonlinearRmsMM = pe.residualRMS * 1e3
        }
    }
}
