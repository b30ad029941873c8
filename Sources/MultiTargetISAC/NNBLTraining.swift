import _Differentiation
import Foundation
import Learning
import Linalg
import Arrays
import Metrics
import Waveforms
import Numerics

/// Per-sample constants of the angle-delay map as a function of the precoder f ∈ ℂ^K.
///
/// With Ỹ = W⊘x + Σ_t ψ_t (a_tᵀ f)/√S a_t ρ_tᵀ (eqs. 1, 3) and the map C = Φ_aᴴ Ỹ Φ_d* (nominal-array angle
/// atoms over the sample's target sector, N_θ × N_τ), C is affine in f:
///   C(f) = U diag(G f) V + N,   G = [ψ_t a_tᵀ/√S] (T_max × K), U = [Φ_aᴴ a_t] (N_θ × T_max),
///   V = [(Φ_dᴴ ρ_t)ᵀ] (T_max × N_τ), N = Φ_aᴴ (W⊘x) Φ_d* (N_θ × N_τ),
/// so the transmitter MLP receives exact gradients through the physics. G and N are pre-scaled by
/// 1/√(K S N0), the noise standard deviation of one map entry; absent targets have zero rows in G.
struct NNBLSampleTerms {
    var gr: [Float], gi: [Float]   // [T_max, K] row-major
    var ur: [Float], ui: [Float]   // [N_θ, T_max]
    var vr: [Float], vi: [Float]   // [T_max, N_τ]
    var nr: [Float], ni: [Float]   // [N_θ, N_τ]
}

/// The NNBL ISAC system: physics from `ScenarioGenerator` (true, impaired array), networks from `NNBLModel`.
/// The receiver sees |C|/√(K S N0) on the nominal-array angle grid of the target sector (N_θ = `mapAngles`
/// points) × the delay grid over [2R_min/c, 2R_max/c] (N_τ = `mapDelays` points); NNBL has no knowledge of d.
public struct NNBLSystem: Sendable {
    /// System parameters (K, S, grids, sectors, SNRs).
    public let config: MultiTargetConfig
    /// Scene generator (targets, UE channel, noise) on the true, impaired array.
    public let generator: ScenarioGenerator
    /// Nominal array whose angle grid the receiver's |C| map is built on.
    public let nominal: ArrayImpairment
    /// NNBL network architecture (sizes must match K and T_max of `config`).
    public let architecture: NNBLArchitecture
    /// Φ_d* [S × N_τ].
    let conjugateDelayAtoms: Matrix<CDouble>
    /// 1/√(K S N0).
    let mapScale: Double

    /// Builds the system on the true array `trueArray`; throws if `architecture` is invalid or its K / T_max differ from `config`.
    public init(config: MultiTargetConfig, trueArray: ArrayImpairment, architecture: NNBLArchitecture) throws {
        try architecture.validate()
        guard architecture.antennas == config.antennas, architecture.maxTargets == config.maxTargets else {
            throw ISACError.shapeMismatch("NNBL architecture (K = \(architecture.antennas), T_max = \(architecture.maxTargets)) vs config (K = \(config.antennas), T_max = \(config.maxTargets))")
        }
        self.config = config
        generator = try ScenarioGenerator(config: config, trueArray: trueArray)
        nominal = ArrayImpairment.nominal(antennas: config.antennas, wavelengthMeters: config.wavelengthMeters)
        self.architecture = architecture
        let tau = Steering.uniformGrid(2 * config.rangeMinMeters / speedOfLight, 2 * config.rangeMaxMeters / speedOfLight,
                                          count: architecture.mapDelays)
        var d = Steering.delayMatrix(delaysSeconds: tau, subcarriers: config.subcarriers, spacingHz: config.subcarrierSpacingHz)
        for i in d.data.indices { d.data[i] = d.data[i].conjugate }
        conjugateDelayAtoms = d
        mapScale = 1 / (Double(config.antennas * config.subcarriers) * config.noisePower).squareRoot()
    }

    /// Φ_a (nominal) over `sector`, [K × N_θ].
    func angleAtoms(_ sector: AngularSector) -> Matrix<CDouble> {
        Steering.linearMatrix(nominal.geometry, anglesRad: Steering.uniformGrid(sector.lowerRad, sector.upperRad, count: architecture.mapAngles),
                           wavelengthMeters: config.wavelengthMeters)
    }

