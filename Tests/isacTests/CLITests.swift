import Foundation
import Testing
import _TestSupport
import Waveforms

/// End-to-end checks of the `isac` CLI contract (JSON on stdout, errors naming the flag, `--help`
/// everywhere), run against the binary SwiftPM builds next to the test bundle.
private enum CLIError: Error { case missing(String) }

private func isac(_ args: [String]) throws -> ProcessRun { try runIsac(args) }

private func jsonObject(_ s: String) throws -> [String: Any] {
    let obj = try JSONSerialization.jsonObject(with: Data(s.utf8))
    guard let d = obj as? [String: Any] else { throw CLIError.missing("a JSON object on stdout, got: \(s)") }
    return d
}

@Suite struct CLITests {
    @Test func rateJSONMatchesTheClosedForm() throws {
        let r = try isac(["rate", "--total-tones", "64", "--sensing-tones", "4", "--snr-db", "15", "--json"])
        #expect(r.status == 0)
        let rate = try #require(try jsonObject(r.stdout)["rate"] as? Double)
        let exact = try ErgodicRate.exact(totalTones: 64, sensingTones: 4, snrDB: 15)
        #expect(Swift.abs(rate - exact) <= 1e-12 * exact)
        // Eq. (19) at K_s = 4 of 64: (60/64)·E[log2(1 + ρ|h|²)] is below the AWGN bound (60/64)·log2(1 + ρ).
        #expect(rate < 60.0 / 64.0 * Foundation.log2(1 + Foundation.pow(10, 1.5) * 64 / 60))
    }

    @Test func badInputNamesTheFlagAndFails() throws {
        let r = try isac(["rate", "--total-tones", "64", "--sensing-tones", "64", "--snr-db", "15", "--json"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("sensing-tones"))
        #expect(r.stdout.isEmpty)
        let w = try isac(["wideband", "coherence-threshold", "--delta", "1.5", "--json"])
        #expect(w.status != 0)
        #expect(w.stderr.contains("--delta"))
    }

    @Test func coherenceThresholdIsTheFirstCrossing() throws {
        let r = try isac(["wideband", "coherence-threshold", "--delta", "0.5", "--json"])
        #expect(r.status == 0)
        let zeta = try #require(try jsonObject(r.stdout)["zeta"] as? Double)
        // Paper, Sec. III: ζ_0.5 ≈ 1.55.
        #expect(Swift.abs(zeta - 1.55) < 0.02 * 1.55)
    }

    @Test func everyCommandGroupHasHelp() throws {
        for group in ["demo", "rate", "wideband", "multitarget", "scatter", "dataset", "extended", "bench"] {
            let r = try isac([group, "--help"])
            #expect(r.status == 0, "isac \(group) --help failed: \(r.stderr)")
            #expect(r.stdout.contains("USAGE"), "isac \(group) --help printed no usage")
        }
    }
}
