import Arrays
import Dispatch
import Foundation
import Linalg
import Numerics

/// Self term (polarizability) of one voxel in the VIE. With α the DDA polarizability of a voxel (p = α E_exc, SI-like
/// units without ε0: α_CM = 3ΔV(ε − 1)/(ε + 2)), the point-matched VIE E_m − Σ_n T_mn χ_n E_n = E_inc with
/// T_mm = S_m is the DDA with α = ΔVχ/(1 − Sχ); every DDA polarizability of the form
/// α = α_CM/(1 − α_CM M/(4πΔV)) (Gaussian-units M of Draine & Goodman 1993 / ADDA, converted to e^{jωt} by conjugation)
/// is the self term S = −1/3 + M̄/(4π). kd = k0 h, m² = ε_r of the voxel, RR = (2/3) j (kd)³ the radiative reaction.
public enum VIEPolarizability: String, Sendable, Equatable, Codable, CaseIterable {
    /// Clausius–Mossotti + radiative reaction: M = (2/3) i (kd)³ (Draine 1988).
    case clausiusMossotti
    /// ∫ of G over the equal-volume sphere (radius a = (3ΔV/4π)^{1/3}): S = (2/3)((1 + jk0a)e^{−jk0a} − 1) − 1/3
    /// (≈ M = 1.611992 (kd)² + RR; ADDA `-pol lak`). The original default.
    case radiativeSphere
    /// Lattice dispersion relation (Draine & Goodman 1993): M = (b1 + (b2 + b3 S) m²)(kd)² + RR, b1 = 1.8915316,
    /// b2 = −0.1648469, b3 = 1.7700004, with S = Σ_j (â_j ê_j)² averaged over the incident polarization for propagation
    /// along a lattice axis (S = 0; ADDA `-pol ldr avgpol` for the validation and broadside-array geometries).
    case ldr
    /// LDR with S = 1/5, its average over all propagation directions and polarizations (direction-independent form for
    /// near-field illumination from many directions).
    case ldrIsotropic
    /// Filtered coupled dipoles (Piller & Martin 1998; Yurkin, Min & Hoekstra 2010): M = (4/3)(kd)² +
    /// (2/(3π)) ln((π − kd)/(π + kd)) (kd)³ + RR; meant to be used with the filtered Green's tensor (`filteredGreen`).
    case fcd
    /// −1/3 + (2k0²/3) ∫_cube g dV over the voxel cube (`VIEOperator.cubeSelfTerm`).
    case cube

    /// S for a voxel of edge h with relative permittivity ε (complex, e^{jωt}) at wavenumber k.
    public func selfTerm(pitch h: Double, wavenumber k: Double, permittivity eps: CDouble) -> CDouble {
        let kd = k * h
        let rr = CDouble(0, -2.0 / 3.0 * kd * kd * kd)          // conj of (2/3) i (kd)³
        let m: CDouble
        switch self {
        case .radiativeSphere:
            let ka = k * Foundation.cbrt(3 * h * h * h / (4 * Double.pi))
            let e = CDouble(Double.cos(ka), -Double.sin(ka)) * CDouble(1, ka)
            return CDouble(2.0 / 3.0, 0) * (e - CDouble(1, 0)) - CDouble(1.0 / 3.0, 0)
        case .cube:
            return VIEOperator.cubeSelfTerm(pitch: h, wavenumber: k)
        case .clausiusMossotti: m = rr
        case .ldr, .ldrIsotropic:
            let sTerm = self == .ldr ? 0.0 : 0.2
            // M is conjugated as a whole below; conj(m²) enters the conjugate.
            let m2 = eps.conjugate
            m = (CDouble(1.8915316, 0) + CDouble(-0.1648469 + 1.7700004 * sTerm, 0) * m2) * CDouble(kd * kd, 0) + rr.conjugate
            return CDouble(-1.0 / 3.0, 0) + m.conjugate / CDouble(4 * Double.pi, 0)
        case .fcd:
            m = CDouble(4.0 / 3.0 * kd * kd + 2 / (3 * Double.pi) * Foundation.log((Double.pi - kd) / (Double.pi + kd)) * kd * kd * kd, 0) + rr
        }
        return CDouble(-1.0 / 3.0, 0) + m / CDouble(4 * Double.pi, 0)
    }
}

/// How the VIE couples voxels: T_mn = k0² ∫_{cube n} G(r_m − r′) dr′ evaluated exactly (Gauss–Legendre over the source
/// cube) for the near offsets max(|Δi|, |Δj|, |Δl|) ≤ `integratedNeighbors`, by the point-dipole value k0² ΔV G(r_m − r_n)
/// beyond (or the filtered Green's tensor of FCD, `filteredGreen`), and the voxel self term of `polarizability`.
/// Measured against Mie in docs/scattering.md ("VIE discretization"); `default` is the best measured combination.
public struct VIEDiscretization: Sendable, Equatable, Codable {
    /// Chebyshev radius of the near offsets integrated exactly (0: none).
    public var integratedNeighbors: Int
    /// Gauss–Legendre points per axis for the integrated couplings.
    public var quadratureOrder: Int
    /// Voxel self-term model.
    public var polarizability: VIEPolarizability
    /// Filtered (band-limited to |k| ≤ π/h) Green's tensor of the filtered-coupled-dipole method instead of the point
    /// dipole value for every offset beyond the integrated ones (`VIEOperator.filteredGreenCorrection`).
    public var filteredGreen: Bool
    /// Memberwise initializer.
    public init(integratedNeighbors: Int = 0, quadratureOrder: Int = 1, polarizability: VIEPolarizability, filteredGreen: Bool = false) {
        self.integratedNeighbors = integratedNeighbors; self.quadratureOrder = quadratureOrder
        self.polarizability = polarizability; self.filteredGreen = filteredGreen
    }
    /// Classic point-matched scheme with the equal-volume-sphere self term (the original default).
    public static let pointMatched = VIEDiscretization(polarizability: .radiativeSphere)
    /// Point dipoles with the lattice-dispersion-relation polarizability.
    public static let ldr = VIEDiscretization(polarizability: .ldr)
    /// Filtered coupled dipoles: filtered Green's tensor + FCD polarizability (ADDA `-int fcd -pol fcd`).
    public static let fcd = VIEDiscretization(polarizability: .fcd, filteredGreen: true)
    /// Integrated Green's tensor over the source cube (2 rings, GL 8³) with the cube self term.
    public static let integrated = VIEDiscretization(integratedNeighbors: 2, quadratureOrder: 8, polarizability: .cube)
    /// The default of every VIE entry point: FCD, the best measured on both Mie references (docs/scattering.md).
    public static let `default` = VIEDiscretization.fcd
    /// Named variants (CLI/validation spelling).
    public static let named: [(String, VIEDiscretization)] = [("point", .pointMatched), ("ldr", .ldr), ("fcd", .fcd), ("igt", .integrated),
        ("cm", VIEDiscretization(polarizability: .clausiusMossotti)), ("ldr-iso", VIEDiscretization(polarizability: .ldrIsotropic)),
        ("fcd-pol", VIEDiscretization(polarizability: .fcd)), ("cube", VIEDiscretization(polarizability: .cube)),
        // Issue 14, third session: other self terms with the filtered kernel, and the IGT of the nearest ring on top of it.
        ("fcd-cube", VIEDiscretization(polarizability: .cube, filteredGreen: true)),
        ("fcd-ldr", VIEDiscretization(polarizability: .ldrIsotropic, filteredGreen: true)),
        ("fcd-igt1", VIEDiscretization(integratedNeighbors: 1, quadratureOrder: 6, polarizability: .fcd, filteredGreen: true))]
    /// The variant named `s` in `named`; throws for an unknown name.
    public static func named(_ s: String) throws -> VIEDiscretization {
        guard let d = named.first(where: { $0.0 == s })?.1 else {
            throw ISACError.invalidParameter(name: "vie-discretization", value: s, valid: "one of " + named.map { $0.0 }.joined(separator: ", "))
        }
        return d
    }
}

