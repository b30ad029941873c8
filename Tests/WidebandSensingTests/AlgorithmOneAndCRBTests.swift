import Testing
import Foundation
import Numerics
@testable import WidebandSensing
import Estimation
import Linalg

// Issue 17: the literal Algorithm 1 grid, ζ_Δ by root finding, the WB-NF CRB, the off-grid refinement
// and the up-front memory checks.

private func relErr(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }

private func thrownName(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch let ISACError.invalidParameter(name, _, _) { return name } catch { return "other: \(error)" }
}

// MARK: - Algorithm 1 (eq. 28) as written

@Test func literalAlgorithmOneRingsHandChecked() {
    // scale = G_Δ(1 − α²) = 10 m, r_max = 30 m, r_min = 0.5 m, Δr = 0.7 m. By hand (Alg. 1 lines 4–13):
    //   l₀ = ⌈10/30⌉ = 1
    //   l=1: r̃ = 10,     k = ⌈(30 − 10)/0.7⌉ = ⌈28.57⌉ = 29  → r' = 30 − 20.3 = 9.7     (Fresnel ring, quantized)
    //   l=2: r̃ = 5,      k = ⌈(9.7 − 5)/0.7⌉ = ⌈6.71⌉ = 7    → r' = 4.8
    //   l=3: r̃ = 3.333,  k = ⌈(4.8 − 3.333)/0.7⌉ = ⌈2.10⌉ = 3 → r' = 2.7
    //   l=4: r̃ = 2.5,    k = ⌈0.286⌉ = 1                       → r' = 2.0               (one Δr step)
    //   l=5: r̃ = 2,      k = ⌈0⌉ → 1 (k ∈ ℤ≥1)                 → r' = 1.3               (bandwidth floor)
    //   l=6: r̃ = 1.667 > r'_prev, k → 1                        → r' = 0.6
    //   l=7: r̃ = 1.429,  k → 1                                 → r' = −0.1 < r_min: stop.
    let rings = AngleDistanceGrid.ringRadii(.hybrid, scale: 10, rMin: 0.5, rMax: 30, dr: 0.7, uniformStep: 1)
    let expected = [9.7, 4.8, 2.7, 2.0, 1.3, 0.6]
    #expect(rings.count == expected.count)
    for (a, b) in zip(rings, expected) { #expect(abs(a - b) < 1e-9) }
    // Invariants of eq. 28: each ring sits on the r_max − kΔr grid and at or inside its ideal ring.
    for (i, r) in rings.enumerated() {
        let k = (30 - r) / 0.7
        #expect(abs(k - k.rounded()) < 1e-9)
        #expect(r <= 10 / Double(i + 1) + 1e-12)
    }
    // The earlier variant (closer of one Δr step and the next Fresnel ring) on the same ray, by hand:
    // 30 → 29.3 → … Δr steps while r − Δr > r/(1 + r/10), i.e. while r > ~3.0 m.
    let minRule = AngleDistanceGrid.ringRadii(.hybridMin, scale: 10, rMin: 0.5, rMax: 30, dr: 0.7, uniformStep: 1)
    #expect(abs(minRule[0] - 30) < 1e-12 && abs(minRule[1] - 29.3) < 1e-9)
    for i in 1..<minRule.count {
        let prev = minRule[i - 1]
        #expect(abs(minRule[i] - max(prev - 0.7, 1 / (1 / prev + 1 / 10.0))) < 1e-9)
    }
}

@Test func literalAlgorithmOneIsEmptyAtPaperDeltaAndFiresForLargeDelta() throws {
    let s = WidebandSystem.paper
    // Δ = 0.1: G_Δ ≈ 0.497 m, so r̃₁ ≤ 0.5 m and k₁ = ⌈(86.35 − r̃₁)/2.44⌉ = 36 steps land below 0: no atom.
    let g01 = try AngleDistanceGrid.make(.hybrid, system: s)
    #expect(g01.count == 0)
    #expect(thrownName { try g01.checkDictionary(system: s) } == "--grid")
    // Δ = 0.5 (ζ = 1.556, G_Δ ≈ 9 m): Fresnel-governed steps (k ≥ 2) and Δr steps both occur.
    let g05 = try AngleDistanceGrid.make(.hybrid, system: s, options: GridOptions(delta: 0.5))
    #expect(g05.count > 0)
    let dr = s.rangeResolutionMeters, rMax = s.rayleighDistanceMeters
    var ks = Set<Int>()
    for ai in g05.alphas.indices {
        let rings = g05.rings(angleIndex: ai)
        var prev = rMax
        for r in rings {
            let k = (prev - r) / dr
            #expect(abs(k - k.rounded()) < 1e-8)            // aligned to the c/B grid
            #expect(k.rounded() >= 1)
            ks.insert(Int(k.rounded()))
            prev = r
        }
        #expect((rings.last ?? 1) >= 0.5)
    }
    #expect(ks.contains(1) && ks.contains { $0 >= 2 })
}

// MARK: - ζ_Δ

@Test func zetaIsTheFirstCrossingByRootFinding() throws {
    // Independent reference (scipy.special.fresnel, dense 1e-5 sampling): ζ_0.01 = 70.2802, ζ_0.1 = 6.59088.
    let z001 = try FresnelCoherence.threshold(delta: 0.01)
    #expect(abs(z001 - 70.2802) < 2e-3)
    #expect(abs(FresnelCoherence.magnitude(z001) - 0.01) < 1e-9)
    #expect(abs(try FresnelCoherence.threshold(delta: 0.1) - 6.59088) < 1e-4)
    // First crossing: |F| > Δ on a sampling much denser than the oscillation period 2/ζ ≈ 0.028 just below it.
    var z = z001 - 3
    while z < z001 - 1e-7 { #expect(FresnelCoherence.magnitude(z) > 0.01); z += 2e-4 }
    // Small Δ: bounded answer near 1/(√2 Δ) (inside the envelope bracket), and a clear error below the floor.
    let z4 = try FresnelCoherence.threshold(delta: 1e-4)
    #expect(abs(z4 - 1 / (2.0.squareRoot() * 1e-4)) < 1)
    #expect(abs(FresnelCoherence.magnitude(z4) - 1e-4) < 1e-12)
    #expect(thrownName { _ = try FresnelCoherence.threshold(delta: 1e-8) } == "--delta")
}

// MARK: - Memory checks

@Test func hugeGridsFailNamingTheFlag() {
    #expect(thrownName { _ = try AngleDistanceGrid.make(.hybridMin, system: .paper, options: GridOptions(maxRangeMeters: 1e12)) } == "--r-max")
    #expect(thrownName { _ = try AngleDistanceGrid.make(.uniform, system: .paper, options: GridOptions(uniformStepMeters: 1e-9)) } == "--step-m")
    #expect(thrownName { try MemoryBudget.check(bytes: 1e30, what: "x", flag: "--snapshots", value: "1e12") } == "--snapshots")
}

// MARK: - CRB

/// Mean vec(A X) of the deterministic model for parameters (r_p, θ_p) and gains X.
private func mean(_ s: WidebandSystem, _ eta: [Double], _ x: Matrix<CDouble>) -> [CDouble] {
    let p = x.rows, l = s.snapshotLength
    var a = Matrix<CDouble>(rows: l, cols: p)
    for i in 0..<p { a.setColumn(i, s.nearFieldWideband(rangeMeters: eta[2 * i], angleRad: eta[2 * i + 1])) }
    return Matrix.matmul(a, x).data
}

@Test func crbMatchesFiniteDifferenceFisherInformation() throws {
    // Small system, P = 2 targets, K = 3 snapshots, arbitrary complex gains.
    let s = try WidebandSystem(antennas: 8, carrierHz: 28e9, bandwidthHz: 2e9, subcarriers: 5)
    let targets = [PolarTarget(rangeMeters: 0.6, angleRad: 1.3), PolarTarget(rangeMeters: 1.7, angleRad: 1.9)]
    let x = Matrix<CDouble>(rows: 2, cols: 3, data: [CDouble(1, 0.2), CDouble(-0.4, 0.9), CDouble(0.3, -0.8),
                                                     CDouble(0.7, 0.1), CDouble(-1.1, -0.2), CDouble(0.2, 0.6)])
    let sigma2 = 0.37
    let crb = try WidebandCRB.bound(system: s, targets: targets, gains: x, noiseVariance: sigma2)
    // Full real parameter vector φ = (r₁, θ₁, r₂, θ₂, Re X, Im X); J by central differences of the mean.
    let eta = targets.flatMap { [$0.rangeMeters, $0.angleRad] }
    let nPhi = 4 + 2 * x.data.count
    let mu0 = mean(s, eta, x)
    var j = Matrix<CDouble>(rows: mu0.count, cols: nPhi)
    for c in 0..<nPhi {
        var ep = eta, em = eta, xp = x, xm = x
        let h: Double
        if c < 4 {
            h = 1e-6
            ep[c] += h; em[c] -= h
        } else {
            h = 1e-6
            let idx = (c - 4) % x.data.count
            let d = c - 4 < x.data.count ? CDouble(h, 0) : CDouble(0, h)
            xp.data[idx] += d; xm.data[idx] -= d
        }
        let mp = mean(s, ep, xp), mm = mean(s, em, xm)
        for i in 0..<mu0.count { j[i, c] = (mp[i] - mm[i]) / CDouble(2 * h, 0) }
    }
    let f = try DeterministicCRB.gaussianMeanFisher(jacobian: j, noiseVariance: sigma2)
    let fullInverse = try f.solve(Matrix<Double>.identity(nPhi))
    for p in 0..<2 {
        #expect(relErr(crb[p].rangeVariance, fullInverse[2 * p, 2 * p]) < 1e-5)
        #expect(relErr(crb[p].angleVariance, fullInverse[2 * p + 1, 2 * p + 1]) < 1e-5)
        #expect(abs(crb[p].covariance - fullInverse[2 * p, 2 * p + 1]) < 1e-5 * (fullInverse[2 * p, 2 * p] * fullInverse[2 * p + 1, 2 * p + 1]).squareRoot())
    }
}

@Test func crbApproachesFarFieldClosedForm() throws {
    let s = try WidebandSystem(antennas: 31, carrierHz: 28e9, bandwidthHz: 122.88e6, subcarriers: 16)
    let th = 1.2, k = 4, snr = 3.0
    let sigma2 = Foundation.pow(10, -snr / 10)
    let ff = WidebandCRB.farFieldBound(system: s, angleRad: th, snapshotEnergy: Double(k), noiseVariance: sigma2)
    var lastErr = Double.infinity
    for r in [1e3, 1e5] {
        let b = try WidebandCRB.singleTarget(system: s, target: PolarTarget(rangeMeters: r, angleRad: th), snapshots: k, snrDb: snr)
        let e = max(relErr(b.rangeVariance, ff.rangeVariance), relErr(b.angleVariance, ff.angleVariance))
        #expect(e < lastErr)            // converges as r grows
        lastErr = e
    }
    #expect(lastErr < 1e-3)
}

// MARK: - Off-grid refinement

@Test func offGridRefinementRemovesTheQuantizationError() throws {
    let s = try WidebandSystem(antennas: 31, carrierHz: 28e9, bandwidthHz: 122.88e6, subcarriers: 16)
    let grid = try AngleDistanceGrid.make(.hybridMin, system: s, options: GridOptions(minRangeMeters: 0.5))
    let b = grid.dictionary(system: s)
    var rng = RandomSource(seed: 17, stream: 0)
    // Half-way between two rings and between two grid angles.
    let truth = [PolarTarget(rangeMeters: 7.3, angleRad: Double.acos(grid.alphas[4] + 1 / 31.0))]
    let y = try s.simulate(targets: truth, snapshots: 4, snrDb: 20, rng: &rng).data
    let cs = try Localizer.compressedSensing(observation: y, grid: grid, dictionary: b, targets: 1, system: s)
    let refined = try Localizer.refineOffGrid(system: s, observation: y, estimates: cs.estimates, grid: grid)
    let e0 = LocalizationError.nmse(truth: truth, estimates: cs.estimates)
    let e1 = LocalizationError.nmse(truth: truth, estimates: refined)
    #expect(e1 < e0 / 100, "grid NMSE \(e0), refined \(e1)")
    // And it lands within a few CRB standard deviations of the truth.
    let crb = try WidebandCRB.singleTarget(system: s, target: truth[0], snapshots: 4, snrDb: 20)
    let d2 = e1 * 7.3 * 7.3
    #expect(d2 < 50 * crb.positionVariance, "squared error \(d2) m² vs CRB \(crb.positionVariance) m²")
}
