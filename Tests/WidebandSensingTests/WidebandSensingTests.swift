import Testing
import Foundation
import Numerics
@testable import WidebandSensing
import Estimation
import Linalg
import Arrays

// MARK: - Helpers (independent references)

/// Exact WB-NF steering vector computed the slow, obvious way: one sincos per entry of
/// exp(−j 2π f_m r_n / c), r_n from the law of cosines. Independent of the recurrence used by the library.
private func referenceSteering(_ s: WidebandSystem, r: Double, theta: Double) -> [CDouble] {
    var v: [CDouble] = []
    for m in 0..<s.subcarriers {
        let f = s.carrierHz + Double(m) * s.bandwidthHz / Double(s.subcarriers)
        for n in 0..<s.antennas {
            let x = (Double(n) - Double(s.antennas - 1) / 2) * s.spacingMeters
            let rn = (r * r + x * x - 2 * r * x * Foundation.cos(theta)).squareRoot()
            let ph = -2 * Double.pi * f * rn / speedOfLight
            v.append(CDouble(Foundation.cos(ph), Foundation.sin(ph)))
        }
    }
    return v
}

private func relErr(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }

private func isInvalidParameter(_ e: Error, named name: String) -> Bool {
    if case let ISACError.invalidParameter(n, _, _) = e { return n == name }
    return false
}

/// Expects `body` to throw `ISACError.invalidParameter` naming `name`.
private func expectInvalid<T>(_ name: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected invalid \(name), nothing was thrown", sourceLocation: sourceLocation)
    } catch {
        #expect(isInvalidParameter(error, named: name), "got \(error)", sourceLocation: sourceLocation)
    }
}

/// Small system for exhaustive checks (same band and carrier as the paper, fewer elements/subcarriers).
private func smallSystem(antennas: Int = 31, subcarriers: Int = 16) throws -> WidebandSystem {
    try WidebandSystem(antennas: antennas, carrierHz: 28e9, bandwidthHz: 122.88e6, subcarriers: subcarriers)
}

// MARK: - Paper values

@Test func rayleighDistanceMatchesPaper() {
    let s = WidebandSystem.paper
    #expect(relErr(s.rayleighDistanceMeters, 86.4) < 0.01)
    #expect(relErr(s.apertureMeters, 0.68) < 0.01)
    // Closed form 2D²/λ with D = N λ/2: R = N² λ / 2.
    let lam = speedOfLight / 28e9
    #expect(relErr(s.rayleighDistanceMeters, 127.0 * 127.0 * lam / 2) < 1e-12)
}

@Test func fresnelThresholdsMatchPaper() throws {
    let z01 = try FresnelCoherence.threshold(delta: 0.1)
    let z05 = try FresnelCoherence.threshold(delta: 0.5)
    #expect(relErr(z01, 6.62) < 0.02)
    #expect(relErr(z05, 1.55) < 0.02)
    // Defining property and "first crossing": |F(ζ_Δ)| = Δ and |F| > Δ on a fine grid below ζ_Δ.
    for (d, z) in [(0.1, z01), (0.5, z05)] {
        #expect(abs(FresnelCoherence.magnitude(z) - d) < 1e-8)
        for i in 1..<400 {
            let zz = z * Double(i) / 400
            #expect(FresnelCoherence.magnitude(zz) > d)
        }
    }
}

@Test func narrowbandNearFieldBoundaryMatchesPaperAt5MHz() throws {
    let s = try WidebandSystem(bandwidthHz: 5e6)
    let r = try RegionBoundary.narrowbandNearField(system: s, rho: 0.9, angleRad: Double.pi / 3)
    #expect(relErr(r, 15) < 0.05)
    // Defining property: g₁(r) = ρ₀ at the boundary.
    #expect(abs(RegionBoundary.g1(system: s, rangeMeters: r, angleRad: Double.pi / 3) - 0.9) < 1e-5)
}

