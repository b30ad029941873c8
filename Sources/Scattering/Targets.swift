import Arrays
import Foundation
import Linalg
import Numerics

/// A homogeneous material: complex relative permittivity ε_r (Im ≤ 0 is lossy, e^{jωt}) and
/// conductivity σ ≥ 0 (S/m). Its contrast at frequency f is χ = ε_r − 1 − jσ/(2πf ε0) (eq. 2).
///
/// Metal in a volume integral equation: a perfect conductor has no volume current, so metal is
/// modelled as a very lossy dielectric (σ = 2–6 S/m by default, `MaterialRanges.metalSigma`). At 4.9 GHz the skin depth
/// δ = 1/√(πfμ0σ) is then ≈ 3–5 mm, far below a voxel, so the voxels behave as a good conductor
/// whose currents crowd into the outer voxel layer; σ is capped because the VIE operator's
/// conditioning degrades as |χ| grows (|χ| ≈ σ/(ωε0) ≈ 3.7·σ at 4.9 GHz).
public struct Material: Sendable, Equatable, Codable {
    /// Material name.
    public var name: String
    /// Re ε_r.
    public var epsReal: Double
    /// Im ε_r (≤ 0 for loss, e^{jωt}).
    public var epsImag: Double
    /// Conductivity σ, S/m.
    public var sigma: Double

    /// Validates σ finite and ≥ 0 (S/m) and ε_r finite with Im ≤ 0.
    public init(name: String, relativePermittivity eps: CDouble, conductivity sigma: Double) throws {
        guard sigma.isFinite, sigma >= 0 else {
            throw ISACError.invalidParameter(name: "conductivity (\(name))", value: "\(sigma)",
                                             valid: "must be finite and >= 0 S/m")
        }
        guard eps.real.isFinite, eps.imaginary.isFinite, eps.imaginary <= 0 else {
            throw ISACError.invalidParameter(name: "relativePermittivity (\(name))", value: "\(eps)",
                                             valid: "must be finite with Im ≤ 0 (lossy in the e^{jωt} convention)")
        }
        self.name = name; epsReal = eps.real; epsImag = eps.imaginary; self.sigma = sigma
    }

    /// ε_r = `epsReal` + j `epsImag` (without the conductivity term).
    public var relativePermittivity: CDouble { CDouble(epsReal, epsImag) }

    /// χ at `frequencyHz` (eq. 2), dimensionless.
    public func contrast(frequencyHz f: Double) -> CDouble {
        CDouble(epsReal - 1, epsImag - sigma / (2 * Double.pi * f * vacuumPermittivity))
    }
}

/// A voxelized scatterer on an axis-aligned uniform grid (pitch h, metres).
///
/// Voxel (i, j, l) has centre `origin + h·(i, j, l)`; `material[i + nx·(j + ny·l)]` is 0 for free
/// space and m ≥ 1 for `materials[m − 1]`. The grid is world-aligned even for rotated targets (the
/// heading is applied when voxelizing), which keeps the VIE operator Toeplitz for FFT convolution.
public struct VoxelTarget: Sendable, Equatable {
    /// Centre of voxel (0, 0, 0), metres.
    public var origin: Point3
    /// Voxel pitch h, metres.
    public var pitch: Double
    /// Grid size (n_x, n_y, n_z).
    public var dims: (Int, Int, Int)
    /// Material index per voxel, `material[i + nx·(j + ny·l)]`; 0 = free space.
    public var material: [UInt8]
    /// Materials referenced by 1-based index from `material`.
    public var materials: [Material]
    /// Boundary voxels of the weighted (anisotropic) discretization, ascending by grid index (empty: every occupied
    /// voxel is filled by its material). Read by the VIE only (`VIEOperator`); Born and PO use the voxel's material.
    public var boundary: [BoundaryVoxel] = []

    /// Equal when grid, materials and boundary voxels are equal.
    public static func == (a: VoxelTarget, b: VoxelTarget) -> Bool {
        a.origin == b.origin && a.pitch == b.pitch && a.dims == b.dims && a.material == b.material && a.materials == b.materials
            && a.boundary == b.boundary
    }

