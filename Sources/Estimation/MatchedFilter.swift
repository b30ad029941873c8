import Arrays
import Linalg
import Numerics

/// Near-field point-target matched filter for a bistatic (Tx array, Rx array) MIMO channel measured on
/// K tones, with exact spherical steering.
///
/// For a candidate point q the point-target model of tone k is g_k(q) = a_{r,k}(q) a_{t,k}(q)ᵀ with
/// [a_{·,k}(q)]_n = e^{−j κ_k ‖q − p_n‖} / ‖q − p_n‖, κ_k = 2π f_k / c. With one unknown complex
/// amplitude shared by all tones the generalized-likelihood (matched-filter) score is
///
///   S(q) = |Σ_k a_{r,k}(q)ᴴ H_k a_{t,k}(q)^*|² / Σ_k ‖a_{r,k}(q)‖² ‖a_{t,k}(q)‖²,
///
/// coherent across both apertures *and* the tones (range resolution c/(2B) on top of the aperture
/// focusing). Scores of a batch of B channels on G points cost one [B·Nr × Nt]·[Nt × G] gemm per tone.
public struct MatchedFilter: Sendable {
    /// Transmit array (columns of H_k) and receive array (rows of H_k); positions in metres.
    public var transmit: ArrayGeometry, receive: ArrayGeometry

    /// A matched filter for channels H_k of shape [receive.count × transmit.count].
    public init(transmit: ArrayGeometry, receive: ArrayGeometry) {
        self.transmit = transmit; self.receive = receive
    }

    /// Spherical steering a(q) over `geometry` at wavenumber κ (rad/m): [count] entries
    /// e^{−jκR_n}/R_n, R_n = ‖q − p_n‖ (m), and its squared norm Σ_n 1/R_n².
    public static func steering(_ g: ArrayGeometry, _ q: Point3, wavenumber kappa: Double) -> ([CDouble], Double) {
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

    /// Matched-filter scores S(q) of every channel of a batch at every point.
    /// - Parameters:
    ///   - batch: B channels, each K tone matrices H_k of shape [Nr × Nt] (Nr = `receive.count`,
    ///     Nt = `transmit.count`), all on the same tones.
    ///   - frequenciesHz: the K tone frequencies (Hz).
    ///   - points: G candidate points (m).
    /// - Returns: [B][G] scores (units of |H|²).
    public func scores(_ batch: [[Matrix<CDouble>]], frequenciesHz: [Double], points: [Point3]) -> [[Double]] {
        let b = batch.count, g = points.count
        guard b > 0, g > 0, let tones0 = batch.first?.first else { return [] }
        let nr = tones0.rows, nt = tones0.cols, ks = frequenciesHz.count
        var acc = [[CDouble]](repeating: [CDouble](repeating: .zero, count: g), count: b)
        var norm = [Double](repeating: 0, count: g)
        for k in 0..<ks {
            let kappa = Steering.wavenumber(frequencyHz: frequenciesHz[k])
            var at = Matrix<CDouble>(rows: nt, cols: g)      // conj(a_t) per column
            var ar = Matrix<CDouble>(rows: nr, cols: g)      // a_r per column
            for (j, q) in points.enumerated() {
                let (vt, nt2) = Self.steering(transmit, q, wavenumber: kappa)
                let (vr, nr2) = Self.steering(receive, q, wavenumber: kappa)
                at.setColumn(j, vt.map { $0.conjugate })
                ar.setColumn(j, vr)
                norm[j] += nt2 * nr2
            }
            // Stack the batch's H_k vertically: [B·Nr × Nt].
            var stacked = Matrix<CDouble>(rows: b * nr, cols: nt)
            for (s, h) in batch.enumerated() { for t in 0..<nt { for r in 0..<nr { stacked[s * nr + r, t] = h[k][r, t] } } }
            let y = Matrix.matmul(stacked, at)                 // [B·Nr × G]
            for s in 0..<b { for j in 0..<g {
                var c = CDouble.zero
                for r in 0..<nr { c = c + ar[r, j].conjugate * y[s * nr + r, j] }
                acc[s][j] = acc[s][j] + c
            } }
        }
        return acc.map { row in row.indices.map { row[$0].absSquared / norm[$0] } }
    }
}
