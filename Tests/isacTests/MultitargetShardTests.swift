import Foundation
import Testing
import _TestSupport

/// `multitarget tradeoff --shard i/n` + `isac merge` (issue 18): the merged folder (tradeoff.csv and every SVG) is
/// byte-identical to the folder of one process, and the merged `--json` summary equals the single run's without
/// the wall-time field. Runs the `isac` binary built beside the test bundle.
private func isac(_ args: [String]) throws -> ProcessRun { try runIsac(args) }

/// The JSON text without the fields that legitimately differ: wall time and the output folder's path.
private func comparable(_ s: String) -> String {
    s.replacingOccurrences(of: #""(run_time_s|out)":("[^"]*"|[^,}]*),?"#, with: "", options: .regularExpression)
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
}
