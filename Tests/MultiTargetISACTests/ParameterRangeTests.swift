import Testing
import Foundation
import Linalg
import Arrays
import Metrics
@testable import MultiTargetISAC

// Boundaries of `MultiTargetLimits` (docs/multitarget.md, "Parameter ranges"): a value at the bound is accepted, one
// just beyond it is refused naming the CLI flag, and both presets lie inside every bound.

/// The flag named by the first error of `body`, nil if it succeeds.
private func rejectedFlag(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch let ISACError.invalidParameter(name, _, _) { return name } catch { return "?" }
}

private func configFlag(_ edit: (inout MultiTargetConfig) -> Void) -> String? {
    var c = MultiTargetConfig.paper
    edit(&c)
    return rejectedFlag { try c.validate() }
}

@Test func presetsLieInsideEveryLimit() throws {
    for c in [MultiTargetConfig.paper, .officialCode] {
        try c.validate()
        _ = try c.gospa()
        #expect(c.spacingStdMeters < MultiTargetLimits.maxSpacingStdWavelengths * c.wavelengthMeters)
        #expect(MultiTargetLimits.carrierHz.contains(c.carrierHz))
        #expect(c.commRangeMaxMeters <= MultiTargetLimits.maxCommRangeMeters)
    }
}

@Test func physicalBoundsOfTheSystemAreInclusiveAndNamed() {
    // Each row: the flag, an edit at the bound (accepted), an edit just beyond it (refused).
    let rows: [(String, (inout MultiTargetConfig) -> Void, (inout MultiTargetConfig) -> Void)] = [
        ("--carrier-hz", { $0.carrierHz = 3e11; $0.spacingStdMeters = 0 }, { $0.carrierHz = 3.0001e11 }),
        ("--carrier-hz", { $0.carrierHz = 1e6; $0.spacingStdMeters = 0 }, { $0.carrierHz = 0.999e6 }),
        ("--power-w", { $0.power = 1e6 }, { $0.power = 1.000001e6 }),
        ("--snr-r-db", { $0.sensingSNRdB = -100 }, { $0.sensingSNRdB = 100.001 }),
        ("--snr-c-db", { $0.commSNRdB = 100 }, { $0.commSNRdB = -100.001 }),
        ("--noise-figure-db", { $0.linkBudget.noiseFigureDB = 0 }, { $0.linkBudget.noiseFigureDB = -0.1 }),
        ("--noise-figure-db", { $0.linkBudget.noiseFigureDB = 40 }, { $0.linkBudget.noiseFigureDB = 40.1 }),
        ("--noise-temperature-k", { $0.linkBudget.temperatureK = 1e4 }, { $0.linkBudget.temperatureK = 1.0001e4 }),
        ("--mean-rcs-m2", { $0.linkBudget.meanRCSm2 = 1e6 }, { $0.linkBudget.meanRCSm2 = 1.0001e6 }),
        ("--comm-range-max", { $0.commRangeMaxMeters = 1e5 }, { $0.commRangeMaxMeters = 1.0001e5 }),
        ("--range-min", { $0.rangeMinMeters = 1e-3 }, { $0.rangeMinMeters = 0 }),
        ("--gospa-cutoff", { $0.gospaCutoffMeters = 2 * $0.rangeMaxMeters }, { $0.gospaCutoffMeters = 2 * $0.rangeMaxMeters + 1e-6 }),
        // λ/4 at 60 GHz: c/(4 f_c) = 1.249 mm.
        ("--spacing-std-mm", { $0.spacingStdMeters = speedOfLight / (4 * 60e9) }, { $0.spacingStdMeters = speedOfLight / (4 * 60e9) * 1.0001 }),
    ]
    for (flag, ok, bad) in rows {
        #expect(configFlag(ok) == nil, "\(flag): the bound itself is valid")
        #expect(configFlag(bad) == flag, "\(flag): just beyond the bound is refused")
    }
    for v in [Double.nan, .infinity, -.infinity] {
        #expect(configFlag { $0.carrierHz = v } == "--carrier-hz")
        #expect(configFlag { $0.linkBudget.meanRCSm2 = v } == "--mean-rcs-m2")
    }
}

