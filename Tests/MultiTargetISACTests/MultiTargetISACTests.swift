import Testing
import Foundation
import Linalg
import Numerics
import Arrays
import Metrics
import Waveforms
@testable import MultiTargetISAC
import Estimation

private func smallConfig() -> MultiTargetConfig {
    var c = MultiTargetConfig()
    c.antennas = 16; c.subcarriers = 32; c.angleGridSize = 64; c.delayGridSize = 40; c.maxTargets = 3
    return c
}

@Test func steeringMatrixMatchesFarFieldAndPaperFormula() {
    let lam = speedOfLight / 60e9
    var rng = RandomSource(seed: 1)
    let imp = ArrayImpairment.random(antennas: 8, wavelengthMeters: lam, stdMeters: lam / 25, model: .perElement, rng: &rng)
    let th = [-0.7, 0.1, 0.4]
    let m = Steering.linearMatrix(imp.geometry, anglesRad: th, wavelengthMeters: lam)
    for (j, t) in th.enumerated() {
        let v = Steering.linear(imp.geometry, angleRad: t, wavelengthMeters: lam)
        for k in 0..<8 {
            // Paper Example 1: exp(−j2π(k − (K−1)/2) d_k sin θ / λ).
            let ph = -2 * Double.pi * (Double(k) - 3.5) * imp.spacingsMeters[k] * sin(t) / lam
            #expect((m[k, j] - CDouble(cos(ph), sin(ph))).length < 1e-9)
            #expect((v[k] - m[k, j]).length < 1e-9)
        }
    }
}

@Test func lsBeamformerSolvesNormalEquationsAndMatchesPattern() throws {
    let lam = speedOfLight / 60e9
    let g = ArrayImpairment.nominal(antennas: 16, wavelengthMeters: lam).geometry
    let grid = Steering.uniformGrid(-.pi / 2, .pi / 2, count: 181)
    let a = Steering.linearMatrix(g, anglesRad: grid, wavelengthMeters: lam)
    let sec = try AngularSector(lowerDeg: -40, upperDeg: -20)
    let f = try Beamformer.leastSquares(steering: a, gridAnglesRad: grid, interval: sec, normalize: false)
    // Normal equations (A* Aᵀ) f = A* b, i.e. Aᴴᵀ residual = 0: A* (b − Aᵀ f) = 0.
    let b = Beamformer.desiredPattern(gridAnglesRad: grid, interval: sec, antennas: 16)
    let r = zip(b, a.apply(f, .transpose)).map { $0 - $1 }
    let conjA = Matrix(rows: a.rows, cols: a.cols, data: a.data.map { $0.conjugate })
    let ne = conjA.apply(r)
    #expect(norm2(ne) < 1e-8 * norm2(b))
    // Same as the generic LAPACK least-squares solve.
    let ref = try a.transposed.leastSquares(Matrix(rows: b.count, cols: 1, data: b)).data
    #expect(norm2(zip(ref, f).map { $0 - $1 }) < 1e-9 * norm2(ref))
    // Beam lands in the sector: mean in-sector gain ≫ mean out-of-sector gain.
    let fn = try Beamformer.leastSquares(steering: a, gridAnglesRad: grid, interval: sec)
    let p = Beamformer.pattern(steering: a, precoder: fn)
    var inSum = 0.0, inN = 0.0, outSum = 0.0, outN = 0.0
    for (th, v) in zip(grid, p) { if sec.contains(th) { inSum += v; inN += 1 } else { outSum += v; outN += 1 } }
    #expect(inSum / inN > 30 * outSum / outN)
}

