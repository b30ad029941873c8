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
