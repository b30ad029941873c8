import ArgumentParser
import Arrays
import ExtendedDatasets
import Foundation
import ISACIO
import Linalg
import Numerics
import Scattering

/// `isac scatter rcs`: physical-optics radar cross-section of a PEC sphere, plate or mesh file (docs/physical-optics.md).
struct ScatterRCS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rcs",
        abstract: "PEC radar cross-section by physical optics (monostatic cut, or bistatic with --bistatic).",
        discussion: """
        Angles: radar/observation direction r̂ = (sinθ cosφ, sinθ sinφ, cosθ); a plate lies in the x–y plane (normal +z,
        φ = 0 cuts along its first side). For a sphere the exact PEC Mie series is printed alongside (monostatic), for a
        plate the closed-form PO pattern 4πA²/λ² cos²θ sinc²(k a sinθ) (monostatic, φ = 0).
        """)
    @Option(help: "sphere | plate (or give --mesh).") var target: String?
    @Option(name: .customLong("radius-m"), help: "Sphere radius, m.") var radiusM: Double?
    @Option(name: .customLong("size-m"), help: "Plate size A,B in metres.") var sizeM: String?
    @Option(help: "Mesh file (.obj, .stl, .off); all facets are PEC.") var mesh: String?
    @Option(name: .customLong("mesh-scale"), help: "Metres per mesh-file unit.") var meshScale: Double = 1
    @Option(name: .customLong("frequency-hz"), help: "Frequency, Hz.") var frequencyHz: Double
    @Option(help: "po (the only surface solver; born/vie model metal as a lossy dielectric, see scatter sphere).") var solver: String = "po"
    @Option(name: .customLong("theta-deg"), parsing: .upToNextOption, help: "Monostatic (or bistatic observation) angles θ, deg.") var thetaDeg: [Double] = [0]
    @Option(name: .customLong("phi-deg"), parsing: .unconditional, help: "Cut plane φ, deg.") var phiDeg: Double = 0
    @Option(help: "theta | phi: incident polarization θ̂ or φ̂.") var polarization: String = "theta"
    @Flag(help: "Bistatic cut: incidence fixed at --incidence-theta-deg, observation over --theta-deg.") var bistatic = false
    @Option(name: .customLong("incidence-theta-deg"), parsing: .unconditional, help: "Incidence direction θ_i for --bistatic, deg.") var incidenceDeg: Double = 0
    @Option(name: .customLong("samples-per-wavelength"), help: "PO surface samples per wavelength.") var spw: Double = PhysicalOptics.defaultSamplesPerWavelength
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard solver == "po" else { throw ISACError.invalidParameter(name: "--solver", value: solver, valid: "must be po (PEC surface solver)") }
        guard RCSPolarization(rawValue: polarization) != nil else { throw ISACError.invalidParameter(name: "--polarization", value: polarization, valid: "must be theta or phi") }
        try Check.positive(frequencyHz, "--frequency-hz"); try Check.positive(spw, "--samples-per-wavelength")
        guard (target == nil) != (mesh == nil) else {
            throw ISACError.invalidParameter(name: "--target", value: target ?? "(none)", valid: "give exactly one of --target sphere|plate and --mesh FILE")
        }
        if let t = target, !["sphere", "plate"].contains(t) { throw ISACError.invalidParameter(name: "--target", value: t, valid: "must be sphere or plate (or use --mesh)") }
    }

    func parsedTarget() throws -> RCSTarget {
        if let path = mesh { return .mesh(try MeshIO.read(path: path, flag: "--mesh", scale: meshScale), path: path) }
        if target == "sphere" {
            guard let a = radiusM else { throw ISACError.invalidParameter(name: "--radius-m", value: "(missing)", valid: "required for --target sphere, > 0 m") }
            return .sphere(radiusM: a)
        }
        let p = (sizeM ?? "").split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 2, let a = p[0], let b = p[1], a > 0, b > 0, a.isFinite, b.isFinite else {
            throw ISACError.invalidParameter(name: "--size-m", value: sizeM ?? "(missing)", valid: "must be A,B with A, B > 0 metres")
        }
        return .plate(sizeXM: a, sizeYM: b)
    }

    func run() throws {
        let t0 = Date()
        let r = try PhysicalOptics.rcs(target: try parsedTarget(), frequencyHz: frequencyHz, thetaDeg: thetaDeg, phiDeg: phiDeg,
                                       polarization: RCSPolarization(rawValue: polarization)!, bistaticIncidenceDeg: bistatic ? incidenceDeg : nil,
                                       samplesPerWavelength: spw)
        let sec = Date().timeIntervalSince(t0)
        let dB = { (x: Double) in 10 * Foundation.log10(max(x, 1e-300)) }
        if json {
            var o = ScatterRCSResult(solver: solver, target: mesh ?? target!, frequencyHz: frequencyHz, wavelengthM: speedOfLight / frequencyHz,
                                     thetaDeg: r.thetaDeg, phiDeg: phiDeg, polarization: polarization, bistatic: bistatic,
                                     rcs_m2: r.rcsM2, rcs_dbsm: r.rcsDBsm, facets: r.facets, samples: r.samples, seconds: sec,
                                     incidenceThetaDeg: bistatic ? incidenceDeg : nil)
            if let ref = r.referenceM2, let n = r.referenceName { o.reference = n; o.reference_dbsm = ref.map(dB) }
            print(try ResultJSON.string(o))
        } else {
            print(String(format: "PO RCS at %.4g GHz: %d facets, %d surface samples (%.2f s)", frequencyHz / 1e9, r.facets, r.samples, sec))
            print("theta_deg  rcs_dbsm" + (r.referenceName.map { "  \($0)_dbsm" } ?? ""))
            for i in r.thetaDeg.indices {
                print(String(format: "%9.2f  %8.3f", r.thetaDeg[i], r.rcsDBsm[i]) + (r.referenceM2.map { String(format: "  %8.3f", dB($0[i])) } ?? ""))
            }
        }
    }
}