@Test func widebandFarFieldBoundaryMatchesPaperValues() throws {
    // Sec. V-C (θ = 60°, B = 122.88 MHz, M = 256): D = 1.8 m needs 168.3 m at ρ₁ = 0.95 and 95.1 m at
    // ρ₁ = 0.85; Sec. V-D: r_WB-FF = 17.302 m for the paper array at ρ₁ = 0.9. D = 1.8 m ↔ N = 336 (D = N·d).
    let th = Double.pi / 3
    let big = try WidebandSystem(antennas: 336)
    #expect(relErr(big.apertureMeters, 1.8) < 0.001)
    #expect(relErr(try RegionBoundary.widebandFarField(system: big, rho: 0.95, angleRad: th), 168.3) < 0.02)
    #expect(relErr(try RegionBoundary.widebandFarField(system: big, rho: 0.85, angleRad: th), 95.1) < 0.02)
    #expect(relErr(try RegionBoundary.widebandFarField(system: .paper, rho: 0.9, angleRad: th), 17.302) < 0.05)
    // Sec. V-D: r_NB-NF = 0.53 m at B = 122.88 MHz, ρ₀ = 0.9.
    #expect(relErr(try RegionBoundary.narrowbandNearField(system: .paper, rho: 0.9, angleRad: th), 0.53) < 0.06)
}

// MARK: - Fresnel coherence invariants

@Test func fresnelMagnitudeLimits() {
    #expect(FresnelCoherence.magnitude(0) == 1)
    #expect(abs(FresnelCoherence.magnitude(1e-3) - 1) < 1e-9)
    // C, S → 1/2, so ζ|F(ζ)| → 1/√2 with an O(1/(πζ)) oscillation.
    for z in [200.0, 1000.0, 5000.0] {
        #expect(abs(z * FresnelCoherence.magnitude(z) - 1 / 2.0.squareRoot()) < 1 / z)
    }
    #expect(FresnelCoherence.magnitude(-3) == FresnelCoherence.magnitude(3))
}

@Test func fresnelMagnitudeApproximatesDiscreteSum() {
    // Eq. 25 is the integral approximation of the discrete quadratic-phase sum (eq. 21);
    // for a long array they agree to O(1/N) plus the Riemann error O(ζ²/N).
    for z in stride(from: 0.25, through: 8, by: 0.25) {
        let cont = FresnelCoherence.magnitude(z)
        let disc = FresnelCoherence.discreteMagnitude(zeta: z, antennas: 2001)
        #expect(abs(cont - disc) < 5e-3)
    }
}

// MARK: - Steering and dictionary

@Test func steeringMatchesDirectEvaluationAndAtomsAreUnitNorm() throws {
    let s = try smallSystem(antennas: 31, subcarriers: 80)   // > 32 subcarriers exercises re-anchoring
    let grid = try AngleDistanceGrid.make(.hybridMin, system: s, options: GridOptions(minRangeMeters: 0.2))
    let b = grid.dictionary(system: s)
    #expect(b.rows == s.snapshotLength && b.cols == grid.count)
    for q in stride(from: 0, to: grid.count, by: max(1, grid.count / 17)) {
        let col = b.column(q)
        #expect(abs(norm2(col) - 1) < 1e-12)
        let p = grid.points[q]
        let ref = referenceSteering(s, r: p.rangeMeters, theta: p.angleRad)
        let sc = 1 / Double(s.snapshotLength).squareRoot()
        var err = 0.0
        for i in 0..<col.count { err = max(err, (col[i] - ref[i] * CDouble(sc, 0)).length) }
        #expect(err < 1e-11 * sc)
    }
    let v = s.nearFieldWideband(rangeMeters: 3.3, angleRad: 1.9)
    let ref = referenceSteering(s, r: 3.3, theta: 1.9)
    #expect(zip(v, ref).map { ($0 - $1).length }.max()! < 1e-11)
}

@Test func farFieldSteeringIsPlanarLimitOfNearField() throws {
    let s = try smallSystem()
    // Far away the spherical phase minus the planar phase is O(x²/r) → 0.
    let r = 1e6, th = 1.3
    let nf = s.nearFieldWideband(rangeMeters: r, angleRad: th)
    let ff = s.farFieldWideband(rangeMeters: r, angleRad: th)
    let c = abs(dotc(nf, ff).length) / Double(s.snapshotLength)
    #expect(c > 1 - 1e-6)
}

