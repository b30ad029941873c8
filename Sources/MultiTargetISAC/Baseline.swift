import Foundation
import Dispatch
import Linalg
import Arrays
import Metrics
import Numerics
import Estimation

@_silgen_name("openblas_set_num_threads") private func _openblasSetNumThreads(_ n: Int32)

/// Keeps BLAS single-threaded: parallelism comes from samples (`parallelMap`), and nested
/// OpenBLAS threads on the same cores only add contention.
public func useSingleThreadedBLAS() { _openblasSetNumThreads(1) }

/// Everything one sample produces at the baseline receiver, for any threshold.
public struct SampleOutcome: Sendable {
    /// Threshold-independent OMP detection trace of the sample (full path to T_max); T̂(δ) is read off it.
    public var trace: DetectionTrace
    /// True target positions (x, y), metres; T entries.
    public var truePositions: [Position2]
    /// True target angles θ, radians; T entries.
    public var trueAnglesRad: [Double]
    /// True target ranges R, metres; T entries.
    public var trueRangesMeters: [Double]
    /// OMP estimates in selection order (full path to T_max), radians and metres.
    public var estimatedAnglesRad: [Double]
    public var estimatedRangesMeters: [Double]
    public var symbolErrors: Int
    public var symbols: Int

    /// Positions of the first T̂(δ) detections.
    public func estimatedPositions(threshold: Double) -> [Position2] {
        return trace.selectedIterations(threshold: threshold).map { Position2(estimatedRangesMeters[$0] * Double.cos(estimatedAnglesRad[$0]),
                                        estimatedRangesMeters[$0] * Double.sin(estimatedAnglesRad[$0])) }
    }
}

/// Aggregated metrics at one operating point and threshold.
public struct OperatingPointMetrics: Sendable {
    /// Sensing power fraction η ∈ [0, 1] of the ISAC beam (eq. 5).
    public var eta: Double
    /// Phase φ of the communication beam relative to the sensing beam (eq. 5), radians.
    public var phi: Double
    /// δ used (raw 𝓛 units) and δ/(K S N0) (noise-normalised).
    public var threshold: Double
    public var normalizedThreshold: Double
    public var detection: DetectionCounts
    /// Mean GOSPA over samples (eq. 17), metres.
    public var meanGOSPA: Double
    public var ser: SymbolErrorCounts
    /// Single-target errors (samples with T = 1 and T̂ ≥ 1, first detection), degrees and metres.
    public var angleErrorDeg: ErrorAccumulator
    public var rangeErrorMeters: ErrorAccumulator
    /// Of those single-target samples, the gross errors: estimate more than one resolution cell of eq. (16)
    /// away (|sin θ̂ − sin θ| > 2/K or |R̂ − R| > c/(2SΔf)), i.e. the first detection sits on another lobe or a
    /// noise peak. A few of them dominate the RMSE, so the RMSE of the other samples is reported as well.
    public var grossErrorCount = 0
    /// Single-target errors of the samples that are not gross errors, degrees and metres.
    public var angleErrorFineDeg = ErrorAccumulator()
    public var rangeErrorFineMeters = ErrorAccumulator()
}

/// The model-based baseline ISAC system (paper Sec. III) under a chosen impairment mode.
///
/// The true array drives the physics; the *assumed* array (nominal for `.unknown`, true for
/// `.known`/`.none`) drives the LS beamformer and the OMP angle dictionary.
public struct BaselineSystem: SampleRunner {
    /// System parameters (K, S, grids, sectors, SNRs).
    public let config: MultiTargetConfig
    /// Which impairment case is simulated (unknown, known or none).
    public let mode: ImpairmentMode
    /// The true (impaired) array that drives the physics.
    public let trueArray: ArrayImpairment
    /// The array the transmitter and receiver assume (nominal for `.unknown`, true otherwise).
    public let assumedArray: ArrayImpairment
    /// Scene generator (targets, UE channel, noise) on the true array.
    public let generator: ScenarioGenerator
    /// Beamformer grid θ_i over [−π/2, π/2], N_θ points, and A (assumed) [K × N_θ].
    public let beamGridRad: [Double]
    public let beamSteering: Matrix<CDouble>
    /// f_c for the communication sector (fixed for all samples).
    public let commPrecoder: [CDouble]
    /// Cached f_r and OMP dictionary for a fixed target sector (nil for random sectors).
    private let fixedSensingPrecoder: [CDouble]?
    private let fixedDictionary: OMPDictionary?

