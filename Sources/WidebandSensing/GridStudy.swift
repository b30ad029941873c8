import Foundation
import Linalg
import ISACIO
import Numerics

/// Table I of the paper as measurements: atoms, exact mutual coherence and localization NMSE of
/// the uniform, polar, hybrid (Algorithm 1 as written) and hybrid-min grids at (nearly) equal atom
/// budgets, plus a parameter study of where the Fresnel rings of Algorithm 1 matter.
public enum GridStudy {
    /// Rings per ray of the α ≈ 0 ray and how many of Algorithm 1's steps are Fresnel-governed
    /// (k_l ≥ 2: the ideal ring r̃_l, not one Δr step, sets the gap).
    public struct RayStudy: Sendable {
        /// Ring counts of the hybrid and hybrid-min grids on that ray, and how many of their steps are Fresnel-governed.
        public var hybridRings: Int, hybridFresnelSteps: Int, hybridMinRings: Int, hybridMinFresnelSteps: Int
        /// Range scale of the rings, m.
        public var ringScaleMeters: Double
    }

    /// Ring counts on the broadside ray (α = 0, largest G_Δ(1−α²)) for Δ, aperture and r_max.
    public static func ray(system s: WidebandSystem, delta: Double, rMin: Double, rMax: Double) throws -> RayStudy {
        let zeta = try FresnelCoherence.threshold(delta: delta)
        let g = FresnelCoherence.ringScale(system: s, zeta: zeta)
        let dr = s.rangeResolutionMeters
        let h = AngleDistanceGrid.ringRadii(.hybrid, scale: g, rMin: rMin, rMax: rMax, dr: dr, uniformStep: 1)
        var prev = rMax, fres = 0
        for r in h { if (prev - r) / dr > 1.5 { fres += 1 }; prev = r }
        let hm = AngleDistanceGrid.ringRadii(.hybridMin, scale: g, rMin: rMin, rMax: rMax, dr: dr, uniformStep: 1)
        var fm = 0
        for i in 1..<Swift.max(1, hm.count) where hm[i - 1] - hm[i] < dr * (1 - 1e-12) { fm += 1 }
        return RayStudy(hybridRings: h.count, hybridFresnelSteps: fres, hybridMinRings: hm.count,
                        hybridMinFresnelSteps: fm, ringScaleMeters: g)
    }

    /// Largest Δ in [1e-3, 0.95] whose `kind` grid has at most `budget` atoms (for the Fresnel rules
    /// the atom count grows with Δ: G_Δ ∝ 1/ζ_Δ²), by geometric bisection on Δ.
    static func deltaForBudget(_ kind: GridKind, system s: WidebandSystem, budget: Int, rMin: Double) throws -> Double {
        var lo = 1e-3, hi = 0.95
        func count(_ d: Double) throws -> Int { try AngleDistanceGrid.make(kind, system: s, options: GridOptions(delta: d, minRangeMeters: rMin)).count }
        if try count(hi) <= budget { return hi }
        for _ in 0..<40 {
            let mid = (lo * hi).squareRoot()
            if try count(mid) <= budget { lo = mid } else { hi = mid }
        }
        return lo
    }

