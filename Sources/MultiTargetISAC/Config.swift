import Foundation
import Linalg
import Arrays
import Metrics

/// Degrees → radians.
@inlinable public func radians(_ deg: Double) -> Double { deg * .pi / 180 }
/// Radians → degrees.
@inlinable public func degrees(_ rad: Double) -> Double { rad * 180 / .pi }

/// A closed angular interval [lower, upper] in radians, measured from array broadside.
public struct AngularSector: Sendable, Equatable {
    /// Lower edge of the sector, rad.
    public var lowerRad: Double
    /// Upper edge of the sector, rad.
    public var upperRad: Double
    /// Validates −π/2 ≤ lower < upper ≤ π/2; `name` is the CLI flag reported on error.
    public init(lowerRad: Double, upperRad: Double, name: String = "sector") throws {
        guard lowerRad.isFinite, upperRad.isFinite, lowerRad < upperRad else {
            throw ISACError.invalidParameter(name: name, value: Self.text(lowerRad, upperRad),
                                             valid: "must be a non-empty interval lower < upper (degrees)")
        }
        guard lowerRad >= -Double.pi / 2 - 1e-12, upperRad <= Double.pi / 2 + 1e-12 else {
            throw ISACError.invalidParameter(name: name, value: Self.text(lowerRad, upperRad),
                                             valid: "must lie within [-90°, 90°]")
        }
        self.lowerRad = lowerRad; self.upperRad = upperRad
    }
    /// Builds from degrees.
    public init(lowerDeg: Double, upperDeg: Double, name: String = "sector") throws {
        try self.init(lowerRad: radians(lowerDeg), upperRad: radians(upperDeg), name: name)
    }
    /// "[lo°, hi°]" with 6 significant digits (error messages).
    static func text(_ lo: Double, _ hi: Double) -> String { String(format: "[%.6g°, %.6g°]", degrees(lo), degrees(hi)) }
    /// Whether angle `th` (rad) lies in [lower, upper], edges included.
    public func contains(_ th: Double) -> Bool { th >= lowerRad && th <= upperRad }
    /// Sector width upper − lower, rad.
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

/// How the complex target gains ψ_t of the sensing channel are drawn.
public enum RadarGainModel: String, Sendable, Equatable, CaseIterable, Codable {
    /// ψ_t ~ CN(0, σ_r²) with σ_r² = SNR_r N0 / K for every target, whatever its range (paper Sec. V-A).
    case fixedSNR = "fixed-snr"
    /// Radar equation with a Swerling-1 (exponential) RCS, as the official code: |ψ_t|² = σ λ² P / ((4π)³ R_t⁴)
    /// per entry of the un-normalised model, σ ~ Exp(mean RCS), uniform phase — i.e. ψ_t ~ CN(0, ·) — relative to
    /// the receiver noise k T F S Δf (see `LinkBudget`).
    case linkBudget = "link-budget"
}

/// How the communication channel β ∈ ℂ^S is drawn.
public enum CommChannelModel: String, Sendable, Equatable, CaseIterable, Codable {
    /// L-tap Rayleigh channel, σ_l² ∝ e^{−l}, Σσ_l² = S SNR_c N0 (paper Sec. V-A); UE angle φ ~ U(comm sector).
    case rayleigh
    /// Geometric LOS + NLOS channel of the official code: P ~ U{1..P_max} paths, path 0 is the LOS path (UE at
    /// angle φ ~ U(comm sector), range R ~ U[R_c,min, R_c,max], amplitude λ/(4πR)), the others single-bounce
    /// scatterers (angle ~ U(comm sector) at least 0.1° from the LOS, Tx–scatterer distance bounded so that the
    /// excess path stays within the cyclic prefix, Swerling-1 RCS, amplitude √σ λ/((4π)^{3/2} R_ts R_sr)).
    case losNLOS = "los-nlos"
}

/// Where the detection threshold δ is calibrated to the target p_fa.
public enum CalibrationProtocol: String, Sendable, Equatable, CaseIterable, Codable {
    /// On separate calibration draws (streams 2³² + i); metrics on fresh test draws (default, unbiased p_fa).
    case outOfSample = "out-of-sample"
    /// On the test draws themselves, as the official code (its p_fa is then the target by construction).
    case testSet = "test-set"
}

/// Physical link budget of the official code (radar equation, thermal noise over the occupied band).
public struct LinkBudget: Sendable, Equatable, Codable {
    /// F, receiver noise figure, dB (official code: 8 dB).
    public var noiseFigureDB = 8.0
    /// T, system temperature, K (official code: 290 K).
    public var temperatureK = 290.0
    /// Mean radar cross section of the Swerling-1 targets (and NLOS scatterers), m² (official code: 1 m²).
    public var meanRCSm2 = 1.0
    /// Boltzmann constant, J/K (CODATA exact value; the official code uses 1.38e-23, 0.05 % lower).
    public static let boltzmannJPerK = 1.380649e-23
    /// Link budget with the defaults above.
    public init() {}

