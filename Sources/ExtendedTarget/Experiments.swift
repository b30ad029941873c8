import ExtendedDatasets
import Foundation
import ISACIO
import Learning
import Linalg
import Scattering

/// The compared methods of Tables II and IV (CLI names in `rawValue`).
public enum Method: String, Codable, Sendable, CaseIterable {
    case sharedMTL = "shared-mtl"
    case sharedMTLPCGrad = "shared-mtl-pcgrad"
    case crossStitch = "cross-stitch"
    case singleClassification = "single-cls"
    case singleLocalization = "single-loc"
    case proposedPlain = "proposed-nocta-nophys"
    case proposedCTA = "proposed-cta-nophys"
    case proposedNLL = "proposed-cta-nll"
    case proposedFull = "proposed-full"
    case noPlanar = "ablation-no-planar"
    case noPeak = "ablation-no-peak"
    case noCoupling = "ablation-no-coupling"

    /// Row label as in the paper.
    public var title: String {
        switch self {
        case .sharedMTL: return "Shared-MTL w/o PCGrad"
        case .sharedMTLPCGrad: return "Shared-MTL w PCGrad"
        case .crossStitch: return "Cross-Stitch"
        case .singleClassification: return "Single-task classification"
        case .singleLocalization: return "Single-task localization"
        case .proposedPlain: return "Proposed w/o CTA w/o physics"
        case .proposedCTA: return "Proposed w CTA w/o physics"
        case .proposedNLL: return "Proposed w CTA w NLL only"
        case .proposedFull: return "Proposed w CTA w physics"
        case .noPlanar: return "w/o planar consistency"
        case .noPeak: return "w/o peak regularization"
        case .noCoupling: return "w/o coupling constraint"
        }
    }

    /// Network architecture the method trains (`.dualBranch` for every proposed/ablation variant).
    public var architecture: Architecture {
        switch self {
        case .sharedMTL, .sharedMTLPCGrad: return .sharedMTL
        case .crossStitch: return .crossStitch
        case .singleClassification: return .singleClassification
        case .singleLocalization: return .singleLocalization
        default: return .dualBranch
        }
    }
    /// Whether the dual-branch model uses cross-task attention (all but `proposedPlain`).
    public var crossTaskAttention: Bool { self != .proposedPlain }
    /// Training objective: `.nll` for `proposedNLL`, `.physics` for `proposedFull` and the ablations, else `.deterministic`.
    public var objective: Objective {
        switch self {
        case .proposedNLL: return .nll
        case .proposedFull, .noPlanar, .noPeak, .noCoupling: return .physics
        default: return .deterministic
        }
    }
    /// Loss weights: the defaults, with the planar / peak / coupling weight set to 0 for the matching ablation.
    public var weights: LossWeights {
        var w = LossWeights()
        if self == .noPlanar { w.planar = 0 }
        if self == .noPeak { w.peak = 0 }
        if self == .noCoupling { w.coupling = 0 }
        return w
    }
    /// True for Shared-MTL with PCGrad gradient surgery.
    public var pcgrad: Bool { self == .sharedMTLPCGrad }

    /// Methods of Table II.
    public static let table2: [Method] = [.sharedMTL, .sharedMTLPCGrad, .crossStitch, .singleClassification, .singleLocalization,
                                          .proposedPlain, .proposedCTA, .proposedFull]
    /// Methods of Table IV.
    public static let table4: [Method] = [.sharedMTL, .sharedMTLPCGrad, .crossStitch, .proposedPlain, .proposedCTA,
                                          .proposedNLL, .noPlanar, .noPeak, .noCoupling, .proposedFull]
    /// Methods of the K_s sweep / Table III (the joint-learning ones).
    public static let sweep: [Method] = [.sharedMTLPCGrad, .crossStitch, .proposedPlain, .proposedCTA, .proposedFull]
}