@Test func closedFormCoherenceMatchesExplicitInnerProducts() throws {
    let s = try smallSystem(antennas: 31, subcarriers: 24)
    let grid = try AngleDistanceGrid.make(.uniform, system: s, options: GridOptions(minRangeMeters: 0.3, uniformStepMeters: 0.7))
    let b = grid.dictionary(system: s)
    var rng = RandomSource(seed: 5, stream: 0)
    for _ in 0..<40 {
        let i = rng.integer(in: 0...(grid.count - 1)), j = rng.integer(in: 0...(grid.count - 1))
        let explicit = dotc(b.column(i), b.column(j)).length
        let closed = DictionaryCoherence.pair(system: s, grid.points[i].target, grid.points[j].target)
        #expect(abs(explicit - closed) < 1e-10)
    }
}

@Test func maximumCoherenceIsExactAndHybridBeatsUniform() throws {
    // Reduced but faithful: paper band (B, f_c, Δr = c/B) with N = 63, M = 32; ranges 0.3 m … Rayleigh (21.6 m).
    let s = try smallSystem(antennas: 63, subcarriers: 32)
    var mu: [GridKind: Double] = [:]
    for kind in GridKind.allCases {
        let grid = try AngleDistanceGrid.make(kind, system: s, options: GridOptions(minRangeMeters: 0.3, uniformStepMeters: 0.25))
        let fast = DictionaryCoherence.maximum(grid: grid, system: s).value
        mu[kind] = fast
        if kind != .uniform && grid.count >= 2 {
            // Independent reference: max off-diagonal |BᴴB| from the explicit dictionary.
            let b = grid.dictionary(system: s)
            let g = Matrix.matmul(b, b, transA: .conjugateTranspose)
            var ref = 0.0
            for j in 0..<g.cols { for i in 0..<g.rows where i != j { ref = max(ref, g[i, j].length) } }
            #expect(abs(fast - ref) < 1e-10)
        }
    }
    #expect(mu[.hybridMin]! < mu[.uniform]!)
    #expect(mu[.hybridMin]! < 0.9)
}

@Test func hybridGridRespectsSpacingRules() throws {
    let s = WidebandSystem.paper
    let grid = try AngleDistanceGrid.make(.hybridMin, system: s)
    #expect(grid.alphas.count == 63)
    // Angle grid eq. 20: spacing 2/N inside [−1/2, 1/2].
    for (i, a) in grid.alphas.enumerated() {
        #expect(abs(a - (-0.5 + Double(2 * i + 1) / 127)) < 1e-15)
        #expect(a > -0.5 && a < 0.5)
    }
    let dr = s.rangeResolutionMeters
    for ai in grid.alphas.indices {
        let rings = grid.points.filter { $0.angleIndex == ai }.map(\.rangeMeters)
        #expect(abs(rings[0] - s.rayleighDistanceMeters) < 1e-9)
        let a = grid.alphas[ai], scale = grid.ringScaleMeters * (1 - a * a)
        for k in 1..<rings.count {
            let gap = rings[k - 1] - rings[k]
            // Each ring is the closer of one Δr step and the Fresnel ring (|F| = Δ).
            let fresnelGap = rings[k - 1] - 1 / (1 / rings[k - 1] + 1 / scale)
            #expect(abs(gap - min(dr, fresnelGap)) < 1e-9)
        }
        #expect(rings.last! >= 0.5)
    }
}

@Test func closedFormGramColumnMatchesDictionaryAndKeepsSOMPSupport() throws {
    let s = try smallSystem(antennas: 31, subcarriers: 24)
    let grid = try AngleDistanceGrid.make(.hybridMin, system: s, options: GridOptions(minRangeMeters: 0.3))
    let b = grid.dictionary(system: s)
    let dist = grid.points.map { s.elementDistances(rangeMeters: $0.rangeMeters, angleRad: $0.angleRad) }
    for q in [0, grid.count / 3, grid.count - 1] {
        let explicit = b.apply(b.column(q), .conjugateTranspose)
        let closed = DictionaryCoherence.gramColumn(system: s, distances: dist, column: q)
        #expect(zip(explicit, closed).map { ($0 - $1).length }.max()! < 1e-10)
    }
    // SOMP with the closed-form Gram columns picks the same atoms as with Gram columns from B.
    var rng = RandomSource(seed: 31, stream: 0)
    let truth = [PolarTarget(rangeMeters: 2.2, angleRad: 1.3), PolarTarget(rangeMeters: 6.1, angleRad: 1.9)]
    let y = try s.simulate(targets: truth, snapshots: 4, snrDb: 0, rng: &rng).data
    let a = try Localizer.compressedSensing(observation: y, grid: grid, dictionary: b, targets: 2, exclusionCells: 0)
    let c = try Localizer.compressedSensing(observation: y, grid: grid, dictionary: b, targets: 2, exclusionCells: 0, system: s)
    #expect(a.support == c.support)
}