    /// |Φ_aᴴ Ỹ Φ_d*|/√(K S N0) from a received Ỹ [K × S]: [N_θ × N_τ] row-major (angle rows).
    public func map(observation y: Matrix<CDouble>, sector: AngularSector) -> [Float] {
        let c = Matrix.matmul(angleAtoms(sector), y * conjugateDelayAtoms, transA: .conjugateTranspose)
        let nt = architecture.mapAngles, nd = architecture.mapDelays
        var out = [Float](repeating: 0, count: nt * nd)
        for i in 0..<nt { for j in 0..<nd { out[i * nd + j] = Float(c[i, j].length * mapScale) } }
        return out
    }

    /// The affine-map constants of `d` (see `NNBLSampleTerms`).
    func terms(_ d: SceneDraw) -> NNBLSampleTerms {
        let c = config, k = c.antennas, s = c.subcarriers, tm = c.maxTargets
        let nt = architecture.mapAngles, nd = architecture.mapDelays
        let phiA = angleAtoms(d.sector)
        var t = NNBLSampleTerms(gr: .init(repeating: 0, count: tm * k), gi: .init(repeating: 0, count: tm * k),
                                ur: .init(repeating: 0, count: nt * tm), ui: .init(repeating: 0, count: nt * tm),
                                vr: .init(repeating: 0, count: tm * nd), vi: .init(repeating: 0, count: tm * nd),
                                nr: [], ni: [])
        let g = generator.trueArray.geometry, lam = generator.trueArray.wavelengthMeters
        let gs = mapScale / Double(s).squareRoot()
        for i in 0..<min(d.targetCount, tm) {
            let a = Steering.linear(g, angleRad: d.anglesRad[i], wavelengthMeters: lam)
            let amp = d.gains[i] * CDouble(gs, 0)
            for kk in 0..<k { let v = amp * a[kk]; t.gr[i * k + kk] = Float(v.real); t.gi[i * k + kk] = Float(v.imaginary) }
            let u = phiA.apply(a, .conjugateTranspose)
            for r in 0..<nt { t.ur[r * tm + i] = Float(u[r].real); t.ui[r * tm + i] = Float(u[r].imaginary) }
            let rho = Steering.delay(delaySeconds: 2 * d.rangesMeters[i] / speedOfLight, subcarriers: s, spacingHz: c.subcarrierSpacingHz)
            let v = conjugateDelayAtoms.apply(rho, .transpose)
            for j in 0..<nd { t.vr[i * nd + j] = Float(v[j].real); t.vi[i * nd + j] = Float(v[j].imaginary) }
        }
        var w = d.sensingNoise
        let x = d.messages.map(QPSK.symbol)
        for col in 0..<s { let inv = CDouble.one / x[col]; for r in 0..<k { w.data[r + col * k] *= inv } }
        let n = Matrix.matmul(phiA, w * conjugateDelayAtoms, transA: .conjugateTranspose)
        t.nr = .init(repeating: 0, count: nt * nd); t.ni = t.nr
        for i in 0..<nt { for j in 0..<nd { let z = n[i, j] * CDouble(mapScale, 0); t.nr[i * nd + j] = Float(z.real); t.ni[i * nd + j] = Float(z.imaginary) } }
        return t
    }

    /// The batch's constants as tensors: G (r, i) [B, T, K], U [B, N_θ, T], V [B, T, N_τ], N [B, N_θ, N_τ].
    static func stack(_ ts: [NNBLSampleTerms], _ a: NNBLArchitecture) -> [Tensor] {
        let b = ts.count, tm = a.maxTargets, k = a.antennas, nt = a.mapAngles, nd = a.mapDelays
        func cat(_ kp: KeyPath<NNBLSampleTerms, [Float]>, _ shape: [Int]) -> Tensor {
            Tensor(shape: [b] + shape, scalars: ts.flatMap { $0[keyPath: kp] })
        }
        return [cat(\.gr, [tm, k]), cat(\.gi, [tm, k]), cat(\.ur, [nt, tm]), cat(\.ui, [nt, tm]),
                cat(\.vr, [tm, nd]), cat(\.vi, [tm, nd]), cat(\.nr, [nt, nd]), cat(\.ni, [nt, nd])]
    }
}