    /// σ_n² = k T 10^{F/10} S Δf, the noise power per received entry, W.
    public func noiseVarianceW(subcarriers: Int, subcarrierSpacingHz: Double) -> Double {
        Self.boltzmannJPerK * temperatureK * pow(10, noiseFigureDB / 10) * Double(subcarriers) * subcarrierSpacingHz
    }
}

/// Physically justified bounds of the multi-target parameters (docs/multitarget.md, "Parameter ranges"). Every bound
/// is far outside the paper's and the official code's settings; values beyond it describe no radio system this model
/// (far-field ULA, OFDM, thermal noise) is valid for, and would only make a run meaningless or endless. All checks throw
/// `ISACError.invalidParameter` naming the CLI flag, so library users get the same messages as the CLI.
public enum MultiTargetLimits {
    /// f_c ∈ [1 MHz, 300 GHz]: radio bands up to the end of EHF (mmWave); above it the THz band's molecular absorption,
    /// which the model lacks, dominates.
    public static let carrierHz: ClosedRange<Double> = 1e6...3e11
    /// P ∈ (0, 1 MW]: the peak power of the largest radars.
    public static let maxPowerW = 1e6
    /// SNR_r, SNR_c ∈ [−100, 100] dB: no receiver has more than 100 dB of dynamic range either way.
    public static let snrDB: ClosedRange<Double> = -100...100
    /// F ∈ [0, 40] dB: a noise factor is ≥ 1 (0 dB); 40 dB is worse than any usable receiver.
    public static let noiseFigureDB: ClosedRange<Double> = 0...40
    /// T ∈ (0, 10⁴ K]: cryogenic to hot-sky system temperatures.
    public static let maxTemperatureK = 1e4
    /// Mean RCS ∈ (0, 10⁶ m²]: a large ship is ≈ 10⁴–10⁶ m².
    public static let maxRCSm2 = 1e6
    /// UE / scatterer ranges ≤ 100 km: beyond the radio horizon of any ground ISAC link.
    public static let maxCommRangeMeters = 1e5
    /// σ_λ ≤ λ/4: with d_k ~ N(λ/2, σ_λ²) the element order (d_k > 0) then still holds at 2σ; the paper uses λ/25,
    /// the official code λ/15.
    public static let maxSpacingStdWavelengths = 0.25
    /// GOSPA order p ∈ [1, 10]: p ≥ 1 for a metric; c^p stays finite for every admissible c (≤ 2 R_max).
    public static let gospaOrder: ClosedRange<Double> = 1...10
    /// Inter-beam phase φ ∈ [−360°, 360°] (it is 2π-periodic).
    public static let maxPhaseDeg = 360.0
    /// Differentiable-OMP softmax temperature ∈ (0, 10] relative to the peak (above ≈ 1 the softmax is already flat).
    public static let maxDOMPTemperature = 10.0
    /// Differentiable-OMP window ∈ (0, 100] resolution cells of eq. (16).
    public static let maxDOMPWindowScale = 100.0
    /// Monte-Carlo sample counts ≤ 10⁸ per flag (p_fa resolution 10⁻⁸; 10⁴× the paper's test sets).
    public static let maxSamples = 100_000_000
    /// Training steps ≤ 10⁷ (100× the paper's NNBL schedule).
    public static let maxTrainingSteps = 10_000_000
    /// Training batch ≤ 10⁶ (and within memory, see `MTTrain`).
    public static let maxBatch = 1_000_000
    /// Adam learning rates ∈ (0, 1]: a step ≥ 1 (metres, or unit-modulus dictionary entries) diverges at once.
    public static let maxLearningRate = 1.0
    /// NNBL angle–delay map sides ≤ 4096 (the paper's map is 320 × 128).
    public static let maxNNBLMapSide = 4096
    /// NNBL range-head bias |b| ≤ 100, i.e. an initial range offset within ±10 km (R = 100 m · ReLU(· + b)).
    public static let maxRangeBiasInit = 100.0

