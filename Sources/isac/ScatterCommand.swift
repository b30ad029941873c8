import ArgumentParser
import Arrays
import ExtendedDatasets
import Foundation
import ISACIO
import Linalg
import Numerics
import Scattering

/// `isac scatter`: near-field EM scattering (paper 3, Sec. II-A): sphere validation, one-sample channels, benchmarks.
struct ScatterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scatter", abstract: "Near-field EM scattering (paper 3).",
        subcommands: [ScatterSphere.self, ScatterChannel.self, ScatterBench.self, ScatterValidate.self, ScatterRCS.self])
}

struct ScatterSphere: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sphere", abstract: "Validate the FFT-VIE against the Mie series for a dielectric sphere.")
    @Option(help: "Size parameter k·a.") var ka: Double = 1.5
    @Option(name: .customLong("eps-re"), parsing: .unconditional, help: "Re ε_r.") var epsRe: Double = 4
    @Option(name: .customLong("eps-im"), parsing: .unconditional, help: "Im ε_r (≤ 0 is lossy, e^{jωt}).") var epsIm: Double = -0.5
    @Option(name: .customLong("voxels-per-wavelength"), help: "Voxel density (pitch = λ/N, N ≥ 2).") var vpw: Double = 20
    @Option(help: "GMRES relative-residual tolerance.") var tolerance: Double = 1e-6
    @Option(help: "Angles per principal plane (0…180°).") var angles: Int = 37
    @Flag(help: "Print one JSON object.") var json = false

    /// The VIE of `SphereValidation.run` accepts at most this many occupied voxels.
    static let maxVoxels = 400_000.0

    /// Ranges (checked before anything is built):
    /// - `--voxels-per-wavelength` N ≥ 2 (pitch ≤ λ/2), and at most the N at which the sphere holds
    ///   400 000 voxels: (4/3)π (N·ka/2π)³ ≤ 4·10⁵.
    /// - `--eps-re`/`--eps-im`: the internal wavelength λ/|m| (m = √ε_r) must be sampled by ≥ 2
    ///   voxels, the Nyquist form of the usual |m| k d ≤ 1 rule of discrete-dipole/VIE codes:
    ///   |ε_r| ≤ (N/2)². A larger |ε_r| is not resolved by the grid and GMRES stalls for minutes on
    ///   its huge contrast. |ε_r| ≥ 1e-3 (m → 0 is singular in the Mie series). Re ε_r ≤ 0 is allowed
    ///   (metal-like / epsilon-near-zero media are physical).
    func validate() throws {
        try Check.inRange(ka, 1e-3, 20, "--ka")
        try Check.finite(epsRe, "--eps-re")
        guard epsIm.isFinite, epsIm <= 0 else { throw ISACError.invalidParameter(name: "--eps-im", value: "\(epsIm)", valid: "must be finite and ≤ 0 (passive, e^{jωt})") }
        guard vpw.isFinite, vpw >= 2 else { throw ISACError.invalidParameter(name: "--voxels-per-wavelength", value: "\(vpw)", valid: "must be ≥ 2 (voxel pitch ≤ λ/2)") }
        let vpwMax = 2 * Double.pi / ka * Foundation.cbrt(3 * Self.maxVoxels / (4 * Double.pi))
        guard vpw <= vpwMax else {
            throw ISACError.invalidParameter(name: "--voxels-per-wavelength", value: "\(vpw)",
                valid: String(format: "must lie in [2, %.4g] for --ka %g (the sphere then holds ≤ 400000 voxels)", vpwMax, ka))
        }
        let absEps = (epsRe * epsRe + epsIm * epsIm).squareRoot(), absEpsMax = (vpw / 2) * (vpw / 2)
        guard absEps >= 1e-3, absEps <= absEpsMax else {
            throw ISACError.invalidParameter(name: "--eps-re", value: "\(epsRe) (ε_r = \(epsRe)\(epsIm < 0 ? "" : "+")\(epsIm)j)",
                valid: String(format: "|ε_r| must lie in [0.001, %.4g]: the internal wavelength λ/√|ε_r| must span ≥ 2 voxels at --voxels-per-wavelength %g (raise it for a denser material)", absEpsMax, vpw))
        }
        try Check.inOpenRange(tolerance, 0, 1, "--tolerance")
        try Check.inRange(angles, 2, 3601, "--angles")
    }

    func run() throws {
        let t0 = Date()
        let v = try SphereValidation.run(ka: ka, relativePermittivity: CDouble(epsRe, epsIm), voxelsPerWavelength: vpw,
                                         tolerance: tolerance, angles: angles)
        let sec = Date().timeIntervalSince(t0)
        if json {
            print(try ResultJSON.string(ScatterSphereResult(
                ka: ka, epsRe: epsRe, epsIm: epsIm, voxelsPerWavelength: vpw, voxels: v.voxelCount,
                gmresIterations: v.gmresIterations, relativeResidual: v.relativeResidual, tolerance: tolerance,
                farFieldRelativeError: v.relativeError, farFieldRelativeErrorEqualVolume: v.relativeErrorEqualVolume, bornFarFieldRelativeError: v.bornRelativeError,
                qscaMie: v.qscaMie, qscaVIE: v.qscaVIE, anglesDeg: v.anglesDeg,
                vieEPlane: v.vieE, vieHPlane: v.vieH, mieEPlane: v.mieE, mieHPlane: v.mieH, seconds: sec,
                mieS1: v.mieS1.map { [$0.real, $0.imaginary] }, mieS2: v.mieS2.map { [$0.real, $0.imaginary] })))
        } else {
            print(String(format: "sphere ka=%.3g eps=%.3g%+.3gj  %.1f voxels/λ  N_s=%d", ka, epsRe, epsIm, vpw, v.voxelCount))
            print(String(format: "GMRES  %d iterations, residual %.2e (tol %.1e)", v.gmresIterations, v.relativeResidual, tolerance))
            print(String(format: "far-field |F| rel. L2 error vs Mie:  VIE %.4f (equal-volume sphere %.4f)   Born %.4f", v.relativeError, v.relativeErrorEqualVolume, v.bornRelativeError))
            print(String(format: "Q_sca  Mie %.5f   VIE %.5f   (%.2f s)", v.qscaMie, v.qscaVIE, sec))
        }
    }
}