/// |C(f)| for a batch: f [B, 2K] (Re | Im), constants from `NNBLSystem.stack` → [B, 1, N_θ, N_τ].
@differentiable(reverse, wrt: f)
func nnblDifferentiableMap(_ f: Tensor, _ c: [Tensor], antennas k: Int) -> Tensor {
    let s = withoutDerivative(at: c[6]).shape  // [B, N_θ, N_τ]
    let b = s[0], tm = withoutDerivative(at: c[0]).shape[1]
    let fr = f.slice(axis: 1, 0..<k).reshaped([b, k, 1]), fi = f.slice(axis: 1, k..<(2 * k)).reshaped([b, k, 1])
    let cr = (matmul(c[0], fr) - matmul(c[1], fi)).reshaped([b, 1, tm])
    let ci = (matmul(c[0], fi) + matmul(c[1], fr)).reshaped([b, 1, tm])
    let ucr = c[2] * cr - c[3] * ci, uci = c[2] * ci + c[3] * cr
    let mr = matmul(ucr, c[4]) - matmul(uci, c[5]) + c[6]
    let mi = matmul(ucr, c[5]) + matmul(uci, c[4]) + c[7]
    return (mr.squared() + mi.squared() + 1e-6).sqrt().reshaped([b, 1, s[1], s[2]])
}

/// ISAC beam (eq. 5) with φ = 0 on real-stacked precoders: √P (√η f_r + √(1−η) f_c)/‖·‖, f_r, f_c [B, 2K],
/// `sqrtEta`, `sqrtOneMinusEta` [B, 1].
@differentiable(reverse, wrt: (fr, fc))
func nnblISACBeam(_ fr: Tensor, _ fc: Tensor, sqrtEta: Tensor, sqrtOneMinusEta: Tensor, power: Float) -> Tensor {
    let f = fr * sqrtEta + fc * sqrtOneMinusEta
    return f / (f.squared().sum(axes: [1], keepDims: true) + 1e-12).sqrt() * power.squareRoot()
}

/// Simplified GOSPA loss (eq. 18) with |P̂| = |P| = T: the estimate set is the first T output slots,
/// matched to the truth by the best permutation (T! ≤ 120, found outside AD), d^{(γ)} = min(‖p − p̂‖, γ), p = 2;
/// averaged over the samples with T > 0. `angles`, `ranges` [B, T_max]; positions p̂ = R̂[cos θ̂, sin θ̂].
/// `squared`: the single-target MSE of Sec. V-C instead, Σ‖p − p̂‖² (m², no cut-off, no square root) over the
/// assignment minimising it, averaged over the samples with T > 0 (`cutoffMeters` is then ignored).
@differentiable(reverse, wrt: (angles, ranges))
func nnblPositionLoss(angles: Tensor, ranges: Tensor, truth: [[Position2]], cutoffMeters: Float, squared: Bool = false) -> Tensor {
    let tm = withoutDerivative(at: angles).shape[1]
    let px = ranges * angles.cos(), py = ranges * angles.sin()
    let (idx, tx, ty, sel, nValid) = nnblPositionAssignment(px: withoutDerivative(at: px).scalars, py: withoutDerivative(at: py).scalars,
                                                          maxTargets: tm, truth: truth,
                                                          cutoff: squared ? Double.infinity : Double(cutoffMeters))
    if nValid == 0 { return (angles.sum() + ranges.sum()) * 0 }
    let m = idx.count
    let gx = px.reshaped([-1, 1]).gathering(idx), gy = py.reshaped([-1, 1]).gathering(idx)
    let d2 = (gx - Tensor(shape: [m, 1], scalars: tx)).squared() + (gy - Tensor(shape: [m, 1], scalars: ty)).squared()
    if squared { return matmul(Tensor(shape: [nValid, m], scalars: sel), d2).mean() }
    let g2 = cutoffMeters * cutoffMeters
    let inside = withoutDerivative(at: d2).scalars.map { $0 < g2 ? Float(1) : 0 }
    let mask = Tensor(shape: [m, 1], scalars: inside)
    let terms = d2 * mask + Tensor(shape: [m, 1], scalars: inside.map { (1 - $0) * g2 })
    let perSample = matmul(Tensor(shape: [nValid, m], scalars: sel), terms)
    return (perSample + 1e-6).sqrt().mean()
}

