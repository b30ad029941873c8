import Arrays
import ExtendedDatasets
import Foundation
import Linalg
import Numerics
import Testing
@testable import Scattering

@Test func hugeTargetIsAClearErrorNotAnOverflow() throws {
    let m = try Material(name: "m", relativePermittivity: CDouble(2, 0), conductivity: 0)
    do {
        _ = try VoxelTarget.box(center: Point3(0, 0, 0), size: Point3(4e12, 2e12, 1e12), pitch: 0.03, material: m)
        Issue.record("expected an error")
    } catch let ISACError.invalidParameter(name, _, _) {
        #expect(name.contains("target-scale"))
    }
}

@Test func hugeGMRESRestartIsCappedAtTheDimension() {
    // A restart far beyond n must not allocate an (m + 1) × m Hessenberg: the Krylov space is capped at n.
    var rng = RandomSource(seed: 2, stream: 0)
    var A = rng.complexGaussianMatrix(rows: 8, cols: 8, variance: 0.05)
    for i in 0..<8 { A[i, i] += CDouble(1, 0) }
    let b = rng.complexGaussianVector(8)
    let r = GMRES.solve({ A.apply($0) }, b: b, tolerance: 1e-10, restart: 1 << 40, maxIterations: 50)
    #expect(r.converged && r.iterations <= 8)
}

@Test func presetsOutsideTheValidatedRangeWarn() throws {
    let born = try DatasetConfig.preset("small", solver: .born, seed: 1)
    #expect(born.accuracyWarning == nil)                    // λ/2 with the cube quadrature is inside
    let vie = try DatasetConfig.preset("small", solver: .vie, seed: 1)
    let w = try #require(vie.accuracyWarning)               // λ/6 < the validated 10 voxels/λ
    #expect(w.contains("WARNING") && w.contains("vie"))
    var fine = vie
    fine.voxelPitchM = vie.shortestWavelengthM / 12
    #expect(fine.accuracyWarning == nil)
}
