import Arrays
import Linalg
import Numerics

/// A class-agnostic location estimate in the sensing plane: range r (m) and azimuth θ = atan2(y, x) (rad).
public struct LocationEstimate: Sendable, Equatable {
    public var rangeMeters: Double
    public var azimuthRad: Double
    public init(rangeMeters: Double, azimuthRad: Double) { self.rangeMeters = rangeMeters; self.azimuthRad = azimuthRad }
}

/// Search region shared by the classical references: r ∈ [rangeMin, rangeMax] (m), θ ∈ [azimuthMin, azimuthMax] (rad).
/// The paper's targets lie in 5–50 m and ±60°.
public struct SearchRegion: Sendable {
    public var rangeMinMeters: Double, rangeMaxMeters: Double
    public var azimuthMinRad: Double, azimuthMaxRad: Double
    public init(rangeMinMeters: Double = 5, rangeMaxMeters: Double = 50,
                azimuthMinRad: Double = -Double.pi / 3, azimuthMaxRad: Double = Double.pi / 3) throws {
        try Check.positive(rangeMinMeters, "rangeMinMeters")
        guard rangeMaxMeters.isFinite, rangeMaxMeters > rangeMinMeters else {
            throw ISACError.invalidParameter(name: "rangeMaxMeters", value: "\(rangeMaxMeters)", valid: "must be finite and > rangeMinMeters = \(rangeMinMeters)")
        }
        try Check.inRange(azimuthMinRad, -Double.pi / 2, Double.pi / 2, "azimuthMinRad")
        try Check.inRange(azimuthMaxRad, azimuthMinRad, Double.pi / 2, "azimuthMaxRad")
        self.rangeMinMeters = rangeMinMeters; self.rangeMaxMeters = rangeMaxMeters
        self.azimuthMinRad = azimuthMinRad; self.azimuthMaxRad = azimuthMaxRad
    }
}

/// Classical reference 1: far-field 2-D FFT periodogram ("Traditional FFT (2D-Periodogram)", Table II).
///
/// Angle: for every tone the [Nr × Nt] snapshot is 2-D DFT'd over (Rx, Tx) with zero padding to
/// [Pr × Pt]; the power spectra are summed over tones (non-coherently) and the peak bin (m_r, m_t) is
/// taken. Under the far-field model a point at azimuth θ in the plane z = 0 puts the phase
/// e^{+j κ y_t sin θ} on Tx element t (Tx ULA along y, spacing λc/2), so the Tx spatial frequency of
/// the peak maps to sin θ = 2 m_t / Pt (wrapped to [−1, 1)).
/// Range: the beamformed tone responses b_k = X_k[m_r, m_t] carry the round-trip delay
/// b_k ∝ e^{−j 2π f_k τ}, τ = 2r/c; the delay periodogram P(r) = |Σ_k b_k e^{+j 2π f_k 2r/c}|² is
/// evaluated on a range grid (the zero-padded inverse FFT across tones, written as a direct sum so
/// non-uniform tone selections also work) and its peak inside the search region is r̂. With Ks = 1
/// the range is unidentifiable and the estimate is the first grid point of a flat spectrum.
/// Model mismatch (near-field wavefront curvature across a 64-element aperture) is exactly what this
/// reference is meant to expose.
public struct FFTPeriodogramEstimator: Sendable {
    public var region: SearchRegion
    /// Zero-padded FFT sizes over (Rx, Tx); ≥ the array sizes.
    public var paddedReceive: Int, paddedTransmit: Int
    /// Range-grid step of the delay periodogram (m).
    public var rangeStepMeters: Double

    public init(region: SearchRegion, paddedReceive: Int = 64, paddedTransmit: Int = 256,
                rangeStepMeters: Double = 0.05) throws {
        try Check.positive(paddedReceive, "paddedReceive"); try Check.positive(paddedTransmit, "paddedTransmit")
        try Check.positive(rangeStepMeters, "rangeStepMeters")
        self.region = region; self.paddedReceive = paddedReceive; self.paddedTransmit = paddedTransmit
        self.rangeStepMeters = rangeStepMeters
    }

