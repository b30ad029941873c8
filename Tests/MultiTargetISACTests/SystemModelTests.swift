import Foundation
import Testing
import Arrays
import ISACIO
import Linalg
import Numerics
import Metrics
@testable import MultiTargetISAC

/// The official-code system options (issue 19) against closed forms and invariants.

/// A small link-budget / LOS-NLOS system (K = 8, S = 16) so thousands of draws run in a second in debug.
private func smallOfficialConfig() -> MultiTargetConfig {
    var c = MultiTargetConfig.officialCode
    c.antennas = 8; c.subcarriers = 16; c.angleGridSize = 32; c.delayGridSize = 16; c.maxTargets = 3
    return c
}

@Test func linkBudgetGainVarianceIsTheRadarEquation() throws {
    // Closed form, written out from the constants: E|ψ|² = S σ̄ λ² / ((4π)³ R⁴ k T F S Δf) (N0 = 1).
    let c = MultiTargetConfig.officialCode
    let lam = 299_792_458.0 / 60e9
    let noise = 1.380649e-23 * 290 * pow(10, 0.8) * 256 * 240e3
    for r in [10.0, 25.0, 43.75] {
        let expected = 256 * 1.0 * lam * lam / (pow(4 * Double.pi, 3) * pow(r, 4)) / noise
        #expect(abs(c.targetGainVariance(rangeMeters: r) / expected - 1) < 1e-12)
    }
    // Per-entry SNR of the official code's model at 10 m (|ψ_off|²/σ_n² = E|ψ|²/S): −0.9 dB, i.e. 0.81.
    let perEntry = c.targetGainVariance(rangeMeters: 10) / 256
    #expect(abs(10 * log10(perEntry) - 10 * log10(lam * lam / (pow(4 * Double.pi, 3) * 1e4) / noise)) < 1e-9)
    #expect(perEntry > 0.75 && perEntry < 0.87)
    // R⁻⁴: doubling the range costs 12.04 dB.
    #expect(abs(10 * log10(c.targetGainVariance(rangeMeters: 10) / c.targetGainVariance(rangeMeters: 20)) - 40 * log10(2.0)) < 1e-9)
    // The fixed-SNR model ignores the range.
    let p = MultiTargetConfig.paper
    #expect(p.targetGainVariance(rangeMeters: 10) == p.targetGainVariance(rangeMeters: 100))
}

@Test func drawnLinkBudgetGainsFollowTheRadarEquation() throws {
    // Empirical E[|ψ_t|² R_t⁴] over many targets equals the range-free constant S σ̄ λ²/((4π)³ σ_n²)
    // (ψ_t ~ CN(0, ·): Swerling-1 power with a uniform phase).
    let c = smallOfficialConfig()
    let gen = try ScenarioGenerator(config: c, trueArray: .nominal(antennas: c.antennas, wavelengthMeters: c.wavelengthMeters))
    var acc = 0.0, n = 0
    for i in 0..<3000 {
        var rng = RandomSource(seed: 11, stream: UInt64(i))
        let d = gen.draw(rng: &rng, targetCount: 1)
        acc += d.gains[0].lengthSquared * pow(d.rangesMeters[0], 4); n += 1
    }
    let expected = c.targetGainVariance(rangeMeters: 1)
    // Exponential power: relative standard error 1/√n ≈ 1.8 %; allow 4σ.
    #expect(abs(acc / Double(n) / expected - 1) < 4 / Double(n).squareRoot())
}