@Test func bandExclusionBarsNeighbours() throws {
    let grid = try AngleDistanceGrid.make(.hybridMin, system: .paper)
    let q = grid.points.firstIndex { $0.angleIndex == 30 && abs($0.rangeMeters - 20) < 1.3 }!
    let nb = grid.neighbours(of: q, cells: 1)
    #expect(nb.contains(q))
    // Interior Δr-spaced ring on an interior ray: 3 angles × 3 rings.
    #expect(nb.count == 9)
    for j in nb {
        let c = grid.cellOffset(truth: grid.points[q].target, estimate: grid.points[j].target)
        #expect(c.angle <= 1 && c.ring <= 1)
    }
}

// MARK: - Correlation functions and boundaries

@Test func correlationFunctionsMatchExplicitInnerProducts() throws {
    let s = try smallSystem(antennas: 41, subcarriers: 40)
    for (r, th) in [(0.7, 1.2), (3.0, Double.pi / 3), (12.0, 2.0)] {
        let wb = s.nearFieldWideband(rangeMeters: r, angleRad: th)
        let nb = s.nearFieldNarrowband(rangeMeters: r, angleRad: th)
        let nbRep = (0..<s.subcarriers).flatMap { _ in nb }
        let g1ref = dotc(nbRep, wb).length / Double(s.snapshotLength)
        #expect(abs(RegionBoundary.g1(system: s, rangeMeters: r, angleRad: th) - g1ref) < 1e-10)
        let ff = s.farFieldWideband(rangeMeters: r, angleRad: th)
        let g2ref = dotc(ff, wb).length / Double(s.snapshotLength)
        #expect(abs(RegionBoundary.g2(system: s, rangeMeters: r, angleRad: th) - g2ref) < 1e-10)
    }
}

@Test func correlationLimits() throws {
    let s = WidebandSystem.paper
    // Far away the wavefront is planar: g₂ → 1.
    #expect(RegionBoundary.g2(system: s, rangeMeters: 1e5, angleRad: 1.1) > 0.9999)
    // Close in, the delay spread over the band vanishes: g₁ → 1 (narrow band, r → 0).
    let nb = try WidebandSystem(bandwidthHz: 1e6)
    #expect(RegionBoundary.g1(system: nb, rangeMeters: 0.05, angleRad: 1.1) > 0.999)
    // Both are normalized correlations in [0, 1].
    for r in [0.3, 1.0, 5.0, 40.0] {
        for g in [RegionBoundary.g1(system: s, rangeMeters: r, angleRad: 1.2), RegionBoundary.g2(system: s, rangeMeters: r, angleRad: 1.2)] {
            #expect(g >= 0 && g <= 1 + 1e-12)
        }
    }
}

@Test func nbnfBoundaryShrinksWithBandwidthAndGrowsAsRhoRelaxes() throws {
    let th = Double.pi / 3
    var prev = Double.infinity
    for bMHz in [5.0, 10, 20, 40, 70, 100] {
        let s = try WidebandSystem(bandwidthHz: bMHz * 1e6)
        let r = try RegionBoundary.narrowbandNearField(system: s, rho: 0.9, angleRad: th)
        #expect(r < prev)
        prev = r
    }
    let s = try WidebandSystem(bandwidthHz: 20e6)
    var prevRho = 0.0
    for rho in [0.95, 0.9, 0.8, 0.7, 0.5] {
        let r = try RegionBoundary.narrowbandNearField(system: s, rho: rho, angleRad: th)
        #expect(r > prevRho)
        prevRho = r
    }
}

