import Foundation
import Linalg
import ISACIO
import Estimation
import Numerics

/// Options of the figure experiments (`isac wideband figure`). Defaults: the paper's scenario
/// (Sec. V) with small Monte-Carlo counts so `all` runs in a few minutes in release.
public struct WidebandFigureOptions: Sendable {
    /// Monte-Carlo trials: fig3 success-rate trials (nil → 20) and fig8 trials per distance and placement (nil → 100).
    public var trials: Int? = nil
    /// Base seed; trial t of a figure uses `RandomSource(seed: seed, stream: t)`.
    public var seed: UInt64 = 1
    /// OFDM pilot symbols K per observation (the paper does not state K; see docs/wideband.md).
    public var snapshots: Int = 8
    /// Per-antenna, per-subcarrier SNR, dB (paper: 0 dB).
    public var snrDb: Double = 0
    /// Range interval of the random targets of fig3, m. nil → the radiative near field of the
    /// system, [0.62√(D³/λ_c), 2D²/λ_c] = [3.36, 86.35] m for the paper array.
    public var targetRangeMeters: ClosedRange<Double>? = nil
    /// SOMP band-exclusion radius in grid cells for the CS method (0 = plain SOMP, the paper's and the default).
    public var exclusionCells: Int = 0
    /// Dictionary grid of the CS method. Default `hybridMin`: the literal Algorithm 1 grid (`hybrid`)
    /// has no atom at the paper's Δ = 0.1 (docs/wideband.md).
    public var grid: GridKind = .hybridMin
    /// Fig. 8 distances, m (nil → `WidebandFigures.fig8Distances`).
    public var distances: [Double]? = nil
    /// Fig. 8 target placements (nil → both off-grid and on-grid).
    public var placements: [TargetPlacement]? = nil
    /// dB scale of the fig5/fig7 MUSIC spectra: `amplitude` = 20·log10(P/P_max) (the paper's axis reads
    /// "Amplitude (dB)"), `power` = 10·log10(P/P_max).
    public var spectrumScale: SpectrumScale = .amplitude
    /// Print progress lines on stderr.
    public var progress: Bool = true
    /// Default options.
    public init() {}
}

/// dB convention of a plotted MUSIC pseudo-spectrum P.
public enum SpectrumScale: String, Sendable, CaseIterable {
    /// 20·log10(P/P_max): P read as an amplitude.
    case amplitude
    /// 10·log10(P/P_max): P read as a power.
    case power
    var factor: Double { self == .amplitude ? 20 : 10 }
}

/// Fig. 8 target placement.
public enum TargetPlacement: String, Sendable, CaseIterable {
    /// Range exactly r, angle uniform in the field of view: generally between dictionary atoms.
    case offGrid = "off-grid"
    /// The dictionary atom nearest to the off-grid draw (nearest grid angle, nearest ring on that ray).
    case onGrid = "on-grid"
}

/// Reproduces Figs. 2–8 of the paper as CSV + SVG (+ PNG when `rsvg-convert` exists).
public enum WidebandFigures {
    /// Figure names `make` accepts.
    public static let names = ["fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8", "fig8snr", "table1"]

    /// Builds figure `name` into `outDir` (created if missing).
    /// - Returns: a JSON-ready summary (files written and the figure's key numbers).
    public static func make(_ name: String, outDir: String, options o: WidebandFigureOptions = WidebandFigureOptions(),
                            system s: WidebandSystem = .paper) throws -> WidebandFigureSummary {
        try validate(name, o)
        do {
            try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        } catch {
            throw ISACError.io("cannot create output folder \(outDir): \(error.localizedDescription)")
        }
        let base = (outDir as NSString).appendingPathComponent(name)
        switch name {
        case "fig2": return try fig2(base)
        case "fig3": return try fig3(base, s, o)
        case "fig4": return try fig4(base, s, o)
        case "fig5": return try fig5(base, s, o)
        case "fig6": return try fig6(base, s, o)
        case "fig7": return try fig7(base, s, o)
        case "table1": return try GridStudy.table1(base, s, o)
        case "fig8snr": return try fig8snr(base, s, o)
        default: return try fig8(base, s, o)
        }
    }

