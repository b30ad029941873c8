import _Differentiation
import Foundation
import Linalg
import Testing
@testable import Learning

/// One learnable vector, for hand-checkable optimizer steps.
struct Params: Layer {
    var w: Tensor
    mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        w.forEachParameter(parameterPath(prefix, "w"), body)
    }
    static func forEachParameter(in tangent: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        Tensor.forEachParameter(in: &tangent.w, parameterPath(prefix, "w"), body)
    }
}

/// Small CNN: conv(1→4, 3×3, pad 1)–BN–ReLU–maxpool 2 → dense(4·4·4 → 2).
struct TinyCNN: Layer {
    var conv: Conv2D
    var bn: BatchNorm2D
    var head: Dense
    init(rng: inout RandomSource) {
        conv = Conv2D(inChannels: 1, outChannels: 4, kernel: 3, padding: 1, rng: &rng)
        bn = BatchNorm2D(channels: 4)
        head = Dense(inputSize: 64, outputSize: 2, rng: &rng)
    }
    @differentiable(reverse)
    func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        head(maxPool2d(bn(conv(x), training: training).relu(), kernel: 2).flattenedBatch())
    }
    mutating func forEachParameter(_ prefix: String, _ body: (String, inout Tensor) -> Void) {
        conv.forEachParameter(parameterPath(prefix, "conv"), body)
        bn.forEachParameter(parameterPath(prefix, "bn"), body)
        head.forEachParameter(parameterPath(prefix, "head"), body)
    }
    static func forEachParameter(in tangent: inout TangentVector, _ prefix: String, _ body: (String, inout Tensor) -> Void) {
        Conv2D.forEachParameter(in: &tangent.conv, parameterPath(prefix, "conv"), body)
        BatchNorm2D.forEachParameter(in: &tangent.bn, parameterPath(prefix, "bn"), body)
        Dense.forEachParameter(in: &tangent.head, parameterPath(prefix, "head"), body)
    }
}

/// Synthetic 2-class 8×8 images: class 0 has a bright horizontal bar, class 1 a vertical bar, at a
/// random row/column, plus N(0, 0.5²) noise. Sample i is drawn from stream i.
func toyImages(count: Int, seed: UInt64, offset: Int = 0) -> (Tensor, [Int]) {
    var x = [Float](repeating: 0, count: count * 64), y = [Int](repeating: 0, count: count)
    for i in 0..<count {
        var rng = RandomSource(seed: seed, stream: UInt64(offset + i))
        let cls = rng.integer(in: 0...1), pos = rng.integer(in: 1...6)
        y[i] = cls
        for r in 0..<8 { for c in 0..<8 {
            let on = cls == 0 ? r == pos : c == pos
            x[i * 64 + r * 8 + c] = (on ? 1 : 0) + 0.5 * Float(rng.gaussian())
        } }
    }
    return (Tensor(shape: [count, 1, 8, 8], scalars: x), y)
}

