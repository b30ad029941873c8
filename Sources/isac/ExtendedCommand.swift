import ArgumentParser
import ExtendedDatasets
import ExtendedTarget
import Foundation
import ISACIO
import Learning
import Linalg
import Scattering

/// `isac extended`: joint classification + localization of extended targets (paper 3, Secs. III–IV).
struct ExtendedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extended", abstract: "Extended-target recognition networks (paper 3).",
        subcommands: [ExtendedTrain.self, ExtendedEvaluate.self, ExtendedPredict.self, ExtendedExperiment.self, ExtendedExport.self])
}

func parseMethod(_ s: String) throws -> Method {
    guard let m = Method(rawValue: s) else {
        throw ISACError.invalidParameter(name: "--method", value: s, valid: "one of " + Method.allCases.map(\.rawValue).joined(separator: ", "))
    }
    return m
}

/// Model folder layout: model.npz (parameters + BN statistics) and model.json (everything to rebuild it).
struct SavedModel: Codable {
    var method: String
    var config: ModelConfig
    var tones: [Int]
    var scale: Float
    var seed: UInt64
    var presetSize: String
}

struct ExtendedTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train one model on a dataset (validation-based selection).")
    @Option(help: "Dataset folder (manifest.json from `isac dataset generate`).") var data: String
    @Option(help: ArgumentHelp(stringLiteral: "Method: " + Method.allCases.map(\.rawValue).joined(separator: ", "))) var method: String = "proposed-full"
    @Option(help: "Selected sensing subcarriers K_s (1…K).") var ks: Int?
    @Option(help: "Epochs.") var epochs: Int = 200
    @Option(name: .customLong("batch-size"), help: "Batch size.") var batchSize: Int = 32
    @Option(help: "AdamW learning rate.") var lr: Float = 2e-4
    @Option(help: "Seed.") var seed: UInt64 = 42
    @Option(help: "Network size: small | paper.") var size: String = "small"
    @Option(name: .customLong("input-norm"), help: "Input normalization: per-sample (unit RMS + log-amplitude channel + phase reference) | global (one training-split RMS).") var inputNorm: String = "per-sample"
    @Option(help: "Output folder for model.npz + model.json (and train_state.npz, the resumable state after each epoch).") var out: String
    @Option(name: .customLong("clip-norm"), help: "Global gradient-norm clipping threshold; 0 = off.") var clipNorm: Float = 5
    @Option(name: .customLong("logvar-bound"), help: "Bound b of the NLL log-variances, s = b·tanh(ŝ/b) (0.5…80).") var logvarBound: Float = 8
    @Option(name: .customLong("max-nonfinite-steps"), help: "Abort after this many consecutive non-finite steps (each is skipped with a warning).") var maxNonFiniteSteps: Int = 5
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay (dense/conv weights only).") var weightDecay: Float = 0.01
    @Flag(help: "Replace a non-empty --out (without --resume).") var force = false
    @Flag(help: "Continue from OUT/train_state.npz (same data, method, size and hyper-parameters).") var resume = false
    @Option(name: .customLong("stop-after"), help: "Stop after this many epochs in total (the schedule still spans --epochs; continue with --resume).") var stopAfter: Int?
    @Option(help: "Worker threads of the learning kernels (default: ISAC_THREADS, OMP_NUM_THREADS, or the CPU affinity mask).") var threads: Int?
    @Flag(help: "No per-epoch lines on stderr.") var quiet = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        _ = try parseMethod(method)
        if let t = threads { try Check.positive(t, "--threads") }
        if let s = stopAfter { try Check.positive(s, "--stop-after") }
        try Check.inRange(clipNorm, 0, 1e9, "--clip-norm")
        try Check.positive(maxNonFiniteSteps, "--max-nonfinite-steps")
        try Check.positive(epochs, "--epochs"); try Check.positive(batchSize, "--batch-size"); try Check.positive(lr, "--lr")
        guard ["small", "paper"].contains(size) else { throw ISACError.invalidParameter(name: "--size", value: size, valid: "small or paper") }
        if let k = ks { try Check.positive(k, "--ks") }
        _ = try normalization()
        try CLIOutput.checkStaged(out, force: force || resume)
    }

    func normalization() throws -> InputPreprocessing.Normalization {
        guard let n = InputPreprocessing.Normalization(rawValue: inputNorm) else {
            throw ISACError.invalidParameter(name: "--input-norm", value: inputNorm, valid: "per-sample or global")
        }
        return n
    }

    func run() throws {
        try applyThreadOption(threads)
        let m = try parseMethod(method)
        let d = try ExperimentData(directory: data)
        let tones = try selectedToneIndices(ks: ks ?? d.train.toneCount, available: d.train.toneCount)
        let cfg = try d.modelConfig(m, size: size == "paper" ? .paper : .small, normalization: try normalization())
        var tc = TrainingConfig()
        tc.epochs = epochs; tc.batchSize = batchSize; tc.learningRate = lr; tc.seed = seed; tc.tones = tones
        tc.objective = m.objective; tc.weights = m.weights; tc.pcgrad = m.pcgrad
        tc.clipNorm = clipNorm > 0 ? clipNorm : nil; tc.logVarianceBound = logvarBound
        tc.maxNonFiniteSteps = maxNonFiniteSteps; tc.weightDecay = weightDecay
        let statePath = out + "/train_state.npz"
        if resume && !FileManager.default.fileExists(atPath: statePath) {
            throw ISACError.invalidParameter(name: "--resume", value: statePath, valid: "needs the train_state.npz of an earlier `extended train --out \(out)`")
        }
        let opts = ResumeOptions(checkpointPath: statePath, resumeFrom: resume ? statePath : nil, stopAfterEpochs: stopAfter)
        let t0 = Date()
        // The resumable state is written into --out after every epoch, so this folder is filled incrementally
        // (like a dataset), not staged: --resume continues in place; a fresh run needs a new/empty folder or --force.
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let (best, log) = try train(try JointNetwork(config: cfg, seed: seed), train: d.train, validation: d.validation, config: tc,
                                    quiet: quiet, label: m.rawValue, resume: opts)
        try saveModel(best, to: out + "/model.npz")
        let saved = SavedModel(method: m.rawValue, config: cfg, tones: tones, scale: d.scale, seed: seed, presetSize: size)
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(saved), to: out + "/model.json")
        let vm = try best.evaluate(d.validation, tones: tones)
        let bestEpoch = log.min { $0.score < $1.score }?.epoch ?? 0
        if json {
            let o = ExtendedTrainResult(method: m.rawValue, ks: tones.count, epochs: epochs, bestEpoch: bestEpoch,
                                        seconds: Date().timeIntervalSince(t0), out: out)
            print(try ResultJSON.string(WithFields(o, vm.named.map { ("val_" + $0.0, $0.1) })))
        } else {
            print("method \(m.rawValue)  K_s \(tones.count)  best epoch \(bestEpoch)/\(epochs)  -> \(out)/model.npz")
            for (k, v) in vm.named { print(String(format: "  val %-16@ %.4f", k, v)) }
        }
    }
}

