import Testing
import Foundation
import Linalg
@testable import Metrics

/// All permutations-based reference: min over injective maps rows→cols by enumeration.
private func bruteAssignment(_ c: [[Double]]) -> Double {
    let n = c.count
    if n == 0 { return 0 }
    let m = c[0].count
    var best = Double.infinity
    var used = [Bool](repeating: false, count: m)
    func rec(_ i: Int, _ acc: Double) {
        if i == n { best = min(best, acc); return }
        for j in 0..<m where !used[j] {
            used[j] = true; rec(i + 1, acc + c[i][j]); used[j] = false
        }
    }
    rec(0, 0)
    return best
}

/// Eq. (17) evaluated literally: permutations of the larger set, cut-off distances, penalty.
private func bruteGOSPA(_ a: [Position2], _ b: [Position2], c: Double, mu: Double, p: Double) -> Double {
    let (x, y) = a.count <= b.count ? (a, b) : (b, a)
    let cost = x.map { u in y.map { v in pow(min(((u - v) * (u - v)).sum().squareRoot(), c), p) } }
    let s = bruteAssignment(cost) + pow(c, p) / mu * Double(y.count - x.count)
    return pow(s, 1 / p)
}

private func randomSet(_ n: Int, _ rng: inout RandomSource, scale: Double = 100) -> [Position2] {
    (0..<n).map { _ in Position2(rng.uniform(-scale, scale), rng.uniform(-scale, scale)) }
}

@Test func hungarianMatchesBruteForceOnRandomRectangularCosts() throws {
    var rng = RandomSource(seed: 11)
    for trial in 0..<200 {
        let n = rng.integer(in: 1...5)
        let m = rng.integer(in: n...6)
        let c = (0..<n).map { _ in (0..<m).map { _ in trial % 3 == 0 ? Double(rng.integer(in: 0...3)) : rng.uniform(0, 10) } }
        let (asg, cost) = try Hungarian.solve(c)
        #expect(Set(asg).count == n)
        #expect(asg.allSatisfy { $0 >= 0 && $0 < m })
        let recomputed = asg.enumerated().reduce(0.0) { $0 + c[$1.offset][$1.element] }
        #expect(abs(recomputed - cost) < 1e-12)
        #expect(abs(cost - bruteAssignment(c)) < 1e-9)
    }
}

@Test func hungarianRejectsTallAndRaggedInput() {
    #expect(throws: ISACError.self) { try Hungarian.solve([[1], [2]]) }
    #expect(throws: ISACError.self) { try Hungarian.solve([[1, 2], [3]]) }
}

@Test func gospaMatchesBruteForceEquation17() throws {
    var rng = RandomSource(seed: 12)
    for mu in [2.0, 1.0] {
        for p in [1.0, 2.0, 3.0] {
            let g = try GOSPA(cutoff: 40, mu: mu, order: p)
            for _ in 0..<60 {
                let a = randomSet(rng.integer(in: 0...5), &rng)
                let b = randomSet(rng.integer(in: 0...5), &rng)
                let d = g.distance(a, b)
                let ref = bruteGOSPA(a, b, c: 40, mu: mu, p: p)
                #expect(abs(d - ref) <= 1e-9 * max(1, ref))
            }
        }
    }
}

@Test func gospaClosedFormCases() throws {
    let g = try GOSPA(cutoff: 90, mu: 2, order: 2)
    // Empty vs k points: (γ²/2 · k)^{1/2}.
    let three = [Position2(1, 2), Position2(3, 4), Position2(50, 0)]
    #expect(abs(g.distance([], three) - (90.0 * 90 / 2 * 3).squareRoot()) < 1e-12)
    #expect(g.distance([], []) == 0)
    // One pair 3-4-5 apart plus one extra estimate.
    let r = g.evaluate(truth: [Position2(0, 0)], estimate: [Position2(3, 4), Position2(500, 0)])
    #expect(abs(r.distance - (25 + 8100.0 / 2).squareRoot()) < 1e-12)
    #expect(r.falseCount == 1 && r.missedCount == 0)
    #expect(r.pairs.count == 1 && r.pairs[0] == (0, 0))
}