/// Best assignment of each sample's truths to its first T slots; returns gather indices into the flattened
/// [B·T_max] outputs, the matched true coordinates, the [valid samples × pairs] segment matrix and the count.
func nnblPositionAssignment(px: [Float], py: [Float], maxTargets tm: Int, truth: [[Position2]], cutoff: Double)
    -> ([Int], [Float], [Float], [Float], Int) {
    var idx: [Int] = [], tx: [Float] = [], ty: [Float] = [], owner: [Int] = []
    var valid = 0
    for (b, ps) in truth.enumerated() where !ps.isEmpty {
        let t = min(ps.count, tm)
        var best = [Int](0..<t), bestCost = Double.infinity
        var perm = [Int](0..<t)
        func cost(_ p: [Int]) -> Double {
            var s = 0.0
            for i in 0..<t {
                let dx = Double(px[b * tm + p[i]]) - ps[i].x, dy = Double(py[b * tm + p[i]]) - ps[i].y
                s += min(dx * dx + dy * dy, cutoff * cutoff)
            }
            return s
        }
        // Heap's algorithm over the T! orders of the first T slots.
        func visit(_ n: Int) {
            if n <= 1 { let c = cost(perm); if c < bestCost { bestCost = c; best = perm }; return }
            for i in 0..<n {
                visit(n - 1)
                perm.swapAt(n % 2 == 0 ? i : 0, n - 1)
            }
        }
        visit(t)
        for i in 0..<t { idx.append(b * tm + best[i]); tx.append(Float(ps[i].x)); ty.append(Float(ps[i].y)); owner.append(valid) }
        valid += 1
    }
    var sel = [Float](repeating: 0, count: valid * idx.count)
    for (j, o) in owner.enumerated() { sel[o * idx.count + j] = 1 }
    return (idx, tx, ty, sel, valid)
}

/// Detection loss (eq. 19, p = 2): binary cross-entropy between the labels u and the probabilities û = σ(z),
/// clipped at γ_u. The T_max outputs are paired with the labels (T ones, T_max − T zeros) by rank — the optimal
/// permutation, since BCE is monotone — so T̂ = #{û > δ} is the natural count estimate. `logits` [B, T_max].
@differentiable(reverse, wrt: logits)
func nnblDetectionLoss(logits: Tensor, trueCounts: [Int], cutoff: Float) -> Tensor {
    let s = withoutDerivative(at: logits).shape, b = s[0], tm = s[1]
    let z = withoutDerivative(at: logits).scalars
    var labels = [Float](repeating: 0, count: b * tm)
    for i in 0..<b {
        let order = (0..<tm).sorted { z[i * tm + $0] > z[i * tm + $1] }
        for r in 0..<min(trueCounts[i], tm) { labels[i * tm + order[r]] = 1 }
    }
    let u = Tensor(shape: s, scalars: labels)
    let p = logits.sigmoid()
    let bce = -(u * (p + 1e-7).log() + (Tensor(1) - u) * (Tensor(1) - p + 1e-7).log())
    let inside = withoutDerivative(at: bce).scalars.map { $0 < cutoff ? Float(1) : 0 }
    let mask = Tensor(shape: s, scalars: inside)
    let clipped = bce * mask + Tensor(shape: s, scalars: inside.map { (1 - $0) * cutoff })
    return (clipped.squared().sum(axes: [1]) + 1e-9).sqrt().mean()
}

/// Settings of the two-step NNBL training (paper Sec. V-A): step 1 trains ε, ξ with eq. (18); step 2
/// freezes ξ and trains ε, ζ with eq. (19). Adam, ReduceOnPlateau (factor ½, patience, floor 1e-6).
public struct NNBLTrainingSettings: Sendable {
    /// Steps of each phase (paper: 100 000 each).
    public var positionSteps = 300
    public var detectionSteps = 200
    /// Batch size B (paper: 3000).
    public var batchSize = 32
    /// Adam learning rates of the two phases (paper: 1e-2 position, 1e-3 detection).
    public var positionLearningRate = 1e-3
    public var detectionLearningRate = 1e-3
    /// Plateau scheduler on the batch loss (paper: patience 10⁴ iterations, factor ½, minimum 1e-6).
    public var plateauPatience = 10_000
    /// Training η ~ U[etaLow, etaHigh] per sample (φ = 0).
    public var etaLow = 0.5
    public var etaHigh = 1.0
    /// γ of eq. (18), metres (paper: 90), and γ_u of eq. (19) (nats; the paper leaves it open).
    public var gospaCutoffMeters = 90.0
    public var detectionCutoff = 10.0
    /// Step-1 loss: eq. (18) (`gospa`) or, for the single-target case (T_max = 1, Sec. V-C), the MSE
    /// Σ‖p − p̂‖² (`mse`, m²); with `mse` step 2 uses the plain BCE (no clipping at γ_u), as the paper says.
    public var positionLoss = PositionLoss.gospa
    public var seed: UInt64 = 1
    /// Default settings.
    public init() {}