    /// `isac wideband figure table1`: CSV + SVG.
    static func table1(_ base: String, _ s: WidebandSystem, _ o: WidebandFigureOptions) throws -> WidebandFigureSummary {
        let trials = o.trials ?? 30
        let rMin = 0.5, rMax = s.rayleighDistanceMeters
        // Budget = the hybrid-min grid at Δ = 0.1 (the grid the CS figures use).
        let ref = try AngleDistanceGrid.make(.hybridMin, system: s, options: GridOptions(minRangeMeters: rMin))
        let budget = ref.count
        let ringsPerRay = Double(budget) / Double(ref.alphas.count)
        var grids: [(String, AngleDistanceGrid, String)] = []
        grids.append(("hybrid-min", ref, "Δ = 0.1"))
        let eps = (rMax - rMin) / (ringsPerRay - 1) * (1 + 1e-9)
        grids.append(("uniform", try AngleDistanceGrid.make(.uniform, system: s, options: GridOptions(minRangeMeters: rMin, uniformStepMeters: eps)),
                      String(format: "ε = %.3f m", eps)))
        let dPolar = try deltaForBudget(.polar, system: s, budget: budget, rMin: rMin)
        grids.append(("polar", try AngleDistanceGrid.make(.polar, system: s, options: GridOptions(delta: dPolar, minRangeMeters: rMin)),
                      String(format: "Δ = %.4g", dPolar)))
        let dHyb = try deltaForBudget(.hybrid, system: s, budget: budget, rMin: rMin)
        grids.append(("hybrid", try AngleDistanceGrid.make(.hybrid, system: s, options: GridOptions(delta: dHyb, minRangeMeters: rMin)),
                      String(format: "Δ = %.4g", dHyb)))
        let tr = s.radiativeNearFieldInnerMeters...rMax
        var csv = CSVTable(header: ["grid", "parameter", "atoms", "max_coherence", "nmse_db", "ci95_lo_db", "ci95_hi_db", "trials"])
        var summary: [GridStudyRow] = []
        var names: [String] = [], nmses: [Double] = [], mus: [Double] = []
        let prog = ProgressLine("table1 grids×trials", total: grids.count * trials, enabled: o.progress)
        for (name, grid, par) in grids {
            let mu = DictionaryCoherence.maximum(grid: grid, system: s).value
            var vals: [Double] = []
            if grid.count >= 1 {
                try grid.checkDictionary(system: s)
                let b = grid.dictionary(system: s)
                for t in 0..<trials {
                    var rng = RandomSource(seed: o.seed, stream: UInt64(t))
                    let truth = WidebandExperiments.randomTargets(count: 1, rMin: tr.lowerBound, rMax: tr.upperBound, rng: &rng)
                    let y = try s.simulate(targets: truth, snapshots: o.snapshots, snrDb: o.snrDb, rng: &rng).data
                    let est = try Localizer.compressedSensing(observation: y, grid: grid, dictionary: b, targets: 1, system: s).estimates
                    vals.append(LocalizationError.nmse(truth: truth, estimates: est))
                    prog.advance()
                }
            }
            let c = vals.isEmpty ? (db: Double.nan, lo: Double.nan, hi: Double.nan) : WidebandFigures.meanCI(vals)
            csv.append(strings: [name, par, "\(grid.count)", CSVTable.format(mu), CSVTable.format(c.db), CSVTable.format(c.lo),
                                 CSVTable.format(c.hi), "\(vals.count)"])
            summary.append(GridStudyRow(grid: name, parameter: par, atoms: grid.count, maxCoherence: mu, nmseDb: c.db))
            names.append(name); nmses.append(c.db); mus.append(mu)
        }
        prog.finish()
        // Parameter study on the broadside ray: Δ × aperture × r_max.
        var study = CSVTable(header: ["delta", "antennas", "aperture_m", "r_max_m", "ring_scale_m", "hybrid_rings", "hybrid_fresnel_steps",
                                      "hybrid_min_rings", "hybrid_min_fresnel_steps"])
        var studyFig = Figure(title: "Where Algorithm 1's Fresnel rings matter (broadside ray, r_min = 0.5 m, r_max = Rayleigh)",
                              xLabel: "aperture D [m]", yLabel: "Fresnel-governed ring steps per ray")
        for delta in [0.1, 0.3, 0.5, 0.7] {
            var xs: [Double] = [], ys: [Double] = []
            for n in [64, 127, 256, 512, 1024] {
                let sn = try WidebandSystem(antennas: n, carrierHz: s.carrierHz, bandwidthHz: s.bandwidthHz, subcarriers: s.subcarriers)
                for rm in [sn.rayleighDistanceMeters, 100.0] {
                    let r = try ray(system: sn, delta: delta, rMin: 0.5, rMax: rm)
                    study.append([delta, Double(n), sn.apertureMeters, rm, r.ringScaleMeters, Double(r.hybridRings), Double(r.hybridFresnelSteps),
                                  Double(r.hybridMinRings), Double(r.hybridMinFresnelSteps)])
                    if rm == sn.rayleighDistanceMeters { xs.append(sn.apertureMeters); ys.append(Double(r.hybridFresnelSteps)) }
                }
            }
            studyFig.line(x: xs, y: ys, label: String(format: "Δ = %.1f (hybrid, Alg. 1)", delta), markers: true)
        }
        studyFig.legend = .topLeft
        var fig = Figure(title: "Table I: grids at ≈ \(budget) atoms — max coherence (bars ×100 = %) and NMSE [dB]",
                         xLabel: "grid (1 = hybrid-min, 2 = uniform, 3 = polar, 4 = hybrid)", yLabel: "value")
        let xs = (1...names.count).map(Double.init)
        fig.line(x: xs, y: nmses, label: "NMSE [dB], \(trials) trials, SNR \(CSVTable.format(o.snrDb)) dB", markers: true)
        fig.line(x: xs, y: mus.map { 100 * $0 }, label: "max coherence × 100", markers: true)
        try csv.write(to: base + ".csv")
        try study.write(to: base + "_study.csv")
        try Figure.writePanels([fig, studyFig], columns: 2, to: base + ".svg")
        var r = WidebandFigureSummary(figure: "table1", files: [base + ".csv", base + "_study.csv", base + ".svg"])
        r.budgetAtoms = budget; r.grids = summary; r.trials = trials
        return r
    }
}
