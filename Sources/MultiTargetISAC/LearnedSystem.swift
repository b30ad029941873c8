import Foundation
import Dispatch
import Linalg
import Arrays
import Numerics
import Metrics
import Estimation

/// The learnable part of the model-based ISAC system (paper Sec. IV-A): the steering dictionary A shared by
/// the LS beamformer (eq. 7) and the differentiable OMP receiver (Sec. IV-B).
public enum LearnedSteering: Sendable {
    /// Impairment learning: d ∈ ℝ^K element spacings (metres), A = A_pert(d) over the beam grid. K parameters.
    case impairment(ArrayImpairment)
    /// Dictionary learning: A ∈ ℂ^{K × N_θ} free, one column per beam-grid angle. K·N_θ complex parameters.
    case dictionary(Matrix<CDouble>)

    /// Number of learnable parameters (complex entries count once, as in the paper).
    public var parameterCount: Int {
        switch self {
        case let .impairment(a): return a.spacingsMeters.count
        case let .dictionary(m): return m.rows * m.cols
        }
    }
    /// `"impairment"` or `"dictionary"`, as stored in checkpoints (`meta_json` `method`).
    public var methodName: String {
        switch self { case .impairment: return "impairment"; case .dictionary: return "dictionary" }
    }
}

/// Position loss of the end-to-end training (per scene, T differentiable-OMP iterations, |P̂| = |P| = T).
public enum PositionLoss: String, Sendable, CaseIterable {
    /// Eq. (18): (Σ min(‖p − p̂‖, γ)^p)^{1/p} over the GOSPA-optimal assignment, metres (multi-target training).
    case gospa
    /// Σ ‖p − p̂‖² over the assignment minimising it, no cut-off, m² — the paper's single-target (T_max = 1)
    /// training loss (Sec. V-C, "to compare with [46]"); with T = 1 it is the squared eq.-(18) distance
    /// without the cut-off γ.
    case mse
}

/// Conjugate gradients of a batch loss w.r.t. the shared steering matrix and the communication LS solution,
/// convention dL = Re Σ conj(ḡ) dz.
struct SteeringGradient {
    /// ∂L/∂A, [K × N_θ].
    var steering: Matrix<CDouble>
    /// ∂L/∂f_c (normalised comm precoder), [K]; pushed through normalisation and LS once per batch.
    var commPrecoder: [CDouble]
    var loss = 0.0
    var samples = 0
    init(antennas k: Int, gridCount n: Int) {
        steering = Matrix(rows: k, cols: n); commPrecoder = [CDouble](repeating: .zero, count: k)
    }
    mutating func add(_ o: SteeringGradient) {
        for i in steering.data.indices { steering.data[i] += o.steering.data[i] }
        for i in commPrecoder.indices { commPrecoder[i] += o.commPrecoder[i] }
        loss += o.loss; samples += o.samples
    }
}