    /// Throws if a step count, batch size, learning rate, the plateau patience, the η range or a cut-off (γ, γ_u) is out of range.
    public func validate() throws {
        try MultiTargetLimits.checkTraining(steps: positionSteps, allowZeroSteps: true, batch: batchSize, learningRate: positionLearningRate)
        try MultiTargetLimits.checkTraining(steps: detectionSteps, stepsFlag: "--detection-steps", allowZeroSteps: true,
                                            learningRate: detectionLearningRate, lrFlag: "--detection-lr")
        try Check.positive(plateauPatience, "--plateau-patience")
        try Check.inRange(etaLow, 0, 1, "--train-eta-min")
        try Check.inRange(etaHigh, etaLow, 1, "--train-eta-max")
        try Check.positive(gospaCutoffMeters, "--gospa-cutoff")
        try Check.positive(detectionCutoff, "detectionCutoff")
    }
}

/// One logged training step.
public struct NNBLTrainingRecord: Sendable {
    /// 1 = position (eq. 18, metres), 2 = detection (eq. 19, nats).
    public var phase: Int
    public var step: Int
    public var loss: Double
    public var learningRate: Double
}

/// One training batch: per-sample scene constants and the inputs the networks need.
struct NNBLBatch {
    var constants: [Tensor]
    var sensingSector: Tensor, commSector: Tensor, sqrtEta: Tensor, sqrtOneMinusEta: Tensor
    var anglePrior: Tensor, rangePrior: Tensor, detectionPrior: Tensor
    var truth: [[Position2]]
    var counts: [Int]
}

extension NNBLSystem {
    /// Priors for a batch of sectors: angle [B, 2] rad, range [B, 2] in 100 m, detection [B, 4].
    func priors(_ sectors: [AngularSector]) -> (Tensor, Tensor, Tensor) {
        let b = sectors.count
        let r0 = Float(config.rangeMinMeters / 100), r1 = Float(config.rangeMaxMeters / 100)
        let a = Tensor(shape: [b, 2], scalars: sectors.flatMap { [Float($0.lowerRad), Float($0.upperRad)] })
        let r = Tensor(shape: [b, 2], scalars: Array(repeating: [r0, r1], count: b).flatMap { $0 })
        return (a, r, Tensor(shape: [b, 4], scalars: sectors.flatMap { [Float($0.lowerRad), Float($0.upperRad), r0, r1] }))
    }

    /// Draws B scenes from streams `firstStream ..< firstStream + B` of `seed` (η after the scene, same stream).
    func batch(seed: UInt64, firstStream: UInt64, size b: Int, etaLow: Double, etaHigh: Double) -> NNBLBatch {
        useSingleThreadedBLAS()
        let samples = parallelMap(b) { i -> (t: NNBLSampleTerms, d: SceneDraw, e: Double) in
            var rng = RandomSource(seed: seed, stream: firstStream + UInt64(i))
            let d = generator.draw(rng: &rng)
            let eta = rng.uniform(etaLow, etaHigh)
            return (terms(d), d, eta)
        }
        let draws = samples.map(\.d)
        let sectors = draws.map(\.sector)
        let (ap, rp, dp) = priors(sectors)
        return NNBLBatch(constants: Self.stack(samples.map(\.t), architecture),
                         sensingSector: ap,
                         commSector: Tensor(shape: [1, 2], scalars: [Float(config.commSector.lowerRad), Float(config.commSector.upperRad)]),
                         sqrtEta: Tensor(shape: [b, 1], scalars: samples.map { Float($0.e.squareRoot()) }),
                         sqrtOneMinusEta: Tensor(shape: [b, 1], scalars: samples.map { Float((1 - $0.e).squareRoot()) }),
                         anglePrior: ap, rangePrior: rp, detectionPrior: dp,
                         truth: draws.map(\.positions), counts: draws.map(\.targetCount))
    }

