import Foundation

/// A position in a figure or benchmark summary: range r (m) and angle θ (degrees). JSON keys `range_m`, `angle_deg`.
public struct RangeAngleSummary: Encodable, Sendable, Equatable {
    /// Range r, m.
    public var rangeMeters: Double
    /// Angle θ, degrees.
    public var angleDeg: Double
    enum CodingKeys: String, CodingKey { case rangeMeters = "range_m", angleDeg = "angle_deg" }

    /// A position of `rangeMeters` and `angleDeg`.
    public init(rangeMeters: Double, angleDeg: Double) { self.rangeMeters = rangeMeters; self.angleDeg = angleDeg }
    /// The range and angle of `t`.
    public init(_ t: PolarTarget) { rangeMeters = t.rangeMeters; angleDeg = t.angleDeg }
}

/// One true target of a MUSIC spectrum figure (Figs. 5 and 7) with the spectrum's peak on its range cut and the
/// figure's dB floor.
public struct SpectrumTargetSummary: Encodable, Sendable, Equatable {
    /// True range, m.
    public var trueRangeMeters: Double
    /// True angle, degrees.
    public var trueAngleDeg: Double
    /// Maximum of the spectrum (dB) on the range cut through the true angle.
    public var peakDbOnRangeCut: Double
    /// The dB floor the figure clips to.
    public var floorDb: Double
    enum CodingKeys: String, CodingKey {
        case trueRangeMeters = "true_range_m", trueAngleDeg = "true_angle_deg", peakDbOnRangeCut = "peak_db_on_range_cut"
        case floorDb = "floor_db"
    }
}

/// One dictionary grid of the Table I study: its parameter, size, exact maximum coherence and SOMP NMSE.
public struct GridStudyRow: Encodable, Sendable, Equatable {
    /// Grid name (`hybrid-min`, `uniform`, `polar`, `hybrid`).
    public var grid: String
    /// The grid's parameter as printed (e.g. `Δ = 0.1`).
    public var parameter: String
    /// Atom count.
    public var atoms: Int
    /// Exact maximum mutual coherence of the dictionary.
    public var maxCoherence: Double
    /// NMSE of the trials, dB (NaN, printed as `null`, for an empty grid).
    public var nmseDb: Double
    enum CodingKeys: String, CodingKey { case grid, parameter, atoms, maxCoherence = "max_coherence", nmseDb = "nmse_db" }
}

/// A figure-level value that is one number in one figure and a series in another (`snr_db`: Fig. 8's SNR,
/// the SNR sweep of `fig8snr`).
public enum ScalarOrSeries: Encodable, Sendable, Equatable {
    /// One value.
    case scalar(Double)
    /// A series of values.
    case series([Double])
    /// Encodes the bare number or array.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .scalar(let v): try c.encode(v)
        case .series(let v): try c.encode(v)
        }
    }
}

