import Arrays
import Foundation
import Linalg
import Numerics
import Testing
import _TestSupport
import Scattering
@testable import ExtendedDatasets

/// `tinyDatasetConfig` with 3 + 3 / 1 + 1 / 1 + 2 samples in chunks of 3 (a last chunk of one sample).
private func tinyConfig(seed: UInt64 = 5) throws -> DatasetConfig {
    try tinyDatasetConfig(seed: seed, trainCounts: [3, 3], testCounts: [1, 2], samplesPerChunk: 3)
}

private func files(_ dir: String) throws -> [String: Data] {
    var out: [String: Data] = [:]
    for name in ["config.json", "manifest.json"] { out[name] = FileManager.default.contents(atPath: "\(dir)/\(name)") }
    for f in try FileManager.default.contentsOfDirectory(atPath: dir + "/chunks") where !f.hasPrefix(".") {
        out["chunks/" + f] = FileManager.default.contents(atPath: "\(dir)/chunks/\(f)")
    }
    return out
}

@Test func datasetIsBitIdenticalAcrossRunsAndShardLayouts() throws {
    let c = try tinyConfig()
    let a = tempDir("a", prefix: "em", create: false), b = tempDir("b", prefix: "em", create: false), s = tempDir("s", prefix: "em", create: false)
    defer { for d in [a, b, s] { try? FileManager.default.removeItem(atPath: d) } }
    _ = try DatasetWriter.generate(config: c, to: a)
    _ = try DatasetWriter.generate(config: c, to: b)
    // Two shards in reverse order, then merge: same bytes as the single run.
    let r1 = try DatasetWriter.generate(config: c, to: s, shardIndex: 1, shardCount: 2)
    #expect(!r1.manifestWritten)
    #expect(throws: ISACError.self) { try DatasetWriter.merge(dir: s) }
    let r0 = try DatasetWriter.generate(config: c, to: s, shardIndex: 0, shardCount: 2)
    #expect(r0.manifestWritten)
    let fa = try files(a)
    #expect(fa.count == 2 + 2 * c.chunkCount)
    #expect(fa == (try files(b)))
    #expect(fa == (try files(s)))
}

@Test func manifestLabelsAndSplitsAreConsistent() throws {
    let c = try tinyConfig(seed: 9)
    let d = tempDir("m", prefix: "em", create: false)
    defer { try? FileManager.default.removeItem(atPath: d) }
    _ = try DatasetWriter.generate(config: c, to: d)
    let ds = try ExtendedTargetDataset(directory: d)
    #expect(ds.count == c.totalSamples)
    #expect(ds.indices(.train).count == 6 && ds.indices(.val).count == 2 && ds.indices(.test).count == 3)
    #expect(ds.indices(.test).filter { ds.labels[$0].cls == .car }.count == 2)
    // Instance-disjoint splits.
    let ids = DatasetSplit.allCases.map { s in Set(ds.indices(s).map { ds.labels[$0].instanceId }) }
    #expect(ids[0].isDisjoint(with: ids[1]) && ids[0].isDisjoint(with: ids[2]) && ids[1].isDisjoint(with: ids[2]))
    for l in ds.labels {
        // Eq. (22) from the recorded centre, and the sampled range/azimuth box.
        #expect(abs(l.rangeM - (l.center[0] * l.center[0] + l.center[1] * l.center[1]).squareRoot()) < 1e-9)
        #expect(l.rangeM >= c.rangeMinM - 1e-6 && l.rangeM <= c.rangeMaxM + 1e-6)
        #expect(l.azimuthDeg >= c.azimuthMinDeg - 1e-6 && l.azimuthDeg <= c.azimuthMaxDeg + 1e-6)
        #expect(l.voxelCount > 0)
    }
    // A stored tensor equals a fresh Born solve of the same sample (complex64 rounding only).
    let (h, lab) = try ExtendedTargetGenerator.sample(4, config: c, array: try c.array())
    #expect(lab == ds.labels[4])
    let stored = try ds.channel(4)
    for i in stored.indices {
        #expect(abs(Double(stored[i].real) - h.data[i].real) <= 1e-6 * h.norm)
        #expect(abs(Double(stored[i].imaginary) - h.data[i].imaginary) <= 1e-6 * h.norm)
    }
    let real = try ds.realTensor(4)
    #expect(real.count == 2 * stored.count && real[0] == stored[0].real && real[stored.count] == stored[0].imaginary)
    let (x, shape, labs) = try ds.load(.val)
    #expect(shape == [2, 2, 4, 4, 2] && x.count == shape.reduce(1, *) && labs.count == 2)
}

