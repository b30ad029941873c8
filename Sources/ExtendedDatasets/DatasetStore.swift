import Foundation
import ISACIO
import Linalg
import Numerics
import Scattering

/// Per-chunk sidecar `chunks/chunk-NNNNNN.json`, written atomically *after* its `.npy`; a chunk
/// counts as finished only when the sidecar exists and its CRC-32 matches the `.npy` bytes.
public struct ChunkRecord: Codable, Sendable, Equatable {
    /// Chunk number (0-based).
    public var chunk: Int
    /// Path of the chunk's `.npy`, relative to the dataset folder (`chunks/chunk-NNNNNN.npy`).
    public var file: String
    /// Global index of the chunk's first sample.
    public var firstSample: Int
    /// Samples in the chunk.
    public var count: Int
    /// Size of the `.npy` file, bytes.
    public var bytes: Int
    /// CRC-32 (zlib polynomial) of the `.npy` bytes.
    public var crc32: UInt32
    /// Labels of the chunk's samples, in sample order.
    public var labels: [SampleLabel]
    /// `DatasetWriter.configHash` of the config that produced this chunk, so chunks of two runs
    /// with different settings (seed, preset, solver) can never be assembled into one dataset.
    /// Optional only so older records decode; `dataset info`/`merge` refuse records without it.
    public var configHash: String?
}

/// `manifest.json`: the dataset's table of contents. Identical for any `--shard` layout, because it
/// is assembled from the chunk sidecars in chunk order and holds no timings or host data.
///
/// Tensor format: each chunk file is a complex64 C-order `.npy` of shape [S_c, N_r, N_t, K]
/// (sample, receive antenna, transmit antenna, subcarrier) holding H_s of eq. (15); the real
/// 2 × N_r × N_t × K form of eqs. (16–17) is produced by `ExtendedTargetDataset.realTensor`.
public struct DatasetManifest: Codable, Sendable, Equatable {
    /// Format tag, `DatasetManifest.formatName`.
    public var format: String
    /// The config that generated the dataset.
    public var config: DatasetConfig
    /// Per-sample tensor shape [N_r, N_t, K] and dtype.
    public var sampleShape: [Int]
    public var dtype: String
    public var frequenciesHz: [Double]
    public var chunks: [ChunkRecord]
    /// Sample indices per split.
    public var splits: [String: [Int]]
    /// Instance ids per split (disjoint across splits).
    public var instances: [String: [String]]
    public static let formatName = "isackit-extended-target/1"
}

/// Up-front check that an output folder exists (it is created if needed) and accepts new files, so a
/// long computation never ends in a failed write.
public enum OutputFolder {
    /// Creates `dir` if needed and writes + removes a probe file in it. Throws
    /// `ISACError.invalidParameter(name: flag, …)` naming the folder when either step fails (this also
    /// covers paths below a regular file, which even root cannot create).
    public static func ensureWritable(_ dir: String, flag: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw ISACError.invalidParameter(name: flag, value: dir, valid: "must be a folder that can be created and written (a parent is a file, or permission is denied)")
        }
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ISACError.invalidParameter(name: flag, value: dir, valid: "must be a folder (a file of that name exists)")
        }
        let probe = dir + "/.isac-write-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard fm.createFile(atPath: probe, contents: Data()) else {
            throw ISACError.invalidParameter(name: flag, value: dir, valid: "must be a writable folder (permission denied or read-only file system)")
        }
        try? fm.removeItem(atPath: probe)
    }
}