/// The summary `WidebandFigures.make` returns for one figure (and `isac wideband figure --json` prints): the files
/// written and the figure's key numbers. Each figure sets its own fields; a field that is nil is left out of the
/// JSON. Keys are the snake-case names of the `CodingKeys` (e.g. `success_rate`, `r_nbnf_rho0.9_5mhz_m`).
public struct WidebandFigureSummary: Encodable, Sendable {
    /// Figure name (`fig2` … `fig8`, `fig8snr`, `table1`).
    public var figure: String
    /// Files written, in the order of the figure's panels.
    public var files: [String]
    /// Wall time of the figure, s (set by the CLI).
    public var seconds: Double?
    /// Number of merged shards (set by `isac merge`).
    public var shards: Int?
    /// Fig. 2: ζ_Δ for Δ ∈ {0.5, 0.1, 0.01}, keyed `zeta_0.5`, `zeta_0.1`, `zeta_0.01`.
    public var thresholds: [String: Double]?
    /// Figs. 3, 8: dictionary atom count. Table I: see `budgetAtoms`.
    public var atoms: Int?
    /// Figs. 3, 8: dictionary grid name.
    public var grid: String?
    /// Fig. 3: success-rate trials; Table I: NMSE trials per grid.
    public var trials: Int?
    /// Figs. 3, 8: SOMP band-exclusion radius, grid cells.
    public var exclusionCells: Int?
    /// Fig. 3: trials with every target within one grid cell, and their fraction.
    public var successes: Int?, successRate: Double?
    /// Fig. 3: the same with the comparison exclusion radius `comparisonExclusionCells`.
    public var comparisonExclusionCells: Int?, successesComparison: Int?, successRateComparison: Double?
    /// Fig. 3: the range interval the random targets are drawn from, m ([lower, upper]).
    public var targetRangeMeters: [Double]?
    /// Fig. 4: r_NB-NF at ρ₀ = 0.9 for B = 5 MHz and 100 MHz, m.
    public var rNBNFRho09At5MHzMeters: Double?, rNBNFRho09At100MHzMeters: Double?
    /// Figs. 5, 7: the true targets with the spectrum peak on their range cuts.
    public var targets: [SpectrumTargetSummary]?
    /// Figs. 5, 7: `amplitude` or `power`.
    public var spectrumDbScale: String?
    /// Figs. 5, 7: the spectrum's strongest peaks.
    public var estimated: [RangeAngleSummary]?
    /// Fig. 6: the aperture nearest 1.8 m and r_WB-FF there for ρ₁ = 0.95 and 0.85, m.
    public var apertureNear18Meters: Double?, rWBFFRho095At18Meters: Double?, rWBFFRho085At18Meters: Double?
    /// Figs. 8, fig8snr: trials per point.
    public var trialsPerPoint: Int?
    /// Fig. 8: the SNR (one value); fig8snr: the SNR sweep (a series), dB.
    public var snrDb: ScalarOrSeries?
    /// Figs. 8, fig8snr: pilot snapshots K.
    public var snapshots: Int?
    /// Fig. 8: r_NB-NF and r_WB-FF (ρ = 0.9, θ = 60°), m.
    public var rNBNFMeters: Double?, rWBFFMeters: Double?
    /// Figs. 8, fig8snr: target distances, m.
    public var distancesMeters: [Double]?
    /// Fig. 8: placement → method → NMSE dB per distance; fig8snr: distance → method → NMSE dB per SNR
    /// (methods `cs`, `cs_refined`, `nbnf_music`, `wbff_music`, and `crb`).
    public var nmseDb: [String: [String: [Double]]]?
    /// Table I: the atom budget every grid is sized to.
    public var budgetAtoms: Int?
    /// Table I: one row per grid.
    public var grids: [GridStudyRow]?

    enum CodingKeys: String, CodingKey {
        case figure, files, seconds, shards, thresholds, atoms, grid, trials, exclusionCells = "exclusion_cells"
        case successes, successRate = "success_rate", comparisonExclusionCells = "comparison_exclusion_cells"
        case successesComparison = "successes_comparison", successRateComparison = "success_rate_comparison"
        case targetRangeMeters = "target_range_m"
        case rNBNFRho09At5MHzMeters = "r_nbnf_rho0.9_5mhz_m", rNBNFRho09At100MHzMeters = "r_nbnf_rho0.9_100mhz_m"
        case targets, spectrumDbScale = "spectrum_db_scale", estimated
        case apertureNear18Meters = "aperture_m_near_1.8", rWBFFRho095At18Meters = "r_wbff_rho0.95_at_1.8m"
        case rWBFFRho085At18Meters = "r_wbff_rho0.85_at_1.8m"
        case trialsPerPoint = "trials_per_point", snrDb = "snr_db", snapshots, rNBNFMeters = "r_nbnf_m", rWBFFMeters = "r_wbff_m"
        case distancesMeters = "distances_m", nmseDb = "nmse_db", budgetAtoms = "budget_atoms", grids
    }

    /// A summary of `figure` that names `files` (every other field nil).
    public init(figure: String, files: [String]) { self.figure = figure; self.files = files }

    /// The summary with every file path that starts with `from` moved to start with `to` (a figure written into a
    /// staging folder, reported under its final folder).
    public func relocated(from: String, to: String) -> WidebandFigureSummary {
        var r = self
        r.files = files.map { $0.hasPrefix(from) ? to + $0.dropFirst(from.count) : $0 }
        return r
    }
}
