import ArgumentParser
import ExtendedDatasets
import Foundation
import ISACIO
import Linalg
import Scattering

/// `isac dataset`: extended-target dataset generation (paper 3, Sec. IV-A).
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset", abstract: "Extended-target dataset generation (paper 3).",
        subcommands: [DatasetGenerate.self, DatasetMerge.self, DatasetInfo.self])
}

struct DatasetGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write channel-tensor chunks (complex64 .npy [S, N_r, N_t, K]) and a JSON manifest with labels and instance-disjoint splits.")
    @Option(help: "small | paper | experiment-small (the dataset of `isac extended experiment --preset small`).") var preset: String = "small"
    @Option(help: "born | vie | po | hybrid.") var solver: String = "born"
    @Option(help: "Output folder.") var out: String
    @Option(help: "Compute only chunks c with c % n == i, given as i/n.") var shard: String = "0/1"
    @Flag(help: "Continue an interrupted run in --out (finished chunks are kept after a checksum check).") var resume = false
    @Option(help: "Dataset seed.") var seed: UInt64 = 42
    @Option(name: .customLong("max-chunks"), help: "Stop after writing this many chunks (for staged runs).") var maxChunks: Int?
    @Option(name: .customLong("vie-discretization"), help: "--solver vie: coupling/self-term scheme (default = fcd; point = the scheme of datasets made before 0.6; see `scatter validate`).") var vieDiscretizationName: String = "default"
    @Option(name: .customLong("voxelization"), help: "Vehicle voxelization: staircase (default) | weighted (VehicleVoxelization; docs/scattering.md).") var voxelizationName: String = "staircase"
    @Option(name: .customLong("feature-pitch"), help: "Length (m) the vehicle shells (1.2 ×) and thin tubes are sized from; default = the voxel pitch.") var featurePitch: Double?
    @OptionGroup var format: JSONQuietOptions

    /// The `--vie-discretization` value: nil for "default" (the config keeps its hash), else the named scheme.
    func vieDiscretization() throws -> VIEDiscretization? {
        if vieDiscretizationName == "default" { return nil }
        guard solver == DatasetSolver.vie.rawValue else {
            throw ISACError.invalidParameter(name: "--vie-discretization", value: vieDiscretizationName, valid: "only with --solver vie")
        }
        do { return try VIEDiscretization.named(vieDiscretizationName) } catch {
            throw ISACError.invalidParameter(name: "--vie-discretization", value: vieDiscretizationName,
                                             valid: "default or one of " + VIEDiscretization.named.map { $0.0 }.joined(separator: ", "))
        }
    }

    func parsedShard() throws -> (Int, Int) {
        let p = shard.split(separator: "/").map { Int($0) }
        guard p.count == 2, let i = p[0], let n = p[1], n >= 1, i >= 0, i < n else {
            throw ISACError.invalidParameter(name: "--shard", value: shard, valid: "must be i/n with n ≥ 1 and 0 ≤ i < n")
        }
        return (i, n)
    }

    func validate() throws {
        guard DatasetConfig.presetNames.contains(preset) else { throw ISACError.invalidParameter(name: "--preset", value: preset, valid: "must be \(DatasetConfig.presetNames.joined(separator: ", "))") }
        guard let _ = DatasetSolver(rawValue: solver) else { throw ISACError.invalidParameter(name: "--solver", value: solver, valid: "must be born, vie, po or hybrid") }
        _ = try parsedShard()
        _ = try vieDiscretization()
        _ = try VehicleVoxelization.named(voxelizationName)
        if let f = featurePitch {
            // The bound depends on the preset's highest tone: check it on the config `run` builds.
            var cfg = try DatasetConfig.preset(preset, solver: DatasetSolver(rawValue: solver)!, seed: seed)
            cfg.featurePitchM = f
            try cfg.validate()
        }
        if ["po", "hybrid"].contains(solver), voxelizationName != "staircase" || featurePitch != nil {
            throw ISACError.invalidParameter(name: featurePitch != nil ? "--feature-pitch" : "--voxelization",
                                             value: featurePitch.map { "\($0)" } ?? voxelizationName, valid: "only with --solver born or vie")
        }
        if voxelizationName != "staircase", solver != "vie" {
            throw ISACError.invalidParameter(name: "--voxelization", value: voxelizationName, valid: "weighted needs --solver vie (the Born kernel takes staircase voxels only)")
        }
        if let m = maxChunks { try Check.positive(m, "--max-chunks") }
    }

    func run() throws {
        let (i, n) = try parsedShard()
        var cfg = try DatasetConfig.preset(preset, solver: DatasetSolver(rawValue: solver)!, seed: seed)
        cfg.vieDiscretization = try vieDiscretization()
        cfg.featurePitchM = featurePitch
        if voxelizationName != "staircase" { cfg.voxelization = try VehicleVoxelization.named(voxelizationName) }
        let mine = (0..<cfg.chunkCount).filter { $0 % n == i }
        let total = mine.reduce(0) { $0 + min(cfg.samplesPerChunk, cfg.totalSamples - $1 * cfg.samplesPerChunk) }
        let prog = ProgressLine("dataset \(preset)/\(solver) shard \(i)/\(n)", total: total, enabled: !format.quiet)
        let r = try DatasetWriter.generate(config: cfg, to: out, shardIndex: i, shardCount: n, resume: resume, progress: prog, limitChunks: maxChunks)
        prog.finish()
        if format.json {
            print(try ResultJSON.string(DatasetGenerateResult(out: out, preset: preset, solver: solver, shard: shard, seed: Double(seed),
                                                              report: r, totalSamples: cfg.totalSamples, chunks: cfg.chunkCount)))
        } else {
            print("chunks written  skipped  samples  manifest  seconds")
            print(String(format: "%14d  %7d  %7d  %8@  %7.1f", r.chunksWritten, r.chunksSkipped, r.samplesWritten, r.manifestWritten ? "yes" : "pending", r.seconds))
        }
    }
}