/// The end-to-end model-based ISAC system with a learnable steering dictionary: LS beamformer (eqs. 6–7)
/// built from A, multi-beam (eq. 5), physics through the *true* array, differentiable OMP receiver on the
/// columns of the same A (parameter sharing between the co-located transmitter and receiver).
///
/// The LS solution is computed from the normal equations x = (A* Aᵀ)⁻¹ A* b with the inverse Gram matrix
/// formed once per parameter value (A over the full [−90°, 90°] grid is well conditioned: for the nominal
/// λ/2 ULA, A* Aᵀ ≈ (N_θ/2)·I-ish); this makes the per-sample beamformer and its gradient two K×K products.
public struct LearnedISACSystem: SampleRunner {
    /// System parameters (K, S, grids, sectors, SNRs).
    public let config: MultiTargetConfig
    /// The true (impaired) array that drives the physics.
    public let trueArray: ArrayImpairment
    /// Scene generator (targets, UE channel, noise) on the true array.
    public let generator: ScenarioGenerator
    /// The learnable steering dictionary A (impairment or dictionary learning).
    public let model: LearnedSteering
    /// Differentiable-OMP receiver settings (temperature, window scale).
    public let settings: DifferentiableOMPSettings
    /// Beam grid θ_n over [−π/2, π/2], N_θ points, and A [K × N_θ].
    public let beamGridRad: [Double]
    public let steering: Matrix<CDouble>
    /// (A* Aᵀ)⁻¹, [K × K].
    let gramInverse: Matrix<CDouble>
    /// x_c (unnormalised LS solution) and f_c = x_c/‖x_c‖ for the communication sector.
    let commRaw: [CDouble]
    /// Normalised communication precoder f_c = x_c/‖x_c‖, [K].
    public let commPrecoder: [CDouble]
    /// Φ_d [S × N_τ] and its delay grid (s).
    let delayAtoms: Matrix<CDouble>
    let delaysSeconds: [Double]
    private let cachedReceiver: (sector: AngularSector, dictionary: OMPDictionary, first: Int)?
    /// Receiver angle columns when they differ from the transmitter's A, [K × N_θ] (evaluation-only ablations,
    /// `ReceiverColumns`); nil = shared with the LS beamformer, as in the paper and in training.
    public let receiverSteering: Matrix<CDouble>?

    /// - Parameters:
    ///   - config: system parameters (the target-sector prior decides which scenes `runSample` draws).
    ///   - trueArray: the physical array (the hardware realization).
    ///   - model: current learnable parameters.
    ///   - receiverSteering: receiver columns [K × N_θ] if not the transmitter's A (evaluation only; default nil).
    public init(config: MultiTargetConfig, trueArray: ArrayImpairment, model: LearnedSteering,
                settings: DifferentiableOMPSettings, receiverSteering: Matrix<CDouble>? = nil) throws {
        try config.validate(); try settings.validate()
        try MultiTargetLimits.checkDOMP(temperature: settings.temperature, windowScale: settings.windowScale)
        // Multi-threaded OpenBLAS partitions the Gram GEMM differently from the single-threaded one, which changes
        // the last bits of (A*Aᵀ)⁻¹; fixing the thread count here makes results independent of what ran before
        // (a checkpoint evaluated in a fresh process reproduces the training run's test metrics bit for bit).
        useSingleThreadedBLAS()
        self.config = config; self.trueArray = trueArray; self.model = model; self.settings = settings
        generator = try ScenarioGenerator(config: config, trueArray: trueArray)
        let grid = Steering.uniformGrid(-Double.pi / 2, Double.pi / 2, count: config.angleGridSize)
        beamGridRad = grid
        switch model {
        case let .impairment(a):
            guard a.spacingsMeters.count == config.antennas else {
                throw ISACError.invalidParameter(name: "--checkpoint", value: "\(a.spacingsMeters.count) spacings",
                                                 valid: "must hold K = \(config.antennas) spacings")
            }
            steering = Steering.linearMatrix(a.geometry, anglesRad: grid, wavelengthMeters: config.wavelengthMeters)
        case let .dictionary(m):
            guard m.rows == config.antennas, m.cols == grid.count else {
                throw ISACError.invalidParameter(name: "--checkpoint", value: "dictionary \(m.rows)x\(m.cols)",
                                                 valid: "must be K x N_theta = \(config.antennas)x\(grid.count)")
            }
            steering = m
        }
        guard steering.isFinite else { throw ISACError.nonFinite(name: "learned steering dictionary") }
        if let r = receiverSteering {
            guard r.rows == steering.rows, r.cols == steering.cols, r.isFinite else {
                throw ISACError.invalidParameter(name: "receiverSteering", value: "\(r.rows)x\(r.cols)",
                                                 valid: "must be finite and K x N_theta = \(steering.rows)x\(steering.cols)")
            }
        }
        self.receiverSteering = receiverSteering
        guard grid.count >= config.antennas else {
            throw ISACError.invalidParameter(name: "--n-theta", value: "\(grid.count)", valid: "must be >= the number of antennas (\(config.antennas)) for the LS beamformer")
        }
        // Gram = A* Aᵀ = conj(A) Aᵀ; with B = Aᵀ this is Bᴴ B.
        let b = steering.transposed
        let gram = Matrix.matmul(b, b, transA: .conjugateTranspose)
        gramInverse = try gram.solve(Matrix<CDouble>.identity(config.antennas))
        let tau = Steering.uniformGrid(2 * config.rangeMinMeters / speedOfLight, 2 * config.rangeMaxMeters / speedOfLight,
                                          count: config.delayGridSize)
        delaysSeconds = tau
        delayAtoms = Steering.delayMatrix(delaysSeconds: tau, subcarriers: config.subcarriers, spacingHz: config.subcarrierSpacingHz)
        let xc = Self.lsRaw(steering: steering, gramInverse: gramInverse, grid: grid, sector: config.commSector, antennas: config.antennas)
        commRaw = xc
        let nc = norm2(xc)
        guard nc > 0 else { throw ISACError.nonFinite(name: "LS comm beamformer (zero solution)") }
        commPrecoder = xc.map { $0 / CDouble(nc, 0) }
        if case let .fixed(sec) = config.targetSector {
            let (d, f) = try Self.receiverDictionary(steering: receiverSteering ?? steering, grid: grid, sector: sec, config: config,
                                                     settings: settings, delayAtoms: delayAtoms, delays: tau)
            cachedReceiver = (sec, d, f)
        } else { cachedReceiver = nil }
    }

