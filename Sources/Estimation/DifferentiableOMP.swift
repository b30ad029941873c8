import Foundation
import Linalg
import Arrays
import Numerics

/// Settings of the differentiable OMP (`DifferentiableOMP`; introduced in the multi-target ISAC paper, Sec. IV-B).
public struct DifferentiableOMPSettings: Sendable, Equatable, Codable {
    /// Softmax temperature relative to the peak: w_ij ∝ exp(𝓛_ij / (temperature · 𝓛_peak)) over the window.
    /// Applying the softmax to the raw masked map (as the paper writes it), whose entries differ by thousands of noise units
    /// (the softmax would be a hard argmax with zero gradient); normalising by the peak makes the estimate
    /// scale-free. Smaller = closer to the argmax; default 0.1 (`--temperature`).
    public var temperature = 0.1
    /// Window half-widths as a multiple of half the resolution cell (2/K in sin θ for a half-wavelength ULA,
    /// 1/(S Δ_f) in τ): |sin θ_i − sin θ*| ≤ s·(2/K)/2 and
    /// |τ_j − τ*| ≤ s·(1/(S Δ_f))/2 (`--window-scale`, default 1: the window spans one resolution cell).
    public var windowScale = 1.0
    /// Settings with the given softmax temperature and window scale (both > 0; checked by `validate`).
    public init(temperature: Double = 0.1, windowScale: Double = 1.0) {
        self.temperature = temperature; self.windowScale = windowScale
    }
    /// Throws `ISACError.invalidParameter` naming `--temperature` / `--window-scale` unless both are > 0.
    public func validate() throws {
        try Check.positive(temperature, "--temperature")
        try Check.positive(windowScale, "--window-scale")
    }
}

/// One iteration of the differentiable OMP: what the forward pass selected and what the backward pass needs.
public struct DOMPStep: Sendable {
    /// arg max of 𝓛 in the receiver dictionary (not differentiated) and the peak value max 𝓛.
    public var peakAngleIndex: Int
    public var peakDelayIndex: Int
    public var peakValue: Double
    /// Window (mask) around the peak, inclusive index ranges into the dictionary grids.
    public var angleWindow: ClosedRange<Int>
    public var delayWindow: ClosedRange<Int>
    /// Softmax weights over the window, column-major [n_θw × n_τw].
    public var weights: [Double]
    /// C_ij = a_iᴴ R ρ_j* on the window (complex map before |·|²), column-major [n_θw × n_τw].
    public var map: [CDouble]
    /// θ̂ = Σ w_ij θ_i (rad), τ̂ = Σ w_ij τ_j (s).
    public var angleRad: Double
    public var delaySeconds: Double
    /// z = R Φ_d*[:, window] for the residual R at this iteration, [K × n_τw] (only when a tape is recorded).
    public var residualProjection: Matrix<CDouble>?
}

/// Output of the differentiable OMP on one observation.
public struct DOMPResult: Sendable {
    /// One entry per iteration (target), in selection order.
    public var steps: [DOMPStep]
    /// max 𝓛 before each iteration (same meaning as `OMPResult.peaks` with δ = 0).
    public var peaks: [Double] { steps.map(\.peakValue) }
    /// Soft estimates θ̂_t (rad), one per iteration.
    public var anglesRad: [Double] { steps.map(\.angleRad) }
    /// Soft estimates τ̂_t (s), one per iteration.
    public var delaysSeconds: [Double] { steps.map(\.delaySeconds) }
}

