import Foundation
import Linalg
import Arrays

/// Degrees → radians.
@inlinable public func radians(_ deg: Double) -> Double { deg * .pi / 180 }
/// Radians → degrees.
@inlinable public func degrees(_ rad: Double) -> Double { rad * 180 / .pi }

/// A closed angular interval [lower, upper] in radians, measured from array broadside.
public struct AngularSector: Sendable, Equatable {
    public var lowerRad: Double
    public var upperRad: Double
    /// Validates −π/2 ≤ lower < upper ≤ π/2; `name` is the CLI flag reported on error.
    public init(lowerRad: Double, upperRad: Double, name: String = "sector") throws {
        guard lowerRad.isFinite, upperRad.isFinite, lowerRad < upperRad else {
            throw ISACError.invalidParameter(name: name, value: "[\(degrees(lowerRad))°, \(degrees(upperRad))°]",
                                             valid: "must be a non-empty interval lower < upper (degrees)")
        }
        guard lowerRad >= -Double.pi / 2 - 1e-12, upperRad <= Double.pi / 2 + 1e-12 else {
            throw ISACError.invalidParameter(name: name, value: "[\(degrees(lowerRad))°, \(degrees(upperRad))°]",
                                             valid: "must lie within [-90°, 90°]")
        }
        self.lowerRad = lowerRad; self.upperRad = upperRad
    }
    /// Builds from degrees.
    public init(lowerDeg: Double, upperDeg: Double, name: String = "sector") throws {
        try self.init(lowerRad: radians(lowerDeg), upperRad: radians(upperDeg), name: name)
    }
    public func contains(_ th: Double) -> Bool { th >= lowerRad && th <= upperRad }
    public var widthRad: Double { upperRad - lowerRad }
}

/// How the target sector {θ_min, θ_max} is chosen per transmission.
public enum TargetSectorPrior: Sendable, Equatable {
    /// The same sector for every sample (paper test setting: [−40°, −20°]).
    case fixed(AngularSector)
    /// Paper training setting: θ_mean ~ U[meanLo, meanHi], Δ ~ U[spanLo, spanHi] (radians),
    /// θ_min/max = θ_mean ∓ Δ/2.
    case random(meanLowRad: Double, meanHighRad: Double, spanLowRad: Double, spanHighRad: Double)
}

/// What the transmitter and receiver know about the antenna-spacing impairments.
public enum ImpairmentMode: String, Sendable, CaseIterable {
    /// The true array is the nominal λ/2 ULA.
    case none
    /// True array is perturbed; beamformer and OMP dictionary assume the nominal array (the paper's baseline).
    case unknown
    /// True array is perturbed and the perturbed steering vectors are used everywhere (genie baseline).
    case known
}

/// Parameters of the multi-target OFDM ISAC system (defaults = paper Sec. V-A).
public struct MultiTargetConfig: Sendable, Equatable {
    /// K, ULA elements.
    public var antennas = 64
    /// S, OFDM subcarriers.
    public var subcarriers = 256
    /// Δ_f, subcarrier spacing, Hz.
    public var subcarrierSpacingHz = 120e3
    /// f_c, carrier, Hz.
    public var carrierHz = 60e9
    /// T_max, maximum number of targets (also the OMP iteration cap).
    public var maxTargets = 5
    /// P, transmit power (‖f‖² = P).
    public var power = 1.0
    /// SNR_r = K σ_r² / N0, dB.
    public var sensingSNRdB = 15.0
    /// SNR_c = Σ σ_l² / (S N0), dB (average per-subcarrier SNR before beamforming gain).
    public var commSNRdB = 20.0
    /// L, channel taps with σ_l² ∝ exp(−l).
    public var channelTaps = 5
    /// N_θ, angle grid points (beamformer grid over [−90°, 90°] and OMP angle dictionary over the target sector).
    public var angleGridSize = 720
    /// N_τ, delay grid points over [2R_min/c, 2R_max/c].
    public var delayGridSize = 200
    /// Target sector prior.
    public var targetSector: TargetSectorPrior = .fixed(try! AngularSector(lowerDeg: -40, upperDeg: -20))
    /// Communication sector {φ_min, φ_max}.
    public var commSector = try! AngularSector(lowerDeg: 30, upperDeg: 50)
    /// R_min, R_max in metres.
    public var rangeMinMeters = 10.0
    public var rangeMaxMeters = 190.0
    /// σ_λ, standard deviation of the element spacings d_k ~ N(λ/2, σ_λ²), metres. Default λ/25.
    public var spacingStdMeters: Double
    /// How d maps to element positions (see `ArrayImpairment.SpacingModel`).
    public var spacingModel: ArrayImpairment.SpacingModel = .cumulative
    /// N0, receiver noise power per entry (sensing and communication). Only ratios matter.
    public var noisePower = 1.0
    /// OMP angle dictionary: sector-limited (paper baseline, Fig. 7 discussion) or the full [−90°, 90°] grid.
    public var ompAngleDictionaryCoversSector = true

