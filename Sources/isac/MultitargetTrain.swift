import ArgumentParser
import Foundation
import Linalg
import ISACIO
import Metrics
import MultiTargetISAC
import Estimation
import Arrays

/// `isac multitarget train`: end-to-end model-based learning (paper Sec. IV) of the steering dictionary shared by
/// the LS beamformer and the differentiable-OMP receiver, then a test evaluation against the baseline.
struct MTTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train impairment learning (K spacings), dictionary learning (K x N_theta) or the NNBL baseline (App. A) end to end with the GOSPA loss (eq. 18); saves DIR/model.npz, training.csv, SVGs, and evaluates vs the baseline at --pfa.")
    @OptionGroup var system: MTSystemOptions
    @Option(name: .customLong("method"), help: "impairment | dictionary | nnbl.") var method: TrainingMethod = .impairment
    @Option(name: .customLong("schedule"), help: "Training schedule: small (minutes on 2 cores) | paper (B = 1500, 25k steps: a big machine). (--preset picks the system.)") var schedule: TrainingSchedule = .small
    @Option(name: .customLong("out"), help: "Output folder.") var out: String
    @Flag(help: "Replace a non-empty --out.") var force = false
    @Option(name: .customLong("seed"), help: "Training seed (scenes use streams 2^40 + step*B + b).") var seed: UInt64 = 1
    @Option(name: .customLong("steps"), help: "Override the preset's training steps.") var steps: Int?
    @Option(name: .customLong("batch"), help: "Override the preset's batch size B.") var batch: Int?
    @Option(name: .customLong("lr"), help: "Override the preset's Adam learning rate (metres for spacings).") var lr: Double?
    @OptionGroup var dompOptions: MTDOMPOptions
    @Option(name: .customLong("train-eta-min"), help: "Training eta ~ U[min, max].") var etaMin = 0.5
    @Option(name: .customLong("train-eta-max"), help: "Training eta ~ U[min, max].") var etaMax = 1.0
    @Option(name: .customLong("train-sector"), help: "random (paper: mean ~ U[-60,60] deg, span ~ U[10,20] deg) | test (the --sector-min/max sector).")
    var trainSector: TrainingSectorChoice = .random
    @Option(name: .customLong("eta"), help: "Test eta.") var eta = 0.5
    @Option(name: .customLong("test-samples"), help: "Test samples (and as many calibration samples); 0 skips the test.") var testSamples = 600
    @Option(name: .customLong("test-seed"), help: "Test scenario seed (same meaning as evaluate --seed).") var testSeed: UInt64 = 7
    @Option(name: .customLong("loss"), help: "auto (mse if --targets-max 1, as the paper's single-target Figs. 5-6; else gospa) | gospa (eq. 18) | mse (sum of squared position errors, no cut-off; nnbl: step 2 then plain BCE).")
    var loss = "auto"
    @Option(name: .customLong("range-bias-init"), help: "nnbl, --targets-max 1 only: initial bias b of the range head's output, R = 100 m * ReLU(. + b) (avoids a dead single range unit).")
    var rangeBiasInit = 1.0
    @Option(name: .customLong("complexity"), help: "nnbl only: full (paper App. A-B) | limited (the paper's limited-complexity variant).") var complexity = "full"
    @Option(name: .customLong("map-angles"), help: "nnbl only: N_theta of the angle-delay map fed to the CNNs (default: small 64, paper 320).") var mapAngles: Int?
    @Option(name: .customLong("map-delays"), help: "nnbl only: N_tau of the angle-delay map (default: small 64, paper 128).") var mapDelays: Int?
    @Option(name: .customLong("detection-steps"), help: "nnbl only: steps of training step 2 (detection, eq. 19); --steps sets step 1 (eq. 18).") var detectionSteps: Int?
    @Option(name: .customLong("detection-lr"), help: "nnbl only: Adam learning rate of step 2.") var detectionLR: Double?
    @OptionGroup var output: MTOutputFlags
    var json: Bool { output.json }
    var quiet: Bool { output.quiet }

    func validate() throws {
        try MultiTargetLimits.checkSamples(testSamples, "--test-samples", allowZero: true)
        try system.validateCommon(samples: max(testSamples * 2, 1), samplesFlag: "--test-samples")
        try MultiTargetLimits.checkTraining(steps: steps, batch: batch, learningRate: lr)
        try MultiTargetLimits.checkTraining(steps: detectionSteps, stepsFlag: "--detection-steps", learningRate: detectionLR, lrFlag: "--detection-lr")
        if method != .nnbl {
            // NNBL-only flags would be silently ignored by the other methods.
            for (flag, given) in [("--map-angles", mapAngles != nil), ("--map-delays", mapDelays != nil),
                                  ("--detection-steps", detectionSteps != nil), ("--detection-lr", detectionLR != nil)] where given {
                throw ISACError.invalidParameter(name: flag, value: "given with --method \(method.rawValue)", valid: "applies to --method nnbl only")
            }
        }
        if let b = batch { try checkTrainingBatchMemory(b) }
        _ = try NNBLComplexity(parsing: complexity)
        if let m = mapAngles { try Check.inRange(m, 1, MultiTargetLimits.maxNNBLMapSide, "--map-angles") }
        if let m = mapDelays { try Check.inRange(m, 1, MultiTargetLimits.maxNNBLMapSide, "--map-delays") }
        try MultiTargetLimits.check(rangeBiasInit, in: -MultiTargetLimits.maxRangeBiasInit...MultiTargetLimits.maxRangeBiasInit, "--range-bias-init",
                                    unit: "", why: "an initial range offset within +-10 km")
        guard loss == "auto" || PositionLoss(rawValue: loss) != nil else {
            throw ISACError.invalidParameter(name: "--loss", value: loss, valid: "must be auto, gospa or mse")
        }
        guard !out.isEmpty else { throw ISACError.invalidParameter(name: "--out", value: "\"\"", valid: "must be a folder path") }
        try CLIOutput.checkStaged(out, force: force)
        try dompOptions.settings.validate()
        try Check.inRange(etaMin, 0, 1, "--train-eta-min")
        try Check.inRange(etaMax, etaMin, 1, "--train-eta-max")
        try Check.inRange(eta, 0, 1, "--eta")
    }

    /// The request the library runs (`TrainingExperiment`), from the flags.
    func request() throws -> TrainingRequest {
        TrainingRequest(method: method, schedule: schedule, seed: seed, steps: steps, batch: batch, learningRate: lr,
                        domp: dompOptions.settings, etaMin: etaMin, etaMax: etaMax, trainSector: trainSector,
                        loss: PositionLoss(rawValue: loss), testEta: eta, testSamples: testSamples, testSeed: testSeed,
                        targetPfa: system.pfa, impairmentSeed: system.impairmentSeed, complexity: try NNBLComplexity(parsing: complexity),
                        mapAngles: mapAngles, mapDelays: mapDelays, detectionSteps: detectionSteps, detectionLearningRate: detectionLR,
                        rangeBiasInit: rangeBiasInit)
    }

    /// The progress line of the test evaluation (created when the test starts).
    func testHooks() -> TrainingHooks {
        let quietFlag = quiet
        let box = ProgressBox()
        return TrainingHooks(testStart: { n in
            let pt = ProgressLine("test", total: n, enabled: !quietFlag)
            box.line = pt
            return { pt.advance($0) }
        }, testEnd: { box.line?.finish() })
    }

    func run() throws {
        if method == .nnbl { try runNNBL(); return }
        let cfg = try system.config(), gospa = try system.gospa()
        let rq = try request()
        let ts = rq.steeringSettings(config: cfg)
        let lossUnit = ts.loss == .mse ? "m^2" : "m"
        let staged = try CLIOutput.stage(out, force: force)
        let pl = ProgressLine("train \(method.rawValue)", total: ts.steps, enabled: !quiet)
        let t0 = Date()
        let quietFlag = quiet
        let ckPath = TrainingOutput.checkpointPath(out: out)
        var result = try TrainingExperiment.steering(rq, config: cfg, gospa: gospa, dir: staged.path, checkpointPath: ckPath,
                                                     hooks: testHooks(), onRecord: { r in
            pl.advance()
            if !quietFlag && (r.step % 25 == 0 || r.step == ts.steps - 1) {
                let e = r.spacingErrorMeters.map { String(format: "  |d-d0| %.4f mm", $0 * 1e3) } ?? ""
                FileHandle.standardError.write("\nstep \(r.step) loss \(String(format: "%.3f", r.loss)) \(lossUnit)\(e)\n".data(using: .utf8)!)
            }
            if r.step == ts.steps - 1 { pl.finish() }
        })
        if result.test != nil { result.testCommand = try testCommand(checkpoint: ckPath) }
        result.totalTimeSeconds = Date().timeIntervalSince(t0)
        try AtomicFile.write(try ResultJSON.string(result, pretty: true), to: staged.file("summary.json"))
        try staged.commit()
        if json { print(try ResultJSON.string(result)) } else {
            print("\(method.rawValue) learning: \(result.parameters) parameters, \(result.steps) steps x B=\(result.batch), \(String(format: "%.0f", result.trainTimeSeconds)) s")
            if let b = result.spacingErrorBeforeMM, let a = result.spacingErrorAfterMM {
                print(String(format: "||d_hat - d||: %.4f mm (nominal) -> %.4f mm (learned)", b, a))
                if let l = result.positionErrorLinearRmsMM, let r = result.positionErrorNonlinearRmsMM {
                    print(String(format: "position error RMS: linear part %.4f -> %.4f mm, rest %.4f -> %.4f mm", l.before, l.after, r.before, r.after))
                }
            }
            printTestTable(result.test ?? [])
            print("wrote \(out)/model.npz, training.csv, loss.svg, summary.json")
        }
    }
}

