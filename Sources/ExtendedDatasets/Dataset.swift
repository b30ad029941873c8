import Arrays
import Foundation
import ISACIO
import Linalg
import Numerics
import Scattering

// The per-chunk checksum is `ISACIO.CRC32` (zlib polynomial; Python: `zlib.crc32(open(f, 'rb').read())`).

/// Channel solver that generates a dataset's samples.
/// `born`: first-order Born approximation; `vie`: volume integral equation solved by GMRES.
public enum DatasetSolver: String, Codable, Sendable, CaseIterable {
    case born, vie
    /// Physical optics of the metal facets of the vehicle mesh / PO + Born of the non-metal voxels (docs/physical-optics.md).
    case po, hybrid
    /// True for the solvers that need the vehicle mesh (`SurfaceScattering`).
    public var usesMesh: Bool { self == .po || self == .hybrid }
}
/// Dataset split a sample belongs to (instances never cross splits).
public enum DatasetSplit: String, Codable, Sendable, CaseIterable { case train, val, test }

/// Everything that determines a dataset bit for bit (stored in `config.json` and the manifest).
///
/// Presets (see docs/scattering.md):
/// - `paper`: N_t = N_r = 64, K = 16, Δf = 20 MHz, fc = 4.9 GHz, full-size vehicles at voxel pitch
///   λ_min/2 ≈ 2.97 cm (λ at the highest subcarrier), 3984/500/492 samples (motorbike/car 1984/2000, 252/248, 240/252),
///   50 instances per class split 40/5/5.
/// - `small`: N_t = N_r = 16, K = 4, vehicles scaled by 0.25 (pitch λ_min/2 ≈ 3.04 cm), 64 samples
///   (train 24+24, val 4+4, test 4+4), 10 instances per class split 6/2/2 — a few minutes on 2 cores.
/// - `experiment-small`: the dataset `isac extended experiment --preset small` trains on — `small`'s scene at K = 8
///   (pitch λ_min/2 ≈ 3.02 cm for born/hybrid), 800 samples (300/50/50 per class), 20/5/5 instances per class, 25
///   samples per chunk; with `--solver hybrid` it is the hybrid-data rerun of the small experiments.
///
/// With `--solver vie` the presets use `vieVoxelsPerWavelength` (6) voxels per free-space wavelength at the
/// highest subcarrier and a GMRES tolerance of 1e-2, and `small` shrinks to 16 samples of vehicles scaled
/// by 0.1 (≈ 1 cm pitch, 1.5–2.5 k voxels). Why: at λ/2 the point-matched VIE operator of the metal shells has
/// eigenvalues on both sides of the origin and GMRES stagnates (residual ≈ 0.1–0.2 after any number of
/// iterations), and a λ/2 grid is 50–65 % off the Mie series anyway; at λ/6 GMRES converges on the 0.1-scale
/// vehicles of `small` (110–300 iterations) and the far-field error vs Mie is ≈ 14 % (dielectric) / 16 % (σ ≈ 4 S/m metal-like sphere). A 1e-2 residual
/// keeps the solver error well below that discretization error (docs/scattering.md).
public struct DatasetConfig: Codable, Sendable, Equatable, VehicleScene {
    /// Preset name the config came from (`small`, `paper`, `experiment-small`).
    public var preset: String
    /// Scattering solver of the samples.
    public var solver: DatasetSolver
    /// Master random seed; instance geometry and per-sample draws derive from it.
    public var seed: UInt64
    /// Antennas per array, N_t = N_r.
    public var antennas: Int
    /// Subcarriers K.
    public var subcarriers: Int
    /// Carrier frequency f_c, Hz.
    public var carrierHz: Double
    /// Subcarrier spacing Δf, Hz.
    public var subcarrierSpacingHz: Double
    /// Voxel pitch of the targets, m (presets: λ_min/2, or λ_min/6 for `vie`).
    public var voxelPitchM: Double
    /// Vehicle size scale factor (1 = full size).
    public var targetScale: Double
    /// Height of the array centre above the ground plane (vehicles stand on z = −arrayHeightM), m.
    public var arrayHeightM: Double
    public var rangeMinM: Double, rangeMaxM: Double
    public var azimuthMinDeg: Double, azimuthMaxDeg: Double
    /// Samples per class per split, [motorbike, car].
    public var trainCounts: [Int], valCounts: [Int], testCounts: [Int]
    /// Instances ("meshes") per class for each split; a split's samples use only its own instances.
    public var trainInstances: Int, valInstances: Int, testInstances: Int
    public var samplesPerChunk: Int
    public var vieTolerance: Double
    public var materials: MaterialRanges
    /// PO surface samples per wavelength (solvers po/hybrid; nil = `PhysicalOptics.defaultSamplesPerWavelength`).
    public var poSamplesPerWavelength: Double? = nil
    /// PO part-to-part shadowing (`PhysicalOptics.shadowFlags`; nil = off, so configs without it keep their hash).
    public var poShadowing: Bool? = nil
    /// VIE coupling/self-term scheme (`VIEDiscretization`; nil = `VIEDiscretization.default`, so configs without it
    /// keep their hash). `.pointMatched` regenerates the channels of datasets made before the `fcd` default.
    public var vieDiscretization: VIEDiscretization? = nil
    /// Length the vehicles' pitch-dependent features are sized from (`VehicleShape.voxelize(featurePitchM:)`: shells
    /// 1.2 × it thick); nil = the voxel pitch (original behaviour, hash unchanged).
    public var featurePitchM: Double? = nil
    /// Vehicle voxelization (`VehicleVoxelization`); nil = `.staircase` (original behaviour, hash unchanged).
    public var voxelization: VehicleVoxelization? = nil