    /// Unnormalised LS solution x = (A* Aᵀ)⁻¹ A* b with b = K on the grid points inside `sector` (eq. 6).
    static func lsRaw(steering a: Matrix<CDouble>, gramInverse: Matrix<CDouble>, grid: [Double], sector: AngularSector,
                      antennas k: Int) -> [CDouble] {
        var rhs = [CDouble](repeating: .zero, count: a.rows)
        for (n, th) in grid.enumerated() where sector.contains(th) {
            for q in 0..<a.rows { rhs[q] += a[q, n].conjugate }
        }
        let kk = CDouble(Double(k), 0)
        return gramInverse.apply(rhs.map { $0 * kk })
    }

    /// Receiver angle dictionary: the columns of A whose angles lie in the sector widened by one resolution cell
    /// (2/K in sin θ) on each side so that windows at the sector edges are complete, or all columns when
    /// `config.ompAngleDictionaryCoversSector` is false. Returns the dictionary and the first column index.
    static func receiverDictionary(steering a: Matrix<CDouble>, grid: [Double], sector: AngularSector, config: MultiTargetConfig,
                                   settings: DifferentiableOMPSettings, delayAtoms: Matrix<CDouble>,
                                   delays: [Double]) throws -> (OMPDictionary, Int) {
        var first = 0, last = grid.count - 1
        if config.ompAngleDictionaryCoversSector {
            let m = 2 * settings.windowScale / Double(config.antennas)
            let lo = Double.sin(sector.lowerRad) - m, hi = Double.sin(sector.upperRad) + m
            let s = grid.map { Double.sin($0) }
            first = s.firstIndex { $0 >= lo } ?? 0
            last = s.lastIndex { $0 <= hi } ?? grid.count - 1
            if last < first { last = first }
        }
        let cols = a.columns(Array(first...last))
        return (try OMPDictionary(angleAtoms: cols, anglesRad: Array(grid[first...last]), delayAtoms: delayAtoms, delaysSeconds: delays), first)
    }

    func receiver(for sector: AngularSector) throws -> (OMPDictionary, Int) {
        if let c = cachedReceiver, c.sector == sector { return (c.dictionary, c.first) }
        return try Self.receiverDictionary(steering: receiverSteering ?? steering, grid: beamGridRad, sector: sector, config: config, settings: settings,
                                           delayAtoms: delayAtoms, delays: delaysSeconds)
    }

