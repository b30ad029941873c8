import Testing
import Foundation
import Linalg
import Learning
import _Differentiation
@testable import ExtendedTarget

// Finite-difference checks of the extended-target network's own compositions (the primitives are
// checked in LearningTests).
//
// * Losses: the AD gradient of `jointLoss` (float32) with respect to the packed network output is
//   compared with central differences of the independent Double references (`ReferenceLoss`,
//   eqs. 40–48) in float64, h = 1e-6: truncation O(h²) ≈ 1e-12 and rounding ≈ 1e-16/h ≈ 1e-10, so the
//   FD side is exact to ~1e-9 and the comparison measures the float32 AD error only (tolerance 1e-3
//   relative, float32 accumulations over ≤ 10 terms are ~1e-6).
// * Network blocks (CTA with α, cross-stitch, whole network + joint loss): the engine is float32, so
//   central differences are taken in float32 parameters with the function value accumulated in Double,
//   h = 1e-2 for O(1) inputs: truncation error ∝ h²·f''' (≈ 1e-4 relative for these smooth
//   compositions), rounding ≈ ε₃₂·|φ|/h ≈ 1e-5; tolerance 2e-2 relative on the whole gradient vector
//   (the same criterion as LearningTests). ReLU/max-pool kinks are crossed with probability O(h) per
//   unit and only add O(h) errors to individual entries.

/// Relative L2 error ‖a − b‖/max(‖b‖, floor).
func relErr(_ a: [Double], _ b: [Double], floor: Double = 1e-6) -> Double {
    var num = 0.0, den = 0.0
    for i in a.indices { num += (a[i] - b[i]) * (a[i] - b[i]); den += b[i] * b[i] }
    return num.squareRoot() / max(den.squareRoot(), floor)
}

/// Σ R·y in Double.
func dotD(_ y: Tensor, _ r: Tensor) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += Double(y.scalars[i]) * Double(r.scalars[i]) }
    return s
}

/// Central float32 differences of φ(x) = eval(x) at the entries `entries` of x.
func fdEntries(_ x: Tensor, _ entries: [Int], h: Float = 1e-2, _ eval: (Tensor) -> Double) -> [Double] {
    entries.map { j in
        var xp = x, xm = x
        xp.scalars[j] += h; xm.scalars[j] -= h
        return (eval(xp) - eval(xm)) / (Double(xp.scalars[j]) - Double(xm.scalars[j]))
    }
}

let tinySize = try! NetworkSize(channels: [3, 4, 4], tokenGrid: 1, modelSize: 4, heads: 2, embedSize: 4)

func tinyConfig(_ a: Architecture, cta: Bool = true, mixInit: Float = 0.1) throws -> ModelConfig {
    try ModelConfig(architecture: a, crossTaskAttention: cta, size: tinySize, classes: 2, receiveCount: 4, transmitCount: 4,
                    toneCount: 2, rangeMinMeters: 5, rangeMaxMeters: 20, mixInit: mixInit,
                    input: InputPreprocessing(normalization: .global))
}

@Suite("Gradient checks: CTA, cross-stitch, physics losses, joint loss")
struct GradientCheckTests {
    // MARK: losses vs float64 references

    /// Packed outputs [N, 9] for C = 2 and targets; values away from |·| kinks.
    static func lossCase() -> (Tensor, BatchTargets, [JointLabel], [[Double]]) {
        var rng = RandomSource(seed: 5, stream: 0)
        let n = 4
        var rows: [Float] = []
        for _ in 0..<n { for _ in 0..<9 { rows.append(Float(rng.gaussian()) * 0.7) } }
        let out = Tensor(shape: [n, 9], scalars: rows)
        var labels: [JointLabel] = [], peaks: [[Double]] = []
        var rn: [Float] = [], rm: [Float] = [], st: [Float] = [], ct: [Float] = [], pk: [Float] = []
        for i in 0..<n {
            let di = Double(i)
            let l = JointLabel(classIndex: i % 2, rangeMeters: 8.0 + 3.0 * di, azimuthRad: -1.0 + 0.6 * di)
            let p: [Double] = [0.1 + 0.2 * di, 0.9 - 0.15 * di]
            labels.append(l); peaks.append(p)
            rn.append(Float((l.rangeMeters - 12.5) / 7.5)); rm.append(Float(l.rangeMeters))
            st.append(Float(sin(l.azimuthRad))); ct.append(Float(cos(l.azimuthRad)))
            pk.append(Float(p[0])); pk.append(Float(p[1]))
        }
        let t = BatchTargets(classes: labels.map(\.classIndex), rangeNorm: Tensor(shape: [n, 1], scalars: rn),
                             rangeMeters: Tensor(shape: [n, 1], scalars: rm), sinTheta: Tensor(shape: [n, 1], scalars: st),
                             cosTheta: Tensor(shape: [n, 1], scalars: ct), peak: Tensor(shape: [n, 2], scalars: pk))
        return (out, t, labels, peaks)
    }