    /// `value` ∈ [lo, hi] (finite), else an error naming `name` with the range, its unit and why.
    public static func check(_ value: Double, in r: ClosedRange<Double>, _ name: String, unit: String, why: String) throws {
        guard value.isFinite, r.contains(value) else {
            throw ISACError.invalidParameter(name: name, value: "\(value)", valid: "must lie in [\(r.lowerBound), \(r.upperBound)]\(unit.isEmpty ? "" : " " + unit) (\(why))")
        }
    }
    /// `value` ∈ (0, hi] (finite).
    public static func checkPositive(_ value: Double, upTo hi: Double, _ name: String, unit: String, why: String) throws {
        guard value.isFinite, value > 0, value <= hi else {
            throw ISACError.invalidParameter(name: name, value: "\(value)", valid: "must lie in (0, \(hi)]\(unit.isEmpty ? "" : " " + unit) (\(why))")
        }
    }
    /// A Monte-Carlo sample count `n` ∈ [1 (0 with `allowZero`), `maxSamples`].
    public static func checkSamples(_ n: Int, _ flag: String, allowZero: Bool = false) throws {
        try Check.inRange(n, allowZero ? 0 : 1, maxSamples, flag)
    }
    /// The operating point: η ∈ [0, 1], φ ∈ [−360°, 360°] (`--eta`, `--phi`, degrees).
    public static func checkOperatingPoint(eta: Double, phiDeg: Double) throws {
        try Check.inRange(eta, 0, 1, "--eta")
        try check(phiDeg, in: -maxPhaseDeg...maxPhaseDeg, "--phi", unit: "degrees", why: "phi is 2 pi-periodic")
    }
    /// Differentiable-OMP settings (`--temperature`, `--window-scale`).
    public static func checkDOMP(temperature: Double, windowScale: Double) throws {
        try checkPositive(temperature, upTo: maxDOMPTemperature, "--temperature", unit: "(relative to the peak)", why: "above 1 the softmax is already flat")
        try checkPositive(windowScale, upTo: maxDOMPWindowScale, "--window-scale", unit: "resolution cells", why: "eq. (16) window")
    }
    /// Training schedule overrides (`--steps`, `--batch`, `--lr` and the NNBL step-2 ones); nil = not given.
    public static func checkTraining(steps: Int?, stepsFlag: String = "--steps", allowZeroSteps: Bool = false, batch: Int? = nil,
                                     learningRate: Double? = nil, lrFlag: String = "--lr") throws {
        if let s = steps { try Check.inRange(s, allowZeroSteps ? 0 : 1, maxTrainingSteps, stepsFlag) }
        if let b = batch { try Check.inRange(b, 1, maxBatch, "--batch") }
        if let l = learningRate { try checkPositive(l, upTo: maxLearningRate, lrFlag, unit: "", why: "Adam steps >= 1 diverge") }
    }
    /// The entries of a `--checkpoint` comma list; an empty list or an empty entry is an error.
    public static func checkpointPaths(_ list: String, flag: String = "--checkpoint") throws -> [String] {
        let parts = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.contains(where: \.isEmpty) else {
            throw ISACError.invalidParameter(name: flag, value: "\"\(list)\"", valid: "must be a .npz path or a comma list of paths, none empty")
        }
        return parts
    }
}

/// Named system settings (`--preset`): each is a complete `MultiTargetConfig`.
public enum MultiTargetPreset: String, Sendable, CaseIterable, Codable {
    /// The paper's Sec. V-A setting (`MultiTargetConfig.paper`).
    case paper
    /// The defaults of the authors' official code (`MultiTargetConfig.officialCode`).
    case officialCode = "official-code"
    /// The configuration this preset names.
    public var config: MultiTargetConfig { self == .paper ? .paper : .officialCode }
}

/// Parameters of the multi-target OFDM ISAC system (defaults = paper Sec. V-A; `officialCode` = the authors'
/// repository defaults; docs/multitarget.md lists every difference).
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
    /// Radar gain model (`--radar-gain`); `fixedSNR` uses `sensingSNRdB`, `linkBudget` uses `linkBudget` and `power` (W).
    public var radarGainModel: RadarGainModel = .fixedSNR
    /// Link-budget constants (used by `radarGainModel == .linkBudget` and `commChannelModel == .losNLOS`).
    public var linkBudget = LinkBudget()
    /// Communication channel model (`--comm-channel`); `rayleigh` uses `commSNRdB` and `channelTaps`.
    public var commChannelModel: CommChannelModel = .rayleigh
    /// P_max, maximum number of LOS + NLOS paths (`losNLOS` only; official code: 6).
    public var maxCommPaths = 6
    /// UE / scatterer range interval of the LOS/NLOS channel, metres (official code: [10, 200] m).
    public var commRangeMinMeters = 10.0
    public var commRangeMaxMeters = 200.0
    /// Cyclic prefix as a fraction of the OFDM symbol 1/Δf (official code: 0.07); bounds the NLOS excess path.
    public var cyclicPrefixFraction = 0.07
    /// The true element positions x_k (metres, increasing), e.g. a measured array (`--array-positions`); nil draws
    /// one realization from `spacingStdMeters`/`spacingModel` and `--impairment-seed`.
    public var trueArrayPositionsMeters: [Double]? = nil
    /// GOSPA cut-off γ, metres; nil = (R_max − R_min)/2 (`--gospa-cutoff`).
    public var gospaCutoffMeters: Double? = nil
    /// Threshold calibration protocol (`--calibration`).
    public var calibration: CalibrationProtocol = .outOfSample
    /// How the baseline OMP's detections are read off its peaks (`--detection-rule`; learned receivers always
    /// use `firstBelow`).
    public var detectionRule: DetectionRule = .firstBelow

