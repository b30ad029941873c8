import Arrays
import Foundation
import Linalg
import Numerics
import Testing
@testable import Scattering

/// Size of the part-to-part coupling that the hybrid (PO metal + Born dielectric, summed) neglects, measured with the
/// VIE — which does couple everything — on a two-body scene it can solve: a metal-like cube (σ = 4 S/m) and a
/// dielectric cube (ε_r = 4 − 0.5j), each λ/1.3 on a side at λ/8 voxels, side by side 1 m from a 4 + 4 array:
/// coupling = ‖H_joint − H_metal − H_dielectric‖ / ‖H_joint‖ (docs/physical-optics.md quotes the numbers).
private func couplingFraction(gapVoxels g: Int) throws -> Double {
    let f = 4.9e9, h = speedOfLight / f / 8, n = 6
    let array = try SensingArray.cross(antennas: 4, carrierHz: f, subcarriers: 1)
    let metal = try Material(name: "metal", relativePermittivity: CDouble(1, 0), conductivity: 4)
    let diel = try Material(name: "dielectric", relativePermittivity: CDouble(4, -0.5), conductivity: 0)
    let w = Double(n) * h, total = Double(2 * n + g) * h
    let lo = Point3(1, -total / 2, -w / 2) + Point3(repeating: h / 2), hi = Point3(1 + w, total / 2, w / 2) - Point3(repeating: h / 2)
    func scene(_ keep: Set<UInt8>) throws -> VoxelTarget {
        try VoxelTarget.voxelize(lo: lo, hi: hi, pitch: h, materials: [metal, diel]) { p in
            let y = p.y + total / 2
            let m: UInt8 = y < w ? 1 : (y > w + Double(g) * h ? 2 : 0)
            return keep.contains(m) ? m : 0
        }
    }
    let joint = try VIESolver.channel(target: scene([1, 2]), array: array, tolerance: 1e-8).channel
    let a = try VIESolver.channel(target: scene([1]), array: array, tolerance: 1e-8).channel
    let b = try VIESolver.channel(target: scene([2]), array: array, tolerance: 1e-8).channel
    let d = joint.data.indices.reduce(0) { $0 + (joint.data[$1] - a.data[$1] - b.data[$1]).lengthSquared }.squareRoot()
    return d / joint.norm
}

@Test func hybridNeglectedCouplingDecaysWithSeparation() throws {
    let near = try couplingFraction(gapVoxels: 1), far = try couplingFraction(gapVoxels: 16)
    #expect(near > far, "coupling \(near) (gap λ/8) vs \(far) (gap 2λ)")
    #expect(near < 1)
}
