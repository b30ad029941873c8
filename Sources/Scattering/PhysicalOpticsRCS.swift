import Arrays
import Foundation
import Linalg
import Numerics

/// Targets of `isac scatter rcs`.
public enum RCSTarget: Sendable {
    /// PEC sphere of radius a (m), meshed as an icosphere with edges ≤ λ/4.
    case sphere(radiusM: Double)
    /// PEC plate a × b (m) in the x–y plane (normal +z, θ measured from the normal, φ = 0 cuts along a).
    case plate(sizeXM: Double, sizeYM: Double)
    /// A mesh read from a file (all facets PEC).
    case mesh(TriangleMesh, path: String)
}

/// Result of an RCS cut: σ(θ) in m² and dBsm, and the closed-form/exact reference where one exists
/// (PEC Mie series for a sphere monostatic, 4πA²/λ² cos²θ sinc²(k a sinθ) for a plate monostatic, φ = 0).
public struct RCSResult: Sendable {
    /// Angles θ of the cut, degrees.
    public var thetaDeg: [Double]
    /// RCS σ(θ), m².
    public var rcsM2: [Double]
    /// RCS in dBsm, 10 log10 σ (σ clamped at 1e-300 m²).
    public var rcsDBsm: [Double] { rcsM2.map { 10 * Foundation.log10(max($0, 1e-300)) } }
    /// Reference σ(θ), m², where one exists.
    public var referenceM2: [Double]?
    /// Name of the reference (nil when there is none).
    public var referenceName: String?
    /// Number of mesh facets.
    public var facets: Int
    /// Number of surface samples.
    public var samples: Int
}

extension PhysicalOptics {
    /// Longest facet edge (in wavelengths) for which the near-field facet integration was validated
    /// (the 0.6 × 0.4 m plate of two triangles, 11.8 λ diagonal, PhysicalOpticsTests); imported meshes with longer edges are rejected.
    public static let maxValidatedFacetEdgeWavelengths = 12.0

    /// Icosphere subdivision level with edges ≤ λ/4 for a sphere of radius a (flat-facet deviation ≤ λ/200 at ka ≤ 50).
    public static func sphereSubdivisions(radiusM a: Double, wavelengthM lam: Double) throws -> Int {
        var s = 0
        while 1.1 * a / Double(1 << s) > lam / 4 { s += 1 }
        guard s <= 8 else {
            throw ISACError.invalidParameter(name: "--radius-m", value: "\(a)", valid: String(format: "needs > 20·4⁸ facets at λ = %.4g m; use a sphere with ka ≤ %.0f", lam, 2 * Double.pi * 256 * lam / 4 / 1.1 / lam))
        }
        return s
    }

    /// PO RCS cut (`isac scatter rcs`): monostatic over `thetaDeg`, or bistatic with incidence from
    /// `bistaticIncidenceDeg` and observation over `thetaDeg`, all in the plane φ = `phiDeg`.
    public static func rcs(target: RCSTarget, frequencyHz f: Double, thetaDeg: [Double], phiDeg: Double = 0,
                           polarization: RCSPolarization = .theta, bistaticIncidenceDeg: Double? = nil,
                           samplesPerWavelength spw: Double = defaultSamplesPerWavelength) throws -> RCSResult {
        try Check.positive(f, "--frequency-hz"); try Check.positive(spw, "--samples-per-wavelength")
        guard !thetaDeg.isEmpty else { throw ISACError.invalidParameter(name: "--theta-deg", value: "[]", valid: "give at least one angle") }
        for t in thetaDeg { try Check.inRange(t, -180, 180, "--theta-deg") }
        try Check.inRange(phiDeg, -360, 360, "--phi-deg")
        let lam = speedOfLight / f, k = 2 * Double.pi / lam
        let mesh: TriangleMesh
        switch target {
        case let .sphere(a):
            try Check.positive(a, "--radius-m")
            mesh = try .icosphere(radius: a, subdivisions: sphereSubdivisions(radiusM: a, wavelengthM: lam))
        case let .plate(a, b):
            mesh = try .plate(sizeX: a, sizeY: b)
        case let .mesh(m, path):
            try m.validate(flag: "--mesh", source: path)
            mesh = m
        }
        let d2r = Double.pi / 180
        let th = thetaDeg.map { $0 * d2r }
        let sigma = try bistaticIncidenceDeg.map {
            try bistaticRCS(mesh: mesh, frequencyHz: f, incidenceThetaRad: $0 * d2r, thetaRad: th, phiRad: phiDeg * d2r,
                            polarization: polarization, samplesPerWavelength: spw)
        } ?? monostaticRCS(mesh: mesh, frequencyHz: f, thetaRad: th, phiRad: phiDeg * d2r, polarization: polarization, samplesPerWavelength: spw)
        var ref: [Double]? = nil, refName: String? = nil
        if bistaticIncidenceDeg == nil {
            switch target {
            case let .sphere(a):
                let q = try MiePEC.backscatterEfficiency(ka: k * a) * Double.pi * a * a
                ref = th.map { _ in q }; refName = "pec_mie_series"
            case let .plate(a, b) where phiDeg == 0:
                ref = th.map { t in
                    let x = k * a * Double.sin(t), s = x == 0 ? 1 : Double.sin(x) / x
                    return 4 * Double.pi * (a * b) * (a * b) / (lam * lam) * Double.cos(t) * Double.cos(t) * s * s
                }
                refName = "po_plate_closed_form"
            default: break
            }
        }
        let samples = try SurfaceSamples(mesh: mesh, spacingM: lam / spw, parts: Set(MeshPart.allCases)).count
        return RCSResult(thetaDeg: thetaDeg, rcsM2: sigma, referenceM2: ref, referenceName: refName, facets: mesh.triangles.count, samples: samples)
    }
}
