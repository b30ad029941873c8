import Testing
import Foundation
import Numerics
import Linalg
import Learning
import _Differentiation
@testable import ExtendedTarget

/// Synthetic two-class point-scatterer data: class 0 = one scatterer, class 1 = two scatterers 0.6 m apart
/// (an "extended" target), placed uniformly in 5–20 m, ±40°.
func syntheticSamples(count: Int, seed: UInt64, nr: Int = 8, nt: Int = 8) throws -> SampleSet {
    let scene = try CrossArrayScene(transmitCount: nt, receiveCount: nr)
    let freqs = try ofdmFrequencies(carrierHz: 4.9e9, spacingHz: 5e6, count: 2)
    var inputs: [[Float]] = [], labels: [JointLabel] = []
    for i in 0..<count {
        var rng = RandomSource(seed: seed, stream: UInt64(i))
        let r = rng.uniform(5, 20), th = rng.uniform(-0.7, 0.7), c = i % 2
        var sc: [(point: SIMD3<Double>, amplitude: CDouble)] = [(scene.point(rangeMeters: r, azimuthRad: th), CDouble(30, 0))]
        if c == 1 { sc.append((scene.point(rangeMeters: r + 0.6, azimuthRad: th + 0.05), CDouble(0, 30))) }
        let h = try pointTargetChannel(scene: scene, scatterers: sc, frequenciesHz: freqs)
        var v = [Float](repeating: 0, count: 2 * 2 * nr * nt)
        for m in 0..<2 { for rr in 0..<nr { for t in 0..<nt {
            v[((m * 2 + 0) * nr + rr) * nt + t] = Float(h.tones[m][rr, t].real)
            v[((m * 2 + 1) * nr + rr) * nt + t] = Float(h.tones[m][rr, t].imaginary)
        } } }
        inputs.append(v); labels.append(JointLabel(classIndex: c, rangeMeters: r, azimuthRad: th))
    }
    return SampleSet(inputs: inputs, labels: labels, receiveCount: nr, transmitCount: nt, toneCount: 2)
}