/// Scale of an experiment run. `paper` follows Table I; `small` is the reduced configuration that runs
/// end to end on 2 CPU cores (every reduction listed in docs/extended-target.md).
public struct ExperimentPreset: Sendable {
    /// Preset name (`small` or `paper`).
    public var name: String
    /// Dataset the experiment trains on.
    public var dataset: DatasetConfig
    /// Network size of every learned model.
    public var size: NetworkSize
    /// Training epochs per run.
    public var epochs: Int
    /// Mini-batch size, samples.
    public var batchSize: Int
    /// Learning rate.
    public var learningRate: Float
    /// Seeds of the repeated training runs.
    public var seeds: [UInt64]
    /// K_s values (selected subcarriers) of the tone sweep.
    public var ksValues: [Int]
    /// Fractions of the training split of the data-size sweep.
    public var trainFractions: [Double]
    /// Methods of the K_s / data-size sweeps.
    public var sweepMethods: [Method]
    /// Input preprocessing of every learned model (see `SampleSet.batch`).
    public var normalization: InputPreprocessing.Normalization = .perSample

    /// The `small` or `paper` preset; throws `ISACError.invalidParameter` for any other name.
    public static func named(_ name: String) throws -> ExperimentPreset {
        switch name {
        case "paper":
            return ExperimentPreset(name: name, dataset: try DatasetConfig.preset("paper", solver: .vie, seed: 42), size: .paper,
                                    epochs: 200, batchSize: 32, learningRate: 2e-4, seeds: [42, 43, 44],
                                    ksValues: [1, 2, 4, 8, 16], trainFractions: [0.25, 0.5, 0.75, 1.0], sweepMethods: Method.sweep)
        case "small":
            // Sized so that learning is measurable on 2 CPU cores: 600/100/100 Born samples at N = 16, K = 8
            // (≈ 0.4 s per sample), 20/5/5 instances per class so that test instances are unseen shapes.
            var d = try DatasetConfig.preset("small", solver: .born, seed: 42)
            d.subcarriers = 8
            d.voxelPitchM = 299_792_458.0 / (d.carrierHz + 3.5 * d.subcarrierSpacingHz) / 2   // λ/2 at the highest tone
            d.trainCounts = [300, 300]; d.valCounts = [50, 50]; d.testCounts = [50, 50]
            d.trainInstances = 20; d.valInstances = 5; d.testInstances = 5
            d.samplesPerChunk = 25
            return ExperimentPreset(name: name, dataset: d, size: .small, epochs: 16, batchSize: 16, learningRate: 2e-3,
                                    seeds: [42, 43, 44], ksValues: [1, 2, 4, 8], trainFractions: [0.25, 0.5, 1.0],
                                    sweepMethods: [.sharedMTLPCGrad, .proposedCTA, .proposedFull])
        default:
            throw ISACError.invalidParameter(name: "--preset", value: name, valid: "must be small or paper")
        }
    }
}

/// A loaded dataset: normalized train/val/test sets, tone frequencies and the array scene.
public struct ExperimentData: Sendable {
    /// Training, validation and test splits, already multiplied by `scale` (1 / training-split RMS).
    public var train: SampleSet, validation: SampleSet, test: SampleSet
    /// Divides raw channel values (train-split RMS normalization).
    public var scale: Float
    public var frequenciesHz: [Double]
    public var rangeMinMeters: Double, rangeMaxMeters: Double
    public var azimuthMinRad: Double, azimuthMaxRad: Double
    public var carrierHz: Double
    /// Mean target-centre height on the training split (m): the focusing plane of the matched filter.
    public var meanCenterZ: Double
    public let dataset: ExtendedTargetDataset

    /// `DatasetWriter.configHash` of the dataset's generator config ("unknown" if it cannot be hashed): the
    /// dataset identity recorded in shard records and in every cached run's training signature.
    public var configHash: String { (try? DatasetWriter.configHash(dataset.manifest.config)) ?? "unknown" }
    /// "train/validation/test" sample counts.
    public var splitSizes: String { "\(train.count)/\(validation.count)/\(test.count)" }