    /// Maps [B, 1, N_θ, N_τ] of a batch through the model's transmitter (differentiable in the model).
    @differentiable(reverse, wrt: model)
    static func transmitAndSense(_ model: NNBLModel, _ x: NNBLBatch, power: Float) -> Tensor {
        let fr = model.precoder(x.sensingSector)
        let fc = model.precoder(x.commSector)
        let f = nnblISACBeam(fr, fc.broadcast(to: withoutDerivative(at: fr).shape), sqrtEta: x.sqrtEta,
                             sqrtOneMinusEta: x.sqrtOneMinusEta, power: power)
        return nnblDifferentiableMap(f, x.constants, antennas: model.architecture.antennas)
    }

    /// Eq. (18) loss of `model` on a batch (training-mode BN).
    public func positionLoss(_ model: NNBLModel, seed: UInt64, firstStream: UInt64, batchSize: Int, eta: (Double, Double),
                             cutoffMeters: Double, training: Bool = true) -> Double {
        let x = batch(seed: seed, firstStream: firstStream, size: batchSize, etaLow: eta.0, etaHigh: eta.1)
        let map = Self.transmitAndSense(model, x, power: Float(config.power))
        return Double(nnblPositionLoss(angles: model.angles(map, prior: x.anglePrior, training: training),
                                       ranges: model.ranges(map, prior: x.rangePrior, training: training),
                                       truth: x.truth, cutoffMeters: Float(cutoffMeters)).scalar)
    }
}

/// Two-step NNBL training (paper Sec. V-A, eqs. 18–19).
public enum NNBLTrainer {
    /// Trains `model` on scenes of `system` (its config's target-sector prior; the paper draws random sectors).
    /// Batch `step` of phase p uses scene streams 2⁴⁰ + p·2³² + step·B + b of `settings.seed`.
    public static func train(system: NNBLSystem, model initial: NNBLModel, settings s: NNBLTrainingSettings,
                             progress: ((NNBLTrainingRecord) -> Void)? = nil) throws -> (NNBLModel, [NNBLTrainingRecord]) {
        try s.validate()
        var model = initial
        var log: [NNBLTrainingRecord] = []
        let power = Float(system.config.power)
        for phase in 1...2 {
            let steps = phase == 1 ? s.positionSteps : s.detectionSteps
            let lr0 = phase == 1 ? s.positionLearningRate : s.detectionLearningRate
            var opt = try Adam(learningRate: Float(lr0))
            var plateau = try ReduceOnPlateau(initial: Float(lr0), factor: 0.5, patience: s.plateauPatience, minimum: 1e-6)
            for step in 0..<steps {
                let x = system.batch(seed: s.seed, firstStream: (1 << 40) + UInt64(phase) << 32 + UInt64(step * s.batchSize),
                                     size: s.batchSize, etaLow: s.etaLow, etaHigh: s.etaHigh)
                let loss: Tensor
                var grad: NNBLModel.TangentVector
                if phase == 1 {
                    let cut = Float(s.gospaCutoffMeters), sq = s.positionLoss == .mse
                    (loss, grad) = valueWithGradient(at: model) { m in
                        let map = NNBLSystem.transmitAndSense(m, x, power: power)
                        return nnblPositionLoss(angles: m.angles(map, prior: x.anglePrior, training: true),
                                                ranges: m.ranges(map, prior: x.rangePrior, training: true),
                                                truth: x.truth, cutoffMeters: cut, squared: sq)
                    }
                } else {
                    let cut = s.positionLoss == .mse ? Float.greatestFiniteMagnitude : Float(s.detectionCutoff)  // finite: 0 · ∞ would be NaN in the clip mask
                    (loss, grad) = valueWithGradient(at: model) { m in
                        let map = NNBLSystem.transmitAndSense(m, x, power: power)
                        return nnblDetectionLoss(logits: m.detectionLogits(map, prior: x.detectionPrior, training: true),
                                                 trueCounts: x.counts, cutoff: cut)
                    }
                    // ξ frozen in phase 2 (its gradient is zero anyway: angle/range are not in the loss).
                    grad.angle = .zero; grad.range = .zero
                }
                opt.update(&model, along: grad)
                opt.learningRate = plateau.observe(loss.scalar)
                let r = NNBLTrainingRecord(phase: phase, step: step, loss: Double(loss.scalar), learningRate: Double(opt.learningRate))
                log.append(r)
                progress?(r)
            }
        }
        return (model, log)
    }
}