/// Discretized VIE operator on a voxel grid (eqs. 7/11, collocation at voxel centres):
///
///     E_m − Σ_n T_mn χ_n E_n = E_inc,m,   T_mn = k0² ΔV G(r_m − r_n) [+ the FCD filter correction]  (m ≠ n),
///     T_mm = S_m I,   S = −1/3 + M̄/(4π)  (`VIEPolarizability`; e.g. the equal-volume sphere
///     S = (2/3)((1 + j k0 a) e^{−j k0 a} − 1) − 1/3, a = (3ΔV/4π)^{1/3})
///
/// Every self term reproduces the Clausius–Mossotti static limit E = 3/(ε_r+2) E_inc and the radiative reaction.
/// The default `VIEDiscretization.fcd` uses the filtered Green's tensor and the FCD polarizability (docs/scattering.md).
/// Because T_mn depends only on the index offset, Σ_n T_mn x_n is a 3-D Toeplitz convolution, applied
/// by zero-padding each axis to P ≥ 2n − 1 (Toeplitz → circulant embedding; P = the next 7-smooth size)
/// and FFTW: 3 forward + 3 backward FFTs of size P_x P_y P_z ≈ 8 n_x n_y n_z per product, O(N log N), pruned to the
/// lines that carry data or results (`Linalg.CornerFFT3`, ≈ 58 % of the 1-D transforms). Unknowns are the 3 field components at the
/// occupied voxels only (3 N_s), ordered 3n + c.
public final class VIEOperator: @unchecked Sendable {
    /// The voxelized scatterer.
    public let target: VoxelTarget
    /// Free-space wavenumber k0, rad/m.
    public let wavenumber: Double
    /// χ at the occupied voxels, length N_s (the tangential χ_t at boundary voxels of the weighted discretization).
    public let chi: [CDouble]
    /// Weighted discretization (`VoxelTarget.boundary`): per occupied voxel the normal n̂ and χ_n − χ_t, so that the
    /// voxel's susceptibility is χ I + δ n̂n̂ᵀ (δ = 0 for filled voxels); empty when the target has no boundary voxels.
    public let anisoNormal: [Point3], anisoDelta: [CDouble]
    public let occupied: [Int]
    let plan: FFTPlan
    /// Pruned transforms of the per-product FFTs (data and results live on the n_x n_y n_z corner).
    let corner: CornerFFT3
    /// FFTs of the 6 independent kernel components xx, yy, zz, xy, xz, yz, each of size P_x P_y P_z,
    /// pre-scaled by 1/(P_x P_y P_z) so that the product needs only unnormalized backward transforms.
    let kernelHat: [[CDouble]]
    /// Padded-grid linear index of each occupied voxel.
    let paddedIndex: [Int]
    /// Self term S_n of each occupied voxel (length N_s; depends on the voxel's material for LDR): T_nn = S_n I.
    public let selfTerms: [CDouble]
    /// S of the first occupied voxel (all voxels of a homogeneous target share it).
    public var selfTerm: CDouble { selfTerms.first ?? .zero }

    /// The coupling/self-term scheme this operator was built with.
    public let discretization: VIEDiscretization
    /// Largest lattice offset |Δ|∞ whose real-space coupling is kept in `nearKernel` (block edges ≤ nearRadius + 1).
    static let nearRadius = 3
    /// T at the lattice offsets |Δ|∞ ≤ `nearRadius` (zero self entry; T_mm = S_m I is in `selfTerms`), as
    /// (xx, yy, zz, xy, xz, yz), indexed (Δi + R) + (2R + 1)((Δj + R) + (2R + 1)(Δl + R)).
    let nearKernel: [[CDouble]]

    /// - Parameters: contrast: χ per grid voxel (length n_x n_y n_z; only occupied voxels are used);
    ///   wavenumber k0 in rad/m; discretization: point-matched or integrated Green's coupling.
    public init(target: VoxelTarget, wavenumber k: Double, contrast: [CDouble],
                discretization: VIEDiscretization = .default) throws {
        try Check.inRange(discretization.integratedNeighbors, 0, 8, "integratedNeighbors")
        try Check.inRange(discretization.quadratureOrder, 1, 32, "quadratureOrder")
        self.discretization = discretization
        try Check.positive(k, "wavenumber")
        guard contrast.count == target.material.count else {
            throw ISACError.shapeMismatch("contrast has \(contrast.count) entries, grid has \(target.material.count)")
        }
        self.target = target; wavenumber = k
        occupied = target.occupiedIndices
        var chiOcc = occupied.map { contrast[$0] }
        if target.boundary.isEmpty {
            anisoNormal = []; anisoDelta = []
        } else {
            var pos: [Int: Int] = [:]
            for (n, idx) in occupied.enumerated() { pos[idx] = n }
            var nrm = [Point3](repeating: Point3(0, 0, 0), count: occupied.count)
            var dl = [CDouble](repeating: .zero, count: occupied.count)
            for bv in target.boundary {
                guard let n = pos[bv.index] else {
                    throw ISACError.invalidParameter(name: "boundary", value: "\(bv.index)", valid: "boundary voxels must be occupied grid voxels")
                }
                let (t, d) = bv.tensorParts(chi: chiOcc[n])
                chiOcc[n] = t; dl[n] = d; nrm[n] = bv.normal
            }
            anisoNormal = nrm; anisoDelta = dl
        }
        chi = chiOcc
        let (nx, ny, nz) = target.dims
        // Circulant embedding needs ≥ 2n − 1 points per axis; rounding up to a 2·3·5·7-smooth size keeps
        // FFTW on its fast codelets (2n itself can hold a large prime factor, e.g. 74 = 2·37).
        let (px, py, pz) = (VIEOperator.fftSize(2 * nx - 1), VIEOperator.fftSize(2 * ny - 1), VIEOperator.fftSize(2 * nz - 1))
        plan = try FFTPlan(shape: [pz, py, px])
        corner = try CornerFFT3(padded: (px, py, pz), corner: (nx, ny, nz))
        paddedIndex = occupied.map { idx in
            let i = idx % nx, j = (idx / nx) % ny, l = idx / (nx * ny)
            return i + px * (j + py * l)
        }
        let h = target.pitch, dv = target.voxelVolume
        let pol = discretization.polarizability
        // Self terms per distinct contrast (materials are few; LDR depends on ε of the voxel).
        var cache: [CDouble: CDouble] = [:]
        selfTerms = chi.map { c in
            if let v = cache[c] { return v }
            let v = pol.selfTerm(pitch: h, wavenumber: k, permittivity: CDouble(1, 0) + c); cache[c] = v; return v
        }
        let filtered = discretization.filteredGreen
        let nb = discretization.integratedNeighbors
        let (gx, gw) = GaussLegendre.rule(discretization.quadratureOrder)
        let count = px * py * pz
        var comps = [[CDouble]](repeating: [CDouble](repeating: .zero, count: count), count: 6)
        let scale = k * k * dv
        func wrap(_ o: Int, _ p: Int) -> Int { o >= 0 ? o : o + p }
        for dl in -(nz - 1)...(nz - 1) { for dj in -(ny - 1)...(ny - 1) { for di in -(nx - 1)...(nx - 1) {
            let idx = wrap(di, px) + px * (wrap(dj, py) + py * wrap(dl, pz))
            // The self term is applied as a diagonal in `scatteredPart` (it may differ per voxel).
            if di == 0 && dj == 0 && dl == 0 { continue }
            if max(abs(di), abs(dj), abs(dl)) <= nb {
                // ∫ over the source cube of G(r_m − r′) by a tensor Gauss–Legendre rule (the target point is ≥ h/2 outside).
                let v = VIEOperator.integratedCoupling(offset: h * Point3(Double(di), Double(dj), Double(dl)), pitch: h, wavenumber: k, nodes: gx, weights: gw)
                for c in 0..<6 { comps[c][idx] = v[c] }
                continue
            }
            let (al, be, u) = Fields.dyadicGreenCoefficients(separation: h * Point3(Double(di), Double(dj), Double(dl)), wavenumber: k)
            let s = CDouble(scale, 0)
            comps[0][idx] = s * (al + be * CDouble(u.x * u.x, 0))
            comps[1][idx] = s * (al + be * CDouble(u.y * u.y, 0))
            comps[2][idx] = s * (al + be * CDouble(u.z * u.z, 0))
            comps[3][idx] = s * be * CDouble(u.x * u.y, 0)
            comps[4][idx] = s * be * CDouble(u.x * u.z, 0)
            comps[5][idx] = s * be * CDouble(u.y * u.z, 0)
            if filtered {
                let f = VIEOperator.filteredGreenCorrection(offsetInPitches: Point3(Double(di), Double(dj), Double(dl)), kd: k * h)
                for c in 0..<6 { comps[c][idx] += CDouble(f[c], 0) }
            }
        } } }
        // Real-space coupling at the small offsets the block preconditioner needs (before the FFT overwrites it).
        let rn = VIEOperator.nearRadius, side = 2 * rn + 1
        var near = [[CDouble]](repeating: [CDouble](repeating: .zero, count: 6), count: side * side * side)
        for dl in -rn...rn where abs(dl) < nz { for dj in -rn...rn where abs(dj) < ny { for di in -rn...rn where abs(di) < nx {
            let idx = wrap(di, px) + px * (wrap(dj, py) + py * wrap(dl, pz))
            near[(di + rn) + side * ((dj + rn) + side * (dl + rn))] = (0..<6).map { comps[$0][idx] }
        } } }
        nearKernel = near
        let inv = CDouble(1 / Double(count), 0)
        for c in 0..<6 {
            plan.forward(&comps[c])
            for i in comps[c].indices { comps[c][i] *= inv }
        }
        kernelHat = comps
    }