    /// Validates pitch and dims > 0, `material.count` = n_x·n_y·n_z, and every index ≤ `materials.count`.
    public init(origin: Point3, pitch: Double, dims: (Int, Int, Int), material: [UInt8], materials: [Material]) throws {
        try Check.positive(pitch, "voxel-pitch")
        try Check.positive(dims.0, "dims.x"); try Check.positive(dims.1, "dims.y"); try Check.positive(dims.2, "dims.z")
        guard material.count == dims.0 * dims.1 * dims.2 else {
            throw ISACError.shapeMismatch("material has \(material.count) entries, grid is \(dims.0)×\(dims.1)×\(dims.2)")
        }
        guard material.allSatisfy({ Int($0) <= materials.count }) else {
            throw ISACError.invalidParameter(name: "material", value: "index > \(materials.count)", valid: "must index into materials (1-based, 0 = empty)")
        }
        self.origin = origin; self.pitch = pitch; self.dims = dims; self.material = material; self.materials = materials
    }

    /// Voxel volume ΔV = h³, m³.
    public var voxelVolume: Double { pitch * pitch * pitch }
    /// Linear indices of occupied voxels, ascending.
    public var occupiedIndices: [Int] { material.indices.filter { material[$0] != 0 } }
    /// Number of occupied voxels.
    public var occupiedCount: Int { material.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    /// Centre of voxel with linear index `idx`, metres.
    @inlinable public func center(_ idx: Int) -> Point3 {
        let i = idx % dims.0, j = (idx / dims.0) % dims.1, l = idx / (dims.0 * dims.1)
        return origin + pitch * Point3(Double(i), Double(j), Double(l))
    }

    /// Geometric centre of the support r_ctr = (1/N_s) Σ r_n (eq. 21), metres.
    public var supportCenter: Point3 {
        var s = Point3(0, 0, 0); var n = 0
        for idx in material.indices where material[idx] != 0 { s += center(idx); n += 1 }
        return n > 0 ? s / Double(n) : s
    }

    /// Per-voxel contrast χ_n at `frequencyHz` over the whole grid (0 for empty voxels), length nx·ny·nz.
    public func contrastGrid(frequencyHz f: Double) -> [CDouble] {
        let chi = materials.map { $0.contrast(frequencyHz: f) }
        return material.map { $0 == 0 ? .zero : chi[Int($0) - 1] }
    }

    /// Smallest distance from any occupied voxel centre to any of `points` (metres); used to reject
    /// targets that overlap the array.
    public func minimumDistance(to points: [Point3]) -> Double {
        var best = Double.infinity
        for idx in material.indices where material[idx] != 0 {
            let c = center(idx)
            for p in points { let d = c - p; best = min(best, (d * d).sum()) }
        }
        return best.squareRoot()
    }

    /// Voxelizes an implicit shape: `classify(r)` returns 0 (empty) or a 1-based material index for a
    /// world point r. The grid covers the axis-aligned box [lo, hi] with pitch h (voxel centres inside).
    public static func voxelize(lo: Point3, hi: Point3, pitch h: Double, materials: [Material],
                                classify: (Point3) -> UInt8) throws -> VoxelTarget {
        try Check.positive(h, "voxel-pitch")
        let ext = hi - lo
        // Count in Double first: a huge target (e.g. --target-scale 1e12) must fail here, not overflow Int.
        let nd = (0..<3).map { max(1, (ext[$0] / h).rounded(.up)) }
        guard nd.allSatisfy({ $0.isFinite }), nd[0] * nd[1] * nd[2] <= 50_000_000 else {
            throw ISACError.invalidParameter(name: "voxel-pitch / target-scale", value: String(format: "pitch %g m, extent %g × %g × %g m", h, ext.x, ext.y, ext.z),
                                             valid: String(format: "gives %.3g grid voxels; use a coarser pitch or a smaller target (≤ 5e7 voxels)", nd[0] * nd[1] * nd[2]))
        }
        let n = nd.map { Int($0) }
        let total = n[0] * n[1] * n[2]
        // Centre the grid on the box so the discretization is symmetric.
        let origin = (lo + hi) / 2 - h * Point3(Double(n[0] - 1), Double(n[1] - 1), Double(n[2] - 1)) / 2
        var mat = [UInt8](repeating: 0, count: total)
        for l in 0..<n[2] { for j in 0..<n[1] { for i in 0..<n[0] {
            mat[i + n[0] * (j + n[1] * l)] = classify(origin + h * Point3(Double(i), Double(j), Double(l)))
        } } }
        return try VoxelTarget(origin: origin, pitch: h, dims: (n[0], n[1], n[2]), material: mat, materials: materials)
    }

    /// Homogeneous sphere of radius a (m) centred at c, voxelized with pitch h (voxel in iff its centre is).
    ///
    /// `exactVolume`: after choosing the N voxels at pitch h, the pitch is rescaled to d = (4πa³/(3N))^{1/3} about c
    /// so that N d³ equals the sphere's volume exactly — the "effective radius" convention by which DDA codes
    /// (DDSCAT, ADDA) compare with Mie. It removes the O(h) volume error of the staircase (e.g. +8.8 % volume for
    /// a = 3.18 h); the pitch changes by less than a few per cent.
    /// `gridShift` moves the grid by that many pitches (per axis) against the sphere (sub-voxel shift averaging).
    public static func sphere(center c: Point3, radius a: Double, pitch h: Double, material: Material,
                              exactVolume: Bool = false, gridShift: Point3 = Point3(0, 0, 0)) throws -> VoxelTarget {
        try Check.positive(a, "radius")
        let r = Point3(repeating: a), off = h * gridShift
        var t = try voxelize(lo: c - r + off, hi: c + r + off, pitch: h, materials: [material]) { p in
            let d = p - c
            return (d * d).sum() <= a * a ? 1 : 0
        }
        if exactVolume, t.occupiedCount > 0 {
            let d = Foundation.cbrt(4 * Double.pi * a * a * a / (3 * Double(t.occupiedCount)))
            t.origin = c + (d / h) * (t.origin - c)
            t.pitch = d
        }
        return t
    }

    /// Homogeneous sphere whose boundary voxels carry the Maxwell Garnett effective permittivity of their filled
    /// fraction f (counted on an s×s×s sub-grid per voxel, quantized to 1/s³):
    ///
    ///     (ε_eff − 1)/(ε_eff + 2) = f (ε − 1)/(ε + 2),  ε = ε_r − jσ/(2π f_ref ε0),
    ///
    /// so that the voxelized volume and polarizability match the smooth sphere to O(h²) instead of the O(h)
    /// staircase error (voxels with f = 0 stay empty). σ is folded into ε at `referenceFrequencyHz`, which makes the
    /// boundary materials exact at that frequency only (σ = 0 materials are exact at every frequency).
    public static func smoothSphere(center c: Point3, radius a: Double, pitch h: Double, material: Material,
                                    subsamples s: Int = 4, referenceFrequencyHz fref: Double) throws -> VoxelTarget {
        try Check.positive(a, "radius"); try Check.inRange(s, 2, 6, "subsamples"); try Check.positive(fref, "referenceFrequencyHz")
        let chi = material.contrast(frequencyHz: fref)
        let eps = CDouble(1 + chi.real, chi.imaginary)
        let cm = (eps - CDouble(1, 0)) / (eps + CDouble(2, 0))
        let total = s * s * s
        var mats: [Material] = []
        for q in 1..<total {
            let y = CDouble(Double(q) / Double(total), 0) * cm
            let e = (CDouble(1, 0) + CDouble(2, 0) * y) / (CDouble(1, 0) - y)
            mats.append(try Material(name: "\(material.name) f=\(q)/\(total)", relativePermittivity: CDouble(e.real, min(0, e.imaginary)), conductivity: 0))
        }
        mats.append(material)
        let r = Point3(repeating: a + h)
        return try voxelize(lo: c - r, hi: c + r, pitch: h, materials: mats) { p in
            var inside = 0
            for i in 0..<s { for j in 0..<s { for l in 0..<s {
                let o = h * (Point3(Double(i), Double(j), Double(l)) + 0.5) / Double(s) - Point3(repeating: h / 2)
                let d = p + o - c
                if (d * d).sum() <= a * a { inside += 1 }
            } } }
            return inside == 0 ? 0 : UInt8(inside)   // index q ↔ f = q/s³; index s³ = the full material
        }
    }

    /// Homogeneous sphere with the weighted discretization of its boundary voxels (Piller 1999; Yurkin & Hoekstra
    /// 2007, §"weighted discretization"): every voxel that the sphere overlaps is occupied; a voxel cut by the surface
    /// with filled fraction f (counted on an s×s×s sub-grid, s = `subsamples`) and outward normal n̂ (radial, taken at
    /// the voxel centre) carries the effective susceptibility tensor of a planar interface (`BoundaryVoxel`):
    /// tangential ε_t = f ε + (1 − f), normal 1/ε_n = f/ε + (1 − f). Σ f h³ is the sphere's volume to the sub-grid
    /// quantization. `gridShift` moves the grid by that many pitches (per axis) against the sphere.
    /// `isotropic`: the tensor's volume average χ_t I at every boundary voxel instead (the comparison case).
    public static func weightedSphere(center c: Point3, radius a: Double, pitch h: Double, material: Material,
                                      subsamples s: Int = 8, gridShift: Point3 = Point3(0, 0, 0), isotropic: Bool = false) throws -> VoxelTarget {
        try Check.positive(a, "radius"); try Check.inRange(s, 2, 16, "subsamples")
        let r = Point3(repeating: a + h), off = h * gridShift
        let half = 0.5 * 3.0.squareRoot() * h
        func fill(_ p: Point3) -> Double {
            let d0 = p - c, dist = (d0 * d0).sum().squareRoot()
            if dist + half <= a { return 1 }
            if dist - half > a { return 0 }
            var inside = 0
            for i in 0..<s { for j in 0..<s { for l in 0..<s {
                let o = h * (Point3(Double(i), Double(j), Double(l)) + 0.5) / Double(s) - Point3(repeating: h / 2)
                let d = p + o - c
                if (d * d).sum() <= a * a { inside += 1 }
            } } }
            return Double(inside) / Double(s * s * s)
        }
        var t = try voxelize(lo: c - r + off, hi: c + r + off, pitch: h, materials: [material]) { p in fill(p) > 0 ? 1 : 0 }
        var b: [BoundaryVoxel] = []
        for idx in t.occupiedIndices {
            let p = t.center(idx), f = fill(p)
            guard f < 1 else { continue }
            let d = p - c, n = (d * d).sum().squareRoot()
            b.append(BoundaryVoxel(index: idx, fill: f, normal: n > 0 ? d / n : Point3(0, 0, 1), isotropic: isotropic))
        }
        t.boundary = b
        return t
    }

    /// Homogeneous axis-aligned box of size (sx, sy, sz) metres centred at c.
    public static func box(center c: Point3, size s: Point3, pitch h: Double, material: Material) throws -> VoxelTarget {
        for i in 0..<3 { try Check.positive(s[i], "size[\(i)]") }
        return try voxelize(lo: c - s / 2, hi: c + s / 2, pitch: h, materials: [material]) { _ in 1 }
    }
}


/// One voxel cut by the target surface in the weighted discretization: filled fraction f ∈ (0, 1) of its cube and the
/// surface's unit normal n̂ there. With the material's contrast χ = ε − 1 the voxel's susceptibility is the tensor of a
/// planar interface averaged over the cube (E_t continuous → arithmetic mean of ε; D_n continuous → harmonic mean):
///
///     χ_eff = χ_t (I − n̂n̂ᵀ) + χ_n n̂n̂ᵀ,   χ_t = f χ,   χ_n = 1/(f/ε + 1 − f) − 1 = f χ/(1 + (1 − f) χ),
///
/// so that P̄ = χ_eff Ē relates the cube averages of polarization and field exactly for a planar cut. f → 1 gives χ I,
/// f → 0 gives 0. `isotropic`: χ_t I (the volume average only).
public struct BoundaryVoxel: Sendable, Equatable, Codable {
    /// Linear grid index of the voxel.
    public var index: Int
    public var fill: Double
    public var normal: Point3
    public var isotropic: Bool
    /// Memberwise initializer.
    public init(index: Int, fill: Double, normal: Point3, isotropic: Bool = false) {
        self.index = index; self.fill = fill; self.normal = normal; self.isotropic = isotropic
    }

    /// (χ_t, χ_n) of a planar cut with filled fraction f of a material of contrast χ.
    public static func effectiveContrast(chi: CDouble, fill f: Double) -> (tangential: CDouble, normal: CDouble) {
        let t = CDouble(f, 0) * chi
        let n = t / (CDouble(1, 0) + CDouble(1 - f, 0) * chi)
        return (t, n)
    }

    /// (χ_t, χ_n − χ_t) for this voxel: χ_eff = χ_t I + (χ_n − χ_t) n̂n̂ᵀ (the second is 0 when `isotropic`).
    public func tensorParts(chi: CDouble) -> (tangential: CDouble, normalExcess: CDouble) {
        let (t, n) = BoundaryVoxel.effectiveContrast(chi: chi, fill: fill)
        return (t, isotropic ? .zero : n - t)
    }
}
