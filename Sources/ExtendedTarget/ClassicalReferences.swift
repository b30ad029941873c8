import Arrays
import Estimation
import Linalg
import Numerics

/// A class-agnostic location estimate in the sensing plane: range r (m) and azimuth θ = atan2(y, x) (rad).
public struct LocationEstimate: Sendable, Equatable {
    /// Estimated range r̂ in metres.
    public var rangeMeters: Double
    /// Estimated azimuth θ̂ in radians.
    public var azimuthRad: Double
    /// Creates an estimate from range (m) and azimuth (rad).
    public init(rangeMeters: Double, azimuthRad: Double) { self.rangeMeters = rangeMeters; self.azimuthRad = azimuthRad }
}

/// Search region shared by the classical references: r ∈ [rangeMin, rangeMax] (m), θ ∈ [azimuthMin, azimuthMax] (rad).
/// The paper's targets lie in 5–50 m and ±60°.
public struct SearchRegion: Sendable {
    /// Range interval searched, in metres.
    public var rangeMinMeters: Double, rangeMaxMeters: Double
    /// Azimuth interval searched, in radians.
    public var azimuthMinRad: Double, azimuthMaxRad: Double
    /// Validated region; throws unless 0 < rangeMin < rangeMax (finite, m) and −π/2 ≤ azimuthMin ≤ azimuthMax ≤ π/2 (rad).
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
    /// Range/azimuth region the peak is searched in.
    public var region: SearchRegion
    /// Zero-padded FFT sizes over (Rx, Tx); ≥ the array sizes.
    public var paddedReceive: Int, paddedTransmit: Int
    /// Range-grid step of the delay periodogram (m).
    public var rangeStepMeters: Double

    /// Periodogram estimator; throws unless the padded FFT sizes and the range step (m) are positive.
    public init(region: SearchRegion, paddedReceive: Int = 64, paddedTransmit: Int = 256,
                rangeStepMeters: Double = 0.05) throws {
        try Check.positive(paddedReceive, "paddedReceive"); try Check.positive(paddedTransmit, "paddedTransmit")
        try Check.positive(rangeStepMeters, "rangeStepMeters")
        self.region = region; self.paddedReceive = paddedReceive; self.paddedTransmit = paddedTransmit
        self.rangeStepMeters = rangeStepMeters
    }

    /// - Parameter h: [Nr × Nt × Ks] channel; Nr ≤ paddedReceive and Nt ≤ paddedTransmit.
    /// The 2-D spectra and the delay periodogram are `Estimation.Periodogram`'s.
    public func estimate(_ h: MultiToneChannel) throws -> LocationEstimate {
        let sp = Periodogram.spatial2D(h.tones, paddedRows: paddedReceive, paddedCols: paddedTransmit)
        let pr = sp.paddedRows, pt = sp.paddedCols, power = sp.power
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
        let b = sp.spectra.map { $0[bestIdx] }
        let r = Periodogram.delayPeak(b, frequenciesHz: h.frequenciesHz, rangeMinMeters: region.rangeMinMeters,
                                      rangeMaxMeters: region.rangeMaxMeters, stepMeters: rangeStepMeters)
        return LocationEstimate(rangeMeters: r, azimuthRad: theta)
    }
}

/// Classical reference 2: near-field point-target matched filter (Table II), a grid search over
/// `Estimation.MatchedFilter`'s score in the sensing plane of a `CrossArrayScene`.
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
    /// Scene (arrays, carrier, sensing plane) of the point-target model.
    public var scene: CrossArrayScene
    /// Range/azimuth region the grid covers.
    public var region: SearchRegion
    /// Range step of the coarse grid, in metres.
    public var rangeStepMeters: Double
    /// Azimuth step of the coarse grid, in radians.
    public var azimuthStepRad: Double
    /// How many times finer the refinement grid is than the coarse grid.
    public var refineFactor: Int

    /// Matched filter over `region`; throws unless the coarse range step (m), azimuth step (rad) and `refineFactor` are positive.
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

    /// Matched-filter scores of every sample at the given points (`points.count` = G). Returns [B][G]
    /// (`Estimation.MatchedFilter` with Tx = `scene.tx`, Rx = `scene.rx`).
    func scores(_ batch: [MultiToneChannel], points: [Point3]) -> [[Double]] {
        guard let first = batch.first else { return [] }
        return MatchedFilter(transmit: scene.tx, receive: scene.rx)
            .scores(batch.map(\.tones), frequenciesHz: first.frequenciesHz, points: points)
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