    /// a(θ̂) for the residual update: the steering model at the off-grid angle (impairment learning), or nil
    /// (dictionary learning: softmax-weighted window columns).
    var offGridAtom: ((Double) -> [CDouble])? {
        switch model {
        case let .impairment(a):
            let g = a.geometry, lam = a.wavelengthMeters
            return { Steering.linear(g, angleRad: $0, wavelengthMeters: lam) }
        case .dictionary: return nil
        }
    }

    /// Sensing precoder f_r = x_r/‖x_r‖ for a sector, with x_r.
    func sensingPrecoder(for sector: AngularSector) throws -> (f: [CDouble], raw: [CDouble]) {
        let x = Self.lsRaw(steering: steering, gramInverse: gramInverse, grid: beamGridRad, sector: sector, antennas: config.antennas)
        let n = norm2(x)
        guard n > 0 else {
            throw ISACError.invalidParameter(name: "sector", value: "[\(degrees(sector.lowerRad))°, \(degrees(sector.upperRad))°]",
                                             valid: "must contain at least one angle-grid point (widen it or raise --n-theta)")
        }
        return (x.map { $0 / CDouble(n, 0) }, x)
    }

    /// One evaluation sample (same scene streams as `BaselineSystem.runSample`): differentiable OMP to T_max
    /// (δ = 0, full path), ML communication decoding.
    public func runSample(index: UInt64, seed: UInt64, eta: Double, phi: Double) throws -> SampleOutcome {
        var rng = RandomSource(seed: seed, stream: index)
        let d = generator.draw(rng: &rng)
        let fr = try sensingPrecoder(for: d.sector).f
        let f = try Beamformer.isac(sensing: fr, communication: commPrecoder, eta: eta, phi: phi, power: config.power)
        let obs = try generator.observe(d, precoder: f)
        let (dict, _) = try receiver(for: d.sector)
        let r = try DifferentiableOMP.run(observation: obs.sensing, dictionary: dict, iterations: config.maxTargets, settings: settings,
                                          subcarrierSpacingHz: config.subcarrierSpacingHz, offGridAtom: offGridAtom, recordTape: false)
        let (_, errs) = ScenarioGenerator.decode(obs, sent: d.messages)
        return SampleOutcome(trace: DetectionTrace(trueCount: d.targetCount, peaks: r.peaks),
                             truePositions: d.positions, trueAnglesRad: d.anglesRad, trueRangesMeters: d.rangesMeters,
                             estimatedAnglesRad: r.anglesRad, estimatedRangesMeters: r.delaysSeconds.map { $0 * speedOfLight / 2 },
                             symbolErrors: errs, symbols: d.messages.count)
    }


    /// Same protocol as `BaselineSystem.evaluate`: δ calibrated to `targetPfa` on streams 2³²…, metrics on 0..<samples.
    public func evaluate(eta: Double, phi: Double, samples: Int, calibrationSamples: Int, seed: UInt64,
                         targetPfa: Double, gospa: GOSPA, progress: (@Sendable (Int) -> Void)? = nil) throws -> OperatingPointMetrics {
        try BaselineSystem.calibratedEvaluation(config: config, samples: samples, calibrationSamples: calibrationSamples,
                                                targetPfa: targetPfa, eta: eta, phi: phi, gospa: gospa) { n, first in
            try runBatch(count: n, firstIndex: first, seed: seed, eta: eta, phi: phi, progress: progress)
        }
    }

    // MARK: - Loss and gradient