@Test func losChannelPowerIsFreeSpace() throws {
    // One path (LOS only): |κ_s|² = (λ/(4πR))² |fᵀa(φ)|² / σ_n² at every subcarrier, R the drawn UE range.
    var c = smallOfficialConfig()
    c.maxCommPaths = 1
    let arr = ArrayImpairment.nominal(antennas: c.antennas, wavelengthMeters: c.wavelengthMeters)
    let gen = try ScenarioGenerator(config: c, trueArray: arr)
    var rng0 = RandomSource(seed: 3, stream: 99)
    let f = rng0.complexGaussianVector(c.antennas, variance: 1)
    for i in 0..<20 {
        var rng = RandomSource(seed: 5, stream: UInt64(i))
        let d = gen.draw(rng: &rng)
        #expect(d.commPaths.count == 1)
        let r = d.commPaths[0].lengthMeters
        #expect(r >= c.commRangeMinMeters && r <= c.commRangeMaxMeters)
        let a = Steering.farField(arr.geometry, direction: Point3(-Double.sin(d.commAngleRad), Double.cos(d.commAngleRad), 0),
                                  wavenumber: 2 * Double.pi / c.wavelengthMeters)
        var g = CDouble.zero
        for k in 0..<c.antennas { g += f[k] * a[k] }
        let lam = c.wavelengthMeters
        let expected = lam * lam / pow(4 * Double.pi * r, 2) * g.lengthSquared / c.linkBudgetNoiseVarianceW
        let o = try gen.observe(d, precoder: f)
        for k in o.csi { #expect(abs(k.lengthSquared / expected - 1) < 1e-9) }
    }
}

@Test func nlosExcessPathStaysWithinTheCyclicPrefix() throws {
    // The Tx–scatterer distance bound keeps R_ts + R_sr − R ≤ R_cp = c·CP/Δf (for scatterers beyond R_c,min);
    // scatterers are at least 0.1° from the LOS and inside the comm sector's 0.1° neighbourhood; P ∈ 1...P_max.
    let c = smallOfficialConfig()
    let gen = try ScenarioGenerator(config: c, trueArray: .nominal(antennas: c.antennas, wavelengthMeters: c.wavelengthMeters))
    let rcp = speedOfLight * c.cyclicPrefixFraction / c.subcarrierSpacingHz
    var seen = Set<Int>()
    for i in 0..<400 {
        var rng = RandomSource(seed: 9, stream: UInt64(i))
        let d = gen.draw(rng: &rng)
        seen.insert(d.commPaths.count)
        #expect((1...c.maxCommPaths).contains(d.commPaths.count))
        let los = d.commPaths[0]
        for p in d.commPaths.dropFirst() {
            #expect(p.lengthMeters - los.lengthMeters <= rcp * (1 + 1e-9))
            #expect(abs(p.angleRad - los.angleRad) >= radians(0.1) * (1 - 1e-9))
        }
    }
    #expect(seen == Set(1...c.maxCommPaths))
}

@Test func arrayPositionsFileRoundTrip() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mt-positions-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var c = MultiTargetConfig.paper
    c.antennas = 6
    let lam = c.wavelengthMeters
    var x: [Double] = []
    for k in 0..<6 {
        let nominal: Double = (Double(k) - 2.5) * lam / 2
        x.append(nominal + 1e-5 * Double(k * k))
    }
    // [K, 1] float64 (the official code's tensor shape) and [K] float32 both load.
    let p64 = dir.appendingPathComponent("p64.npy").path, p32 = dir.appendingPathComponent("p32.npy").path
    try NPY.write(NPYArray(float64: x, shape: [6, 1]), to: p64)
    try NPY.write(NPYArray(float32: x.map(Float.init), shape: [6]), to: p32)
    #expect(try ArrayImpairment.readPositions(npyPath: p64, antennas: 6) == x)
    let x32 = try ArrayImpairment.readPositions(npyPath: p32, antennas: 6)
    #expect(zip(x32, x).allSatisfy { abs($0 - $1) < 1e-9 })
    c.trueArrayPositionsMeters = x
    let sys = try BaselineSystem(config: c, mode: .known, impairmentSeed: 1)
    #expect(sys.trueArray.geometry.positions.map(\.x) == x)
    #expect(sys.assumedArray.geometry.positions.map(\.x) == x)
    let unknown = try BaselineSystem(config: c, mode: .unknown, impairmentSeed: 1)
    #expect(unknown.trueArray.geometry.positions.map(\.x) == x)

    // Bad files: wrong length, integer dtype, complex dtype, NaN, unsorted, missing file.
    func rejected(_ a: NPYArray?, antennas k: Int = 6, path: String? = nil) -> Bool {
        let q = path ?? dir.appendingPathComponent("bad.npy").path
        if let a { try? NPY.write(a, to: q) }
        do {
            var cc = c; cc.trueArrayPositionsMeters = try ArrayImpairment.readPositions(npyPath: q, antennas: k)
            try cc.validate()
            return false
        } catch let ISACError.invalidParameter(name, _, _) { return name == "--array-positions" } catch { return false }
    }
    #expect(rejected(NPYArray(float64: Array(x.prefix(5)), shape: [5])))
    #expect(rejected(NPYArray(int64: [0, 1, 2, 3, 4, 5], shape: [6])))
    #expect(rejected(NPYArray(complex128: x.map { CDouble($0, 0) }, shape: [6])))
    #expect(rejected(NPYArray(float64: [x[0], .nan] + Array(x.dropFirst(2)), shape: [6])))
    #expect(rejected(NPYArray(float64: x.reversed(), shape: [6])))
    #expect(rejected(nil, path: dir.appendingPathComponent("missing.npy").path))
}