    /// k0² ∫_cube G(d − r′) dr′ over the cube of edge h centred at 0 (d outside it), as (xx, yy, zz, xy, xz, yz).
    static func integratedCoupling(offset d: Point3, pitch h: Double, wavenumber k: Double, nodes x: [Double], weights w: [Double]) -> [CDouble] {
        var out = [CDouble](repeating: .zero, count: 6)
        let n = x.count, s = k * k * h * h * h / 8
        for a in 0..<n { for b in 0..<n { for c in 0..<n {
            let r = d - (h / 2) * Point3(x[a], x[b], x[c])
            let (al, be, u) = Fields.dyadicGreenCoefficients(separation: r, wavenumber: k)
            let wt = CDouble(s * w[a] * w[b] * w[c], 0)
            out[0] += wt * (al + be * CDouble(u.x * u.x, 0)); out[1] += wt * (al + be * CDouble(u.y * u.y, 0))
            out[2] += wt * (al + be * CDouble(u.z * u.z, 0)); out[3] += wt * be * CDouble(u.x * u.y, 0)
            out[4] += wt * be * CDouble(u.x * u.z, 0); out[5] += wt * be * CDouble(u.y * u.z, 0)
        } } }
        return out
    }

    /// Self term of a cube of edge h, T_self = −1/3 + (2k0²/3) ∫_cube g dV (times I): the depolarization of a cube is
    /// 1/3 and the principal value of the static 1/R³ part vanishes by cubic symmetry, leaving the trace of G,
    /// tr G = 2g. In spherical coordinates about the centre, ∫_0^ρ R e^{−jkR} dR = ((1 + jkρ)e^{−jkρ} − 1)/k², with
    /// ρ(Ω) the distance to the surface; over the 6 faces (face x = h/2, dΩ = (h/2) dy dz / ρ³):
    ///
    ///     T_self = −1/3 + (2/3)(6/4π) ∫∫_face ((1 + jkρ)e^{−jkρ} − 1) (h/2)/ρ³ dy dz,   ρ² = h²/4 + y² + z²,
    ///
    /// by a 24×24 Gauss–Legendre rule (smooth integrand). The equal-volume sphere gives the same −1/3 and the
    /// same leading radiative term; the two differ at O((k h)²).
    static func cubeSelfTerm(pitch h: Double, wavenumber k: Double) -> CDouble {
        let (x, w) = GaussLegendre.rule(24)
        var sum = CDouble.zero
        for a in x.indices { for b in x.indices {
            let y = h / 2 * x[a], z = h / 2 * x[b]
            let rho = (h * h / 4 + y * y + z * z).squareRoot()
            let e = CDouble(Double.cos(k * rho), -Double.sin(k * rho)) * CDouble(1, k * rho) - CDouble(1, 0)
            sum += e * CDouble(w[a] * w[b] * (h / 2) * (h / 2) * (h / 2) / (rho * rho * rho), 0)
        } }
        return CDouble(-1.0 / 3.0, 0) + sum * CDouble(2.0 / 3.0 * 6 / (4 * Double.pi), 0)
    }

    /// FCD correction T_F − T_point (real, so the same in both time conventions) at the lattice offset r = h·q (q in
    /// pitches, q ≠ 0), as (xx, yy, zz, xy, xz, yz). The filtered Green's tensor is the point dipole's with its spatial
    /// spectrum cut at k_F = π/h (Piller & Martin 1998, Gay-Balmaz & Martin 2002); in ADDA's form (their Gp differs by
    /// 4πk0²) the difference is [r̂r̂ (g0 k²r² + 3g2) − I (g0 k²r² + g2)]/r³ with
    ///
    ///     C = Ci((k_F + k)r) − Ci((k_F − k)r),  S = π − Si((k_F + k)r) − Si((k_F − k)r),
    ///     g0 = (sin(kr) C + cos(kr) S)/π,  g2 = (kr (cos(kr) C − sin(kr) S) + (2/3)(k_F r cos(k_F r) − 4 sin(k_F r)))/π − g0,
    ///
    /// and T = (ΔV/4π)·G in this package's units, so the correction to T_mn is (1/4π)[…]·(h³/r³), dimensionless.
    static func filteredGreenCorrection(offsetInPitches q: Point3, kd: Double) -> [Double] {
        let rn = (q * q).sum().squareRoot()
        let u = q / rn
        let kr = kd * rn, kfr = Double.pi * rn
        let (ci1, si1) = SineCosineIntegral.ciSi(kfr + kr)
        let (ci2, si2) = SineCosineIntegral.ciSi(kfr - kr)
        let cc = ci1 - ci2, ss = Double.pi - si1 - si2
        let cv = Double.cos(kr), sv = Double.sin(kr)
        let g0 = (sv * cc + cv * ss) / Double.pi
        let g2 = (kr * (cv * cc - sv * ss) + 2.0 / 3.0 * (kfr * Double.cos(kfr) - 4 * Double.sin(kfr))) / Double.pi - g0
        let t = g0 * kr * kr
        let scale = 1 / (4 * Double.pi * rn * rn * rn)
        let a = -(t + g2) * scale, b = (t + 3 * g2) * scale
        return [a + b * u.x * u.x, a + b * u.y * u.y, a + b * u.z * u.z, b * u.x * u.y, b * u.x * u.z, b * u.y * u.z]
    }

    /// Smallest 7-smooth integer (2^a 3^b 5^c 7^d) ≥ n: an FFT length FFTW handles with its fast codelets.
    static func fftSize(_ n: Int) -> Int {
        var m = max(n, 1)
        while true {
            var r = m
            for f in [2, 3, 5, 7] { while r % f == 0 { r /= f } }
            if r == 1 { return m }
            m += 1
        }
    }

    /// Points of the padded (circulant) FFT grid, P_x P_y P_z.
    public var fftPoints: Int { plan.count }

    /// Number of unknowns 3 N_s.
    public var dimension: Int { 3 * occupied.count }

    /// y = (I − T diag(χ)) x, x and y of length 3 N_s.
    public func apply(_ x: [CDouble]) -> [CDouble] {
        let sx = scatteredPart(x)
        var y = x
        for i in y.indices { y[i] -= sx[i] }
        return y
    }