    /// Checks the figure name and the options (the same checks `make` runs before writing anything).
    public static func validate(_ name: String, _ o: WidebandFigureOptions) throws {
        guard names.contains(name) else {
            throw ISACError.invalidParameter(name: "name", value: name, valid: "one of \(names.joined(separator: ", ")), all")
        }
        if let t = o.trials { try Check.inRange(t, 1, 100_000, "--trials") }
        try Check.inRange(o.exclusionCells, 0, 1000, "--exclusion-cells")
        try Check.inRange(o.snapshots, 1, 10_000, "--snapshots")
        if let ds = o.distances {
            guard !ds.isEmpty, ds.allSatisfy({ $0.isFinite && $0 >= 0.6 && $0 <= 45 }) else {
                throw ISACError.invalidParameter(name: "--distances", value: ds.map { "\($0)" }.joined(separator: ","),
                                                 valid: "a non-empty comma-separated list of ranges in [0.6, 45] m (the MUSIC scan covers 0.5–45 m)")
            }
        }
        try Check.inRange(o.snrDb, -100, 100, "--snr-db")
    }

    static let degPerRad = 180 / Double.pi

    // MARK: Fig. 2 — |F(ζ)|

    /// |F(ζ)| (eq. 25) on 0.05 ≤ ζ ≤ 300 (log-spaced), the discrete N = 127 sum it approximates, the
    /// 1/(√2 ζ) asymptote and the thresholds ζ_Δ for Δ ∈ {0.5, 0.1, 0.01}.
    static func fig2(_ base: String) throws -> WidebandFigureSummary {
        let zs = (0..<600).map { 0.05 * Foundation.pow(300 / 0.05, Double($0) / 599) }
        var csv = CSVTable(header: ["zeta", "F_integral", "F_discrete_N127", "asymptote"])
        var f = [Double](), fd = [Double](), asym = [Double]()
        for z in zs {
            f.append(FresnelCoherence.magnitude(z))
            fd.append(FresnelCoherence.discreteMagnitude(zeta: z, antennas: 127))
            asym.append(1 / (2.0.squareRoot() * z))
            csv.append([z, f.last!, fd.last!, asym.last!])
        }
        var fig = Figure(title: "Fig. 2: Fresnel column coherence |F(ζ)|", xLabel: "normalized distance ζ", yLabel: "|F(ζ)|",
                         xLog: true, yLog: true)
        fig.line(x: zs, y: f, label: "|F(ζ)| (eq. 25)")
        fig.line(x: zs, y: fd, label: "discrete sum, N = 127", dashed: true)
        fig.line(x: zs, y: asym, label: "1/(√2 ζ)", dashed: true, color: "#7f7f7f")
        fig.yRange = 1e-3...1.5
        var th: [String: Double] = [:]
        for d in [0.5, 0.1, 0.01] {
            let z = try FresnelCoherence.threshold(delta: d)
            th[String(format: "zeta_%g", d)] = z
            fig.verticalLine(at: z, label: String(format: "Δ = %g: ζ = %.2f", d, z))
        }
        try csv.write(to: base + ".csv")
        try fig.write(to: base + ".svg")
        var r = WidebandFigureSummary(figure: "fig2", files: [base + ".csv", base + ".svg"])
        r.thresholds = th
        return r
    }

    // MARK: Fig. 3 — sparse recovery and localization

