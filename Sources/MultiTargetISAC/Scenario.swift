import Foundation
import Linalg
import Numerics
import Metrics
import Arrays
import Waveforms

/// The random ingredients of one transmission, drawn independently of the transmitter so the
/// same scene can be observed through different precoders (η sweeps, learned beamformers).
public struct SceneDraw: Sendable {
    /// Target sector {θ_min, θ_max} of this transmission.
    public var sector: AngularSector
    /// T ~ U{0..T_max} targets: angles θ_t ~ U[θ_min, θ_max] (rad), ranges R_t ~ U[R_min, R_max] (m),
    /// gains ψ_t ~ CN(0, σ_r²).
    public var anglesRad: [Double]
    public var rangesMeters: [Double]
    public var gains: [CDouble]
    /// m ∈ {0..3}^S, QPSK messages.
    public var messages: [Int]
    /// φ ~ U[φ_min, φ_max], communication receiver angle (rad).
    public var commAngleRad: Double
    /// Channel taps β_l ~ CN(0, σ_l²), length L.
    public var taps: [CDouble]
    /// LOS/NLOS communication paths (`CommChannelModel.losNLOS`; empty for the Rayleigh model, which uses
    /// `commAngleRad` and `taps`). Path 0 is the LOS path at `commAngleRad`.
    public var commPaths: [CommPath] = []
    /// W, sensing noise, [K × S] i.i.d. CN(0, N0).
    public var sensingNoise: Matrix<CDouble>
    /// n, communication noise, [S] i.i.d. CN(0, N0).
    public var commNoise: [CDouble]

    /// Number of targets T (`anglesRad.count`).
    public var targetCount: Int { anglesRad.count }
    /// True positions p_t = R_t [cos θ_t, sin θ_t] (eq. 2), metres.
    public var positions: [Position2] { zip(rangesMeters, anglesRad).map { Position2($0 * Double.cos($1), $0 * Double.sin($1)) } }
}

/// One path of the geometric LOS/NLOS communication channel.
public struct CommPath: Sendable, Equatable {
    /// Departure angle from broadside, rad.
    public var angleRad: Double
    /// Complex amplitude relative to √N0 (noise-normalised): LOS λ/(4πR), NLOS √σ λ/((4π)^{3/2} R_ts R_sr), divided
    /// by the link-budget noise σ_n.
    public var gain: CDouble
    /// Total path length L (LOS: R; NLOS: R_ts + R_sr), metres.
    public var lengthMeters: Double
    /// The delay applied across subcarriers, e^{−j2π s Δf τ}: τ = 2L/c, as the official code's phase
    /// e^{−j4π s Δf L/c} (docs/multitarget.md).
    public var delaySeconds: Double { 2 * lengthMeters / speedOfLight }
}

/// Both received signals of one transmission.
public struct SceneObservation: Sendable {
    /// Ỹ_r = Y_r ⊘ 1xᵀ(m), [K × S] (eq. 3).
    public var sensing: Matrix<CDouble>
    /// y_c = [x(m) ⊙ β] fᵀa(φ) + n, [S] (eq. 4).
    public var comm: [CDouble]
    /// κ = β fᵀa(φ), the CSI given to the receiver, [S].
    public var csi: [CDouble]
}

/// Scenario generator for the multi-target OFDM ISAC system (paper Sec. II).
public struct ScenarioGenerator: Sendable {
    /// System configuration the scenarios are drawn for.
    public let config: MultiTargetConfig
    /// The *true* array (what the physics sees).
    public let trueArray: ArrayImpairment

    /// Generator for `config` with the true (impaired) array `trueArray`; throws unless its element count equals `config.antennas`.
    public init(config: MultiTargetConfig, trueArray: ArrayImpairment) throws {
        try config.validate()
        guard trueArray.spacingsMeters.count == config.antennas else {
            throw ISACError.shapeMismatch("trueArray has \(trueArray.spacingsMeters.count) elements, config.antennas = \(config.antennas)")
        }
        self.config = config; self.trueArray = trueArray
    }