    /// Σ_n T_mn χ_n x_n (the field radiated by the polarization currents), length 3 N_s.
    public func scatteredPart(_ x: [CDouble]) -> [CDouble] {
        let count = plan.count
        var g0 = [CDouble](repeating: .zero, count: count), g1 = g0, g2 = g0
        let aniso = !anisoDelta.isEmpty
        for (n, p) in paddedIndex.enumerated() {
            if aniso && anisoDelta[n] != .zero {
                (g0[p], g1[p], g2[p]) = polarization(n, x)
                continue
            }
            let c = chi[n]
            g0[p] = c * x[3 * n]; g1[p] = c * x[3 * n + 1]; g2[p] = c * x[3 * n + 2]
        }
        corner.forwardFromCorner(&g0); corner.forwardFromCorner(&g1); corner.forwardFromCorner(&g2)
        let K = kernelHat
        // In place: each frequency's 3-vector is read fully before it is overwritten.
        for i in 0..<count {
            let a = g0[i], b = g1[i], c = g2[i]
            g0[i] = K[0][i] * a + K[3][i] * b + K[4][i] * c
            g1[i] = K[3][i] * a + K[1][i] * b + K[5][i] * c
            g2[i] = K[4][i] * a + K[5][i] * b + K[2][i] * c
        }
        corner.backwardToCorner(&g0); corner.backwardToCorner(&g1); corner.backwardToCorner(&g2)
        var y = [CDouble](repeating: .zero, count: dimension)
        for (n, p) in paddedIndex.enumerated() {
            if aniso && anisoDelta[n] != .zero {
                let (a, b, c) = polarization(n, x), s = selfTerms[n]
                y[3 * n] = g0[p] + s * a; y[3 * n + 1] = g1[p] + s * b; y[3 * n + 2] = g2[p] + s * c
                continue
            }
            let sc = selfTerms[n] * chi[n]
            y[3 * n] = g0[p] + sc * x[3 * n]; y[3 * n + 1] = g1[p] + sc * x[3 * n + 1]; y[3 * n + 2] = g2[p] + sc * x[3 * n + 2]
        }
        return y
    }

    /// χ_n x_n of voxel n (the 3 components; the tensor χ I + δ n̂n̂ᵀ at boundary voxels).
    @inline(__always) func polarization(_ n: Int, _ x: [CDouble]) -> (CDouble, CDouble, CDouble) {
        let c = chi[n]
        var a = c * x[3 * n], b = c * x[3 * n + 1], d = c * x[3 * n + 2]
        if !anisoDelta.isEmpty, anisoDelta[n] != .zero {
            let u = anisoNormal[n]
            let p = anisoDelta[n] * (CDouble(u.x, 0) * x[3 * n] + CDouble(u.y, 0) * x[3 * n + 1] + CDouble(u.z, 0) * x[3 * n + 2])
            a += p * CDouble(u.x, 0); b += p * CDouble(u.y, 0); d += p * CDouble(u.z, 0)
        }
        return (a, b, d)
    }

    /// χ x for the whole field (length 3 N_s): the polarization density up to ε0.
    public func polarize(_ x: [CDouble]) -> [CDouble] {
        var y = [CDouble](repeating: .zero, count: x.count)
        for n in chi.indices { (y[3 * n], y[3 * n + 1], y[3 * n + 2]) = polarization(n, x) }
        return y
    }

    /// 3 × 3 susceptibility tensor of voxel n, row-major.
    func chiTensor(_ n: Int) -> [CDouble] {
        var m = [CDouble](repeating: .zero, count: 9)
        for i in 0..<3 { m[4 * i] = chi[n] }
        if !anisoDelta.isEmpty, anisoDelta[n] != .zero {
            let u = anisoNormal[n]
            for i in 0..<3 { for j in 0..<3 { m[3 * i + j] += anisoDelta[n] * CDouble(u[i] * u[j], 0) } }
        }
        return m
    }

    /// Far-field scattering amplitude F(r̂) with r·e^{jk0 r}·E_s(r r̂) → F as r → ∞:
    /// F = k0² ΔV/(4π) (I − r̂r̂ᵀ) Σ_n χ_n E_n e^{+j k0 r̂·r_n}, V (3 components).
    ///
    /// `formFactorIncident` k̂_i (Born with a plane wave e^{−jk0 k̂_i·r}): each voxel's term is multiplied by the
    /// exact cube integral of the local phase, Π_i sinc(k0 (k̂_i − r̂)_i h/2) (see `BornQuadrature.cube`).
    public func farField(total e: [CDouble], direction d: Point3, formFactorIncident ki: Point3? = nil) -> [CDouble] {
        let u = d / (d * d).sum().squareRoot()
        var ff = 1.0
        if let ki {
            let a = ki / (ki * ki).sum().squareRoot()
            for i in 0..<3 { let th = wavenumber * (a[i] - u[i]) * target.pitch / 2; ff *= abs(th) < 1e-8 ? 1 : Double.sin(th) / th }
        }
        var s = [CDouble](repeating: .zero, count: 3)
        for (n, idx) in occupied.enumerated() {
            let ph = wavenumber * (u * target.center(idx)).sum()
            if !anisoDelta.isEmpty, anisoDelta[n] != .zero {
                let w = CDouble(ff * Double.cos(ph), ff * Double.sin(ph))
                let (a, b, c) = polarization(n, e)
                s[0] += w * a; s[1] += w * b; s[2] += w * c
                continue
            }
            let w = chi[n] * CDouble(ff * Double.cos(ph), ff * Double.sin(ph))
            for c in 0..<3 { s[c] += w * e[3 * n + c] }
        }
        let ud = CDouble(u.x, 0) * s[0] + CDouble(u.y, 0) * s[1] + CDouble(u.z, 0) * s[2]
        let f = CDouble(wavenumber * wavenumber * target.voxelVolume / (4 * Double.pi), 0)
        return (0..<3).map { c in f * (s[c] - CDouble(u[c], 0) * ud) }
    }
}

/// Right preconditioner of the VIE's GMRES solves, (I − Tχ) M⁻¹ y = b, x = M⁻¹ y (right preconditioning leaves the
/// residual b − A x unchanged, so tolerances keep their meaning).
public enum VIEPreconditioner: String, Sendable, Equatable, Codable, CaseIterable {
    /// Unpreconditioned GMRES.
    case none
    /// M = diag(1 − S_n χ_n): the Clausius–Mossotti factor (ε_r + 2)/3 of each voxel for small voxels.
    case jacobi
    /// Block Jacobi: M = the operator I − Tχ restricted to each cluster of e × e × e grid cells (e = `blockEdge`,
    /// default 2: ≤ 24 × 24 dense blocks with the exact near-field coupling between the cluster's voxels), each block
    /// inverted once per tone (LAPACK `gesv`), applied per iteration (`VIEBlockPreconditioner`).
    case block
    /// Restricted additive Schwarz on overlapping 3³ neighbourhoods (`VIESchwarzPreconditioner`): per occupied voxel the
    /// operator restricted to it and its ≤ 26 occupied neighbours, inverted, keeping only the centre voxel's 3 rows.
    case schwarz
    /// Exact LU of the operator's near band (couplings with |Δ|∞ ≤ r, r = `nearRadius`, default 2) in a slab
    /// ordering (`VIENearBandPreconditioner`): for metal-like voxels on targets up to ≈ 7 λ, where its GMRES
    /// iteration count saturates as σ grows; on an 11 λ car at σ = 10³ S/m it stagnates where Jacobi converges
    /// (docs/BENCHMARKS.md, "VIE near-band preconditioner").
    case nearband
    /// The default of every VIE entry point: Jacobi, chosen by measurement (docs/BENCHMARKS.md, issue 14 third session:
    /// non-overlapping 2³ blocks need *more* GMRES iterations than Jacobi on a σ = 4 S/m car, 384 vs 285).
    public static let `default` = VIEPreconditioner.jacobi
    /// Default cluster edge (grid cells) of `block`.
    public static let defaultBlockEdge = 2
}

/// Block-Jacobi preconditioner of a `VIEOperator`: the occupied voxels are grouped by the grid cluster
/// (⌊i/e⌋, ⌊j/e⌋, ⌊l/e⌋); per cluster of s voxels the 3s × 3s block
///
///     M_ab = δ_ab (1 − S_a χ_a) I − (1 − δ_ab) T(r_a − r_b) χ_b      (a, b in the cluster)
///
/// is exactly the operator's restriction, and M⁻¹ is stored (the inverse of each block, column-major). e = 1 is Jacobi.
/// Memory: Σ_clusters 2 (3s)² complex entries, ≤ 2 · 9 e³ · 3 N_s · 16 bytes (≈ 3.5 kB per voxel at e = 2).
public struct VIEBlockPreconditioner: Sendable {
    /// Cluster edge e in grid cells.
    public let edge: Int
    /// Occupied-voxel indices (into `VIEOperator.occupied`) of each cluster, ascending.
    let clusters: [[Int]]
    /// M per cluster and its inverse, (3s)², column-major.
    let forward: [[CDouble]], inverse: [[CDouble]]