struct DatasetMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Verify all chunks of a sharded run in --out and write manifest.json (identical to a single run's).")
    /// Optional to the parser so that an unknown flag is reported as such, not as a missing `--out`; required in
    /// `run`.
    @Option(name: .customLong("out"), help: "Dataset folder (shared by all shards); required.") var outFolder: String? = nil
    @OptionGroup var format: JSONOption
    var out: String { outFolder ?? "" }
    func run() throws {
        // Checked here, not in validate(): ArgumentParser runs validate() before it reports unknown flags, and a
        // missing --out must not mask `--frobnicate`.
        guard outFolder != nil else {
            throw ISACError.invalidParameter(name: "--out", value: "(missing)", valid: "the dataset folder of the sharded run (`isac dataset generate --out DIR --shard i/n`)")
        }
        try CLIOutput.checkDatasetFolder(out)
        // No generator may be writing while the manifest is assembled (they hold the folder lock).
        var isDir: ObjCBool = false
        let lock = FileManager.default.fileExists(atPath: out, isDirectory: &isDir) && isDir.boolValue
            ? try DirectoryLock(dir: out, exclusive: true, flag: "--out") : nil
        defer { lock?.release() }
        let m = DatasetMergeResult(out: out, manifest: try DatasetWriter.merge(dir: out))
        if format.json { print(try ResultJSON.string(m)) } else { print(m.summary) }
    }
}

struct DatasetInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Load a finished dataset, verify checksums and print its summary.")
    @Option(help: "Dataset folder.") var out: String
    @OptionGroup var format: JSONOption
    func validate() throws { try CLIOutput.checkDatasetFolder(out) }
    func run() throws {
        let d = try ExtendedTargetDataset(directory: out)
        try d.verifyAll()
        var per: [String: DatasetInfoResult.Split] = [:]
        for s in DatasetSplit.allCases {
            let idx = d.indices(s)
            per[s.rawValue] = DatasetInfoResult.Split(samples: idx.count, motorbike: idx.filter { d.labels[$0].cls == .motorbike }.count,
                                    car: idx.filter { d.labels[$0].cls == .car }.count, instances: d.manifest.instances[s.rawValue]?.count ?? 0)
        }
        if format.json { print(try ResultJSON.string(DatasetInfoResult(out: out, samples: d.count, sampleShape: d.sampleShape, splits: per))) }
        else {
            print("split  samples  motorbike  car  instances")
            for s in DatasetSplit.allCases { let p = per[s.rawValue]!
                print(String(format: "%-5@  %7d  %9d  %3d  %9d", s.rawValue, p.samples, p.motorbike, p.car, p.instances)) }
        }
    }
}

/// `isac dataset generate --json` (keys in the generator's camelCase, as before).
struct DatasetGenerateResult: Encodable {
    var out: String
    var preset: String
    var solver: String
    var shard: String
    var seed: Double
    var chunksWritten: Int
    var chunksSkipped: Int
    var samplesWritten: Int
    var manifestWritten: Bool
    var seconds: Double
    var totalSamples: Int
    var chunks: Int
    /// The VIE solver's largest GMRES iteration count (nil, and left out, for the other solvers).
    var gmresMaxIterations: Int?

    init(out: String, preset: String, solver: String, shard: String, seed: Double, report r: DatasetWriter.Report, totalSamples: Int, chunks: Int) {
        self.out = out; self.preset = preset; self.solver = solver; self.shard = shard; self.seed = seed
        chunksWritten = r.chunksWritten; chunksSkipped = r.chunksSkipped; samplesWritten = r.samplesWritten
        manifestWritten = r.manifestWritten; seconds = r.seconds; gmresMaxIterations = r.maxGmresIterations
        self.totalSamples = totalSamples; self.chunks = chunks
    }
}

/// `isac dataset merge --json` and `isac merge DATASET --json`: the folder, its chunk count and the samples per split.
struct DatasetMergeResult: Encodable {
    var out: String
    var chunks: Int
    var splits: [String: Int]

    init(out: String, manifest m: DatasetManifest) {
        self.out = out
        chunks = m.chunks.count
        splits = m.splits.mapValues { $0.count }
    }

    /// The one-line text answer.
    var summary: String {
        "manifest.json written: \(chunks) chunks, train/val/test = \(splits["train"] ?? 0)/\(splits["val"] ?? 0)/\(splits["test"] ?? 0)"
    }
}

/// `isac dataset info --json`.
struct DatasetInfoResult: Encodable {
    var out: String
    var samples: Int
    var sampleShape: [Int]
    var splits: [String: Split]

    struct Split: Encodable {
        var samples: Int
        var motorbike: Int
        var car: Int
        var instances: Int
    }
}
