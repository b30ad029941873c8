import Foundation
import Linalg
import Arrays
import ISACIO
import Estimation

/// Paper Fig. 3: the angle–delay map 𝓛_ij = |[Φ_aᴴ Ỹ_r Φ_d*]_ij|² (Sec. III-B) of one scene with T targets, seen
/// through the ideal array (true = nominal λ/2 ULA) and through the impaired one (true = the perturbed
/// realization; beam and dictionary still nominal, as the baseline with unknown impairments). Both maps are
/// normalised by the maximum of the ideal map, as in the paper.
///
/// The scene (targets, gains, messages, noise) is one draw, identical for both arrays; the sensing-only beam
/// (η = `eta`, default 1) is designed with the nominal array for both.
public struct AngleDelayMapFigure: Sendable {
    /// θ_i of the OMP angle dictionary (the target sector), degrees, length N_θ.
    public var anglesDeg: [Double]
    /// R_j = c τ_j / 2 of the delay dictionary, metres, length N_τ.
    public var rangesMeters: [Double]
    /// 𝓛 / max 𝓛_ideal, shape [N_θ × N_τ] (column-major), ideal and impaired array.
    public var ideal: Matrix<Double>
    public var impaired: Matrix<Double>
    /// True target angles (degrees) and ranges (metres).
    public var targetAnglesDeg: [Double]
    public var targetRangesMeters: [Double]
    /// The integrated sensing SNR used, dB.
    public var sensingSNRdB: Double

    /// - Parameters:
    ///   - targets: T (paper: 4). - sensingSNRdB: SNR_r for the figure (paper: 20 dB; `fixedSNR` gain model).
    ///   - seed: scene seed (stream 0).
    public static func make(config: MultiTargetConfig, impairmentSeed: UInt64, seed: UInt64, targets: Int,
                            sensingSNRdB: Double, eta: Double = 1) throws -> AngleDelayMapFigure {
        try Check.inRange(targets, 1, config.maxTargets, "--targets")
        try Check.finite(sensingSNRdB, "--snr-r-db")
        try Check.inRange(eta, 0, 1, "--eta")
        var c = config
        c.sensingSNRdB = sensingSNRdB
        guard case let .fixed(sector) = c.targetSector else {
            throw ISACError.invalidParameter(name: "--random-sector", value: "set", valid: "fig3 uses the fixed target sector")
        }
        let ideal = try BaselineSystem(config: c, mode: .none, impairmentSeed: impairmentSeed)
        let impaired = try BaselineSystem(config: c, mode: .unknown, impairmentSeed: impairmentSeed)
        var rng = RandomSource(seed: seed, stream: 0)
        let d = ideal.generator.draw(rng: &rng, targetCount: targets)
        func map(_ s: BaselineSystem) throws -> Matrix<Double> {
            let f = try Beamformer.isac(sensing: try s.sensingPrecoder(for: sector), communication: s.commPrecoder,
                                        eta: eta, phi: 0, power: c.power)
            let o = try s.generator.observe(d, precoder: f)
            let st = try OMPState(observation: o.sensing, dictionary: try s.ompDictionary(for: sector))
            let m = st.initialMap
            return Matrix(rows: m.rows, cols: m.cols, data: m.data.map { $0.lengthSquared })
        }
        var a = try map(ideal), b = try map(impaired)
        let peak = a.data.max() ?? 1
        guard peak > 0 else { throw ISACError.nonFinite(name: "angle-delay map") }
        a.data = a.data.map { $0 / peak }; b.data = b.data.map { $0 / peak }
        let dict = try ideal.ompDictionary(for: sector)
        return AngleDelayMapFigure(anglesDeg: dict.anglesRad.map(degrees), rangesMeters: dict.delaysSeconds.map { $0 * speedOfLight / 2 },
                                   ideal: a, impaired: b, targetAnglesDeg: d.anglesRad.map(degrees), targetRangesMeters: d.rangesMeters,
                                   sensingSNRdB: sensingSNRdB)
    }

    /// Long-format table: angle_deg, range_m, ideal, impaired (one row per map cell, angle fastest).
    public func mapTable() -> CSVTable {
        var t = CSVTable(header: ["angle_deg", "range_m", "ideal", "impaired"])
        for j in rangesMeters.indices {
            for i in anglesDeg.indices { t.append([anglesDeg[i], rangesMeters[j], ideal[i, j], impaired[i, j]]) }
        }
        return t
    }

    /// The true targets: angle_deg, range_m.
    public func targetTable() -> CSVTable {
        var t = CSVTable(header: ["angle_deg", "range_m"])
        for (a, r) in zip(targetAnglesDeg, targetRangesMeters) { t.append([a, r]) }
        return t
    }

    /// Two stacked panels (ideal top, impaired bottom) drawn with `Figure.heatmap`: x = angle, y = range,
    /// colour = 10 log10(𝓛 / max 𝓛_ideal) clipped to [`floorDB`, 0] dB, true targets as white circles.
    public func figures(floorDB: Double = -30) -> [Figure] {
        [(ideal, "(a) Ideal array"), (impaired, "(b) Impaired array, unknown spacings")].map { m, title in
            var f = Figure(title: "\(title): T = \(targetAnglesDeg.count), SNR_r = \(Self.fmt(sensingSNRdB)) dB",
                           xLabel: "angle [deg]", yLabel: "range [m]")
            let values = rangesMeters.indices.map { j in
                anglesDeg.indices.map { i in max(10 * log10(max(m[i, j], 1e-300)), floorDB) }
            }
            f.heatmap(x: anglesDeg, y: rangesMeters, values: values, colorbarLabel: "L / max L_ideal [dB]", range: floorDB...0)
            f.scatter(x: targetAnglesDeg, y: targetRangesMeters, label: "true targets", marker: .circle, color: "white")
            f.grid = false
            return f
        }
    }

    static func fmt(_ x: Double) -> String { String(format: "%.4g", x) }
}