@Test func gospaOrderAndCutoffBounds() throws {
    let c = MultiTargetConfig.paper
    #expect(try c.gospa(order: 10).order == 10)
    #expect(rejectedFlag { _ = try c.gospa(order: 10.01) } == "--gospa-p")
    #expect(rejectedFlag { _ = try c.gospa(order: 0.99) } == "--gospa-p")
    #expect(rejectedFlag { _ = try c.gospa(mu: 2.5) } == "--gospa-mu")
    // Default γ = (R_max − R_min)/2 (paper), R_max − R_min (official code).
    #expect(try c.gospa().cutoff == (c.rangeMaxMeters - c.rangeMinMeters) / 2)
    #expect(try MultiTargetConfig.officialCode.gospa().cutoff == 43.75 - 10)
}

@Test func runSizeAndOperatingPointBounds() {
    #expect(rejectedFlag { try MultiTargetLimits.checkSamples(MultiTargetLimits.maxSamples, "--samples") } == nil)
    #expect(rejectedFlag { try MultiTargetLimits.checkSamples(MultiTargetLimits.maxSamples + 1, "--calibration-samples") } == "--calibration-samples")
    #expect(rejectedFlag { try MultiTargetLimits.checkSamples(Int.max, "--samples") } == "--samples")
    #expect(rejectedFlag { try MultiTargetLimits.checkSamples(0, "--test-samples", allowZero: true) } == nil)
    #expect(rejectedFlag { try MultiTargetLimits.checkSamples(0, "--samples") } == "--samples")
    #expect(rejectedFlag { try MultiTargetLimits.checkOperatingPoint(eta: 1, phiDeg: -360) } == nil)
    #expect(rejectedFlag { try MultiTargetLimits.checkOperatingPoint(eta: 0.5, phiDeg: 360.5) } == "--phi")
    #expect(rejectedFlag { try MultiTargetLimits.checkOperatingPoint(eta: 1.01, phiDeg: 0) } == "--eta")
    #expect(rejectedFlag { try MultiTargetLimits.checkDOMP(temperature: 10, windowScale: 100) } == nil)
    #expect(rejectedFlag { try MultiTargetLimits.checkDOMP(temperature: 10.5, windowScale: 1) } == "--temperature")
    #expect(rejectedFlag { try MultiTargetLimits.checkDOMP(temperature: 0.1, windowScale: 0) } == "--window-scale")
    // Memory: the per-sample part is blamed on the flag the caller names.
    do { try MultiTargetConfig.paper.checkMemory(samples: 50_000_000, samplesFlag: "--test-samples", threads: 1, limitBytes: 1e9)
         Issue.record("expected a memory error") }
    catch let ISACError.invalidParameter(name, _, _) { #expect(name == "--test-samples") } catch { Issue.record("\(error)") }
}

@Test func trainingScheduleBounds() throws {
    #expect(rejectedFlag { try MultiTargetLimits.checkTraining(steps: MultiTargetLimits.maxTrainingSteps, batch: 1, learningRate: 1) } == nil)
    #expect(rejectedFlag { try MultiTargetLimits.checkTraining(steps: MultiTargetLimits.maxTrainingSteps + 1) } == "--steps")
    #expect(rejectedFlag { try MultiTargetLimits.checkTraining(steps: nil, learningRate: 1.5) } == "--lr")
    #expect(rejectedFlag { try MultiTargetLimits.checkTraining(steps: 0, stepsFlag: "--detection-steps") } == "--detection-steps")
    #expect(rejectedFlag { try MultiTargetLimits.checkTraining(steps: nil, batch: MultiTargetLimits.maxBatch + 1) } == "--batch")
    var ts = TrainingSettings(); ts.learningRate = 2
    #expect(rejectedFlag { try ts.validate() } == "--lr")
    var ns = NNBLTrainingSettings(); ns.detectionLearningRate = .infinity
    #expect(rejectedFlag { try ns.validate() } == "--detection-lr")
    ns = NNBLTrainingSettings(); ns.detectionSteps = 0
    try ns.validate()   // the library may skip step 2
}

@Test func checkpointListsRefuseEmptyEntries() throws {
    #expect(try MultiTargetLimits.checkpointPaths("a.npz, b.npz") == ["a.npz", "b.npz"])
    for bad in ["", ",", "a.npz,", ",a.npz", "a.npz,,b.npz", " "] {
        #expect(rejectedFlag { _ = try MultiTargetLimits.checkpointPaths(bad) } == "--checkpoint", "\(bad)")
    }
}