@Test func wbffBoundaryGrowsWithApertureAndRho() throws {
    let th = Double.pi / 3
    var prev = 0.0
    for n in [64, 127, 200, 300] {
        let s = try WidebandSystem(antennas: n)
        let r = try RegionBoundary.widebandFarField(system: s, rho: 0.9, angleRad: th)
        #expect(r > prev)
        // Defining property: g₂ = ρ₁ at the boundary, above it just outside.
        #expect(abs(RegionBoundary.g2(system: s, rangeMeters: r, angleRad: th) - 0.9) < 1e-5)
        #expect(RegionBoundary.g2(system: s, rangeMeters: r * 1.01, angleRad: th) >= 0.9)
        prev = r
    }
    let s = WidebandSystem.paper
    var prevR = 0.0
    for rho in [0.5, 0.7, 0.85, 0.9, 0.95] {
        let r = try RegionBoundary.widebandFarField(system: s, rho: rho, angleRad: th)
        #expect(r > prevR)
        prevR = r
    }
}

// MARK: - MUSIC

@Test func wbffMusicFromSubspaceEqualsExplicitCovariance() throws {
    let s = try WidebandSystem(antennas: 9, carrierHz: 28e9, bandwidthHz: 122.88e6, subcarriers: 6)
    var rng = RandomSource(seed: 21, stream: 0)
    let truth = [PolarTarget(rangeMeters: 4, angleRad: 1.3), PolarTarget(rangeMeters: 9, angleRad: 1.8)]
    let y = try s.simulate(targets: truth, snapshots: 12, snrDb: 5, rng: &rng).data
    let grid = try ScanGrid.uniform(rMin: 1, rMax: 12, rangeCount: 9, angleCount: 7)
    let spec = try Localizer.widebandFarFieldSpectrum(system: s, observation: y, targets: 2, grid: grid)
    // Reference: explicit NM × NM covariance, noise subspace = eigenvectors of the NM − P smallest eigenvalues.
    let r = Matrix.matmul(y, y, transB: .conjugateTranspose)
    let (_, v) = try r.hermitianEigen()
    let un = v.columns(Array(0..<(s.snapshotLength - 2)))
    for (t, th) in grid.anglesRad.enumerated() {
        for (j, rr) in grid.rangesMeters.enumerated() {
            let a = s.farFieldWideband(rangeMeters: rr, angleRad: th)
            let p = un.apply(a, .conjugateTranspose).reduce(0.0) { $0 + $1.absSquared }
            #expect(relErr(spec.values[t][j], 1 / p) < 1e-7)
        }
    }
}

@Test func nbnfMusicMatchesExplicitSubcarrierCovariance() throws {
    let s = try WidebandSystem(antennas: 11, carrierHz: 28e9, bandwidthHz: 20e6, subcarriers: 5)
    var rng = RandomSource(seed: 22, stream: 0)
    let truth = [PolarTarget(rangeMeters: 1.1, angleRad: 1.95), PolarTarget(rangeMeters: 2.5, angleRad: 1.78)]
    let y = try s.simulate(targets: truth, snapshots: 4, snrDb: 10, rng: &rng).data
    let grid = try ScanGrid.uniform(rMin: 0.5, rMax: 3, rangeCount: 6, angleCount: 5)
    let spec = try Localizer.narrowbandNearFieldSpectrum(system: s, observation: y, targets: 2, grid: grid)
    // Eq. 37 written out: R = (1/MK) Σ_m Y_m Y_mᴴ.
    let n = s.antennas
    var rcov = Matrix<CDouble>(rows: n, cols: n)
    for m in 0..<s.subcarriers { for k in 0..<y.cols {
        let col = (0..<n).map { y[$0 + m * n, k] }
        for i in 0..<n { for j in 0..<n { rcov[i, j] += col[i] * col[j].conjugate } }
    } }
    let (_, v) = try rcov.hermitianEigen()
    let un = v.columns(Array(0..<(n - 2)))
    for (t, th) in grid.anglesRad.enumerated() {
        for (j, rr) in grid.rangesMeters.enumerated() {
            let a = s.nearFieldNarrowband(rangeMeters: rr, angleRad: th)
            let p = un.apply(a, .conjugateTranspose).reduce(0.0) { $0 + $1.absSquared }
            #expect(relErr(spec.values[t][j], 1 / p) < 1e-7)
        }
    }
}