    /// The property defaults above, with the element-spacing std set to λ/25 at 60 GHz (0.2 mm), in meters.
    public init() { spacingStdMeters = speedOfLight / 60e9 / 25 }

    /// The paper's Sec. V-A setting (= `init()`).
    public static var paper: MultiTargetConfig { MultiTargetConfig() }

    /// The defaults of the authors' official code (github.com/josemateosramos/MBE2EMTISAC, lib/simulation_parameters.py,
    /// methods/isac_baseline.py), read from that code: Δf = 240 kHz, R ∈ [10, 43.75] m, link-budget radar gain
    /// (P = 1 W, F = 8 dB, T = 290 K, mean RCS 1 m²), LOS/NLOS comm channel with 1–6 paths over [10, 200] m and a 7 %
    /// cyclic prefix, comm sector [40°, 60°], GOSPA γ = R_max − R_min = 33.75 m, p_fa calibrated on the test set,
    /// and spacing std λ/15 for its (commented-out) random array generator. Its true array is one fixed realization
    /// in that file: pass it with `trueArrayPositionsMeters` (`--array-positions`, see docs/multitarget.md).
    public static var officialCode: MultiTargetConfig {
        var c = MultiTargetConfig()
        c.subcarrierSpacingHz = 240e3
        c.rangeMinMeters = 10; c.rangeMaxMeters = 43.75
        c.radarGainModel = .linkBudget
        c.commChannelModel = .losNLOS
        c.commSector = try! AngularSector(lowerDeg: 40, upperDeg: 60)
        c.spacingStdMeters = c.wavelengthMeters / 15
        c.gospaCutoffMeters = 43.75 - 10
        c.calibration = .testSet
        c.detectionRule = .allAbove
        return c
    }