enum ScatterTargetKind: String, ExpressibleByArgument, CaseIterable { case car, motorbike, sphere, box }
extension BornQuadrature: ExpressibleByArgument {}
extension VIEPreconditioner: ExpressibleByArgument {}

/// Ranges of the `scatter channel` flags, checked once in `validate()` before anything is built.
/// Why each bound (the solvers would otherwise run for hours on a meaningless value, or trap):
/// - `--range-m` (0, 10 km]: a near-field ISAC channel; at 10 km a vehicle is a point target and
///   the channel underflows the dataset's dynamic range.
/// - `--heading-deg`, `--azimuth-deg`: one turn, [−360, 360] and [−180, 180].
/// - `--carrier-hz` [100 MHz, 100 GHz]: the radio range of the material model (and of the papers,
///   4.9–28 GHz); above it the λ/2 voxel grid of a car exceeds any memory.
/// - `--voxel-pitch` ≤ λ_min (one voxel per wavelength at the highest tone f_c + (K−1)Δf/2); coarser
///   voxels cannot represent the field at all (the defaults are λ/2 born, λ/6 vie; vie needs ≤ λ/2).
/// - `--target-scale` [0.01, 10]: from a 5 cm toy car to a 50 m vessel-sized target.
/// - `--vie-tolerance` [1e-12, 1): a relative GMRES residual; below 1e-12 double precision cannot
///   reach it (GMRES would run to the iteration limit), 0/NaN never converge, ≥ 1 means no solve.
/// - `--gmres-restart` [1, 1000] (the Krylov basis is restart × 3 N_voxels complex doubles; the
///   memory is checked once the voxel count is known), `--max-iterations` [1, 100000].
/// - `--vie-block-edge` [1, 4]: the near-field coupling is kept for offsets ≤ 3 cells; e = 4 is already 192 × 192 blocks.
/// - `--vie-near-radius` [1, 3]: the coupling radius of `nearband`; the near kernel is kept for offsets ≤ 3 cells.
/// - `--metal-sigma` (0, 10⁸] S/m: σ = 0 is no metal at all; no material conducts better than
///   ≈ 6.3·10⁷ S/m (silver).
enum ScatterChannelLimits {
    static let maxRangeM = 10_000.0, minCarrierHz = 1e8, maxCarrierHz = 1e11, minScale = 0.01, maxScale = 10.0
    static let minTolerance = 1e-12, maxRestart = 1000, maxIterations = 100_000, maxSigma = 1e8

    static func check(_ c: ScatterChannel) throws {
        guard c.rangeM.isFinite, c.rangeM > 0, c.rangeM <= maxRangeM else {
            throw ISACError.invalidParameter(name: "--range-m", value: "\(c.rangeM)", valid: "must lie in (0, \(Int(maxRangeM))] m")
        }
        try Check.inRange(c.azimuthDeg, -180, 180, "--azimuth-deg")
        try Check.inRange(c.headingDeg, -360, 360, "--heading-deg")
        try Check.inRange(c.antennas, 1, 1024, "--antennas"); try Check.inRange(c.subcarriers, 1, 4096, "--subcarriers")
        try Check.inRange(c.carrier, minCarrierHz, maxCarrierHz, "--carrier-hz")
        try Check.positive(c.spacing, "--subcarrier-spacing-hz")
        let fMax = c.carrier + Double(c.subcarriers - 1) / 2 * c.spacing
        let lambdaMin = speedOfLight / fMax
        if let p = c.pitch {
            try Check.positive(p, "--voxel-pitch")
            guard p <= lambdaMin else {
                throw ISACError.invalidParameter(name: "--voxel-pitch", value: "\(p)",
                    valid: String(format: "must be ≤ λ_min = %.4g m (one voxel per wavelength at the highest tone %.4g GHz; default λ/2 born, λ/6 vie)", lambdaMin, fMax / 1e9))
            }
        }
        if let f = c.featurePitch { try DatasetConfig.checkFeaturePitch(f, shortestWavelengthM: lambdaMin) }
        try Check.inRange(c.scale, minScale, maxScale, "--target-scale")
        guard c.vieTol.isFinite, c.vieTol >= minTolerance, c.vieTol < 1 else {
            throw ISACError.invalidParameter(name: "--vie-tolerance", value: "\(c.vieTol)", valid: "must lie in [1e-12, 1) (a relative GMRES residual; below 1e-12 double precision cannot reach it)")
        }
        try Check.inRange(c.restart, 1, maxRestart, "--gmres-restart")
        try Check.inRange(c.maxIterations, 1, maxIterations, "--max-iterations")
        try Check.inRange(c.vieBlockEdge, 1, 4, "--vie-block-edge")
        try Check.inRange(c.vieNearRadius, 1, VIENearBandPreconditioner.maximumRadius, "--vie-near-radius")
        _ = try c.vieDiscretization()
        if let m = c.metalSigma, !(m.isFinite && m > 0 && m <= maxSigma) {
            throw ISACError.invalidParameter(name: "--metal-sigma", value: "\(m)", valid: "must lie in (0, 1e8] S/m (σ ≤ 0 is no metal or not passive; no material conducts better than ≈ 6.3e7 S/m)")
        }
    }
}