    /// Voxels per free-space wavelength (at the highest subcarrier) of the VIE presets.
    public static let vieVoxelsPerWavelength = 6.0

    /// The names `preset(_:solver:seed:)` accepts (`isac dataset generate --preset`).
    public static let presetNames = ["small", "paper", "experiment-small"]

    /// The named preset config (`presetNames`), with the voxel pitch set to λ_min/2 (`vie`: λ_min/6).
    /// Throws `ISACError.invalidParameter` for an unknown name.
    public static func preset(_ name: String, solver: DatasetSolver, seed: UInt64) throws -> DatasetConfig {
        // Born: pitch λ_min/2 at the highest subcarrier (cheap samples; Born has no convergence issue).
        // VIE: λ_min/6 (see the type's doc comment).
        let perWavelength = solver == .vie ? vieVoxelsPerWavelength : 2
        let vieTol = solver == .vie ? 1e-2 : 1e-3
        var c: DatasetConfig
        switch name {
        case "paper":
            c = DatasetConfig(preset: name, solver: solver, seed: seed, antennas: 64, subcarriers: 16, carrierHz: 4.9e9,
                              subcarrierSpacingHz: 20e6, voxelPitchM: 0, targetScale: 1, arrayHeightM: 1.5,
                              rangeMinM: 5, rangeMaxM: 50, azimuthMinDeg: -60, azimuthMaxDeg: 60,
                              trainCounts: [1984, 2000], valCounts: [252, 248], testCounts: [240, 252],
                              trainInstances: 40, valInstances: 5, testInstances: 5, samplesPerChunk: 16,
                              vieTolerance: vieTol, materials: MaterialRanges())
        case "small":
            c = DatasetConfig(preset: name, solver: solver, seed: seed, antennas: 16, subcarriers: 4, carrierHz: 4.9e9,
                              subcarrierSpacingHz: 20e6, voxelPitchM: 0, targetScale: 0.25, arrayHeightM: 0.5,
                              rangeMinM: 5, rangeMaxM: 50, azimuthMinDeg: -60, azimuthMaxDeg: 60,
                              trainCounts: [24, 24], valCounts: [4, 4], testCounts: [4, 4],
                              trainInstances: 6, valInstances: 2, testInstances: 2, samplesPerChunk: 8,
                              vieTolerance: vieTol, materials: MaterialRanges())
            if solver == .vie {
                // 9× the voxels per area at λ/6 and ≈ 20 CPU-s per sample: smaller vehicles and fewer samples.
                c.targetScale = 0.1
                c.trainCounts = [4, 4]; c.valCounts = [2, 2]; c.testCounts = [2, 2]
                c.trainInstances = 4; c.samplesPerChunk = 4
            }
        case "experiment-small":
            // The dataset `isac extended experiment --preset small` trains on (ExperimentPreset "small"), for any
            // solver: `small`'s scene at K = 8, 300/50/50 samples per class, 20/5/5 instances per class.
            c = try preset("small", solver: solver == .vie ? .born : solver, seed: seed)
            c.preset = name; c.solver = solver; c.vieTolerance = vieTol
            c.subcarriers = 8
            c.trainCounts = [300, 300]; c.valCounts = [50, 50]; c.testCounts = [50, 50]
            c.trainInstances = 20; c.valInstances = 5; c.testInstances = 5
            c.samplesPerChunk = 25
        default:
            throw ISACError.invalidParameter(name: "--preset", value: name, valid: "must be \(presetNames.joined(separator: ", "))")
        }
        c.voxelPitchM = c.shortestWavelengthM / perWavelength
        if solver.usesMesh { c.poSamplesPerWavelength = PhysicalOptics.defaultSamplesPerWavelength }
        return c
    }