/// Reads DIR/model.json; a file that is not one (bad JSON, missing key, wrong type) is reported in plain words.
func readSavedModel(_ dir: String) throws -> SavedModel {
    guard let d = FileManager.default.contents(atPath: dir + "/model.json") else { throw ISACError.io("\(dir)/model.json not found (run `isac extended train --out \(dir)`)") }
    do { return try JSONDecoder().decode(SavedModel.self, from: d) } catch let e as DecodingError {
        func at(_ c: DecodingError.Context) -> String { c.codingPath.isEmpty ? "the top level" : "`" + c.codingPath.map(\.stringValue).joined(separator: ".") + "`" }
        let why: String
        switch e {
        case .dataCorrupted(let c): why = c.codingPath.isEmpty ? "not valid JSON" : "invalid value at \(at(c))"
        case .keyNotFound(let k, _): why = "missing key `\(k.stringValue)`"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): why = "wrong or missing value at \(at(c))"
        @unknown default: why = "unreadable"
        }
        throw ISACError.malformedFile(path: dir + "/model.json", reason: why + "; not a model.json written by `isac extended train`")
    }
}

func loadSaved(_ dir: String, data: ExperimentData) throws -> (JointNetwork, SavedModel) {
    let s = try readSavedModel(dir)
    guard s.config.receiveCount == data.train.receiveCount, s.config.transmitCount == data.train.transmitCount,
          s.config.toneCount == data.train.toneCount else {
        throw ISACError.shapeMismatch("model expects \(s.config.receiveCount)x\(s.config.transmitCount)x\(s.config.toneCount), dataset is \(data.train.receiveCount)x\(data.train.transmitCount)x\(data.train.toneCount)")
    }
    var m = try JointNetwork(config: s.config, seed: s.seed)
    try loadModel(&m, from: dir + "/model.npz")
    return (m, s)
}