    /// Builds and inverts the blocks of `op` for clusters of `edge`³ grid cells (1 ≤ edge ≤ nearRadius + 1).
    public init(operator op: VIEOperator, edge: Int) throws {
        try Check.inRange(edge, 1, VIEOperator.nearRadius + 1, "vie-block-edge")
        self.edge = edge
        let (nx, ny, _) = op.target.dims
        let ijl = op.occupied.map { idx in (idx % nx, (idx / nx) % ny, idx / (nx * ny)) }
        var keyOf: [Int: Int] = [:], groups: [[Int]] = []
        let cx = (nx + edge - 1) / edge, cy = (ny + edge - 1) / edge
        for (n, p) in ijl.enumerated() {
            let key = p.0 / edge + cx * (p.1 / edge + cy * (p.2 / edge))
            if let g = keyOf[key] { groups[g].append(n) } else { keyOf[key] = groups.count; groups.append([n]) }
        }
        clusters = groups
        let rn = VIEOperator.nearRadius, side = 2 * rn + 1
        let comp = [[0, 3, 4], [3, 1, 5], [4, 5, 2]]
        var fw: [[CDouble]] = [], iv: [[CDouble]] = []
        fw.reserveCapacity(groups.count); iv.reserveCapacity(groups.count)
        for g in groups {
            let d = 3 * g.count
            var m = Matrix<CDouble>(rows: d, cols: d)
            for (b, nb) in g.enumerated() { for (a, na) in g.enumerated() {
                let anisoB = !op.anisoDelta.isEmpty && op.anisoDelta[nb] != .zero
                if a == b {
                    let v = CDouble(1, 0) - op.selfTerms[na] * op.chi[na]
                    for c in 0..<3 { m[3 * a + c, 3 * b + c] = v }
                    if anisoB {
                        let x = op.chiTensor(nb)
                        for r in 0..<3 { for c in 0..<3 { m[3 * a + r, 3 * b + c] = (r == c ? CDouble(1, 0) : .zero) - op.selfTerms[na] * x[3 * r + c] } }
                    }
                    continue
                }
                let o = (ijl[na].0 - ijl[nb].0 + rn) + side * ((ijl[na].1 - ijl[nb].1 + rn) + side * (ijl[na].2 - ijl[nb].2 + rn))
                let t = op.nearKernel[o]
                if anisoB {
                    let x = op.chiTensor(nb)
                    for r in 0..<3 { for c in 0..<3 {
                        var v = CDouble.zero
                        for q in 0..<3 { v += t[comp[r][q]] * x[3 * q + c] }
                        m[3 * a + r, 3 * b + c] = -v
                    } }
                    continue
                }
                for r in 0..<3 { for c in 0..<3 { m[3 * a + r, 3 * b + c] = -t[comp[r][c]] * op.chi[nb] } }
            } }
            var eye = Matrix<CDouble>(rows: d, cols: d)
            for i in 0..<d { eye[i, i] = CDouble(1, 0) }
            iv.append(try m.solve(eye).data); fw.append(m.data)
        }
        forward = fw; inverse = iv
    }

    private func blockProduct(_ mats: [[CDouble]], _ x: [CDouble]) -> [CDouble] {
        var y = [CDouble](repeating: .zero, count: x.count)
        for (g, members) in clusters.enumerated() {
            let d = 3 * members.count, a = mats[g]
            for col in 0..<d {
                let xv = x[3 * members[col / 3] + col % 3]
                if xv == .zero { continue }
                for row in 0..<d { y[3 * members[row / 3] + row % 3] += a[col * d + row] * xv }
            }
        }
        return y
    }

    /// x = M⁻¹ y (length 3 N_s).
    public func solve(_ y: [CDouble]) -> [CDouble] { blockProduct(inverse, y) }
    /// y = M x (length 3 N_s): maps a warm start x₀ onto the preconditioned unknown.
    public func multiply(_ x: [CDouble]) -> [CDouble] { blockProduct(forward, x) }
    /// Number of clusters (blocks).
    public var blockCount: Int { clusters.count }
}

/// Restricted additive Schwarz (RAS; Cai & Sarkis 1999) preconditioner of a `VIEOperator` with one overlapping
/// subdomain per occupied voxel a: N(a) = the occupied voxels with |Δ|∞ ≤ 1 of a (a included, s ≤ 27). With M_a the
/// operator restricted to N(a) (the entries of `VIEBlockPreconditioner`, from the real-space near kernel), the
/// preconditioner is x_a = [M_a⁻¹]_{a, :} y_{N(a)}: only the centre voxel's 3 rows of each local inverse are kept (the
/// restriction), so every unknown is written once. Rows from Mᵀ_a w = e_c (LAPACK `gesv`, 3 right-hand sides);
/// memory 3 · 3s complex per voxel (≤ 3.9 kB). `multiply` is the near-band operator (row a of M_a for every a), used
/// to map warm starts (x₀ ↦ y₀ ≈ M x₀).
public struct VIESchwarzPreconditioner: Sendable {
    /// N(a) per occupied voxel (indices into `VIEOperator.occupied`), centre first.
    let neighbourhoods: [[Int]]
    /// Per voxel: the 3 centre rows of M_a⁻¹ and of M_a, each 3 × 3s row-major.
    let inverseRows: [[CDouble]], forwardRows: [[CDouble]]

    /// Builds the local inverses for every occupied voxel of `op`.
    public init(operator op: VIEOperator) throws {
        let (nx, ny, nz) = op.target.dims
        let ijl = op.occupied.map { idx in (idx % nx, (idx / nx) % ny, idx / (nx * ny)) }
        var pos: [Int: Int] = [:]
        for (n, idx) in op.occupied.enumerated() { pos[idx] = n }
        var hoods: [[Int]] = []
        hoods.reserveCapacity(ijl.count)
        for (n, p) in ijl.enumerated() {
            var h = [n]
            for dl in -1...1 { for dj in -1...1 { for di in -1...1 where !(di == 0 && dj == 0 && dl == 0) {
                let (i, j, l) = (p.0 + di, p.1 + dj, p.2 + dl)
                guard i >= 0, j >= 0, l >= 0, i < nx, j < ny, l < nz, let m = pos[i + nx * (j + ny * l)] else { continue }
                h.append(m)
            } } }
            hoods.append(h)
        }
        neighbourhoods = hoods
        let rn = VIEOperator.nearRadius, side = 2 * rn + 1
        let comp = [[0, 3, 4], [3, 1, 5], [4, 5, 2]]
        let inv = ParallelResults<[CDouble]>(count: hoods.count), fwd = ParallelResults<[CDouble]>(count: hoods.count)
        let failed = ParallelResults<Bool>(count: hoods.count)
        let hoodsSnap = hoods
        ThreadCount.concurrentPerform(iterations: hoods.count) { v in
            let g = hoodsSnap[v], d = 3 * g.count
            // Mᵀ (column-major), so that Mᵀ w = e_c gives row c of M⁻¹.
            var mt = Matrix<CDouble>(rows: d, cols: d)
            for (b, nb) in g.enumerated() {
                let x = op.chiTensor(nb)
                for (a, na) in g.enumerated() {
                    for r in 0..<3 { for c in 0..<3 {
                        var val: CDouble
                        if a == b {
                            val = (r == c ? CDouble(1, 0) : .zero) - op.selfTerms[na] * x[3 * r + c]
                        } else {
                            let o = (ijl[na].0 - ijl[nb].0 + rn) + side * ((ijl[na].1 - ijl[nb].1 + rn) + side * (ijl[na].2 - ijl[nb].2 + rn))
                            let t = op.nearKernel[o]
                            val = .zero
                            for q in 0..<3 { val -= t[comp[r][q]] * x[3 * q + c] }
                        }
                        mt[3 * b + c, 3 * a + r] = val      // M[3a + r, 3b + c]
                    } }
                }
            }
            var rows = [CDouble](repeating: .zero, count: 3 * d), frows = rows
            for r in 0..<3 { for col in 0..<d { frows[r * d + col] = mt[col, r] } }
            var e = Matrix<CDouble>(rows: d, cols: 3)
            for c in 0..<3 { e[c, c] = CDouble(1, 0) }
            if let w = try? mt.solve(e) {
                for r in 0..<3 { for col in 0..<d { rows[r * d + col] = w[col, r] } }
                failed.set(v, false)
            } else { failed.set(v, true) }
            inv.set(v, rows); fwd.set(v, frows)
        }
        if let bad = failed.values().firstIndex(of: true) {
            throw ISACError.invalidParameter(name: "vie-preconditioner", value: "schwarz", valid: "the local near-field matrix of voxel \(bad) is singular; use jacobi")
        }
        inverseRows = inv.values(); forwardRows = fwd.values()
    }