    /// Draws the random scene (fixed draw order so a stream fully determines the sample).
    /// - Parameter targetCount: forces T (for tests / single-target runs); nil draws T ~ U{0..T_max}.
    public func draw(rng: inout RandomSource, targetCount: Int? = nil) -> SceneDraw {
        let c = config
        let sector: AngularSector
        switch c.targetSector {
        case let .fixed(s): sector = s
        case let .random(ml, mh, sl, sh):
            let m = rng.uniform(ml, mh), w = rng.uniform(sl, sh)
            sector = (try? AngularSector(lowerRad: m - w / 2, upperRad: m + w / 2)) ?? (try! AngularSector(lowerDeg: -40, upperDeg: -20))
        }
        let t = targetCount ?? rng.integer(in: 0...c.maxTargets)
        let ang = (0..<t).map { _ in rng.uniform(sector.lowerRad, sector.upperRad) }
        let rng_ = (0..<t).map { _ in rng.uniform(c.rangeMinMeters, c.rangeMaxMeters) }
        let g = rng_.map { rng.complexGaussian(variance: c.targetGainVariance(rangeMeters: $0)) }
        let msg = (0..<c.subcarriers).map { _ in rng.integer(in: 0...3) }
        let phi = rng.uniform(c.commSector.lowerRad, c.commSector.upperRad)
        var taps: [CDouble] = [], paths: [CommPath] = []
        switch c.commChannelModel {
        case .rayleigh:
            // Σσ_l² = S·SNR_c·N0 with the unitary DFT ⇒ E|β_s|² = SNR_c·N0 (paper's SNR_c definition).
            // `config.validate()` (init) guarantees channelTaps >= 1, the only thing the profile checks.
            let prof = try! RayleighChannel.powerDelayProfile(taps: c.channelTaps,
                                                              totalPower: Double(c.subcarriers) * pow(10, c.commSNRdB / 10) * c.noisePower)
            taps = prof.map { rng.complexGaussian(variance: $0) }
        case .losNLOS:
            paths = Self.drawPaths(config: c, losAngleRad: phi, rng: &rng)
        }
        let w = rng.complexGaussianMatrix(rows: c.antennas, cols: c.subcarriers, variance: c.noisePower)
        let n = rng.complexGaussianVector(c.subcarriers, variance: c.noisePower)
        return SceneDraw(sector: sector, anglesRad: ang, rangesMeters: rng_, gains: g, messages: msg,
                         commAngleRad: phi, taps: taps, commPaths: paths, sensingNoise: w, commNoise: n)
    }

    /// The LOS/NLOS paths (`CommChannelModel.losNLOS`): P ~ U{1..P_max}; LOS at φ, range R ~ U[R_c,min, R_c,max],
    /// amplitude λ/(4πR) with a uniform phase; each NLOS path a scatterer at angle θ ~ U(comm sector) (moved to
    /// 0.1° from φ if closer), Tx–scatterer distance R_ts ~ U[R_c,min, R_ts,max] with
    /// R_ts,max = R_cp (R_cp/2 + R)/(R(1 − cos Δ) + R_cp), the distance at which the excess path
    /// R_ts + R_sr − R equals the cyclic-prefix range R_cp = c·(CP fraction)/Δf (law of cosines,
    /// R_sr² = R² + R_ts² − 2 R R_ts cos Δ, Δ = φ − θ), and amplitude √σ λ/((4π)^{3/2} R_ts R_sr), σ ~ Exp(mean RCS),
    /// i.e. CN(0, σ̄ λ²/((4π)³ R_ts² R_sr²)). Amplitudes are divided by the link-budget σ_n (noise-normalised, N0).
    static func drawPaths(config c: MultiTargetConfig, losAngleRad phi: Double, rng: inout RandomSource) -> [CommPath] {
        let lam = c.wavelengthMeters
        let scale = (c.noisePower / c.linkBudgetNoiseVarianceW).squareRoot()
        let count = rng.integer(in: 1...c.maxCommPaths)
        let r = rng.uniform(c.commRangeMinMeters, c.commRangeMaxMeters)
        let losPhase = rng.uniform(0, 2 * Double.pi)
        let losAmp = lam / (4 * Double.pi * r) * scale
        var out = [CommPath(angleRad: phi, gain: CDouble(losAmp * Double.cos(losPhase), losAmp * Double.sin(losPhase)), lengthMeters: r)]
        let rcp = speedOfLight * c.cyclicPrefixFraction / c.subcarrierSpacingHz
        let minSep = radians(0.1)
        for _ in 1..<max(count, 1) {
            var th = rng.uniform(c.commSector.lowerRad, c.commSector.upperRad)
            var diff = phi - th
            if abs(diff) < minSep { th = phi - (diff < 0 ? -minSep : minSep); diff = phi - th }
            let rtsMax = rcp * (rcp / 2 + r) / (r * (1 - Double.cos(diff)) + rcp)
            let rts = rng.uniform(c.commRangeMinMeters, rtsMax)
            let rsr = (r * r + rts * rts - 2 * r * rts * Double.cos(diff)).squareRoot()
            let v = c.linkBudget.meanRCSm2 * lam * lam / (pow(4 * Double.pi, 3) * rts * rts * rsr * rsr) * scale * scale
            out.append(CommPath(angleRad: th, gain: rng.complexGaussian(variance: v), lengthMeters: rts + rsr))
        }
        return out
    }