    /// Training loss of one scene (eq. 18 with |P̂| = |P| = T: T differentiable-OMP iterations, optimal
    /// assignment held fixed) and its gradient accumulated into `acc` (∂L/∂A through the receiver map and
    /// the sensing LS beamformer; ∂L/∂f_c for the batch-level comm LS backward). Returns the loss (metres).
    func accumulateGradient(draw d: SceneDraw, eta: Double, phi: Double, gospa: GOSPA, scale: Double,
                            loss lossKind: PositionLoss = .gospa, into acc: inout SteeringGradient) throws -> Double {
        let k = config.antennas, s = config.subcarriers
        guard receiverSteering == nil else {
            throw ISACError.invalidParameter(name: "receiverSteering", value: "set", valid: "gradients need the shared A (nil)")
        }
        let (fr, xr) = try sensingPrecoder(for: d.sector)
        let sq = CDouble(eta.squareRoot(), 0)
        let cph = CDouble(Double.cos(phi), Double.sin(phi)) * CDouble((1 - eta).squareRoot(), 0)
        let v = zip(fr, commPrecoder).map { sq * $0 + cph * $1 }
        let nv = norm2(v)
        guard nv > 0 else { throw ISACError.nonFinite(name: "ISAC beam (f_r and f_c cancel)") }
        let pw = config.power.squareRoot()
        let f = v.map { $0 * CDouble(pw / nv, 0) }
        let obs = try generator.observe(d, precoder: f)
        let t = d.targetCount
        guard t > 0 else { return 0 }
        let (dict, first) = try receiver(for: d.sector)
        let res = try DifferentiableOMP.run(observation: obs.sensing, dictionary: dict, iterations: t, settings: settings,
                                            subcarrierSpacingHz: config.subcarrierSpacingHz, offGridAtom: offGridAtom, recordTape: true)
        let est = zip(res.anglesRad, res.delaysSeconds).map { th, tau -> Position2 in
            let r = tau * speedOfLight / 2
            return Position2(r * Double.cos(th), r * Double.sin(th))
        }
        let truth = d.positions
        var gradPos = [Position2](repeating: .zero, count: t)
        let loss: Double
        switch lossKind {
        case .gospa:
            let g = gospa.evaluate(truth: truth, estimate: est)
            // L = (Σ min(‖p − p̂‖, γ)^p)^{1/p}; pairs beyond the cut-off contribute no gradient.
            let p = gospa.order
            loss = Foundation.pow(g.assignedCost, 1 / p)
            guard loss > 0 else { return 0 }
            for (i, j) in g.pairs {
                let diff = est[j] - truth[i]
                let dist = (diff * diff).sum().squareRoot()
                guard dist < gospa.cutoff, dist > 0 else { continue }
                // ∂L/∂p̂ = L^{1−p} dist^{p−2} (p̂ − p)
                gradPos[j] = diff * (Foundation.pow(loss, 1 - p) * Foundation.pow(dist, p - 2) * scale)
            }
        case .mse:
            // L = Σ ‖p_i − p̂_π(i)‖² with π optimal for the squared distances (no cut-off; T = 1: one pair).
            let cost = truth.map { a in est.map { b in let e = b - a; return (e * e).sum() } }
            let (asg, c) = try Hungarian.solve(cost)
            loss = c
            guard loss > 0 else { return 0 }
            for (i, j) in asg.enumerated() { gradPos[j] = (est[j] - truth[i]) * (2 * scale) }   // ∂L/∂p̂ = 2(p̂ − p)
        }
        // True-array steering of the targets and their delay vectors (the physics, not learned).
        let tg = trueArray.geometry
        let aTrue = d.anglesRad.map { Steering.linear(tg, angleRad: $0, wavelengthMeters: trueArray.wavelengthMeters) }
        let invSqrtS = 1 / Double(s).squareRoot()
        var gGain = [CDouble](repeating: .zero, count: t)    // ∂L/∂(a_trueᵀ f) per true target
        for (it, step) in res.steps.enumerated() {
            let gp = gradPos[it]
            if gp == .zero { continue }
            let th = step.angleRad, r = step.delaySeconds * speedOfLight / 2
            let gAngle = gp.x * (-r * Double.sin(th)) + gp.y * (r * Double.cos(th))
            let gDelay = (gp.x * Double.cos(th) + gp.y * Double.sin(th)) * speedOfLight / 2
            let gc = DifferentiableOMP.mapGradient(step: step, anglesRad: dict.anglesRad, delaysSeconds: dict.delaysSeconds,
                                                   temperature: settings.temperature, gradAngle: gAngle, gradDelay: gDelay)
            let na = step.angleWindow.count, nd = step.delayWindow.count
            let z = step.residualProjection!
            let i0 = step.angleWindow.lowerBound, j0 = step.delayWindow.lowerBound
            // Delay correlations ρ_uᵀ φ_j* = Σ_s exp(j2π s Δf (τ_j − τ_u)).
            var dcorr = [[CDouble]](repeating: [CDouble](repeating: .zero, count: nd), count: t)
            for u in 0..<t {
                let tu = 2 * d.rangesMeters[u] / speedOfLight
                for b in 0..<nd {
                    let ph = 2 * Double.pi * config.subcarrierSpacingHz * (dict.delaysSeconds[j0 + b] - tu)
                    var acc = CDouble.zero
                    for q in 0..<s { let x = ph * Double(q); acc += CDouble(Double.cos(x), Double.sin(x)) }
                    dcorr[u][b] = acc
                }
            }
            for a in 0..<na {
                let col = first + i0 + a
                // Receiver path: Ā[:, col] += Σ_b conj(ḡ_C[a, b]) z[:, b].
                acc.steering.data.withUnsafeMutableBufferPointer { pa in
                    z.data.withUnsafeBufferPointer { pz in
                        for b in 0..<nd {
                            let w = gc[a + b * na].conjugate
                            if w == .zero { continue }
                            for q in 0..<k { pa[q + col * k] += w * pz[q + b * k] }
                        }
                    }
                }
                // Transmitter path: C_ab depends on g_u = a_true,uᵀ f via ψ_u/√S (a_colᴴ a_true,u)(ρ_uᵀ φ_b*).
                for u in 0..<t {
                    var ip = CDouble.zero
                    for q in 0..<k { ip += steering[q, col].conjugate * aTrue[u][q] }
                    let base = d.gains[u] * CDouble(invSqrtS, 0) * ip
                    for b in 0..<nd {
                        let kab = base * dcorr[u][b]
                        gGain[u] += gc[a + b * na] * kab.conjugate
                    }
                }
            }
        }
        // g_u = Σ_k a_true,u,k f_k ⇒ ḡ_f = Σ_u ḡ_g,u conj(a_true,u).
        var gf = [CDouble](repeating: .zero, count: k)
        for u in 0..<t { for q in 0..<k { gf[q] += gGain[u] * aTrue[u][q].conjugate } }
        // f = √P v/‖v‖.
        let gv = normalizeBackward(gf, x: v, norm: nv, scale: pw)
        let gfr = gv.map { $0 * sq }
        let gfc = gv.map { $0 * cph.conjugate }
        for q in 0..<k { acc.commPrecoder[q] += gfc[q] }
        // f_r = x_r/‖x_r‖, x_r = LS(A, b_r).
        let gxr = normalizeBackward(gfr, x: xr, norm: norm2(xr), scale: 1)
        lsBackward(gradX: gxr, x: xr, sector: d.sector, into: &acc.steering)
        return loss
    }