    /// Loads `dir` (manifest + chunks) and checks shapes and finiteness before any training.
    public init(directory dir: String) throws {
        let ds = try ExtendedTargetDataset(directory: dir)
        dataset = ds
        func set(_ s: DatasetSplit) throws -> SampleSet {
            let (x, shape, labs) = try ds.load(s)
            guard !labs.isEmpty else {
                throw ISACError.invalidParameter(name: "--data", value: dir, valid: "split \(s.rawValue) is empty")
            }
            let jl = labs.map { JointLabel(classIndex: $0.classLabel, rangeMeters: $0.rangeM, azimuthRad: $0.azimuthDeg * Double.pi / 180) }
            return try SampleSet(cOrderRealTensor: x, shape: shape, labels: jl, name: "\(dir) [\(s.rawValue)]")
        }
        let tr = try set(.train), va = try set(.val), te = try set(.test)
        let m = ds.manifest
        guard m.frequenciesHz.count == tr.toneCount else {
            throw ISACError.malformedFile(path: dir + "/manifest.json", reason: "\(m.frequenciesHz.count) frequencies for \(tr.toneCount) tones")
        }
        let rms = tr.rms
        guard rms > 0, rms.isFinite else { throw ISACError.nonFinite(name: "\(dir) training split (RMS = \(rms))") }
        scale = 1 / rms
        train = tr.scaled(by: scale); validation = va.scaled(by: scale); test = te.scaled(by: scale)
        frequenciesHz = m.frequenciesHz
        let c = m.config
        rangeMinMeters = c.rangeMinM; rangeMaxMeters = c.rangeMaxM
        azimuthMinRad = c.azimuthMinDeg * Double.pi / 180; azimuthMaxRad = c.azimuthMaxDeg * Double.pi / 180
        carrierHz = c.carrierHz
        let idx = ds.indices(.train)
        meanCenterZ = idx.reduce(0.0) { $0 + (ds.labels[$1].center.count == 3 ? ds.labels[$1].center[2] : 0) } / Double(Swift.max(idx.count, 1))
    }

    /// Test split as complex channels on `tones` (for the classical references), undoing the normalization.
    public func testChannels(tones: [Int]) throws -> [MultiToneChannel] {
        let nr = test.receiveCount, nt = test.transmitCount, img = 2 * nr * nt
        return try test.inputs.enumerated().map { (i, v) in
            let mats = tones.map { k -> Matrix<CDouble> in
                Matrix(rows: nr, cols: nt) { r, t in
                    CDouble(Double(v[k * img + r * nt + t] / scale), Double(v[k * img + nr * nt + r * nt + t] / scale))
                }
            }
            return try MultiToneChannel(tones: mats, frequenciesHz: tones.map { frequenciesHz[$0] }, name: "test sample \(i)")
        }
    }

    /// Model layout for `method` on this dataset; `normalization` selects the input preprocessing, whose
    /// amplitude-channel statistics come from the training split.
    public func modelConfig(_ method: Method, size: NetworkSize,
                            normalization: InputPreprocessing.Normalization = .perSample) throws -> ModelConfig {
        let la = train.logAmplitudeStatistics
        return try ModelConfig(architecture: method.architecture, crossTaskAttention: method.crossTaskAttention, size: size,
                               classes: 2, receiveCount: train.receiveCount, transmitCount: train.transmitCount,
                               toneCount: train.toneCount, rangeMinMeters: rangeMinMeters, rangeMaxMeters: rangeMaxMeters,
                               input: InputPreprocessing(normalization: normalization, logAmplitudeMean: la.mean, logAmplitudeStd: la.std))
    }
}

