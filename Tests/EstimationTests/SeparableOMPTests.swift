import Testing
import Foundation
import Numerics
import Arrays
import Estimation
import Linalg

/// Separable (angle × delay) OMP on a noise-free sum of two dictionary atoms: the pursuit must pick exactly
/// those atoms, the LS gains must equal the true ones, and the residual must vanish.
@Test func separableOMPRecoversOnGridAtoms() throws {
    let g = try ArrayGeometry.ula(count: 12, spacingMeters: 0.5)
    let th = Steering.uniformGrid(-0.6, 0.6, count: 25)
    let tau = Steering.uniformGrid(0, 1e-6, count: 20)
    let dict = try OMPDictionary(angleAtoms: Steering.linearMatrix(g, anglesRad: th, wavelengthMeters: 1), anglesRad: th,
                                 delayAtoms: Steering.delayMatrix(delaysSeconds: tau, subcarriers: 24, spacingHz: 1e6),
                                 delaysSeconds: tau)
    let truth = [(i: 4, j: 3, gain: CDouble(2, -1)), (i: 19, j: 14, gain: CDouble(-0.5, 1.5))]
    var y = Matrix<CDouble>(rows: 12, cols: 24)
    for t in truth {
        let a = dict.angleAtoms.column(t.i), r = dict.delayAtoms.column(t.j)
        for s in 0..<24 { for k in 0..<12 { y[k, s] += t.gain * a[k] * r[s] } }
    }
    let res = try OMP.run(observation: y, dictionary: dict, threshold: 1e-9, maxIterations: 5)
    #expect(Set(zip(res.angleIndices, res.delayIndices).map { [$0, $1] }) == Set(truth.map { [$0.i, $0.j] }))
    for (n, (i, j)) in zip(res.angleIndices, res.delayIndices).enumerated() {
        let t = truth.first { $0.i == i && $0.j == j }!
        #expect((res.gains[n] - t.gain).length < 1e-9)
    }
    // Stopped by the threshold after two atoms: the third peak is numerically zero.
    #expect(res.peaks.count == 3 && res.peaks[2] < 1e-9)
    #expect(throws: ISACError.self) { try OMP.run(observation: y, dictionary: dict, threshold: -1, maxIterations: 1) }
}

/// The ULA steering helpers against their closed forms.
@Test func linearSteeringAndDelayAtomsMatchClosedForms() throws {
    let g = try ArrayGeometry.ula(count: 7, spacingMeters: 0.3)
    let lam = 0.6, th = 0.4
    let a = Steering.linear(g, angleRad: th, wavelengthMeters: lam)
    let m = Steering.linearMatrix(g, anglesRad: [th, -1.1], wavelengthMeters: lam)
    for (k, p) in g.positions.enumerated() {
        let ph = -2 * Double.pi * p.x * Foundation.sin(th) / lam
        #expect((a[k] - CDouble(Foundation.cos(ph), Foundation.sin(ph))).length < 1e-12)
        #expect((m[k, 0] - a[k]).length < 1e-12)
    }
    let rho = Steering.delay(delaySeconds: 3e-7, subcarriers: 9, spacingHz: 2e5)
    for s in 0..<9 {
        let ph = -2 * Double.pi * Double(s) * 2e5 * 3e-7
        #expect((rho[s] - CDouble(Foundation.cos(ph), Foundation.sin(ph))).length < 1e-12)
    }
    let grid = Steering.uniformGrid(-1, 2, count: 4)
    #expect(grid == [-1, 0, 1, 2])
}

