import Foundation
import Linalg
import Numerics

/// Normalized ergodic-rate benchmark of a shared OFDM block (near-field extended-target paper, eq. (19)).
///
/// K_tot subcarriers are split into K_s sensing tones and K_c = K_tot − K_s communication tones
/// (eq. (18)). Equal power over the active tones concentrates the full-block power on K_c tones, so
/// the per-tone SNR is ρ = γ̄_c K_tot / K_c, and with i.i.d. Rayleigh fading h_k ~ CN(0, 1):
///
///     R_erg(K_s) = E[ (1/K_tot) Σ_{k=1}^{K_c} log₂(1 + γ̄_c (K_tot/K_c) |h_k|²) ]
///                = (K_c/K_tot) · e^{1/ρ} E₁(1/ρ) / ln 2     [bit/s/Hz over the whole block],
///
/// using E[ln(1 + ρ X)] = e^{1/ρ} E₁(1/ρ) for X = |h|² ~ Exp(1). With K_tot = 64 and γ̄_c = 15 dB the
/// paper's Table III lists R_erg = 4.2400, 4.1436, 3.9467, 3.5361 for K_s = 2, 4, 8, 16.
public enum ErgodicRate {
    /// Validates (K_tot, K_s, SNR) with the CLI flag names.
    public static func validate(totalTones: Int, sensingTones: Int, snrDB: Double) throws {
        try Check.positive(totalTones, "--total-tones")
        guard sensingTones >= 0, sensingTones <= totalTones - 1 else {
            throw ISACError.invalidParameter(
                name: "--sensing-tones", value: "\(sensingTones)",
                valid: "must be an integer in [0, \(totalTones - 1)] (at least one tone must remain for communication, K_s < K_tot = \(totalTones))")
        }
        try Check.finite(snrDB, "--snr-db")
    }

    /// Per-tone SNR ρ = γ̄_c K_tot/K_c (linear).
    public static func perToneSNR(totalTones: Int, sensingTones: Int, snrDB: Double) throws -> Double {
        try validate(totalTones: totalTones, sensingTones: sensingTones, snrDB: snrDB)
        return Special.dbToPower(snrDB) * Double(totalTones) / Double(totalTones - sensingTones)
    }

    /// Rayleigh ergodic capacity E[log₂(1 + ρ|h|²)], h ~ CN(0, 1), = e^{1/ρ}E₁(1/ρ)/ln 2 bit/s/Hz.
    ///
    /// - Parameter rho: linear SNR ρ ≥ 0 (ρ = 0 gives 0).
    public static func rayleighCapacity(snrLinear rho: Double) throws -> Double {
        guard rho.isFinite, rho >= 0 else {
            throw ISACError.invalidParameter(name: "snrLinear", value: "\(rho)", valid: "must be finite and >= 0")
        }
        if rho == 0 { return 0 }
        return try Special.expScaledE1(1 / rho) / Foundation.log(2.0)
    }

    /// Exact R_erg(K_s) of eq. (19), bit/s/Hz (closed form via E₁).
    ///
    /// - Parameters: totalTones K_tot ≥ 1; sensingTones K_s ∈ [0, K_tot − 1]; snrDB γ̄_c in dB (finite).
    public static func exact(totalTones: Int, sensingTones: Int, snrDB: Double) throws -> Double {
        let rho = try perToneSNR(totalTones: totalTones, sensingTones: sensingTones, snrDB: snrDB)
        let kc = Double(totalTones - sensingTones)
        return kc / Double(totalTones) * (try rayleighCapacity(snrLinear: rho))
    }

    /// Monte Carlo estimate of eq. (19): trial t draws K_c i.i.d. h_k ~ CN(0, 1) from
    /// `RandomSource(seed: seed, stream: t)` (so trials can be sharded and merged bit-identically) and
    /// evaluates (1/K_tot) Σ_k log₂(1 + ρ|h_k|²).
    ///
    /// - Returns: sample mean and its standard error s/√trials (bit/s/Hz).
    public static func monteCarlo(totalTones: Int, sensingTones: Int, snrDB: Double,
                                  trials: Int, seed: UInt64 = 0,
                                  progress: ((Int) -> Void)? = nil) throws -> (mean: Double, standardError: Double) {
        try Check.positive(trials, "--monte-carlo")
        let rho = try perToneSNR(totalTones: totalTones, sensingTones: sensingTones, snrDB: snrDB)
        let kc = totalTones - sensingTones
        let invLn2K = 1 / (Foundation.log(2.0) * Double(totalTones))
        // Welford's running mean/variance: stable for millions of trials.
        var mean = 0.0, m2 = 0.0
        for t in 0..<trials {
            var rng = RandomSource(seed: seed, stream: UInt64(t))
            var acc = 0.0
            for _ in 0..<kc { acc += Foundation.log1p(rho * rng.complexGaussian(variance: 1).lengthSquared) }
            let r = acc * invLn2K
            let delta = r - mean
            mean += delta / Double(t + 1)
            m2 += delta * (r - mean)
            if let progress, (t + 1) % 1000 == 0 { progress(1000) }
        }
        let variance = trials > 1 ? m2 / Double(trials - 1) : 0
        return (mean, (variance / Double(trials)).squareRoot())
    }
}