struct ScatterChannel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel", abstract: "Channel tensor H ∈ C^{N_r×N_t×K} of one target, written as complex64 .npy [N_r, N_t, K].")
    @Option(help: "car | motorbike | sphere | box.") var target: ScatterTargetKind = .car
    @Option(name: .customLong("range-m"), help: "Range of the projected support centre, m.") var rangeM: Double = 20
    @Option(name: .customLong("azimuth-deg"), parsing: .unconditional, help: "Azimuth atan2(y, x) of the projected centre, deg.") var azimuthDeg: Double = 0
    @Option(name: .customLong("heading-deg"), parsing: .unconditional, help: "Target heading about +z, deg.") var headingDeg: Double = 0
    @Option(help: "Seed of the instance shape and materials.") var seed: UInt64 = 1
    @Option(help: "born | vie | po | hybrid (po/hybrid: docs/physical-optics.md).") var solver: String = "born"
    @Option(name: .customLong("mesh"), help: "Mesh file (.obj/.stl/.off) as the target (po/hybrid only).") var meshPath: String?
    @Option(name: .customLong("figure"), help: "SVG heatmap of |H| (dB) over (Tx, Rx) at the centre subcarrier (po/hybrid only).") var figurePath: String?
    @Option(help: "Antennas per ULA (N_t = N_r).") var antennas: Int = 64
    @Option(help: "Sensing subcarriers K.") var subcarriers: Int = 16
    @Option(name: .customLong("subcarrier-spacing-hz"), help: "Subcarrier spacing Δf, Hz.") var spacing: Double = 20e6
    @Option(name: .customLong("carrier-hz"), help: "Carrier fc, Hz.") var carrier: Double = 4.9e9
    @Option(name: .customLong("voxel-pitch"), help: "Voxel pitch, m (default at the highest subcarrier: λ/2 for born, λ/6 for vie, where λ/2 does not converge on vehicles).") var pitch: Double?
    @Option(name: .customLong("target-scale"), help: "Scale factor on vehicle dimensions.") var scale: Double = 1
    @Option(name: .customLong("array-height"), help: "Array centre height above ground, m.") var arrayHeight: Double = 1.5
    @Option(name: .customLong("vie-tolerance"), help: "GMRES tolerance (VIE).") var vieTol: Double = 1e-3
    @Option(name: .customLong("gmres-restart"), help: "GMRES restart length (VIE).") var restart: Int = 100
    @Option(name: .customLong("max-iterations"), help: "GMRES iteration limit per right-hand side (VIE).") var maxIterations: Int = 2000
    @Option(name: .customLong("metal-sigma"), parsing: .unconditional, help: "Fix the metal conductivity σ (S/m) instead of drawing it from 2…6 S/m.") var metalSigma: Double?
    @Flag(name: .customLong("no-jacobi"), help: "Disable every preconditioner of the VIE (same as --vie-preconditioner none).") var noJacobi = false
    @Option(name: .customLong("vie-preconditioner"), help: "VIE right preconditioner: jacobi (default; diagonal) | block (block Jacobi on e³-cell clusters) | schwarz (restricted additive Schwarz on overlapping 3³ neighbourhoods) | nearband (exact LU of the couplings within --vie-near-radius lattice steps; for metal-like voxels on targets up to ≈ 7 λ, with a long --gmres-restart) | none.") var viePreconditioner: VIEPreconditioner = .default
    @Option(name: .customLong("vie-discretization"), help: "VIE coupling/self term (default = fcd; point = the original point-matched scheme; see `scatter validate`).") var vieDiscretizationName: String = "default"
    @Option(name: .customLong("vie-block-edge"), help: "Cluster edge e (grid cells, 1…4) of --vie-preconditioner block.") var vieBlockEdge: Int = VIEPreconditioner.defaultBlockEdge
    @Option(name: .customLong("vie-near-radius"), help: "Coupling radius r (lattice steps, 1…3) of --vie-preconditioner nearband.") var vieNearRadius: Int = VIENearBandPreconditioner.defaultRadius
    @Flag(name: .customLong("po-shadowing"), help: "po/hybrid: zero the PO current where another opaque facet blocks the Tx (part-to-part shadowing).") var poShadowing = false
    @Option(name: .customLong("born-quadrature"), help: "Born voxel integral: cube (alias-free, default) | center (point sample; aliases at λ/2).") var bornQuadrature: BornQuadrature = .cube
    @Option(name: .customLong("voxelization"), help: "car/motorbike: staircase (voxel in iff its centre is; default) | weighted (filled fraction and interface normal per boundary voxel, VehicleVoxelization).") var voxelizationName: String = "staircase"
    @Option(name: .customLong("feature-pitch"), help: "car/motorbike: length (m) the shells (1.2 ×) and thin tubes are sized from; default = the voxel pitch, so the geometry changes with --voxel-pitch. Fix it to compare pitches on one vehicle.") var featurePitch: Double?
    @Option(help: "Output .npy path.") var out: String
    @Flag(help: "Print one JSON object.") var json = false

    /// The `--vie-discretization` value ("default" or one of `VIEDiscretization.named`).
    func vieDiscretization() throws -> VIEDiscretization {
        if vieDiscretizationName == "default" { return .default }
        do { return try VIEDiscretization.named(vieDiscretizationName) } catch {
            throw ISACError.invalidParameter(name: "--vie-discretization", value: vieDiscretizationName,
                                             valid: "default or one of " + VIEDiscretization.named.map { $0.0 }.joined(separator: ", "))
        }
    }

    func validate() throws {
        guard ["born", "vie", "po", "hybrid"].contains(solver) else { throw ISACError.invalidParameter(name: "--solver", value: solver, valid: "must be born, vie, po or hybrid") }
        if meshPath != nil && !["po", "hybrid"].contains(solver) { throw ISACError.invalidParameter(name: "--mesh", value: meshPath!, valid: "needs --solver po or hybrid") }
        if figurePath != nil && !["po", "hybrid"].contains(solver) { throw ISACError.invalidParameter(name: "--figure", value: figurePath!, valid: "needs --solver po or hybrid (the voxel solvers write no figure)") }
        try ScatterChannelLimits.check(self)
        _ = try VehicleVoxelization.named(voxelizationName)
        if let f = featurePitch, !(f.isFinite && f > 0) {
            throw ISACError.invalidParameter(name: "--feature-pitch", value: "\(f)", valid: "must be a finite length > 0 m")
        }
        if target == .sphere || target == .box, voxelizationName != "staircase" || featurePitch != nil {
            throw ISACError.invalidParameter(name: featurePitch != nil ? "--feature-pitch" : "--voxelization",
                                             value: featurePitch.map { "\($0)" } ?? voxelizationName, valid: "only with --target car or motorbike")
        }
        if ["po", "hybrid"].contains(solver), voxelizationName != "staircase" || featurePitch != nil {
            throw ISACError.invalidParameter(name: featurePitch != nil ? "--feature-pitch" : "--voxelization",
                                             value: featurePitch.map { "\($0)" } ?? voxelizationName, valid: "only with --solver born or vie")
        }
        if voxelizationName != "staircase", solver != "vie" {
            throw ISACError.invalidParameter(name: "--voxelization", value: voxelizationName, valid: "weighted needs --solver vie (the Born kernel takes staircase voxels only)")
        }
    }

    func run() throws {
        try CLIOutput.checkFile(out)  // before building the target (seconds) and the solve (minutes)
        if ["po", "hybrid"].contains(solver) { try runSurface(); return }
        var cfg = try DatasetConfig.preset("paper", solver: solver == "vie" ? .vie : .born, seed: seed)
        cfg.antennas = antennas; cfg.subcarriers = subcarriers; cfg.subcarrierSpacingHz = spacing; cfg.carrierHz = carrier
        cfg.voxelPitchM = pitch ?? cfg.shortestWavelengthM / (solver == "vie" ? DatasetConfig.vieVoxelsPerWavelength : 2); cfg.targetScale = scale; cfg.arrayHeightM = arrayHeight
        cfg.vieTolerance = vieTol
        cfg.featurePitchM = featurePitch
        if voxelizationName != "staircase" { cfg.voxelization = try VehicleVoxelization.named(voxelizationName) }
        if let m = metalSigma {
            cfg.materials.metalSigma = m...m
        }
        try cfg.validate()
        let array = try cfg.array()
        var rng = RandomSource(seed: seed, stream: 0)
        let az = azimuthDeg * Double.pi / 180, hd = headingDeg * Double.pi / 180
        let t: VoxelTarget
        switch target {
        case .car, .motorbike:
            let cls: VehicleClass = target == .car ? .car : .motorbike
            let shape = VehicleShape.random(cls, scale: scale, rng: &rng)
            let mats = try cfg.materials.draw(&rng)
            t = try ExtendedTargetGenerator.place(shape, rangeM: rangeM, azimuthRad: az, headingRad: hd, materials: mats, config: cfg)
        case .sphere, .box:
            let c = Point3(rangeM * Double.cos(az), rangeM * Double.sin(az), 0)
            let m = try Material(name: "dielectric", relativePermittivity: CDouble(4, -0.5), conductivity: 0)
            t = target == .sphere
                ? try VoxelTarget.sphere(center: c, radius: 0.25 * scale, pitch: cfg.voxelPitchM, material: m)
                : try VoxelTarget.box(center: c, size: scale * Point3(0.6, 0.3, 0.3), pitch: cfg.voxelPitchM, material: m)
        }
        if cfg.solver == .vie {
            // GMRES keeps restart + 1 Krylov vectors of 3 unknowns per occupied voxel.
            try Check.memory(flag: "--gmres-restart", value: "\(restart) (\(t.occupiedCount) voxels)",
                             bytes: Check.bytes(restart + 1, 3, t.occupiedCount, 16))
        }
        // Check --out before a solve that can take minutes.
        try OutputFolder.ensureWritable(URL(fileURLWithPath: out).deletingLastPathComponent().path, flag: "--out")
        let t0 = Date()
        let H: ChannelTensor, its: Int?
        var vieStats: [VIEStats] = []
        if cfg.solver == .vie {
            (H, vieStats) = try VIESolver.channel(target: t, array: array, tolerance: cfg.vieTolerance, restart: restart,
                                                  maxIterations: maxIterations, jacobi: !noJacobi,
                                                  discretization: try vieDiscretization(), preconditioner: viePreconditioner, blockEdge: vieBlockEdge,
                                                  nearRadius: vieNearRadius)
            its = vieStats.map { $0.maxIterations }.max()
        } else {
            H = try BornSolver.channel(target: t, array: array, quadrature: bornQuadrature); its = nil
        }
        let sec = Date().timeIntervalSince(t0)
        try NPY.write(NPYArray(complex64: H.data.map { CFloat(Float($0.real), Float($0.imaginary)) }, shape: [H.rx, H.tx, H.subcarriers]), to: out)
        let c = t.supportCenter
        let r = (c.x * c.x + c.y * c.y).squareRoot(), th = Double.atan2(y: c.y, x: c.x) * 180 / Double.pi
        if json {
            var o = ScatterChannelResult(target: target.rawValue, solver: solver, out: out, shape: [H.rx, H.tx, H.subcarriers],
                                         voxels: t.occupiedCount, voxelPitchM: t.pitch, rangeM: r, azimuthDeg: th,
                                         headingDeg: headingDeg, center: [c.x, c.y, c.z], frobeniusNorm: H.norm, seconds: sec,
                                         frequenciesHz: array.frequenciesHz, gmresMaxIterations: its)
            if target == .car || target == .motorbike {
                o.voxelization = voxelizationName; o.boundaryVoxels = t.boundary.count; o.featurePitchM = featurePitch
            }
            if !vieStats.isEmpty {
                o.viePreconditioner = noJacobi ? "none" : viePreconditioner.rawValue
                o.vieBlockEdge = vieBlockEdge; o.vieDiscretization = vieDiscretizationName
                if viePreconditioner == .nearband && !noJacobi { o.vieNearRadius = vieNearRadius }
                o.vie = vieStats
            }
            print(try ResultJSON.string(o))
        } else {
            print(String(format: "%@ (%@): %d voxels at %.4f m, centre range %.3f m azimuth %.2f°", target.rawValue, solver, t.occupiedCount, t.pitch, r, th))
            print(String(format: "H: %d×%d×%d complex64 → %@  ‖H‖_F = %.4g  (%.2f s%@)", H.rx, H.tx, H.subcarriers, out, H.norm, sec,
                         its.map { ", GMRES ≤ \($0) it" } ?? ""))
            for v in vieStats {
                print(String(format: "  VIE %.4f GHz: %d solves (of %d Tx), GMRES mean %.1f / max %d it, max residual %.1e, %.2f s",
                             v.frequencyHz / 1e9, v.solves, H.tx, v.meanIterations, v.maxIterations, v.maxRelativeResidual, v.seconds))
            }
        }
    }
}