/// Result of one trained (method, seed, K_s, fraction) run, cached as JSON.
public struct RunResult: Codable, Sendable {
    /// Method CLI name (`Method.rawValue`).
    public var method: String
    /// Training seed.
    public var seed: UInt64
    /// Number of selected subcarriers K_s.
    public var ks: Int
    /// Fraction of the training split used (class-stratified subsample when < 1).
    public var trainFraction: Double
    /// Test-split metrics by name (`JointMetricSummary.named`); empty for a failed run.
    public var metrics: [String: Double]
    /// Test predictions: class probabilities (may be empty) and location (NaN when absent).
    public var probabilities: [[Double]]
    public var ranges: [Double]
    public var azimuths: [Double]
    public var seconds: Double
    public var checkpoint: String
    /// Why the run failed (diverged, non-finite predictions); nil for a successful run. A failed run is
    /// cached like a successful one (same seed → same failure) and reported as failed in every table;
    /// delete its JSON under OUT/runs to retry.
    public var failure: String? = nil
    /// What the run was trained with (epochs, batch, learning rate, network size, normalization, dataset
    /// config hash and split sizes; `ExperimentRunner.trainingSignature`). A cached run is reused only when this
    /// matches the asking run, so an `--epochs 8` cache is never reported as a 16-epoch result. nil in caches
    /// written before 0.7.0 (accepted as they are, with a warning).
    public var training: [String: String]? = nil

    /// NaN (absent location of a classification-only run) is stored as the string "nan"; the decoder must
    /// use the same strategy, otherwise such cache entries never load and the run is retrained each time.
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }
    /// JSON decoder matching `encoder` ("nan", "inf", "-inf" strings back to non-finite doubles).
    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// Test predictions rebuilt from the stored arrays (no class probabilities when they are empty, no location when the range is NaN).
    public var predictions: [JointPrediction] {
        (0..<ranges.count).map { i in
            JointPrediction(classProbabilities: probabilities.isEmpty ? nil : probabilities[i],
                            location: ranges[i].isNaN ? nil : LocationEstimate(rangeMeters: ranges[i], azimuthRad: azimuths[i]))
        }
    }
}

/// Trains and caches runs under `directory/runs/` so every experiment reuses shared models.
public final class ExperimentRunner: @unchecked Sendable {
    /// Experiment preset (epochs, batch size, learning rate, network size, seeds).
    public let preset: ExperimentPreset
    /// The loaded dataset.
    public let data: ExperimentData
    /// Output folder; runs are cached under `directory/runs/`.
    public let directory: String
    /// Suppresses the per-epoch stderr line of `train`.
    public let quiet: Bool
    /// Epoch count that replaces `preset.epochs` when set.
    public var epochsOverride: Int?
    /// False while a shard merge builds tables: a run missing from the cache is then an error, not a new training.
    public var trainingAllowed = true

    /// Runner for `preset` on `data`, caching under `directory`.
    public init(preset: ExperimentPreset, data: ExperimentData, directory: String, quiet: Bool) {
        self.preset = preset; self.data = data; self.directory = directory; self.quiet = quiet
    }

    /// Indices of the K_s tones used for sensing (`selectedToneIndices`, spread uniformly over the K available).
    public func tones(ks: Int) throws -> [Int] { try selectedToneIndices(ks: ks, available: data.train.toneCount) }

    /// Cache key of a run: `method_sSEED_ksK_fPCT`.
    public static func key(_ method: Method, seed: UInt64, ks: Int, trainFraction: Double) -> String {
        "\(method.rawValue)_s\(seed)_ks\(ks)_f\(Int((trainFraction * 100).rounded()))"
    }
    /// The settings that change a trained run besides (method, seed, K_s, fraction), stored in each cached
    /// `RunResult.training` and compared on every cache hit.
    public var trainingSignature: [String: String] {
        ["epochs": String(epochsOverride ?? preset.epochs), "batchSize": String(preset.batchSize),
         "learningRate": String(preset.learningRate), "size": String(describing: preset.size),
         "normalization": String(describing: preset.normalization), "dataset": data.configHash,
         "samples": data.splitSizes]
    }

