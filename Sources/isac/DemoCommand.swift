import ArgumentParser
import ExtendedDatasets
import Foundation
import ISACIO
import Linalg
import Metrics
import MultiTargetISAC
import Scattering
import Waveforms
import WidebandSensing

/// `isac demo`: one small, seeded pass through each of the three papers, so a newcomer sees every
/// layer (linear algebra, physics, estimators, metrics) work on this machine in well under a minute
/// (release build). Every number it prints is produced by the same code the full experiments use.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Small end-to-end demo: wideband near-field localization, multi-target OFDM ISAC, EM scattering, ergodic rate.")

    @Option(help: "Seed of every random draw in the demo.") var seed: UInt64 = 1
    @Option(help: "Multi-target samples (evaluation and, separately, threshold calibration), >= 10.") var samples: Int = 200
    @OptionGroup var format: JSONOption
    var json: Bool { format.json }

    func validate() throws {
        try Check.inRange(samples, 10, 1_000_000, "--samples")
    }

    func run() throws {
        try validate()
        var rows: [(stage: String, result: String, seconds: Double)] = []
        var out = DemoResult(seed: Int(seed))
        func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
            let t0 = Date()
            let v = try body()
            return (v, Date().timeIntervalSince(t0))
        }
        func note(_ s: String) { if !json { FileHandle.standardError.write(Data("demo: \(s)\n".utf8)) } }

        // 1. Paper 1: Fresnel threshold, NB-NF boundary, hybrid dictionary + SOMP at the paper's scenario
        //    (N = 127, fc = 28 GHz, B = 122.88 MHz, M = 256), K = 4 pilot symbols.
        note("wideband near-field sensing (N = 127, 28 GHz, M = 256 subcarriers, 3 targets, SNR 0 dB)")
        let zeta = try FresnelCoherence.threshold(delta: 0.1)
        let rNB = try RegionBoundary.narrowbandNearField(system: try WidebandSystem(bandwidthHz: 5e6), rho: 0.9, angleRad: Double.pi / 3)
        let wb = try WidebandSystem(antennas: 127, carrierHz: 28e9, bandwidthHz: 122.88e6, subcarriers: 256)
        var rng = RandomSource(seed: seed, stream: 0)
        let truth = WidebandExperiments.randomTargets(count: 3, rMin: 3, rMax: 30, rng: &rng)
        let obs = try wb.simulate(targets: truth, snapshots: 4, snrDb: 0, rng: &rng)
        let ((est, atoms), tCS) = try timed { () throws -> ([PolarTarget], Int) in
            let g = try AngleDistanceGrid.make(.hybridMin, system: wb, options: GridOptions(delta: 0.1))
            let r = try Localizer.compressedSensing(observation: obs.data, grid: g, dictionary: g.dictionary(system: wb), targets: 3)
            return (r.estimates, g.count)
        }
        let nmse = LocalizationError.nmse(truth: truth, estimates: est)
        rows.append(("Fresnel threshold ζ_0.1 (paper ≈ 6.6)", String(format: "%.3f", zeta), 0))
        rows.append(("r_NB-NF, B = 5 MHz, ρ = 0.9, 60° (paper ≈ 15 m)", String(format: "%.2f m", rNB), 0))
        rows.append(("hybrid dictionary + SOMP, 3 targets", String(format: "%d atoms, NMSE %.1f dB", atoms, 10 * Foundation.log10(nmse)), tCS))
        out.wideband = DemoResult.Wideband(zeta: zeta, rNBNF: rNB, atoms: atoms, nmseDB: 10 * Foundation.log10(nmse),
                             truth: truth.map { [$0.rangeMeters, $0.angleDeg] }, estimated: est.map { [$0.rangeMeters, $0.angleDeg] })

        // 2. Paper 2 (Sec. V-A defaults: K = 64, S = 256, T_max = 5): OMP sensing with unknown vs known
        //    antenna-spacing errors at p_fa = 1e-2.
        note("multi-target OFDM ISAC (K = 64, S = 256, T_max = 5, \(samples) + \(samples) samples per mode)")
        let cfg = MultiTargetConfig()
        try cfg.validate()
        let gospa = try GOSPA(cutoff: (cfg.rangeMaxMeters - cfg.rangeMinMeters) / 2, mu: 2, order: 2)
        var mt: [String: DemoResult.Detection] = [:]
        for mode in [ImpairmentMode.unknown, .known] {
            let sys = try BaselineSystem(config: cfg, mode: mode, impairmentSeed: seed)
            let (m, t) = try timed {
                try sys.evaluate(eta: 0.7, phi: 0, samples: samples, calibrationSamples: samples, seed: seed, targetPfa: 1e-2, gospa: gospa)
            }
            rows.append(("OMP sensing, \(mode.rawValue) impairments",
                         String(format: "p_md %.3f, p_fa %.3f, GOSPA %.1f m, SER %.3f", m.detection.missedDetectionProbability,
                                m.detection.falseAlarmProbability, m.meanGOSPA, m.ser.rate), t))
            mt[mode.rawValue] = DemoResult.Detection(pMD: m.detection.missedDetectionProbability, pFA: m.detection.falseAlarmProbability,
                                      gospa: m.meanGOSPA, ser: m.ser.rate)
        }
        out.multitarget = mt

        // 3. Paper 3: Born channel of one small car seen by a 16 + 16 cross array over 4 tones.
        note("EM scattering (Born, car at 1/4 scale, 16×16 cross array, 4 tones)")
        let dc = try DatasetConfig.preset("small", solver: .born, seed: seed)
        let array = try dc.array()
        var mrng = RandomSource(seed: seed, stream: 1)
        let target = try ExtendedTargetGenerator.place(ExtendedTargetGenerator.instance(.car, index: 0, config: dc), rangeM: 6,
                                                       azimuthRad: 0.2, headingRad: 0.5, materials: try dc.materials.draw(&mrng), config: dc)
        let ((h, _), tB) = try timed { try ExtendedTargetGenerator.solve(target, array: array, config: dc) }
        rows.append(("Born channel H [N_r × N_t × K]", "\(h.rx)×\(h.tx)×\(h.subcarriers), \(target.occupiedCount) voxels, ‖H‖_F \(String(format: "%.3g", h.norm))", tB))
        out.scattering = DemoResult.Scattering(shape: [h.rx, h.tx, h.subcarriers], voxels: target.occupiedCount, frobeniusNorm: h.norm)

        // 4. Paper 3, eq. (19): ergodic rate left for communication when K_s of 64 tones sense.
        let rate = try ErgodicRate.exact(totalTones: 64, sensingTones: 4, snrDB: 15)
        rows.append(("ergodic rate, K_tot 64, K_s 4, 15 dB", String(format: "%.4f bit/s/Hz", rate), 0))
        out.rate = rate

        if json {
            out.stages = rows.map { DemoResult.Stage(stage: $0.stage, result: $0.result, seconds: $0.seconds) }
            print(try ResultJSON.string(out))
        } else {
            let w = rows.map(\.stage.count).max() ?? 10
            for r in rows {
                let t = r.seconds > 0 ? String(format: "%7.2f s", r.seconds) : ""
                print(r.stage.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + r.result + "  " + t)
            }
        }
    }
}

