import Testing
import Foundation
import Linalg
import Learning
import ISACIO
import _Differentiation
@testable import ExtendedTarget

func tmpPath(_ name: String) -> String {
    let d = FileManager.default.temporaryDirectory.path + "/isac-xt-\(ProcessInfo.processInfo.processIdentifier)"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d + "/" + name
}

func tinyTrainingSetup() throws -> (SampleSet, SampleSet, ModelConfig) {
    let tr0 = try syntheticSamples(count: 24, seed: 1), va0 = try syntheticSamples(count: 8, seed: 2)
    let scale = 1 / tr0.rms
    let cfg = try ModelConfig(architecture: .dualBranch, crossTaskAttention: true,
                              size: NetworkSize(channels: [4, 8, 8], tokenGrid: 1, modelSize: 8, heads: 2, embedSize: 8),
                              receiveCount: 8, transmitCount: 8, toneCount: 2, rangeMinMeters: 5, rangeMaxMeters: 20)
    return (tr0.scaled(by: scale), va0.scaled(by: scale), cfg)
}

@Suite("Training stability, resume, baselines as published, interop")
struct StabilityTests {
    @Test("resume: 4 epochs == 2 epochs, checkpoint, resume, 2 more epochs (bit-identical model and log)")
    func resumeBitIdentical() throws {
        let (tr, va, cfg) = try tinyTrainingSetup()
        var tc = TrainingConfig()
        tc.epochs = 4; tc.batchSize = 8; tc.learningRate = 3e-3; tc.tones = [0, 1]
        let model = try JointNetwork(config: cfg, seed: 42)
        let (full, logFull) = try train(model, train: tr, validation: va, config: tc, quiet: true)
        let ck = tmpPath("resume_state.npz")
        let (_, logHalf) = try train(model, train: tr, validation: va, config: tc, quiet: true,
                                     resume: ResumeOptions(checkpointPath: ck, stopAfterEpochs: 2))
        #expect(logHalf.count == 2)
        let (resumed, logRes) = try train(model, train: tr, validation: va, config: tc, quiet: true,
                                          resume: ResumeOptions(checkpointPath: ck, resumeFrom: ck))
        #expect(logRes.count == 4)
        for ((pa, a), (pb, b)) in zip(full.namedParameters, resumed.namedParameters) {
            #expect(pa == pb && a == b, "parameter \(pa) differs after resume")
        }
        for (k, s) in JointNetworkInterop.statistics(full) {
            let r = JointNetworkInterop.statistics(resumed)[k]!
            #expect(s.mean == r.mean && s.variance == r.variance, "BN \(k) differs")
        }
        #expect(logFull.map { Float($0.score) } == logRes.map { Float($0.score) })
        #expect(zip(logFull, logRes).allSatisfy { Float($0.trainLoss) == Float($1.trainLoss) })
        // A mismatched hyper-parameter is refused, naming the flag.
        var other = tc; other.learningRate = 1e-3
        #expect(throws: ISACError.self) {
            try train(model, train: tr, validation: va, config: other, quiet: true, resume: ResumeOptions(resumeFrom: ck))
        }
    }

    @Test("a diverging run (lr 1e12) aborts with nonFinite after the consecutive-skip limit; nothing is returned")
    func divergenceAborts() throws {
        let (tr, va, cfg) = try tinyTrainingSetup()
        var tc = TrainingConfig()
        tc.epochs = 6; tc.batchSize = 8; tc.learningRate = 1e12; tc.tones = [0, 1]; tc.clipNorm = nil
        tc.maxNonFiniteSteps = 3
        do {
            _ = try train(try JointNetwork(config: cfg, seed: 1), train: tr, validation: va, config: tc, quiet: true)
            Issue.record("training with lr 1e12 returned a model")
        } catch let e as ISACError {
            guard case .nonFinite = e else { Issue.record("unexpected error \(e)"); return }
        }
    }

    @Test("non-finite predictions never score (no planar error 0 m / Succ@1m 100 % for NaN)")
    func nanPredictionsRejected() {
        let l = [JointLabel(classIndex: 0, rangeMeters: 10, azimuthRad: 0), JointLabel(classIndex: 1, rangeMeters: 12, azimuthRad: 0.1)]
        let p = [JointPrediction(classProbabilities: [0.5, 0.5], location: LocationEstimate(rangeMeters: .nan, azimuthRad: .nan)),
                 JointPrediction(classProbabilities: [0.2, 0.8], location: LocationEstimate(rangeMeters: 12, azimuthRad: 0.1))]
        #expect(throws: ISACError.self) { try JointMetricSummary.evaluate(p, l) }
        let q = [JointPrediction(classProbabilities: [.nan, .nan]), JointPrediction(classProbabilities: [0.2, 0.8])]
        #expect(throws: ISACError.self) { try JointMetricSummary.evaluate(q, l) }
    }

    @Test("AdamW no-decay groups: with zero gradient only dense/conv weights shrink by (1 − ηλ)")
    func noDecayGroups() throws {
        let (_, _, cfg) = try tinyTrainingSetup()
        var cs = cfg; cs.architecture = .crossStitch
        let net = try JointNetwork(config: cs, seed: 3)
        var m = net.deepCopy()
        var opt = try AdamW(learningRate: 0.1, weightDecay: 0.5, decayGroups: .matricesOnly)
        opt.update(&m, along: JointNetwork.TangentVector.zero)
        var decayed = 0, kept = 0
        for ((p, a), (_, b)) in zip(net.namedParameters, m.namedParameters) {
            let last = p.split(separator: ".").last!
            if last == "weight" || last == "filter" {
                decayed += 1
                let lrwd: Float = Float(0.1) * Float(0.5)
                var ok = true
                for i in 0..<a.count where b.scalars[i] != a.scalars[i] - lrwd * a.scalars[i] { ok = false }
                #expect(ok, "\(p) not decayed")
            } else {
                kept += 1
                #expect(a == b, "\(p) (norm/bias/embedding/mixing) was decayed")
            }
        }
        #expect(decayed > 0 && kept > 0)
        for p in ["stitch", "cta.mix", "semantic.toneEmbedding", "semantic.bn1.gamma", "semantic.block1.norm1.beta", "headCls.bias"] {
            #expect(!WeightDecayGroups.matricesOnly.decays(p), "\(p)")
        }
        #expect(WeightDecayGroups.matricesOnly.decays("semantic.conv1.filter") && WeightDecayGroups.matricesOnly.decays("headLoc.weight"))
    }

    @Test("PCGrad on shared parameters only: heads keep their task gradient, shared part is projected")
    func pcgradSharedOnly() throws {
        let (tr, _, cfg) = try tinyTrainingSetup()
        var c = cfg; c.architecture = .sharedMTL
        let net = try JointNetwork(config: c, seed: 5)
        let idx = Array(0..<8), tones = [0, 1]
        let x = tr.batch(idx, tones: tones, input: c.input)
        let t = BatchTargets(samples: tr, indices: idx, tones: tones, config: c)
        let both = LossSpec(objective: .physics, weights: LossWeights(), classification: true, localization: true, config: c)
        var s1 = both; s1.localization = false
        var s2 = both; s2.classification = false
        let (out, pb) = valueWithPullback(at: net) { m in m(x, samples: 8, toneIndices: tones, training: true) }
        let g1 = pb(valueWithGradient(at: out) { o in jointLoss(o, targets: t, spec: s1, classes: 2) }.gradient)
        let g2 = pb(valueWithGradient(at: out) { o in jointLoss(o, targets: t, spec: s2, classes: 2) }.gradient)
        let comb = pcgradCombine(g1, g2)
        func table(_ g: JointNetwork.TangentVector) -> [String: [Float]] {
            var g = g; var d: [String: [Float]] = [:]
            JointNetwork.forEachParameter(in: &g, "") { p, t in d[p] = t.scalars }
            return d
        }
        let a = table(g1), b = table(g2), r = table(comb)
        var shared1: [Float] = [], shared2: [Float] = [], sharedR: [Float] = []
        for (p, shape) in net.namedParameters.map({ ($0.0, $0.1.count) }) {
            if r[p]!.count != shape {
                // Unused by both tasks (e.g. the geometric branch of Shared-MTL): the zero placeholder stays.
                #expect(r[p]!.allSatisfy { $0 == 0 }); continue
            }
            let va = a[p]!.count == shape ? a[p]! : [Float](repeating: 0, count: shape)
            let vb = b[p]!.count == shape ? b[p]! : [Float](repeating: 0, count: shape)
            if isTaskSpecific(p) {
                let same = r[p]! == zip(va, vb).map { $0 + $1 }
                #expect(same, "head \(p) changed by PCGrad")
            } else { shared1 += va; shared2 += vb; sharedR += r[p]! }
        }
        let (p1, p2) = pcgradProject(shared1, shared2)
        let projected = sharedR == zip(p1, p2).map { $0 + $1 }
        #expect(projected && !sharedR.isEmpty)
    }

    @Test("PCGrad training step updates BatchNorm running statistics once")
    func pcgradOneBatchNormUpdate() throws {
        let (tr, va, cfg) = try tinyTrainingSetup()
        var c = cfg; c.architecture = .sharedMTL
        let net = try JointNetwork(config: c, seed: 6)
        var tc = TrainingConfig()
        tc.epochs = 1; tc.batchSize = tr.count; tc.tones = [0, 1]; tc.pcgrad = true; tc.amplitudeJitter = 0
        let (trained, _) = try train(net, train: tr, validation: va, config: tc, quiet: true)
        // Reference: one training-mode forward of the untouched model on the whole split.
        let ref = net.deepCopy()
        _ = ref(tr.batch(Array(0..<tr.count), tones: [0, 1], input: c.input), samples: tr.count, toneIndices: [0, 1], training: true)
        let got = trained.semantic.bn1.statistics.mean, want = ref.semantic.bn1.statistics.mean
        for (g, w) in zip(got, want) { #expect(abs(g - w) <= 1e-5 * max(1, abs(w)), "running mean \(g) vs one update \(w)") }
        #expect(want.contains { abs($0) > 1e-4 })
    }

    @Test("PyTorch export: names and [out, in] layouts; torch archive loads back bit-identically")
    func torchRoundTrip() throws {
        let (tr, _, cfg) = try tinyTrainingSetup()
        let net = try JointNetwork(config: cfg, seed: 8)
        _ = net(tr.batch([0, 1, 2], tones: [0, 1], input: cfg.input), samples: 3, toneIndices: [0, 1], training: true)  // non-trivial BN stats
        let path = tmpPath("torch_export.npz")
        try JointNetworkInterop.saveTorch(net, to: path)
        let a = try NPZ.read(from: path)
        #expect(a.keys.allSatisfy { !$0.hasSuffix(".gamma") && !$0.hasSuffix(".beta") && !$0.hasSuffix(".filter") })
        #expect(a["semantic.conv1.weight"]?.shape == [4, cfg.input.channels, 3, 3])
        #expect(a["headLoc.weight"]?.shape == [7, 8])                 // nn.Linear(8, 7).weight is [out, in]
        #expect(a["semantic.bn1.running_var"] != nil && a["semantic.bn1.num_batches_tracked"] != nil)
        #expect(a["semantic.block1.norm1.weight"] != nil && a["cta.mix"]?.shape == [2])
        var other = try JointNetwork(config: cfg, seed: 99)
        try JointNetworkInterop.loadTorch(&other, from: path)
        let x = tr.batch([3, 4], tones: [0, 1], input: cfg.input)
        #expect(other(x, samples: 2, toneIndices: [0, 1], training: false) == net(x, samples: 2, toneIndices: [0, 1], training: false))
    }

    @Test("generator state round trip and thread-count validation")
    func rngStateAndThreads() throws {
        var g = RandomSource(seed: 77, stream: 3)
        _ = g.gaussian()                                   // leaves a cached Box–Muller variate
        var h = try RandomSource(state: g.state)
        for _ in 0..<10 { #expect(g.gaussian() == h.gaussian()); #expect(g.next() == h.next()) }
        #expect(throws: ISACError.self) { try RandomSource(state: [0, 0, 0, 0, 0, 0]) }
        #expect(throws: ISACError.self) { try LearningThreads.set(0) }
        #expect(LearningThreads.affinityCount >= 1 && LearningThreads.affinityCount <= ProcessInfo.processInfo.activeProcessorCount)
        #expect(LearningThreads.count >= 1)
    }
}
