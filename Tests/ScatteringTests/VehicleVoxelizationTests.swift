import Arrays
import Foundation
import Linalg
import Numerics
import Testing
@testable import Scattering

// Weighted voxelization of vehicles (`VehicleVoxelization`) and the fixed feature pitch (issue 14).

private func carShape(seed: UInt64 = 3, scale: Double = 0.1) -> VehicleShape {
    var rng = RandomSource(seed: seed, stream: 0)
    return VehicleShape.random(.car, scale: scale, rng: &rng)
}

private func carMaterials() throws -> [Material] {
    var rng = RandomSource(seed: 9, stream: 1)
    return try MaterialRanges().draw(&rng)
}

@Test func weightedCellOfAHalfSpaceHasTheExactFillAndNormal() throws {
    // Half-space n̂·(x − p) ≤ d through a unit-pitch voxel at the origin: the 8³ sub-sample fill is the plane's
    // volume fraction of the cube to the sub-grid quantization, and c_empty − c_filled points along +n̂.
    let n = Point3(0.48, -0.36, 0.8)          // unit: 0.2304 + 0.1296 + 0.64 = 1
    for d in [-0.3, -0.1, 0.05, 0.2] {
        let cell = VehicleVoxelization.sample(at: Point3(0, 0, 0), pitch: 1, subsamples: 8) { p in (p * n).sum() <= d ? 1 : 0 }
        // Independent fill: the same plane on a 64³ midpoint grid.
        var inside = 0
        let m = 64
        for i in 0..<m { for j in 0..<m { for l in 0..<m {
            let p = (Point3(Double(i), Double(j), Double(l)) + 0.5) / Double(m) - 0.5
            if (p * n).sum() <= d { inside += 1 }
        } } }
        let exact = Double(inside) / Double(m * m * m)
        #expect(abs(cell.fill - exact) < 0.02, "d = \(d): fill \(cell.fill) vs \(exact)")
        let s = cell.separation, len = (s * s).sum().squareRoot()
        #expect(len >= 0.25, "a single planar cut must be classified as one interface (|Δc| = \(len))")
        #expect(((s / len) * n).sum() > 0.97, "normal \(s / len) vs \(n)")
    }
    // A slab thinner than the voxel through its middle: two interfaces, |Δc| ≈ 0 → isotropic boundary voxel.
    let slab = VehicleVoxelization.sample(at: Point3(0, 0, 0), pitch: 1, subsamples: 8) { p in abs(p.z) <= 0.2 ? 1 : 0 }
    let b = VehicleVoxelization.boundary([slab], pitch: 1)
    #expect(b.count == 1 && b[0].isotropic && abs(b[0].fill - 0.5) < 1e-12)   // 4 of the 8 sub-layers
}

@Test func weightedCarVolumeMatchesAFineStaircaseReference() throws {
    // One car (0.1 scale) with its features fixed at hf = 2 cm, voxelized at h = 2 cm: Σ f h³ (weighted) against
    // the staircase volume at h/5 (an independent, O(h/5)-accurate estimate of the same continuous body).
    let shape = carShape(), mats = try carMaterials(), hf = 0.02, h = 0.02
    let pos = Point3(5, 0, -1.5)
    let w = try shape.voxelize(position: pos, headingRad: 0.4, pitch: h, materials: mats, featurePitchM: hf,
                               voxelization: .weighted(subsamples: 8))
    let fine = try shape.voxelize(position: pos, headingRad: 0.4, pitch: h / 5, materials: mats, featurePitchM: hf)
    let stair = try shape.voxelize(position: pos, headingRad: 0.4, pitch: h, materials: mats, featurePitchM: hf)
    let h3 = h * h * h
    let partial = Dictionary(uniqueKeysWithValues: w.boundary.map { ($0.index, $0.fill) })
    let vWeighted = w.occupiedIndices.reduce(0.0) { $0 + (partial[$1] ?? 1) * h3 }
    let vFine = Double(fine.occupiedCount) * pow(h / 5, 3), vStair = Double(stair.occupiedCount) * h3
    let eW = abs(vWeighted - vFine) / vFine, eS = abs(vStair - vFine) / vFine
    print("car volume: weighted \(vWeighted), staircase \(vStair), fine \(vFine); errors \(eW) / \(eS)")
    #expect(eW < 0.03, "weighted volume error \(eW) (staircase \(eS))")
    #expect(eW < eS, "weighted \(eW) must beat staircase \(eS) at the same pitch")
    for b in w.boundary {
        #expect(b.fill > 0 && b.fill < 1 && w.material[b.index] != 0)
        #expect(abs((b.normal * b.normal).sum() - 1) < 1e-12)
    }
    #expect(w.boundary.contains { !$0.isotropic } && w.boundary.contains { $0.isotropic })
}

@Test func featurePitchDefaultsToThePitchAndBornRefusesWeightedVoxels() throws {
    let shape = carShape(), mats = try carMaterials(), pos = Point3(5, 1, -1.5)
    let a = try shape.voxelize(position: pos, headingRad: 1.1, pitch: 0.012, materials: mats)
    let b = try shape.voxelize(position: pos, headingRad: 1.1, pitch: 0.012, materials: mats, featurePitchM: 0.012)
    #expect(a == b)
    // The shell is 1.2 × the feature pitch thick: a thicker feature pitch gives more metal voxels at the same pitch.
    let c = try shape.voxelize(position: pos, headingRad: 1.1, pitch: 0.012, materials: mats, featurePitchM: 0.02)
    #expect(c.occupiedCount > a.occupiedCount)
    #expect(throws: ISACError.self) { try shape.voxelize(position: pos, headingRad: 0, pitch: 0.012, materials: mats, featurePitchM: -1) }
    let w = try shape.voxelize(position: pos, headingRad: 0, pitch: 0.012, materials: mats, voxelization: .weighted(subsamples: 4))
    let array = try SensingArray.cross(antennas: 4, carrierHz: 4.9e9, subcarriers: 1, subcarrierSpacingHz: 20e6)
    #expect(throws: ISACError.self) { try BornSolver.channel(target: w, array: array) }
}
