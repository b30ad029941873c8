import Foundation
import Testing
import Linalg
@testable import ISACIO

/// `ShardSpec.range`: blocks tile 0..<total in shard order, sizes differ by at most one granule, boundaries on granules.
@Test func shardBlocksTileTheWorkInOrder() throws {
    for (total, n, g) in [(23, 3, 1), (17, 5, 1), (100, 7, 1), (400, 4, 64), (130, 2, 64), (5, 5, 1)] {
        var next = 0
        var sizes: [Int] = []
        for i in 0..<n {
            let r = try ShardSpec(index: i, count: n).range(of: total, granule: g)
            #expect(r.lowerBound == next)
            #expect(r.lowerBound % g == 0)
            next = r.upperBound
            sizes.append(r.count)
        }
        #expect(next == total)
        let full = sizes.dropLast()   // the last block may hold the partial granule
        #expect((full.max() ?? 0) - (full.min() ?? 0) <= g)
        #expect(sizes.allSatisfy { $0 > 0 })
    }
}

@Test func shardParsingAndTooManyShardsNameTheFlag() throws {
    #expect(try ShardSpec.parse("2/8") == ShardSpec(index: 2, count: 8))
    for bad in ["8/8", "-1/4", "1/0", "a/b", "3", "1/2/3", ""] {
        do { _ = try ShardSpec.parse(bad); Issue.record("\(bad) accepted") }
        catch let e as ISACError { #expect(e.description.contains("--shard")) }
    }
    do { _ = try ShardSpec(index: 0, count: 6).range(of: 5, countFlag: "--tasks"); Issue.record("6 shards of 5 accepted") }
    catch let e as ISACError { #expect(e.description.contains("--tasks") && e.description.contains("5 samples")) }
    // 130 samples in blocks of 64 are 3 granules: 4 shards would leave one empty.
    #expect(throws: ISACError.self) { _ = try ShardSpec(index: 0, count: 4).range(of: 130, granule: 64) }
}

@Test func shardStoreCollectsCompleteConsistentSets() throws {
    let d = NSTemporaryDirectory() + "isac-shardstore-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { try? FileManager.default.removeItem(atPath: d) }
    let cfg = ["seed": "7", "samples": "10"]
    for i in [2, 0] {
        try ShardStore.write(payload: Data([UInt8(i), 1, 2]), command: "test", shard: try ShardSpec(index: i, count: 3), config: cfg,
                             arguments: ["--seed", "7"], runTimeSeconds: 1, to: d)
    }
    do { _ = try ShardStore.collect([d]); Issue.record("incomplete set accepted") }
    catch let e as ISACError { #expect(e.description.contains("1 of 3 shards missing (1)")) }
    try ShardStore.write(payload: Data([1, 1, 2]), command: "test", shard: try ShardSpec(index: 1, count: 3), config: cfg,
                         arguments: ["--seed", "7"], runTimeSeconds: 1, to: d)
    let all = try ShardStore.collect([d, d])     // a folder given twice is the same shards, not duplicates
    #expect(all.map(\.manifest.shardIndex) == [0, 1, 2])
    #expect(all.map { $0.payload[0] } == [0, 1, 2])
    #expect(ShardManifest.hash(cfg) == ShardManifest.hash(["samples": "10", "seed": "7"]))
    #expect(ShardManifest.hash(cfg) != ShardManifest.hash(["samples": "10", "seed": "8"]))
}
