import Foundation
import Testing
import Linalg
import Metrics
@testable import MultiTargetISAC

/// `ShardedEvaluation`: outcomes of sample blocks, stored and replayed, give exactly the single-run metrics.
private func shardConfig() -> MultiTargetConfig {
    var c = MultiTargetConfig()
    c.antennas = 16; c.subcarriers = 32; c.angleGridSize = 64; c.delayGridSize = 32; c.maxTargets = 3
    return c
}

private func expectIdentical(_ a: OperatingPointMetrics, _ b: OperatingPointMetrics) {
    #expect(a.threshold.bitPattern == b.threshold.bitPattern)
    #expect(a.normalizedThreshold.bitPattern == b.normalizedThreshold.bitPattern)
    #expect(a.detection == b.detection)
    #expect(a.meanGOSPA.bitPattern == b.meanGOSPA.bitPattern)
    #expect(a.ser == b.ser)
    #expect(a.angleErrorDeg == b.angleErrorDeg && a.rangeErrorMeters == b.rangeErrorMeters)
    #expect(a.grossErrorCount == b.grossErrorCount)
    #expect(a.angleErrorFineDeg == b.angleErrorFineDeg && a.rangeErrorFineMeters == b.rangeErrorFineMeters)
}

@Test func shardedOutcomesReplayToTheSingleRunMetrics() throws {
    let cfg = shardConfig()
    let sys = try BaselineSystem(config: cfg, mode: .unknown, impairmentSeed: 1)
    let gospa = try GOSPA(cutoff: 90, mu: 2, order: 2)
    let (samples, cal, seed, eta, phi) = (21, 15, UInt64(3), 0.6, 0.2)
    let pfas = [1e-2, 0.1, 0.3]
    let single = try PfaSweep.evaluate(config: cfg, samples: samples, calibrationSamples: cal, targetPfas: pfas,
                                       eta: eta, phi: phi, gospa: gospa) { n, f in
        try sys.runBatch(count: n, firstIndex: f, seed: seed, eta: eta, phi: phi)
    }
    // Three uneven blocks, each run on its own, through the binary payload codec.
    let calCuts = [0, 4, 9, cal], testCuts = [0, 10, 11, samples]
    var shards: [[MethodShardResult]] = []
    for s in 0..<3 {
        let c = try sys.runBatch(count: calCuts[s + 1] - calCuts[s], firstIndex: ShardedEvaluation.calibrationStreamOffset + UInt64(calCuts[s]),
                                 seed: seed, eta: eta, phi: phi)
        let t = try sys.runBatch(count: testCuts[s + 1] - testCuts[s], firstIndex: UInt64(testCuts[s]), seed: seed, eta: eta, phi: phi)
        let part = MethodShardResult(label: "unknown", calibrationFirst: calCuts[s], calibration: c, testFirst: testCuts[s], test: t,
                                     runTimeSeconds: Double(s))
        let data = ShardedEvaluation.encode([part])
        shards.append(try ShardedEvaluation.decode(data, path: "shard\(s)"))
        #expect(ShardedEvaluation.encode(shards[s]) == data)
    }
    let combined = try ShardedEvaluation.combine(shards, samples: samples, calibrationSamples: cal)
    #expect(combined.count == 1 && combined[0].runTimeSeconds == 3)
    let merged = try ShardedEvaluation.evaluate(combined[0], config: cfg, targetPfas: pfas, eta: eta, phi: phi, gospa: gospa)
    #expect(merged.count == single.count)
    for (a, b) in zip(merged, single) { expectIdentical(a, b) }
    // A gap (block 1 left out) and a truncated payload are refused, not merged.
    #expect(throws: ISACError.self) { _ = try ShardedEvaluation.combine([shards[0], shards[2]], samples: samples, calibrationSamples: cal) }
    let data = ShardedEvaluation.encode(shards[1])
    #expect(throws: ISACError.self) { _ = try ShardedEvaluation.decode(data.prefix(data.count - 3), path: "cut") }
}