    private func rowProduct(_ mats: [[CDouble]], _ x: [CDouble]) -> [CDouble] {
        var y = [CDouble](repeating: .zero, count: x.count)
        for (a, g) in neighbourhoods.enumerated() {
            let d = 3 * g.count, m = mats[a]
            var s0 = CDouble.zero, s1 = CDouble.zero, s2 = CDouble.zero
            for col in 0..<d {
                let xv = x[3 * g[col / 3] + col % 3]
                s0 += m[col] * xv; s1 += m[d + col] * xv; s2 += m[2 * d + col] * xv
            }
            y[3 * a] = s0; y[3 * a + 1] = s1; y[3 * a + 2] = s2
        }
        return y
    }

    /// x = M_RAS⁻¹ y (length 3 N_s).
    public func solve(_ y: [CDouble]) -> [CDouble] { rowProduct(inverseRows, y) }
    /// The near-band operator applied to x (length 3 N_s).
    public func multiply(_ x: [CDouble]) -> [CDouble] { rowProduct(forwardRows, x) }
    /// Largest neighbourhood size s.
    public var maxNeighbourhood: Int { neighbourhoods.map { $0.count }.max() ?? 0 }
}

/// Per-subcarrier VIE statistics.
public struct VIEStats: Sendable, Codable {
    /// Subcarrier frequency, Hz.
    public var frequencyHz: Double
    /// Max / mean GMRES iterations over the solved right-hand sides.
    public var maxIterations: Int
    public var meanIterations: Double
    /// Max over Tx of the true relative residual ‖A_inc,t − (I − Tχ)A_t‖/‖A_inc,t‖.
    public var maxRelativeResidual: Double
    public var seconds: Double
    /// Number of GMRES solves (the rank of the compressed right-hand-side basis; N_t without compression).
    public var solves: Int
    /// `nearband` only: LAPACK's estimate of 1/κ₁(M) of the factored near band (`BandedLU.reciprocalCondition`).
    /// It falls as 1/σ for metal-like voxels and, measured, does not predict a stall: on the 0.1- and 0.15-scale
    /// cars at σ = 10³ S/m it is 3.3·10⁻⁷ and 1.3·10⁻⁷, and only the larger one stalls (docs/BENCHMARKS.md).
    public var nearBandReciprocalCondition: Double? = nil
}

/// Orthonormal basis of the incident fields of all Tx (columns of A_inc [dim × N_t]) by column-pivoted
/// modified Gram–Schmidt, stopped once every column is represented to relative error ≤ `tolerance`:
/// a_t ≈ Σ_i q_i c_ti with ‖a_t − Σ_i q_i c_ti‖ ≤ tolerance·‖a_t‖.
///
/// Why: a target at range r seen by an aperture D illuminates only ≈ D·w/(λr) + O(1) independent
/// incident patterns (w = target width), so for the paper's ranges r ≪ N_t solves suffice, and the
/// operator's linearity carries the combination over to the solutions exactly.
struct RHSBasis {
    /// r orthonormal basis vectors, each of length dim.
    var q: [[CDouble]] = []
    /// Pivot (Tx index) chosen at each step.
    var pivots: [Int] = []
    /// c[t][i] = coefficient of q_i in a_t (= ⟨q_i, a_t⟩).
    var c: [[CDouble]]
    /// R[i] = ‖residual of a_{pivots[i]}‖ when it was chosen (the diagonal of the pivoted QR).
    var rDiag: [Double] = []

    init(columns a: Matrix<CDouble>, tolerance: Double) {
        let dim = a.rows, nt = a.cols
        var w = (0..<nt).map { Array(a.data[($0 * dim)..<(($0 + 1) * dim)]) }
        func nrm(_ v: [CDouble]) -> Double { v.reduce(0) { $0 + $1.lengthSquared }.squareRoot() }
        let n0 = w.map(nrm)
        var res = n0
        c = [[CDouble]](repeating: [], count: nt)
        while q.count < nt {
            var best = -1, ratio = 0.0
            for t in 0..<nt where n0[t] > 0 && res[t] / n0[t] > ratio { ratio = res[t] / n0[t]; best = t }
            if best < 0 || ratio <= tolerance { break }
            // Recompute the pivot's norm (the running value can drift), normalize, project it out of all.
            let rho = nrm(w[best])
            let qi = w[best].map { $0 / CDouble(rho, 0) }
            let cols = ParallelResults<[CDouble]>(count: nt)
            let coef = ParallelResults<CDouble>(count: nt)
            let wSnap = w
            ThreadCount.concurrentPerform(iterations: nt) { t in
                var v = wSnap[t]
                var h = CDouble.zero
                for j in 0..<dim { h += qi[j].conjugate * v[j] }
                for j in 0..<dim { v[j] -= h * qi[j] }
                cols.set(t, v); coef.set(t, h)
            }
            w = cols.values()
            let h = coef.values()
            for t in 0..<nt { c[t].append(h[t]); res[t] = nrm(w[t]) }
            q.append(qi); pivots.append(best); rDiag.append(rho)
        }
    }

    var rank: Int { q.count }
}