    /// Forms Y_r (eq. 1), applies reciprocal filtering (eq. 3) and forms y_c, κ (eq. 4) through the
    /// *true* array for precoder f ∈ ℂ^K.
    public func observe(_ d: SceneDraw, precoder f: [CDouble]) throws -> SceneObservation {
        let c = config
        guard f.count == c.antennas else { throw ISACError.shapeMismatch("precoder has \(f.count) entries, K = \(c.antennas)") }
        let k = c.antennas, s = c.subcarriers
        let x = d.messages.map(QPSK.symbol)
        var y = d.sensingNoise
        let g = trueArray.geometry, lam = trueArray.wavelengthMeters
        let invSqrtS = 1 / Double(s).squareRoot()
        for t in 0..<d.targetCount {
            let a = Steering.linear(g, angleRad: d.anglesRad[t], wavelengthMeters: lam)
            // ψ_t (aᵀf)/√S a [x ⊙ ρ(τ_t)]ᵀ
            var atf = CDouble.zero
            for i in 0..<k { atf += a[i] * f[i] }
            let amp = d.gains[t] * atf * CDouble(invSqrtS, 0)
            let rho = Steering.delay(delaySeconds: 2 * d.rangesMeters[t] / speedOfLight, subcarriers: s,
                                              spacingHz: c.subcarrierSpacingHz)
            y.data.withUnsafeMutableBufferPointer { p in
                for col in 0..<s {
                    let cs = amp * x[col] * rho[col]
                    for i in 0..<k { p[i + col * k] += a[i] * cs }
                }
            }
        }
        // Reciprocal filtering: divide column s by x_s (QPSK never vanishes).
        y = try reciprocalFilter(received: y, transmitted: x)
        func beamGain(_ angle: Double) -> CDouble {
            let ac = Steering.linear(g, angleRad: angle, wavelengthMeters: lam)
            var gain = CDouble.zero
            for i in 0..<k { gain += f[i] * ac[i] }
            return gain
        }
        let kappa: [CDouble]
        if d.commPaths.isEmpty {
            let gain = beamGain(d.commAngleRad)
            kappa = try RayleighChannel(taps: d.taps).frequencyResponse(subcarriers: s, unitary: true).map { $0 * gain }
        } else {
            // κ_s = Σ_p ψ_p (fᵀa(θ_p)) e^{−j2π s Δf τ_p}
            var acc = [CDouble](repeating: .zero, count: s)
            for p in d.commPaths {
                let amp = p.gain * beamGain(p.angleRad)
                let rho = Steering.delay(delaySeconds: p.delaySeconds, subcarriers: s, spacingHz: c.subcarrierSpacingHz)
                for j in 0..<s { acc[j] += amp * rho[j] }
            }
            kappa = acc
        }
        let yc = (0..<s).map { x[$0] * kappa[$0] + d.commNoise[$0] }
        return SceneObservation(sensing: y, comm: yc, csi: kappa)
    }

    /// ML symbol decisions (eq. 15) and their error count against the sent messages.
    public static func decode(_ o: SceneObservation, sent: [Int]) -> (decided: [Int], errors: Int) {
        let m = zip(o.comm, o.csi).map { QPSK.demodulateIndex($0, channel: $1) }
        return (m, zip(m, sent).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) })
    }
}
