import Arrays
import Foundation
import Linalg
import Numerics

// MARK: - Exact references

extension MieSphere {
    /// Complex far-field amplitude F (V; r e^{jk0 r} E_s(r r̂) → F) of the sphere centred at the origin for a
    /// plane wave E_0 e^{−jk0 k̂_i·r} (E_0 ⊥ k̂_i, V/m, phase referenced at the centre), scattered into k̂_s:
    ///
    ///     F = (1/(j k0)) [ S2*(θ) ê_∥s (ê_∥i·E_0) + S1*(θ) ê_⊥ (ê_⊥·E_0) ],  cos θ = k̂_i·k̂_s,
    ///
    /// ê_⊥ ∝ k̂_i × k̂_s, ê_∥i = k̂_i × ê_⊥, ê_∥s = k̂_s × ê_⊥ (Bohren & Huffman eq. 3.12; the complex conjugate
    /// turns their e^{−iωt} fields into this package's e^{jωt}). Components of E_0 along k̂_i are dropped.
    public func farFieldAmplitude(incident ki: Point3, scattered ks: Point3, field e0: [CDouble], wavenumber k: Double) -> [CDouble] {
        let a = ki / (ki * ki).sum().squareRoot(), s = ks / (ks * ks).sum().squareRoot()
        let c = max(-1, min(1, (a * s).sum()))
        var perp = Point3(a.y * s.z - a.z * s.y, a.z * s.x - a.x * s.z, a.x * s.y - a.y * s.x)
        var pn = (perp * perp).sum().squareRoot()
        if pn < 1e-9 {
            // Forward or back scattering: any ê_⊥ ⊥ k̂_i (S1 = S2 at θ = 0, S1 = −S2 at θ = π make F basis-free).
            let trial = abs(a.x) < 0.9 ? Point3(1, 0, 0) : Point3(0, 1, 0)
            perp = trial - (trial * a).sum() * a
            pn = (perp * perp).sum().squareRoot()
        }
        perp /= pn
        func cross(_ u: Point3, _ v: Point3) -> Point3 { Point3(u.y * v.z - u.z * v.y, u.z * v.x - u.x * v.z, u.x * v.y - u.y * v.x) }
        let parI = cross(a, perp), parS = cross(s, perp)
        func dot(_ u: Point3, _ e: [CDouble]) -> CDouble { CDouble(u.x, 0) * e[0] + CDouble(u.y, 0) * e[1] + CDouble(u.z, 0) * e[2] }
        let (s1, s2) = amplitudes(theta: Double.acos(c))
        let inv = CDouble(0, -1 / k)   // 1/(jk)
        let ePar = inv * s2.conjugate * dot(parI, e0), ePerp = inv * s1.conjugate * dot(perp, e0)
        return (0..<3).map { CDouble(parS[$0], 0) * ePar + CDouble(perp[$0], 0) * ePerp }
    }

    /// Channel H[r, t, k] = q_rᵀ E_s(r_r) of a sphere (radius a, centre c, permittivity ε_r) illuminated by the
    /// Tx dipoles of `array` (E_inc = k0² G(r, r_t) p̂, the package's normalization), in the far zone of the
    /// sphere seen from every antenna: the dipole field is a local plane wave of amplitude E_inc(c) from k̂_i =
    /// (c − r_t)/|c − r_t|, and E_s(r_r) = F e^{−jk0 R_r}/R_r. Exact up to the wavefront curvature over the
    /// sphere, k0 a²/(2R), and the near-zone terms ~ 1/(k0 R) (both ≤ 1e-2 for the validation geometries).
    public static func dipoleChannel(center c: Point3, radius: Double, relativePermittivity eps: CDouble,
                                     array: SensingArray) throws -> ChannelTensor {
        let nr = array.rx.count, nt = array.tx.count, K = array.frequenciesHz.count
        var data = [CDouble](repeating: .zero, count: nr * nt * K)
        for (kk, f) in array.frequenciesHz.enumerated() {
            let k = Fields.wavenumber(frequencyHz: f)
            let mie = try MieSphere(sizeParameter: k * radius, relativePermittivity: eps)
            for t in 0..<nt {
                let rt = array.tx.positions[t]
                let e0 = Fields.dipoleField(at: c, source: rt, moment: array.txPolarization, wavenumber: k, momentScale: 1)
                for r in 0..<nr {
                    let d = array.rx.positions[r] - c
                    let R = (d * d).sum().squareRoot()
                    let F = mie.farFieldAmplitude(incident: c - rt, scattered: d, field: e0, wavenumber: k)
                    let g = CDouble(Double.cos(k * R) / R, -Double.sin(k * R) / R)
                    let q = array.rxPolarization
                    data[(r * nt + t) * K + kk] = g * (CDouble(q.x, 0) * F[0] + CDouble(q.y, 0) * F[1] + CDouble(q.z, 0) * F[2])
                }
            }
        }
        return ChannelTensor(rx: nr, tx: nt, subcarriers: K, data: data)
    }
}