    /// ḡ_x for y = s x/‖x‖: (s/‖x‖)(ḡ_y − x Re(xᴴ ḡ_y)/‖x‖²).
    func normalizeBackward(_ gy: [CDouble], x: [CDouble], norm n: Double, scale sc: Double) -> [CDouble] {
        var re = 0.0
        for q in x.indices { re += (x[q].conjugate * gy[q]).real }
        let c = re / (n * n)
        return zip(gy, x).map { ($0 - $1 * CDouble(c, 0)) * CDouble(sc / n, 0) }
    }

    /// Backward of x = argmin ‖b − Aᵀ x‖² (normal equations): with B = Aᵀ, w = (BᴴB)⁻¹ ḡ_x, r = b − B x, u = B w,
    /// dL = Re Σ dB_nk (conj(r_n) w_k − conj(u_n) x_k) ⇒ Ā_kn += r_n conj(w_k) − u_n conj(x_k).
    func lsBackward(gradX: [CDouble], x: [CDouble], sector: AngularSector, into abar: inout Matrix<CDouble>) {
        let k = config.antennas, n = beamGridRad.count
        let w = gramInverse.apply(gradX)
        let bx = steering.apply(x, .transpose)
        let u = steering.apply(w, .transpose)
        let kk = Double(k)
        abar.data.withUnsafeMutableBufferPointer { pa in
            for c in 0..<n {
                let r = (sector.contains(beamGridRad[c]) ? CDouble(kk, 0) : .zero) - bx[c]
                let uc = u[c]
                for q in 0..<k { pa[q + c * k] += r * w[q].conjugate - uc * x[q].conjugate }
            }
        }
    }