func splitSet(_ d: ExperimentData, _ split: String) throws -> SampleSet {
    switch split {
    case "train": return d.train
    case "val": return d.validation
    case "test": return d.test
    default: throw ISACError.invalidParameter(name: "--split", value: split, valid: "train, val or test")
    }
}

struct ExtendedEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Metrics of a trained model (or the classical references) on a split.")
    @Option(help: "Dataset folder.") var data: String
    @Option(help: "Model folder from `extended train`; omit with --classical.") var model: String?
    @Flag(help: "Evaluate the FFT periodogram and the near-field matched filter (test split, all tones).") var classical = false
    @Option(help: "train | val | test.") var split: String = "test"
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (model != nil) != classical else { throw ISACError.invalidParameter(name: "--model", value: model ?? "none", valid: "give exactly one of --model or --classical") }
        guard ["train", "val", "test"].contains(split) else { throw ISACError.invalidParameter(name: "--split", value: split, valid: "train, val or test") }
    }

    func run() throws {
        let d = try ExperimentData(directory: data)
        var rows: [(String, JointMetricSummary)] = []
        if classical {
            let tones = Array(0..<d.train.toneCount)
            for (name, p) in try classicalPredictions(d, tones: tones, nr: d.test.receiveCount, nt: d.test.transmitCount) {
                rows.append((name, try JointMetricSummary.evaluate(p, d.test.labels)))
            }
        } else if let dir = model {
            let (m, s) = try loadSaved(dir, data: d)
            let set = try splitSet(d, split)
            rows.append((s.method, try m.evaluate(set, tones: s.tones)))
        }
        if json {
            print(try ResultJSON.string(ExtendedEvaluateResult(split: classical ? "test" : split, results: rows.map {
                WithFields(ExtendedEvaluateResult.Row(method: $0.0, count: $0.1.count), $0.1.named)
            })))
        } else {
            print("method                                     acc%   rangeMAE  azMAE°  planarMAE  succ@1m%")
            for (n, m) in rows {
                func f(_ v: Double?, _ s: Double = 1) -> String { v.map { String(format: "%.4f", $0 * s) } ?? "–" }
                print("\(n.padding(toLength: 40, withPad: " ", startingAt: 0))  \(f(m.accuracy, 100))  \(f(m.rangeMAEMeters))  \(f(m.azimuthMAEDeg))  \(f(m.planarMAEMeters))  \(f(m.successRate, 100))")
            }
        }
    }
}

struct ExtendedPredict: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Per-sample predictions of a trained model, as CSV.")
    @Option(help: "Dataset folder.") var data: String
    @Option(help: "Model folder from `extended train`.") var model: String
    @Option(help: "train | val | test.") var split: String = "test"
    @Option(help: "Output CSV path.") var out: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try CLIOutput.checkFile(out)
        let d = try ExperimentData(directory: data)
        let (m, s) = try loadSaved(model, data: d)
        let set = try splitSet(d, split)
        let p = m.predict(set, tones: s.tones)
        var csv = CSVTable(header: ["index", "class_true", "class_pred", "p_car", "range_true_m", "range_pred_m", "azimuth_true_deg", "azimuth_pred_deg", "planar_error_m"])
        for (i, (pr, l)) in zip(p, set.labels).enumerated() {
            let loc = pr.location
            let pe = loc.map { planarError(rangeHat: $0.rangeMeters, range: l.rangeMeters, azimuthHat: $0.azimuthRad, azimuth: l.azimuthRad) } ?? .nan
            csv.append([Double(i), Double(l.classIndex), Double(pr.predictedClass ?? -1), pr.classProbabilities?.last ?? .nan,
                        l.rangeMeters, loc?.rangeMeters ?? .nan, l.azimuthRad * 180 / .pi, (loc?.azimuthRad ?? .nan) * 180 / .pi, pe])
        }
        try csv.write(to: out)
        if json { print(try JSONOutput.string(["out": out, "count": p.count, "method": s.method])) } else { print("\(p.count) predictions -> \(out)") }
    }
}