    /// One paper-size trial (P = 3 random NF targets): SOMP coefficients over the hybrid dictionary
    /// (a) and true vs estimated positions (b); plus the success rate over `trials` seeded trials
    /// (success = every target recovered within one grid cell, `AngleDistanceGrid.cellOffset`).
    static func fig3(_ base: String, _ s: WidebandSystem, _ o: WidebandFigureOptions) throws -> WidebandFigureSummary {
        let trials = o.trials ?? 20
        let tr = o.targetRangeMeters ?? s.radiativeNearFieldInnerMeters...s.rayleighDistanceMeters
        let grid = try AngleDistanceGrid.make(o.grid, system: s)
        try grid.checkDictionary(system: s)
        let b = grid.dictionary(system: s)
        // The configured SOMP variant and, reported separately on the same data, the other one
        // (plain SOMP ↔ one-cell band exclusion).
        let variants = o.exclusionCells == 0 ? [0, 1] : [o.exclusionCells, 0]
        var trialCSV = CSVTable(header: ["trial"] + variants.flatMap { v in
            ["success_excl\(v)", "nmse_db_excl\(v)", "max_angle_cells_excl\(v)", "max_ring_cells_excl\(v)"] })
        var successes = [Int](repeating: 0, count: variants.count)
        var targetCSV = CSVTable(header: ["trial", "exclusion_cells", "target", "true_range_m", "true_angle_deg",
                                          "est_range_m", "est_angle_deg", "angle_cells", "ring_cells"])
        var first: (truth: [PolarTarget], res: LocalizationResult)? = nil
        let prog = ProgressLine("fig3 SOMP trials", total: trials, enabled: o.progress)
        for t in 0..<trials {
            var rng = RandomSource(seed: o.seed, stream: UInt64(t))
            let truth = WidebandExperiments.randomTargets(count: 3, rMin: tr.lowerBound, rMax: tr.upperBound, rng: &rng)
            let obs = try s.simulate(targets: truth, snapshots: o.snapshots, snrDb: o.snrDb, rng: &rng)
            var row = [Double(t)]
            for (vi, v) in variants.enumerated() {
                let res = try Localizer.compressedSensing(observation: obs.data, grid: grid, dictionary: b, targets: 3, exclusionCells: v, system: s)
                let m = LocalizationError.match(truth: truth, estimates: res.estimates)
                var ma = 0, mr = 0, ok = true
                for (ti, (tt, e)) in zip(truth, m).enumerated() {
                    guard let e else { ok = false; ma = 999; mr = 999; continue }
                    let c = grid.cellOffset(truth: tt, estimate: e)
                    ma = max(ma, c.angle); mr = max(mr, c.ring)
                    targetCSV.append([Double(t), Double(v), Double(ti), tt.rangeMeters, tt.angleDeg, e.rangeMeters, e.angleDeg,
                                      Double(c.angle), Double(c.ring)])
                }
                ok = ok && ma <= 1 && mr <= 1
                if ok { successes[vi] += 1 }
                row += [ok ? 1 : 0, 10 * Foundation.log10(LocalizationError.nmse(truth: truth, estimates: res.estimates)),
                        Double(ma), Double(mr)]
                if t == 0 && vi == 0 { first = (truth, res) }
            }
            trialCSV.append(row)
            prog.advance()
        }
        prog.finish()
        let (truth, res) = first!
        // (a) coefficient magnitude per atom: √(Σ_k |x_k|²/K) on the support, 0 elsewhere.
        var coef = [Double](repeating: 0, count: grid.count)
        for (i, q) in res.support.enumerated() { coef[q] = res.coefficientPower[i].squareRoot() }
        var csvA = CSVTable(header: ["atom", "range_m", "angle_deg", "coefficient_magnitude"])
        for (q, p) in grid.points.enumerated() { csvA.append([Double(q), p.rangeMeters, p.angleRad * degPerRad, coef[q]]) }
        var figA = Figure(title: "Fig. 3(a): recovered sparse coefficients (SOMP, \(o.grid.rawValue) Δ = 0.1)",
                          xLabel: "atom index", yLabel: "average coefficient magnitude")
        figA.line(x: (0..<grid.count).map(Double.init), y: coef, label: "\(grid.count) atoms")
        figA.scatter(x: res.support.map(Double.init), y: res.support.map { coef[$0] }, label: "support", marker: .triangle, color: "#d62728")
        // (b) Cartesian positions: x broadside, z along the array axis.
        let matched = LocalizationError.match(truth: truth, estimates: res.estimates)
        var csvB = CSVTable(header: ["target", "true_range_m", "true_angle_deg", "est_range_m", "est_angle_deg",
                                     "true_x_m", "true_z_m", "est_x_m", "est_z_m"])
        for (i, (t, e)) in zip(truth, matched).enumerated() {
            let e = e ?? PolarTarget(rangeMeters: .nan, angleRad: .nan)
            csvB.append([Double(i), t.rangeMeters, t.angleDeg, e.rangeMeters, e.angleDeg, t.cartesian.x, t.cartesian.z,
                         e.cartesian.x, e.cartesian.z])
        }
        var figB = Figure(title: "Fig. 3(b): NF localization (P = 3, SNR \(Int(o.snrDb)) dB)", xLabel: "x (broadside) [m]",
                          yLabel: "z (array axis) [m]")
        let rMax = tr.upperBound
        for deg in [60.0, 120.0] {
            let c = PolarTarget(rangeMeters: rMax, angleRad: deg / degPerRad).cartesian
            figB.line(x: [0, c.x], y: [0, c.z], label: deg == 60 ? "field of view" : nil, dashed: true, color: "#7f7f7f")
        }
        figB.scatter(x: truth.map { $0.cartesian.x }, y: truth.map { $0.cartesian.z }, label: "true", marker: .circle, color: "#1f77b4")
        figB.scatter(x: res.estimates.map { $0.cartesian.x }, y: res.estimates.map { $0.cartesian.z }, label: "estimated",
                     marker: .triangle, color: "#d62728")
        figB.legend = .topLeft
        figB.xRange = 0...(rMax * 1.05)
        try csvA.write(to: base + "a.csv")
        try csvB.write(to: base + "b.csv")
        try trialCSV.write(to: base + "_trials.csv")
        try targetCSV.write(to: base + "_targets.csv")
        try Figure.writePanels([figA, figB], columns: 2, to: base + ".svg")
        var r = WidebandFigureSummary(figure: "fig3", files: [base + "a.csv", base + "b.csv", base + "_trials.csv", base + "_targets.csv", base + ".svg"])
        r.atoms = grid.count; r.grid = o.grid.rawValue; r.trials = trials; r.exclusionCells = o.exclusionCells
        r.successes = successes[0]; r.successRate = Double(successes[0]) / Double(trials)
        r.comparisonExclusionCells = variants[1]; r.successesComparison = successes[1]
        r.successRateComparison = Double(successes[1]) / Double(trials)
        r.targetRangeMeters = [tr.lowerBound, tr.upperBound]
        return r
    }

