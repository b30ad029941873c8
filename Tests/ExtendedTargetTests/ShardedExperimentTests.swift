import ExtendedDatasets
import Testing
import Foundation
import Linalg
import ISACIO
import Scattering
@testable import ExtendedTarget

@Suite("Sharded experiments (issue 18)")
struct ShardedExperimentTests {
    /// An 8-sample Born dataset (4 × 4 antennas, 2 tones).
    func tinyDataset() throws -> String {
        var c = try DatasetConfig.preset("small", solver: .born, seed: 5)
        c.antennas = 4; c.subcarriers = 2; c.targetScale = 0.1
        c.trainCounts = [2, 2]; c.valCounts = [1, 1]; c.testCounts = [1, 1]
        c.trainInstances = 1; c.valInstances = 1; c.testInstances = 1; c.samplesPerChunk = 8
        let dir = NSTemporaryDirectory() + "xt-shard-ds-\(UUID().uuidString)"
        _ = try DatasetWriter.generate(config: c, to: dir)
        return dir
    }

    @Test("table2 as 3 shards + merge == one process byte for byte; the plan is exactly the runs trained; merge refuses missing shards and other seeds")
    func shardedTable2() throws {
        let ds = try tinyDataset()
        let a = NSTemporaryDirectory() + "xt-shard-a-\(UUID().uuidString)", b = NSTemporaryDirectory() + "xt-shard-b-\(UUID().uuidString)"
        defer { for d in [ds, a, b] { try? FileManager.default.removeItem(atPath: d) } }
        var p = try ExperimentPreset.named("small")
        p.size = try NetworkSize(channels: [2, 4, 4], tokenGrid: 1, modelSize: 8, heads: 2, embedSize: 8)
        p.epochs = 1; p.batchSize = 2; p.seeds = [42]
        let d = try ExperimentData(directory: ds)

        // One process.
        let ra = ExperimentRunner(preset: p, data: d, directory: a, quiet: true)
        _ = try ExperimentSuite(runner: ra).run("table2")
        let plan = try ExperimentSuite(runner: ra).plannedRuns("table2")
        let cached = try FileManager.default.contentsOfDirectory(atPath: a + "/runs").filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
        #expect(plan.count == Method.table2.count)
        #expect(Set(plan.map(\.key)) == Set(cached))

        // Three shards into another folder, merged.
        let rb = ExperimentRunner(preset: p, data: d, directory: b, quiet: true)
        #expect(throws: ISACError.self) { try ShardedExperiment.merge("table2", runner: rb, epochs: nil) }   // no shards yet
        var owned: [String] = []
        for i in [0, 2] { owned += try ShardedExperiment.runShard("table2", runner: rb, shard: ShardSpec(index: i, count: 3), epochs: nil, arguments: []) }
        #expect(throws: ISACError.self) { try ShardedExperiment.merge("table2", runner: rb, epochs: nil) }   // shard 1 missing
        owned += try ShardedExperiment.runShard("table2", runner: rb, shard: ShardSpec(index: 1, count: 3), epochs: nil, arguments: [])
        #expect(owned.sorted() == plan.map(\.key).sorted())          // the shards tile the plan
        var other = p; other.seeds = [43]
        #expect(throws: ISACError.self) {
            try ShardedExperiment.merge("table2", runner: ExperimentRunner(preset: other, data: d, directory: b, quiet: true), epochs: nil)
        }
        let files = try ShardedExperiment.merge("table2", runner: rb, epochs: nil)
        #expect(files == [b + "/table2.csv", b + "/table2.svg"])
        for f in ["table2.csv", "table2.svg"] {
            let x = FileManager.default.contents(atPath: a + "/" + f), y = FileManager.default.contents(atPath: b + "/" + f)
            #expect(x != nil && x == y, "\(f) differs between the sharded and the single run")
        }
        // A cached run deleted after the shards finished: the merge names it instead of retraining.
        try FileManager.default.removeItem(atPath: rb.jsonPath(plan[0].key))
        #expect(throws: ISACError.self) { try ShardedExperiment.merge("table2", runner: rb, epochs: nil) }
        #expect(!FileManager.default.fileExists(atPath: rb.jsonPath(plan[0].key)))
        // The run cache is keyed by (method, seed, K_s, fraction); a run asked with other training settings
        // (here 2 epochs against the cached 1) must be refused, never answered from the 1-epoch cache.
        let longer = ExperimentRunner(preset: p, data: d, directory: a, quiet: true)
        longer.epochsOverride = 2
        do {
            _ = try ExperimentSuite(runner: longer).run("table2")
            Issue.record("a 2-epoch run was answered from the 1-epoch cache")
        } catch let ISACError.invalidParameter(name, _, valid) {
            #expect(name == "--out" && valid.contains("epochs 1 (cached) vs 2 (asked)"), "\(valid)")
        }
        // More tasks than runs.
        #expect(throws: ISACError.self) {
            try ShardedExperiment.runShard("table2", runner: rb, shard: ShardSpec(index: 0, count: plan.count + 1), epochs: nil, arguments: [])
        }
    }
}