    /// - Parameters:
    ///   - impairmentSeed: seed of the single hardware realization d (stream 0 of that seed).
    public init(config: MultiTargetConfig, mode: ImpairmentMode, impairmentSeed: UInt64) throws {
        try config.validate()
        // Same BLAS threading for the precomputed beams whatever ran before (bitwise-reproducible results).
        useSingleThreadedBLAS()
        self.config = config; self.mode = mode
        let lam = config.wavelengthMeters
        let nominal = ArrayImpairment.nominal(antennas: config.antennas, wavelengthMeters: lam)
        let perturbed = ArrayImpairment.realization(config: config, seed: impairmentSeed)
        switch mode {
        case .none: trueArray = nominal; assumedArray = nominal
        case .unknown: trueArray = perturbed; assumedArray = nominal
        case .known: trueArray = perturbed; assumedArray = perturbed
        }
        generator = try ScenarioGenerator(config: config, trueArray: trueArray)
        beamGridRad = Steering.uniformGrid(-Double.pi / 2, Double.pi / 2, count: config.angleGridSize)
        beamSteering = Steering.linearMatrix(assumedArray.geometry, anglesRad: beamGridRad, wavelengthMeters: lam)
        commPrecoder = try Beamformer.leastSquares(steering: beamSteering, gridAnglesRad: beamGridRad, interval: config.commSector)
        if case let .fixed(sec) = config.targetSector {
            fixedSensingPrecoder = try Beamformer.leastSquares(steering: beamSteering, gridAnglesRad: beamGridRad, interval: sec)
            fixedDictionary = try dictionary(for: sec, assumed: assumedArray, config: config)
        } else {
            fixedSensingPrecoder = nil; fixedDictionary = nil
        }
    }

    /// f_r for `sector` (cached when the sector is fixed).
    public func sensingPrecoder(for sector: AngularSector) throws -> [CDouble] {
        if let f = fixedSensingPrecoder, case let .fixed(s) = config.targetSector, s == sector { return f }
        return try Beamformer.leastSquares(steering: beamSteering, gridAnglesRad: beamGridRad, interval: sector)
    }

    /// OMP dictionaries for `sector` (cached when fixed).
    public func ompDictionary(for sector: AngularSector) throws -> OMPDictionary {
        if let d = fixedDictionary, case let .fixed(s) = config.targetSector, s == sector { return d }
        return try dictionary(for: sector, assumed: assumedArray, config: config)
    }

    /// Runs scenario → ISAC beam (η, φ) → observation → OMP to T_max (δ = 0, full path) → ML comm.
    /// Sample `index` uses `RandomSource(seed: seed, stream: index)`, independent of thread count.
    public func runSample(index: UInt64, seed: UInt64, eta: Double, phi: Double) throws -> SampleOutcome {
        var rng = RandomSource(seed: seed, stream: index)
        let d = generator.draw(rng: &rng)
        let fr = try sensingPrecoder(for: d.sector)
        let f = try Beamformer.isac(sensing: fr, communication: commPrecoder, eta: eta, phi: phi, power: config.power)
        let obs = try generator.observe(d, precoder: f)
        let dict = try ompDictionary(for: d.sector)
        let omp = try OMP.run(observation: obs.sensing, dictionary: dict, threshold: 0, maxIterations: config.maxTargets)
        let (_, errs) = ScenarioGenerator.decode(obs, sent: d.messages)
        return SampleOutcome(trace: DetectionTrace(trueCount: d.targetCount, peaks: Array(omp.peaks.prefix(config.maxTargets)),
                                                             rule: config.detectionRule),
                             truePositions: d.positions, trueAnglesRad: d.anglesRad, trueRangesMeters: d.rangesMeters,
                             estimatedAnglesRad: omp.anglesRad,
                             estimatedRangesMeters: omp.delaysSeconds.map { $0 * speedOfLight / 2 },
                             symbolErrors: errs, symbols: d.messages.count)
    }