/// Closed-form Born integral of a homogeneous box, the reference of the alias-free Born quadrature.
public enum BornBoxReference {
    /// Far-zone (plane-wave) Born channel of a homogeneous box (centre c, edges L, contrast χ at every tone):
    ///
    ///     H[r, t, k] = k0⁴ χ · q_rᵀ G(r_r, c) G(c, r_t) p̂ · V Π_i sinc(q_i L_i / 2),  q = k0 (R̂_t + R̂_r),
    ///
    /// R̂_a = (c − r_a)/|c − r_a|, sinc θ = sin θ/θ: the exact ∫_box e^{−j q·(r − c)} dV with the amplitudes frozen
    /// at the centre. Valid when the box is in the far zone of every antenna, k0 |L|²/(8R) ≪ 1 (error ≈ that phase).
    public static func farField(center c: Point3, size L: Point3, material: Material, array: SensingArray) throws -> ChannelTensor {
        let nr = array.rx.count, nt = array.tx.count, K = array.frequenciesHz.count
        var data = [CDouble](repeating: .zero, count: nr * nt * K)
        let p = array.txPolarization, qv = array.rxPolarization
        for (kk, f) in array.frequenciesHz.enumerated() {
            let k = Fields.wavenumber(frequencyHz: f)
            let chi = material.contrast(frequencyHz: f)
            for t in 0..<nt {
                let gt = try Fields.dyadicGreen(c, array.tx.positions[t], wavenumber: k)
                let gp = (0..<3).map { i in (0..<3).reduce(CDouble.zero) { $0 + gt[3 * i + $1] * CDouble(p[$1], 0) } }
                let dt = c - array.tx.positions[t], ut = dt / (dt * dt).sum().squareRoot()
                for r in 0..<nr {
                    let gr = try Fields.dyadicGreen(array.rx.positions[r], c, wavenumber: k)
                    var v = CDouble.zero
                    for i in 0..<3 { for j in 0..<3 { v += CDouble(qv[i], 0) * gr[3 * i + j] * gp[j] } }
                    let dr = c - array.rx.positions[r], ur = dr / (dr * dr).sum().squareRoot()
                    var ff = L.x * L.y * L.z
                    for i in 0..<3 { let th = k * (ut[i] + ur[i]) * L[i] / 2; ff *= abs(th) < 1e-8 ? 1 : Double.sin(th) / th }
                    data[(r * nt + t) * K + kk] = CDouble(k * k * k * k * ff, 0) * chi * v
                }
            }
        }
        return ChannelTensor(rx: nr, tx: nt, subcarriers: K, data: data)
    }
}

/// ‖a − b‖_F / ‖b‖_F over all entries of two channel tensors of equal shape.
public func relativeChannelError(_ a: ChannelTensor, reference b: ChannelTensor) -> Double {
    precondition(a.data.count == b.data.count)
    var num = 0.0, den = 0.0
    for i in a.data.indices { num += (a.data[i] - b.data[i]).lengthSquared; den += b.data[i].lengthSquared }
    return den > 0 ? (num / den).squareRoot() : .infinity
}

// MARK: - Canonical validation cases (used by `isac scatter validate` and the tests)

/// One row of the validation table: a solver at a pitch on one canonical reference.
public struct ValidationRow: Sendable, Codable {
    /// Name of the reference case.
    public var test: String
    /// Solver name ("born", "born-center", "vie", ...).
    public var solver: String
    /// Voxels per free-space wavelength at the highest tone (λ / pitch).
    public var voxelsPerWavelength: Double
    public var voxels: Int
    /// Relative L2 error of the complex quantity (channel or far-field amplitude) vs the reference.
    public var relativeError: Double
    /// Phase of ⟨reference, result⟩ (deg): the mean phase offset.
    public var phaseOffsetDeg: Double?
    /// Worst |RCS − RCS_ref| (dB) over the compared directions whose reference RCS is within 20 dB of its peak,
    /// monostatic θ = 180° included (far-field tests only).
    public var rcsErrorDB: Double?
    public var gmresIterations: Int?
    public var seconds: Double
}