    public init() { spacingStdMeters = speedOfLight / 60e9 / 25 }

    /// λ = c/f_c, metres.
    public var wavelengthMeters: Double { speedOfLight / carrierHz }
    /// σ_r² = SNR_r N0 / K.
    public var targetGainVariance: Double { pow(10, sensingSNRdB / 10) * noisePower / Double(antennas) }
    /// Range resolution c/(2 S Δ_f), metres (eq. 16).
    public var rangeResolutionMeters: Double { speedOfLight / (2 * Double(subcarriers) * subcarrierSpacingHz) }

    /// Throws `ISACError.invalidParameter` naming the CLI flag for any out-of-range field.
    public func validate() throws {
        try Check.positive(antennas, "--antennas")
        try Check.positive(subcarriers, "--subcarriers")
        try Check.positive(subcarrierSpacingHz, "--subcarrier-spacing-hz")
        try Check.positive(carrierHz, "--carrier-hz")
        try Check.nonNegative(maxTargets, "--targets-max")
        try Check.positive(power, "--power")
        try Check.finite(sensingSNRdB, "--snr-r-db")
        try Check.finite(commSNRdB, "--snr-c-db")
        try Check.positive(channelTaps, "--taps")
        guard channelTaps <= subcarriers else {
            throw ISACError.invalidParameter(name: "--taps", value: "\(channelTaps)", valid: "must be <= --subcarriers (\(subcarriers))")
        }
        try Check.inRange(angleGridSize, 2, 1_000_000, "--n-theta")
        try Check.inRange(delayGridSize, 2, 1_000_000, "--n-tau")
        guard rangeMinMeters.isFinite, rangeMaxMeters.isFinite, rangeMinMeters >= 0, rangeMinMeters < rangeMaxMeters else {
            throw ISACError.invalidParameter(name: "--range-min/--range-max", value: "[\(rangeMinMeters), \(rangeMaxMeters)]",
                                             valid: "need 0 <= range-min < range-max (metres)")
        }
        guard spacingStdMeters.isFinite, spacingStdMeters >= 0 else {
            throw ISACError.invalidParameter(name: "--spacing-std-mm", value: "\(spacingStdMeters * 1e3)", valid: "must be finite and >= 0")
        }
        try Check.positive(noisePower, "noisePower")
        if case let .random(ml, mh, sl, sh) = targetSector {
            guard ml <= mh, sl > 0, sl <= sh, ml - sh / 2 >= -Double.pi / 2, mh + sh / 2 <= Double.pi / 2 else {
                throw ISACError.invalidParameter(name: "targetSector", value: "random mean [\(degrees(ml)), \(degrees(mh))]°, span [\(degrees(sl)), \(degrees(sh))]°",
                                                 valid: "need mean-lo <= mean-hi, 0 < span-lo <= span-hi, and every sector inside [-90°, 90°]")
            }
        }
    }
}
