import Arrays
import Foundation
import Linalg
import Numerics

/// Surface (PO) and hybrid (PO + Born) channels of vehicles.
///
/// - `po`: the metal facets of the vehicle mesh as perfect conductors (`PhysicalOptics.channel`); tyres, glass and
///   seats are left out.
/// - `hybrid`: `po` plus the first-order Born channel of the non-metal voxels (tyre, glass, seat) of the usual
///   voxelization, H = H_PO(metal) + H_Born(dielectric). Neglected: coupling between the parts (the dielectric
///   illuminated by the field the metal scatters and vice versa) and multiple bounces; docs/physical-optics.md sizes
///   the first neglected coupling term on a test case.
public enum SurfaceScattering {
    /// Places `shape` exactly as `ExtendedTargetGenerator.place` (projected support centre of the voxelization at
    /// (range, azimuth)) and returns the voxel target together with the world-frame mesh moved by the same offset.
    public static func place(_ shape: VehicleShape, rangeM: Double, azimuthRad: Double, headingRad: Double,
                             materials: [Material], config c: some VehicleScene) throws -> (VoxelTarget, TriangleMesh) {
        try Check.positive(rangeM, "--range-m")
        let want = Point3(rangeM * Double.cos(azimuthRad), rangeM * Double.sin(azimuthRad), -c.arrayHeightM)
        var t = try shape.voxelize(position: want, headingRad: headingRad, pitch: c.voxelPitchM, materials: materials)
        let ctr = t.supportCenter
        let shift = Point3(want.x - ctr.x, want.y - ctr.y, 0)
        t.origin += shift
        return (t, shape.mesh().transformed(headingRad: headingRad, offset: want + shift))
    }

    /// Channel of a placed vehicle: PO of the metal facets, plus (hybrid) Born of the non-metal voxels of `target`
    /// (material index ≠ 1).
    public static func channel(mesh: TriangleMesh, target: VoxelTarget?, array: SensingArray, hybrid: Bool,
                               samplesPerWavelength spw: Double = PhysicalOptics.defaultSamplesPerWavelength,
                               shadowing: Bool = false, timing: PhysicalOpticsTiming? = nil) throws -> ChannelTensor {
        var H = try PhysicalOptics.channel(mesh: mesh, array: array, samplesPerWavelength: spw, shadowing: shadowing, timing: timing)
        if hybrid, var t = target {
            t.material = t.material.map { $0 == MeshPart.metal.rawValue ? 0 : $0 }
            if t.occupiedCount > 0 {
                let t0 = Date()
                let hb = try BornSolver.channel(target: t, array: array)
                timing?.bornSeconds += Date().timeIntervalSince(t0)
                for i in H.data.indices { H.data[i] += hb.data[i] }
            }
        }
        return H
    }
}

/// Targets of a single surface-solver channel (`isac scatter channel --solver po|hybrid`).
public enum SurfaceTarget: Sendable {
    /// A procedural vehicle drawn from `seed` (stream 0, as the volume-solver path of `scatter channel`).
    case vehicle(VehicleClass)
    /// PEC sphere of radius a (m), centre at (range, azimuth) in the array plane.
    case sphere(radiusM: Double)
    /// PEC box of size (x, y, z) m, centre at (range, azimuth) in the array plane.
    case box(size: Point3)
    /// A mesh file (metres × scale): rotated by the heading, its bounding-box centre put at (range, azimuth) and its
    /// lowest point on the ground z = −arrayHeightM.
    case mesh(TriangleMesh, path: String)
}

extension SurfaceScattering {
    /// One channel with the po/hybrid solver for `target` at (range, azimuth, heading); returns the channel, the
    /// placed mesh and (vehicles, hybrid meshes) the voxel target used for the non-metal Born part.
    public static func channel(target: SurfaceTarget, config c: some VehicleScene, rangeM: Double, azimuthRad: Double, headingRad: Double,
                               seed: UInt64, hybrid: Bool, timing: PhysicalOpticsTiming? = nil) throws -> (ChannelTensor, TriangleMesh, VoxelTarget?) {
        try c.validate()
        try Check.positive(rangeM, "--range-m")
        let array = try c.array()
        let spw = c.poSamplesPerWavelength ?? PhysicalOptics.defaultSamplesPerWavelength
        let ctr = Point3(rangeM * Double.cos(azimuthRad), rangeM * Double.sin(azimuthRad), 0)
        var rng = RandomSource(seed: seed, stream: 0)
        let mesh: TriangleMesh, vox: VoxelTarget?
        switch target {
        case let .vehicle(cls):
            let shape = VehicleShape.random(cls, scale: c.targetScale, rng: &rng)
            let mats = try c.materials.draw(&rng)
            let t0 = Date()
            (vox, mesh) = try place(shape, rangeM: rangeM, azimuthRad: azimuthRad, headingRad: headingRad, materials: mats, config: c)
            timing?.placeSeconds += Date().timeIntervalSince(t0)
        case let .sphere(a):
            let lam = c.shortestWavelengthM
            mesh = try .icosphere(radius: a, subdivisions: PhysicalOptics.sphereSubdivisions(radiusM: a, wavelengthM: lam), center: ctr)
            vox = nil
        case let .box(s):
            for i in 0..<3 { try Check.positive(s[i], "box size") }
            mesh = TriangleMesh.box(lo: -s / 2, hi: s / 2).transformed(headingRad: headingRad, offset: ctr)
            vox = nil
        case let .mesh(m, path):
            try m.validate(flag: "--mesh", source: path, maxEdgeM: PhysicalOptics.maxValidatedFacetEdgeWavelengths * c.shortestWavelengthM)
            let r = m.transformed(headingRad: headingRad, offset: .zero)
            let (lo, hi) = r.bounds
            let placed = r.transformed(headingRad: 0, offset: Point3(ctr.x - (lo.x + hi.x) / 2, ctr.y - (lo.y + hi.y) / 2, -c.arrayHeightM - lo.z))
            mesh = placed
            vox = hybrid && placed.parts.contains(where: { $0 != .metal })
                ? try placed.voxelize(pitch: c.voxelPitchM, materials: try c.materials.draw(&rng)) : nil
        }
        let H = try channel(mesh: mesh, target: vox, array: array, hybrid: hybrid, samplesPerWavelength: spw,
                            shadowing: c.poShadowing ?? false, timing: timing)
        return (H, mesh, vox)
    }
}