@Test func isacBeamIsNormalisedAndEndpointsArePureBeams() throws {
    let fr = [CDouble(1, 0), CDouble(0, 1), CDouble(0.5, 0)]
    let fc = [CDouble(0, 0), CDouble(1, 1), CDouble(-1, 0)]
    for eta in [0.0, 0.3, 1.0] {
        let f = try Beamformer.isac(sensing: fr, communication: fc, eta: eta, phi: 0.7, power: 2)
        #expect(abs(norm2(f) - 2.0.squareRoot()) < 1e-12)
    }
    let f1 = try Beamformer.isac(sensing: fr, communication: fc, eta: 1, phi: 0, power: 1)
    let s = CDouble(norm2(fr), 0)
    for k in 0..<3 { #expect((f1[k] - fr[k] / s).length < 1e-12) }
    #expect(throws: ISACError.self) { try Beamformer.isac(sensing: fr, communication: fc, eta: 1.5, phi: 0) }
    #expect(throws: ISACError.self) { try Beamformer.isac(sensing: fr, communication: fc, eta: -0.1, phi: 0) }
}

@Test func ompRecoversOnGridNoiselessTargetsExactly() throws {
    let c = smallConfig()
    let imp = ArrayImpairment.nominal(antennas: c.antennas, wavelengthMeters: c.wavelengthMeters)
    let sec = try AngularSector(lowerDeg: -60, upperDeg: 60)
    let d = try OMPDictionary.grid(array: imp, sector: sec, angleCount: c.angleGridSize, rangeMinMeters: 10, rangeMaxMeters: 190,
                                   delayCount: c.delayGridSize, subcarriers: c.subcarriers, spacingHz: c.subcarrierSpacingHz)
    var rng = RandomSource(seed: 5)
    for trial in 0..<10 {
        // Well-separated grid points (≥ 8 angle and ≥ 8 delay cells apart) with random complex gains.
        let t = 1 + trial % 3
        let ai = [5, 30, 55].prefix(t).map { $0 + rng.integer(in: 0...2) }
        let di = [3, 18, 33].prefix(t).map { $0 + rng.integer(in: 0...2) }.shuffled(using: &rng)
        var g: [CDouble] = []
        for q in 0..<t {
            let ph = Double(q + trial)
            g.append(CDouble(rng.uniform(0.5, 2), 0) * CDouble(cos(ph), sin(ph)))
        }
        var y = Matrix<CDouble>(rows: c.antennas, cols: c.subcarriers)
        for k in 0..<t {
            let a = d.angleAtoms.column(ai[k]), r = d.delayAtoms.column(di[k])
            for s in 0..<c.subcarriers { for i in 0..<c.antennas { y[i, s] += g[k] * a[i] * r[s] } }
        }
        let res = try OMP.run(observation: y, dictionary: d, threshold: 1e-6, maxIterations: 3)
        let got: Set<String> = Set((0..<res.angleIndices.count).map { "\(res.angleIndices[$0]),\(res.delayIndices[$0])" })
        let want: Set<String> = Set((0..<t).map { "\(ai[$0]),\(di[$0])" })
        #expect(got == want)
        #expect(res.angleIndices.count == t)
        // Gains exact, residual zero (joint LS refit).
        for k in 0..<t {
            let pos = (0..<res.angleIndices.count).first { res.angleIndices[$0] == ai[k] && res.delayIndices[$0] == di[k] }!
            #expect((res.gains[pos] - g[k]).length < 1e-9)
        }
    }
}

@Test func incrementalResidualMapEqualsDirectRecomputation() throws {
    let c = smallConfig()
    var rng = RandomSource(seed: 9)
    let imp = ArrayImpairment.nominal(antennas: c.antennas, wavelengthMeters: c.wavelengthMeters)
    let d = try OMPDictionary.grid(array: imp, sector: try AngularSector(lowerDeg: -40, upperDeg: -20), angleCount: 30,
                                   rangeMinMeters: 10, rangeMaxMeters: 190, delayCount: 25, subcarriers: c.subcarriers, spacingHz: c.subcarrierSpacingHz)
    let y = rng.complexGaussianMatrix(rows: c.antennas, cols: c.subcarriers)
    var st = try OMPState(observation: y, dictionary: d)
    for _ in 0..<3 {
        let p = st.peak()
        try st.add(angleIndex: p.angleIndex, delayIndex: p.delayIndex)
        let r = st.residual()
        // Direct map Φ_aᴴ R Φ_d*, entry by entry.
        var maxErr = 0.0, scale = 0.0
        for i in stride(from: 0, to: 30, by: 7) { for j in stride(from: 0, to: 25, by: 6) {
            var acc = CDouble.zero
            for s in 0..<c.subcarriers { for k in 0..<c.antennas { acc += d.angleAtoms[k, i].conjugate * r[k, s] * d.delayAtoms[s, j].conjugate } }
            maxErr = max(maxErr, (acc - st.residualMap[i, j]).length); scale = max(scale, acc.length)
        } }
        #expect(maxErr < 1e-9 * max(scale, 1))
        // LS optimality: the residual is orthogonal to every selected rank-one atom.
        for t in 0..<st.iterations {
            var ip = CDouble.zero
            for s in 0..<c.subcarriers { for k in 0..<c.antennas { ip += (st.angleAtoms[t][k] * st.delayAtoms[t][s]).conjugate * r[k, s] } }
            #expect(ip.length < 1e-8 * y.frobeniusNorm)
        }
    }
}

@Test func calibratedFalseAlarmRateHoldsOnFreshData() throws {
    var c = smallConfig()
    c.angleGridSize = 48; c.delayGridSize = 32
    let sys = try BaselineSystem(config: c, mode: .none, impairmentSeed: 1)
    let target = 0.05
    let cal = try sys.runBatch(count: 1500, firstIndex: 1 << 32, seed: 3, eta: 1, phi: 0)
    let delta = try ThresholdCalibration.calibrate(cal.map(\.trace), maxTargets: c.maxTargets, targetPfa: target)
    let onCal = try ThresholdCalibration.counts(cal.map(\.trace), maxTargets: c.maxTargets, threshold: delta)
    #expect(onCal.falseAlarmProbability <= target)
    // Smallest feasible: any lower candidate would exceed the target.
    let below = try ThresholdCalibration.counts(cal.map(\.trace), maxTargets: c.maxTargets, threshold: delta.nextDown)
    #expect(below.falseAlarmProbability > target)
    let fresh = try sys.runBatch(count: 1500, seed: 4, eta: 1, phi: 0)
    let fc = try ThresholdCalibration.counts(fresh.map(\.trace), maxTargets: c.maxTargets, threshold: delta)
    let n = Double(fc.falseAlarmOpportunities)
    let sigma = (target * (1 - target) / n).squareRoot()
    #expect(abs(fc.falseAlarmProbability - target) < 4 * sigma + 0.01, "fresh p_fa \(fc.falseAlarmProbability)")
}

@Test func resultsDoNotDependOnThreadingAndStreamsAreReproducible() throws {
    var c = smallConfig(); c.angleGridSize = 32; c.delayGridSize = 20
    let sys = try BaselineSystem(config: c, mode: .unknown, impairmentSeed: 2)
    let batch = try sys.runBatch(count: 20, seed: 11, eta: 0.5, phi: 0)
    for i in [0, 7, 19] {
        let one = try sys.runSample(index: UInt64(i), seed: 11, eta: 0.5, phi: 0)
        #expect(one.trace == batch[i].trace && one.estimatedAnglesRad == batch[i].estimatedAnglesRad)
    }
}

@Test func commSerOverAwgnMatchesQpskClosedForm() throws {
    // Pure AWGN link: one tap, κ = 1 on every subcarrier via y = x + n with Es/N0 = snr.
    var rng = RandomSource(seed: 21)
    let n = 100_000
    for snrDB in [2.0, 6.0] {
        let snr = pow(10, snrDB / 10)
        var ser = SymbolErrorCounts()
        for _ in 0..<n {
            let m = rng.integer(in: 0...3)
            let y = QPSK.symbol(index: m) + rng.complexGaussian(variance: 1 / snr)
            ser.add(errors: QPSK.demodulateIndex(y, channel: CDouble(1, 0)) == m ? 0 : 1, symbols: 1)
        }
        let p = ClosedForm.qpskSymbolErrorRate(snr: snr)
        #expect(abs(ser.rate - p) < 3 * (p * (1 - p) / Double(n)).squareRoot())
    }
    // The ML detector is invariant to a known complex channel gain.
    let k = CDouble(0.3, -1.2)
    for m in 0...3 { #expect(QPSK.demodulateIndex(QPSK.symbol(index: m) * k, channel: k) == m) }
}

@Test func badInputIsRejectedWithFlagNames() throws {
    var c = MultiTargetConfig()
    c.angleGridSize = 1
    #expect(throws: ISACError.self) { try c.validate() }
    c = MultiTargetConfig(); c.maxTargets = -1
    #expect(throws: ISACError.self) { try c.validate() }
    #expect(throws: ISACError.self) { try AngularSector(lowerDeg: 10, upperDeg: 10) }
    do { _ = try AngularSector(lowerDeg: 10, upperDeg: 5, name: "--sector-min/--sector-max"); Issue.record("no throw") }
    catch let e as ISACError { #expect(e.description.contains("--sector-min")) }
}