    // MARK: Fig. 4 — r_NB-NF vs bandwidth

    static let rhoLevels = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95]

    /// r_NB-NF (eq. 35) at θ = 60° for B = 5…100 MHz (1 MHz steps, M fixed) and ρ₀ ∈ {0.5, …, 0.95}.
    static func fig4(_ base: String, _ s: WidebandSystem, _ o: WidebandFigureOptions) throws -> WidebandFigureSummary {
        let bws = (5...100).map(Double.init)
        let th = 60 / degPerRad
        var cols = [[Double]](repeating: [], count: rhoLevels.count)
        let prog = ProgressLine("fig4 bandwidths", total: bws.count, enabled: o.progress)
        var csv = CSVTable(header: ["bandwidth_mhz"] + rhoLevels.map { String(format: "r_nbnf_rho%.2f_m", $0) })
        for bw in bws {
            let sb = try WidebandSystem(antennas: s.antennas, carrierHz: s.carrierHz, bandwidthHz: bw * 1e6,
                                        subcarriers: s.subcarriers, spacingMeters: s.spacingMeters)
            var row = [bw]
            for (i, rho) in rhoLevels.enumerated() {
                let r = try RegionBoundary.narrowbandNearField(system: sb, rho: rho, angleRad: th)
                cols[i].append(r); row.append(r)
            }
            csv.append(row)
            prog.advance()
        }
        prog.finish()
        var fig = Figure(title: "Fig. 4: r_NB-NF vs bandwidth (θ = 60°, N = \(s.antennas), M = \(s.subcarriers))",
                         xLabel: "bandwidth B [MHz]", yLabel: "r_NB-NF [m]", yLog: true)
        for (i, rho) in rhoLevels.enumerated() { fig.line(x: bws, y: cols[i], label: String(format: "ρ₀ = %.2f", rho)) }
        try csv.write(to: base + ".csv")
        try fig.write(to: base + ".svg")
        let i09 = rhoLevels.firstIndex(of: 0.9)!
        var r = WidebandFigureSummary(figure: "fig4", files: [base + ".csv", base + ".svg"])
        r.rNBNFRho09At5MHzMeters = cols[i09].first!; r.rNBNFRho09At100MHzMeters = cols[i09].last!
        return r
    }

    // MARK: Figs. 5 and 7 — MUSIC spectra

    /// Simulates the two-target scene of a spectrum figure (seed stream 0).
    static func scene(_ s: WidebandSystem, _ targets: [PolarTarget], _ o: WidebandFigureOptions) throws -> Matrix<CDouble> {
        var rng = RandomSource(seed: o.seed, stream: 0)
        return try s.simulate(targets: targets, snapshots: o.snapshots, snrDb: o.snrDb, rng: &rng).data
    }

    /// Writes heatmap + angle cuts + range cuts of a MUSIC spectrum (all in dB relative to the
    /// heatmap maximum) as CSVs and a 3-panel SVG.
    static func spectrumFigure(_ base: String, figure: String, title: String, targets: [PolarTarget], rRange: ClosedRange<Double>,
                               rStep: Double, scale: SpectrumScale, spectrum: (ScanGrid) throws -> MUSICSpectrum) throws -> WidebandFigureSummary {
        let nr = Int(((rRange.upperBound - rRange.lowerBound) / rStep).rounded()) + 1
        let grid = try ScanGrid.uniform(rMin: rRange.lowerBound, rMax: rRange.upperBound, rangeCount: nr, angleCount: 301)
        let spec = try spectrum(grid)
        // Cuts through each true target on finer 1-D grids; everything is in dB relative to the largest
        // value of the map and the cuts together (the finer cuts can sample a peak more closely).
        let angles = (0...1200).map { (60 + 0.05 * Double($0)) / degPerRad }
        let ranges = (0...1000).map { rRange.lowerBound + (rRange.upperBound - rRange.lowerBound) * Double($0) / 1000 }
        var angleCuts: [[Double]] = [], rangeCuts: [[Double]] = []
        for t in targets {
            angleCuts.append(try spectrum(ScanGrid(rangesMeters: [t.rangeMeters], anglesRad: angles)).values.map { $0[0] })
            rangeCuts.append(try spectrum(ScanGrid(rangesMeters: ranges, anglesRad: [t.angleRad])).values[0])
        }
        let mx = (spec.values + angleCuts + rangeCuts).flatMap { $0 }.max() ?? 1
        func db(_ v: Double) -> Double { scale.factor * Foundation.log10(Swift.max(v / mx, 1e-30)) }
        var csv = CSVTable(header: ["range_m", "angle_deg", "spectrum_db"])
        let rs = grid.rangesMeters, ts = grid.anglesRad.map { $0 * degPerRad }
        let heat = spec.values.map { $0.map(db) }
        for (i, t) in ts.enumerated() { for (j, r) in rs.enumerated() { csv.append([r, t, heat[i][j]]) } }
        // Colour scale from the map's floor (at most 40 dB down): MUSIC with a mismatched model has a small
        // peak-to-floor ratio (WB-FF: 1/(1 − g₂²)), which a fixed 40 dB scale would wash out.
        let floorDb = Swift.max(heat.flatMap { $0 }.min() ?? -40, -40)
        var figA = Figure(title: "\(title) (a) spectrum", xLabel: "range r [m]", yLabel: "angle θ [°]")
        figA.heatmap(x: rs, y: ts, values: heat, colorbarLabel: "spectrum [dB]", range: floorDb...0)
        figA.scatter(x: targets.map(\.rangeMeters), y: targets.map(\.angleDeg), label: "true", marker: .cross, color: "#ffffff")
        var figC = Figure(title: "\(title) (c) angle cuts at the true ranges", xLabel: "angle θ [°]", yLabel: "spectrum [dB]")
        var figD = Figure(title: "\(title) (d) range cuts at the true angles", xLabel: "range r [m]", yLabel: "spectrum [dB]")
        var cutCSV = CSVTable(header: ["target", "cut", "coordinate", "spectrum_db"])
        var peaksOut: [SpectrumTargetSummary] = []
        for (p, t) in targets.enumerated() {
            let ac = angleCuts[p].map(db), rc = rangeCuts[p].map(db)
            figC.line(x: angles.map { $0 * degPerRad }, y: ac, label: String(format: "target %d (r = %.1f m)", p + 1, t.rangeMeters))
            figD.line(x: ranges, y: rc, label: String(format: "target %d (θ = %.1f°)", p + 1, t.angleDeg))
            for (a, v) in zip(angles, ac) { cutCSV.append(strings: ["\(p + 1)", "angle_deg", CSVTable.format(a * degPerRad), CSVTable.format(v)]) }
            for (r, v) in zip(ranges, rc) { cutCSV.append(strings: ["\(p + 1)", "range_m", CSVTable.format(r), CSVTable.format(v)]) }
            peaksOut.append(SpectrumTargetSummary(trueRangeMeters: t.rangeMeters, trueAngleDeg: t.angleDeg,
                                                  peakDbOnRangeCut: rc.max() ?? .nan, floorDb: floorDb))
        }
        figC.yRange = (floorDb - 1)...1; figD.yRange = (floorDb - 1)...1
        figC.xRange = 60...120
        let est = spec.peaks(targets.count)
        try csv.write(to: base + "_spectrum.csv")
        try cutCSV.write(to: base + "_cuts.csv")
        try Figure.writePanels([figA, figC, figD], columns: 3, to: base + ".svg")
        // (b): the same map as a surface (the paper's 3-D view), same dB scale.
        try SurfacePlot.write(x: rs, y: ts, z: heat, zRange: floorDb...0, title: "\(title) (b) spectrum surface",
                              xLabel: "range r [m]", yLabel: "angle θ [°]", zLabel: "spectrum [dB]", to: base + "_surface.svg")
        var r = WidebandFigureSummary(figure: figure, files: [base + "_spectrum.csv", base + "_cuts.csv", base + ".svg", base + "_surface.svg"])
        r.targets = peaksOut; r.spectrumDbScale = scale.rawValue; r.estimated = est.map(RangeAngleSummary.init)
        return r
    }

    /// NB-NF MUSIC spectrum for the paper's two targets (1.1 m, 112.2°), (2.5 m, 102.0°).
    static func fig5(_ base: String, _ s: WidebandSystem, _ o: WidebandFigureOptions) throws -> WidebandFigureSummary {
        let targets = [PolarTarget(rangeMeters: 1.1, angleRad: 112.2 / degPerRad), PolarTarget(rangeMeters: 2.5, angleRad: 102.0 / degPerRad)]
        let y = try scene(s, targets, o)
        let us = try Localizer.narrowbandSubspace(system: s, observation: y, targets: 2)
        return try spectrumFigure(base, figure: "fig5", title: "Fig. 5: NB-NF MUSIC", targets: targets, rRange: 0.5...4, rStep: 0.01,
                                  scale: o.spectrumScale) {
            Localizer.narrowbandNearFieldSpectrum(system: s, signalSubspace: us, grid: $0)
        }
    }

    /// WB-FF MUSIC spectrum for the paper's two targets (14.0 m, 84.7°), (4.6 m, 107.2°).
    static func fig7(_ base: String, _ s: WidebandSystem, _ o: WidebandFigureOptions) throws -> WidebandFigureSummary {
        let targets = [PolarTarget(rangeMeters: 14.0, angleRad: 84.7 / degPerRad), PolarTarget(rangeMeters: 4.6, angleRad: 107.2 / degPerRad)]
        let y = try scene(s, targets, o)
        let us = try MUSIC.signalSubspace(data: y, rank: 2)
        return try spectrumFigure(base, figure: "fig7", title: "Fig. 7: WB-FF MUSIC", targets: targets, rRange: 1...20, rStep: 0.05,
                                  scale: o.spectrumScale) {
            Localizer.widebandFarFieldSpectrum(system: s, signalSubspace: us, grid: $0)
        }
    }

    // MARK: Fig. 6 — r_WB-FF vs aperture

    /// r_WB-FF (eq. 49) at θ = 60°, B and M of `s`, for apertures D = 0.1…2.0 m (N = round(D/d),
    /// d = λ_c/2) and ρ₁ ∈ {0.5, …, 0.95}.
    static func fig6(_ base: String, _ s: WidebandSystem, _ o: WidebandFigureOptions) throws -> WidebandFigureSummary {
        let th = 60 / degPerRad
        let apertures = (2...40).map { Double($0) * 0.05 }
        var cols = [[Double]](repeating: [], count: rhoLevels.count)
        var xs: [Double] = []
        var csv = CSVTable(header: ["aperture_m", "antennas"] + rhoLevels.map { String(format: "r_wbff_rho%.2f_m", $0) })
        let prog = ProgressLine("fig6 apertures", total: apertures.count, enabled: o.progress)
        for d in apertures {
            let n = Swift.max(2, Int((d / s.spacingMeters).rounded()))
            let sd = try WidebandSystem(antennas: n, carrierHz: s.carrierHz, bandwidthHz: s.bandwidthHz,
                                        subcarriers: s.subcarriers, spacingMeters: s.spacingMeters)
            var row = [sd.apertureMeters, Double(n)]
            for (i, rho) in rhoLevels.enumerated() {
                let r = try RegionBoundary.widebandFarField(system: sd, rho: rho, angleRad: th)
                cols[i].append(r); row.append(r)
            }
            xs.append(sd.apertureMeters)
            csv.append(row)
            prog.advance()
        }
        prog.finish()
        var fig = Figure(title: "Fig. 6: r_WB-FF vs aperture (θ = 60°, B = \(s.bandwidthHz / 1e6) MHz)",
                         xLabel: "aperture D [m]", yLabel: "r_WB-FF [m]")
        for (i, rho) in rhoLevels.enumerated() { fig.line(x: xs, y: cols[i], label: String(format: "ρ₁ = %.2f", rho)) }
        fig.legend = .topLeft
        try csv.write(to: base + ".csv")
        try fig.write(to: base + ".svg")
        let i18 = xs.indices.min { abs(xs[$0] - 1.8) < abs(xs[$1] - 1.8) }!
        var r = WidebandFigureSummary(figure: "fig6", files: [base + ".csv", base + ".svg"])
        r.apertureNear18Meters = xs[i18]
        r.rWBFFRho095At18Meters = cols[rhoLevels.firstIndex(of: 0.95)!][i18]
        r.rWBFFRho085At18Meters = cols[rhoLevels.firstIndex(of: 0.85)!][i18]
        return r
    }

    // MARK: Fig. 8 — NMSE vs distance

    /// Default distances of the fig8 sweep, m.
    public static let fig8Distances: [Double] = [1, 2, 3, 5, 8, 12, 20, 35]

    /// Mean and 95 % confidence interval (normal approximation, mean ± 1.96·sd/√n; the lower end
    /// floored at mean/100 so it has a dB value) of per-trial linear NMSE values, all in dB.
    /// An exact recovery in every trial (NMSE 0, e.g. plain SOMP on an on-grid target) is reported
    /// as −300 dB (floor 1e-30) so CSV, JSON and SVG stay finite.
    static func meanCI(_ v: [Double]) -> (db: Double, lo: Double, hi: Double) {
        let n = Double(v.count)
        let m = v.reduce(0, +) / n
        let sd = v.count > 1 ? (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot() : 0
        let h = 1.96 * sd / n.squareRoot()
        func db(_ x: Double) -> Double { 10 * Foundation.log10(Swift.max(x, 1e-30)) }
        return (db(m), db(Swift.max(m - h, m / 100)), db(m + h))
    }

    /// One fig8 trial: simulate `truth`, run CS (plain), CS + off-grid refinement, NB-NF MUSIC and
    /// WB-FF MUSIC on the same data. Returns the four NMSEs and the CRB's NMSE (linear).
    static func fig8Trial(_ s: WidebandSystem, truth: PolarTarget, snrDb: Double, _ o: WidebandFigureOptions,
                          grid: AngleDistanceGrid, dictionary b: Matrix<CDouble>, coarse: ScanGrid,
                          rng: inout RandomSource) throws -> ([Double], Double) {
        let y = try s.simulate(targets: [truth], snapshots: o.snapshots, snrDb: snrDb, rng: &rng).data
        let cs = try Localizer.compressedSensing(observation: y, grid: grid, dictionary: b, targets: 1,
                                                 exclusionCells: o.exclusionCells, system: s).estimates
        let refined = try Localizer.refineOffGrid(system: s, observation: y, estimates: cs, grid: grid)
        // Three refinement levels: resolution 0.1 m/512 × 0.4°/512, far below the errors measured.
        let nb = try Localizer.musicEstimate(method: .nbnfMusic, system: s, observation: y, targets: 1, coarse: coarse, levels: 3)
        let wb = try Localizer.musicEstimate(method: .wbffMusic, system: s, observation: y, targets: 1, coarse: coarse, levels: 3)
        let nm = [cs, refined, nb, wb].map { LocalizationError.nmse(truth: [truth], estimates: $0) }
        let crb = try WidebandCRB.singleTarget(system: s, target: truth, snapshots: o.snapshots, snrDb: snrDb)
        return (nm, crb.positionVariance / (truth.rangeMeters * truth.rangeMeters))
    }

    /// Default SNRs of the fig8snr sweep, dB per entry.
    public static let fig8SNRs: [Double] = [-40, -30, -20, -10, 0]

    /// The SNR sweep that decides the method ordering of Fig. 8: NMSE vs per-entry SNR at the
    /// distances `o.distances` (nil → 3 m and 12 m, inside the interval the paper gives to CS),
    /// off-grid targets, same methods, confidence intervals and CRB as fig8.
    static func fig8snr(_ base: String, _ s: WidebandSystem, _ o: WidebandFigureOptions) throws -> WidebandFigureSummary {
        let plan = try WidebandTrialPlan(name: "fig8snr", system: s, options: o)
        let values = try plan.run(0..<plan.count)
        return try plan.write(base: base, values: values)
    }

    /// NMSE (dB) vs target distance for CS (SOMP over the configured grid, plain and with the
    /// off-grid refinement), NB-NF MUSIC and WB-FF MUSIC, with 95 % confidence intervals, and the
    /// CRB of the exact WB-NF model (mean over the trials of (CRB_rr + r² CRB_θθ)/r²).
    ///
    /// One target per trial at range r and a uniform random angle in the FOV (off-grid) or at the
    /// dictionary atom nearest to that draw (on-grid); K = `snapshots`, per-entry SNR `snrDb`
    /// (|β| = 1, unit-modulus pilots, σ² = 10^(−SNR/10)). NMSE = mean over trials of ‖x̂ − x‖²/‖x‖²
    /// (Cartesian). MUSIC: coarse scan 0.5–45 m × 60–120° (0.1 m × 0.4°), then three levels of local refinement.
    /// Boundaries r_NB-NF and r_WB-FF (ρ = 0.9, θ = 60°) are marked.
    static func fig8(_ base: String, _ s: WidebandSystem, _ o: WidebandFigureOptions) throws -> WidebandFigureSummary {
        let plan = try WidebandTrialPlan(name: "fig8", system: s, options: o)
        let values = try plan.run(0..<plan.count)
        return try plan.write(base: base, values: values)
    }
}