@Suite("Differentiable loss, PCGrad and training")
struct TrainingTests {
    @Test("PCGrad: no negative inner product after projection, unchanged when not conflicting")
    func pcgrad() {
        for s in 0..<50 {
            var rng = RandomSource(seed: 7, stream: UInt64(s))
            let g1 = (0..<20).map { _ in Float(rng.gaussian()) }, g2 = (0..<20).map { _ in Float(rng.gaussian()) }
            let (p1, p2) = pcgradProject(g1, g2)
            func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
            let tol: Float = 1e-4 * (dot(g1, g1) + dot(g2, g2))
            #expect(dot(p1, p2) >= -tol)
            #expect(dot(p1, g2) >= -tol && dot(p2, g1) >= -tol)
            if dot(g1, g2) >= 0 { #expect(p1 == g1 && p2 == g2) }
        }
    }

    @Test("differentiable joint loss equals the Double reference composition of eqs. (40)–(48)")
    func lossMatchesReference() throws {
        let cfg = try ModelConfig(architecture: .dualBranch, size: NetworkSize(channels: [2, 2, 2], tokenGrid: 1, modelSize: 4, heads: 1, embedSize: 4),
                                  receiveCount: 4, transmitCount: 4, toneCount: 1)
        // Two samples, C = 2: [o0, o1, z, s_r, a_sin, a_cos, s_θ, u1, u2].
        let rows: [[Float]] = [[1.0, -0.5, 0.2, 0.3, 0.6, 0.8, -0.2, 0.1, 0.9],
                               [-0.3, 0.4, -0.7, -0.1, -1.0, -0.1, 0.5, 0.4, 0.2]]
        let out = Tensor(shape: [2, 9], scalars: rows.flatMap { $0 })
        let labels = [JointLabel(classIndex: 0, rangeMeters: 30, azimuthRad: 0.7),
                      JointLabel(classIndex: 1, rangeMeters: 10, azimuthRad: 3.1)]   // near +π: exercises the wrap
        let peaks: [[Double]] = [[0.25, 0.5], [1, 0]]
        let t = BatchTargets(classes: [0, 1],
                             rangeNorm: Tensor(shape: [2, 1], scalars: labels.map { Float(($0.rangeMeters - 27.5) / 22.5) }),
                             rangeMeters: Tensor(shape: [2, 1], scalars: labels.map { Float($0.rangeMeters) }),
                             sinTheta: Tensor(shape: [2, 1], scalars: labels.map { Float(sin($0.azimuthRad)) }),
                             cosTheta: Tensor(shape: [2, 1], scalars: labels.map { Float(cos($0.azimuthRad)) }),
                             peak: Tensor(shape: [2, 2], scalars: peaks.flatMap { $0.map(Float.init) }))
        let w = LossWeights()
        let spec = LossSpec(objective: .physics, weights: w, classification: true, localization: true, config: cfg)
        let got = Double(jointLoss(out, targets: t, spec: spec, classes: 2).scalar)
        // Reference in Double.
        let d = rows.map { $0.map(Double.init) }
        let rHat = d.map { 27.5 + 22.5 * $0[2] }, th = d.map { atan2($0[4], $0[5]) }
        let r = labels.map(\.rangeMeters), thT = labels.map(\.azimuthRad)
        let ce = ReferenceLoss.crossEntropy(logits: d.map { Array($0[0..<2]) }, labels: [0, 1])
        let lr = ReferenceLoss.heteroscedasticNLL(errors: (0..<2).map { d[$0][2] - (r[$0] - 27.5) / 22.5 }, logVariances: d.map { ReferenceLoss.boundedLogVariance($0[3]) })
        let la = ReferenceLoss.heteroscedasticNLL(errors: (0..<2).map { wrapAngle(th[$0] - thT[$0]) / Double.pi }, logVariances: d.map { ReferenceLoss.boundedLogVariance($0[6]) })
        let pl = ReferenceLoss.planarConsistency(rangeHat: rHat, range: r, azimuthHat: th, azimuth: thT)
        let pk = ReferenceLoss.peakResponse(predicted: d.map { Array($0[7..<9]) }, target: peaks)
        let cp = ReferenceLoss.geometryCoupling(rangeHat: rHat, range: r, azimuthHat: th, azimuth: thT)
        let ref = ce + w.range * lr + w.azimuth * la + w.planar * pl + w.peak * pk + w.coupling * cp
        #expect(abs(got - ref) < 1e-4 * max(1, abs(ref)), "got \(got), reference \(ref)")
    }

    @Test("atan2 gradient matches finite differences")
    func atan2Gradient() {
        let y = Tensor(shape: [3], scalars: [0.3, -0.8, 0.05]), x = Tensor(shape: [3], scalars: [0.9, -0.2, -0.99])
        let f: @differentiable(reverse) (Tensor, Tensor) -> Tensor = { a, b in ExtendedTarget.atan2(a, b).sum() }
        let (_, pb) = valueWithPullback(at: y, x, of: f)
        let (gy, gx) = pb(Tensor(1))
        for i in 0..<3 {
            let a = Double(y.scalars[i]), b = Double(x.scalars[i]), h = 1e-6
            let fdY: Double = (Foundation.atan2(a + h, b) - Foundation.atan2(a - h, b)) / (2 * h)
            let fdX: Double = (Foundation.atan2(a, b + h) - Foundation.atan2(a, b - h)) / (2 * h)
            let ay: Double = Double(gy.scalars[i]), ax: Double = Double(gx.scalars[i])
            #expect(abs(ay - fdY) < 1e-3)
            #expect(abs(ax - fdX) < 1e-3)
        }
    }

    @Test("bad training input: NaN sample and too many tones are rejected before training")
    func badInput() throws {
        var x = [Float](repeating: 0.1, count: 2 * 2 * 4 * 4 * 3)
        x[17] = .nan
        let l = [JointLabel(classIndex: 0, rangeMeters: 10, azimuthRad: 0), JointLabel(classIndex: 1, rangeMeters: 10, azimuthRad: 0)]
        #expect(throws: ISACError.self) { try SampleSet(cOrderRealTensor: x, shape: [2, 2, 4, 4, 3], labels: l) }
        #expect(throws: ISACError.self) { try SampleSet(cOrderRealTensor: x, shape: [2, 2, 4, 4, 2], labels: l) }
        var tc = TrainingConfig(); tc.tones = [0, 1, 2, 3]
        #expect(throws: ISACError.self) { try tc.validate(toneCount: 3) }
    }

    @Test("tiny end-to-end training improves validation metrics over initialisation")
    func tinyTrainingImproves() throws {
        let trainSet = try syntheticSamples(count: 48, seed: 1), val = try syntheticSamples(count: 16, seed: 2)
        let scale = 1 / trainSet.rms
        let tr = trainSet.scaled(by: scale), va = val.scaled(by: scale)
        let cfg = try ModelConfig(architecture: .dualBranch, crossTaskAttention: true,
                                  size: NetworkSize(channels: [4, 8, 8], tokenGrid: 1, modelSize: 8, heads: 2, embedSize: 8),
                                  receiveCount: 8, transmitCount: 8, toneCount: 2, rangeMinMeters: 5, rangeMaxMeters: 20)
        let model = try JointNetwork(config: cfg, seed: 42)
        let before = try model.evaluate(va, tones: [0, 1])
        var tc = TrainingConfig()
        tc.epochs = 12; tc.batchSize = 16; tc.learningRate = 3e-3; tc.tones = [0, 1]; tc.objective = .physics
        let (best, log) = try train(model, train: tr, validation: va, config: tc, quiet: true)
        let after = try best.evaluate(va, tones: [0, 1])
        let h = cfg.rangeHalfMeters
        #expect(selectionScore(after, rangeHalfMeters: h) < selectionScore(before, rangeHalfMeters: h))
        #expect(after.planarMAEMeters! < before.planarMAEMeters!)
        #expect(log.count == 12 && log.allSatisfy { $0.trainLoss.isFinite })
        #expect(log.last!.trainLoss < log.first!.trainLoss)
    }
}
