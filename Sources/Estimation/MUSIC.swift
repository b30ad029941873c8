import Foundation
import Linalg
import Numerics

/// MUSIC building blocks (Schmidt 1986) that never need the noise subspace explicitly.
///
/// With an orthonormal signal subspace U_s ([L × P]) the noise projector is I − U_s U_sᴴ, so
/// aᴴ U_n U_nᴴ a = ‖a‖² − ‖U_sᴴ a‖². This lets the pseudo-spectrum be evaluated from the thin
/// SVD of the data alone — the L × L covariance is never formed, which matters when L = N·M is
/// in the tens of thousands.
public enum MUSIC {
    /// Signal subspace from the data matrix: the `rank` leading left singular vectors of Y
    /// (equivalently the leading eigenvectors of the sample covariance Y Yᴴ / K).
    ///
    /// - Parameters: data Y [L × K]; rank P with 1 ≤ P ≤ min(L, K).
    /// - Returns: U_s, [L × P], orthonormal columns.
    public static func signalSubspace<T: BLASScalar>(data y: Matrix<T>, rank: Int) throws -> Matrix<T> {
        try Check.inRange(rank, 1, Swift.max(1, Swift.min(y.rows, y.cols)), "rank (number of sources)")
        let (u, _, _) = try y.svd()
        return u.columns(Array(0..<rank))
    }

    /// Signal subspace of a Hermitian covariance R ([L × L]): eigenvectors of the `rank` largest
    /// eigenvalues. Returns [L × P].
    public static func signalSubspace<T: BLASScalar>(covariance r: Matrix<T>, rank: Int) throws -> Matrix<T> {
        try Check.inRange(rank, 1, Swift.max(1, r.rows - 1), "rank (number of sources)")
        let (_, v) = try r.hermitianEigen()     // ascending eigenvalues
        return v.columns(Array((r.rows - rank)..<r.rows))
    }

    /// Pseudo-spectrum values 1 / (‖a‖² − ‖U_sᴴ a‖²) for every column a of `steering`.
    ///
    /// One GEMM (U_sᴴ A, [P × Q]) per call; callers scan large grids in column blocks.
    /// - Parameters: signalSubspace U_s [L × P] (orthonormal); steering A [L × Q] (any norm).
    /// - Returns: [Q] spectrum values (≥ 1/‖a‖²; a tiny floor keeps it finite on exact hits).
    public static func spectrum<T: BLASScalar>(signalSubspace us: Matrix<T>, steering a: Matrix<T>) -> [Double] {
        precondition(us.rows == a.rows, "MUSIC.spectrum: subspace has \(us.rows) rows, steering \(a.rows)")
        var proj = Matrix<T>(rows: us.cols, cols: a.cols)
        Matrix.gemm(.conjugateTranspose, us, .none, a, into: &proj)
        var out = [Double](repeating: 0, count: a.cols)
        let l = a.rows, p = us.cols
        for j in 0..<a.cols {
            var na = 0.0
            for i in 0..<l { na += Double(a.data[i + j * l].absSquared) }
            var ps = 0.0
            for i in 0..<p { ps += Double(proj.data[i + j * p].absSquared) }
            out[j] = 1 / Swift.max(na - ps, na * 1e-14)
        }
        return out
    }

    /// Same as `spectrum(signalSubspace:steering:)` when ‖a‖² is already known (e.g. unit-modulus
    /// steering entries: ‖a‖² = L) and U_sᴴ A was computed elsewhere (factorized steering).
    /// - Parameters: projections U_sᴴ A [P × Q]; steeringNormSquared ‖a‖² (same for all columns).
    public static func spectrum<T: BLASScalar>(projections proj: Matrix<T>, steeringNormSquared na: Double) -> [Double] {
        let p = proj.rows
        return (0..<proj.cols).map { j in
            var ps = 0.0
            for i in 0..<p { ps += Double(proj.data[i + j * p].absSquared) }
            return 1 / Swift.max(na - ps, na * 1e-14)
        }
    }
}