    /// Throws `ISACError.invalidParameter` when a field is out of range (positivity, range/azimuth order, counts,
    /// feature pitch, and pitch ≤ λ_min/2 for `vie`).
    public func validate() throws {
        try Check.positive(antennas, "antennas"); try Check.positive(subcarriers, "subcarriers")
        try Check.positive(carrierHz, "carrier-hz"); try Check.positive(subcarrierSpacingHz, "subcarrier-spacing-hz")
        try Check.positive(voxelPitchM, "voxel-pitch"); try Check.positive(targetScale, "target-scale")
        try Check.positive(samplesPerChunk, "samples-per-chunk")
        try Check.inRange(arrayHeightM, 0, 100, "array-height")
        guard rangeMinM > 0, rangeMaxM >= rangeMinM, rangeMaxM.isFinite else {
            throw ISACError.invalidParameter(name: "range", value: "[\(rangeMinM), \(rangeMaxM)]", valid: "need 0 < min ≤ max")
        }
        guard azimuthMinDeg >= -90, azimuthMaxDeg <= 90, azimuthMinDeg <= azimuthMaxDeg else {
            throw ISACError.invalidParameter(name: "azimuth", value: "[\(azimuthMinDeg), \(azimuthMaxDeg)]", valid: "need −90 ≤ min ≤ max ≤ 90 deg")
        }
        for (n, c) in [("trainCounts", trainCounts), ("valCounts", valCounts), ("testCounts", testCounts)] {
            guard c.count == 2, c.allSatisfy({ $0 >= 0 }) else { throw ISACError.invalidParameter(name: n, value: "\(c)", valid: "two counts ≥ 0 [motorbike, car]") }
        }
        for (n, v, c) in [("trainInstances", trainInstances, trainCounts), ("valInstances", valInstances, valCounts), ("testInstances", testInstances, testCounts)] {
            if c.contains(where: { $0 > 0 }) { try Check.positive(v, n) }
        }
        if let f = featurePitchM { try DatasetConfig.checkFeaturePitch(f, shortestWavelengthM: shortestWavelengthM) }
        if solver == .vie {
            let lam = shortestWavelengthM
            guard voxelPitchM <= lam / 2 * (1 + 1e-12) else {
                throw ISACError.invalidParameter(name: "voxel-pitch", value: "\(voxelPitchM)", valid: String(format: "must be ≤ λ/2 = %.4f m at the highest subcarrier for --solver vie", lam / 2))
            }
        }
    }

    /// The `--feature-pitch` bound, (0, λ_min] (λ at the highest subcarrier), shared by datasets and `scatter channel`.
    /// The pitch-dependent features (1.2 f shells, tubes ≥ 0.75 f) stay features only while f is well below the
    /// vehicle: the default is the voxel pitch (≤ λ_min); a longer one fills the body solid, and a huge one ran
    /// without bound.
    public static func checkFeaturePitch(_ f: Double, shortestWavelengthM lam: Double) throws {
        guard f.isFinite, f > 0, f <= lam else {
            throw ISACError.invalidParameter(name: "--feature-pitch", value: "\(f)", valid: String(format: "must lie in (0, λ_min = %.4g m] (λ at the highest subcarrier; the default is the voxel pitch; longer fills the vehicle solid)", lam))
        }
    }

    /// Coarsest pitch (voxels per wavelength at the highest tone) at which each solver meets its validated accuracy
    /// (docs/scattering.md, "Validated range"): Born ≥ 2 (the cube form factor integrates the Born integral exactly;
    /// what remains is the Born approximation itself), VIE ≥ 10 (near-field sphere channel within 15 % of Mie).
    public static func validatedVoxelsPerWavelength(_ s: DatasetSolver) -> Double {
        switch s {
        case .vie: return 10
        case .born, .hybrid: return 2   // hybrid: the non-metal voxels go through the (alias-free) Born path
        case .po: return 0              // surface solver: the voxel pitch is not used (facet size is checked by PO)
        }
    }

