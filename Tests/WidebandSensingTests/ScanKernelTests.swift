import Testing
import Foundation
import Numerics
@testable import WidebandSensing
import Estimation
import Linalg

// Issue 17 speed work: the scan fills and Gram columns call glibc's sincos and use the exact
// element symmetry x_{N−1−i} = −x_i; both must leave every value bit for bit unchanged.

@Test func libmSinCosIsBitIdenticalToSinAndCos() {
    var rng = RandomSource(seed: 171, stream: 0)
    var mismatches = 0, oddEven = 0
    LibmSinCos.withEvaluator { sc in
        for i in 0..<200_000 {
            // Small, moderate and scan-sized arguments (k r up to ≈ 3·10⁴ rad).
            let scale = [1e-3, 1.0, 30.0, 3e4][i % 4]
            let x = (rng.uniform() - 0.5) * 2 * scale
            let v = sc(x)
            if v.sin != Double.sin(x) || v.cos != Double.cos(x) { mismatches += 1 }
            let w = sc(-x)
            if w.sin != -v.sin || w.cos != v.cos { oddEven += 1 }
        }
    }
    #expect(mismatches == 0)
    #expect(oddEven == 0 || !LibmSinCos.isOddEven)
}

/// NB-NF pseudo-spectrum against the same pipeline written with Double.cos/Double.sin per entry:
/// equal bit for bit (same steering values, same GEMM shape, same spectrum formula).
@Test func nbnfScanIsBitIdenticalToDirectLibmEvaluation() throws {
    let s = try WidebandSystem(antennas: 15, carrierHz: 28e9, bandwidthHz: 122.88e6, subcarriers: 8)
    var rng = RandomSource(seed: 172, stream: 0)
    let y = try s.simulate(targets: [PolarTarget(rangeMeters: 2.2, angleRad: 1.4)], snapshots: 3, snrDb: 10, rng: &rng).data
    let us = try Localizer.narrowbandSubspace(system: s, observation: y, targets: 1)
    let grid = try ScanGrid.uniform(rMin: 0.7, rMax: 30, rangeCount: 23, angleCount: 17)
    let spec = Localizer.narrowbandNearFieldSpectrum(system: s, signalSubspace: us, grid: grid)
    let n = s.antennas, k = s.carrierWavenumber, offs = s.elementOffsetsMeters
    for (t, th) in grid.anglesRad.enumerated() {
        let c = Double.cos(th)
        var a = Matrix<CDouble>(rows: n, cols: grid.rangesMeters.count)
        for (j, rr) in grid.rangesMeters.enumerated() { for i in 0..<n {
            let x = offs[i]
            let ph = -k * (rr * rr + x * x - 2 * rr * x * c).squareRoot()
            a.data[i + j * n] = CDouble(Double.cos(ph), Double.sin(ph))
        } }
        var proj = Matrix<CDouble>(rows: us.cols, cols: a.cols)
        Matrix.gemm(.conjugateTranspose, us, .none, a, into: &proj)
        #expect(spec.values[t] == MUSIC.spectrum(projections: proj, steeringNormSquared: Double(n)))
    }
}

/// The closed-form Gram column (sincos inside) equals the explicit inner products of the dictionary.
@Test func gramColumnWithSinCosMatchesExplicitInnerProducts() throws {
    let s = try WidebandSystem(antennas: 17, carrierHz: 28e9, bandwidthHz: 122.88e6, subcarriers: 12)
    let grid = try AngleDistanceGrid.make(.hybridMin, system: s, options: GridOptions(minRangeMeters: 0.5))
    let b = grid.dictionary(system: s)
    let dist = grid.points.map { s.elementDistances(rangeMeters: $0.rangeMeters, angleRad: $0.angleRad) }
    for q in [0, grid.count / 3, grid.count - 1] {
        let g = DictionaryCoherence.gramColumn(system: s, distances: dist, column: q)
        let ref = b.apply(b.column(q), .conjugateTranspose)
        for j in 0..<grid.count { #expect((g[j] - ref[j]).magnitude < 1e-12) }
    }
}
