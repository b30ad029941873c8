import Foundation
import Linalg
import Numerics
import Metrics

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
    /// W, sensing noise, [K × S] i.i.d. CN(0, N0).
    public var sensingNoise: Matrix<CDouble>
    /// n, communication noise, [S] i.i.d. CN(0, N0).
    public var commNoise: [CDouble]

    public var targetCount: Int { anglesRad.count }
    /// True positions p_t = R_t [cos θ_t, sin θ_t] (eq. 2), metres.
    public var positions: [Position2] { zip(rangesMeters, anglesRad).map { Position2($0 * Double.cos($1), $0 * Double.sin($1)) } }
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
    public let config: MultiTargetConfig
    /// The *true* array (what the physics sees).
    public let trueArray: ArrayImpairment

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
        let g = (0..<t).map { _ in rng.complexGaussian(variance: c.targetGainVariance) }
        let msg = (0..<c.subcarriers).map { _ in rng.integer(in: 0...3) }
        let phi = rng.uniform(c.commSector.lowerRad, c.commSector.upperRad)
        // Σσ_l² = S·SNR_c·N0 with the unitary DFT ⇒ E|β_s|² = SNR_c·N0 (paper's SNR_c definition).
        let prof = MultipathChannel.exponentialProfile(taps: c.channelTaps,
                                                       totalPower: Double(c.subcarriers) * pow(10, c.commSNRdB / 10) * c.noisePower)
        let taps = prof.map { rng.complexGaussian(variance: $0) }
        let w = rng.complexGaussianMatrix(rows: c.antennas, cols: c.subcarriers, variance: c.noisePower)
        let n = rng.complexGaussianVector(c.subcarriers, variance: c.noisePower)
        return SceneDraw(sector: sector, anglesRad: ang, rangesMeters: rng_, gains: g, messages: msg,
                         commAngleRad: phi, taps: taps, sensingNoise: w, commNoise: n)
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
            let a = ULASteering.vector(g, angleRad: d.anglesRad[t], wavelengthMeters: lam)
            // ψ_t (aᵀf)/√S a [x ⊙ ρ(τ_t)]ᵀ
            var atf = CDouble.zero
            for i in 0..<k { atf += a[i] * f[i] }
            let amp = d.gains[t] * atf * CDouble(invSqrtS, 0)
            let rho = ULASteering.delayVector(delaySeconds: 2 * d.rangesMeters[t] / speedOfLightMT, subcarriers: s,
                                              spacingHz: c.subcarrierSpacingHz)
            y.data.withUnsafeMutableBufferPointer { p in
                for col in 0..<s {
                    let cs = amp * x[col] * rho[col]
                    for i in 0..<k { p[i + col * k] += a[i] * cs }
                }
            }
        }
        // Reciprocal filtering: divide column s by x_s (QPSK never vanishes).
        y.data.withUnsafeMutableBufferPointer { p in
            for col in 0..<s {
                let inv = CDouble.one / x[col]
                for i in 0..<k { p[i + col * k] *= inv }
            }
        }
        let ac = ULASteering.vector(g, angleRad: d.commAngleRad, wavelengthMeters: lam)
        var gain = CDouble.zero
        for i in 0..<k { gain += f[i] * ac[i] }
        let beta = MultipathChannel.frequencyResponse(taps: d.taps, subcarriers: s)
        let kappa = beta.map { $0 * gain }
        let yc = (0..<s).map { x[$0] * kappa[$0] + d.commNoise[$0] }
        return SceneObservation(sensing: y, comm: yc, csi: kappa)
    }

    /// ML symbol decisions (eq. 15) and their error count against the sent messages.
    public static func decode(_ o: SceneObservation, sent: [Int]) -> (decided: [Int], errors: Int) {
        let m = zip(o.comm, o.csi).map { QPSK.detect($0, csi: $1) }
        return (m, zip(m, sent).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) })
    }
}