/// `scatter channel --solver po|hybrid`: the surface-solver path (ScatterChannel.run dispatches here).
extension ScatterChannel {
    func runSurface() throws {
        var cfg = try DatasetConfig.preset("paper", solver: solver == "hybrid" ? .hybrid : .po, seed: seed)
        cfg.antennas = antennas; cfg.subcarriers = subcarriers; cfg.subcarrierSpacingHz = spacing; cfg.carrierHz = carrier
        cfg.voxelPitchM = pitch ?? cfg.shortestWavelengthM / 2; cfg.targetScale = scale; cfg.arrayHeightM = arrayHeight
        if let m = metalSigma { cfg.materials.metalSigma = m...m }
        if poShadowing { cfg.poShadowing = true }
        let kind: SurfaceTarget
        if let path = meshPath { kind = .mesh(try MeshIO.read(path: path, flag: "--mesh"), path: path) }
        else {
            switch target {
            case .car: kind = .vehicle(.car)
            case .motorbike: kind = .vehicle(.motorbike)
            case .sphere: kind = .sphere(radiusM: 0.25 * scale)
            case .box: kind = .box(size: scale * Point3(0.6, 0.3, 0.3))
            }
        }
        try OutputFolder.ensureWritable(URL(fileURLWithPath: out).deletingLastPathComponent().path, flag: "--out")
        let t0 = Date(), c0 = processCPUSeconds()
        let timing = PhysicalOpticsTiming()
        let (H, mesh, vox) = try SurfaceScattering.channel(target: kind, config: cfg, rangeM: rangeM, azimuthRad: azimuthDeg * Double.pi / 180,
                                                           headingRad: headingDeg * Double.pi / 180, seed: seed, hybrid: solver == "hybrid", timing: timing)
        let sec = Date().timeIntervalSince(t0), cpu = processCPUSeconds() - c0
        try NPY.write(NPYArray(complex64: H.data.map { CFloat(Float($0.real), Float($0.imaginary)) }, shape: [H.rx, H.tx, H.subcarriers]), to: out)
        let (lo, hi) = mesh.bounds
        let c = (lo + hi) / 2
        let spw = cfg.poSamplesPerWavelength ?? PhysicalOptics.defaultSamplesPerWavelength
        let lit = timing.samples
        if let fig = figurePath {
            let kc = H.subcarriers / 2
            var f = Figure(title: String(format: "|H| over the array, %@ (%@), %.1f m, %.3f GHz", meshPath ?? target.rawValue, solver, rangeM,
                                         try cfg.array().frequenciesHz[kc] / 1e9), xLabel: "Tx element t", yLabel: "Rx element r")
            let vals = (0..<H.rx).map { r in (0..<H.tx).map { t in 20 * Foundation.log10(max(H[r, t, kc].length, 1e-300)) } }
            f.heatmap(x: (0..<H.tx).map(Double.init), y: (0..<H.rx).map(Double.init), values: vals, colorbarLabel: "|H| [dB]")
            try f.write(to: fig)
        }
        if json {
            let o = ScatterSurfaceChannelResult(
                target: meshPath ?? target.rawValue, solver: solver, out: out, shape: [H.rx, H.tx, H.subcarriers],
                facets: mesh.triangles.count, metalAreaM2: mesh.triangles.indices.filter { mesh.parts[$0] == .metal }.reduce(0) { $0 + mesh.area($1) },
                boundsCenter: [c.x, c.y, c.z], poSamplesLit: lit, poSamplesPerWavelength: spw, frobeniusNorm: H.norm, seconds: sec,
                cpuSeconds: cpu, poGemmSeconds: timing.gemmSeconds, poGemmGflops: timing.gemmFlops / 1e9, poStageSeconds: timing.stageSeconds,
                frequenciesHz: try cfg.array().frequenciesHz, bornVoxels: vox.map { v in v.material.filter { $0 > 1 }.count })
            print(try ResultJSON.string(o))
        } else {
            print(String(format: "%@ (%@): %d facets, mesh centre (%.2f, %.2f, %.2f) m", meshPath ?? target.rawValue, solver, mesh.triangles.count, c.x, c.y, c.z))
            print(String(format: "H: %d×%d×%d complex64 → %@  ‖H‖_F = %.4g  (%.2f s)", H.rx, H.tx, H.subcarriers, out, H.norm, sec))
        }
    }
}

