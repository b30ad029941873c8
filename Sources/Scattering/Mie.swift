import Arrays
import Foundation
import Linalg
import Numerics

/// Mie-series reference for a homogeneous sphere (Bohren & Huffman, BHMIE).
///
/// Incident plane wave x̂ e^{−jkz} (propagating +z) in this package's e^{jωt} convention; Bohren &
/// Huffman use e^{−iωt}, so their refractive index is m = conj(√ε_r) and the fields are complex
/// conjugates of ours — magnitudes (cross sections, |S|) are identical. Riccati–Bessel ψ_n, χ_n by
/// upward recurrence (stable for real x), the logarithmic derivative D_n(mx) by downward recurrence
/// (stable for complex mx), N_stop = x + 4x^{1/3} + 2 terms.
public struct MieSphere: Sendable {
    /// Size parameter x = k a (dimensionless).
    public let sizeParameter: Double
    /// Relative permittivity ε_r of the sphere (Im ≤ 0, e^{jωt}).
    public let relativePermittivity: CDouble
    /// Mie coefficients a_n, b_n, n = 1…N (index 0 ↔ n = 1), in the Bohren–Huffman convention.
    public let a: [CDouble]
    public let b: [CDouble]

    /// - Parameters: sizeParameter x = k a > 0; relativePermittivity ε_r (Im ≤ 0, e^{jωt}).
    public init(sizeParameter x: Double, relativePermittivity eps: CDouble) throws {
        try Check.positive(x, "ka")
        guard eps.imaginary <= 0, eps.real.isFinite, eps.imaginary.isFinite else {
            throw ISACError.invalidParameter(name: "relativePermittivity", value: "\(eps)", valid: "must be finite with Im ≤ 0")
        }
        sizeParameter = x; relativePermittivity = eps
        let m = CDouble.sqrt(eps).conjugate   // BH convention: Im m ≥ 0 for loss
        let mx = m * CDouble(x, 0)
        let nstop = Int((x + 4 * Foundation.cbrt(x) + 2).rounded(.up))
        let nmx = max(nstop, Int(mx.length.rounded(.up))) + 15
        var D = [CDouble](repeating: .zero, count: nmx + 1)
        for n in stride(from: nmx, to: 0, by: -1) {
            let en = CDouble(Double(n), 0) / mx
            D[n - 1] = en - CDouble(1, 0) / (D[n] + en)
        }
        var psi0 = Double.cos(x), psi1 = Double.sin(x)
        var chi0 = -Double.sin(x), chi1 = Double.cos(x)
        var xi1 = CDouble(psi1, -chi1)
        var av: [CDouble] = [], bv: [CDouble] = []
        for n in 1...nstop {
            let fn = Double(n)
            let psi = (2 * fn - 1) * psi1 / x - psi0
            let chi = (2 * fn - 1) * chi1 / x - chi0
            let xi = CDouble(psi, -chi)
            let t1 = D[n] / m + CDouble(fn / x, 0)
            let an = (t1 * CDouble(psi, 0) - CDouble(psi1, 0)) / (t1 * xi - xi1)
            let t2 = m * D[n] + CDouble(fn / x, 0)
            let bn = (t2 * CDouble(psi, 0) - CDouble(psi1, 0)) / (t2 * xi - xi1)
            av.append(an); bv.append(bn)
            psi0 = psi1; psi1 = psi; chi0 = chi1; chi1 = chi; xi1 = xi
        }
        a = av; b = bv
    }

    /// Amplitude functions S1(θ), S2(θ) (Bohren & Huffman eq. 4.74); θ = scattering angle, rad.
    public func amplitudes(theta: Double) -> (s1: CDouble, s2: CDouble) {
        let mu = Double.cos(theta)
        var pi0 = 0.0, pi1 = 1.0
        var s1 = CDouble.zero, s2 = CDouble.zero
        for i in 0..<a.count {
            let n = Double(i + 1)
            let tau = n * mu * pi1 - (n + 1) * pi0
            let fn = (2 * n + 1) / (n * (n + 1))
            s1 += CDouble(fn, 0) * (a[i] * CDouble(pi1, 0) + b[i] * CDouble(tau, 0))
            s2 += CDouble(fn, 0) * (a[i] * CDouble(tau, 0) + b[i] * CDouble(pi1, 0))
            let p = ((2 * n + 1) * mu * pi1 - (n + 1) * pi0) / n
            pi0 = pi1; pi1 = p
        }
        return (s1, s2)
    }