/// Writes datasets: `generate` (optionally one shard of a layout, optionally resuming) and `merge`.
public enum DatasetWriter {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .prettyPrinted]; return e
    }
    static func chunkName(_ c: Int) -> String { String(format: "chunk-%06d", c) }

    /// FNV-1a (64-bit) of the canonical JSON of `config` (sorted keys), as 16 hex digits. An
    /// identity tag against mixing runs, not a cryptographic hash.
    public static func configHash(_ config: DatasetConfig) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in try encoder().encode(config) { h ^= UInt64(b); h = h &* 0x0000_0100_0000_01B3 }
        return String(format: "%016llx", h)
    }

    /// Outcome of one `generate` call.
    public struct Report: Sendable {
        /// Chunks computed and written by this call.
        public var chunksWritten: Int
        /// Finished chunks kept from an earlier run (`resume`).
        public var chunksSkipped: Int
        /// Samples written by this call.
        public var samplesWritten: Int
        /// Whether `manifest.json` was written (the final merge succeeded, i.e. every chunk of the dataset is finished).
        public var manifestWritten: Bool
        /// Wall-clock duration of the call, seconds.
        public var seconds: Double
        /// VIE only: max GMRES iterations over the samples written (nil for other solvers or when none were written).
        public var maxGmresIterations: Int?
    }

    /// Generates the chunks c with c % shardCount == shardIndex into `dir`.
    ///
    /// Fresh runs refuse a folder that already holds a dataset; `resume` keeps every finished chunk
    /// (sidecar present and CRC-32 matching), recomputes unfinished ones, and throws on a chunk whose
    /// bytes do not match its recorded checksum (corruption is never silently accepted). When all
    /// chunks of the layout are finished, `manifest.json` is written.
    public static func generate(config: DatasetConfig, to dir: String, shardIndex: Int = 0, shardCount: Int = 1,
                                resume: Bool = false, progress: ProgressLine? = nil, limitChunks: Int? = nil) throws -> Report {
        try config.validate()
        if let w = config.accuracyWarning { FileHandle.standardError.write(Data((w + "\n").utf8)) }
        try Check.positive(shardCount, "--shard (count)")
        try Check.inRange(shardIndex, 0, shardCount - 1, "--shard (index)")
        let start = Date()
        // Fail before any sample is computed if --out cannot hold the dataset.
        try OutputPaths.preflightFolder(dir, flag: "--out")
        try OutputFolder.ensureWritable(dir, flag: "--out")
        try OutputFolder.ensureWritable(dir + "/chunks", flag: "--out")
        // Concurrent writers: a single-shard run owns the folder (exclusive lock); the shards of a
        // layout share it (shared lock) but each shard index has one writer (exclusive shard lock).
        // The kernel drops both locks if the process dies, so kill -9 never leaves a stuck folder.
        let folderLock = try DirectoryLock(dir: dir, exclusive: shardCount == 1, flag: "--out")
        let shardLock = shardCount == 1 ? nil
            : try DirectoryLock(dir: dir, name: ".isac-shard-\(shardIndex)-of-\(shardCount).lock", exclusive: true, flag: "--shard")
        defer { shardLock?.release(); folderLock.release() }
        if resume {
            // Temp files of killed writers: all of them under the exclusive lock, else only those
            // whose writer pid is dead (a live shard may be mid-write).
            OutputPaths.removeStaleTemps(in: dir, all: shardCount == 1)
            OutputPaths.removeStaleTemps(in: dir + "/chunks", all: shardCount == 1)
        }
        let cfgPath = dir + "/config.json"
        let cfgData = try encoder().encode(config)
        let hash = try configHash(config)
        // Create-exclusive: of two fresh runs racing on one folder exactly one writes config.json;
        // the other compares against it (and fails unless it is a shard of the same layout).
        if try !AtomicFile.createExclusive(cfgData, at: cfgPath) {
            // Shards of one layout share the folder, so a matching config is fine for shardCount > 1;
            // finished chunks of *this* shard still need --resume (checked below).
            guard resume || shardCount > 1 else {
                throw ISACError.io("\(dir) already contains a dataset (config.json); pass --resume to continue it or choose an empty --out")
            }
            let old = try readFile(cfgPath)
            guard old == cfgData else {
                throw ISACError.io("\(cfgPath) was written with different settings (preset/solver/seed); use a new --out")
            }
        }
        let array = try config.array()
        let mine = (0..<config.chunkCount).filter { $0 % shardCount == shardIndex }
        var written = 0, skipped = 0, samples = 0
        var maxIts: Int? = nil
        for c in mine {
            if let rec = try finishedChunk(c, dir: dir, configHash: hash) {
                guard resume else {
                    throw ISACError.io("\(dir)/chunks/\(chunkName(c)).npy is already finished; pass --resume to keep it and continue")
                }
                skipped += 1; progress?.advance(rec.count); continue
            }
            if let lim = limitChunks, written >= lim { break }
            let first = c * config.samplesPerChunk
            let n = min(config.samplesPerChunk, config.totalSamples - first)
            var data: [CFloat] = []
            var labels: [SampleLabel] = []
            data.reserveCapacity(n * config.antennas * config.antennas * config.subcarriers)
            for i in first..<(first + n) {
                let (h, lab) = try ExtendedTargetGenerator.sample(i, config: config, array: array)
                data.append(contentsOf: h.data.map { CFloat(Float($0.real), Float($0.imaginary)) })
                labels.append(lab)
                if let it = lab.gmresIterations { maxIts = max(maxIts ?? 0, it) }
                progress?.advance()
            }
            let npy = NPY.encode(NPYArray(complex64: data, shape: [n, config.antennas, config.antennas, config.subcarriers]))
            let name = chunkName(c)
            // Order matters: data first, sidecar (the completion marker) second, both atomic.
            try AtomicFile.write(npy, to: "\(dir)/chunks/\(name).npy")
            let rec = ChunkRecord(chunk: c, file: "chunks/\(name).npy", firstSample: first, count: n, bytes: npy.count,
                                  crc32: CRC32.checksum(npy), labels: labels, configHash: hash)
            try AtomicFile.write(try encoder().encode(rec), to: "\(dir)/chunks/\(name).json")
            written += 1; samples += n
        }
        var manifest = false
        if (try? merge(dir: dir)) != nil { manifest = true }
        return Report(chunksWritten: written, chunksSkipped: skipped, samplesWritten: samples, manifestWritten: manifest,
                      seconds: Date().timeIntervalSince(start), maxGmresIterations: maxIts)
    }

    /// Reads a whole file, throwing `ISACError.io("cannot read PATH: reason")`.
    static func readFile(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ISACError.io(ISACError.describeFoundationError(error) ?? "cannot read \(path)")
        }
    }

    /// The record of chunk `c` if it is finished and intact; nil if it is missing or unfinished
    /// (no sidecar yet). Throws when the sidecar exists but the data file is missing or its bytes do
    /// not match the recorded size/CRC-32, and — when `configHash` is given — when the record was
    /// written by a run with other settings (or carries no hash).
    public static func finishedChunk(_ c: Int, dir: String, configHash: String? = nil) throws -> ChunkRecord? {
        let side = "\(dir)/chunks/\(chunkName(c)).json"
        guard FileManager.default.fileExists(atPath: side) else { return nil }
        let rec: ChunkRecord
        do { rec = try JSONDecoder().decode(ChunkRecord.self, from: readFile(side)) }
        catch { throw ISACError.malformedFile(path: side, reason: "unreadable chunk record (\(shortReason(error))); delete it and rerun with --resume") }
        guard rec.chunk == c, rec.file == "chunks/\(chunkName(c)).npy" else {
            throw ISACError.malformedFile(path: side, reason: "record names chunk \(rec.chunk) / file \(rec.file), expected \(c) / chunks/\(chunkName(c)).npy")
        }
        if let h = configHash { try checkHash(rec, expected: h, path: side) }
        try verify(rec, dir: dir)
        return rec
    }

    static func checkHash(_ rec: ChunkRecord, expected: String, path: String) throws {
        guard let got = rec.configHash else {
            throw ISACError.malformedFile(path: path, reason: "chunk \(rec.chunk) has no config hash (written by an older ISACKit); regenerate the dataset")
        }
        guard got == expected else {
            throw ISACError.malformedFile(path: path, reason: "chunk \(rec.chunk) was written with other settings (config hash \(got), dataset \(expected)): two runs were mixed in one folder; regenerate into an empty --out")
        }
    }

    /// A one-line reason for a decoding/IO error (no multi-line DecodingError dumps).
    static func shortReason(_ error: Error) -> String {
        if let e = error as? ISACError { return e.description }
        switch error as? DecodingError {
        case let .keyNotFound(k, _)?: return "missing key '\(k.stringValue)'"
        case let .typeMismatch(t, c)?: return "expected \(t) at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case let .valueNotFound(t, c)?: return "missing \(t) at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case .dataCorrupted?: return "not valid JSON"
        default: return ISACError.describeFoundationError(error) ?? "\(error)"
        }
    }

    static func verify(_ rec: ChunkRecord, dir: String) throws {
        guard !rec.file.contains(".."), !rec.file.hasPrefix("/") else {
            throw ISACError.malformedFile(path: dir, reason: "chunk \(rec.chunk) names file \(rec.file) outside the dataset folder")
        }
        let path = "\(dir)/\(rec.file)"
        guard let d = FileManager.default.contents(atPath: path) else {
            throw ISACError.malformedFile(path: path, reason: "missing, but its record \(chunkName(rec.chunk)).json says it was finished; delete the record and rerun with --resume")
        }
        guard d.count == rec.bytes, CRC32.checksum(d) == rec.crc32 else {
            throw ISACError.malformedFile(path: path, reason: String(format: "corrupted chunk: %d bytes, CRC-32 %08x, expected %d bytes, %08x; delete it and its .json record and rerun with --resume", d.count, CRC32.checksum(d), rec.bytes, rec.crc32))
        }
    }

    /// Assembles `manifest.json` from `config.json` and all chunk records (after verifying every
    /// chunk's CRC-32). Throws, naming the first missing chunk, when the dataset is incomplete.
    @discardableResult
    public static func merge(dir: String) throws -> DatasetManifest {
        let cfgPath = dir + "/config.json"
        guard let cd = FileManager.default.contents(atPath: cfgPath) else { throw ISACError.io("\(cfgPath) not found: not a dataset folder") }
        let config: DatasetConfig
        do { config = try JSONDecoder().decode(DatasetConfig.self, from: cd) } catch {
            throw ISACError.malformedFile(path: cfgPath, reason: shortReason(error))
        }
        do { try config.validate() } catch { throw ISACError.malformedFile(path: cfgPath, reason: "\(error)") }
        let hash = try configHash(config)
        var chunks: [ChunkRecord] = []
        for c in 0..<config.chunkCount {
            guard let rec = try finishedChunk(c, dir: dir, configHash: hash) else {
                throw ISACError.io("dataset in \(dir) is incomplete: \(chunkName(c)) is not finished (run the missing shards, or --resume)")
            }
            chunks.append(rec)
        }
        var splits: [String: [Int]] = [:], inst: [String: Set<String>] = [:]
        for s in DatasetSplit.allCases { splits[s.rawValue] = []; inst[s.rawValue] = [] }
        for l in chunks.flatMap({ $0.labels }) { splits[l.split.rawValue]!.append(l.index); inst[l.split.rawValue]!.insert(l.instanceId) }
        let m = DatasetManifest(format: DatasetManifest.formatName, config: config,
                                sampleShape: [config.antennas, config.antennas, config.subcarriers], dtype: "complex64",
                                frequenciesHz: try config.array().frequenciesHz, chunks: chunks, splits: splits,
                                instances: inst.mapValues { $0.sorted() })
        try AtomicFile.write(try encoder().encode(m), to: dir + "/manifest.json")
        return m
    }
}

