import Testing
import Foundation
import Linalg
import Metrics

/// `GOSPA.components`: hand-made sets with closed-form parts, and the identity localization + missed + false =
/// d^p of `GOSPA.evaluate` on random sets for several (γ, μ, p).
@Suite struct GOSPAComponentsTests {
    private func close(_ a: Double, _ b: Double, _ tol: Double = 1e-12) -> Bool { abs(a - b) <= tol * max(1, abs(a), abs(b)) }

    @Test func handMadeSetsMatchTheClosedForm() throws {
        let g = try GOSPA(cutoff: 10, mu: 2, order: 2)
        // One truth localized at distance 5 (3-4-5), one missed: 25 + γ²/2.
        var c = g.components(truth: [Position2(0, 0), Position2(20, 0)], estimate: [Position2(3, 4)])
        #expect(c.localization == 25 && c.missed == 50 && c.falseTargets == 0)
        #expect(c.missedCount == 1 && c.falseCount == 0 && c.localizedCount == 1)
        #expect(close(c.total, pow(g.distance([Position2(0, 0), Position2(20, 0)], [Position2(3, 4)]), 2)))
        #expect(close(c.total, 75))
        // One truth localized at 1 m, one false target far away: 1 + γ²/2.
        c = g.components(truth: [Position2(0, 0)], estimate: [Position2(100, 0), Position2(1, 0)])
        #expect(c.localization == 1 && c.missed == 0 && c.falseTargets == 50 && c.falseCount == 1)
        // A pair beyond the cut-off: one missed plus one false target, γ²/2 each, nothing localized.
        c = g.components(truth: [Position2(0, 0)], estimate: [Position2(50, 0)])
        #expect(c.localization == 0 && c.missed == 50 && c.falseTargets == 50)
        #expect(c.missedCount == 1 && c.falseCount == 1 && c.localizedCount == 0)
        #expect(close(c.total, pow(g.distance([Position2(0, 0)], [Position2(50, 0)]), 2)))
        // No estimates, μ = 1, p = 1: every truth costs γ/μ.
        let g1 = try GOSPA(cutoff: 10, mu: 1, order: 1)
        c = g1.components(truth: [Position2(0, 0), Position2(5, 5)], estimate: [])
        #expect(c.missed == 20 && c.localization == 0 && c.falseTargets == 0 && c.missedCount == 2)
        #expect(g.components(truth: [], estimate: []) == GOSPAComponents())
    }

    @Test func partsSumToTheGOSPAPowerOnRandomSets() throws {
        var rng = RandomSource(seed: 11, stream: 0)
        for (cut, mu, p) in [(90.0, 2.0, 2.0), (10.0, 2.0, 1.0), (25.0, 1.0, 2.0), (40.0, 0.5, 3.0)] {
            let g = try GOSPA(cutoff: cut, mu: mu, order: p)
            for _ in 0..<200 {
                let nt = Int(rng.uniform() * 6), ne = Int(rng.uniform() * 6)
                let pt = (0..<nt).map { _ in Position2(rng.uniform() * 100, rng.uniform() * 100 - 50) }
                let pe = (0..<ne).map { _ in Position2(rng.uniform() * 100, rng.uniform() * 100 - 50) }
                let c = g.components(truth: pt, estimate: pe)
                let d = g.evaluate(truth: pt, estimate: pe)
                #expect(close(c.total, pow(d.distance, p), 1e-10))
                #expect(c.localizedCount + c.missedCount == nt && c.localizedCount + c.falseCount == ne)
                #expect(c.localization >= 0 && c.localization <= Double(c.localizedCount) * pow(cut, p))
            }
        }
    }
}
