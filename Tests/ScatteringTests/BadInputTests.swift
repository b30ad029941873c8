import Arrays
import ExtendedDatasets
import Foundation
import Linalg
import Numerics
import Testing
import _TestSupport
@testable import Scattering

// One test per bad-input case of issue 5. Each asserts *which* parameter the error names (a clear
// error), and the dataset cases also assert that nothing is left looking complete.

/// Runs `body`, expecting `ISACError.invalidParameter` whose name contains `name`.
private func expectInvalidParameter(_ name: String, sourceLocation: SourceLocation = #_sourceLocation,
                                    _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an invalidParameter error naming \(name)", sourceLocation: sourceLocation)
    } catch let ISACError.invalidParameter(name: n, value: _, valid: valid) {
        #expect(n.contains(name), "error names \(n), expected \(name)", sourceLocation: sourceLocation)
        #expect(!valid.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

/// Tiny Born dataset config (4 antennas, 2 subcarriers, tiny vehicles) so these run in seconds in debug: the shared
/// `_TestSupport.tinyDatasetConfig` with its default counts (the same values this file's copy had).
private func tinyConfig(seed: UInt64 = 5) throws -> DatasetConfig { try tinyDatasetConfig(seed: seed) }

/// Chunk indices that have a completion record (`chunk-NNNNNN.json`) in `dir/chunks`.
private func recordedChunks(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/chunks")) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
}

@Test func vieRejectsVoxelPitchAboveHalfWavelength() throws {
    let arr = try SensingArray.cross(antennas: 4, subcarriers: 2)
    let lamMin = speedOfLight / arr.frequenciesHz.max()!
    let m = try Material(name: "m", relativePermittivity: CDouble(2, 0), conductivity: 0)
    let coarse = try VoxelTarget.box(center: Point3(3, 0, 0), size: Point3(0.2, 0.2, 0.2), pitch: 0.51 * lamMin, material: m)
    expectInvalidParameter("voxel-pitch") { _ = try VIESolver.channel(target: coarse, array: arr) }
    // The dataset config refuses it before any sample is computed; λ/2 itself is accepted and Born
    // has no such limit.
    var c = try tinyConfig(); c.solver = .vie; c.voxelPitchM = 0.51 * speedOfLight / (c.carrierHz + Double(c.subcarriers - 1) / 2 * c.subcarrierSpacingHz)
    expectInvalidParameter("voxel-pitch") { try c.validate() }
    c.voxelPitchM = 0.5 * speedOfLight / (c.carrierHz + Double(c.subcarriers - 1) / 2 * c.subcarrierSpacingHz)
    try c.validate()
    _ = try BornSolver.channel(target: coarse, array: arr)
}

@Test func negativeConductivityIsRejected() throws {
    expectInvalidParameter("conductivity") { _ = try Material(name: "metal", relativePermittivity: CDouble(1, 0), conductivity: -5) }
    expectInvalidParameter("conductivity") { _ = try Fields.contrast(relativePermittivity: CDouble(1, 0), conductivity: -1e-3, frequencyHz: 4.9e9) }
    // A dataset whose material ranges allow σ < 0 fails on the first draw, naming the material.
    var ranges = MaterialRanges(); ranges.metalSigma = -1 ... -0.5
    var rng = RandomSource(seed: 1, stream: 0)
    expectInvalidParameter("conductivity (metal)") { _ = try ranges.draw(&rng) }
    // A gain (Im ε_r > 0 in the e^{jωt} convention) is rejected as well.
    expectInvalidParameter("relativePermittivity") { _ = try Material(name: "gain", relativePermittivity: CDouble(2, 0.1), conductivity: 0) }
}

@Test func targetOverlappingTheArrayIsRejected() throws {
    let arr = try SensingArray.cross(antennas: 4, subcarriers: 1)
    let m = try Material(name: "m", relativePermittivity: CDouble(2, 0), conductivity: 0)
    // A box around the array centre, and one that just touches a Tx element (within one pitch).
    let around = try VoxelTarget.box(center: Point3(0.01, 0, 0), size: Point3(0.1, 0.1, 0.1), pitch: 0.02, material: m)
    let ty = arr.tx.positions[3]
    let touching = try VoxelTarget.box(center: ty + Point3(0.015, 0, 0), size: Point3(0.02, 0.02, 0.02), pitch: 0.02, material: m)
    for t in [around, touching] {
        expectInvalidParameter("target position") { _ = try BornSolver.channel(target: t, array: arr) }
        expectInvalidParameter("target position") { _ = try VIESolver.channel(target: t, array: arr) }
    }
    // Dataset whose range box puts vehicles on the array: the run fails and leaves no finished chunk.
    var c = try tinyConfig(); c.rangeMinM = 0.01; c.rangeMaxM = 0.02; c.arrayHeightM = 0.05
    let d = tempDir("overlap", prefix: "em-bad", create: false)
    defer { try? FileManager.default.removeItem(atPath: d) }
    expectInvalidParameter("target position") { _ = try DatasetWriter.generate(config: c, to: d) }
    #expect(recordedChunks(d).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: d + "/manifest.json"))
}

@Test func unwritableOutputFolderFailsBeforeWritingAnything() throws {
    let c = try tinyConfig()
    let base = tempDir("ro", prefix: "em-bad", create: false)
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    defer { chmod(base, 0o755); try? FileManager.default.removeItem(atPath: base) }
    // A path below a regular file can never be created (not even by root).
    let file = base + "/plain-file"
    try Data("x".utf8).write(to: URL(fileURLWithPath: file))
    expectInvalidParameter("--out") { _ = try DatasetWriter.generate(config: c, to: file + "/ds") }
    expectInvalidParameter("--out") { _ = try DatasetWriter.generate(config: c, to: file) }
    expectInvalidParameter("--out") { try OutputFolder.ensureWritable(file + "/sub", flag: "--out") }
    // A read-only folder (permission bits are ignored for root, so only checked when they apply).
    let ro = base + "/readonly"
    try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
    chmod(ro, 0o555)
    if access(ro, W_OK) != 0 {
        expectInvalidParameter("--out") { _ = try DatasetWriter.generate(config: c, to: ro) }
        expectInvalidParameter("--out") { _ = try DatasetWriter.generate(config: c, to: ro + "/ds") }
    }
    chmod(ro, 0o755)
    for p in [file + "/ds", ro, ro + "/ds"] {
        #expect(!FileManager.default.fileExists(atPath: p + "/manifest.json"))
        #expect(recordedChunks(p).isEmpty)
    }
}

@Test func corruptedShardIsRejectedWhenResuming() throws {
    let c = try tinyConfig(seed: 8)
    let d = tempDir("corrupt", prefix: "em-bad", create: false)
    defer { try? FileManager.default.removeItem(atPath: d) }
    // Interrupted run: two of the chunks finished, no manifest yet.
    _ = try DatasetWriter.generate(config: c, to: d, limitChunks: 2)
    #expect(!FileManager.default.fileExists(atPath: d + "/manifest.json"))
    let p0 = d + "/chunks/chunk-000000.npy"
    let good = try Data(contentsOf: URL(fileURLWithPath: p0))
    func expectMalformed(_ file: String) {
        do {
            _ = try DatasetWriter.generate(config: c, to: d, resume: true)
            Issue.record("resume accepted a corrupted chunk")
        } catch let ISACError.malformedFile(path: path, reason: reason) {
            #expect(path.hasSuffix(file))
            #expect(reason.contains("--resume"))  // says how to recover
        } catch { Issue.record("unexpected error \(error)") }
        // The failed resume must not have produced a manifest that would make the dataset look complete.
        #expect(!FileManager.default.fileExists(atPath: d + "/manifest.json"))
    }
    // (a) one flipped bit in the payload (same size, different CRC-32),
    var flipped = good; flipped[flipped.count - 5] ^= 0x01
    try flipped.write(to: URL(fileURLWithPath: p0))
    expectMalformed("chunk-000000.npy")
    // (b) a truncated file,
    try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: p0))
    expectMalformed("chunk-000000.npy")
    // (c) the data file deleted while its completion record remains.
    try FileManager.default.removeItem(atPath: p0)
    expectMalformed("chunk-000000.npy")
    // (d) an unreadable completion record.
    try good.write(to: URL(fileURLWithPath: p0))
    try Data("{ not json".utf8).write(to: URL(fileURLWithPath: d + "/chunks/chunk-000001.json"))
    expectMalformed("chunk-000001.json")
    // Following the message (delete data + record, resume) recovers the single-run result exactly.
    try FileManager.default.removeItem(atPath: d + "/chunks/chunk-000001.json")
    try FileManager.default.removeItem(atPath: d + "/chunks/chunk-000001.npy")
    let r = try DatasetWriter.generate(config: c, to: d, resume: true)
    #expect(r.manifestWritten && r.chunksSkipped == 1 && r.chunksWritten == c.chunkCount - 1)
    let ref = tempDir("corrupt-ref", prefix: "em-bad", create: false)
    defer { try? FileManager.default.removeItem(atPath: ref) }
    _ = try DatasetWriter.generate(config: c, to: ref)
    for name in ["manifest.json", "chunks/chunk-000000.npy", "chunks/chunk-000001.npy"] {
        #expect(FileManager.default.contents(atPath: "\(d)/\(name)") == FileManager.default.contents(atPath: "\(ref)/\(name)"))
    }
}