/// How the validation spheres are voxelized (`isac scatter validate --sphere-voxelization`).
public enum SphereVoxelization: String, Sendable, CaseIterable {
    /// Voxel in iff its centre is (the staircase; exact-volume rescaling unless `--nominal-volume`).
    case staircase
    /// Maxwell Garnett fill factors on the boundary voxels (`VoxelTarget.smoothSphere`, 4³ sub-samples).
    case maxwellGarnett = "mg"
    /// Weighted discretization: anisotropic boundary voxels (tangential arithmetic, normal harmonic mean of ε;
    /// `VoxelTarget.weightedSphere`, 8³ sub-samples).
    case weighted
    /// The volume average χ_t = f χ only (isotropic), on the same boundary voxels as `weighted`.
    case volumeAverage = "volume-average"

    /// The sphere target; `gridShift` in pitches.
    func target(center c: Point3, radius a: Double, pitch h: Double, material m: Material, referenceFrequencyHz fref: Double,
                exactVolume: Bool, gridShift: Point3) throws -> VoxelTarget {
        switch self {
        case .staircase: return try VoxelTarget.sphere(center: c, radius: a, pitch: h, material: m, exactVolume: exactVolume, gridShift: gridShift)
        case .maxwellGarnett: return try VoxelTarget.smoothSphere(center: c, radius: a, pitch: h, material: m, referenceFrequencyHz: fref)
        case .weighted, .volumeAverage:
            return try VoxelTarget.weightedSphere(center: c, radius: a, pitch: h, material: m, gridShift: gridShift, isotropic: self == .volumeAverage)
        }
    }

    /// Sub-voxel grid shifts (pitches) averaged over: 1 → none, 2 → ±(¼, ¼, ¼), 8 → (±¼)³.
    public static func gridShifts(_ n: Int) throws -> [Point3] {
        switch n {
        case 1: return [Point3(0, 0, 0)]
        case 2: return [Point3(repeating: -0.25), Point3(repeating: 0.25)]
        case 8: return (0..<8).map { i in Point3(i & 1 == 0 ? -0.25 : 0.25, i & 2 == 0 ? -0.25 : 0.25, i & 4 == 0 ? -0.25 : 0.25) }
        default: throw ISACError.invalidParameter(name: "--grid-shifts", value: "\(n)", valid: "1, 2 or 8")
        }
    }
}

/// Canonical validation cases (used by `isac scatter validate` and the tests).
public enum ScatterValidation {
    static func phaseOffsetDeg(_ a: [CDouble], _ ref: [CDouble]) -> Double {
        var s = CDouble.zero
        for i in a.indices { s += ref[i].conjugate * a[i] }
        return Double.atan2(y: s.imaginary, x: s.real) * 180 / Double.pi
    }

    /// Channel of `target` with the named solver ("born" = alias-free cube Born, "born-center", "vie").
    static func solve(_ solver: String, target: VoxelTarget, array: SensingArray, tolerance: Double = 1e-5,
                      discretization: VIEDiscretization = .default) throws -> (ChannelTensor, Int?)
    {
        switch solver {
        case "born": return (try BornSolver.channel(target: target, array: array), nil)
        case "born-center": return (try BornSolver.channel(target: target, array: array, quadrature: .center), nil)
        case "vie":
            let (h, st) = try VIESolver.channel(target: target, array: array, tolerance: tolerance, restart: 200, maxIterations: 4000,
                                                discretization: discretization)
            return (h, st.map { $0.maxIterations }.max())
        default: throw ISACError.invalidParameter(name: "solver", value: solver, valid: "born, born-center or vie")
        }
    }

