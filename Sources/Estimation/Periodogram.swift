import Arrays
import Linalg
import Numerics

/// Periodogram estimators: zero-padded 2-D spatial DFT of array snapshots and the round-trip delay
/// periodogram across tones. Generic (any [Nr × Nt] snapshot per tone, any tone set); the far-field
/// mapping of a DFT bin to an angle is the caller's (it depends on the array axis and spacing).
public enum Periodogram {
    /// Forward DFT matrix F[m, n] = e^{−2πi·mn/P}, shape [P × N]: `F · x` is the P-point DFT of the
    /// N-sample vector x zero-padded to P samples (P ≥ N). The exponent is reduced mod P before the
    /// multiplication so every entry is exact to one rounding of `exp`.
    public static func dftMatrix(rows p: Int, cols n: Int) -> Matrix<CDouble> {
        Matrix(rows: p, cols: n) { m, k in
            CDouble.exp(CDouble(0, -2 * Double.pi * Double((m * k) % p) / Double(p)))
        }
    }

    /// Zero-padded 2-D DFT of every tone's snapshot and the non-coherent power sum over tones.
    ///
    /// X_k = F_r H_k F_tᵀ with F_r [Pr × Nr], F_t [Pt × Nt] from `dftMatrix` (two gemms per tone,
    /// identical to a padded 2-D FFT), P[m_r, m_t] = Σ_k |X_k[m_r, m_t]|².
    /// - Parameters:
    ///   - tones: K snapshots H_k, each [Nr × Nt] (all the same shape).
    ///   - paddedRows: Pr; values below Nr are raised to Nr.
    ///   - paddedCols: Pt; values below Nt are raised to Nt.
    /// - Returns: `power` [Pr·Pt] and `spectra` [K][Pr·Pt], both flattened in C order
    ///   (index m_r·Pt + m_t), plus the effective (Pr, Pt).
    public static func spatial2D(_ tones: [Matrix<CDouble>], paddedRows: Int, paddedCols: Int)
        -> (power: [Double], spectra: [[CDouble]], paddedRows: Int, paddedCols: Int) {
        guard let first = tones.first else { return ([], [], paddedRows, paddedCols) }
        let nr = first.rows, nt = first.cols
        let pr = Swift.max(paddedRows, nr), pt = Swift.max(paddedCols, nt)
        let fr = dftMatrix(rows: pr, cols: nr), ftT = dftMatrix(rows: pt, cols: nt).transposed
        var power = [Double](repeating: 0, count: pr * pt)
        var spectra: [[CDouble]] = []
        spectra.reserveCapacity(tones.count)
        for hk in tones {
            let xm = Matrix.matmul(Matrix.matmul(fr, hk), ftT)        // [pr × pt]
            var x = [CDouble](repeating: .zero, count: pr * pt)
            for t in 0..<pt { for r in 0..<pr { x[r * pt + t] = xm[r, t] } }
            for i in x.indices { power[i] += x[i].absSquared }
            spectra.append(x)
        }
        return (power, spectra, pr, pt)
    }

    /// Round-trip delay periodogram P(r) = |Σ_k b_k e^{+j 2π f_k · 2r/c}|² on the range grid
    /// r_i = rangeMin + i·step, i = 0 … ⌊(rangeMax − rangeMin)/step⌋ (the zero-padded inverse DFT across
    /// tones written as a direct sum, so non-uniform tone sets work too).
    /// - Parameters:
    ///   - b: K tone responses b_k ∝ e^{−j 2π f_k τ}, τ = 2r/c (e.g. a beamformed snapshot per tone).
    ///   - frequenciesHz: the K tone frequencies f_k (Hz).
    ///   - rangeMinMeters, rangeMaxMeters, stepMeters: the range grid (m).
    /// - Returns: the grid range (m) of the first maximum (ties within a relative 1e-12 keep the
    ///   smaller range). With one tone P(r) is flat and the result is `rangeMinMeters`.
    public static func delayPeak(_ b: [CDouble], frequenciesHz f: [Double], rangeMinMeters rangeMin: Double,
                                 rangeMaxMeters rangeMax: Double, stepMeters step: Double) -> Double {
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
}