@Test func unfinishedChunkNeverLooksComplete() throws {
    let c = try tinyConfig(seed: 2)
    let d = tempDir("partial", prefix: "em-bad", create: false)
    defer { try? FileManager.default.removeItem(atPath: d) }
    _ = try DatasetWriter.generate(config: c, to: d, limitChunks: 1)
    // Simulated crashes: a data file written but no completion record yet, and a leftover temp file
    // of an interrupted atomic write.
    try Data("partial".utf8).write(to: URL(fileURLWithPath: d + "/chunks/chunk-000001.npy"))
    try Data("tmp".utf8).write(to: URL(fileURLWithPath: d + "/chunks/.chunk-000002.npy.tmp-1-2"))
    #expect(try DatasetWriter.finishedChunk(0, dir: d) != nil)
    #expect(try DatasetWriter.finishedChunk(1, dir: d) == nil)
    #expect(try DatasetWriter.finishedChunk(2, dir: d) == nil)
    // Neither merge nor the loader accept the incomplete dataset.
    #expect(throws: ISACError.self) { try DatasetWriter.merge(dir: d) }
    #expect(throws: ISACError.self) { try ExtendedTargetDataset(directory: d) }
    #expect(!FileManager.default.fileExists(atPath: d + "/manifest.json"))
    // Resume recomputes chunks 1 and 2 and completes the dataset.
    let r = try DatasetWriter.generate(config: c, to: d, resume: true)
    #expect(r.chunksSkipped == 1 && r.chunksWritten == c.chunkCount - 1 && r.manifestWritten)
    try ExtendedTargetDataset(directory: d).verifyAll()
}