    /// Mean loss and gradient of a batch; `batch` are the scenes with their η. Parallel over scenes.
    func batchGradient(_ batch: [(SceneDraw, Double)], phi: Double, gospa: GOSPA, loss lossKind: PositionLoss = .gospa) throws -> SteeringGradient {
        let k = config.antennas, n = beamGridRad.count
        let workers = max(1, min(batch.count, ThreadCount.count))
        let scale = 1 / Double(batch.count)
        useSingleThreadedBLAS()
        let partial = try parallelMap(workers) { wkr in
            var acc = SteeringGradient(antennas: k, gridCount: n)
            var i = wkr
            while i < batch.count {
                acc.loss += try accumulateGradient(draw: batch[i].0, eta: batch[i].1, phi: phi, gospa: gospa, scale: scale, loss: lossKind, into: &acc)
                acc.samples += 1
                i += workers
            }
            return acc
        }
        var total = SteeringGradient(antennas: k, gridCount: n)
        for r in partial { total.add(r) }
        // Comm precoder: f_c = x_c/‖x_c‖, x_c = LS(A, b_c) — shared by all scenes, so one backward per batch.
        let gxc = normalizeBackward(total.commPrecoder, x: commRaw, norm: norm2(commRaw), scale: 1)
        lsBackward(gradX: gxc, x: commRaw, sector: config.commSector, into: &total.steering)
        total.loss /= Double(max(batch.count, 1))
        return total
    }

    /// ∂L/∂(model parameters): impairment learning chains Ā through A_kn = exp(−j c_n x_k), c_n = 2π sin θ_n/λ,
    /// ∂L/∂x_k = Σ_n c_n Im(conj(Ā_kn) A_kn), then through the spacing model to d. Dictionary learning returns
    /// (Re Ā, Im Ā) interleaved, column-major.
    func parameterGradient(_ abar: Matrix<CDouble>) -> [Double] {
        switch model {
        case let .impairment(arr):
            let k = config.antennas
            var gx = [Double](repeating: 0, count: k)
            for (c, th) in beamGridRad.enumerated() {
                let cn = 2 * Double.pi * Double.sin(th) / arr.wavelengthMeters
                for q in 0..<k {
                    let z = abar[q, c].conjugate * steering[q, c]
                    gx[q] += cn * z.imaginary
                }
            }
            return ArrayImpairment.spacingGradient(positionGradient: gx, spacings: arr.spacingsMeters, model: arr.model)
        case .dictionary:
            var g = [Double](repeating: 0, count: abar.data.count * 2)
            for (i, z) in abar.data.enumerated() { g[2 * i] = z.real; g[2 * i + 1] = z.imaginary }
            return g
        }
    }
}

