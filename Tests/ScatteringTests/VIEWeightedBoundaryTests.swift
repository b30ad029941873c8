import Arrays
import Foundation
import Linalg
import Numerics
import Testing
@testable import Scattering

// Weighted discretization of boundary voxels (issue 14, fourth session): anisotropic effective susceptibility.

@Test func weightedBoundaryTensorIsThePlanarInterfaceAverage() throws {
    // A cube cut by a plane ⊥ n̂ with filled fraction f is a two-layer laminate along n̂. Independent path: integrate
    // the layered profile ε(s) (s along n̂, ε inside the first f of the cell, 1 beyond) by the midpoint rule:
    // tangential E continuous → ε_t = ∫ε ds, normal D continuous → 1/ε_n = ∫ ds/ε. Compare χ_t = ε_t − 1, χ_n = ε_n − 1.
    for eps in [CDouble(4, -1), CDouble(12, -8), CDouble(2.25, 0), CDouble(1, -300)] {
        let chi = eps - CDouble(1, 0)
        for f in [0.0, 0.125, 0.3, 0.5, 0.77, 1.0] {
            let n = 4000
            var mean = CDouble.zero, inv = CDouble.zero
            for i in 0..<n {
                let s = (Double(i) + 0.5) / Double(n)
                let e = s < f ? eps : CDouble(1, 0)
                mean += e / CDouble(Double(n), 0); inv += (CDouble(1, 0) / e) / CDouble(Double(n), 0)
            }
            let (t, nn) = BoundaryVoxel.effectiveContrast(chi: chi, fill: f)
            let tRef = mean - CDouble(1, 0), nRef = CDouble(1, 0) / inv - CDouble(1, 0)
            // Midpoint quantization of f is exact here (f·n is an integer for every f above).
            #expect((t - tRef).length <= 1e-9 * max(1, tRef.length))
            #expect((nn - nRef).length <= 1e-9 * max(1, nRef.length))
        }
        // Limits: f = 1 → χ I (no anisotropy), f = 0 → 0.
        let full = BoundaryVoxel(index: 0, fill: 1, normal: Point3(0, 0, 1)).tensorParts(chi: chi)
        #expect((full.tangential - chi).length < 1e-14 * chi.length && full.normalExcess.length < 1e-14 * chi.length)
        let empty = BoundaryVoxel.effectiveContrast(chi: chi, fill: 0)
        #expect(empty.tangential.length == 0 && empty.normal.length == 0)
    }
}