@Suite struct OptimizerTests {
    @Test func adamMatchesHandComputedSteps() throws {
        var model = Params(w: Tensor(shape: [2], scalars: [1, -2]))
        var opt = try Adam(learningRate: 0.1)
        let grads: [[Float]] = [[0.5, -1], [0.2, 3]]
        var m: [Double] = [0, 0], v: [Double] = [0, 0], w: [Double] = [1, -2]
        for (t, g) in grads.enumerated() {
            opt.update(&model, along: Params.TangentVector(w: Tensor(shape: [2], scalars: g)))
            for i in 0..<2 {
                m[i] = 0.9 * m[i] + 0.1 * Double(g[i]); v[i] = 0.999 * v[i] + 0.001 * Double(g[i]) * Double(g[i])
                let mh = m[i] / (1 - Foundation.pow(0.9, Double(t + 1))), vh = v[i] / (1 - Foundation.pow(0.999, Double(t + 1)))
                w[i] -= 0.1 * mh / (vh.squareRoot() + 1e-8)
            }
            for i in 0..<2 { #expect(Swift.abs(Double(model.w.scalars[i]) - w[i]) < 1e-6) }
            if t == 0 {
                // bias correction makes the first step exactly lr·sign(g) (up to ε)
                #expect(Swift.abs(model.w.scalars[0] - 0.9) < 1e-6 && Swift.abs(model.w.scalars[1] + 1.9) < 1e-6)
            }
        }
    }

    @Test func adamWDecoupledDecayAndSGDMomentum() throws {
        var model = Params(w: Tensor(shape: [1], scalars: [2]))
        var opt = try AdamW(learningRate: 0.1, weightDecay: 0.5)
        opt.update(&model, along: Params.TangentVector(w: Tensor(shape: [1], scalars: [0])))
        // zero gradient: only the decay acts, w ← w − η·λ·w
        #expect(Swift.abs(model.w.scalars[0] - 2 * (1 - 0.05)) < 1e-6)

        var s = Params(w: Tensor(shape: [1], scalars: [1]))
        var sgd = try SGD(learningRate: 0.1, momentum: 0.9)
        sgd.update(&s, along: Params.TangentVector(w: Tensor(shape: [1], scalars: [1])))  // b = 1
        sgd.update(&s, along: Params.TangentVector(w: Tensor(shape: [1], scalars: [1])))  // b = 1.9
        #expect(Swift.abs(s.w.scalars[0] - (1 - 0.1 - 0.19)) < 1e-6)
        #expect(throws: ISACError.self) { _ = try SGD(learningRate: -1) }
        #expect(throws: ISACError.self) { _ = try Adam(learningRate: 0.1, beta1: 1.5) }
    }

    @Test func unusedParameterGetsZeroGradient() throws {
        // the loss ignores `head`, so AD hands back the rank-0 zero for it; optimizers must cope
        var rng = RandomSource(seed: 3)
        var model = TinyCNN(rng: &rng)
        let x = randomTensor([2, 1, 8, 8], seed: 4)
        let g = valueWithGradient(at: model) { m in m.conv(x).sum() }.gradient
        let before = model.head.weight
        var opt = try Adam(learningRate: 0.01)
        opt.update(&model, along: g)
        #expect(model.head.weight == before)
    }

    @Test func clippingAndSchedules() throws {
        var g = Params.TangentVector(w: Tensor(shape: [2], scalars: [3, 4]))
        let n = clipByGlobalNorm(&g, maxNorm: 1, model: Params.self)
        #expect(Swift.abs(n - 5) < 1e-6)
        #expect(Swift.abs(g.w.scalars[0] - 0.6) < 1e-6 && Swift.abs(g.w.scalars[1] - 0.8) < 1e-6)
        var small = Params.TangentVector(w: Tensor(shape: [2], scalars: [0.3, 0.4]))
        clipByGlobalNorm(&small, maxNorm: 1, model: Params.self)
        #expect(small.w.scalars == [0.3, 0.4])

        let cos = try CosineAnnealing(initial: 1, minimum: 0.1, totalSteps: 10)
        #expect(cos.learningRate(at: 0) == 1)
        #expect(Swift.abs(cos.learningRate(at: 5) - 0.55) < 1e-6)
        #expect(Swift.abs(cos.learningRate(at: 10) - 0.1) < 1e-6)

        var plateau = try ReduceOnPlateau(initial: 1, factor: 0.5, patience: 2)
        for v: Float in [1, 0.5, 0.5, 0.5] { plateau.observe(v) }
        #expect(plateau.learningRate == 1)  // two bad epochs = patience, not yet reduced
        plateau.observe(0.5)
        #expect(plateau.learningRate == 0.5)
        plateau.observe(0.1)
        #expect(plateau.learningRate == 0.5 && plateau.best == 0.1)
    }
}

@Suite struct TrainingAndCheckpointTests {
    @Test func tinyCNNLearnsBarOrientation() throws {
        var rng = RandomSource(seed: 11)
        var model = TinyCNN(rng: &rng)
        var opt = try Adam(learningRate: 0.02)
        let (train, labels) = toyImages(count: 256, seed: 5)
        let (test, testLabels) = toyImages(count: 200, seed: 5, offset: 10_000)
        var firstLoss: Float = 0, lastLoss: Float = 0
        for epoch in 0..<15 {
            for b in 0..<8 {
                let xb = train.slice(axis: 0, (b * 32)..<(b * 32 + 32))
                let yb = Array(labels[(b * 32)..<(b * 32 + 32)])
                let (loss, g) = valueWithGradient(at: model) { m in softmaxCrossEntropy(logits: m(xb, training: true), labels: yb) }
                opt.update(&model, along: g)
                if epoch == 0 && b == 0 { firstLoss = loss.scalar }
                lastLoss = loss.scalar
            }
        }
        let pred = model(test, training: false).argmaxLastAxis()
        let acc = Double(zip(pred, testLabels).filter { $0 == $1 }.count) / Double(testLabels.count)
        #expect(lastLoss < firstLoss)
        #expect(acc > 0.9, "held-out accuracy \(acc)")
    }

