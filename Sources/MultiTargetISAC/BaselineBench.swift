import Foundation
import Linalg
import ISACIO
import Metrics
import Arrays
import Estimation

/// `isac multitarget bench --json`.
public struct BaselineBenchReport: Codable, Sendable {
    /// Throughput of the full parallel pipeline (scenario + LS beam + OMP to T_max), samples per second.
    public var fullPipelineSamplesPerSecond: Double
    /// Throughput of OMP alone on prepared observations, single-threaded BLAS, samples per second.
    public var ompOnlySamplesPerSecond1Thread: Double
    /// Throughput of differentiable OMP alone on the same observations, single thread, samples per second.
    public var dompOnlySamplesPerSecond1Thread: Double
    /// Samples run through the full pipeline.
    public var samples: Int
    /// Prepared observations timed by the OMP / DOMP-only runs (min(export, samples)).
    public var ompSamples: Int
    /// Worker thread count of the full-pipeline run (`ThreadCount.count`).
    public var threads: Int
    /// Antennas K.
    public var K: Int
    /// Subcarriers S.
    public var S: Int
    /// Angle-grid size N_θ.
    public var nTheta: Int
    /// Delay-grid size N_τ.
    public var nTau: Int
    /// Maximum number of targets T_max (OMP iterations).
    public var tMax: Int
    enum CodingKeys: String, CodingKey {
        case fullPipelineSamplesPerSecond = "full_pipeline_samples_per_s", ompOnlySamplesPerSecond1Thread = "omp_only_samples_per_s_1thread",
             dompOnlySamplesPerSecond1Thread = "domp_only_samples_per_s_1thread", samples, ompSamples = "omp_samples", threads,
             K, S, nTheta = "n_theta", nTau = "n_tau", tMax = "t_max"
    }
}

/// `meta.json` of `bench --write-inputs` (read by bench/multitarget/numpy_omp.py).
struct BenchInputsMeta: Encodable {
    var samples, K, S, nTheta, nTau, tMax: Int
    var layout = "complex128 little-endian, column-major per matrix (Fortran order)"
    var swiftAngleIndices, swiftDelayIndices: [[Int]]
    var swiftPeaks: [[Double]]
    var swiftOMPRate: Double
    var dompAngles, dompDelays, dompPeaks: [[Double]]
    var swiftDOMPRate, dompTemperature, dompWindowScale: Double
    var gridAngles, gridDelays, elementPositions: [Double]
    var wavelength, subcarrierSpacing: Double
    enum CodingKeys: String, CodingKey {
        case samples, K, S, nTheta = "n_theta", nTau = "n_tau", tMax = "t_max", layout, swiftAngleIndices = "swift_angle_indices",
             swiftDelayIndices = "swift_delay_indices", swiftPeaks = "swift_peaks", swiftOMPRate = "swift_omp_samples_per_s_1thread",
             dompAngles = "domp_angles_rad", dompDelays = "domp_delays_s", dompPeaks = "domp_peaks",
             swiftDOMPRate = "swift_domp_samples_per_s_1thread", dompTemperature = "domp_temperature", dompWindowScale = "domp_window_scale",
             gridAngles = "grid_angles_rad", gridDelays = "grid_delays_s", elementPositions = "element_positions_m",
             wavelength = "wavelength_m", subcarrierSpacing = "subcarrier_spacing_hz"
    }
}