struct ScatterBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Born samples/s (small and paper arrays) and FFT-VIE time per subcarrier vs voxel count.",
        discussion: """
        Born: one fixed car instance (dataset seed 1, instance of sample 0) at 20 m, azimuth 11.5°, heading 28.6°,
        on the `small` (16×16×4, vehicles ×0.25) and `paper` (64×64×16, full size) geometries; the time is the
        median over the repeats after one warm-up (small only; a paper sample is long enough).
        VIE: an ε_r = 4 − 0.5j cube at 10 voxels/λ (fc = 4.9 GHz) of edge e voxels, 3 m in front of a
        `--vie-tx`-element cross array, one subcarrier: operator setup (kernel FFTs), one matvec
        (6 FFTs of the circulant grid, P = next 7-smooth ≥ 2e − 1 per axis, N = P³), and the full solve of all
        Tx right-hand sides (compressed basis, tolerance 1e-3, no warm start).
        `--export DIR` writes the Born inputs and results to DIR/born_{small,paper}.npz for
        bench/scattering/numpy_born.py.
        """)
    @Option(help: "Born timing repetitions for the small array.") var repeats: Int = 5
    @Option(name: .customLong("paper-repeats"), help: "Born timing repetitions for the paper array (≈ 10–40 s each).") var paperRepeats: Int = 2
    @Flag(name: .customLong("skip-paper"), help: "Skip the paper-size Born run.") var skipPaper = false
    @Option(name: .customLong("vie-edges"), help: "Cube edges (voxels) for the VIE scaling runs.") var vieEdges: [Int] = [8, 12, 16, 24, 32]
    @Option(name: .customLong("vie-tx"), help: "Tx (= Rx) elements for the VIE per-subcarrier solve.") var vieTx: Int = 8
    @Option(name: .customLong("export"), help: "Folder for the NumPy comparison inputs/outputs (bench/scattering/numpy_born.py).") var export: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        try Check.inRange(repeats, 1, 100, "--repeats")
        try Check.inRange(paperRepeats, 1, 100, "--paper-repeats")
        try Check.inRange(vieTx, 1, 256, "--vie-tx")
        for e in vieEdges { try Check.inRange(e, 2, 64, "--vie-edges") }
    }

    /// Process CPU time (user + system, all threads), s: robust to other load on a shared machine.
    private func cpuSeconds() -> Double {
        var u = rusage(); getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
    }

    private func median(_ x: [Double]) -> Double {
        let s = x.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    func run() throws {
        if let dir = export { try OutputFolder.ensureWritable(dir, flag: "--export") }
        var out = ScatterBenchResult(threads: ThreadCount.count)
        if !json { print("Born (eq. 14)  array    voxels   s/sample   samples/s") }
        for (name, n, k) in [("small", 16, 4), ("paper", 64, 16)] where !(skipPaper && name == "paper") {
            let cfg = try DatasetConfig.preset(name, solver: .born, seed: 1)
            let arr = try cfg.array()
            let (_, cls, inst) = cfg.slot(0)
            var rng = RandomSource(seed: 1, stream: 0)
            let t = try ExtendedTargetGenerator.place(ExtendedTargetGenerator.instance(cls, index: inst, config: cfg), rangeM: 20,
                                                      azimuthRad: 0.2, headingRad: 0.5, materials: try cfg.materials.draw(&rng), config: cfg)
            if name == "small" { _ = try BornSolver.channel(target: t, array: arr) }  // warm-up
            var times: [Double] = [], cpu: [Double] = []
            var H: ChannelTensor? = nil
            for _ in 0..<(name == "small" ? repeats : paperRepeats) {
                let t0 = Date(), c0 = cpuSeconds()
                H = try BornSolver.channel(target: t, array: arr)
                times.append(Date().timeIntervalSince(t0)); cpu.append(cpuSeconds() - c0)
            }
            let s = median(times), c = median(cpu)
            out.born.append(.init(preset: name, antennas: n, subcarriers: k, voxels: t.occupiedCount, secondsPerSample: s,
                                  samplesPerSecond: 1 / s, cpuSecondsPerSample: c, allSeconds: times))
            if !json { print(String(format: "               %-5@ %2d×%2d×%-2d %6d  %9.4f  %10.3f  (CPU %.3f s/sample)", name, n, n, k, t.occupiedCount, s, 1 / s, c)) }
            if let dir = export, let H {
                let occ = t.occupiedIndices
                try NPZ.write([
                    "points": NPYArray(float64: occ.flatMap { i -> [Double] in let c = t.center(i); return [c.x, c.y, c.z] }, shape: [occ.count, 3]),
                    "material": NPYArray(int64: occ.map { Int64(t.material[$0]) }, shape: [occ.count]),
                    "eps": NPYArray(complex128: t.materials.map { $0.relativePermittivity }, shape: [t.materials.count]),
                    "sigma": NPYArray(float64: t.materials.map { $0.sigma }, shape: [t.materials.count]),
                    "tx": NPYArray(float64: arr.tx.positions.flatMap { [$0.x, $0.y, $0.z] }, shape: [n, 3]),
                    "rx": NPYArray(float64: arr.rx.positions.flatMap { [$0.x, $0.y, $0.z] }, shape: [n, 3]),
                    "freqs": NPYArray(float64: arr.frequenciesHz, shape: [k]),
                    "pitch": NPYArray(float64: [t.pitch], shape: [1]),
                    "H": NPYArray(complex128: H.data, shape: [n, n, k]),
                    "seconds": NPYArray(float64: [s], shape: [1]),
                ], to: "\(dir)/born_\(name).npz")
            }
        }
        // VIE scaling: dielectric cube at 10 voxels/λ, one subcarrier, all Tx right-hand sides.
        if !json { print("VIE cube  N_s     N=P³     setup s  matvec CPU s  matvec/(N log2 N) ns  GMRES it  s/subcarrier  CPU/(it·Tx)/(N log2 N) ns") }
        let arr = try SensingArray.cross(antennas: vieTx, carrierHz: 4.9e9, subcarriers: 1)
        let k = Fields.wavenumber(frequencyHz: 4.9e9), h = speedOfLight / 4.9e9 / 10
        let m = try Material(name: "dielectric", relativePermittivity: CDouble(4, -0.5), conductivity: 0)
        for e in vieEdges {
            // (e − ½)h so that rounding gives exactly e voxels per axis.
            let t = try VoxelTarget.box(center: Point3(3, 0, 0), size: Point3(repeating: (Double(e) - 0.5) * h), pitch: h, material: m)
            let t0 = Date()
            let op = try VIEOperator(target: t, wavenumber: k, contrast: t.contrastGrid(frequencyHz: 4.9e9))
            let setup = Date().timeIntervalSince(t0)
            var rng = RandomSource(seed: 5, stream: UInt64(e))
            let x = rng.complexGaussianVector(op.dimension)
            let mv = 5
            // The matvec is single-threaded, so its process CPU time is its own time even on a loaded machine.
            var mt: [Double] = [], mw: [Double] = []
            for _ in 0..<mv { let t1 = Date(), c1 = cpuSeconds(); _ = op.apply(x); mt.append(cpuSeconds() - c1); mw.append(Date().timeIntervalSince(t1)) }
            let perMatvec = median(mt)
            let c0 = cpuSeconds()
            let (_, st) = try VIESolver.channel(target: t, array: arr, tolerance: 1e-3, warmStart: false)
            let solveCPU = cpuSeconds() - c0
            let N = Double(op.fftPoints), nlogn = N * Foundation.log2(N)
            let perIt = solveCPU / (st[0].meanIterations * Double(vieTx))
            out.vie.append(.init(edge: e, voxels: op.occupied.count, fftSize: op.fftPoints, setupSeconds: setup, matvecCPUSeconds: perMatvec,
                                 matvecWallSeconds: median(mw), matvecPerNlogN_ns: perMatvec / nlogn * 1e9,
                                 gmresMeanIterations: st[0].meanIterations, gmresMaxIterations: st[0].maxIterations,
                                 maxRelativeResidual: st[0].maxRelativeResidual, tx: vieTx, secondsPerSubcarrier: st[0].seconds,
                                 cpuSecondsPerSubcarrier: solveCPU, cpuSecondsPerIterationPerTxPerNlogN_ns: perIt / nlogn * 1e9))
            if !json { print(String(format: "VIE %4d  %6d  %7d  %8.3f  %8.4f  %20.2f  %8.1f  %12.2f  %24.2f",
                                    e, op.occupied.count, op.fftPoints, setup, perMatvec, perMatvec / nlogn * 1e9,
                                    st[0].meanIterations, st[0].seconds, perIt / nlogn * 1e9)) }
        }
        if json { print(try ResultJSON.string(out)) }
    }
}