    /// Scattering efficiency Q_sca = (2/x²) Σ (2n+1)(|a_n|² + |b_n|²).
    public var scatteringEfficiency: Double {
        var s = 0.0
        for i in 0..<a.count { s += Double(2 * i + 3) * (a[i].lengthSquared + b[i].lengthSquared) }
        return 2 * s / (sizeParameter * sizeParameter)
    }
    /// Extinction efficiency Q_ext = (2/x²) Σ (2n+1) Re(a_n + b_n).
    public var extinctionEfficiency: Double {
        var s = 0.0
        for i in 0..<a.count { s += Double(2 * i + 3) * (a[i] + b[i]).real }
        return 2 * s / (sizeParameter * sizeParameter)
    }

    /// |F| of the far-field amplitude (r·|E_s| as r → ∞, unit incident field) at scattering angle θ
    /// in the E-plane (φ = 0, |S2|/k) and H-plane (φ = 90°, |S1|/k), metres; k in rad/m.
    public func farFieldMagnitudes(theta: Double, wavenumber k: Double) -> (ePlane: Double, hPlane: Double) {
        let s = amplitudes(theta: theta)
        return (s.s2.length / k, s.s1.length / k)
    }
}

/// VIE-vs-Mie validation for a dielectric sphere with a plane-wave excitation.
public struct SphereValidation: Sendable {
    /// Electrical size k a of the sphere.
    public var ka: Double
    /// Voxels per wavelength of the VIE grid.
    public var voxelsPerWavelength: Double
    /// Number of occupied voxels.
    public var voxelCount: Int
    /// GMRES iterations of the VIE solve.
    public var gmresIterations: Int
    /// Relative residual reached by GMRES.
    public var relativeResidual: Double
    /// Scattering angles θ (deg) of the comparison (E- and H-plane, 0…180°).
    public var anglesDeg: [Double]
    public var vieE: [Double], vieH: [Double], mieE: [Double], mieH: [Double]
    /// ‖|F_VIE| − |F_Mie|‖₂ / ‖F_Mie‖₂ over both planes and all angles.
    public var relativeError: Double
    /// Same metric against the Mie series of the *equal-volume* sphere a_eq = (3 N_s ΔV / 4π)^{1/3}
    /// (the usual DDA convention): removes the staircase volume error, leaving the discretization error.
    public var relativeErrorEqualVolume: Double
    /// Born (E = E_inc) error with the same metric, to show what the full solve buys.
    public var bornRelativeError: Double
    public var qscaMie: Double
    public var qscaVIE: Double
    /// Bohren–Huffman amplitude functions S1(θ), S2(θ) of the true-radius sphere at `anglesDeg` (e^{−iωt}).
    public var mieS1: [CDouble] = [], mieS2: [CDouble] = []