extension NNBLSystem {
    /// Runs samples `firstIndex ..< firstIndex + count` (scene stream = index, as `BaselineSystem.runSample`, so
    /// the same seed gives the same scenes): learned beam (eq. 5 with the MLP's f_r, f_c) → true physics →
    /// map → networks (BN in inference mode). Peaks = û sorted descending (T̂ = #{û > δ}); estimated positions
    /// are the first T̂ angle/range slots, matching the training convention of eq. (18).
    public func runBatch(model: NNBLModel, count: Int, firstIndex: UInt64 = 0, seed: UInt64, eta: Double, phi: Double,
                         chunk: Int = 64, progress: ((Int) -> Void)? = nil) throws -> [SampleOutcome] {
        try prepareBatch(count: count, eta: eta, phi: phi)
        let k = config.antennas, tm = config.maxTargets
        func precoder(_ lo: Double, _ hi: Double) -> [CDouble] {
            let f = model.precoder(Tensor(shape: [1, 2], scalars: [Float(lo), Float(hi)])).scalars
            return (0..<k).map { CDouble(Double(f[$0]), Double(f[k + $0])) }
        }
        let fc = precoder(config.commSector.lowerRad, config.commSector.upperRad)
        var out: [SampleOutcome] = []
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            let precoders = try (0..<n).map { i -> ([CDouble], SceneDraw) in
                var rng = RandomSource(seed: seed, stream: firstIndex + UInt64(start + i))
                let d = generator.draw(rng: &rng)
                let f = try Beamformer.isac(sensing: precoder(d.sector.lowerRad, d.sector.upperRad), communication: fc,
                                            eta: eta, phi: phi, power: config.power)
                return (f, d)
            }
            // (The first failing index's error is thrown; the old code threw whichever failure came last.)
            let box = try parallelMap(n) { i -> (map: [Float], draw: SceneDraw, err: Int) in
                let (f, d) = precoders[i]
                let o = try generator.observe(d, precoder: f)
                let m = map(observation: o.sensing, sector: d.sector)
                let (_, e) = ScenarioGenerator.decode(o, sent: d.messages)
                return (m, d, e)
            }
            let draws = box.map(\.draw)
            let x = Tensor(shape: [n, 1, architecture.mapAngles, architecture.mapDelays], scalars: box.flatMap(\.map))
            let (ap, rp, dp) = priors(draws.map(\.sector))
            let th = model.angles(x, prior: ap, training: false).scalars
            let rr = model.ranges(x, prior: rp, training: false).scalars
            let u = model.detectionLogits(x, prior: dp, training: false).sigmoid().scalars
            for i in 0..<n {
                let d = draws[i]
                let peaks = (0..<tm).map { Double(u[i * tm + $0]) }.sorted(by: >)
                out.append(SampleOutcome(trace: DetectionTrace(trueCount: d.targetCount, peaks: peaks),
                                         truePositions: d.positions, trueAnglesRad: d.anglesRad, trueRangesMeters: d.rangesMeters,
                                         estimatedAnglesRad: (0..<tm).map { Double(th[i * tm + $0]) },
                                         estimatedRangesMeters: (0..<tm).map { Double(rr[i * tm + $0]) },
                                         symbolErrors: box[i].err, symbols: d.messages.count))
            }
            start += n
            progress?(n)
        }
        return out
    }

    /// Calibrates δ on `calibrationSamples` (streams offset by 2³²) to `targetPfa`, then evaluates `samples`
    /// fresh draws (streams 0..<samples) — the protocol of `BaselineSystem.evaluate`.
    public func evaluate(model: NNBLModel, eta: Double, phi: Double, samples: Int, calibrationSamples: Int, seed: UInt64,
                         targetPfa: Double, gospa: GOSPA, progress: ((Int) -> Void)? = nil) throws -> OperatingPointMetrics {
        try BaselineSystem.calibratedEvaluation(config: config, samples: samples, calibrationSamples: calibrationSamples,
                                                targetPfa: targetPfa, eta: eta, phi: phi, gospa: gospa) { n, first in
            try runBatch(model: model, count: n, firstIndex: first, seed: seed, eta: eta, phi: phi, progress: progress)
        }
    }
}