/// Full-wave channel from the VIE (eqs. 7, 11, 13): solves (I − Tχ) A_k = A_k,inc for all N_t
/// right-hand sides, then H_k = k0² ΔV B χ A_k as one ZGEMM.
///
/// - Right-hand sides: with `compressRHS` (default) the N_t incident fields are replaced by an
///   orthonormal basis of r ≤ N_t vectors that represents each to relative error tol/2 (`RHSBasis`);
///   the r basis solutions (GMRES to tol/(2√r)) are recombined, so each Tx's residual stays ≤ tol:
///   ‖a_t − (I − Tχ)A_t‖ ≤ (tol/2)‖a_t‖ + (tol/(2√r))‖c_t‖₁ ≤ tol‖a_t‖. The true per-Tx residual is
///   computed afterwards and reported. Without compression each Tx is solved directly.
/// - `preconditioner` (right; `VIEPreconditioner`): `jacobi` (default) = (1 − T_self χ_n)⁻¹, `block` (clusters of
///   `blockEdge`³ cells, `VIEBlockPreconditioner`), `schwarz`, `nearband` (exact LU of the couplings within
///   `nearRadius` lattice steps, `VIENearBandPreconditioner`: for metal-like voxels), or `none`; `jacobi: false`
///   forces `none`.
/// - Solves run in parallel over right-hand sides; each is sequential, so results do not depend on the
///   thread count.
/// - Warm start across subcarriers: A_{k+1} ≈ A_k · (k_{k+1}/k_k)² e^{−j(k_{k+1}−k_k)|r_n − r_t|}
///   (the incident phase/amplitude advance), mapped onto the basis by the same pivoted recurrence as
///   the right-hand sides, discarded if worse than zero.
public enum VIESolver {
    /// VIE channel of `target` seen by `array`, H ∈ C^{N_r × N_t × K}, one set of GMRES solves per subcarrier.
    public static func channel(target: VoxelTarget, array: SensingArray, tolerance: Double = 1e-3,
                               restart: Int = 40, maxIterations: Int = 2000, warmStart: Bool = true,
                               compressRHS: Bool = true, jacobi: Bool = true, discretization: VIEDiscretization = .default,
                               preconditioner: VIEPreconditioner = .default, blockEdge: Int = VIEPreconditioner.defaultBlockEdge,
                               nearRadius: Int = VIENearBandPreconditioner.defaultRadius)
        throws -> (channel: ChannelTensor, stats: [VIEStats])
    {
        try Check.inOpenRange(tolerance, 0, 1, "vie-tolerance")
        try Check.positive(restart, "gmres-restart"); try Check.positive(maxIterations, "max-iterations")
        let fmax = array.frequenciesHz.max()!
        let lam = speedOfLight / fmax
        guard target.pitch <= lam / 2 * (1 + 1e-12) else {
            throw ISACError.invalidParameter(name: "voxel-pitch", value: "\(target.pitch)",
                                             valid: String(format: "must be ≤ λ/2 = %.4f m at the highest subcarrier for the VIE (≥ 2 voxels per wavelength; ≥ 10 recommended)", lam / 2))
        }
        try BornSolver.checkClearance(target: target, array: array)
        let nr = array.rx.count, nt = array.tx.count, K = array.frequenciesHz.count
        var H = ChannelTensor(rx: nr, tx: nt, subcarriers: K, data: .init(repeating: .zero, count: nr * nt * K))
        let occ = target.occupiedIndices
        let pts = occ.map { target.center($0) }
        var prev: [[CDouble]]? = nil
        var prevK = 0.0
        var stats: [VIEStats] = []
        for (kk, f) in array.frequenciesHz.enumerated() {
            let t0 = Date()
            let k = Fields.wavenumber(frequencyHz: f)
            let op = try VIEOperator(target: target, wavenumber: k, contrast: target.contrastGrid(frequencyHz: f), discretization: discretization)
            let Ainc = TransferMatrices.incident(points: pts[...], array: array, wavenumber: k)
            let dim = op.dimension
            if kk == 0 {
                // Up-front memory estimate: concurrent GMRES solves (≤ ThreadCount.count of them, the bound of the per-Tx loop) each hold (m + 2) Krylov vectors.
                let m = max(1, min(restart, maxIterations, dim))
                let conc = min(nt, ThreadCount.count)
                let need = GMRES.memoryBytes(dimension: dim, restart: m).flatMap { $0.multipliedReportingOverflow(by: conc).overflow ? nil : $0 * conc }
                let have = Double(ProcessInfo.processInfo.physicalMemory)
                guard let need, Double(need) <= 0.5 * have else {
                    throw ISACError.invalidParameter(name: "--gmres-restart", value: "\(restart)",
                        valid: String(format: "needs ≈ %.3g GB for %d concurrent GMRES(%d) solves on %d unknowns (memory %.3g GB); use a restart ≤ %d",
                                      need.map { Double($0) / 1e9 } ?? Double.infinity, conc, m, dim, have / 1e9,
                                      max(1, Int(0.5 * have / Double(16 * conc * max(dim, 1))) - 2)))
                }
            }
            // Warm guesses per Tx from the previous subcarrier's solutions.
            var guess: [[CDouble]]? = nil
            if warmStart, let w = prev {
                let pk = prevK
                let g = ParallelResults<[CDouble]>(count: nt)
                ThreadCount.concurrentPerform(iterations: nt) { t in
                    var x = w[t]
                    let src = array.tx.positions[t]
                    let s = (k / pk) * (k / pk)
                    for n in 0..<pts.count {
                        let d = pts[n] - src
                        let ph = -(k - pk) * (d * d).sum().squareRoot()
                        let rot = CDouble(s * Double.cos(ph), s * Double.sin(ph))
                        for c in 0..<3 { x[3 * n + c] *= rot }
                    }
                    g.set(t, x)
                }
                guess = g.values()
            }
            // Right-hand sides (basis or the raw columns), their tolerances and warm starts.
            let rhs: [[CDouble]], tol: Double
            var x0: [[CDouble]?]
            var basis: RHSBasis? = nil
            if compressRHS {
                let bs = RHSBasis(columns: Ainc, tolerance: tolerance / 2)
                rhs = bs.q
                tol = tolerance / (2 * Double(max(bs.rank, 1)).squareRoot())
                // Same pivoted recurrence on the guesses: q_i = (a_{p_i} − Σ_{j<i} c_{p_i, j} q_j)/ρ_i.
                x0 = [[CDouble]?](repeating: nil, count: bs.rank)
                if let g = guess {
                    var xs: [[CDouble]] = []
                    for i in 0..<bs.rank {
                        var v = g[bs.pivots[i]]
                        for j in 0..<i { let cj = bs.c[bs.pivots[i]][j]; for e in 0..<dim { v[e] -= cj * xs[j][e] } }
                        let inv = CDouble(1 / bs.rDiag[i], 0)
                        for e in 0..<dim { v[e] *= inv }
                        xs.append(v)
                    }
                    x0 = xs.map { Optional($0) }
                }
                basis = bs
            } else {
                rhs = (0..<nt).map { Array(Ainc.data[($0 * dim)..<(($0 + 1) * dim)]) }
                tol = tolerance
                x0 = guess.map { $0.map { Optional($0) } } ?? [[CDouble]?](repeating: nil, count: nt)
            }
            let results = ParallelResults<KrylovResult>(count: rhs.count)
            let rhsSnap = rhs, x0Snap = x0, tolSnap = tol
            // Right Jacobi preconditioning: solve (I − Tχ)D⁻¹ y = b, x = D⁻¹y with D = diag(1 − T_self χ_n)
            // (the Clausius–Mossotti factor (ε_r + 2)/3 for small voxels). For lossy-metal voxels |χ| ≈ 7–22
            // the unscaled system has a diagonal spread of that size and restarted GMRES stalls; right
            // preconditioning leaves the residual b − A x unchanged, so tolerances keep their meaning.
            let prec: VIEPreconditioner = jacobi ? preconditioner : .none
            let dinv: [CDouble] = prec == .jacobi ? op.chi.indices.flatMap { n -> [CDouble] in
                let d = CDouble(1, 0) / (CDouble(1, 0) - op.selfTerms[n] * op.chi[n]); return [d, d, d] } : []
            let blocks: VIEBlockPreconditioner? = prec == .block ? try VIEBlockPreconditioner(operator: op, edge: blockEdge) : nil
            let ras: VIESchwarzPreconditioner? = prec == .schwarz ? try VIESchwarzPreconditioner(operator: op) : nil
            let band: VIENearBandPreconditioner? = prec == .nearband ? try VIENearBandPreconditioner(operator: op, radius: nearRadius) : nil
            let bandRcond = band?.reciprocalCondition()
            ThreadCount.concurrentPerform(iterations: rhs.count) { i in
                var r: KrylovResult
                if let band {
                    let apply: ([CDouble]) -> [CDouble] = { y in op.apply(band.solve(y)) }
                    r = GMRES.solve(apply, b: rhsSnap[i], initialGuess: x0Snap[i].map { band.multiply($0) }, tolerance: tolSnap, restart: restart, maxIterations: maxIterations)
                    r.solution = band.solve(r.solution)
                } else if let ras {
                    let apply: ([CDouble]) -> [CDouble] = { y in op.apply(ras.solve(y)) }
                    r = GMRES.solve(apply, b: rhsSnap[i], initialGuess: x0Snap[i].map { ras.multiply($0) }, tolerance: tolSnap, restart: restart, maxIterations: maxIterations)
                    r.solution = ras.solve(r.solution)
                } else if let blocks {
                    let apply: ([CDouble]) -> [CDouble] = { y in op.apply(blocks.solve(y)) }
                    let y0 = x0Snap[i].map { blocks.multiply($0) }
                    r = GMRES.solve(apply, b: rhsSnap[i], initialGuess: y0, tolerance: tolSnap, restart: restart, maxIterations: maxIterations)
                    r.solution = blocks.solve(r.solution)
                } else if prec == .jacobi && !op.anisoDelta.isEmpty {
                    // Weighted boundary voxels: D_n = a I − b n̂n̂ᵀ (a = 1 − Sχ_t, b = Sδ), D⁻¹ = (I + b/(a − b) n̂n̂ᵀ)/a.
                    let dsolve: ([CDouble]) -> [CDouble] = { y in
                        var x = y; for e in x.indices { x[e] *= dinv[e] }
                        for n in op.chi.indices where op.anisoDelta[n] != .zero {
                            let u = op.anisoNormal[n], a = CDouble(1, 0) - op.selfTerms[n] * op.chi[n], b = op.selfTerms[n] * op.anisoDelta[n]
                            let p = b / (a - b) * (CDouble(u.x, 0) * x[3 * n] + CDouble(u.y, 0) * x[3 * n + 1] + CDouble(u.z, 0) * x[3 * n + 2])
                            for c in 0..<3 { x[3 * n + c] += p * CDouble(u[c], 0) }
                        }
                        return x
                    }
                    let dmul: ([CDouble]) -> [CDouble] = { x in
                        var y = (0..<x.count).map { x[$0] / dinv[$0] }
                        for n in op.chi.indices where op.anisoDelta[n] != .zero {
                            let u = op.anisoNormal[n], b = op.selfTerms[n] * op.anisoDelta[n]
                            let p = b * (CDouble(u.x, 0) * x[3 * n] + CDouble(u.y, 0) * x[3 * n + 1] + CDouble(u.z, 0) * x[3 * n + 2])
                            for c in 0..<3 { y[3 * n + c] -= p * CDouble(u[c], 0) }
                        }
                        return y
                    }
                    r = GMRES.solve({ op.apply(dsolve($0)) }, b: rhsSnap[i], initialGuess: x0Snap[i].map(dmul), tolerance: tolSnap, restart: restart, maxIterations: maxIterations)
                    r.solution = dsolve(r.solution)
                } else if prec == .jacobi {
                    let apply: ([CDouble]) -> [CDouble] = { y in
                        var x = y; for e in x.indices { x[e] *= dinv[e] }; return op.apply(x)
                    }
                    let y0 = x0Snap[i].map { x in (0..<x.count).map { x[$0] / dinv[$0] } }
                    r = GMRES.solve(apply, b: rhsSnap[i], initialGuess: y0, tolerance: tolSnap, restart: restart, maxIterations: maxIterations)
                    for e in r.solution.indices { r.solution[e] *= dinv[e] }
                } else {
                    r = GMRES.solve(op.apply, b: rhsSnap[i], initialGuess: x0Snap[i], tolerance: tolSnap,
                                    restart: restart, maxIterations: maxIterations)
                }
                results.set(i, r)
            }
            let res = results.values()
            if let bad = res.firstIndex(where: { !$0.converged }) {
                throw ISACError.invalidParameter(name: "vie-tolerance", value: "\(tolerance)",
                    valid: String(format: "GMRES did not reach %.2e for right-hand side %d at %.4g Hz within %d iterations (residual %.2e); raise --max-iterations or refine the grid", tol, bad, f, maxIterations, res[bad].relativeResidual)
                        + (bandRcond.map { String(format: " (near-band reciprocal condition %.2e)", $0) }
                           ?? "; for metal-like voxels try --vie-preconditioner nearband with a long --gmres-restart")
                        + "; for metal bodies larger than a wavelength use --solver po or hybrid (docs/scattering.md)")
            }
            // Per-Tx total fields A_t (recombined from the basis solutions when compressed).
            let sol: [[CDouble]]
            if let bs = basis {
                let out = ParallelResults<[CDouble]>(count: nt)
                ThreadCount.concurrentPerform(iterations: nt) { t in
                    var v = [CDouble](repeating: .zero, count: dim)
                    for i in 0..<bs.rank { let ci = bs.c[t][i]; let xi = res[i].solution; for e in 0..<dim { v[e] += ci * xi[e] } }
                    out.set(t, v)
                }
                sol = out.values()
            } else {
                sol = res.map { $0.solution }
            }
            // True per-Tx residuals (one matvec each; cheap next to the solves).
            let resid = ParallelResults<Double>(count: nt)
            ThreadCount.concurrentPerform(iterations: nt) { t in
                let ax = op.apply(sol[t])
                var num = 0.0, den = 0.0
                for e in 0..<dim { let a = Ainc.data[t * dim + e]; num += (a - ax[e]).lengthSquared; den += a.lengthSquared }
                resid.set(t, den > 0 ? (num / den).squareRoot() : 0)
            }
            let trueRes = resid.values()
            // A_k scaled by χ, then H_k = k0² ΔV B (χ A_k).
            var A = Matrix<CDouble>(rows: dim, cols: nt)
            for t in 0..<nt {
                for n in 0..<pts.count { for c in 0..<3 { A.data[t * dim + 3 * n + c] = op.chi[n] * sol[t][3 * n + c] } }
                if !op.anisoDelta.isEmpty {
                    for n in 0..<pts.count where op.anisoDelta[n] != .zero {
                        let (a, b, c) = op.polarization(n, sol[t])
                        A.data[t * dim + 3 * n] = a; A.data[t * dim + 3 * n + 1] = b; A.data[t * dim + 3 * n + 2] = c
                    }
                }
            }
            let B = TransferMatrices.receive(points: pts[...], array: array, wavenumber: k)
            var Hk = Matrix<CDouble>.matmul(B, A)
            let s = CDouble(k * k * target.voxelVolume, 0)
            for i in Hk.data.indices { Hk.data[i] *= s }
            H.set(subcarrier: kk, Hk)
            prev = sol; prevK = k
            let its = res.map { $0.iterations }
            stats.append(VIEStats(frequencyHz: f, maxIterations: its.max() ?? 0, meanIterations: Double(its.reduce(0, +)) / Double(max(its.count, 1)),
                                  maxRelativeResidual: trueRes.max() ?? 0, seconds: Date().timeIntervalSince(t0), solves: rhs.count,
                                  nearBandReciprocalCondition: bandRcond))
        }
        return (H, stats)
    }
}

