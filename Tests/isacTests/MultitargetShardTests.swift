import Foundation
import Testing
import _TestSupport

/// `multitarget tradeoff --shard i/n` + `isac merge` (issue 18): the merged folder (tradeoff.csv and every SVG) is
/// byte-identical to the folder of one process, and the merged `--json` summary equals the single run's without
/// the wall-time field. Runs the `isac` binary built beside the test bundle.
private func isac(_ args: [String]) throws -> ProcessRun { try runIsac(args) }

/// The JSON text without the fields that legitimately differ: wall times (and rates) and the output folder's path.
private func comparable(_ s: String) -> String {
    s.replacingOccurrences(of: #""(run_time_s|method_run_time_s|samples_per_s|out)":("[^"]*"|[^,}]*),?"#, with: "", options: .regularExpression)
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A small sweep: two curves, 3 η × 2 φ, uneven shard blocks (13 = 7 + 6, 9 = 5 + 4); ≈ 1 s in debug.
private let tinyTradeoff = ["multitarget", "tradeoff", "--antennas", "16", "--subcarriers", "32", "--n-theta", "64", "--n-tau", "32",
                            "--impairments", "unknown,known", "--etas", "3", "--phases", "2", "--samples", "13",
                            "--calibration-samples", "9", "--seed", "5", "--quiet"]

@Suite struct MultitargetShardTests {
    @Test func shardedTradeoffMergesToTheSingleRunFolder() throws {
        let root = NSTemporaryDirectory() + "isac-mt-shard-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let single = try isac(tinyTradeoff + ["--out", root + "/single", "--json"])
        try #require(single.status == 0, "\(single.stderr)")
        for i in 0..<2 {
            let r = try isac(tinyTradeoff + ["--out", root + "/merged", "--shard", "\(i)/2", "--shard-dir", root + "/shards"])
            try #require(r.status == 0, "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/merged"), "a shard writes no --out; the merge does")
        let m = try isac(["merge", root + "/shards", "--json"])
        try #require(m.status == 0, "\(m.stderr)")
        #expect(comparable(m.stdout) == comparable(single.stdout))
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/single").sorted()
        #expect(files.contains("tradeoff.csv") && files.contains("pmd_vs_eta.svg"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/merged").sorted() == files)
        for f in files {
            let a = FileManager.default.contents(atPath: root + "/single/" + f), b = FileManager.default.contents(atPath: root + "/merged/" + f)
            #expect(a != nil && a == b, "\(f) differs between the single run and the merged shards")
        }
        // The merge refuses to overwrite the now non-empty --out.
        let again = try isac(["merge", root + "/shards", "--json"])
        #expect(again.status != 0 && again.stderr.contains("--out"))
    }

    /// pfa-sweep `--out` with `--shard`: the shards write no files, the merge writes pfa_sweep.csv and both SVGs
    /// byte-identical to one process (uneven blocks: 11 = 6 + 5, 8 = 4 + 4).
    @Test func shardedPfaSweepMergeWritesTheSingleRunFiles() throws {
        let root = tempDir("mt-pfa-out")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sweep = ["multitarget", "pfa-sweep", "--antennas", "16", "--subcarriers", "32", "--n-theta", "64", "--n-tau", "32",
                     "--impairments", "unknown,known", "--pfa-values", "0.01,0.1,0.3", "--samples", "11", "--calibration-samples", "8",
                     "--seed", "4", "--quiet"]
        let single = try isac(sweep + ["--out", root + "/single", "--json"])
        try #require(single.status == 0, "\(single.stderr)")
        for i in 0..<2 {
            let r = try isac(sweep + ["--out", root + "/merged", "--shard", "\(i)/2", "--shard-dir", root + "/shards"])
            try #require(r.status == 0, "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/merged/pfa_sweep.csv"), "a shard writes no --out files; the merge does")
        let m = try isac(["merge", root + "/shards", "--json"])
        try #require(m.status == 0, "\(m.stderr)")
        #expect(comparable(m.stdout) == comparable(single.stdout))
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/single").sorted()
        #expect(files == ["gospa_vs_pfa.svg", "pfa_sweep.csv", "pmd_vs_pfa.svg"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/merged").sorted() == files)
        for f in files {
            let a = FileManager.default.contents(atPath: root + "/single/" + f), b = FileManager.default.contents(atPath: root + "/merged/" + f)
            #expect(a != nil && a == b, "\(f) differs between the single run and the merged shards")
        }
    }

    /// `--calibration test-set` with `--shard`: the shards store their test outcomes only, the merge calibrates δ on
    /// all of them, so the merged evaluate and pfa-sweep objects equal one run's (timings aside).
    @Test func shardedTestSetCalibrationMergesExactly() throws {
        let root = tempDir("mt-testset")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = ["--antennas", "16", "--subcarriers", "32", "--n-theta", "64", "--n-tau", "32", "--calibration", "test-set",
                    "--samples", "13", "--seed", "6", "--quiet"]
        for (name, cmd) in [("evaluate", ["multitarget", "evaluate", "--impairments", "unknown,known"]),
                            ("pfa", ["multitarget", "pfa-sweep", "--impairments", "known", "--pfa-values", "0.05,0.2"])] {
            let single = try isac(cmd + base + ["--json"])
            try #require(single.status == 0, "\(single.stderr)")
            for i in 0..<3 {
                let r = try isac(cmd + base + ["--shard", "\(i)/3", "--shard-dir", root + "/" + name])
                try #require(r.status == 0, "\(r.stderr)")
            }
            let m = try isac(["merge", root + "/" + name, "--json"])
            try #require(m.status == 0, "\(m.stderr)")
            #expect(comparable(m.stdout) == comparable(single.stdout), "\(name)")
        }
    }

    /// `evaluate --json`: every result carries the GOSPA decomposition; its parts add up to the mean GOSPA^p and
    /// sqrt(mean GOSPA^2) >= mean GOSPA (Jensen).
    @Test func evaluateJSONHasTheGOSPADecomposition() throws {
        let r = try isac(["multitarget", "evaluate", "--antennas", "16", "--subcarriers", "32", "--n-theta", "64", "--n-tau", "32",
                          "--impairments", "none,unknown", "--samples", "12", "--calibration-samples", "10", "--json", "--quiet"])
        try #require(r.status == 0, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let results = try #require(obj["results"] as? [[String: Any]])
        #expect(results.count == 2)
        for res in results {
            let g = try #require(res["gospa_decomposition"] as? [String: Double])
            let loc = try #require(g["localization"]), mis = try #require(g["missed"]), fal = try #require(g["false"])
            let pw = try #require(g["mean_gospa_pow_p"]), mean = try #require(res["gospa_m"] as? Double)
            #expect(g["p"] == 2)
            #expect(abs(loc + mis + fal - pw) <= 1e-9 * max(1, pw))
            #expect(pw.squareRoot() >= mean * (1 - 1e-12))
            #expect(loc >= 0 && mis >= 0 && fal >= 0)
        }
    }
}
