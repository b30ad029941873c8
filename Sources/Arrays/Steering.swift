import Linalg
import Numerics

/// Steering vectors. Phase convention: a wave arriving from a source at point q (or direction û)
/// is seen at element p_n with phase e^{−j k (‖q − p_n‖ − ‖q‖)} (near field) or e^{+j k û·p_n}
/// (far field, the first-order limit of the same expression). Elements are ordered as in
/// `ArrayGeometry.positions`. Vectors are *not* normalized unless stated; divide by √N for unit norm.
public enum Steering {
    /// Wavenumber k = 2π f / c, rad/m.
    @inlinable public static func wavenumber(frequencyHz: Double) -> Double { 2 * Double.pi * frequencyHz / speedOfLight }

    /// Far-field (planar wavefront) steering vector: a_n = exp(+j k û·p_n), shape [N].
    public static func farField(_ g: ArrayGeometry, direction u: Point3, wavenumber k: Double) -> [CDouble] {
        g.positions.map { p in CDouble.exp(CDouble(0, k * (u * p).sum())) }
    }

    /// Exact near-field (spherical wavefront) steering vector, phase referenced to the origin:
    /// a_n = exp(−j k (‖q − p_n‖ − ‖q‖)), shape [N]. `includeAmplitude` multiplies by ‖q‖/‖q − p_n‖
    /// (spherical spreading relative to the reference).
    public static func nearField(_ g: ArrayGeometry, point q: Point3, wavenumber k: Double,
                                 includeAmplitude: Bool = false) -> [CDouble] {
        let r0 = (q * q).sum().squareRoot()
        return g.positions.map { p in
            let d = q - p
            let rn = (d * d).sum().squareRoot()
            let ph = CDouble.exp(CDouble(0, -k * (rn - r0)))
            return includeAmplitude ? CDouble(r0 / rn, 0) * ph : ph
        }
    }

    /// Point at range r (m) and angle θ measured from the unit vector `axis` of a linear array,
    /// lying in the plane spanned by `axis` and `broadside`.
    @inlinable
    public static func point(rangeMeters r: Double, angleFromAxisRad th: Double,
                             axis: Point3 = Point3(1, 0, 0), broadside: Point3 = Point3(0, 1, 0)) -> Point3 {
        r * (Double.cos(th) * axis + Double.sin(th) * broadside)
    }

    /// Fresnel (second-order) near-field steering vector of a linear array along `axis`:
    /// ‖q − p_n‖ − r ≈ −δ_n cos θ + δ_n² sin²θ / (2r), with δ_n the signed element coordinate along
    /// the axis and θ the angle from the axis. Shape [N].
    public static func fresnel(_ g: ArrayGeometry, rangeMeters r: Double, angleFromAxisRad th: Double,
                               wavenumber k: Double, axis: Point3 = Point3(1, 0, 0)) -> [CDouble] {
        let c = Double.cos(th), s2 = Double.sin(th) * Double.sin(th)
        return g.positions.map { p in
            let delta = (p * axis).sum()
            return CDouble.exp(CDouble(0, -k * (-delta * c + delta * delta * s2 / (2 * r))))
        }
    }

    /// Wideband near-field steering matrix: column m is `nearField` at subcarrier frequency f_m
    /// (the wavenumber changes across the band: beam squint). Shape [N × M].
    public static func wideband(_ g: ArrayGeometry, point q: Point3, frequenciesHz: [Double]) -> Matrix<CDouble> {
        Matrix(columns: frequenciesHz.map { nearField(g, point: q, wavenumber: wavenumber(frequencyHz: $0)) })
    }

    /// Wideband far-field steering matrix, column m at frequency f_m. Shape [N × M].
    public static func widebandFarField(_ g: ArrayGeometry, direction u: Point3, frequenciesHz: [Double]) -> Matrix<CDouble> {
        Matrix(columns: frequenciesHz.map { farField(g, direction: u, wavenumber: wavenumber(frequencyHz: $0)) })
    }
}

// MARK: - Linear arrays in the x–y plane and OFDM delay atoms

extension Steering {
    /// Far-field steering vector of an array on the x axis for a source at angle θ from broadside
    /// (in the x–y plane): [a]_k = exp(−j 2π x_k sin θ / λ), shape [K].
    ///
    /// Evaluated as `farField` with the direction û = (−sin θ, cos θ, 0) and k = 2π/λ, which gives
    /// exactly that phase for positions on the x axis (y_k = z_k = 0).
    public static func linear(_ g: ArrayGeometry, angleRad th: Double, wavelengthMeters lam: Double) -> [CDouble] {
        farField(g, direction: Point3(-Double.sin(th), Double.cos(th), 0), wavenumber: 2 * .pi / lam)
    }

    /// Steering matrix [a(θ_1) … a(θ_N)] of `linear(_:angleRad:wavelengthMeters:)`, shape [K × N]
    /// (one atom per column), [a(θ_j)]_k = exp(j φ_kj) with φ_kj = (−2π sin θ_j / λ)·x_k.
    ///
    /// The phase is rounded in that order (not as k·(û·p)), so entries may differ from `linear` in the
    /// last bit; seeded results of the multi-target ISAC dictionaries depend on this order.
    public static func linearMatrix(_ g: ArrayGeometry, anglesRad: [Double], wavelengthMeters lam: Double) -> Matrix<CDouble> {
        var m = Matrix<CDouble>(rows: g.count, cols: anglesRad.count)
        for (j, th) in anglesRad.enumerated() {
            let s = -2 * Double.pi * Double.sin(th) / lam
            for (k, p) in g.positions.enumerated() {
                let ph = s * p.x
                m.data[k + j * g.count] = CDouble(Double.cos(ph), Double.sin(ph))
            }
        }
        return m
    }

    /// Frequency-domain delay vector of an OFDM symbol ("steering over subcarriers"):
    /// [ρ(τ)]_s = exp(−j 2π s Δ_f τ), s = 0..<S, for delay τ (s) and subcarrier spacing Δ_f (Hz). Shape [S].
    public static func delay(delaySeconds tau: Double, subcarriers: Int, spacingHz: Double) -> [CDouble] {
        (0..<subcarriers).map { s in
            let ph = -2 * Double.pi * Double(s) * spacingHz * tau
            return CDouble(Double.cos(ph), Double.sin(ph))
        }
    }

    /// Delay dictionary Φ_d = [ρ(τ_1) … ρ(τ_N)] of `delay(delaySeconds:subcarriers:spacingHz:)`, shape [S × N].
    public static func delayMatrix(delaysSeconds: [Double], subcarriers: Int, spacingHz: Double) -> Matrix<CDouble> {
        Matrix(columns: delaysSeconds.map { delay(delaySeconds: $0, subcarriers: subcarriers, spacingHz: spacingHz) })
    }

    /// N uniformly spaced points covering [lo, hi] inclusive: lo + (hi − lo)·n/(N − 1), n = 0..<N (N ≥ 2),
    /// the angle and delay grids of on-grid dictionaries.
    public static func uniformGrid(_ lo: Double, _ hi: Double, count n: Int) -> [Double] {
        (0..<n).map { lo + (hi - lo) * Double($0) / Double(n - 1) }
    }
}
