import Arrays
import Foundation
import Linalg
import Numerics
import Testing
@testable import Scattering

/// The tiled, Tx-vectorized form-factor kernel of the alias-free Born solver sums every (r, t) entry over the cells in
/// the same order with the same operations as the scalar reference loop, so the two agree bit for bit. Cells cover
/// both sinc branches (θ = 0 from zero half-sizes, the series for |θ| < 1e-4, and the quotient), a block that is not a
/// multiple of the tile, and N_r ≠ N_t.
@Test func bornTiledFormFactorKernelIsBitIdenticalToTheReferenceLoop() throws {
    var rng = RandomSource(seed: 11, stream: 0)
    let b = 2 * BornSolver.formFactorTileCells + 13, nt = 9, nr = 6
    let pts = (0..<b).map { _ in Point3(rng.uniform(1.0, 3.0), rng.uniform(-0.5, 0.5), rng.uniform(-0.4, 0.2)) }
    let txPos = (0..<nt).map { i in Point3(0, 0.03 * Double(i) - 0.12, 0) }
    let rxPos = (0..<nr).map { i in Point3(0, 0, 0.03 * Double(i) - 0.08) }
    let pol = SIMD3<Double>(0, 0, 1), k = 2 * Double.pi / 0.06
    let half = (0..<b).map { i in i % 7 == 0 ? 0 : (i % 11 == 0 ? 1e-7 : rng.uniform(0.002, 0.02)) }
    let txT = PairTable(points: pts[...], antennas: txPos, polarization: pol, k0: k, dk: nil)
    let rxT = PairTable(points: pts[...], antennas: rxPos, polarization: pol, k0: k, dk: nil)
    let A = Matrix<CDouble>(rows: 3 * b, cols: nt) { _, _ in CDouble(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)) }
    let B = Matrix<CDouble>(rows: nr, cols: 3 * b) { _, _ in CDouble(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)) }
    let start = Matrix<CDouble>(rows: nr, cols: nt) { r, t in CDouble(Double(r) - 0.5, Double(t) * 0.25) }
    var ref = start, tiled = start
    BornSolver.accumulateFormFactor(A: A, B: B, tx: FormFactorHalf(table: txT, wavenumber: k, halfSize: half),
                                    rx: FormFactorHalf(table: rxT, wavenumber: k, halfSize: half), into: &ref)
    BornSolver.accumulateFormFactorTiled(A: A, B: B, tx: FormFactorHalf(table: txT, wavenumber: k, halfSize: half, antennaFastest: true),
                                         rx: FormFactorHalf(table: rxT, wavenumber: k, halfSize: half), into: &tiled)
    #expect(ref.data == tiled.data)
    #expect(ref.data != start.data)
    // The Tx-fastest layout holds the same values as the antenna-major one.
    let a = FormFactorHalf(table: txT, wavenumber: k, halfSize: half), f = FormFactorHalf(table: txT, wavenumber: k, halfSize: half, antennaFastest: true)
    for t in 0..<nt { for n in 0..<b {
        #expect(a.theta1[t * b + n] == f.theta1[n * nt + t] && a.sin2[t * b + n] == f.sin2[n * nt + t] && a.cos0[t * b + n] == f.cos0[n * nt + t])
    } }
}