/// The pre-0.7 OMP path, kept as the reference of the fused one: the residual map is materialised after every
/// atom as C(Ỹ) − U diag(α) Vᵀ by one GEMM into a copy of C(Ỹ), then re-scanned for its maximum.
private func referenceOMP(_ y: Matrix<CDouble>, _ d: OMPDictionary, maxIterations: Int)
    throws -> (angle: [Int], delay: [Int], peaks: [Double], gains: [CDouble]) {
    let initial = Matrix.matmul(d.angleAtoms, Matrix.matmul(y, d.conjugateDelayAtoms), transA: .conjugateTranspose)
    var map = initial
    var aa: [[CDouble]] = [], rr: [[CDouble]] = [], u: [[CDouble]] = [], v: [[CDouble]] = [], rhs: [CDouble] = []
    var gains: [CDouble] = [], ai: [Int] = [], di: [Int] = [], peaks: [Double] = []
    while ai.count < maxIterations {
        var best = -1.0, bi = 0
        for k in 0..<map.data.count where map.data[k].lengthSquared > best { best = map.data[k].lengthSquared; bi = k }
        peaks.append(best)
        let i = bi % map.rows, j = bi / map.rows
        ai.append(i); di.append(j)
        let a = d.angleAtoms.column(i), rho = d.delayAtoms.column(j)
        aa.append(a); rr.append(rho)
        u.append(d.angleAtoms.apply(a, .conjugateTranspose)); v.append(d.delayAtoms.apply(rho, .conjugateTranspose))
        let yr = y.apply(rho.map { $0.conjugate })
        rhs.append(zip(a, yr).reduce(CDouble.zero) { $0 + $1.0.conjugate * $1.1 })
        let n = ai.count
        var g = Matrix<CDouble>(rows: n, cols: n)
        for t in 0..<n { for s in 0..<n {
            let p = zip(aa[t], aa[s]).reduce(CDouble.zero) { $0 + $1.0.conjugate * $1.1 }
            let q = zip(rr[t], rr[s]).reduce(CDouble.zero) { $0 + $1.0.conjugate * $1.1 }
            g[t, s] = p * q
        } }
        gains = try g.solve(Matrix(rows: n, cols: 1, data: rhs)).data
        var ua = Matrix<CDouble>(rows: d.angleAtoms.cols, cols: n)
        for t in 0..<n { ua.setColumn(t, u[t].map { $0 * gains[t] }) }
        map = initial
        Matrix.gemm(.none, ua, .transpose, Matrix<CDouble>(columns: v), alpha: CDouble(-1, 0), beta: .one, into: &map)
    }
    return (ai, di, peaks, gains)
}