    /// Metrics of `outcomes` at threshold δ.
    public func metrics(_ outcomes: [SampleOutcome], threshold: Double, eta: Double, phi: Double,
                        gospa: GOSPA) throws -> OperatingPointMetrics {
        try Self.aggregate(outcomes, config: config, threshold: threshold, eta: eta, phi: phi, gospa: gospa)
    }

    /// Metrics of `outcomes` at threshold δ for any receiver that produces `SampleOutcome`s
    /// (baseline OMP, differentiable OMP, learned systems).
    public static func aggregate(_ outcomes: [SampleOutcome], config: MultiTargetConfig, threshold: Double, eta: Double,
                                 phi: Double, gospa: GOSPA) throws -> OperatingPointMetrics {
        var det = try DetectionCounts(maxTargets: config.maxTargets)
        var ser = SymbolErrorCounts()
        var ang = ErrorAccumulator(), rng = ErrorAccumulator()
        var g = 0.0
        var gross = 0
        var angFine = ErrorAccumulator(), rngFine = ErrorAccumulator()
        let sinCell = 2 / Double(config.antennas)
        let rangeCell = speedOfLight / (2 * Double(config.subcarriers) * config.subcarrierSpacingHz)
        for o in outcomes {
            let n = o.trace.estimatedCount(threshold: threshold)
            det.add(trueCount: o.trace.trueCount, estimatedCount: n)
            g += gospa.distance(o.truePositions, o.estimatedPositions(threshold: threshold))
            ser.add(errors: o.symbolErrors, symbols: o.symbols)
            if o.trace.trueCount == 1 && n >= 1 {
                let f = o.trace.rule == .firstBelow ? 0 : o.trace.selectedIterations(threshold: threshold)[0]
                ang.add(degrees(o.estimatedAnglesRad[f] - o.trueAnglesRad[0]))
                rng.add(o.estimatedRangesMeters[f] - o.trueRangesMeters[0])
                let ds = abs(Double.sin(o.estimatedAnglesRad[f]) - Double.sin(o.trueAnglesRad[0]))
                let dr = abs(o.estimatedRangesMeters[f] - o.trueRangesMeters[0])
                if ds > sinCell || dr > rangeCell { gross += 1 } else {
                    angFine.add(degrees(o.estimatedAnglesRad[f] - o.trueAnglesRad[0]))
                    rngFine.add(o.estimatedRangesMeters[f] - o.trueRangesMeters[0])
                }
            }
        }
        let norm = Double(config.antennas * config.subcarriers) * config.noisePower
        return OperatingPointMetrics(eta: eta, phi: phi, threshold: threshold, normalizedThreshold: threshold / norm,
                                     detection: det, meanGOSPA: g / Double(max(outcomes.count, 1)), ser: ser,
                                     angleErrorDeg: ang, rangeErrorMeters: rng, grossErrorCount: gross,
                                     angleErrorFineDeg: angFine, rangeErrorFineMeters: rngFine)
    }

    /// Calibrate δ on `calibrationSamples` (streams offset by 2³²) to `targetPfa`, then evaluate on
    /// `samples` fresh draws (streams 0..<samples) at the same (η, φ).
    public func evaluate(eta: Double, phi: Double, samples: Int, calibrationSamples: Int, seed: UInt64,
                         targetPfa: Double, gospa: GOSPA, progress: (@Sendable (Int) -> Void)? = nil) throws -> OperatingPointMetrics {
        try Self.calibratedEvaluation(config: config, samples: samples, calibrationSamples: calibrationSamples, targetPfa: targetPfa,
                                      eta: eta, phi: phi, gospa: gospa) { n, first in
            try runBatch(count: n, firstIndex: first, seed: seed, eta: eta, phi: phi, progress: progress)
        }
    }