    /// Double reference of the weighted loss terms on packed outputs `o` (rows of 9), range interval 5–20 m.
    static func referenceLoss(_ o: [[Double]], labels: [JointLabel], peaks: [[Double]], w: LossWeights, cls: Bool) -> Double {
        let mid = 12.5, half = 7.5
        let n = o.count
        var rHat: [Double] = [], th: [Double] = [], r: [Double] = [], thT: [Double] = []
        var er: [Double] = [], ea: [Double] = [], sr: [Double] = [], sa: [Double] = []
        var logits: [[Double]] = [], u: [[Double]] = []
        for i in 0..<n {
            let row = o[i]
            let rh: Double = mid + half * row[2]
            let a: Double = atan2(row[4], row[5])
            rHat.append(rh); th.append(a); r.append(labels[i].rangeMeters); thT.append(labels[i].azimuthRad)
            er.append(row[2] - (labels[i].rangeMeters - mid) / half)
            ea.append(wrapAngle(a - labels[i].azimuthRad) / Double.pi)
            sr.append(ReferenceLoss.boundedLogVariance(row[3])); sa.append(ReferenceLoss.boundedLogVariance(row[6]))
            logits.append([row[0], row[1]]); u.append([row[7], row[8]])
        }
        var l = 0.0
        if cls { l += ReferenceLoss.crossEntropy(logits: logits, labels: labels.map(\.classIndex)) }
        l += w.range * ReferenceLoss.heteroscedasticNLL(errors: er, logVariances: sr)
        l += w.azimuth * ReferenceLoss.heteroscedasticNLL(errors: ea, logVariances: sa)
        if w.planar > 0 { l += w.planar * ReferenceLoss.planarConsistency(rangeHat: rHat, range: r, azimuthHat: th, azimuth: thT) }
        if w.peak > 0 { l += w.peak * ReferenceLoss.peakResponse(predicted: u, target: peaks) }
        if w.coupling > 0 { l += w.coupling * ReferenceLoss.geometryCoupling(rangeHat: rHat, range: r, azimuthHat: th, azimuth: thT) }
        return l
    }

    static let cases: [(String, LossWeights, Bool)] = [
        ("cross-entropy only", LossWeights(range: 0, azimuth: 0, planar: 0, peak: 0, coupling: 0), true),
        ("range NLL only", LossWeights(range: 1, azimuth: 0, planar: 0, peak: 0, coupling: 0), false),
        ("azimuth NLL only", LossWeights(range: 0, azimuth: 1, planar: 0, peak: 0, coupling: 0), false),
        ("planar consistency only", LossWeights(range: 0, azimuth: 0, planar: 1, peak: 0, coupling: 0), false),
        ("peak prior only", LossWeights(range: 0, azimuth: 0, planar: 0, peak: 1, coupling: 0), false),
        ("geometry coupling only", LossWeights(range: 0, azimuth: 0, planar: 0, peak: 0, coupling: 1), false),
        ("full joint loss (paper weights)", LossWeights(), true),
    ]

    @Test("each physics/task loss term and the full joint loss: AD gradient = float64 FD of the Double reference",
          arguments: 0..<7)
    func lossTerm(_ k: Int) throws {
        let (name, w, cls) = Self.cases[k]
        let (out, t, labels, peaks) = Self.lossCase()
        let cfg = try tinyConfig(.dualBranch)
        let spec = LossSpec(objective: .physics, weights: w, classification: cls, localization: true, config: cfg)
        let (_, g) = valueWithGradient(at: out) { o in jointLoss(o, targets: t, spec: spec, classes: 2) }
        var base: [[Double]] = []
        for i in 0..<4 { var row: [Double] = []; for j in 0..<9 { row.append(Double(out.scalars[i * 9 + j])) }; base.append(row) }
        let h = 1e-6
        var fd = [Double](repeating: 0, count: 36)
        for j in 0..<36 {
            var p = base, m = base
            p[j / 9][j % 9] += h; m[j / 9][j % 9] -= h
            fd[j] = (Self.referenceLoss(p, labels: labels, peaks: peaks, w: w, cls: cls)
                     - Self.referenceLoss(m, labels: labels, peaks: peaks, w: w, cls: cls)) / (2 * h)
        }
        let e = relErr(g.scalars.map(Double.init), fd)
        #expect(e < 1e-3, "\(name): relative gradient error \(e)")
        // The value itself matches the reference (same composition).
        let v = Double(jointLoss(out, targets: t, spec: spec, classes: 2).scalar)
        let ref = Self.referenceLoss(base, labels: labels, peaks: peaks, w: w, cls: cls)
        #expect(abs(v - ref) < 1e-4 * max(1, abs(ref)), "\(name): value \(v) vs reference \(ref)")
    }