    /// - Parameter h: [Nr × Nt × Ks] channel; Nr ≤ paddedReceive and Nt ≤ paddedTransmit.
    public func estimate(_ h: MultiToneChannel) throws -> LocationEstimate {
        let nr = h.receiveCount, nt = h.transmitCount
        let pr = Swift.max(paddedReceive, nr), pt = Swift.max(paddedTransmit, nt)
        // Zero-padded 2-D DFT X_k = F_r H_k F_tᵀ written as two gemms with explicit DFT matrices
        // (F[m, n] = e^{−2πi mn/P}); identical to a padded FFT, and cheap at these sizes.
        let fr = dftMatrix(rows: pr, cols: nr), ftT = dftMatrix(rows: pt, cols: nt).transposed
        var power = [Double](repeating: 0, count: pr * pt)
        var spectra: [[CDouble]] = []
        for hk in h.tones {
            let xm = Matrix.matmul(Matrix.matmul(fr, hk), ftT)        // [pr × pt]
            // Flatten to C order [pr, pt]: index i_r * pt + i_t.
            var x = [CDouble](repeating: .zero, count: pr * pt)
            for t in 0..<pt { for r in 0..<pr { x[r * pt + t] = xm[r, t] } }
            for i in x.indices { power[i] += x[i].absSquared }
            spectra.append(x)
        }
        // Peak restricted to the Tx bins whose sin θ lies inside the azimuth sector.
        let sMin = Double.sin(region.azimuthMinRad), sMax = Double.sin(region.azimuthMaxRad)
        var best = -1.0, bestIdx = 0, bestSin = 0.0
        for mt in 0..<pt {
            var s = 2 * Double(mt) / Double(pt)
            if s >= 1 { s -= 2 }
            guard s >= sMin - 1e-12, s <= sMax + 1e-12 else { continue }
            for mr in 0..<pr where power[mr * pt + mt] > best {
                best = power[mr * pt + mt]; bestIdx = mr * pt + mt; bestSin = s
            }
        }
        let theta = Double.asin(Swift.min(1, Swift.max(-1, bestSin)))
        let b = spectra.map { $0[bestIdx] }
        let r = delayPeriodogramPeak(b, frequenciesHz: h.frequenciesHz, rangeMin: region.rangeMinMeters,
                                     rangeMax: region.rangeMaxMeters, step: rangeStepMeters)
        return LocationEstimate(rangeMeters: r, azimuthRad: theta)
    }
}

/// Forward DFT matrix F[m, n] = e^{−2πi mn/P}, shape [P × N] (zero padding from N to P samples).
func dftMatrix(rows p: Int, cols n: Int) -> Matrix<CDouble> {
    Matrix(rows: p, cols: n) { m, k in
        CDouble.exp(CDouble(0, -2 * Double.pi * Double((m * k) % p) / Double(p)))
    }
}

/// argmax over r ∈ [rangeMin, rangeMax] (grid `step`) of |Σ_k b_k e^{+j 2π f_k 2r/c}|² (round-trip delay).
func delayPeriodogramPeak(_ b: [CDouble], frequenciesHz f: [Double], rangeMin: Double, rangeMax: Double,
                          step: Double) -> Double {
    let n = Int(((rangeMax - rangeMin) / step).rounded(.down)) + 1
    var best = -1.0, bestR = rangeMin
    for i in 0..<n {
        let r = rangeMin + Double(i) * step
        var acc = CDouble.zero
        for k in b.indices { acc = acc + b[k] * CDouble.exp(CDouble(0, 2 * Double.pi * f[k] * 2 * r / speedOfLight)) }
        let p = acc.absSquared
        if p > best + 1e-12 * Swift.max(1, best) { best = p; bestR = r }
    }
    return bestR
}

/// Classical reference 2: near-field point-target matched filter (Table II).
///
/// For a candidate point q(r, θ) in the sensing plane the exact spherical-wave point-target model is
/// g_k(q) = a_{r,k}(q) a_{t,k}(q)ᵀ with [a_{·,k}(q)]_n = e^{−j κ_k ‖q − p_n‖} / ‖q − p_n‖ (see
/// `pointTargetChannel`). With one unknown complex amplitude shared by all tones, the generalized
/// likelihood (matched-filter) score is
///
///   S(q) = |Σ_k a_{r,k}(q)ᴴ H_k a_{t,k}(q)^*|² / Σ_k ‖a_{r,k}(q)‖² ‖a_{t,k}(q)‖²,
///
/// coherent across the array *and* the tones (which gives range resolution c/(2B) on top of the
/// aperture focusing). S is evaluated on a coarse (r, θ) grid with one gemm per tone
/// ([B·Nr × Nt] · [Nt × G] for a batch of B samples), then refined on a `refineFactor`× finer grid of
/// ±1 coarse cell around the coarse peak.
public struct NearFieldMatchedFilter: Sendable {
    public var scene: CrossArrayScene
    public var region: SearchRegion
    public var rangeStepMeters: Double
    public var azimuthStepRad: Double
    public var refineFactor: Int

    public init(scene: CrossArrayScene, region: SearchRegion, rangeStepMeters: Double = 1.0,
                azimuthStepRad: Double = Double.pi / 180, refineFactor: Int = 10) throws {
        try Check.positive(rangeStepMeters, "rangeStepMeters"); try Check.positive(azimuthStepRad, "azimuthStepRad")
        try Check.positive(refineFactor, "refineFactor")
        self.scene = scene; self.region = region
        self.rangeStepMeters = rangeStepMeters; self.azimuthStepRad = azimuthStepRad; self.refineFactor = refineFactor
    }