    /// A loud warning when the pitch is coarser than the solver's validated range (nil inside it).
    public var accuracyWarning: String? {
        let vpw = shortestWavelengthM / voxelPitchM, need = DatasetConfig.validatedVoxelsPerWavelength(solver)
        guard vpw < need * (1 - 1e-9) else { return nil }
        return String(format: "WARNING: voxel pitch %.4g m = λ/%.3g is coarser than the validated range of --solver %@ (≥ %.0f voxels/λ, pitch ≤ %.4g m); channels can be off by tens of percent (run `isac scatter validate`)",
                      voxelPitchM, vpw, solver.rawValue, need, shortestWavelengthM / need)
    }

    /// Free-space wavelength at the highest subcarrier f_c + (K − 1)Δf/2, m (the voxel pitch is set against it).
    public var shortestWavelengthM: Double { speedOfLight / (carrierHz + Double(subcarriers - 1) / 2 * subcarrierSpacingHz) }

    /// Total samples over all splits and classes.
    public var totalSamples: Int { (trainCounts + valCounts + testCounts).reduce(0, +) }
    /// Number of chunk files, ⌈totalSamples / samplesPerChunk⌉.
    public var chunkCount: Int { (totalSamples + samplesPerChunk - 1) / samplesPerChunk }
    /// The cross-shaped sensing array of `antennas` antennas at the configured carrier and subcarriers.
    public func array() throws -> SensingArray {
        try SensingArray.cross(antennas: antennas, carrierHz: carrierHz, subcarriers: subcarriers, subcarrierSpacingHz: subcarrierSpacingHz)
    }

    /// Split, class and per-class instance of global sample `index` (layout: train, val, test; classes
    /// interleaved evenly inside a split; instances assigned round-robin within the split).
    public func slot(_ index: Int) -> (split: DatasetSplit, cls: VehicleClass, instance: Int) {
        var i = index
        let splits: [(DatasetSplit, [Int], Int, Int)] = [
            (.train, trainCounts, trainInstances, 0), (.val, valCounts, valInstances, trainInstances),
            (.test, testCounts, testInstances, trainInstances + valInstances)]
        for (s, c, ninst, off) in splits {
            let n = c[0] + c[1]
            if i < n {
                // Motorbike iff the running Bresenham count of motorbikes steps at i.
                let before = (i * c[0]) / n, after = ((i + 1) * c[0]) / n
                let moto = after > before
                let jc = moto ? before : i - before
                return (s, moto ? .motorbike : .car, off + jc % ninst)
            }
            i -= n
        }
        preconditionFailure("sample index out of range")
    }
}

/// Labels of one sample (all geometry in the world frame, metres/degrees).
public struct SampleLabel: Codable, Sendable, Equatable {
    /// Global sample index (train, then val, then test).
    public var index: Int
    /// Split of the sample.
    public var split: DatasetSplit
    /// Vehicle class of the sample.
    public var cls: VehicleClass
    /// Integer class label (`VehicleClass.label`).
    public var classLabel: Int
    /// Instance id, e.g. "car-0007"; an instance occurs in exactly one split.
    public var instanceId: String
    /// Range r = ‖Π(r_ctr)‖ and azimuth θ = atan2(y_c, x_c) of the projected support centre (eqs. 21–22),
    /// sensing plane = the horizontal x–y plane through the array centre (x = array broadside).
    public var rangeM: Double
    public var azimuthDeg: Double
    public var headingDeg: Double
    public var center: [Double]
    public var materials: [Material]
    public var voxelCount: Int
    public var seed: UInt64
    /// VIE only: max GMRES iterations over Tx and subcarriers.
    public var gmresIterations: Int?
}

/// Builds targets and channels for dataset samples and single `scatter channel` calls.
public enum ExtendedTargetGenerator {
    /// Instance geometry: depends only on (seed, class, instance), never on the sample.
    public static func instance(_ cls: VehicleClass, index: Int, config c: DatasetConfig) -> VehicleShape {
        var rng = RandomSource(seed: c.seed, stream: (1 << 40) | (UInt64(cls.label) << 32) | UInt64(index))
        return VehicleShape.random(cls, scale: c.targetScale, rng: &rng)
    }