    @Test("bounded log-variance: the NLL weight e^{−s} stays ≤ e^b for any head output")
    func boundedNLL() throws {
        let cfg = try tinyConfig(.dualBranch)
        var (out, t, _, _) = Self.lossCase()
        for i in 0..<4 { out.scalars[i * 9 + 3] = -1e4; out.scalars[i * 9 + 6] = -1e4 }   // ŝ → −∞
        let spec = LossSpec(objective: .nll, weights: LossWeights(), classification: true, localization: true, config: cfg)
        let (v, g) = valueWithGradient(at: out) { o in jointLoss(o, targets: t, spec: spec, classes: 2) }
        #expect(v.scalar.isFinite && g.scalars.allSatisfy(\.isFinite))
        // Unbounded, the same outputs overflow: e^{10⁴} = ∞ in float32.
        #expect(!Foundation.expf(1e4).isFinite)
    }

    // MARK: network blocks (float32 central differences)

    @Test("cross-task attention: gradients w.r.t. α = (α_cls, α_loc), both token inputs and a projection weight")
    func ctaBlock() throws {
        var rng = RandomSource(seed: 11, stream: 0)
        let cta = try CrossTaskAttention(modelSize: 4, mixInit: 0.3, rng: &rng)
        let cls = Tensor.randomNormal([2, 3, 4], rng: &rng), loc = Tensor.randomNormal([2, 3, 4], rng: &rng)
        let r = Tensor.randomNormal([2, 6, 4], rng: &rng)
        let (_, pb) = valueWithPullback(at: cta, cls, loc) { m, c, l in m(cls: c, loc: l) }
        let (gm, gc, gl) = pb(r)
        // α.
        let fdMix = fdEntries(cta.mix, [0, 1]) { a in var m = cta; m.mix = a; return dotD(m(cls: cls, loc: loc), r) }
        #expect(relErr(gm.mix.scalars.map(Double.init), fdMix) < 2e-2, "α gradient \(gm.mix.scalars) vs FD \(fdMix)")
        #expect(gm.mix.scalars.allSatisfy { $0 != 0 })
        // Inputs.
        let all = Array(0..<cls.count)
        let fdC = fdEntries(cls, all) { c in dotD(cta(cls: c, loc: loc), r) }
        let fdL = fdEntries(loc, all) { l in dotD(cta(cls: cls, loc: l), r) }
        #expect(relErr(gc.scalars.map(Double.init), fdC) < 2e-2)
        #expect(relErr(gl.scalars.map(Double.init), fdL) < 2e-2)
        // The query projection of the cls ← loc attention.
        let w = cta.clsFromLoc.query.weight
        let fdW = fdEntries(w, Array(0..<w.count)) { v in var m = cta; m.clsFromLoc.query.weight = v; return dotD(m(cls: cls, loc: loc), r) }
        #expect(relErr(gm.clsFromLoc.query.weight.scalars.map(Double.init), fdW) < 2e-2)
    }

    /// Network input [N·Ks, 2, 4, 4] for N = 2 samples, Ks = 2 tones.
    static func tinyInput() -> Tensor {
        var rng = RandomSource(seed: 3, stream: 1)
        return Tensor.randomNormal([4, 2, 4, 4], rng: &rng)
    }

