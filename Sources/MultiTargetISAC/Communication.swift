import Foundation
import Linalg
import Numerics

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