extension ArrayImpairment {
    /// Chain rule from element positions x to the spacing parameters d.
    /// - cumulative: x_m = s_m − mean(s), s_m = Σ_{l<m} d_l ⇒ ∂x_m/∂d_l = [l < m] − (K−1−l)/K (l < K−1); d_{K−1} unused.
    /// - per-element: x_k = (k − (K−1)/2) d_k.
    public static func spacingGradient(positionGradient gx: [Double], spacings: [Double], model: SpacingModel) -> [Double] {
        let k = gx.count
        var gd = [Double](repeating: 0, count: k)
        switch model {
        case .cumulative:
            let total = gx.reduce(0, +)
            var suffix = 0.0                          // Σ_{m > l} gx_m
            for l in stride(from: k - 2, through: 0, by: -1) {
                suffix += gx[l + 1]
                gd[l] = suffix - Double(k - 1 - l) / Double(k) * total
            }
        case .perElement:
            let c = Double(k - 1) / 2
            for q in 0..<k { gd[q] = (Double(q) - c) * gx[q] }
        }
        return gd
    }

    /// The hardware realization of `BaselineSystem` for this config and seed (stream 0 of `seed`).
    /// With `config.trueArrayPositionsMeters` set, that array (the seed is then unused).
    public static func realization(config: MultiTargetConfig, seed: UInt64) -> ArrayImpairment {
        if let x = config.trueArrayPositionsMeters { return .positions(x, wavelengthMeters: config.wavelengthMeters) }
        var rng = RandomSource(seed: seed, stream: 0)
        return ArrayImpairment.random(antennas: config.antennas, wavelengthMeters: config.wavelengthMeters,
                                      stdMeters: config.spacingStdMeters, model: config.spacingModel, rng: &rng)
    }

    /// The spacings that determine the geometry (the cumulative model ignores the last entry).
    public var effectiveSpacings: [Double] { model == .cumulative ? Array(spacingsMeters.dropLast()) : spacingsMeters }
}

/// Receiver-column ablations of a learned dictionary (docs/multitarget.md, "Why dictionary learning wins on the
/// unseen sector"). The map 𝓛_ij = |a_iᴴ R φ_j*|² scales with ‖a_i‖², so columns whose norms drift from √K
/// re-weight the detection statistic by angle against the single calibrated threshold δ.
public enum ReceiverColumns: String, Sendable, CaseIterable {
    /// The learned columns as trained (the paper's shared A).
    case learned
    /// Learned columns rescaled to ‖a_n‖ = √K (directions kept, per-angle weighting removed).
    case unitNorm = "unit-norm"
    /// Nominal λ/2 steering columns (no learned receiver at all).
    case nominal
    /// Nominal columns rescaled to the learned norms ‖a_n‖ (only the per-angle weighting is learned).
    case nominalLearnedNorms = "nominal-learned-norms"

    /// - Parameters: learned, nominal: [K × N_θ] on the same beam grid.
    /// - Returns: [K × N_θ] receiver columns.
    public func columns(learned: Matrix<CDouble>, nominal: Matrix<CDouble>) throws -> Matrix<CDouble> {
        guard learned.rows == nominal.rows, learned.cols == nominal.cols else {
            throw ISACError.shapeMismatch("ReceiverColumns: learned \(learned.rows)x\(learned.cols) vs nominal \(nominal.rows)x\(nominal.cols)")
        }
        let k = learned.rows
        func norm(_ m: Matrix<CDouble>, _ c: Int) -> Double {
            var acc = 0.0
            for q in 0..<k { acc += m[q, c].lengthSquared }
            return acc.squareRoot()
        }
        var out = self == .learned || self == .unitNorm ? learned : nominal
        guard self != .learned && self != .nominal else { return out }
        let target = Double(k).squareRoot()
        for c in 0..<learned.cols {
            let nl = norm(learned, c), nn = norm(out, c)
            guard nl > 0, nn > 0 else { throw ISACError.nonFinite(name: "zero dictionary column \(c)") }
            let g = self == .unitNorm ? target / nl : nl / nn
            for q in 0..<k { out[q, c] = out[q, c] * CDouble(g, 0) }
        }
        return out
    }
}