    /// γ of the GOSPA metric, metres (`gospaCutoffMeters` or (R_max − R_min)/2).
    public var effectiveGOSPACutoffMeters: Double { gospaCutoffMeters ?? (rangeMaxMeters - rangeMinMeters) / 2 }

    /// The GOSPA metric of this system: γ = `effectiveGOSPACutoffMeters`, μ ∈ (0, 2] (`--gospa-mu`), order
    /// p ∈ [1, 10] (`--gospa-p`, `MultiTargetLimits.gospaOrder`).
    public func gospa(mu: Double = 2, order: Double = 2) throws -> GOSPA {
        try MultiTargetLimits.check(order, in: MultiTargetLimits.gospaOrder, "--gospa-p", unit: "", why: "c^p must stay finite")
        return try GOSPA(cutoff: effectiveGOSPACutoffMeters, mu: mu, order: order)
    }

    /// σ_n² of the link budget, W (`LinkBudget.noiseVarianceW` at this S and Δf).
    public var linkBudgetNoiseVarianceW: Double {
        linkBudget.noiseVarianceW(subcarriers: subcarriers, subcarrierSpacingHz: subcarrierSpacingHz)
    }

    /// E|ψ|² of a target at range R in the normalised model Ỹ = ψ (aᵀf)/√S a[x ⊙ ρ]ᵀ + W, W ~ CN(0, N0):
    /// fixed SNR: σ_r² = SNR_r N0/K (range-independent); link budget: the official code's per-entry amplitude
    /// √(σ λ²/((4π)³R⁴)) with ‖f‖² = P watts, times √S (our 1/√S normalisation), relative to σ_n²:
    /// E|ψ|² = S P σ̄ λ² / ((4π)³ R⁴ σ_n²) · N0 (‖f‖² = P is applied by the precoder, so P enters here as 1).
    public func targetGainVariance(rangeMeters r: Double) -> Double {
        switch radarGainModel {
        case .fixedSNR: return targetGainVariance
        case .linkBudget:
            let lam = wavelengthMeters
            return Double(subcarriers) * linkBudget.meanRCSm2 * lam * lam / (pow(4 * Double.pi, 3) * pow(r, 4))
                / linkBudgetNoiseVarianceW * noisePower
        }
    }

    /// Maximum unambiguous range c/(2Δf) of the OFDM radar (delay 2R/c below one symbol 1/Δf), metres.
    public var unambiguousRangeMeters: Double { speedOfLight / (2 * subcarrierSpacingHz) }

    /// Rough heap footprint of one run, bytes, per named input, so absurd sizes fail up front with the flag named
    /// instead of aborting on allocation: shared beam grid and dictionaries (16 B per complex), and per worker
    /// thread the scene (noise K×S, Ỹ), the complex OMP maps C(Ỹ) and C(R) (2 × N_θ×N_τ) and the LS atoms (K S T_max).
    public func memoryEstimate(samples: Int, threads: Int, samplesFlag: String = "--samples") -> [(flag: String, bytes: Double)] {
        let k = Double(antennas), s = Double(subcarriers), nt = Double(angleGridSize), nd = Double(delayGridSize)
        let t = Double(max(threads, 1)), tm = Double(maxTargets)
        return [
            ("--n-theta", 16 * (4 * k * nt) + t * 32 * nt * nd),
            ("--n-tau", 16 * s * nd),
            ("--antennas/--subcarriers", t * 16 * (3 * k * s)),
            ("--targets-max", t * 16 * k * s * tm + Double(samples) * 48 * tm),
            (samplesFlag, Double(samples) * 400),
        ]
    }