@Test func systemValidationNamesTheFlag() throws {
    func flag(_ edit: (inout MultiTargetConfig) throws -> Void) -> String? {
        var c = MultiTargetConfig.paper
        do { try edit(&c); try c.validate(); return nil } catch let ISACError.invalidParameter(name, _, _) { return name } catch { return "?" }
    }
    #expect(flag { $0.targetSector = .fixed(try AngularSector(lowerDeg: -90, upperDeg: -20)) } == "--sector-min/--sector-max")
    #expect(flag { $0.commSector = try AngularSector(lowerDeg: 30, upperDeg: 90) } == "--comm-min/--comm-max")
    // c/(2Δf) = 99.9 m at 1.5 MHz < R_max = 190 m: aliased delays.
    #expect(flag { $0.subcarrierSpacingHz = 1.5e6 } == "--subcarrier-spacing-hz")
    #expect(flag { $0.rangeMinMeters = 50; $0.rangeMaxMeters = 50 } == "--range-min/--range-max")
    #expect(flag { $0.maxTargets = 0 } == "--targets-max")
    #expect(flag { $0.radarGainModel = .linkBudget; $0.rangeMinMeters = 0 } == "--range-min")
    #expect(flag { $0.commRangeMinMeters = 300 } == "--comm-range-min/--comm-range-max")
    #expect(flag { $0.cyclicPrefixFraction = 1.5 } == "--cyclic-prefix-fraction")
    #expect(flag { _ in } == nil)
    var off = MultiTargetConfig.officialCode
    try off.validate()
    // Memory: an absurd sample count or grid is refused up front, naming the dominant flag.
    #expect(throws: ISACError.self) { try off.checkMemory(samples: 1_000_000_000_000, limitBytes: 1e10) }
    off.angleGridSize = 1_000_000
    do { try off.checkMemory(samples: 10, threads: 2, limitBytes: 1e10); Issue.record("expected a memory error") }
    catch let ISACError.invalidParameter(name, _, _) { #expect(name == "--n-theta") }
}

@Test func testSetCalibrationUsesTheEvaluationDraws() throws {
    // With the official protocol δ is calibrated on the evaluated draws: one run, and the measured p_fa is
    // then at most the target by construction (bisection's smallest feasible δ on the same traces).
    var c = smallReceiverSystem(maxTargets: 3)
    c.calibration = .testSet
    let sys = try BaselineSystem(config: c, mode: .none, impairmentSeed: 1)
    var calls: [UInt64] = []
    let gospa = try GOSPA(cutoff: c.effectiveGOSPACutoffMeters, mu: 2, order: 2)
    let ms = try PfaSweep.evaluate(config: c, samples: 120, calibrationSamples: 999, targetPfas: [0.02, 0.1], eta: 1, phi: 0,
                                   gospa: gospa) { n, first in
        calls.append(first)
        return try sys.runBatch(count: n, firstIndex: first, seed: 4, eta: 1, phi: 0)
    }
    #expect(calls == [0])
    #expect(ms[0].detection.falseAlarmProbability <= 0.02)
    #expect(ms[1].detection.falseAlarmProbability <= 0.1)
    #expect(ms.allSatisfy { $0.detection.samples == 120 })
}

@Test func wilsonBandMatchesClosedForms() throws {
    // k = 0: the interval is [0, z²/(n + z²)]; k = n: [n/(n + z²), 1]; symmetric around 1/2 for k = n/2.
    let z = 1.96, z2 = z * z
    let a = PfaSweep.wilsonInterval(successes: 0, trials: 100)
    #expect(a.lower == 0 && abs(a.upper - z2 / (100 + z2)) < 1e-15)
    let b = PfaSweep.wilsonInterval(successes: 100, trials: 100)
    #expect(abs(b.lower - 100 / (100 + z2)) < 1e-15 && abs(b.upper - 1) < 1e-15)
    let c = PfaSweep.wilsonInterval(successes: 50, trials: 100)
    #expect(abs(c.lower + c.upper - 1) < 1e-15 && c.lower < 0.5 && c.upper > 0.5)
    #expect(PfaSweep.wilsonInterval(successes: 0, trials: 0).lower.isNaN)
}

@Test func figure3MapsShareTheSceneAndNormalisation() throws {
    // Ideal map peaks at exactly 1 (normalised by itself); with σ = 0 the impaired array is the nominal one and
    // both maps are identical; with impairments the impaired map differs.
    var c = smallReceiverSystem(maxTargets: 4)
    let f = try AngleDelayMapFigure.make(config: c, impairmentSeed: 1, seed: 3, targets: 4, sensingSNRdB: 20)
    #expect(abs((f.ideal.data.max() ?? 0) - 1) < 1e-15)
    #expect(f.ideal.data != f.impaired.data)
    #expect(f.targetAnglesDeg.count == 4 && f.ideal.rows == c.angleGridSize && f.ideal.cols == c.delayGridSize)
    c.spacingStdMeters = 0
    let g = try AngleDelayMapFigure.make(config: c, impairmentSeed: 1, seed: 3, targets: 4, sensingSNRdB: 20)
    #expect(g.ideal.data == g.impaired.data)
    #expect(throws: ISACError.self) { _ = try AngleDelayMapFigure.make(config: c, impairmentSeed: 1, seed: 3, targets: 5, sensingSNRdB: 20) }
}

@Test func detectionRulesReadThePeakSequence() throws {
    // Peaks 5, 1, 3 at δ = 2: Algorithm 1 stops after the first (T̂ = 1); the official rule counts 5 and 3 (T̂ = 2).
    let a = DetectionTrace(trueCount: 2, peaks: [5, 1, 3])
    let b = DetectionTrace(trueCount: 2, peaks: [5, 1, 3], rule: .allAbove)
    #expect(a.estimatedCount(threshold: 2) == 1 && a.selectedIterations(threshold: 2) == [0])
    #expect(b.estimatedCount(threshold: 2) == 2 && b.selectedIterations(threshold: 2) == [0, 2])
    // Decreasing peaks: both rules agree at every threshold.
    let c = DetectionTrace(trueCount: 1, peaks: [9, 4, 2, 1]), d = DetectionTrace(trueCount: 1, peaks: [9, 4, 2, 1], rule: .allAbove)
    for t in [0.5, 1.5, 3, 5, 10] { #expect(c.selectedIterations(threshold: t) == d.selectedIterations(threshold: t)) }
}