    /// A cached run trained with other settings is an error (not a silent reuse, not a silent overwrite).
    func checkCached(_ r: RunResult, key: String) throws {
        guard let cached = r.training else {
            FileHandle.standardError.write(Data("warning: cached run \(key) in \(directory)/runs predates training signatures (0.7.0); reused as it is\n".utf8))
            return
        }
        let want = trainingSignature
        guard cached != want else { return }
        let diffs = want.keys.sorted().filter { cached[$0] != want[$0] }
            .map { "\($0) \(cached[$0] ?? "absent") (cached) vs \(want[$0] ?? "absent") (asked)" }
        throw ISACError.invalidParameter(
            name: "--out", value: directory,
            valid: "an output folder whose cached runs were trained with the same settings; run \(key) differs in \(diffs.joined(separator: ", ")): use a new --out or delete \(directory)/runs")
    }

    /// OUT/runs/KEY.json.
    public func jsonPath(_ key: String) -> String { "\(directory)/runs/\(key).json" }

    /// Trains (or loads from cache) one run; the model checkpoint is stored next to the JSON.
    public func run(_ method: Method, seed: UInt64, ks: Int, trainFraction: Double = 1) throws -> RunResult {
        let key = Self.key(method, seed: seed, ks: ks, trainFraction: trainFraction)
        let jsonPath = self.jsonPath(key)
        if let d = FileManager.default.contents(atPath: jsonPath), let r = try? RunResult.decoder.decode(RunResult.self, from: d) {
            try checkCached(r, key: key)
            return r
        }
        guard trainingAllowed else {
            throw ISACError.io("run \(key) is missing or unreadable in \(directory)/runs; the merge does not train: rerun the shard that owns it")
        }
        let t0 = Date()
        let tones = try self.tones(ks: ks)
        var tr = data.train
        if trainFraction < 1 {
            // Class-stratified subsample of the training split, drawn once per (seed, fraction).
            var rng = RandomSource(seed: seed, stream: 2_000_000 + UInt64(trainFraction * 1000))
            var keep: [Int] = []
            for c in 0..<2 {
                var idx = tr.labels.indices.filter { tr.labels[$0].classIndex == c }
                idx.shuffle(using: &rng)
                keep += idx.prefix(Swift.max(1, Int((Double(idx.count) * trainFraction).rounded())))
            }
            tr = tr.subset(keep.sorted())
        }
        let cfg = try data.modelConfig(method, size: preset.size, normalization: preset.normalization)
        var tc = TrainingConfig()
        tc.epochs = epochsOverride ?? preset.epochs; tc.batchSize = preset.batchSize; tc.learningRate = preset.learningRate
        tc.objective = method.objective; tc.weights = method.weights; tc.pcgrad = method.pcgrad
        tc.seed = seed; tc.tones = tones
        let model = try JointNetwork(config: cfg, seed: seed)
        let ckpt = "\(directory)/runs/\(key).npz"
        let preds: [JointPrediction], m: JointMetricSummary
        do {
            let (best, _) = try train(model, train: tr, validation: data.validation, config: tc, quiet: quiet, label: key)
            preds = best.predict(data.test, tones: tones)
            m = try JointMetricSummary.evaluate(preds, data.test.labels)
            try saveModel(best, to: ckpt)
        } catch let e as ISACError {
            // One failed run must not abort the experiment: record it (cached) and let the tables mark it.
            guard case .nonFinite = e else { throw e }
            FileHandle.standardError.write(Data("warning: run \(key) failed: \(e); reported as failed\n".utf8))
            let r = RunResult(method: method.rawValue, seed: seed, ks: ks, trainFraction: trainFraction, metrics: [:],
                              probabilities: [], ranges: [], azimuths: [], seconds: Date().timeIntervalSince(t0),
                              checkpoint: "", failure: "\(e)", training: trainingSignature)
            try AtomicFile.write(try RunResult.encoder.encode(r), to: jsonPath)
            return r
        }
        let r = RunResult(method: method.rawValue, seed: seed, ks: ks, trainFraction: trainFraction,
                          metrics: Dictionary(uniqueKeysWithValues: m.named),
                          probabilities: preds.compactMap { $0.classProbabilities },
                          ranges: preds.map { $0.location?.rangeMeters ?? .nan },
                          azimuths: preds.map { $0.location?.azimuthRad ?? .nan },
                          seconds: Date().timeIntervalSince(t0), checkpoint: ckpt, training: trainingSignature)
        try AtomicFile.write(try RunResult.encoder.encode(r), to: jsonPath)
        return r
    }