struct ScatterValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Error table of every solver and pitch against exact references (Mie series, closed-form Born integral).",
        discussion: """
        Rows (relative L2 error of the complex quantity, its mean phase offset, worst RCS error in dB):
        - box Born integral: 0.3×0.15×0.15 m box (ε_r 4 − 0.5j) 20 m in front of a 16 + 16 cross array, 4 tones, vs an
          order-6 Gauss–Legendre quadrature of the exact Born integral in every voxel (born = alias-free cube
          form factor, born-center = centre sampling);
        - sphere far field + RCS: plane-wave far field F(θ) (amplitude and phase) of a ka 2, ε_r 4 − 1j sphere at 19
          angles in the E- and H-planes vs Mie; RCS 4π|F|² in dBsm, θ = 180° monostatic, the others bistatic;
        - sphere near-field channel: ka 2.6, ε_r 4 − 0.5j sphere 5 m from a 16 + 16 cross array (2 tones) under the
          array's dipole illumination vs Mie (MieSphere.dipoleChannel).
        Rows across voxels/λ show the convergence in pitch. Default ≈ 1–2 min on 2 cores; --full adds finer pitches.
        """)
    @Flag(help: "Add the finer pitches (λ/40 near field, λ/30 far field, λ/8 box; several minutes).") var full = false
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: ArgumentHelp("VIE discretizations to compare, comma-separated (default = the library default, fcd; or "
                               + VIEDiscretization.named.map { $0.0 }.joined(separator: ", ") + ")."))
    var vieDiscretization: String = "default"
    @Flag(help: "Voxelize the staircase spheres at the nominal pitch without the exact-volume (effective radius) rescaling.") var nominalVolume = false
    @Option(help: ArgumentHelp("Sphere voxelizations to compare, comma-separated (" + SphereVoxelization.allCases.map { $0.rawValue }.joined(separator: ", ")
                               + "; default weighted = anisotropic boundary voxels, the most accurate at every measured pitch; staircase = voxel in iff its centre is)."))
    var sphereVoxelization: String = "weighted"
    @Option(help: "Average the VIE sphere results over sub-voxel grid shifts: 1 (none), 2 or 8.") var gridShifts: Int = 1
    @Option(help: "Cases to run, comma-separated: box, far, near.") var cases: String = "box,far,near"
    @Option(help: "Voxels per wavelength of the sphere cases, comma-separated (default 10,20; --full 10,20,30 far / 10,20,40 near).")
    var voxelsPerWavelength: String?

    func run() throws {
        var rows: [ValidationRow] = []
        func add(_ r: ValidationRow) {
            rows.append(r)
            FileHandle.standardError.write(Data(String(format: "validate: %@ %@ %g/λ: %.4f (%.1f s)\n", r.test, r.solver, r.voxelsPerWavelength, r.relativeError, r.seconds).utf8))
        }
        let names = vieDiscretization.split(separator: ",").map { String($0) }
        guard !names.isEmpty else {
            throw ISACError.invalidParameter(name: "--vie-discretization", value: vieDiscretization, valid: "comma-separated names: default, " + VIEDiscretization.named.map { $0.0 }.joined(separator: ", "))
        }
        let discs0 = try names.map { $0 == "default" ? ("vie", VIEDiscretization.default) : ("vie-" + $0, try VIEDiscretization.named($0)) }
        let voxNames = sphereVoxelization.split(separator: ",").map { String($0) }
        let voxs = try voxNames.map { n -> SphereVoxelization in
            guard let v = SphereVoxelization(rawValue: n) else {
                throw ISACError.invalidParameter(name: "--sphere-voxelization", value: sphereVoxelization,
                                                 valid: "comma-separated names: " + SphereVoxelization.allCases.map { $0.rawValue }.joined(separator: ", "))
            }
            return v }
        guard !voxs.isEmpty else {
            throw ISACError.invalidParameter(name: "--sphere-voxelization", value: sphereVoxelization,
                                             valid: "comma-separated names: " + SphereVoxelization.allCases.map { $0.rawValue }.joined(separator: ", "))
        }
        _ = try SphereVoxelization.gridShifts(gridShifts)
        let discs = discs0.flatMap { (label, d) in voxs.map { v in
            (label + (v == .staircase ? "" : "/" + v.rawValue) + (gridShifts > 1 ? "/s\(gridShifts)" : ""), d, v) } }
        let run = Set(cases.split(separator: ",").map { String($0) })
        guard !run.isEmpty, run.isSubset(of: ["box", "far", "near"]) else {
            throw ISACError.invalidParameter(name: "--cases", value: cases, valid: "comma-separated subset of box, far, near")
        }
        let vpws = try voxelsPerWavelength.map { s -> [Double] in
            let bad = ISACError.invalidParameter(name: "--voxels-per-wavelength", value: s, valid: "comma-separated numbers in [2, 40]")
            let v = try s.split(separator: ",").map { v -> Double in
                guard let x = Double(v), x.isFinite, x >= 2, x <= 40 else { throw bad }
                return x }
            guard !v.isEmpty else { throw bad }
            return v }
        let exact = !nominalVolume
        if run.contains("box") {
            for vpw in full ? [2.0, 4, 8] : [2.0, 4] { for s in ["born-center", "born"] { add(try ScatterValidation.bornBox(solver: s, voxelsPerWavelength: vpw)) } }
        }
        if run.contains("far") { for vpw in vpws ?? (full ? [10.0, 20, 30] : [10.0, 20]) {
            add(try ScatterValidation.sphereFarField(solver: "born", voxelsPerWavelength: vpw, exactVolume: exact))
            for (label, d, v) in discs { var r = try ScatterValidation.sphereFarField(solver: "vie", voxelsPerWavelength: vpw, discretization: d, exactVolume: exact, voxelization: v, gridShifts: gridShifts); r.solver = label; add(r) }
        } }
        if run.contains("near") { for vpw in vpws ?? (full ? [10.0, 20, 40] : [10.0, 20]) {
            add(try ScatterValidation.sphereChannel(solver: "born", voxelsPerWavelength: vpw, exactVolume: exact))
            for (label, d, v) in discs { var r = try ScatterValidation.sphereChannel(solver: "vie", voxelsPerWavelength: vpw, discretization: d, exactVolume: exact, voxelization: v, gridShifts: gridShifts); r.solver = label; add(r) }
        } }
        if json {
            // Kept as the JSONEncoder text parsed back (not `ResultJSON`): printing the row Doubles directly changes the
            // last digit of some numbers (e.g. phaseOffsetDeg -4.674872410622195 → …193), and these bytes must not change.
            let data = try JSONEncoder().encode(rows)
            let arr = try JSONSerialization.jsonObject(with: data)
            print(try JSONOutput.string(["rows": arr] as [String: Any]))
        } else {
            print("test                                                                 solver       vox/λ  voxels  rel.err  phase°   RCS dB  GMRES")
            for r in rows {
                print(String(format: "%-68@ %-11@ %6.1f %7d  %7.4f %7.2f %8@ %6@", r.test, r.solver, r.voxelsPerWavelength, r.voxels, r.relativeError,
                             r.phaseOffsetDeg ?? .nan, r.rcsErrorDB.map { String(format: "%.2f", $0) } ?? "-", r.gmresIterations.map { "\($0)" } ?? "-"))
            }
        }
    }
}