/// Collects one result per index from a concurrent loop (index-addressed, so order is deterministic). `@unchecked`
/// because the lock is an `NSLock`: `Synchronization.Mutex` would make it checked, but needs macOS 15 and the
/// package supports macOS 13. Every access to `items` holds the lock; `T` must itself be `Sendable`.
final class ParallelResults<T: Sendable>: @unchecked Sendable {
    private var items: [T?]
    private let lock = NSLock()
    init(count: Int) { items = .init(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); items[i] = v; lock.unlock() }
    func values() -> [T] { lock.lock(); defer { lock.unlock() }; return items.map { $0! } }
}

/// Sine and cosine integrals Si(x) = ∫_0^x sin t/t dt, Ci(x) = γ + ln x + ∫_0^x (cos t − 1)/t dt (x > 0), for the
/// filtered Green's tensor. x ≤ 2: power series; x > 2: the continued fraction of E1(jx) = −Ci(x) + j(Si(x) − π/2),
/// E1(z) = e^{−z}/(z + 1 − 1²/(z + 3 − 2²/(z + 5 − …))) (modified Lentz), both to ≈ 1e-15 relative.
enum SineCosineIntegral {
    static func ciSi(_ x: Double) -> (ci: Double, si: Double) {
        precondition(x > 0)
        if x <= 2 {
            var si = 0.0, ci = 0.0
            var term = 1.0                       // (−1)^n x^{m}/m! for m = 0, 1, 2, …
            for m in 1...60 {
                term *= x / Double(m)
                if m % 2 == 1 { si += (m % 4 == 1 ? 1 : -1) * term / Double(m) }
                else { ci += (m % 4 == 0 ? 1 : -1) * term / Double(m) }
                if term < 1e-18 { break }
            }
            return (0.57721566490153286061 + Foundation.log(x) + ci, si)
        }
        // Lentz on b_0 + a_1/(b_1 + a_2/(b_2 + …)) with b_i = z + 2i + 1 (i ≥ 0), a_i = −i² (i ≥ 1); z = jx.
        let tiny = CDouble(1e-300, 0)
        var b = CDouble(1, x)
        var f = b, c = b, d = CDouble.zero
        for i in 1...1000 {
            let a = CDouble(-Double(i * i), 0)
            b = b + CDouble(2, 0)
            d = b + a * d; if d.length < 1e-300 { d = tiny }
            c = b + a / c; if c.length < 1e-300 { c = tiny }
            d = CDouble(1, 0) / d
            let delta = c * d
            f = f * delta
            if (delta - CDouble(1, 0)).length < 1e-16 { break }
        }
        let e1 = CDouble(Double.cos(x), -Double.sin(x)) / f
        return (-e1.real, Double.pi / 2 + e1.imaginary)
    }
}