struct ExtendedExperiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Paper experiments: table2 | gainmap | ks-sweep | rate-tradeoff | ablations | sectors | train-fraction | robustness | all (CSV + SVG each).")
    @Argument(help: "Experiment name.") var name: String
    @Option(help: "small | paper.") var preset: String = "small"
    @Option(help: "Output folder (trained runs are cached in OUT/runs and reused by every experiment).") var out: String
    @Option(help: "Existing dataset folder; default OUT/dataset, generated for the preset when missing.") var data: String?
    @Option(help: "Override the preset's epoch count.") var epochs: Int?
    @Option(help: "Comma-separated seeds (default 42,43,44).") var seeds: String?
    @Option(help: "Worker threads of the learning kernels (default: ISAC_THREADS, OMP_NUM_THREADS, or the CPU affinity mask).") var threads: Int?
    @Option(help: "Train only block i of n of the experiment's trained runs (i/n) into OUT/runs and record it in OUT/shards; needs --data or an existing OUT/dataset. Rerunning a shard resumes it.") var shard: String?
    @Flag(help: "Build the tables from the finished shards in OUT (no training; names missing shards). Same experiment, --preset, --seeds, --epochs and --data as the shards.") var merge = false
    @Flag(help: "Only generate OUT/dataset for --preset (resumable) and stop; run it once before starting --shard tasks, which must not generate one folder concurrently.") var datasetOnly = false
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @Flag(help: "Print one JSON object.") var json = false

    static let names = ["table2", "gainmap", "ks-sweep", "rate-tradeoff", "ablations", "sectors", "train-fraction", "robustness", "all"]

    func validate() throws {
        guard Self.names.contains(name) else { throw ISACError.invalidParameter(name: "experiment", value: name, valid: "one of " + Self.names.joined(separator: ", ")) }
        guard ["small", "paper"].contains(preset) else { throw ISACError.invalidParameter(name: "--preset", value: preset, valid: "small or paper") }
        if let e = epochs { try Check.positive(e, "--epochs") }
        if let t = threads { try Check.positive(t, "--threads") }
        _ = try parsedSeeds()
        if let sh = shard { _ = try ShardSpec.parse(sh) }
        if shard != nil && merge { throw ISACError.invalidParameter(name: "--merge", value: "with --shard \(shard!)", valid: "give either --shard i/n (train one block) or --merge (collect), not both") }
        if datasetOnly && (shard != nil || merge || data != nil) { throw ISACError.invalidParameter(name: "--dataset-only", value: shard.map { "with --shard \($0)" } ?? (merge ? "with --merge" : "with --data"), valid: "alone: it generates OUT/dataset for --preset; --data, --shard and --merge come in later calls") }
    }

    func parsedSeeds() throws -> [UInt64]? {
        guard let s = seeds else { return nil }
        let v = s.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !v.isEmpty, v.allSatisfy({ $0 != nil }) else { throw ISACError.invalidParameter(name: "--seeds", value: s, valid: "comma-separated non-negative integers") }
        return v.map { $0! }
    }

    /// `isac merge OUT/shards` of `extended experiment NAME --shard i/n` records: re-parses the recorded command line
    /// (records of 0.6.0 kept the `extended experiment` path in front; it is dropped) and runs it with `--merge`, which
    /// builds the tables from the cached runs without training. Returns the `--json` object of `--merge`.
    static func mergeShards(_ shards: [(manifest: ShardManifest, payload: Data)]) throws -> ExtendedExperimentResult {
        var args = shards[0].manifest.arguments
        if args.starts(with: ["extended", "experiment"]) { args.removeFirst(2) }
        var cmd = try ExtendedExperiment.parse(args)
        cmd.merge = true; cmd.shard = nil; cmd.datasetOnly = false
        try cmd.validate()
        try applyThreadOption(cmd.threads)
        var p = try ExperimentPreset.named(cmd.preset)
        if let s = try cmd.parsedSeeds() { p.seeds = s }
        let dataDir = cmd.data ?? cmd.out + "/dataset"
        let t0 = Date()
        let runner = ExperimentRunner(preset: p, data: try ExperimentData(directory: dataDir), directory: cmd.out, quiet: true)
        runner.epochsOverride = cmd.epochs
        let files = try ShardedExperiment.merge(cmd.name, runner: runner, epochs: cmd.epochs)
        return ExtendedExperimentResult(experiment: cmd.name, preset: cmd.preset, out: cmd.out, files: files,
                                        seconds: Date().timeIntervalSince(t0), seeds: p.seeds.map { Double($0) }, shards: shards.count)
    }

    func run() throws {
        try applyThreadOption(threads)
        var p = try ExperimentPreset.named(preset)
        if let s = try parsedSeeds() { p.seeds = s }
        let dataDir = data ?? out + "/dataset"
        let t0 = Date()
        if data == nil && (shard != nil || merge) && !FileManager.default.fileExists(atPath: dataDir + "/manifest.json") {
            // Parallel tasks must not generate one dataset folder concurrently.
            throw ISACError.invalidParameter(name: "--data", value: "(none)", valid: "with --shard/--merge give --data DS or generate \(dataDir) first (`isac extended experiment \(name) --preset \(preset) --out \(out) --dataset-only`)")
        }
        if data == nil && !FileManager.default.fileExists(atPath: dataDir + "/manifest.json") {
            let prog = ProgressLine("dataset \(preset)", total: p.dataset.totalSamples, enabled: !quiet)
            _ = try DatasetWriter.generate(config: p.dataset, to: dataDir, resume: true, progress: prog)
            prog.finish()
        }
        if datasetOnly {
            // The dataset of the preset, nothing trained: the step a job array runs once before its shard tasks.
            if json { print(try ResultJSON.string(ExtendedExperimentResult(experiment: name, preset: preset, out: out, dataset: dataDir))) }
            else { print("dataset for experiment \(name) (preset \(preset)) in \(dataDir)") }
            return
        }
        let d = try ExperimentData(directory: dataDir)
        let runner = ExperimentRunner(preset: p, data: d, directory: out, quiet: quiet)
        runner.epochsOverride = epochs
        if let sh = shard {
            let spec = try ShardSpec.parse(sh)
            // Recorded as every sharded command records its line: after the subcommand path, shard options removed,
            // so `isac merge OUT/shards` re-parses it with this command's parser (`mergeShards`).
            let args = ShardOptions.argumentsWithoutShardOptions(dropping: 2)
            let keys = try ShardedExperiment.runShard(name, runner: runner, shard: spec, epochs: epochs, arguments: args)
            let secs = Date().timeIntervalSince(t0)
            if json {
                print(try ResultJSON.string(ExtendedExperimentResult(experiment: name, preset: preset, out: out, seconds: secs, shard: sh, runs: keys)))
            } else {
                print("experiment \(name) shard \(sh): \(keys.count) runs in \(String(format: "%.0f", secs)) s (merge: `isac merge \(out)/shards`, or the same command with --merge instead of --shard)")
            }
            return
        }
        var files: [String] = []
        if merge {
            files = try ShardedExperiment.merge(name, runner: runner, epochs: epochs)
        } else {
            let todo = name == "all" ? ExperimentSuite.names : [name]
            for e in todo { files += try ExperimentSuite(runner: runner).run(e) }
        }
        let secs = Date().timeIntervalSince(t0)
        if json {
            print(try ResultJSON.string(ExtendedExperimentResult(experiment: name, preset: preset, out: out, files: files, seconds: secs,
                                                                 seeds: p.seeds.map { Double($0) })))
        } else {
            print("experiment \(name) (\(preset), seeds \(p.seeds.map(String.init).joined(separator: ","))) in \(String(format: "%.0f", secs)) s:")
            for f in files { print("  " + f) }
        }
    }
}