/// Reads a finished dataset (manifest + chunks) back into arrays, validating format, shapes,
/// split disjointness and chunk checksums.
public final class ExtendedTargetDataset: @unchecked Sendable {
    /// Dataset folder (holds `manifest.json` and `chunks/`).
    public let directory: String
    /// The decoded and validated manifest.
    public let manifest: DatasetManifest
    /// Labels by sample index.
    public let labels: [SampleLabel]
    private var cache: (chunk: Int, data: [CFloat])? = nil
    private let lock = NSLock()

    /// Opens the dataset in `directory`: decodes `manifest.json` and validates its format, config, shape, contiguous
    /// chunk table, config hashes, split lists and instance disjointness; throws `ISACError.io` / `.malformedFile`.
    public init(directory: String) throws {
        self.directory = directory
        let path = directory + "/manifest.json"
        guard let d = FileManager.default.contents(atPath: path) else {
            throw ISACError.io("\(path) not found (unfinished dataset? run `isac dataset merge --out \(directory)`)")
        }
        let m: DatasetManifest
        do { m = try JSONDecoder().decode(DatasetManifest.self, from: d) } catch {
            throw ISACError.malformedFile(path: path, reason: DatasetWriter.shortReason(error))
        }
        guard m.format == DatasetManifest.formatName else { throw ISACError.malformedFile(path: path, reason: "format \(m.format), expected \(DatasetManifest.formatName)") }
        let c = m.config
        do { try c.validate() } catch { throw ISACError.malformedFile(path: path, reason: "config: \(error)") }
        let hash = try DatasetWriter.configHash(c)
        guard m.sampleShape == [c.antennas, c.antennas, c.subcarriers], m.dtype == "complex64" else {
            throw ISACError.malformedFile(path: path, reason: "sampleShape \(m.sampleShape) / dtype \(m.dtype) inconsistent with config")
        }
        var labs: [SampleLabel] = []
        guard m.chunks.count == c.chunkCount else {
            throw ISACError.malformedFile(path: path, reason: "lists \(m.chunks.count) chunks, config says \(c.chunkCount)")
        }
        for (i, ch) in m.chunks.enumerated() {
            let expected = min(c.samplesPerChunk, c.totalSamples - i * c.samplesPerChunk)
            guard ch.chunk == i, ch.firstSample == labs.count, ch.firstSample == i * c.samplesPerChunk,
                  ch.count == expected, ch.labels.count == ch.count else {
                throw ISACError.malformedFile(path: path, reason: "chunk table is not contiguous at chunk \(i)")
            }
            try DatasetWriter.checkHash(ch, expected: hash, path: path)
            labs += ch.labels
        }
        guard labs.count == c.totalSamples, labs.enumerated().allSatisfy({ $0.offset == $0.element.index }) else {
            throw ISACError.malformedFile(path: path, reason: "has \(labs.count) samples, config says \(c.totalSamples)")
        }
        // Split index lists: every index in range, each sample in exactly the split its label says.
        var seen = [Bool](repeating: false, count: labs.count)
        for s in DatasetSplit.allCases {
            for i in m.splits[s.rawValue] ?? [] {
                guard i >= 0, i < labs.count else {
                    throw ISACError.malformedFile(path: path, reason: "split \(s.rawValue) lists sample \(i), outside [0, \(labs.count - 1)]")
                }
                guard !seen[i], labs[i].split == s else {
                    throw ISACError.malformedFile(path: path, reason: "sample \(i) is listed twice or in split \(s.rawValue) although its label says \(labs[i].split.rawValue)")
                }
                seen[i] = true
            }
        }
        guard seen.allSatisfy({ $0 }) else {
            throw ISACError.malformedFile(path: path, reason: "sample \(seen.firstIndex(of: false)!) is in no split")
        }
        for s in DatasetSplit.allCases {
            let fromLabels = Set(labs.filter { $0.split == s }.map(\.instanceId))
            guard Set(m.instances[s.rawValue] ?? []) == fromLabels else {
                throw ISACError.malformedFile(path: path, reason: "instance list of split \(s.rawValue) disagrees with the sample labels")
            }
        }
        let sets = DatasetSplit.allCases.map { Set(m.instances[$0.rawValue] ?? []) }
        guard sets[0].isDisjoint(with: sets[1]), sets[0].isDisjoint(with: sets[2]), sets[1].isDisjoint(with: sets[2]) else {
            throw ISACError.malformedFile(path: path, reason: "an instance appears in more than one split")
        }
        manifest = m; labels = labs
    }