    /// Rebuilds the trained network of `r` for `method` from its checkpoint.
    public func load(_ r: RunResult, method: Method) throws -> JointNetwork {
        var m = try JointNetwork(config: try data.modelConfig(method, size: preset.size, normalization: preset.normalization), seed: r.seed)
        try loadModel(&m, from: r.checkpoint)
        return m
    }
}

/// The six BatchNorm layers' statistics by checkpoint path.
func batchNormStatistics(_ m: JointNetwork) -> [String: BatchNormStatistics] {
    ["semantic.bn1": m.semantic.bn1.statistics, "semantic.bn2": m.semantic.bn2.statistics, "semantic.bn3": m.semantic.bn3.statistics,
     "geometric.bn1": m.geometric.bn1.statistics, "geometric.bn2": m.geometric.bn2.statistics, "geometric.bn3": m.geometric.bn3.statistics]
}

/// Saves parameters + BatchNorm running statistics (`.npz`, readable with NumPy).
public func saveModel(_ m: JointNetwork, to path: String) throws {
    try Checkpoint.save(m, to: path, statistics: batchNormStatistics(m))
}

/// Loads a checkpoint written by `saveModel` into a model of the same configuration.
public func loadModel(_ m: inout JointNetwork, from path: String) throws {
    let stats = batchNormStatistics(m)
    try Checkpoint.load(into: &m, from: path, statistics: stats)
}

/// The input-agnostic reference: every test sample gets the training-split class frequencies and the
/// training-split mean range and circular-mean azimuth. A learned model that has not learned an
/// input-dependent mapping cannot do better than this (up to the train/test label shift).
public func trivialPredictions(train: SampleSet, count: Int, classes: Int = 2) -> [JointPrediction] {
    let n = Double(Swift.max(train.count, 1))
    let p = (0..<classes).map { c in Double(train.labels.filter { $0.classIndex == c }.count) / n }
    let r = train.labels.reduce(0.0) { $0 + $1.rangeMeters } / n
    let th = Foundation.atan2(train.labels.reduce(0.0) { $0 + Foundation.sin($1.azimuthRad) },
                              train.labels.reduce(0.0) { $0 + Foundation.cos($1.azimuthRad) })
    return Array(repeating: JointPrediction(classProbabilities: p, location: LocationEstimate(rangeMeters: r, azimuthRad: th)), count: count)
}

/// Classical references on the test split at all K tones: (name, predictions).
public func classicalPredictions(_ data: ExperimentData, tones: [Int], nr: Int, nt: Int) throws -> [(String, [JointPrediction])] {
    let chans = try data.testChannels(tones: tones)
    let region = try SearchRegion(rangeMinMeters: data.rangeMinMeters, rangeMaxMeters: data.rangeMaxMeters,
                                  azimuthMinRad: data.azimuthMinRad, azimuthMaxRad: data.azimuthMaxRad)
    let fft = try FFTPeriodogramEstimator(region: region, paddedReceive: Swift.max(nr, 16), paddedTransmit: Swift.max(4 * nt, 256))
    let fftP = try chans.map { JointPrediction(location: try fft.estimate($0)) }
    let scene = try CrossArrayScene(transmitCount: nt, receiveCount: nr, carrierHz: data.carrierHz, planeZMeters: data.meanCenterZ)
    let mf = try NearFieldMatchedFilter(scene: scene, region: region, rangeStepMeters: 0.5, azimuthStepRad: 0.5 * Double.pi / 180,
                                        refineFactor: 5)
    var mfP: [JointPrediction] = []
    var i = 0
    while i < chans.count {
        let b = Array(chans[i..<Swift.min(i + 16, chans.count)])
        mfP += try mf.estimate(b).map { JointPrediction(location: $0) }
        i += 16
    }
    return [("Traditional FFT (2D-Periodogram)", fftP), ("Near-field point-target matched filter", mfP)]
}