struct ExtendedExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained model as a PyTorch state_dict-compatible .npz (and optionally reference inputs/outputs/gradients).")
    @Option(help: "Model folder from `extended train`.") var model: String
    @Option(help: "torch (PyTorch names, nn.Linear [out, in] layout) | swift (the native checkpoint layout).") var format: String = "torch"
    @Option(help: "Output .npz path.") var out: String
    @Option(help: "Also write reference data for bench/extended/torch_joint.py: this dataset folder …") var data: String?
    @Option(help: "… and this output .npz (input batch, eval/train outputs, loss and its gradient).") var reference: String?
    @Option(help: "Samples of the reference batch (from the start of --split).") var samples: Int = 4
    @Option(help: "train | val | test.") var split: String = "test"
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard ["torch", "swift"].contains(format) else { throw ISACError.invalidParameter(name: "--format", value: format, valid: "torch or swift") }
        guard (data == nil) == (reference == nil) else {
            throw ISACError.invalidParameter(name: "--reference", value: reference ?? "none", valid: "give --data and --reference together")
        }
        try Check.positive(samples, "--samples")
    }

    func run() throws {
        let s = try readSavedModel(model)
        var m = try JointNetwork(config: s.config, seed: s.seed)
        try loadModel(&m, from: model + "/model.npz")
        if format == "torch" { try JointNetworkInterop.saveTorch(m, to: out) } else { try saveModel(m, to: out) }
        var o = ExtendedExportResult(out: out, format: format, parameters: m.parameterCount)
        if let dd = data, let ref = reference {
            let d = try ExperimentData(directory: dd)
            let set = try splitSet(d, split)
            let method = try parseMethod(s.method)
            let a = try JointNetworkInterop.reference(m, samples: set, indices: Array(0..<Swift.min(samples, set.count)), tones: s.tones,
                                                      objective: method.objective, weights: method.weights)
            try NPZ.write(a, to: ref)
            o.reference = ref
        }
        if json { print(try ResultJSON.string(o)) } else { print("\(m.parameterCount) parameters -> \(out) (\(format))" + (reference.map { "; reference -> \($0)" } ?? "")) }
    }
}