    /// Voxelizes `shape` so that its projected support centre sits at (range, azimuth) exactly.
    public static func place(_ shape: VehicleShape, rangeM: Double, azimuthRad: Double, headingRad: Double,
                             materials: [Material], config c: DatasetConfig) throws -> VoxelTarget {
        try Check.positive(rangeM, "--range-m")
        let want = Point3(rangeM * Double.cos(azimuthRad), rangeM * Double.sin(azimuthRad), -c.arrayHeightM)
        var t = try shape.voxelize(position: want, headingRad: headingRad, pitch: c.voxelPitchM, materials: materials,
                                   featurePitchM: c.featurePitchM, voxelization: c.voxelization ?? .staircase)
        let ctr = t.supportCenter
        t.origin += Point3(want.x - ctr.x, want.y - ctr.y, 0)
        return t
    }

    /// Labels for a placed target.
    static func label(index: Int, split: DatasetSplit, cls: VehicleClass, instance: Int, target t: VoxelTarget,
                      headingRad: Double, seed: UInt64, iterations: Int?) -> SampleLabel {
        let c = t.supportCenter
        return SampleLabel(index: index, split: split, cls: cls, classLabel: cls.label,
                           instanceId: String(format: "%@-%04d", cls.rawValue, instance),
                           rangeM: (c.x * c.x + c.y * c.y).squareRoot(), azimuthDeg: Double.atan2(y: c.y, x: c.x) * 180 / Double.pi,
                           headingDeg: headingRad * 180 / Double.pi, center: [c.x, c.y, c.z], materials: t.materials,
                           voxelCount: t.occupiedCount, seed: seed, gmresIterations: iterations)
    }

    /// Solves one target with the configured solver.
    public static func solve(_ t: VoxelTarget, array: SensingArray, config c: DatasetConfig) throws -> (ChannelTensor, Int?) {
        switch c.solver {
        case .born: return (try BornSolver.channel(target: t, array: array), nil)
        case .vie:
            // GMRES(100): unrestarted GMRES needs ≈ 20 % fewer iterations than GMRES(40) on the vehicle shells, and
            // 100 Krylov vectors of 3 N_s ≤ 10⁵ unknowns stay below 200 MB per concurrent solve.
            let (h, st) = try VIESolver.channel(target: t, array: array, tolerance: c.vieTolerance, restart: 100,
                                                discretization: c.vieDiscretization ?? .default)
            return (h, st.map { $0.maxIterations }.max())
        case .po, .hybrid:
            throw ISACError.invalidParameter(name: "--solver", value: c.solver.rawValue, valid: "po/hybrid need the vehicle mesh (SurfaceScattering.channel); use born or vie for a bare voxel target")
        }
    }

    /// Sample `index` of the dataset: RandomSource(seed, stream: index) draws range, azimuth,
    /// heading and materials in that order, so any shard layout reproduces it bit for bit.
    public static func sample(_ index: Int, config c: DatasetConfig, array: SensingArray) throws -> (ChannelTensor, SampleLabel) {
        let (split, cls, inst) = c.slot(index)
        var rng = RandomSource(seed: c.seed, stream: UInt64(index))
        let r = rng.uniform(c.rangeMinM, c.rangeMaxM)
        let az = rng.uniform(c.azimuthMinDeg, c.azimuthMaxDeg) * Double.pi / 180
        let heading = rng.uniform(0, 2 * Double.pi)
        let mats = try c.materials.draw(&rng)
        let shape = instance(cls, index: inst, config: c)
        let t: VoxelTarget, h: ChannelTensor, its: Int?
        if c.solver.usesMesh {
            let (vt, mesh) = try SurfaceScattering.place(shape, rangeM: r, azimuthRad: az, headingRad: heading, materials: mats, config: c)
            t = vt; its = nil
            h = try SurfaceScattering.channel(mesh: mesh, target: vt, array: array, hybrid: c.solver == .hybrid,
                                              samplesPerWavelength: c.poSamplesPerWavelength ?? PhysicalOptics.defaultSamplesPerWavelength,
                                              shadowing: c.poShadowing ?? false)
        } else {
            t = try place(shape, rangeM: r, azimuthRad: az, headingRad: heading, materials: mats, config: c)
            (h, its) = try solve(t, array: array, config: c)
        }
        return (h, label(index: index, split: split, cls: cls, instance: inst, target: t, headingRad: heading, seed: c.seed, iterations: its))
    }
}