    /// Voxelizes a sphere of radius a = ka/k (wavelength 1 m), solves the VIE for x̂ e^{−jkz} and
    /// compares far-field magnitudes with `MieSphere` at `angles` angles in each principal plane.
    public static func run(ka: Double, relativePermittivity eps: CDouble, voxelsPerWavelength vpw: Double,
                           tolerance: Double = 1e-6, angles: Int = 19) throws -> SphereValidation {
        try Check.positive(ka, "ka"); try Check.positive(vpw, "voxels-per-wavelength")
        guard vpw >= 2 else { throw ISACError.invalidParameter(name: "voxels-per-wavelength", value: "\(vpw)", valid: "must be ≥ 2 (voxel pitch ≤ λ/2)") }
        try Check.inRange(Int(angles), 2, 3601, "angles")
        let lambda = 1.0, k = 2 * Double.pi / lambda
        let radius = ka / k, h = lambda / vpw
        let mat = try Material(name: "sphere", relativePermittivity: eps, conductivity: 0)
        let target = try VoxelTarget.sphere(center: Point3(0, 0, 0), radius: radius, pitch: h, material: mat)
        guard target.occupiedCount > 0 else { throw ISACError.invalidParameter(name: "voxels-per-wavelength", value: "\(vpw)", valid: "too coarse: the sphere contains no voxel centre") }
        guard target.occupiedCount <= 400_000 else { throw ISACError.invalidParameter(name: "voxels-per-wavelength", value: "\(vpw)", valid: "too fine for ka = \(ka): \(target.occupiedCount) voxels (max 400000)") }
        let f = speedOfLight / lambda
        let op = try VIEOperator(target: target, wavenumber: k, contrast: target.contrastGrid(frequencyHz: f))
        let occ = op.occupied
        var b = [CDouble](repeating: .zero, count: op.dimension)
        for (n, idx) in occ.enumerated() {
            let z = target.center(idx).z
            b[3 * n] = CDouble(Double.cos(k * z), -Double.sin(k * z))
        }
        let sol = GMRES.solve(op.apply, b: b, tolerance: tolerance, restart: 60, maxIterations: 3000)
        guard sol.converged else {
            throw ISACError.invalidParameter(name: "voxels-per-wavelength", value: "\(vpw)",
                valid: String(format: "GMRES did not reach %.2e within %d iterations (residual %.2e); no far field from an unconverged solve", tolerance, sol.iterations, sol.relativeResidual))
        }
        let mie = try MieSphere(sizeParameter: ka, relativePermittivity: eps)
        var th: [Double] = [], vE: [Double] = [], vH: [Double] = [], mE: [Double] = [], mH: [Double] = []
        var bE: [Double] = [], bH: [Double] = []
        let aEq = Foundation.cbrt(3 * Double(target.occupiedCount) * target.voxelVolume / (4 * Double.pi))
        let mieEq = try MieSphere(sizeParameter: k * aEq, relativePermittivity: eps)
        var qE: [Double] = [], qH: [Double] = []
        for i in 0..<angles {
            let t = Double.pi * Double(i) / Double(angles - 1)
            th.append(t * 180 / Double.pi)
            // E-plane: x–z plane (φ = 0); H-plane: y–z plane (φ = 90°).
            let dE = Point3(Double.sin(t), 0, Double.cos(t)), dH = Point3(0, Double.sin(t), Double.cos(t))
            func mag(_ v: [CDouble]) -> Double { v.reduce(0) { $0 + $1.lengthSquared }.squareRoot() }
            vE.append(mag(op.farField(total: sol.solution, direction: dE)))
            vH.append(mag(op.farField(total: sol.solution, direction: dH)))
            bE.append(mag(op.farField(total: b, direction: dE)))
            bH.append(mag(op.farField(total: b, direction: dH)))
            let m = mie.farFieldMagnitudes(theta: t, wavenumber: k)
            mE.append(m.ePlane); mH.append(m.hPlane)
            let q = mieEq.farFieldMagnitudes(theta: t, wavenumber: k)
            qE.append(q.ePlane); qH.append(q.hPlane)
        }
        func relErr(_ x: [Double], _ y: [Double], _ rx: [Double], _ ry: [Double]) -> Double {
            var num = 0.0, den = 0.0
            for i in x.indices { num += (x[i] - rx[i]) * (x[i] - rx[i]) + (y[i] - ry[i]) * (y[i] - ry[i]); den += rx[i] * rx[i] + ry[i] * ry[i] }
            return (num / den).squareRoot()
        }
        // VIE scattering cross section by quadrature of |F|² over the sphere (Gauss-free midpoint rule).
        var csca = 0.0
        let nt = 48, np = 48
        for it in 0..<nt { for ip in 0..<np {
            let t = Double.pi * (Double(it) + 0.5) / Double(nt), p = 2 * Double.pi * (Double(ip) + 0.5) / Double(np)
            let d = Point3(Double.sin(t) * Double.cos(p), Double.sin(t) * Double.sin(p), Double.cos(t))
            let F = op.farField(total: sol.solution, direction: d)
            csca += F.reduce(0) { $0 + $1.lengthSquared } * Double.sin(t) * (Double.pi / Double(nt)) * (2 * Double.pi / Double(np))
        } }
        let qv = csca / (Double.pi * radius * radius)
        let amps = th.map { mie.amplitudes(theta: $0 * Double.pi / 180) }
        return SphereValidation(ka: ka, voxelsPerWavelength: vpw, voxelCount: occ.count, gmresIterations: sol.iterations,
                                relativeResidual: sol.relativeResidual, anglesDeg: th, vieE: vE, vieH: vH, mieE: mE, mieH: mH,
                                relativeError: relErr(vE, vH, mE, mH), relativeErrorEqualVolume: relErr(vE, vH, qE, qH), bornRelativeError: relErr(bE, bH, mE, mH),
                                qscaMie: mie.scatteringEfficiency, qscaVIE: qv, mieS1: amps.map { $0.s1 }, mieS2: amps.map { $0.s2 })
    }
}