/// Throughput of the unknown-impairment baseline (`isac multitarget bench`): the full parallel pipeline (scenario +
/// LS beam + OMP to T_max), then OMP and differentiable OMP alone on single-threaded BLAS over the first `export`
/// prepared observations; optionally writes those inputs and outputs for the NumPy comparison.
public enum BaselineBench {
    /// - Parameter writeInputs: folder for `observations.c128`, `angle_atoms.c128`, `delay_atoms.c128`, `meta.json`.
    /// - Throws: `invalidParameter(--random-sector)` (the bench uses the fixed test sector), or `io` if the batch and
    ///   the single-thread OMP paths differ.
    public static func run(config cfg: MultiTargetConfig, impairmentSeed: UInt64, samples: Int, seed: UInt64, eta: Double,
                           export: Int, writeInputs: String?) throws -> BaselineBenchReport {
        let sys = try BaselineSystem(config: cfg, mode: .unknown, impairmentSeed: impairmentSeed)
        _ = try sys.runBatch(count: 4, firstIndex: 1 << 40, seed: seed, eta: eta, phi: 0)   // warm-up
        var t0 = Date()
        let outs = try sys.runBatch(count: samples, seed: seed, eta: eta, phi: 0)
        let full = Double(samples) / Date().timeIntervalSince(t0)
        // Receiver only (OMP on prepared observations), single thread, to compare with NumPy 1:1.
        let n = min(export, samples)
        var obs: [(SceneDraw, SceneObservation)] = []
        for i in 0..<n {
            var rng = RandomSource(seed: seed, stream: UInt64(i))
            let d = sys.generator.draw(rng: &rng)
            let f = try Beamformer.isac(sensing: try sys.sensingPrecoder(for: d.sector), communication: sys.commPrecoder,
                                        eta: eta, phi: 0, power: cfg.power)
            obs.append((d, try sys.generator.observe(d, precoder: f)))
        }
        guard case let .fixed(sector) = cfg.targetSector else {
            throw ISACError.invalidParameter(name: "--random-sector", value: "set", valid: "bench uses the fixed test sector")
        }
        let dict = try sys.ompDictionary(for: sector)
        useSingleThreadedBLAS()
        t0 = Date()
        var res: [OMPResult] = []
        for (_, o) in obs { res.append(try OMP.run(observation: o.sensing, dictionary: dict, threshold: 0, maxIterations: cfg.maxTargets)) }
        let ompRate = Double(n) / Date().timeIntervalSince(t0)
        // Differentiable OMP (forward, T_max iterations) on the same observations and dictionary, nominal
        // steering for the off-grid atoms (the assumed array of the unknown-impairment baseline).
        let domp = DifferentiableOMPSettings()
        let ag = sys.assumedArray.geometry, lam = sys.assumedArray.wavelengthMeters
        t0 = Date()
        var dres: [DOMPResult] = []
        for (_, o) in obs {
            dres.append(try DifferentiableOMP.run(observation: o.sensing, dictionary: dict, iterations: cfg.maxTargets, settings: domp,
                                                  subcarrierSpacingHz: cfg.subcarrierSpacingHz,
                                                  offGridAtom: { Steering.linear(ag, angleRad: $0, wavelengthMeters: lam) }, recordTape: false))
        }
        let dompRate = Double(n) / Date().timeIntervalSince(t0)
        for (i, r) in res.enumerated() where r.angleIndices != outs[i].estimatedAnglesRad.map({ dict.anglesRad.firstIndex(of: $0)! }) {
            throw ISACError.io("bench: sample \(i) OMP path differs between batch and single-thread runs")
        }
        if let dir = writeInputs {
            func raw(_ xs: [CDouble]) -> Data {
                var d = Data(capacity: xs.count * 16)
                for x in xs { withUnsafeBytes(of: x.real.bitPattern.littleEndian) { d.append(contentsOf: $0) }
                              withUnsafeBytes(of: x.imaginary.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
                return d
            }
            let base = URL(fileURLWithPath: dir)
            // Column-major K×S per sample == C-order [S, K]; NumPy transposes.
            try AtomicFile.write(raw(obs.flatMap { $0.1.sensing.data }), to: base.appendingPathComponent("observations.c128").path)
            try AtomicFile.write(raw(dict.angleAtoms.data), to: base.appendingPathComponent("angle_atoms.c128").path)
            try AtomicFile.write(raw(dict.delayAtoms.data), to: base.appendingPathComponent("delay_atoms.c128").path)
            let meta = BenchInputsMeta(samples: n, K: cfg.antennas, S: cfg.subcarriers, nTheta: dict.anglesRad.count, nTau: dict.delaysSeconds.count,
                                       tMax: cfg.maxTargets, swiftAngleIndices: res.map { $0.angleIndices }, swiftDelayIndices: res.map { $0.delayIndices },
                                       swiftPeaks: res.map { $0.peaks }, swiftOMPRate: ompRate, dompAngles: dres.map { $0.anglesRad },
                                       dompDelays: dres.map { $0.delaysSeconds }, dompPeaks: dres.map { $0.peaks }, swiftDOMPRate: dompRate,
                                       dompTemperature: domp.temperature, dompWindowScale: domp.windowScale, gridAngles: dict.anglesRad,
                                       gridDelays: dict.delaysSeconds, elementPositions: ag.positions.map { $0.x }, wavelength: lam,
                                       subcarrierSpacing: cfg.subcarrierSpacingHz)
            try AtomicFile.write(try ResultJSON.string(meta, pretty: true), to: base.appendingPathComponent("meta.json").path)
        }
        return BaselineBenchReport(fullPipelineSamplesPerSecond: full, ompOnlySamplesPerSecond1Thread: ompRate, dompOnlySamplesPerSecond1Thread: dompRate,
                                   samples: samples, ompSamples: n, threads: ThreadCount.count,
                                   K: cfg.antennas, S: cfg.subcarriers, nTheta: cfg.angleGridSize, nTau: cfg.delayGridSize, tMax: cfg.maxTargets)
    }
}