    /// Near-field channel of a dielectric sphere (radius ka/k at f_c, centre `rangeM` along +x) seen by a
    /// `antennas` + `antennas` cross array with `subcarriers` tones, vs `MieSphere.dipoleChannel`.
    public static func sphereChannel(solver: String, voxelsPerWavelength vpw: Double, ka: Double = 2.6,
                                     relativePermittivity eps: CDouble = CDouble(4, -0.5), rangeM: Double = 5,
                                     antennas: Int = 16, subcarriers: Int = 2, discretization: VIEDiscretization = .default,
                                     smoothBoundary: Bool = false, exactVolume: Bool = true,
                                     voxelization: SphereVoxelization = .staircase, gridShifts: Int = 1) throws -> ValidationRow {
        let t0 = Date()
        let arr = try SensingArray.cross(antennas: antennas, carrierHz: 4.9e9, subcarriers: subcarriers, subcarrierSpacingHz: 20e6)
        let lam = speedOfLight / arr.frequenciesHz.max()!
        let radius = ka / Fields.wavenumber(frequencyHz: 4.9e9)
        let c = Point3(rangeM, 0, 0)
        let m = try Material(name: "sphere", relativePermittivity: eps, conductivity: 0)
        let vox = smoothBoundary ? SphereVoxelization.maxwellGarnett : voxelization
        let shifts = try SphereVoxelization.gridShifts(gridShifts)
        var h: ChannelTensor? = nil, its: Int? = nil, t: VoxelTarget! = nil
        for sh in shifts {
            t = try vox.target(center: c, radius: radius, pitch: lam / vpw, material: m, referenceFrequencyHz: 4.9e9, exactVolume: exactVolume, gridShift: sh)
            let (hs, i) = try solve(solver, target: t, array: arr, discretization: discretization)
            if let i { its = max(its ?? 0, i) }
            if var acc = h { for e in acc.data.indices { acc.data[e] += hs.data[e] }; h = acc } else { h = hs }
        }
        var hm = h!
        for e in hm.data.indices { hm.data[e] /= CDouble(Double(shifts.count), 0) }
        let ref = try MieSphere.dipoleChannel(center: c, radius: radius, relativePermittivity: eps, array: arr)
        return ValidationRow(test: String(format: "sphere near-field channel (ka %.2g, eps %.3g%+.3gj, %g m, %d+%d array)", ka, eps.real, eps.imaginary, rangeM, antennas, antennas),
                             solver: solver, voxelsPerWavelength: lam / t.pitch, voxels: t.occupiedCount,
                             relativeError: relativeChannelError(hm, reference: ref), phaseOffsetDeg: phaseOffsetDeg(hm.data, ref.data),
                             rcsErrorDB: nil, gmresIterations: its, seconds: Date().timeIntervalSince(t0))
    }

    /// Homogeneous box (0.6 × 0.3 × 0.3 m scaled by `scale`, 20 m in front of a 16 + 16 cross array, 4 tones) vs
    /// an order-`order` Gauss–Legendre quadrature of the exact Born integral in every voxel (order 6 is converged to
    /// ≈ 1e-4 at λ/2; order 4 is 5–7 % off because the box sits near a Bragg null where large terms cancel).
    public static func bornBox(solver: String, voxelsPerWavelength vpw: Double, scale: Double = 0.5, order: Int = 6,
                               rangeM: Double = 20) throws -> ValidationRow {
        let t0 = Date()
        let arr = try SensingArray.cross(antennas: 16, carrierHz: 4.9e9, subcarriers: 4, subcarrierSpacingHz: 20e6)
        let lam = speedOfLight / arr.frequenciesHz.max()!
        let m = try Material(name: "box", relativePermittivity: CDouble(4, -0.5), conductivity: 0)
        let t = try VoxelTarget.box(center: Point3(rangeM, 0, 0), size: scale * Point3(0.6, 0.3, 0.3), pitch: lam / vpw, material: m)
        let ref = try BornSolver.gaussLegendreReference(target: t, array: arr, order: order)
        let (h, _) = try solve(solver, target: t, array: arr)
        return ValidationRow(test: String(format: "box Born integral (%.2g×%.2g×%.2g m at %g m)", 0.6 * scale, 0.3 * scale, 0.3 * scale, rangeM),
                             solver: solver, voxelsPerWavelength: vpw, voxels: t.occupiedCount,
                             relativeError: relativeChannelError(h, reference: ref), phaseOffsetDeg: phaseOffsetDeg(h.data, ref.data),
                             rcsErrorDB: nil, gmresIterations: nil, seconds: Date().timeIntervalSince(t0))
    }

