import Foundation
import ISACIO
import Linalg
import Testing
import Scattering
import _TestSupport
@testable import ExtendedDatasets

// Issue 13: concurrent writers never produce a mixed dataset that validates, and interrupted
// writes leave no temp file behind a --resume.

/// The default `tinyDatasetConfig` (4 antennas, 2 tones, 8 samples in 4 chunks): seconds in debug.
private func tiny(seed: UInt64) throws -> DatasetConfig { try tinyDatasetConfig(seed: seed) }

private func scratch(_ tag: String) -> String {
    NSTemporaryDirectory() + "isac-conc-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}

private func copy(_ from: String, _ to: String) throws {
    try? FileManager.default.removeItem(atPath: to)
    try FileManager.default.copyItem(atPath: from, toPath: to)
}

@Suite struct DatasetConcurrencyTests {
    /// Two generators with different seeds on one folder at the same time: exactly one succeeds and
    /// the finished folder validates with chunks of that seed only.
    @Test func twoConcurrentWritersWithDifferentSeedsNeverMix() async throws {
        let d = scratch("two")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let a = try tiny(seed: 1), b = try tiny(seed: 2)
        async let ra: Result<DatasetWriter.Report, Error> = Task.detached { Result { try DatasetWriter.generate(config: a, to: d) } }.value
        async let rb: Result<DatasetWriter.Report, Error> = Task.detached { Result { try DatasetWriter.generate(config: b, to: d) } }.value
        let (x, y) = await (ra, rb)
        let ok = [x, y].filter { if case .success = $0 { return true } else { return false } }.count
        #expect(ok == 1, "exactly one of two concurrent writers must succeed")
        for r in [x, y] {
            if case let .failure(e) = r { #expect("\(e)".contains("--out") || "\(e)".contains(d), "the loser's error names the folder: \(e)") }
        }
        let ds = try ExtendedTargetDataset(directory: d)
        try ds.verifyAll()
        let winner: DatasetConfig
        if case .success = x { winner = a } else { winner = b }
        #expect(ds.manifest.config == winner)
        let h = try DatasetWriter.configHash(winner)
        #expect(ds.manifest.chunks.allSatisfy { $0.configHash == h })
    }

    /// Chunks copied from a run with another seed are refused by merge (config hash in every
    /// record) and a manifest that lists them is refused by the loader (`dataset info`).
    @Test func aMixedDatasetNeverValidates() throws {
        let da = scratch("mixA"), db = scratch("mixB")
        defer { for p in [da, db] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try DatasetWriter.generate(config: try tiny(seed: 1), to: da)
        _ = try DatasetWriter.generate(config: try tiny(seed: 2), to: db)
        let goodManifest = try Data(contentsOf: URL(fileURLWithPath: da + "/manifest.json"))
        for ext in ["npy", "json"] { try copy("\(db)/chunks/chunk-000001.\(ext)", "\(da)/chunks/chunk-000001.\(ext)") }
        #expect(throws: ISACError.self) { try DatasetWriter.merge(dir: da) }
        // Hand-assembled manifest: A's, with B's chunk-1 record spliced in (CRC matches its bytes).
        var m = try JSONDecoder().decode(DatasetManifest.self, from: goodManifest)
        let recB = try #require(try DatasetWriter.finishedChunk(1, dir: db))
        m.chunks[1] = recB
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try enc.encode(m), to: da + "/manifest.json")
        #expect(throws: ISACError.self) { try ExtendedTargetDataset(directory: da) }
    }

    /// `dataset info` checks chunk contents, not only CRCs: a chunk rewritten with NaN (record
    /// updated to the new CRC), with the wrong dtype, or a split index out of range, is refused.
    @Test func infoRejectsNaNWrongDtypeAndBadSplitIndex() throws {
        let d = scratch("content")
        defer { try? FileManager.default.removeItem(atPath: d) }
        _ = try DatasetWriter.generate(config: try tiny(seed: 3), to: d)
        let mPath = d + "/manifest.json"
        let original = try Data(contentsOf: URL(fileURLWithPath: mPath))
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        func rewriteChunk0(_ arr: NPYArray) throws {
            let bytes = NPY.encode(arr)
            try AtomicFile.write(bytes, to: d + "/chunks/chunk-000000.npy")
            var m = try JSONDecoder().decode(DatasetManifest.self, from: original)
            m.chunks[0].bytes = bytes.count; m.chunks[0].crc32 = CRC32.checksum(bytes)
            try AtomicFile.write(try enc.encode(m), to: mPath)
        }
        let ds = try ExtendedTargetDataset(directory: d)
        let n = ds.manifest.chunks[0].count, per = ds.sampleShape.reduce(1, *)
        var v = [CFloat](repeating: CFloat(1, 0), count: n * per); v[3] = CFloat(.nan, 0)
        try rewriteChunk0(NPYArray(complex64: v, shape: [n] + ds.sampleShape))
        #expect(throws: ISACError.self) { try ExtendedTargetDataset(directory: d).verifyAll() }
        try rewriteChunk0(NPYArray(float32: [Float](repeating: 1, count: 2 * n * per), shape: [n, 2] + ds.sampleShape))
        #expect(throws: ISACError.self) { try ExtendedTargetDataset(directory: d).verifyAll() }
        var m = try JSONDecoder().decode(DatasetManifest.self, from: original)
        m.splits["test"]!.append(10_000)
        try AtomicFile.write(try enc.encode(m), to: mPath)
        #expect(throws: ISACError.self) { try ExtendedTargetDataset(directory: d) }
    }

    /// Leftovers of a killed writer (AtomicFile temps of a dead pid, Foundation `.dat.nosync*`
    /// temps, a data file without its completion record) are gone after `--resume`, and the
    /// result is byte-identical to a clean run.
    @Test func resumeRemovesStaleTempsAndEqualsACleanRun() throws {
        let c = try tiny(seed: 4)
        let d = scratch("resume"), ref = scratch("ref")
        defer { for p in [d, ref] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try DatasetWriter.generate(config: c, to: d, limitChunks: 1)
        for junk in ["chunks/.chunk-000001.npy.tmp-999999999-1", "chunks/.dat.nosyncAB12", ".config.json.tmp-999999999-7"] {
            try Data("junk".utf8).write(to: URL(fileURLWithPath: "\(d)/\(junk)"))
        }
        try Data("partial".utf8).write(to: URL(fileURLWithPath: d + "/chunks/chunk-000002.npy"))
        _ = try DatasetWriter.generate(config: c, to: d, resume: true)
        _ = try DatasetWriter.generate(config: c, to: ref)
        for sub in ["", "/chunks"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: d + sub)
            #expect(!names.contains { $0.contains(".tmp-") || $0.hasPrefix(".dat.nosync") }, "temp files survived in \(d + sub): \(names)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: ref + "/chunks").filter { !$0.hasPrefix(".") }
        #expect(files.count == 2 * c.chunkCount)
        for name in ["manifest.json", "config.json"] + files.map({ "chunks/" + $0 }) {
            #expect(FileManager.default.contents(atPath: "\(d)/\(name)") == FileManager.default.contents(atPath: "\(ref)/\(name)"), "\(name) differs from a clean run")
        }
    }

    /// The folder lock: while one writer holds it, a second (exclusive) writer fails at once.
    @Test func aHeldLockRefusesASecondWriter() throws {
        let d = scratch("lock")
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: d) }
        let held = try DirectoryLock(dir: d, exclusive: false, flag: "--out")
        #expect(throws: ISACError.self) { try DatasetWriter.generate(config: try tiny(seed: 5), to: d) }
        held.release()
        _ = try DatasetWriter.generate(config: try tiny(seed: 5), to: d, limitChunks: 1)
    }
}