extension MTTrain {
    /// A training step holds the B observations (K×S), their differentiable-OMP tapes (≈ 4 K×S and the windows)
    /// and gradients at once: refuse a --batch whose footprint exceeds 80 % of physical memory.
    func checkTrainingBatchMemory(_ b: Int) throws {
        let c = try system.config()
        let perSample = 16.0 * Double(c.antennas) * Double(c.subcarriers) * 6 + 8.0 * Double(c.angleGridSize) * Double(c.delayGridSize)
        let need = Double(b) * perSample, limit = MultiTargetConfig.availableMemoryBytes()
        guard need <= limit else {
            throw ISACError.invalidParameter(name: "--batch", value: "\(b) (needs ≈ \(String(format: "%.3g", need / 1e9)) GB)",
                                             valid: "a training batch must fit in memory (limit \(String(format: "%.3g", limit / 1e9)) GB)")
        }
    }
    /// `isac multitarget evaluate` of the checkpoint on the train command's test scenes, with every system flag
    /// of this run (a checkpoint only loads into the system it was trained for).
    func testCommand(checkpoint: String) throws -> String {
        func quote(_ t: String) -> String {
            t.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=+,:".contains($0) }) ? t : "'" + t.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        let args = ["isac", "multitarget", "evaluate", "--checkpoint", checkpoint, "--impairments", "unknown",
                    "--eta", "\(eta)", "--samples", "\(testSamples)", "--seed", "\(testSeed)"] + (try system.replayFlags())
        return args.map(quote).joined(separator: " ")
    }