// `--json` result types (issue 12: Codable instead of `[String: Any]`; `ResultJSON` prints the same bytes the
// dictionaries printed: each field keeps the Swift type of the value it replaces, nil fields are left out).

/// `extended train --json`; the validation metrics follow as `val_<name>` keys (`WithFields`).
struct ExtendedTrainResult: Encodable {
    var method: String
    /// K_s, the selected sensing subcarriers.
    var ks: Int
    var epochs: Int
    var bestEpoch: Int
    /// Wall time of the command, s.
    var seconds: Double
    var out: String
}

/// `extended evaluate --json`: one row per method, its metrics as keys named by `JointMetrics.named`.
struct ExtendedEvaluateResult: Encodable {
    struct Row: Encodable { var method: String; var count: Int }
    var split: String
    var results: [WithFields<Row, Double>]
}

/// `extended experiment --json` (and its `isac merge`): `dataset` with --dataset-only, `shard` + `runs` with
/// --shard, `files` + `seeds` otherwise; `shards` only from the merge.
struct ExtendedExperimentResult: Encodable {
    var experiment: String
    var preset: String
    var out: String
    var dataset: String? = nil
    var files: [String]? = nil
    /// Wall time, s.
    var seconds: Double? = nil
    var seeds: [Double]? = nil
    var shards: Int? = nil
    var shard: String? = nil
    var runs: [String]? = nil
}

/// `extended export --json`; `reference` only when a reference file was written.
struct ExtendedExportResult: Encodable {
    var out: String
    var format: String
    var parameters: Int
    var reference: String? = nil
}
