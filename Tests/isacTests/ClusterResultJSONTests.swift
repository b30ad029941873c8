import Foundation
import ISACIO
import Testing
@testable import isac

/// `ResultJSON` (ISACIO/ResultJSON.swift): a `Codable` result prints the bytes `JSONOutput.string` prints for the
/// `[String: Any]` dictionary with the same keys and Swift value types (the dictionaries the CLI built before).
@Suite struct ClusterResultJSONTests {
    private struct Inner: Encodable {
        var pMD: Double
        var count: Int
        enum CodingKeys: String, CodingKey { case count, pMD = "p_md" }
    }

    private struct Outer: Encodable {
        var name: String
        var seed: UInt64
        var flag: Bool
        var small: Float
        var values: [Double]
        var grid: [[Double]]
        var inner: Inner
        var byMode: [String: Inner]
        var absent: Int?
        var present: String?
        var rows: [Inner]
    }

    @Test func codableResultPrintsTheDictionaryBytes() throws {
        let value = Outer(name: "a/b \"q\"", seed: UInt64.max, flag: true, small: 0.1, values: [1, 0.5, -2.25e-7, .nan, .infinity, 3e300],
                          grid: [[1, 2], [], [0.1]], inner: Inner(pMD: 0.125, count: 3),
                          byMode: ["known": Inner(pMD: 1, count: 0), "unknown": Inner(pMD: .nan, count: -4)],
                          absent: nil, present: "x", rows: [Inner(pMD: 2, count: 1)])
        let dict: [String: Any] = [
            "name": "a/b \"q\"", "seed": UInt64.max, "flag": true, "small": Float(0.1),
            "values": [1.0, 0.5, -2.25e-7, Double.nan, Double.infinity, 3e300], "grid": [[1.0, 2.0], [Double](), [0.1]],
            "inner": ["p_md": 0.125, "count": 3] as [String: Any],
            "byMode": ["known": ["p_md": 1.0, "count": 0] as [String: Any], "unknown": ["p_md": Double.nan, "count": -4] as [String: Any]],
            "present": "x", "rows": [["p_md": 2.0, "count": 1] as [String: Any]],
        ]
        #expect(try ResultJSON.string(value) == JSONOutput.string(dict))
        // A value that is not Encodable passes through unchanged; a tree reads back as an object.
        #expect(try JSONOutput.string(ResultJSON.tree(dict)) == JSONOutput.string(dict))
        let o = try ResultJSON.object(value)
        #expect(o["absent"] == nil && (o["inner"] as? [String: Any])?["count"] as? Int == 3)
    }

    /// The result structs of the cluster, merge, dataset and rate commands against the dictionaries they replaced.
    @Test func commandResultsKeepTheirKeys() throws {
        let slurm = ClusterSlurmResult(tasks: 2, dir: "/d", arrayScript: "/d/a", mergeScript: "/d/m", prepareScript: nil, result: "/r",
                                       arrayJobID: "7", mergeJobID: "8", prepareJobID: nil)
        #expect(try ResultJSON.string(slurm) == JSONOutput.string(["array_job_id": "7", "merge_job_id": "8", "tasks": 2, "dir": "/d",
                                                                  "array_script": "/d/a", "merge_script": "/d/m", "result": "/r"] as [String: Any]))
        let dry = ClusterSlurmResult(dryRun: true, tasks: 1, dir: "/d", arrayScript: "A", mergeScript: "M", prepareScript: "P", result: "/r")
        #expect(try ResultJSON.string(dry) == JSONOutput.string(["dry_run": true, "tasks": 1, "dir": "/d", "array_script": "A",
                                                                "merge_script": "M", "prepare_script": "P", "result": "/r"] as [String: Any]))
        let rate = RateResult(rate: 5.5, totalTones: 64, sensingTones: 4, communicationTones: 60, snrDB: 15, perToneSNRdB: 15.2, units: "bit/s/Hz",
                              monteCarlo: RateResult.MonteCarlo(trials: 10, seed: 3, rate: 5.4, standardError: 0.1))
        #expect(try ResultJSON.string(rate) == JSONOutput.string([
            "rate": 5.5, "total_tones": 64, "sensing_tones": 4, "communication_tones": 60, "snr_db": 15.0, "per_tone_snr_db": 15.2,
            "units": "bit/s/Hz", "monte_carlo": ["trials": 10, "seed": UInt64(3), "rate": 5.4, "standard_error": 0.1] as [String: Any],
        ] as [String: Any]))
        let report = ShardReport(shard: "1/3", record: "d/r.json", resumed: false, runTimeSeconds: 0.25)
        #expect(try ResultJSON.string(report) == JSONOutput.string(["shard": "1/3", "record": "d/r.json", "resumed": false, "run_time_s": 0.25] as [String: Any]))
    }
}