// `--json` result types (issue 12: Codable instead of `[String: Any]`; `ResultJSON` prints the same bytes the
// dictionaries printed: each field keeps the Swift type of the value it replaces, nil fields are left out).

/// `scatter sphere --json`: FFT-VIE and Born far fields of a dielectric sphere against the Mie series.
struct ScatterSphereResult: Encodable {
    var ka: Double, epsRe: Double, epsIm: Double, voxelsPerWavelength: Double
    var voxels: Int, gmresIterations: Int
    var relativeResidual: Double, tolerance: Double
    /// Relative L2 errors of |F| against Mie (VIE, VIE vs the equal-volume sphere, Born).
    var farFieldRelativeError: Double, farFieldRelativeErrorEqualVolume: Double, bornFarFieldRelativeError: Double
    var qscaMie: Double, qscaVIE: Double
    /// Observation angles, deg, and |F| in the E and H planes on them.
    var anglesDeg: [Double]
    var vieEPlane: [Double], vieHPlane: [Double], mieEPlane: [Double], mieHPlane: [Double]
    /// Wall time, s.
    var seconds: Double
    /// Mie amplitudes S1, S2 per angle as [re, im].
    var mieS1: [[Double]], mieS2: [[Double]]
}

/// `scatter channel --json` (voxel solvers): the written tensor's shape [N_r, N_t, K] and the target's geometry
/// (m, deg); GMRES fields only for the VIE.
struct ScatterChannelResult: Encodable {
    var target: String, solver: String, out: String
    var shape: [Int]
    var voxels: Int
    var voxelPitchM: Double, rangeM: Double, azimuthDeg: Double, headingDeg: Double
    var center: [Double]
    var frobeniusNorm: Double, seconds: Double
    var frequenciesHz: [Double]
    var gmresMaxIterations: Int?
    var viePreconditioner: String? = nil
    var vieBlockEdge: Int? = nil
    /// `--vie-near-radius`, present only with `--vie-preconditioner nearband`.
    var vieNearRadius: Int? = nil
    var vieDiscretization: String? = nil
    /// Vehicles only: `--voxelization`, the number of weighted boundary voxels, and `--feature-pitch` (m; absent = pitch).
    var voxelization: String? = nil
    var boundaryVoxels: Int? = nil
    var featurePitchM: Double? = nil
    /// Per subcarrier, the library's VIE solve statistics as they are (`Scattering.VIEStats`).
    var vie: [Scattering.VIEStats]? = nil
}

/// `scatter bench --json`: Born per-sample times per preset and VIE cube scaling rows (s, CPU s, ns per N log2 N).
struct ScatterBenchResult: Encodable {
    struct Born: Encodable {
        var preset: String, antennas: Int, subcarriers: Int, voxels: Int
        var secondsPerSample: Double, samplesPerSecond: Double, cpuSecondsPerSample: Double, allSeconds: [Double]
    }
    struct VIE: Encodable {
        var edge: Int, voxels: Int, fftSize: Int
        var setupSeconds: Double, matvecCPUSeconds: Double, matvecWallSeconds: Double, matvecPerNlogN_ns: Double
        var gmresMeanIterations: Double, gmresMaxIterations: Int, maxRelativeResidual: Double, tx: Int
        var secondsPerSubcarrier: Double, cpuSecondsPerSubcarrier: Double, cpuSecondsPerIterationPerTxPerNlogN_ns: Double
    }
    var threads: Int
    var born: [Born] = []
    var vie: [VIE] = []
}