@Test func wbffMusicLocalizesFarTargets() throws {
    // Beyond r_WB-FF the planar model is adequate: peaks at the true (r, θ) to within one scan cell.
    let s = try WidebandSystem(antennas: 33, subcarriers: 64)
    var rng = RandomSource(seed: 23, stream: 0)
    let truth = [PolarTarget(rangeMeters: 30, angleRad: 80 * Double.pi / 180),
                 PolarTarget(rangeMeters: 45, angleRad: 105 * Double.pi / 180)]
    let y = try s.simulate(targets: truth, snapshots: 4, snrDb: 0, rng: &rng).data
    let grid = try ScanGrid.uniform(rMin: 20, rMax: 55, rangeCount: 71, angleCount: 121)
    let est = try Localizer.widebandFarFieldSpectrum(system: s, observation: y, targets: 2, grid: grid).peaks(2)
    let m = LocalizationError.match(truth: truth, estimates: est)
    for (t, e) in zip(truth, m) {
        #expect(abs(e!.rangeMeters - t.rangeMeters) <= 0.5 + 1e-9)
        #expect(abs(e!.angleDeg - t.angleDeg) <= 0.5 + 1e-9)
    }
}

@Test func musicRefinementImprovesOnTheCoarsePeak() throws {
    let s = try WidebandSystem(antennas: 33, subcarriers: 64)
    var rng = RandomSource(seed: 24, stream: 0)
    let truth = [PolarTarget(rangeMeters: 41.37, angleRad: 97.3 * Double.pi / 180)]
    let y = try s.simulate(targets: truth, snapshots: 4, snrDb: 10, rng: &rng).data
    let coarse = try ScanGrid.uniform(rMin: 30, rMax: 50, rangeCount: 11, angleCount: 31)   // 2 m × 2° steps
    let c = try Localizer.musicEstimate(method: .wbffMusic, system: s, observation: y, targets: 1, coarse: coarse, refine: 0)[0]
    let f = try Localizer.musicEstimate(method: .wbffMusic, system: s, observation: y, targets: 1, coarse: coarse, refine: 10)[0]
    // Coarse peak within one coarse cell; the refined one within one fine cell (0.2 m, 0.2°).
    #expect(abs(c.rangeMeters - 41.37) <= 2 && abs(c.angleDeg - 97.3) <= 2)
    #expect(abs(f.rangeMeters - 41.37) <= 0.2 + 1e-9 && abs(f.angleDeg - 97.3) <= 0.2 + 1e-9)
    #expect(throws: ISACError.self) {
        try Localizer.musicEstimate(method: .cs, system: s, observation: y, targets: 1, coarse: coarse)
    }
}

@Test func fig2WritesConsistentCSVAndSVG() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wb-fig2-\(ProcessInfo.processInfo.processIdentifier)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var o = WidebandFigureOptions()
    o.progress = false
    let out = try WidebandFigures.make("fig2", outDir: dir, options: o)
    let th = try #require(out.thresholds)
    #expect(abs(th["zeta_0.1"]! - (try FresnelCoherence.threshold(delta: 0.1))) < 1e-12)
    let text = try String(contentsOfFile: dir + "/fig2.csv", encoding: .utf8)
    let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
    #expect(rows.count == 600)
    for r in rows.prefix(50) { #expect(abs(r[1] - FresnelCoherence.magnitude(r[0])) < 1e-9 * max(1, r[1])) }
    #expect(FileManager.default.fileExists(atPath: dir + "/fig2.svg"))
    expectInvalid("name") { try WidebandFigures.make("fig9", outDir: dir, options: o) }
    o.trials = 0
    expectInvalid("--trials") { try WidebandFigures.make("fig2", outDir: dir, options: o) }
}

// MARK: - SOMP localization

