import Foundation
import Linalg
import Numerics

/// Minimal QPSK and multipath pieces used by the scenario.
///
/// Kept private to this target because the shared `Waveforms` module had not landed when this
/// was written; the maths is the standard one (Gray QPSK, unit energy; S-point DFT of L taps).
public enum QPSK {
    /// Gray-mapped unit-energy QPSK: message m ∈ {0,1,2,3}, bit0 → sign of the real part,
    /// bit1 → sign of the imaginary part: x = ((1 − 2 b0) + j(1 − 2 b1))/√2.
    @inlinable public static func symbol(_ m: Int) -> CDouble {
        let s = 1 / 2.0.squareRoot()
        return CDouble(m & 1 == 0 ? s : -s, m & 2 == 0 ? s : -s)
    }
    /// Per-subcarrier ML detection with known CSI κ (eq. 15): argmin_m |y − κ x(m)|². For
    /// equal-energy QPSK this is the quadrant of y·κ*.
    @inlinable public static func detect(_ y: CDouble, csi k: CDouble) -> Int {
        let z = y * k.conjugate
        return (z.real < 0 ? 1 : 0) | (z.imaginary < 0 ? 2 : 0)
    }
}

/// L-tap Rayleigh channel with exponential power-delay profile and its frequency response.
public enum MultipathChannel {
    /// σ_l² = exp(−l), l = 0..<L, rescaled so Σ σ_l² = `totalPower`.
    public static func exponentialProfile(taps l: Int, totalPower: Double) -> [Double] {
        let raw = (0..<l).map { Double.exp(-Double($0)) }
        let s = raw.reduce(0, +)
        return raw.map { $0 * totalPower / s }
    }

    /// Frequency response β_s = (1/√S) Σ_l β_l e^{−j2π s l / S}, s = 0..<S (unitary S-point DFT of
    /// [β_0 … β_{L−1}, 0 … 0]), so E|β_s|² = Σ_l σ_l² / S.
    public static func frequencyResponse(taps: [CDouble], subcarriers n: Int) -> [CDouble] {
        let sc = 1 / Double(n).squareRoot()
        return (0..<n).map { s in
            var acc = CDouble.zero
            for (l, b) in taps.enumerated() {
                let ph = -2 * Double.pi * Double(s * l % n) / Double(n)
                acc += b * CDouble(Double.cos(ph), Double.sin(ph))
            }
            return acc * CDouble(sc, 0)
        }
    }
}