/// Process CPU time (user + system, all threads), s.
func processCPUSeconds() -> Double {
    var u = rusage(); getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
}

// `--json` result types (issue 12: Codable instead of `[String: Any]`; `ResultJSON` prints the same bytes the
// dictionaries printed: each field keeps the Swift type of the value it replaces, nil fields are left out).

/// `scatter rcs --json`: PO RCS σ (m², dBsm) per observation angle θ (deg); `reference*` where an analytic
/// reference exists (sphere: Mie), `incidenceThetaDeg` only for --bistatic.
struct ScatterRCSResult: Encodable {
    var solver: String, target: String
    var frequencyHz: Double, wavelengthM: Double
    var thetaDeg: [Double]
    var phiDeg: Double
    var polarization: String
    var bistatic: Bool
    var rcs_m2: [Double], rcs_dbsm: [Double]
    var facets: Int, samples: Int
    /// Wall time, s.
    var seconds: Double
    var incidenceThetaDeg: Double?
    var reference: String? = nil
    var reference_dbsm: [Double]? = nil
}

/// `scatter channel --json` for the surface solvers (po, hybrid): shape [N_r, N_t, K], mesh facts, PO timing
/// split (s, GFLOP); `bornVoxels` only for hybrid.
struct ScatterSurfaceChannelResult: Encodable {
    var target: String, solver: String, out: String
    var shape: [Int]
    var facets: Int
    /// Total area of the metal facets, m².
    var metalAreaM2: Double
    var boundsCenter: [Double]
    var poSamplesLit: Int
    var poSamplesPerWavelength: Double
    var frobeniusNorm: Double, seconds: Double, cpuSeconds: Double, poGemmSeconds: Double, poGemmGflops: Double
    var poStageSeconds: [String: Double]
    var frequenciesHz: [Double]
    var bornVoxels: Int?
}