/// `isac demo --json`: one object per stage group, filled as the demo runs (every field is set by the end).
struct DemoResult: Encodable {
    var seed: Int
    var wideband: Wideband?
    var multitarget: [String: Detection]?
    var scattering: Scattering?
    var rate: Double?
    var stages: [Stage]?

    struct Wideband: Encodable {
        var zeta: Double
        var rNBNF: Double
        var atoms: Int
        var nmseDB: Double
        /// [range m, angle deg] per target.
        var truth: [[Double]]
        var estimated: [[Double]]
        enum CodingKeys: String, CodingKey { case atoms, truth, estimated, zeta = "zeta_0_1", rNBNF = "r_nbnf_m", nmseDB = "nmse_db" }
    }

    struct Detection: Encodable {
        var pMD: Double
        var pFA: Double
        var gospa: Double
        var ser: Double
        enum CodingKeys: String, CodingKey { case ser, pMD = "p_md", pFA = "p_fa", gospa = "gospa_m" }
    }

    struct Scattering: Encodable {
        var shape: [Int]
        var voxels: Int
        var frobeniusNorm: Double
        enum CodingKeys: String, CodingKey { case shape, voxels, frobeniusNorm = "frobenius_norm" }
    }

    struct Stage: Encodable {
        var stage: String
        var result: String
        var seconds: Double
    }

    enum CodingKeys: String, CodingKey { case seed, wideband, multitarget, scattering, stages, rate = "rate_bits_per_s_hz" }
}