    /// Plane-wave far field of a sphere (x̂ e^{−jkz}, λ = 1 m): complex F (amplitude and phase) at 19 angles in the
    /// E- and H-planes vs Mie; RCS σ = 4π|F|² (m², dBsm) compared at every angle (θ = 180° is monostatic).
    public static func sphereFarField(solver: String, voxelsPerWavelength vpw: Double, ka: Double = 2,
                                      relativePermittivity eps: CDouble = CDouble(4, -1), tolerance: Double = 1e-6,
                                      discretization: VIEDiscretization = .default, smoothBoundary: Bool = false,
                                      exactVolume: Bool = true, voxelization: SphereVoxelization = .staircase,
                                      gridShifts: Int = 1) throws -> ValidationRow {
        let t0 = Date()
        let k = 2 * Double.pi, radius = ka / k
        let m = try Material(name: "sphere", relativePermittivity: eps, conductivity: 0)
        let vox = smoothBoundary ? SphereVoxelization.maxwellGarnett : voxelization
        let shifts = try SphereVoxelization.gridShifts(gridShifts)
        var got: [CDouble] = [], want: [CDouble] = [], its: Int? = nil, target: VoxelTarget! = nil
        for sh in shifts {
            target = try vox.target(center: Point3(0, 0, 0), radius: radius, pitch: 1 / vpw, material: m, referenceFrequencyHz: speedOfLight,
                                    exactVolume: exactVolume, gridShift: sh)
            let (g, i) = try farFieldSamples(solver: solver, target: target, wavenumber: k, tolerance: tolerance, discretization: discretization, vpw: vpw)
            if let i { its = max(its ?? 0, i) }
            if got.isEmpty { got = g } else { for e in got.indices { got[e] += g[e] } }
        }
        for e in got.indices { got[e] /= CDouble(Double(shifts.count), 0) }
        let mie = try MieSphere(sizeParameter: ka, relativePermittivity: eps)
        var rcs: [(Double, Double)] = []
        for plane in 0..<2 { for i in 0..<19 {
            let th = Double.pi * Double(i) / 18
            let d = plane == 0 ? Point3(Double.sin(th), 0, Double.cos(th)) : Point3(0, Double.sin(th), Double.cos(th))
            let R = mie.farFieldAmplitude(incident: Point3(0, 0, 1), scattered: d, field: [CDouble(1, 0), .zero, .zero], wavenumber: k)
            let F = Array(got[want.count..<(want.count + 3)])
            want += R
            rcs.append((F.reduce(0.0) { $0 + $1.lengthSquared }, R.reduce(0.0) { $0 + $1.lengthSquared }))
        } }
        // RCS in dB is compared where the Mie RCS is within 20 dB of its maximum (near a null the dB ratio is
        // meaningless: Born's E-plane field at θ = 90° is exactly 0); θ = 180° (monostatic) is always above that.
        let peak = rcs.map { $0.1 }.max() ?? 0
        let rcsErr = rcs.filter { $0.1 >= 0.01 * peak }.map { abs(10 * Foundation.log10($0.0 / $0.1)) }.max() ?? .nan
        var num = 0.0, den = 0.0
        for i in got.indices { num += (got[i] - want[i]).lengthSquared; den += want[i].lengthSquared }
        return ValidationRow(test: String(format: "sphere far field + RCS (ka %.2g, eps %.3g%+.3gj, plane wave)", ka, eps.real, eps.imaginary),
                             solver: solver, voxelsPerWavelength: 1 / target.pitch, voxels: target.occupiedCount,
                             relativeError: (num / den).squareRoot(), phaseOffsetDeg: phaseOffsetDeg(got, want),
                             rcsErrorDB: rcsErr, gmresIterations: its, seconds: Date().timeIntervalSince(t0))
    }

    /// F at the 2 × 19 validation directions (E- then H-plane, 3 components each) of one voxelized sphere.
    static func farFieldSamples(solver: String, target: VoxelTarget, wavenumber k: Double, tolerance: Double,
                                discretization: VIEDiscretization, vpw: Double) throws -> ([CDouble], Int?) {
        let op = try VIEOperator(target: target, wavenumber: k, contrast: target.contrastGrid(frequencyHz: speedOfLight), discretization: discretization)
        var b = [CDouble](repeating: .zero, count: op.dimension)
        for (n, idx) in op.occupied.enumerated() { let z = target.center(idx).z; b[3 * n] = CDouble(Double.cos(k * z), -Double.sin(k * z)) }
        var its: Int? = nil
        var e = b
        if solver == "vie" {
            let r = GMRES.solve(op.apply, b: b, tolerance: tolerance, restart: 200, maxIterations: 4000)
            guard r.converged else {
                throw ISACError.invalidParameter(name: "voxels-per-wavelength", value: "\(vpw)", valid: String(format: "GMRES did not converge (residual %.2e after %d iterations)", r.relativeResidual, r.iterations))
            }
            e = r.solution; its = r.iterations
        }
        var got: [CDouble] = []
        for plane in 0..<2 { for i in 0..<19 {
            let th = Double.pi * Double(i) / 18
            let d = plane == 0 ? Point3(Double.sin(th), 0, Double.cos(th)) : Point3(0, Double.sin(th), Double.cos(th))
            got += solver == "vie" ? op.farField(total: e, direction: d)
                                   : op.farField(total: e, direction: d, formFactorIncident: Point3(0, 0, 1))
        } }
        return (got, its)
    }
}