@Test func resumeRecomputesDeletedChunkAndRejectsCorruptedOne() throws {
    let c = try tinyConfig(seed: 3)
    let ref = tempDir("ref", prefix: "em", create: false), d = tempDir("res", prefix: "em", create: false)
    defer { for x in [ref, d] { try? FileManager.default.removeItem(atPath: x) } }
    _ = try DatasetWriter.generate(config: c, to: ref)
    // Interrupted run: only the first chunk.
    let first = try DatasetWriter.generate(config: c, to: d, limitChunks: 1)
    #expect(first.chunksWritten == 1 && !first.manifestWritten)
    // A fresh run into a non-empty folder is refused; resume continues.
    #expect(throws: ISACError.self) { try DatasetWriter.generate(config: c, to: d) }
    // A data file without its completion record (crash between the two writes) is recomputed.
    try Data("garbage".utf8).write(to: URL(fileURLWithPath: d + "/chunks/chunk-000002.npy"))
    let r = try DatasetWriter.generate(config: c, to: d, resume: true)
    #expect(r.chunksSkipped == 1 && r.chunksWritten == c.chunkCount - 1 && r.manifestWritten)
    #expect((try files(d)) == (try files(ref)))
    // Deleted chunk (data + record) → recomputed identically.
    try FileManager.default.removeItem(atPath: d + "/chunks/chunk-000001.npy")
    try FileManager.default.removeItem(atPath: d + "/chunks/chunk-000001.json")
    let r2 = try DatasetWriter.generate(config: c, to: d, resume: true)
    #expect(r2.chunksWritten == 1)
    #expect((try files(d)) == (try files(ref)))
    // Corrupted chunk (one flipped byte) → clear error on resume and on load.
    let p = d + "/chunks/chunk-000000.npy"
    var bytes = try Data(contentsOf: URL(fileURLWithPath: p))
    bytes[bytes.count - 3] ^= 0x40
    try bytes.write(to: URL(fileURLWithPath: p))
    #expect(throws: ISACError.self) { try DatasetWriter.generate(config: c, to: d, resume: true) }
    #expect(throws: ISACError.self) { try ExtendedTargetDataset(directory: d).channel(0) }
    // Resume with different settings is refused.
    var other = c; other.seed = 4
    #expect(throws: ISACError.self) { try DatasetWriter.generate(config: other, to: ref, resume: true) }
}

// Bad-input cases (one test each) are in BadInputTests.swift.

@Test func vehiclesHaveDistinctInstancesAndMaterials() throws {
    let c = try tinyConfig()
    let a = ExtendedTargetGenerator.instance(.car, index: 0, config: c)
    let b = ExtendedTargetGenerator.instance(.car, index: 1, config: c)
    #expect(a != b && a == ExtendedTargetGenerator.instance(.car, index: 0, config: c))
    var full = c; full.targetScale = 1; full.voxelPitchM = 0.06
    var rng = RandomSource(seed: 1, stream: 0)
    let mats = try full.materials.draw(&rng)
    for cls in VehicleClass.allCases {
        let shape = ExtendedTargetGenerator.instance(cls, index: 2, config: full)
        let t = try ExtendedTargetGenerator.place(shape, rangeM: 10, azimuthRad: 0.3, headingRad: 1.0, materials: mats, config: full)
        let used = Set(t.material.filter { $0 != 0 })
        // Cars have metal, tyres and glass; motorbikes metal, tyres and a seat.
        #expect(used.isSuperset(of: cls == .car ? [1, 2, 3] : [1, 2, 4]))
        let ctr = t.supportCenter
        #expect(abs((ctr.x * ctr.x + ctr.y * ctr.y).squareRoot() - 10) < 1e-9)
        #expect(abs(Double.atan2(y: ctr.y, x: ctr.x) - 0.3) < 1e-9)
    }
}

/// `DatasetConfig.vieDiscretization`: nil keeps the config JSON (and so the hash of every existing dataset)
/// unchanged, a set value changes the hash, and the dataset's VIE solve uses exactly the named scheme.
@Test func vieDiscretizationIsHonouredAndOnlyHashedWhenSet() throws {
    var c = try tinyDatasetConfig()
    c.solver = .vie; c.vieTolerance = 1e-6
    let json = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
    #expect(!json.contains("vieDiscretization"), "nil must not appear in the config JSON")
    var p = c; p.vieDiscretization = .pointMatched
    #expect(try DatasetWriter.configHash(p) != DatasetWriter.configHash(c))
    let array = try SensingArray.cross(antennas: 4, carrierHz: 4.9e9, subcarriers: 2, subcarrierSpacingHz: 50e6)
    let lam = speedOfLight / array.frequenciesHz.max()!
    let t = try VoxelTarget.box(center: Point3(3, 0, 0), size: Point3(0.05, 0.04, 0.04), pitch: lam / 8,
                                material: try Material(name: "dielectric", relativePermittivity: CDouble(4, -0.5), conductivity: 0))
    let (hPoint, _) = try ExtendedTargetGenerator.solve(t, array: array, config: p)
    let (hDefault, _) = try ExtendedTargetGenerator.solve(t, array: array, config: c)
    let (rPoint, _) = try VIESolver.channel(target: t, array: array, tolerance: 1e-6, restart: 100, discretization: .pointMatched)
    let (rDefault, _) = try VIESolver.channel(target: t, array: array, tolerance: 1e-6, restart: 100)
    #expect(hPoint.data == rPoint.data, "the dataset solve must use the configured scheme")
    #expect(hDefault.data == rDefault.data)
    // The two schemes differ by more than the solve tolerance on this box (else the test could not tell them apart).
    var num = 0.0, den = 0.0
    for (a, b) in zip(hPoint.data, hDefault.data) { num += (a - b).lengthSquared; den += b.lengthSquared }
    #expect((num / den).squareRoot() > 1e-3)
}

/// A feature pitch beyond λ_min fills the vehicle solid (and used to run unbounded): the config refuses it, naming
/// the flag, while λ_min itself and the voxel pitch are accepted.
@Test func featurePitchIsBoundedByTheShortestWavelength() throws {
    var c = try tinyDatasetConfig()
    let lam = c.shortestWavelengthM
    for bad in [lam * 1.01, 1e300, .infinity, .nan, 0, -lam] {
        var b = c; b.featurePitchM = bad
        do { try b.validate(); Issue.record("feature pitch \(bad) accepted") } catch let e as ISACError {
            #expect("\(e)".contains("--feature-pitch"))
        }
    }
    for good in [lam, c.voxelPitchM] { c.featurePitchM = good; try c.validate() }
}