    @Test func checkpointRoundTripReproducesOutputs() throws {
        var rng = RandomSource(seed: 21)
        var model = TinyCNN(rng: &rng)
        var opt = try Adam(learningRate: 0.01)
        let x = randomTensor([4, 1, 8, 8], seed: 22)
        for _ in 0..<2 {
            let g = valueWithGradient(at: model) { m in m(x, training: true).squared().mean() }.gradient
            opt.update(&model, along: g)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("learning-ckpt-\(getpid())")
        let path = dir.appendingPathComponent("tiny.npz").path
        try Checkpoint.save(model, to: path, optimizer: opt, statistics: ["bn": model.bn.statistics])

        var rng2 = RandomSource(seed: 99)
        var fresh = TinyCNN(rng: &rng2)
        #expect(fresh(x, training: false) != model(x, training: false))
        try Checkpoint.load(into: &fresh, from: path, statistics: ["bn": fresh.bn.statistics])
        #expect(fresh(x, training: false) == model(x, training: false))  // bit-identical
        var opt2 = try Adam(learningRate: 0.01)
        try Checkpoint.loadOptimizer(&opt2, from: path)
        #expect(opt2.step == 2)
        // continuing training from the restored state matches continuing the original
        var a = model, b = fresh
        let ga = valueWithGradient(at: a) { m in m(x, training: false).squared().mean() }.gradient
        let gb = valueWithGradient(at: b) { m in m(x, training: false).squared().mean() }.gradient
        opt.update(&a, along: ga); opt2.update(&b, along: gb)
        #expect(a.head.weight == b.head.weight)

        // a model of another shape is rejected with a message naming the parameter
        struct Other: Layer {
            var conv: Tensor
            mutating func forEachParameter(_ p: String, _ body: (String, inout Tensor) -> Void) { conv.forEachParameter(parameterPath(p, "conv.filter"), body) }
            static func forEachParameter(in t: inout TangentVector, _ p: String, _ body: (String, inout Tensor) -> Void) {
                Tensor.forEachParameter(in: &t.conv, parameterPath(p, "conv.filter"), body)
            }
        }
        var other = Other(conv: .zeros([3, 3]))
        #expect(throws: ISACError.self) { try Checkpoint.load(into: &other, from: path) }

        // numpy reads the archive with the parameter names and shapes (skipped without numpy)
        if let out = runPython("""
            import numpy as np, sys
            z = np.load(sys.argv[1])
            print(z['conv.filter'].shape, z['conv.filter'].dtype, 'bn.running_mean' in z.files, float(z['optimizer/step']))
            """, [path]) {
            #expect(out.contains("(4, 1, 3, 3) float32 True 2.0"), "numpy said: \(out)")
        }
        try? FileManager.default.removeItem(at: dir)
    }
}

/// Runs `python3 -c script args`; returns (status, stdout + stderr), nil when it cannot start.
func python(_ script: String, _ args: [String]) -> (Int32, String)? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script] + args
    let pipe = Pipe()
    p.standardOutput = pipe; p.standardError = pipe
    do { try p.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Output of `script` when python3 + numpy are present (nil = skip); a failing script is
/// reported through its output so the caller's expectation fails visibly.
func runPython(_ script: String, _ args: [String]) -> String? {
    guard let (status, _) = python("import numpy", []), status == 0 else { return nil }
    return python(script, args)?.1 ?? ""
}