    @Test("cross-stitch: gradients w.r.t. all 5 × 4 mixing coefficients (conv and transformer stages)")
    func crossStitch() throws {
        let net = try JointNetwork(config: try tinyConfig(.crossStitch, mixInit: 0.2), seed: 7)
        #expect(net.stitch.count == 4 * JointNetwork.stitchStages)
        let x = Self.tinyInput()
        var rng = RandomSource(seed: 9, stream: 0)
        let r = Tensor.randomNormal([2, 9], rng: &rng)
        let f: (JointNetwork) -> Tensor = { m in m(x, samples: 2, toneIndices: [0, 1], training: true) }
        let (_, pb) = valueWithPullback(at: net) { m in m(x, samples: 2, toneIndices: [0, 1], training: true) }
        let g = pb(r)
        let fd: [Double] = fdEntries(net.stitch, Array(0..<net.stitch.count)) { (s: Tensor) -> Double in
            var m = net.deepCopy(); m.stitch = s; return dotD(f(m), r)
        }
        let e = relErr(g.stitch.scalars.map(Double.init), fd)
        #expect(e < 2e-2, "cross-stitch gradient error \(e)")
        // The transformer-stage units (4, 5) influence the output.
        #expect(g.stitch.scalars[12..<20].contains { abs($0) > 1e-6 })
    }

    @Test("cross-stitch with identity mixing is exactly the two independent branches (dual branch w/o CTA)")
    func crossStitchIdentity() throws {
        var cs = try JointNetwork(config: try tinyConfig(.crossStitch), seed: 7)
        let db = try JointNetwork(config: try tinyConfig(.dualBranch, cta: false), seed: 7)
        var ident: [Float] = []
        for _ in 0..<5 { ident += [1, 0, 0, 1] }
        cs.stitch = Tensor(shape: [20], scalars: ident)
        let x = Self.tinyInput()
        let a = cs(x, samples: 2, toneIndices: [0, 1], training: false), b = db(x, samples: 2, toneIndices: [0, 1], training: false)
        #expect(a == b)
        var cs2 = cs; cs2.stitch.scalars[17] = 0.5     // mix after transformer block 2 only
        #expect(cs2(x, samples: 2, toneIndices: [0, 1], training: false) != a)
    }

    @Test("full network + physics joint loss: parameter gradients (α, conv filter, LN γ, head bias) vs FD")
    func fullJointLoss() throws {
        let net = try JointNetwork(config: try tinyConfig(.dualBranch, mixInit: 0.4), seed: 21)
        let x = Self.tinyInput()
        let (_, t, _, _) = Self.lossCase()
        let t2 = BatchTargets(classes: Array(t.classes[0..<2]), rangeNorm: t.rangeNorm.slice(axis: 0, 0..<2),
                              rangeMeters: t.rangeMeters.slice(axis: 0, 0..<2), sinTheta: t.sinTheta.slice(axis: 0, 0..<2),
                              cosTheta: t.cosTheta.slice(axis: 0, 0..<2), peak: t.peak.slice(axis: 0, 0..<2))
        let spec = LossSpec(objective: .physics, weights: LossWeights(), classification: true, localization: true, config: net.config)
        let loss: (JointNetwork) -> Double = { m in Double(jointLoss(m(x, samples: 2, toneIndices: [0, 1], training: true), targets: t2, spec: spec, classes: 2).scalar) }
        let (_, g) = valueWithGradient(at: net) { m in jointLoss(m(x, samples: 2, toneIndices: [0, 1], training: true), targets: t2, spec: spec, classes: 2) }
        let fdMix = fdEntries(net.cta.mix, [0, 1]) { v in var m = net.deepCopy(); m.cta.mix = v; return loss(m) }
        #expect(relErr(g.cta.mix.scalars.map(Double.init), fdMix) < 2e-2, "CTA α: \(g.cta.mix.scalars) vs \(fdMix)")
        let fdB = fdEntries(net.headLoc.bias, Array(0..<7)) { v in var m = net.deepCopy(); m.headLoc.bias = v; return loss(m) }
        #expect(relErr(g.headLoc.bias.scalars.map(Double.init), fdB) < 2e-2)
        let fdG = fdEntries(net.geometric.block1.norm1.gamma, Array(0..<4)) { v in var m = net.deepCopy(); m.geometric.block1.norm1.gamma = v; return loss(m) }
        #expect(relErr(g.geometric.block1.norm1.gamma.scalars.map(Double.init), fdG) < 2e-2)
        let fdF = fdEntries(net.semantic.conv1.filter, Array(0..<18), h: 1e-2) { v in var m = net.deepCopy(); m.semantic.conv1.filter = v; return loss(m) }
        #expect(relErr(Array(g.semantic.conv1.filter.scalars[0..<18]).map(Double.init), fdF) < 3e-2)
    }
}