@Test func gospaIsAMetricForMuTwo() throws {
    var rng = RandomSource(seed: 13)
    let g = try GOSPA(cutoff: 30, mu: 2, order: 2)
    for _ in 0..<300 {
        let x = randomSet(rng.integer(in: 0...4), &rng, scale: 40)
        let y = randomSet(rng.integer(in: 0...4), &rng, scale: 40)
        let z = randomSet(rng.integer(in: 0...4), &rng, scale: 40)
        #expect(g.distance(x, x) == 0)
        #expect(abs(g.distance(x, y) - g.distance(y, x)) < 1e-9)
        if x.count + y.count > 0 { #expect(g.distance(x, y) >= 0) }
        #expect(g.distance(x, z) <= g.distance(x, y) + g.distance(y, z) + 1e-9)
        // Relabelling the estimates cannot change an optimal-assignment metric.
        #expect(abs(g.distance(x, y) - g.distance(x, y.reversed())) < 1e-9)
    }
}

@Test func gospaRejectsInvalidParameters() {
    #expect(throws: ISACError.self) { try GOSPA(cutoff: 0) }
    #expect(throws: ISACError.self) { try GOSPA(mu: 2.5) }
    #expect(throws: ISACError.self) { try GOSPA(order: 0.5) }
}

@Test func detectionProbabilitiesFollowEquations20And21() throws {
    var d = try DetectionCounts(maxTargets: 5)
    // (T, T̂) pairs with hand-computed sums.
    let pairs = [(0, 0), (2, 3), (5, 4), (1, 0), (3, 3)]
    for (t, e) in pairs { d.add(trueCount: t, estimatedCount: e) }
    let sumT = 11.0, sumMin = 0 + 2 + 4 + 0 + 3.0, sumFA = 0 + 1 + 0 + 0 + 0.0, sumOpp = 5 + 3 + 0 + 4 + 2.0
    #expect(abs(d.missedDetectionProbability - (1 - sumMin / sumT)) < 1e-15)
    #expect(abs(d.falseAlarmProbability - sumFA / sumOpp) < 1e-15)
    // Perfect detection gives zero for both.
    var perfect = try DetectionCounts(maxTargets: 3)
    for t in 0...3 { perfect.add(trueCount: t, estimatedCount: t) }
    #expect(perfect.missedDetectionProbability == 0 && perfect.falseAlarmProbability == 0)
    // Merging shards equals one batch.
    var a = try DetectionCounts(maxTargets: 5), b = try DetectionCounts(maxTargets: 5)
    for (k, (t, e)) in pairs.enumerated() { if k < 2 { a.add(trueCount: t, estimatedCount: e) } else { b.add(trueCount: t, estimatedCount: e) } }
    #expect(a + b == d)
    #expect(throws: ISACError.self) { try DetectionCounts(maxTargets: -1) }
}

@Test func qpskSerOverAwgnMatchesClosedFormWithin3Sigma() {
    // Unit-energy Gray QPSK, ML (nearest symbol = quadrant) decision, AWGN CN(0, N0).
    var rng = RandomSource(seed: 14, stream: 3)
    let n = 200_000
    for snrDB in [0.0, 4.0, 8.0] {
        let snr = pow(10, snrDB / 10)
        let n0 = 1 / snr
        var ser = SymbolErrorCounts()
        for _ in 0..<n {
            let m = rng.integer(in: 0...3)
            let xr = (m & 1 == 0 ? 1.0 : -1.0) / 2.0.squareRoot()
            let xi = (m & 2 == 0 ? 1.0 : -1.0) / 2.0.squareRoot()
            let w = rng.complexGaussian(variance: n0)
            let yr = xr + w.real, yi = xi + w.imaginary
            let mh = (yr >= 0 ? 0 : 1) | (yi >= 0 ? 0 : 2)
            ser.add(errors: m == mh ? 0 : 1, symbols: 1)
        }
        let pth = ClosedForm.qpskSymbolErrorRate(snr: snr)
        let sigma = (pth * (1 - pth) / Double(n)).squareRoot()
        #expect(abs(ser.rate - pth) < 3 * sigma, "SNR \(snrDB) dB: \(ser.rate) vs \(pth)")
    }
}

@Test func errorAccumulatorRmse() {
    var e = ErrorAccumulator()
    for x in [3.0, -4.0] { e.add(x) }
    #expect(abs(e.rmse - (12.5).squareRoot()) < 1e-15)
    #expect(abs(e.mae - 3.5) < 1e-15)
    #expect(ErrorAccumulator().rmse.isNaN)
}