/// Differentiable separable OMP (multi-target ISAC paper, Sec. IV-B): the arg-max selection of `OMP` is replaced by
/// arg max (stop-gradient) → mask of one resolution cell around it (2/K in sin θ, 1/(S Δ_f) in τ) → softmax of the masked map →
/// weighted average of the angle and delay grids → steering/delay vectors recomputed at the off-grid
/// estimate. The LS refit and the residual update are those of OMP, with the gradient stopped
/// through the selected atoms and gains: the map at iteration I is C = Φ_aᴴ (Ỹ − P_I) Φ_d* with P_I a
/// constant, so gradients reach the parameters through Φ_a (receiver) and through Ỹ (transmitter) only.
public enum DifferentiableOMP {
    /// Runs `iterations` differentiable-OMP iterations (the caller stops on a threshold afterwards using `peaks`;
    /// the path does not depend on the threshold).
    ///
    /// - Parameters:
    ///   - observation: Ỹ_r, [K × S].
    ///   - dictionary: Φ_a [K × N_θ] with grid θ_i (rad), Φ_d [S × N_τ] with τ_j (s).
    ///   - subcarrierSpacingHz: Δ_f (K and S are the dictionary's row counts) for the resolution cell.
    ///   - offGridAtom: a(θ̂) for the residual update; nil uses the softmax-weighted combination of the window's
    ///     dictionary columns (dictionary learning has no steering model to evaluate off the grid).
    ///   - recordTape: keep z = R Φ_d* on the window for `backward`.
    public static func run(observation y: Matrix<CDouble>, dictionary d: OMPDictionary, iterations: Int,
                           settings: DifferentiableOMPSettings, subcarrierSpacingHz: Double,
                           offGridAtom: ((Double) -> [CDouble])?, recordTape: Bool) throws -> DOMPResult {
        try Check.nonNegative(iterations, "--targets-max")
        var st = try OMPState(observation: y, dictionary: d)
        let k = d.angleAtoms.rows, s = d.delayAtoms.rows
        let sinHalf = settings.windowScale / Double(k)                     // (2/K)/2 in sin θ
        let tauHalf = settings.windowScale / (2 * Double(s) * subcarrierSpacingHz)  // (1/(SΔf))/2 in τ
        let sines = d.anglesRad.map { Double.sin($0) }
        var steps: [DOMPStep] = []
        for _ in 0..<iterations {
            let pk = st.peak()
            var i0 = pk.angleIndex, i1 = pk.angleIndex
            while i0 > 0, abs(sines[i0 - 1] - sines[pk.angleIndex]) <= sinHalf { i0 -= 1 }
            while i1 < sines.count - 1, abs(sines[i1 + 1] - sines[pk.angleIndex]) <= sinHalf { i1 += 1 }
            var j0 = pk.delayIndex, j1 = pk.delayIndex
            let tau = d.delaysSeconds
            while j0 > 0, abs(tau[j0 - 1] - tau[pk.delayIndex]) <= tauHalf { j0 -= 1 }
            while j1 < tau.count - 1, abs(tau[j1 + 1] - tau[pk.delayIndex]) <= tauHalf { j1 += 1 }
            let na = i1 - i0 + 1, nd = j1 - j0 + 1
            var map = [CDouble](repeating: .zero, count: na * nd)
            var w = [Double](repeating: 0, count: na * nd)
            for b in 0..<nd { for a in 0..<na { map[a + b * na] = st.residualMapEntry(i0 + a, j0 + b) } }
            if pk.value > 0 && pk.value.isFinite {
                let scale = 1 / (settings.temperature * pk.value)
                var sum = 0.0
                for q in 0..<map.count {
                    // Peak is the window maximum, so exponents are ≤ 0 (stable).
                    let e = Double.exp((map[q].lengthSquared - pk.value) * scale)
                    w[q] = e; sum += e
                }
                for q in 0..<w.count { w[q] /= sum }
            } else {
                w[(pk.angleIndex - i0) + (pk.delayIndex - j0) * na] = 1
            }
            var th = 0.0, tu = 0.0
            for b in 0..<nd { for a in 0..<na { let v = w[a + b * na]; th += v * d.anglesRad[i0 + a]; tu += v * tau[j0 + b] } }
            var z: Matrix<CDouble>? = nil
            if recordTape {
                let res = st.residual()
                var cols = Matrix<CDouble>(rows: s, cols: nd)
                for b in 0..<nd { cols.setColumn(b, d.conjugateDelayAtoms.column(j0 + b)) }
                z = Matrix.matmul(res, cols)
            }
            steps.append(DOMPStep(peakAngleIndex: pk.angleIndex, peakDelayIndex: pk.delayIndex, peakValue: pk.value,
                                  angleWindow: i0...i1, delayWindow: j0...j1, weights: w, map: map,
                                  angleRad: th, delaySeconds: tu, residualProjection: z))
            let aAtom: [CDouble]
            if let f = offGridAtom { aAtom = f(th) } else {
                var v = [CDouble](repeating: .zero, count: k)
                for a in 0..<na {
                    var wa = 0.0
                    for b in 0..<nd { wa += w[a + b * na] }
                    let col = i0 + a
                    for q in 0..<k { v[q] += CDouble(wa, 0) * d.angleAtoms[q, col] }
                }
                aAtom = v
            }
            let rho = Steering.delay(delaySeconds: tu, subcarriers: s, spacingHz: subcarrierSpacingHz)
            try st.add(angleAtom: aAtom, delayAtom: rho)
        }
        return DOMPResult(steps: steps)
    }

    /// Backward of one iteration: given ∂L/∂θ̂ and ∂L/∂τ̂, the conjugate gradient ḡ_C on the window's complex map
    /// (convention dL = Re Σ conj(ḡ_C) dC), column-major [n_θw × n_τw].
    ///
    /// θ̂ = Σ w θ_i, τ̂ = Σ w τ_j; w = softmax(s), s_ij = 𝓛_ij / (T 𝓛_*), 𝓛 = |C|², 𝓛_* the (window) peak:
    ///   ∂L/∂s_ij = w_ij (q_ij − Σ w q), q_ij = g_θ θ_i + g_τ τ_j;
    ///   ∂L/∂𝓛_ij = ∂L/∂s_ij / (T 𝓛_*) − [ij = *] Σ ∂L/∂s · 𝓛 / (T 𝓛_*²);  ḡ_C = 2 (∂L/∂𝓛) C.
    public static func mapGradient(step: DOMPStep, anglesRad: [Double], delaysSeconds: [Double], temperature: Double,
                                   gradAngle: Double, gradDelay: Double) -> [CDouble] {
        let na = step.angleWindow.count, nd = step.delayWindow.count
        var out = [CDouble](repeating: .zero, count: na * nd)
        guard step.peakValue > 0 && step.peakValue.isFinite else { return out }
        let i0 = step.angleWindow.lowerBound, j0 = step.delayWindow.lowerBound
        let mean = gradAngle * step.angleRad + gradDelay * step.delaySeconds
        let tl = temperature * step.peakValue
        var gs = [Double](repeating: 0, count: na * nd)
        var peakTerm = 0.0
        for b in 0..<nd {
            for a in 0..<na {
                let q = gradAngle * anglesRad[i0 + a] + gradDelay * delaysSeconds[j0 + b]
                let g = step.weights[a + b * na] * (q - mean)
                gs[a + b * na] = g
                peakTerm += g * step.map[a + b * na].lengthSquared
            }
        }
        let pa = step.peakAngleIndex - i0, pd = step.peakDelayIndex - j0
        for q in 0..<gs.count {
            var gl = gs[q] / tl
            if q == pa + pd * na { gl -= peakTerm / (tl * step.peakValue) }
            out[q] = CDouble(2 * gl, 0) * step.map[q]
        }
        return out
    }
}