    /// Number of samples in the dataset.
    public var count: Int { labels.count }
    /// Per-sample shape [N_r, N_t, K].
    public var sampleShape: [Int] { manifest.sampleShape }
    /// Sample indices of `split`.
    public func indices(_ split: DatasetSplit) -> [Int] { manifest.splits[split.rawValue] ?? [] }

    /// H_s of sample `i` (eq. 15): N_r·N_t·K complex values, C order [r][t][k].
    public func channel(_ i: Int) throws -> [CFloat] {
        guard i >= 0, i < count else { throw ISACError.invalidParameter(name: "sample", value: "\(i)", valid: "must lie in [0, \(count - 1)]") }
        let per = sampleShape.reduce(1, *)
        let ci = i / manifest.config.samplesPerChunk
        lock.lock(); defer { lock.unlock() }
        if cache?.chunk != ci {
            cache = (ci, try loadChunk(ci))
        }
        let off = (i - ci * manifest.config.samplesPerChunk) * per
        return Array(cache!.data[off..<(off + per)])
    }

    /// Real tensor H̃_s ∈ R^{2×N_r×N_t×K} of eqs. (16–17): [0] = Re, [1] = Im, C order.
    public func realTensor(_ i: Int) throws -> [Float] {
        let h = try channel(i)
        return h.map { $0.real } + h.map { $0.imaginary }
    }