    /// `--method nnbl`: two-step NNBL training (paper eqs. 18–19, App. A), checkpoint, and a test at --pfa next to
    /// the baseline with unknown impairments on the same scenes (`TrainingExperiment.nnbl`). The small schedule shrinks
    /// the CNN input map (64 × 64 instead of 320 × 128), the batch and the step counts so it runs in minutes on 2 cores.
    func runNNBL() throws {
        let cfg = try system.config(), gospa = try system.gospa()
        let rq = try request()
        let ts = try rq.nnblSettings(config: cfg, gospa: gospa)
        _ = try rq.nnblArchitecture(config: cfg)
        let staged = try CLIOutput.stage(out, force: force)
        let total = ts.positionSteps + ts.detectionSteps
        let pl = ProgressLine("train nnbl", total: total, enabled: !quiet)
        let t0 = Date()
        let quietFlag = quiet
        var done = 0
        var result = try TrainingExperiment.nnbl(rq, config: cfg, gospa: gospa, dir: staged.path, checkpointPath: TrainingOutput.checkpointPath(out: out),
                                                 hooks: testHooks(), onRecord: { r in
            pl.advance()
            if !quietFlag && r.step % 50 == 0 {
                FileHandle.standardError.write("\nstep \(r.phase).\(r.step) loss \(String(format: "%.3f", r.loss))\n".data(using: .utf8)!)
            }
            done += 1
            if done == total { pl.finish() }
        })
        result.totalTimeSeconds = Date().timeIntervalSince(t0)
        try AtomicFile.write(try ResultJSON.string(result, pretty: true), to: staged.file("summary.json"))
        try staged.commit()
        if json { print(try ResultJSON.string(result)) } else {
            print("NNBL (\(result.complexity)): \(result.parameters) parameters, map \(result.map[0])x\(result.map[1]), steps \(result.positionSteps)+\(result.detectionSteps) x B=\(result.batch), \(String(format: "%.0f", result.trainTimeSeconds)) s")
            printTestTable(result.test ?? [])
            print("wrote \(out)/model.npz, training.csv, loss_position.svg, loss_detection.svg, summary.json")
        }
    }
}

/// Holds the test progress line between `TrainingHooks.testStart` and `testEnd`.
private final class ProgressBox: @unchecked Sendable { var line: ProgressLine? }

/// The short test-metrics table `train` prints after training (one row per system).
private func printTestTable(_ tests: [OperatingPointReport]) {
    guard !tests.isEmpty else { return }
    print(String(format: "%-22@ %8@ %8@ %9@ %8@", "system" as NSString, "p_md" as NSString, "p_fa" as NSString, "GOSPA[m]" as NSString, "SER" as NSString))
    for r in tests {
        print(String(format: "%-22@ %8.4f %8.4f %9.3f %8.4f", r.impairments as NSString, r.pMD, r.pFA, r.gospaM, r.ser))
    }
}