/// The fused residual-map OMP (`OMPState.peak` without a materialised map) against the pre-0.7 materialised path
/// on 60 random cases (sparse on-grid scenes of 1–6 atoms in noise at several SNRs, and noise alone, T_max = 6):
/// identical picks (angle and delay indices) in identical order, peaks and gains equal to 1e-10 relative.
/// The two paths differ only in floating-point summation order (one GEMM vs an explicit sum over the I atoms).
@Test func fusedOMPPicksIdenticalAtomsAsMaterialisedReference() throws {
    let g = try ArrayGeometry.ula(count: 16, spacingMeters: 0.5)
    let th = Steering.uniformGrid(-0.9, -0.2, count: 90)
    let tau = Steering.uniformGrid(0, 0.9e-6, count: 40)             // within the unambiguous 1/Δf = 1 µs (no duplicate atoms)
    let dict = try OMPDictionary(angleAtoms: Steering.linearMatrix(g, anglesRad: th, wavelengthMeters: 1), anglesRad: th,
                                 delayAtoms: Steering.delayMatrix(delaysSeconds: tau, subcarriers: 32, spacingHz: 1e6),
                                 delaysSeconds: tau)
    var rng = RandomSource(seed: 19)
    var compared = 0
    for c in 0..<60 {
        var y = rng.complexGaussianMatrix(rows: 16, cols: 32, variance: [1, 0.1, 0.01][c % 3])
        let atoms = c % 10 == 9 ? 0 : 1 + c % 6
        for _ in 0..<atoms {
            let i = Int(rng.uniform() * 90) % 90, j = Int(rng.uniform() * 40) % 40
            let gain = rng.complexGaussian()
            let a = dict.angleAtoms.column(i), r = dict.delayAtoms.column(j)
            for s in 0..<32 { for k in 0..<16 { y[k, s] += gain * a[k] * r[s] } }
        }
        let ref = try referenceOMP(y, dict, maxIterations: 6)
        let res = try OMP.run(observation: y, dictionary: dict, threshold: 0, maxIterations: 6)
        #expect(res.angleIndices == ref.angle, "case \(c)")
        #expect(res.delayIndices == ref.delay, "case \(c)")
        #expect(res.peaks.count == ref.peaks.count)
        for (p, q) in zip(res.peaks, ref.peaks) { #expect(abs(p - q) <= 1e-10 * max(q, 1e-300), "case \(c)") }
        let gs = ref.gains.map(\.length).max() ?? 1
        for (p, q) in zip(res.gains, ref.gains) { #expect((p - q).length <= 1e-10 * gs, "case \(c)") }
        // The on-request map equals the reference map after the last atom (same factors, different sum order).
        var st = try OMPState(observation: y, dictionary: dict)
        for (i, j) in zip(ref.angle, ref.delay) { try st.add(angleIndex: i, delayIndex: j) }
        let full = st.residualMap
        var maxRel = 0.0
        let scale = st.initialMap.data.map(\.length).max() ?? 1
        for j in 0..<40 { for i in 0..<90 { maxRel = max(maxRel, (full[i, j] - st.residualMapEntry(i, j)).length / scale) } }
        #expect(maxRel == 0)
        compared += 1
    }
    #expect(compared == 60)
}

/// The four-cells-at-a-time `peak()` against a scalar scan of `residualMapEntry` (the per-cell arithmetic of the
/// earlier scalar loop): the same value bit for bit and the same first-maximum index, on grids whose N_θ is not a
/// multiple of 4 (tail cells), with repeated angles and delays (exact ties across lanes, blocks and columns), and
/// on an all-zero observation (every cell ties at 0).
@Test func vectorisedPeakEqualsScalarScanBitwise() throws {
    var rng = RandomSource(seed: 23)
    for c in 0..<24 {
        let nTheta = [16, 17, 18, 19][c % 4] + c, nTau = 7 + c % 5
        let g = try ArrayGeometry.ula(count: 8, spacingMeters: 0.5)
        var th = Steering.uniformGrid(-1.0, 1.0, count: nTheta)
        var tau = Steering.uniformGrid(0, 0.8e-6, count: nTau)
        if c % 2 == 1 { th[nTheta - 1] = th[1]; th[5] = th[2]; tau[nTau - 1] = tau[0] }   // duplicate atoms: exact ties
        let dict = try OMPDictionary(angleAtoms: Steering.linearMatrix(g, anglesRad: th, wavelengthMeters: 1), anglesRad: th,
                                     delayAtoms: Steering.delayMatrix(delaysSeconds: tau, subcarriers: 12, spacingHz: 1e6),
                                     delaysSeconds: tau)
        let y = c == 0 ? Matrix<CDouble>(rows: 8, cols: 12) : rng.complexGaussianMatrix(rows: 8, cols: 12)
        var st = try OMPState(observation: y, dictionary: dict)
        for step in 0..<5 {
            var best = -1.0, bi = 0
            for j in 0..<nTau {
                for i in 0..<nTheta {
                    let e = st.residualMapEntry(i, j)
                    let v = e.real * e.real + e.imaginary * e.imaginary
                    if v > best { best = v; bi = i + j * nTheta }
                }
            }
            let pk = st.peak()
            #expect(pk.value.bitPattern == best.bitPattern, "case \(c) step \(step)")
            #expect(pk.angleIndex == bi % nTheta && pk.delayIndex == bi / nTheta, "case \(c) step \(step)")
            if c == 0 { break }
            // Distinct, non-duplicated delay atoms (j = 1…5 < N_τ − 1): the Gram stays regular.
            try st.add(angleIndex: [0, 3, 4, 6, 7][step] + c % 3, delayIndex: 1 + step)
        }
    }
}