    /// The evaluation protocol shared by every receiver: δ calibrated to `targetPfa` on `calibrationSamples`
    /// draws (streams 2³² + i), then metrics on `samples` fresh draws (streams 0..<samples).
    /// `run(count, firstIndex)` produces the outcomes of samples `firstIndex ..< firstIndex + count`.
    public static func calibratedEvaluation(config: MultiTargetConfig, samples: Int, calibrationSamples: Int, targetPfa: Double,
                                            eta: Double, phi: Double, gospa: GOSPA,
                                            run: (Int, UInt64) throws -> [SampleOutcome]) throws -> OperatingPointMetrics {
        try Check.inOpenRange(targetPfa, 0, 1, "--pfa")
        return try PfaSweep.evaluate(config: config, samples: samples, calibrationSamples: calibrationSamples,
                                     targetPfas: [targetPfa], eta: eta, phi: phi, gospa: gospa, run: run)[0]
    }
}

private func dictionary(for sector: AngularSector, assumed: ArrayImpairment, config c: MultiTargetConfig) throws -> OMPDictionary {
    let s = c.ompAngleDictionaryCoversSector ? sector : try AngularSector(lowerRad: -Double.pi / 2, upperRad: Double.pi / 2)
    return try OMPDictionary.grid(array: assumed, sector: s, angleCount: c.angleGridSize,
                                  rangeMinMeters: c.rangeMinMeters, rangeMaxMeters: c.rangeMaxMeters,
                                  delayCount: c.delayGridSize, subcarriers: c.subcarriers, spacingHz: c.subcarrierSpacingHz)
}

/// A receiver whose samples are independent functions of (index, seed, η, φ): scene stream = index.
public protocol SampleRunner: Sendable {
    func runSample(index: UInt64, seed: UInt64, eta: Double, phi: Double) throws -> SampleOutcome
}

extension SampleRunner {
    /// Runs samples `firstIndex ..< firstIndex + count` in parallel (deterministic result order).
    public func runBatch(count: Int, firstIndex: UInt64 = 0, seed: UInt64, eta: Double, phi: Double,
                         progress: (@Sendable (Int) -> Void)? = nil) throws -> [SampleOutcome] {
        try prepareBatch(count: count, eta: eta, phi: phi)
        return try parallelOutcomes(count: count, firstIndex: firstIndex, progress: progress) {
            try runSample(index: $0, seed: seed, eta: eta, phi: phi)
        }
    }
}

/// Checks shared by every receiver's batch runner (the CLI flags they come from), and single-threaded BLAS so
/// that per-sample results do not depend on the thread count.
func prepareBatch(count: Int, eta: Double, phi: Double) throws {
    try Check.positive(count, "--samples")
    try Check.inRange(eta, 0, 1, "--eta")
    try Check.finite(phi, "--phi")
    useSingleThreadedBLAS()
}

/// Samples `firstIndex ..< firstIndex + count` through `sample` (called with the sample index) in parallel
/// chunks of 8; the result order is the index order whatever the scheduling, so runs are deterministic.
func parallelOutcomes(count: Int, firstIndex: UInt64, progress: (@Sendable (Int) -> Void)?,
                      _ sample: @Sendable (UInt64) throws -> SampleOutcome) throws -> [SampleOutcome] {
    let chunk = 8
    // One work item per chunk (progress per chunk); a chunk stops at its first failing sample, which is then
    // the smallest failing index overall, as before.
    return try parallelMap((count + chunk - 1) / chunk) { c in
        let r = try (c * chunk..<min(count, (c + 1) * chunk)).map { try sample(firstIndex + UInt64($0)) }
        progress?(r.count)
        return r
    }.flatMap { $0 }
}
