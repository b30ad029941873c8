import Testing
import Foundation
@testable import WidebandSensing
import Linalg
import ISACIO

// Issue 18: the Fig. 8 Monte-Carlo trials split into `--shard i/n` blocks merge bit-identically to one run.

/// A small system (N = 16, M = 16) so a full trial (SOMP, refinement, two MUSIC scans, CRB) is fast in debug.
private func smallPlan(_ name: String) throws -> WidebandTrialPlan {
    var o = WidebandFigureOptions()
    o.trials = 2; o.distances = [1, 3]; o.progress = false; o.seed = 11
    return try WidebandTrialPlan(name: name, system: try WidebandSystem(antennas: 16, subcarriers: 16), options: o)
}

@Test func fig8ShardsMergeBitIdenticallyToOneRun() throws {
    let plan = try smallPlan("fig8")
    #expect(plan.count == 2 * 2 * 2)   // placements × distances × trials
    let whole = try plan.run(0..<plan.count)
    #expect(whole.count == plan.count * WidebandTrialPlan.valuesPerTrial)
    #expect(whole.allSatisfy { $0.isFinite && $0 >= 0 })
    // Three uneven shards, each through the exact payload encoding a shard writes.
    var merged: [Double] = []
    for i in 0..<3 {
        let r = try ShardSpec(index: i, count: 3).range(of: plan.count)
        let data = WidebandTrialPlan.encode(try plan.run(r))
        merged += try WidebandTrialPlan.decode(data, path: "shard \(i)")
    }
    #expect(merged.map(\.bitPattern) == whole.map(\.bitPattern))
    // A trial's values do not depend on which block computes it (its own random stream).
    let last = try plan.run((plan.count - 1)..<plan.count)
    #expect(last.map(\.bitPattern) == Array(whole.suffix(WidebandTrialPlan.valuesPerTrial)).map(\.bitPattern))
    // The written figure is byte-identical from both value lists.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wb-shard-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    _ = try plan.write(base: dir + "/a", values: whole)
    _ = try plan.write(base: dir + "/b", values: merged)
    let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.csv")), b = try Data(contentsOf: URL(fileURLWithPath: dir + "/b.csv"))
    #expect(a == b)
    #expect(String(decoding: a, as: UTF8.self).split(separator: "\n").count == 1 + 4)   // header + 2 placements × 2 distances
    // A payload that is not a whole number of trials is refused.
    #expect(throws: ISACError.self) { _ = try WidebandTrialPlan.decode(Data(repeating: 0, count: 12), path: "x") }
    #expect(throws: ISACError.self) { _ = try plan.write(base: dir + "/c", values: Array(whole.dropLast())) }
}

@Test func onlyMonteCarloFiguresAreShardable() throws {
    var o = WidebandFigureOptions(); o.progress = false
    #expect(throws: ISACError.self) { _ = try WidebandTrialPlan(name: "fig5", options: o) }
    let p = try smallPlan("fig8snr")
    #expect(p.count == 2 * WidebandFigures.fig8SNRs.count * 2)
}
