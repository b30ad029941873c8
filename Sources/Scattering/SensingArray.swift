import Arrays
import Foundation
import Linalg
import Numerics

/// The bistatic cross-shaped MIMO sensing array of Sec. II: N_t small dipoles (Tx ULA) and N_r
/// receivers (Rx ULA), subcarrier frequencies f_k.
///
/// Defaults (`paper`): Tx ULA along y, Rx ULA along z, both centred at the origin, N_t = N_r = 64,
/// spacing λc/2 at fc = 4.9 GHz, K = 16 sensing subcarriers f_k = fc + (k − (K−1)/2)·Δf with
/// Δf = 20 MHz (the paper does not state the spacing; 16 tones then span 300 MHz of a 320 MHz band).
/// Polarizations: Tx dipole moments p_t = ε0·ẑ (unit moment scaled by ε0 so that the incident field
/// is E_inc = k0² G p̂ — the paper absorbs constant scalings into H) and Rx polarization q_r = ẑ
/// (vertical polarization, a common choice for vehicles; both are parameters).
public struct SensingArray: Sendable {
    /// Tx array geometry.
    public var tx: ArrayGeometry
    /// Rx array geometry.
    public var rx: ArrayGeometry
    /// Unit Tx dipole direction p̂ (real).
    public var txPolarization: SIMD3<Double>
    /// Unit Rx polarization q (real).
    public var rxPolarization: SIMD3<Double>
    /// Subcarrier frequencies f_k, Hz (ascending).
    public var frequenciesHz: [Double]

    /// Validates ≥ 1 Tx and Rx antenna, ≥ 1 positive frequency (Hz), and the polarizations.
    public init(tx: ArrayGeometry, rx: ArrayGeometry, txPolarization: SIMD3<Double> = SIMD3(0, 0, 1),
                rxPolarization: SIMD3<Double> = SIMD3(0, 0, 1), frequenciesHz: [Double]) throws {
        guard tx.count >= 1, rx.count >= 1 else { throw ISACError.invalidParameter(name: "antennas", value: "0", valid: "need ≥ 1 Tx and Rx") }
        guard !frequenciesHz.isEmpty else { throw ISACError.invalidParameter(name: "subcarriers", value: "0", valid: "need ≥ 1 frequency") }
        for (i, f) in frequenciesHz.enumerated() { try Check.positive(f, "frequenciesHz[\(i)]") }
        for (n, v) in [("txPolarization", txPolarization), ("rxPolarization", rxPolarization)] {
            let l = (v * v).sum().squareRoot()
            guard l.isFinite, abs(l - 1) < 1e-9 else { throw ISACError.invalidParameter(name: n, value: "\(v)", valid: "must be a unit vector") }
        }
        self.tx = tx; self.rx = rx; self.txPolarization = txPolarization; self.rxPolarization = rxPolarization
        self.frequenciesHz = frequenciesHz
    }

    /// Cross-shaped array of Sec. IV-A: `antennas` elements per ULA at spacing λc/2, `subcarriers` tones
    /// spaced `subcarrierSpacingHz` and centred on `carrierHz`.
    public static func cross(antennas n: Int = 64, carrierHz fc: Double = 4.9e9, subcarriers k: Int = 16,
                             subcarrierSpacingHz df: Double = 20e6) throws -> SensingArray {
        try Check.positive(n, "antennas"); try Check.positive(k, "subcarriers")
        try Check.positive(fc, "carrier-hz"); try Check.positive(df, "subcarrier-spacing-hz")
        let lam = speedOfLight / fc
        let (tx, rx) = try ArrayGeometry.cross(txCount: n, rxCount: n, spacingMeters: lam / 2, txAxis: .y, rxAxis: .z)
        let f = (0..<k).map { fc + (Double($0) - Double(k - 1) / 2) * df }
        guard f[0] > 0 else { throw ISACError.invalidParameter(name: "subcarrier-spacing-hz", value: "\(df)", valid: "lowest subcarrier must be > 0 Hz") }
        return try SensingArray(tx: tx, rx: rx, frequenciesHz: f)
    }

    /// All element positions (Tx then Rx).
    public var allPositions: [Point3] { tx.positions + rx.positions }
}