@Test func sompLocalizesThreeNearFieldTargetsWithinOneCell() throws {
    // Reduced but faithful (debug-test budget): the paper's array (N = 127, f_c = 28 GHz) and bandwidth
    // (B = 122.88 MHz, Δr = c/B = 2.44 m), M = 64 subcarriers instead of 256 (unambiguous range
    // M·c/B = 156 m still covers the Rayleigh distance), K = 8 pilots, SNR 0 dB, hybrid Δ = 0.1 grid
    // 0.5 m … 86.4 m, SOMP with one-cell band exclusion. Targets uniform in the radiative near field
    // [0.62√(D³/λ), 2D²/λ] = [3.36, 86.35] m × [60°, 120°] (the paper's "radiative NF region").
    // The paper-size rate (M = 256, 200 trials) is measured in release by `isac wideband figure fig3`
    // and reported in docs/wideband.md together with plain SOMP.
    let s = try WidebandSystem(antennas: 127, subcarriers: 64)
    let grid = try AngleDistanceGrid.make(.hybridMin, system: s)
    let b = grid.dictionary(system: s)
    let trials = 30
    var ok = 0
    for t in 0..<trials {
        var rng = RandomSource(seed: 2026, stream: UInt64(t))
        let truth = WidebandExperiments.randomTargets(count: 3, rMin: s.radiativeNearFieldInnerMeters,
                                                      rMax: s.rayleighDistanceMeters, rng: &rng)
        let obs = try s.simulate(targets: truth, snapshots: 8, snrDb: 0, rng: &rng)
        let res = try Localizer.compressedSensing(observation: obs.data, grid: grid, dictionary: b, targets: 3, exclusionCells: 1, system: s)
        #expect(res.estimates.count == 3)
        let matched = LocalizationError.match(truth: truth, estimates: res.estimates)
        let good = zip(truth, matched).allSatisfy { tr, e in
            guard let e else { return false }
            let c = grid.cellOffset(truth: tr, estimate: e)
            return c.angle <= 1 && c.ring <= 1
        }
        if good { ok += 1 }
    }
    #expect(Double(ok) / Double(trials) >= 0.9, "SOMP within one cell in \(ok)/\(trials) trials")
}

// MARK: - Bad input

@Test func badInputsThrowNamedErrors() throws {
    for d in [0.0, 1.0, -0.2, 1.5, Double.nan] {
        expectInvalid("--delta") { try FresnelCoherence.threshold(delta: d) }
        expectInvalid("--delta") { try AngleDistanceGrid.make(.hybrid, system: .paper, options: GridOptions(delta: d)) }
    }
    for rho in [0.0, 1.0, -1, 2] {
        expectInvalid("--rho") { try RegionBoundary.narrowbandNearField(system: .paper, rho: rho, angleRad: 1.2) }
        expectInvalid("--rho") { try RegionBoundary.widebandFarField(system: .paper, rho: rho, angleRad: 1.2) }
    }
    // Angles outside the 60°–120° field of view.
    for deg in [10.0, 59.0, 121.0, 180.0] {
        expectInvalid("--angle-deg") { try RegionBoundary.narrowbandNearField(system: .paper, rho: 0.9, angleRad: deg * Double.pi / 180) }
    }
    expectInvalid("--bandwidth-mhz") { try WidebandSystem(bandwidthHz: -5e6) }
    expectInvalid("--bandwidth-mhz") { try WidebandSystem(bandwidthHz: 0) }
    expectInvalid("--antennas") { try WidebandSystem(antennas: 1) }
    expectInvalid("--subcarriers") { try WidebandSystem(subcarriers: 0) }
    // Targets outside the field of view / behind the array / more targets than antennas.
    let s = try smallSystem(antennas: 5, subcarriers: 4)
    var rng = RandomSource(seed: 1, stream: 0)
    #expect(throws: ISACError.self) { try s.simulate(targets: [PolarTarget(rangeMeters: 3, angleRad: 0.2)], snapshots: 2, snrDb: 0, rng: &rng) }
    #expect(throws: ISACError.self) { try s.simulate(targets: [PolarTarget(rangeMeters: -3, angleRad: 1.5)], snapshots: 2, snrDb: 0, rng: &rng) }
    let many = (0..<5).map { PolarTarget(rangeMeters: 2 + Double($0), angleRad: 1.5) }
    expectInvalid("--targets") { try s.simulate(targets: many, snapshots: 6, snrDb: 0, rng: &rng) }
    let y = Matrix<CDouble>(rows: s.snapshotLength, cols: 6, repeating: .one)
    let grid = try ScanGrid.uniform(rMin: 1, rMax: 3, rangeCount: 3, angleCount: 3)
    expectInvalid("--targets") { try Localizer.narrowbandNearFieldSpectrum(system: s, observation: y, targets: 5, grid: grid) }
    expectInvalid("--targets") { try Localizer.widebandFarFieldSpectrum(system: s, observation: y, targets: 7, grid: grid) }
    expectInvalid("--r-min") { try AngleDistanceGrid.make(.hybrid, system: .paper, options: GridOptions(minRangeMeters: 100, maxRangeMeters: 50)) }
}