    /// All samples of `split` as one [S × 2 × N_r × N_t × K] Float array plus their labels.
    public func load(_ split: DatasetSplit) throws -> (tensor: [Float], shape: [Int], labels: [SampleLabel]) {
        let idx = indices(split)
        var out: [Float] = []
        out.reserveCapacity(idx.count * 2 * sampleShape.reduce(1, *))
        for i in idx { out += try realTensor(i) }
        return (out, [idx.count, 2] + sampleShape, idx.map { labels[$0] })
    }

    /// Chunk `ci` after its CRC-32, dtype (complex64), C order, shape [count, N_r, N_t, K] and
    /// finiteness checks.
    func loadChunk(_ ci: Int) throws -> [CFloat] {
        let rec = manifest.chunks[ci]
        try DatasetWriter.verify(rec, dir: directory)
        let path = "\(directory)/\(rec.file)"
        let a = try NPY.read(from: path)
        guard a.shape == [rec.count] + sampleShape, case let .complex64(v) = a.data, !a.fortranOrder else {
            throw ISACError.malformedFile(path: path, reason: "shape \(a.shape) or dtype does not match [\(rec.count)] + \(sampleShape) complex64 C-order")
        }
        if let bad = v.firstIndex(where: { !$0.real.isFinite || !$0.imaginary.isFinite }) {
            throw ISACError.malformedFile(path: path, reason: "element \(bad) is NaN or infinite")
        }
        return v
    }

    /// Re-checks every chunk: CRC-32, dtype, shape, C order and that every value is finite
    /// (one chunk in memory at a time).
    public func verifyAll() throws { for ci in manifest.chunks.indices { _ = try loadChunk(ci) } }
}
