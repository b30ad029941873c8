import ArgumentParser
import Foundation
import ISACIO
import Linalg
import Waveforms

/// `isac rate`: the normalized ergodic-rate benchmark R_erg(K_s) of eq. (19) (near-field
/// extended-target paper), exact via E₁ and optionally by Monte Carlo.
struct RateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate",
        abstract: "Normalized ergodic rate R_erg(K_s) of a shared OFDM block (eq. 19), bit/s/Hz.",
        discussion: """
        R_erg(K_s) = (K_c/K_tot)·E[log2(1 + γ̄_c (K_tot/K_c)|h|²)], h ~ CN(0,1), K_c = K_tot − K_s,
        evaluated in closed form as (K_c/K_tot)·e^{1/ρ}E1(1/ρ)/ln 2 with ρ = γ̄_c K_tot/K_c.
        Example: isac rate --total-tones 64 --sensing-tones 4 --snr-db 15 --json
        """)

    @Option(name: .customLong("total-tones"), help: "Total subcarriers K_tot of the shared OFDM block (>= 1).")
    var totalTones: Int = 64
    @Option(name: .customLong("sensing-tones"), help: "Subcarriers reserved for sensing K_s (0 ... K_tot-1).")
    var sensingTones: Int = 4
    @Option(name: .customLong("snr-db"), help: "Full-band per-subcarrier SNR γ̄_c in dB (finite).")
    var snrDB: Double = 15
    @Option(name: .customLong("monte-carlo"), help: "Also estimate by Monte Carlo with this many trials (1 ... 1e9).")
    var monteCarlo: Int?
    @Option(help: "Seed of the Monte Carlo draws (trial t uses stream t).")
    var seed: UInt64 = 0
    @OptionGroup var format: JSONQuietOptions

    func validate() throws {
        // ±300 dB covers every physical SNR; beyond it 10^(SNR/10) over/underflows a Double.
        try Check.inRange(snrDB, -300, 300, "--snr-db")
        try ErgodicRate.validate(totalTones: totalTones, sensingTones: sensingTones, snrDB: snrDB)
        // Work bound: ~1e9 trials is minutes in release; beyond that a typo (1e12) would run for days.
        if let n = monteCarlo { try Check.inRange(n, 1, 1_000_000_000, "--monte-carlo") }
    }

    func run() throws {
        try validate()
        let rate = try ErgodicRate.exact(totalTones: totalTones, sensingTones: sensingTones, snrDB: snrDB)
        let rho = try ErgodicRate.perToneSNR(totalTones: totalTones, sensingTones: sensingTones, snrDB: snrDB)
        var mc: (mean: Double, standardError: Double)?
        if let n = monteCarlo {
            let prog = ProgressLine("rate monte carlo", total: n, enabled: !format.quiet && n >= 100_000)
            mc = try ErgodicRate.monteCarlo(totalTones: totalTones, sensingTones: sensingTones, snrDB: snrDB,
                                            trials: n, seed: seed, progress: { prog.advance($0) })
            if !format.quiet && n >= 100_000 { prog.finish() }
        }
        if format.json {
            // mc is set exactly when --monte-carlo is given.
            let mcResult = mc.map { RateResult.MonteCarlo(trials: monteCarlo!, seed: seed, rate: $0.mean, standardError: $0.standardError) }
            print(try ResultJSON.string(RateResult(rate: rate, totalTones: totalTones, sensingTones: sensingTones,
                                                   communicationTones: totalTones - sensingTones, snrDB: snrDB,
                                                   perToneSNRdB: Special.powerToDB(rho), units: "bit/s/Hz", monteCarlo: mcResult)))
        } else {
            print("K_tot  K_s  K_c  SNR(dB)  rho(dB)   R_erg exact (bit/s/Hz)")
            print(String(format: "%5d  %3d  %3d  %7.2f  %7.3f   %.6f", totalTones, sensingTones,
                         totalTones - sensingTones, snrDB, Special.powerToDB(rho), rate))
            if let mc, let n = monteCarlo {
                print(String(format: "Monte Carlo (%d trials, seed %llu): %.6f ± %.6f (1 s.e.)", n, seed, mc.mean, mc.standardError))
            }
        }
    }
}

/// `isac rate --json`.
struct RateResult: Encodable {
    var rate: Double
    var totalTones: Int
    var sensingTones: Int
    var communicationTones: Int
    var snrDB: Double
    var perToneSNRdB: Double
    var units: String
    /// With `--monte-carlo N`.
    var monteCarlo: MonteCarlo?

    struct MonteCarlo: Encodable {
        var trials: Int
        var seed: UInt64
        var rate: Double
        var standardError: Double
        enum CodingKeys: String, CodingKey { case trials, seed, rate, standardError = "standard_error" }
    }

    enum CodingKeys: String, CodingKey {
        case rate, units, totalTones = "total_tones", sensingTones = "sensing_tones", communicationTones = "communication_tones"
        case snrDB = "snr_db", perToneSNRdB = "per_tone_snr_db", monteCarlo = "monte_carlo"
    }
}
