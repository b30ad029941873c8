import Foundation
import Linalg
import Numerics

/// L-tap Rayleigh multipath channel with an exponential power-delay profile.
///
/// Tap l (l = 0..<L) is h_l ~ CN(0, σ_l²) independently, σ_l² = e^{−l/τ} / Σ_{l'} e^{−l'/τ}
/// (decay constant τ in taps, τ = 1 gives the σ_l² ∝ exp(−l) profile of the multi-target ISAC paper),
/// normalized so Σ σ_l² = 1 and hence E|H[s]|² = 1 on every subcarrier.
public struct RayleighChannel: Sendable, Equatable {
    /// Tap gains h_0 … h_{L−1}, shape [L].
    public var taps: [CDouble]

    /// Wraps known taps (e.g. from a file).
    public init(taps: [CDouble]) { self.taps = taps }

    /// Exponential power-delay profile σ_l² = P·e^{−l/τ} / Σ_{l'} e^{−l'/τ}, shape [L], Σ σ_l² = P.
    ///
    /// - Parameters: taps L ≥ 1; decayTaps τ > 0 (σ_l² ∝ e^{−l/τ}); totalPower P (default 1: the
    ///   normalized profile; the multi-target ISAC scenario passes P = S·SNR_c·N0 so that the unitary
    ///   response has E|H[s]|² = SNR_c·N0). P is a scale, not checked.
    public static func powerDelayProfile(taps L: Int, decayTaps tau: Double = 1, totalPower: Double = 1) throws -> [Double] {
        try Check.positive(L, "taps")
        try Check.positive(tau, "decayTaps")
        let raw = (0..<L).map { Foundation.exp(-Double($0) / tau) }
        let total = raw.reduce(0, +)
        // (raw·P)/Σ in this order: P = 1 gives raw/Σ exactly.
        return raw.map { $0 * totalPower / total }
    }

    /// Draws one channel realization h_l ~ CN(0, σ_l²) from `rng`.
    public static func random(taps L: Int, decayTaps tau: Double = 1, rng: inout RandomSource) throws -> RayleighChannel {
        let pdp = try powerDelayProfile(taps: L, decayTaps: tau)
        return RayleighChannel(taps: pdp.map { rng.complexGaussian(variance: $0) })
    }

    /// Frequency response over S subcarriers, the S-point DFT of the zero-padded taps:
    ///
    ///     H[s] = c · Σ_{l=0}^{L−1} h_l e^{−j2π s l / S},   s = 0..<S,
    ///
    /// with c = 1 (default) or c = 1/√S (`unitary`, the unitary DFT: E|H[s]|² = Σ σ_l² / S).
    ///
    /// - Parameter subcarriers: S ≥ L (the taps must fit in one DFT period, otherwise they alias).
    /// - Returns: shape [S].
    public func frequencyResponse(subcarriers S: Int, unitary: Bool = false) throws -> [CDouble] {
        try Check.positive(S, "subcarriers")
        guard S >= taps.count else {
            throw ISACError.invalidParameter(name: "subcarriers", value: "\(S)",
                                             valid: "must be >= the number of taps (\(taps.count)) so the DFT does not alias")
        }
        var H = [CDouble](repeating: .zero, count: S)
        for s in 0..<S {
            var acc = CDouble.zero
            for (l, h) in taps.enumerated() {
                // Reduce s·l mod S in integers so the phase is exact for large indices.
                let ph = -2 * Double.pi * Double((s * l) % S) / Double(S)
                acc += h * CDouble(Foundation.cos(ph), Foundation.sin(ph))
            }
            H[s] = acc
        }
        if unitary {
            let c = CDouble(1 / Double(S).squareRoot(), 0)
            for s in 0..<S { H[s] = H[s] * c }
        }
        return H
    }
}

/// Additive white Gaussian noise at a prescribed SNR.
public enum AWGN {
    /// Noise variance N₀ = P_s / 10^{SNR/10} for signal power P_s and SNR in dB.
    ///
    /// - Throws: `invalidParameter` naming `--snr-db` for a non-finite SNR, `signalPower` for P_s ≤ 0.
    public static func noiseVariance(snrDB: Double, signalPower: Double = 1) throws -> Double {
        try Check.finite(snrDB, "--snr-db")
        try Check.positive(signalPower, "signalPower")
        return signalPower / Special.dbToPower(snrDB)
    }

    /// y = x + n with n ~ CN(0, N₀ I), N₀ = signalPower/10^{snrDB/10}. `signalPower` defaults to 1
    /// (unit-energy symbols); pass `nil` to use the measured mean power (1/S)Σ|x|² of `x` instead.
    ///
    /// - Returns: shape of `x`.
    public static func add(to x: [CDouble], snrDB: Double, signalPower: Double? = 1,
                           rng: inout RandomSource) throws -> [CDouble] {
        let ps: Double
        if let p = signalPower { ps = p } else {
            guard !x.isEmpty else { return x }
            ps = x.reduce(0) { $0 + $1.lengthSquared } / Double(x.count)
        }
        let n0 = try noiseVariance(snrDB: snrDB, signalPower: ps)
        return x.map { $0 + rng.complexGaussian(variance: n0) }
    }
}