    var rangeGrid: [Double] {
        let n = Int(((region.rangeMaxMeters - region.rangeMinMeters) / rangeStepMeters).rounded(.down)) + 1
        return (0..<n).map { region.rangeMinMeters + Double($0) * rangeStepMeters }
    }
    var azimuthGrid: [Double] {
        let n = Int(((region.azimuthMaxRad - region.azimuthMinRad) / azimuthStepRad + 1e-9).rounded(.down)) + 1
        return (0..<n).map { region.azimuthMinRad + Double($0) * azimuthStepRad }
    }

    /// Spherical steering a(q) over `geometry` at wavenumber κ, plus its squared norm.
    func steering(_ g: ArrayGeometry, _ q: Point3, _ kappa: Double) -> ([CDouble], Double) {
        var v = [CDouble](repeating: .zero, count: g.count)
        var n2 = 0.0
        for (i, p) in g.positions.enumerated() {
            let d = q - p
            let R = (d * d).sum().squareRoot()
            v[i] = CDouble.exp(CDouble(0, -kappa * R)) * CDouble(1 / R, 0)
            n2 += 1 / (R * R)
        }
        return (v, n2)
    }

    /// Matched-filter scores of every sample at the given points (`points.count` = G). Returns [B][G].
    func scores(_ batch: [MultiToneChannel], points: [Point3]) -> [[Double]] {
        let b = batch.count, g = points.count
        guard b > 0, g > 0 else { return [] }
        let nr = batch[0].receiveCount, nt = batch[0].transmitCount, ks = batch[0].toneCount
        var acc = [[CDouble]](repeating: [CDouble](repeating: .zero, count: g), count: b)
        var norm = [Double](repeating: 0, count: g)
        for k in 0..<ks {
            let kappa = Steering.wavenumber(frequencyHz: batch[0].frequenciesHz[k])
            var at = Matrix<CDouble>(rows: nt, cols: g)      // conj(a_t) per column
            var ar = Matrix<CDouble>(rows: nr, cols: g)      // a_r per column
            for (j, q) in points.enumerated() {
                let (vt, nt2) = steering(scene.tx, q, kappa)
                let (vr, nr2) = steering(scene.rx, q, kappa)
                at.setColumn(j, vt.map { $0.conjugate })
                ar.setColumn(j, vr)
                norm[j] += nt2 * nr2
            }
            // Stack the batch's H_k vertically: [B·Nr × Nt].
            var stacked = Matrix<CDouble>(rows: b * nr, cols: nt)
            for (s, h) in batch.enumerated() { for t in 0..<nt { for r in 0..<nr { stacked[s * nr + r, t] = h.tones[k][r, t] } } }
            let y = Matrix.matmul(stacked, at)                 // [B·Nr × G]
            for s in 0..<b { for j in 0..<g {
                var c = CDouble.zero
                for r in 0..<nr { c = c + ar[r, j].conjugate * y[s * nr + r, j] }
                acc[s][j] = acc[s][j] + c
            } }
        }
        return acc.map { row in row.indices.map { row[$0].absSquared / norm[$0] } }
    }

    /// Estimates for a batch of channels (all with the same shape and tones, array sizes matching `scene`).
    public func estimate(_ batch: [MultiToneChannel]) throws -> [LocationEstimate] {
        guard let first = batch.first else { return [] }
        for (i, h) in batch.enumerated() {
            guard h.receiveCount == scene.rx.count, h.transmitCount == scene.tx.count else {
                throw ISACError.shapeMismatch("sample \(i): channel is \(h.receiveCount)x\(h.transmitCount), array is \(scene.rx.count)x\(scene.tx.count)")
            }
            guard h.frequenciesHz == first.frequenciesHz else {
                throw ISACError.shapeMismatch("sample \(i): tone frequencies differ from sample 0")
            }
        }
        let rg = rangeGrid, ag = azimuthGrid
        var pts: [Point3] = []
        for r in rg { for a in ag { pts.append(scene.point(rangeMeters: r, azimuthRad: a)) } }
        let coarse = scores(batch, points: pts)
        var out: [LocationEstimate] = []
        for (s, sc) in coarse.enumerated() {
            let jBest = sc.indices.max { sc[$0] < sc[$1] }!
            let r0 = rg[jBest / ag.count], a0 = ag[jBest % ag.count]
            // Local refinement on a finer grid spanning ±1 coarse cell (clamped to the region).
            var fine: [(Double, Double)] = []
            let f = refineFactor
            for i in -f...f { for j in -f...f {
                let r = Swift.min(region.rangeMaxMeters, Swift.max(region.rangeMinMeters, r0 + Double(i) * rangeStepMeters / Double(f)))
                let a = Swift.min(region.azimuthMaxRad, Swift.max(region.azimuthMinRad, a0 + Double(j) * azimuthStepRad / Double(f)))
                fine.append((r, a))
            } }
            let fs = scores([batch[s]], points: fine.map { scene.point(rangeMeters: $0.0, azimuthRad: $0.1) })[0]
            let k = fs.indices.max { fs[$0] < fs[$1] }!
            out.append(LocationEstimate(rangeMeters: fine[k].0, azimuthRad: fine[k].1))
        }
        return out
    }
}