    /// Memory this process may use: `MemAvailable` of /proc/meminfo where readable, capped at 80 % of physical memory.
    public static func availableMemoryBytes() -> Double {
        let phys = 0.8 * Double(ProcessInfo.processInfo.physicalMemory)
        guard let txt = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = txt.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return phys }
        return min(phys, kb * 1024)
    }

    /// Throws `ISACError.invalidParameter` naming the largest contributor when `memoryEstimate` exceeds
    /// `limitBytes` (default: `availableMemoryBytes()`).
    /// `samplesFlag` is the flag blamed for the per-sample part (`--samples`, `--test-samples`, …).
    public func checkMemory(samples: Int, samplesFlag: String = "--samples", threads: Int = ThreadCount.count,
                            limitBytes: Double = MultiTargetConfig.availableMemoryBytes()) throws {
        let parts = memoryEstimate(samples: samples, threads: threads, samplesFlag: samplesFlag)
        let total = parts.reduce(0) { $0 + $1.bytes }
        guard total.isFinite, total <= limitBytes else {
            let big = parts.max { $0.bytes < $1.bytes }!
            throw ISACError.invalidParameter(name: big.flag, value: "(needs ≈ \(String(format: "%.3g", total / 1e9)) GB)",
                                             valid: "the run must fit in memory (limit \(String(format: "%.3g", limitBytes / 1e9)) GB); reduce \(big.flag)")
        }
    }

    /// λ = c/f_c, metres.
    public var wavelengthMeters: Double { speedOfLight / carrierHz }
    /// σ_r² = SNR_r N0 / K.
    public var targetGainVariance: Double { pow(10, sensingSNRdB / 10) * noisePower / Double(antennas) }
    /// Range resolution c/(2 S Δ_f), metres (eq. 16).
    public var rangeResolutionMeters: Double { speedOfLight / (2 * Double(subcarriers) * subcarrierSpacingHz) }

    /// Throws `ISACError.invalidParameter` naming the CLI flag for any out-of-range field.
    public func validate() throws {
        try Check.inRange(antennas, 1, 1 << 20, "--antennas")
        try Check.inRange(subcarriers, 1, 1 << 20, "--subcarriers")
        try Check.positive(subcarrierSpacingHz, "--subcarrier-spacing-hz")
        try MultiTargetLimits.check(carrierHz, in: MultiTargetLimits.carrierHz, "--carrier-hz", unit: "Hz",
                                    why: "radio bands up to the end of EHF; the model has no THz absorption")
        try Check.positive(maxTargets, "--targets-max")
        // T_max LS atoms of length K S; more targets than entries cannot be resolved (and would only exhaust memory).
        try Check.inRange(maxTargets, 1, min(antennas * subcarriers, 10_000), "--targets-max")
        try MultiTargetLimits.checkPositive(power, upTo: MultiTargetLimits.maxPowerW, "--power-w", unit: "W", why: "1 MW is the peak power of the largest radars")
        try MultiTargetLimits.check(sensingSNRdB, in: MultiTargetLimits.snrDB, "--snr-r-db", unit: "dB", why: "beyond any receiver's dynamic range")
        try MultiTargetLimits.check(commSNRdB, in: MultiTargetLimits.snrDB, "--snr-c-db", unit: "dB", why: "beyond any receiver's dynamic range")
        try Check.positive(channelTaps, "--taps")
        guard channelTaps <= subcarriers else {
            throw ISACError.invalidParameter(name: "--taps", value: "\(channelTaps)", valid: "must be <= --subcarriers (\(subcarriers))")
        }
        try Check.inRange(angleGridSize, 2, 1_000_000, "--n-theta")
        try Check.inRange(delayGridSize, 2, 1_000_000, "--n-tau")
        // R_min > 0: a target at the array is in no far field (and the link budget's R⁻⁴ diverges there).
        guard rangeMinMeters.isFinite, rangeMinMeters > 0 else {
            throw ISACError.invalidParameter(name: "--range-min", value: "\(rangeMinMeters)", valid: "must be a finite number > 0 (metres; far-field targets)")
        }
        guard rangeMaxMeters.isFinite, rangeMinMeters < rangeMaxMeters else {
            throw ISACError.invalidParameter(name: "--range-min/--range-max", value: "[\(rangeMinMeters), \(rangeMaxMeters)]",
                                             valid: "need 0 < range-min < range-max (metres)")
        }
        guard rangeMaxMeters < unambiguousRangeMeters else {
            throw ISACError.invalidParameter(name: "--subcarrier-spacing-hz", value: "\(subcarrierSpacingHz)",
                valid: "the unambiguous range c/(2 Δf) = \(String(format: "%.4g", unambiguousRangeMeters)) m must exceed --range-max (\(rangeMaxMeters) m)")
        }
        for (sec, name) in [(commSector, "--comm-min/--comm-max")] + {
            if case let .fixed(t) = targetSector { return [(t, "--sector-min/--sector-max")] } else { return [] } }() {
            guard sec.lowerRad > -Double.pi / 2, sec.upperRad < Double.pi / 2 else {
                throw ISACError.invalidParameter(name: name, value: AngularSector.text(sec.lowerRad, sec.upperRad),
                                                 valid: "must lie strictly inside (-90°, 90°)")
            }
        }
        try MultiTargetLimits.checkPositive(linkBudget.temperatureK, upTo: MultiTargetLimits.maxTemperatureK, "--noise-temperature-k", unit: "K",
                                            why: "cryogenic to hot-sky system temperatures")
        try MultiTargetLimits.check(linkBudget.noiseFigureDB, in: MultiTargetLimits.noiseFigureDB, "--noise-figure-db", unit: "dB",
                                    why: "a noise factor is >= 1; 40 dB is no usable receiver")
        try MultiTargetLimits.checkPositive(linkBudget.meanRCSm2, upTo: MultiTargetLimits.maxRCSm2, "--mean-rcs-m2", unit: "m^2",
                                            why: "a large ship is 1e4-1e6 m^2")
        try Check.inRange(maxCommPaths, 1, 1000, "--comm-paths-max")
        guard commRangeMinMeters.isFinite, commRangeMaxMeters.isFinite, commRangeMinMeters > 0, commRangeMinMeters < commRangeMaxMeters else {
            throw ISACError.invalidParameter(name: "--comm-range-min/--comm-range-max", value: "[\(commRangeMinMeters), \(commRangeMaxMeters)]",
                                             valid: "need 0 < comm-range-min < comm-range-max (metres)")
        }
        guard commRangeMaxMeters <= MultiTargetLimits.maxCommRangeMeters else {
            throw ISACError.invalidParameter(name: "--comm-range-max", value: "\(commRangeMaxMeters)",
                                             valid: "must be <= \(MultiTargetLimits.maxCommRangeMeters) m (beyond the radio horizon of a ground link)")
        }
        try Check.inOpenRange(cyclicPrefixFraction, 0, 1, "--cyclic-prefix-fraction")
        if radarGainModel == .linkBudget {
            guard rangeMinMeters > 0 else {
                throw ISACError.invalidParameter(name: "--range-min", value: "\(rangeMinMeters)", valid: "must be > 0 with --radar-gain link-budget (R⁻⁴)")
            }
        }
        if let g = gospaCutoffMeters {
            // No two positions of the scene are farther apart than 2 R_max: a larger γ only rescales the miss penalty.
            try MultiTargetLimits.checkPositive(g, upTo: 2 * rangeMaxMeters, "--gospa-cutoff", unit: "m",
                                                why: "2 R_max bounds every localisation error")
        }
        if let p = trueArrayPositionsMeters {
            guard p.count == antennas else {
                throw ISACError.invalidParameter(name: "--array-positions", value: "\(p.count) positions",
                                                 valid: "must hold K = --antennas = \(antennas) positions")
            }
            guard p.allSatisfy(\.isFinite) else {
                throw ISACError.invalidParameter(name: "--array-positions", value: "non-finite entries", valid: "all positions must be finite (metres)")
            }
            guard zip(p, p.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw ISACError.invalidParameter(name: "--array-positions", value: "unsorted", valid: "positions must be strictly increasing (metres along the array axis)")
            }
        }
        let maxStd = MultiTargetLimits.maxSpacingStdWavelengths * wavelengthMeters
        guard spacingStdMeters.isFinite, spacingStdMeters >= 0, spacingStdMeters <= maxStd else {
            throw ISACError.invalidParameter(name: "--spacing-std-mm", value: "\(spacingStdMeters * 1e3)",
                valid: "must lie in [0, lambda/4 = \(String(format: "%.4g", maxStd * 1e3))] mm (spacings d_k ~ N(lambda/2, sigma^2) stay positive at 2 sigma)")
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