@Test func weightedSphereKeepsTheVolumeAndItsOperatorAppliesTheTensor() throws {
    let m = try Material(name: "m", relativePermittivity: CDouble(4, -1), conductivity: 0)
    let a = 0.31, h = 0.1
    let t = try VoxelTarget.weightedSphere(center: Point3(0.02, 0, 0), radius: a, pitch: h, material: m, gridShift: Point3(0.1, -0.2, 0.3))
    // Σ f h³ = the sphere's volume to the 8³ sub-grid quantization (≈ 1 %).
    let boundary = Dictionary(uniqueKeysWithValues: t.boundary.map { ($0.index, $0.fill) })
    let vol = t.occupiedIndices.reduce(0.0) { $0 + (boundary[$1] ?? 1) } * t.voxelVolume
    #expect(abs(vol / (4 * Double.pi * a * a * a / 3) - 1) < 0.02)
    #expect(!t.boundary.isEmpty && t.boundary.allSatisfy { $0.fill > 0 && $0.fill < 1 && abs(($0.normal * $0.normal).sum() - 1) < 1e-12 })
    // The operator applies χ_eff = χ_t I + (χ_n − χ_t) n̂n̂ᵀ: (I − Tχ_eff)x = x − T(χ_eff x), with T from an operator of unit
    // contrast (FCD's self term does not depend on χ) and χ_eff x formed here from the closed form.
    let k = 2 * Double.pi
    let op = try VIEOperator(target: t, wavenumber: k, contrast: t.contrastGrid(frequencyHz: speedOfLight), discretization: .fcd)
    var plain = t; plain.boundary = []
    let unit = try VIEOperator(target: plain, wavenumber: k, contrast: plain.contrastGrid(frequencyHz: speedOfLight).map { $0 == .zero ? .zero : CDouble(1, 0) },
                               discretization: .fcd)
    var rng = RandomSource(seed: 7, stream: 2)
    let x = rng.complexGaussianVector(op.dimension)
    let chi = m.contrast(frequencyHz: speedOfLight)
    var p = [CDouble](repeating: .zero, count: x.count)
    for (n, idx) in op.occupied.enumerated() {
        guard let bv = t.boundary.first(where: { $0.index == idx }) else { for c in 0..<3 { p[3 * n + c] = chi * x[3 * n + c] }; continue }
        let (ct, cn) = BoundaryVoxel.effectiveContrast(chi: chi, fill: bv.fill)
        let u = bv.normal
        let un = CDouble(u.x, 0) * x[3 * n] + CDouble(u.y, 0) * x[3 * n + 1] + CDouble(u.z, 0) * x[3 * n + 2]
        for c in 0..<3 { p[3 * n + c] = ct * (x[3 * n + c] - un * CDouble(u[c], 0)) + cn * un * CDouble(u[c], 0) }
    }
    let tp = unit.scatteredPart(p), y = op.apply(x)
    var num = 0.0, den = 0.0
    for i in x.indices { num += (y[i] - (x[i] - tp[i])).lengthSquared; den += y[i].lengthSquared }
    #expect((num / den).squareRoot() < 1e-12)
    for i in x.indices { #expect((op.polarize(x)[i] - p[i]).length <= 1e-12 * max(1, p[i].length)) }
}

@Test func weightedSpherePreconditionersSolveTheSameSystem() throws {
    // Jacobi's 3 × 3 inverse on the anisotropic voxels and the block preconditioner with tensor couplings must give the
    // unpreconditioned channel (same system) to the GMRES tolerance.
    let m = try Material(name: "m", relativePermittivity: CDouble(6, -2), conductivity: 0.5)
    let arr = try SensingArray.cross(antennas: 2, carrierHz: 4.9e9, subcarriers: 2, subcarrierSpacingHz: 20e6)
    let t = try VoxelTarget.weightedSphere(center: Point3(1.2, 0.1, 0), radius: 0.02, pitch: 0.0061, material: m)
    let (hn, _) = try VIESolver.channel(target: t, array: arr, tolerance: 1e-9, restart: 100, preconditioner: .none)
    let (hj, sj) = try VIESolver.channel(target: t, array: arr, tolerance: 1e-9, restart: 100, preconditioner: .jacobi)
    let (hb, _) = try VIESolver.channel(target: t, array: arr, tolerance: 1e-9, restart: 100, preconditioner: .block)
    #expect(relativeChannelError(hj, reference: hn) < 1e-6)
    #expect(relativeChannelError(hb, reference: hn) < 1e-6)
    #expect(sj.allSatisfy { $0.maxRelativeResidual <= 1.5e-9 })
    // The boundary data matter: dropping them changes the channel by far more than the tolerance.
    var plain = t; plain.boundary = []
    let (hp, _) = try VIESolver.channel(target: plain, array: arr, tolerance: 1e-9, restart: 100)
    #expect(relativeChannelError(hp, reference: hn) > 1e-3)
}

@Test func weightedSphereMeetsTheIssueTargetsAtTenVoxelsPerWavelength() throws {
    // vs the exact Mie series. Issue targets: far field (ka 2, ε_r 4 − 1j) ≤ 0.06 at 10 voxels/λ; near-field channel
    // ≤ 0.08 at λ/20 — asserted here at the coarser λ/10 (debug time), where the weighted sphere measures 0.033.
    let disc = try VIEDiscretization.named("fcd-cube")
    let far = try ScatterValidation.sphereFarField(solver: "vie", voxelsPerWavelength: 10, discretization: disc, voxelization: .weighted)
    #expect(far.relativeError <= 0.06, "far \(far.relativeError)")
    let stair = try ScatterValidation.sphereFarField(solver: "vie", voxelsPerWavelength: 10, discretization: disc)
    #expect(far.relativeError < stair.relativeError)
    let near = try ScatterValidation.sphereChannel(solver: "vie", voxelsPerWavelength: 10, discretization: disc, voxelization: .weighted)
    #expect(near.relativeError <= 0.08, "near \(near.relativeError)")
}
