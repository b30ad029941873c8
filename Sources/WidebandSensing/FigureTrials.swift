import Foundation
import Linalg
import ISACIO
import Estimation

/// The Monte-Carlo trials of the Fig. 8 sweeps (`fig8`, `fig8snr`) as a flat list of work items, so a run can
/// be split into `--shard i/n` blocks and merged bit-identically.
///
/// Work item w is one trial. fig8: w = (placement·D + distance)·T + trial (placements outermost);
/// fig8snr: w = (distance·S + snr)·T + trial. Each trial draws everything from its own stream
/// `RandomSource(seed:, stream:)` (fig8: placement·10⁶ + distance·10⁴ + trial; fig8snr:
/// 5·10⁶ + distance·10⁵ + snr·10⁴ + trial), so its values do not depend on which process computes it.
/// A trial yields `valuesPerTrial` doubles: the linear NMSE of CS (plain SOMP), CS + off-grid refinement,
/// NB-NF MUSIC, WB-FF MUSIC, and the CRB's NMSE (CRB_rr + r²CRB_θθ)/r². `write` reduces them in item order,
/// so one process and a merge of shards sum the same numbers in the same order.
public struct WidebandTrialPlan {
    /// Figure names whose trials can be sharded.
    public static let shardable = ["fig8", "fig8snr"]
    /// Doubles per trial (4 method NMSEs, then the CRB NMSE), all linear.
    public static let valuesPerTrial = 5

    /// Figure name (`fig8` or `fig8snr`).
    public let name: String
    /// System parameters the trials simulate.
    public let system: WidebandSystem
    /// Figure options of the run.
    public let options: WidebandFigureOptions
    /// Monte-Carlo trials T per sweep point.
    public let trials: Int
    /// Target distances swept, m (D of them).
    public let distances: [Double]
    /// Target placements swept (fig8).
    public let placements: [TargetPlacement]
    /// SNRs swept, dB (S of them; fig8snr).
    public let snrs: [Double]
    let grid: AngleDistanceGrid
    let coarse: ScanGrid

    /// Validates the options (as `WidebandFigures.make`) and builds the CS grid and the MUSIC scan grid
    /// (the dictionary itself is built by `run`, so a merge does not pay for it).
    public init(name: String, system s: WidebandSystem = .paper, options o: WidebandFigureOptions) throws {
        try WidebandFigures.validate(name, o)
        guard Self.shardable.contains(name) else {
            throw ISACError.invalidParameter(name: "name", value: name, valid: "one of \(Self.shardable.joined(separator: ", ")) (the figures with Monte-Carlo trials to split)")
        }
        self.name = name; system = s; options = o
        if name == "fig8" {
            trials = o.trials ?? 100
            distances = o.distances ?? WidebandFigures.fig8Distances
            placements = o.placements ?? TargetPlacement.allCases
            snrs = [o.snrDb]
        } else {
            trials = o.trials ?? 30
            distances = o.distances ?? [3, 12]
            placements = [.offGrid]
            snrs = WidebandFigures.fig8SNRs
        }
        grid = try AngleDistanceGrid.make(o.grid, system: s)
        try grid.checkDictionary(system: s)
        coarse = try ScanGrid.uniform(rMin: 0.5, rMax: 45, rangeCount: 446, angleCount: 151)
    }

    /// Number of work items (trials over all points).
    public var count: Int {
        name == "fig8" ? placements.count * distances.count * trials : distances.count * snrs.count * trials
    }

    /// Runs work items `range` in order. - Returns: `range.count · valuesPerTrial` doubles, item-major.
    public func run(_ range: Range<Int>, label: String? = nil) throws -> [Double] {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw ISACError.invalidParameter(name: "--shard", value: "\(range)", valid: "work items within 0..<\(count)")
        }
        let dictionary = grid.dictionary(system: system)
        let prog = ProgressLine(label ?? "\(name) trials", total: range.count, enabled: options.progress)
        var out: [Double] = []
        out.reserveCapacity(range.count * Self.valuesPerTrial)
        let degPerRad = WidebandFigures.degPerRad
        for w in range {
            let t = w % trials
            var rng: RandomSource
            var truth: PolarTarget
            let snr: Double
            if name == "fig8" {
                let di = (w / trials) % distances.count, pi = w / (trials * distances.count)
                let r = distances[di]
                rng = RandomSource(seed: options.seed, stream: UInt64(pi * 1_000_000 + di * 10_000 + t))
                truth = PolarTarget(rangeMeters: r, angleRad: rng.uniform(60, 120) / degPerRad)
                if placements[pi] == .onGrid {
                    let ai = grid.nearestAngleIndex(angleRad: truth.angleRad)
                    let rs = grid.rings(angleIndex: ai)
                    let ri = rs.indices.min { abs(rs[$0] - r) < abs(rs[$1] - r) }!
                    truth = PolarTarget(rangeMeters: rs[ri], angleRad: Double.acos(grid.alphas[ai]))
                }
                snr = options.snrDb
            } else {
                let si = (w / trials) % snrs.count, di = w / (trials * snrs.count)
                rng = RandomSource(seed: options.seed, stream: UInt64(5_000_000 + di * 100_000 + si * 10_000 + t))
                truth = PolarTarget(rangeMeters: distances[di], angleRad: rng.uniform(60, 120) / degPerRad)
                snr = snrs[si]
            }
            let (nm, crb) = try WidebandFigures.fig8Trial(system, truth: truth, snrDb: snr, options, grid: grid,
                                                          dictionary: dictionary, coarse: coarse, rng: &rng)
            out += nm
            out.append(crb)
            prog.advance()
        }
        prog.finish()
        return out
    }

    /// Raw trial values as little-endian IEEE-754 bit patterns (exact round trip).
    public static func encode(_ values: [Double]) -> Data {
        var d = Data(capacity: values.count * 8)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    /// Inverse of `encode`. - Throws: `malformedFile` when the size is not a whole number of trials.
    public static func decode(_ data: Data, path: String) throws -> [Double] {
        guard data.count % (8 * valuesPerTrial) == 0 else {
            throw ISACError.malformedFile(path: path, reason: "\(data.count) bytes is not a whole number of \(valuesPerTrial)-double trials")
        }
        return stride(from: 0, to: data.count, by: 8).map { k in
            var u: UInt64 = 0
            for b in 0..<8 { u |= UInt64(data[data.startIndex + k + b]) << (8 * UInt64(b)) }
            return Double(bitPattern: UInt64(littleEndian: u))
        }
    }

    /// Reduces all `count` trials (item-major, as `run` returns them) to the figure's CSV + SVG at `base`
    /// (`base.csv`, `base.svg`). - Returns: the figure's JSON summary.
    public func write(base: String, values v: [Double]) throws -> WidebandFigureSummary {
        guard v.count == count * Self.valuesPerTrial else {
            throw ISACError.invalidParameter(name: "values", value: "\(v.count)", valid: "\(count * Self.valuesPerTrial) (\(count) trials × \(Self.valuesPerTrial))")
        }
        let methodNames = ["cs", "cs_refined", "nbnf_music", "wbff_music"]
        let labels = ["CS (plain SOMP, \(options.grid.rawValue))", "CS + off-grid refinement", "NB-NF MUSIC", "WB-FF MUSIC"]
        let colors = ["#1f77b4", "#9467bd", "#2ca02c", "#d62728"]
        // Point p (outer index × inner index) owns items p·T ..< (p+1)·T.
        func point(_ p: Int) -> (methods: [[Double]], crbDb: Double) {
            var vals = [[Double]](repeating: [], count: 4)
            var crbAcc = 0.0
            for t in 0..<trials {
                let k = (p * trials + t) * Self.valuesPerTrial
                for mi in 0..<4 { vals[mi].append(v[k + mi]) }
                crbAcc += v[k + 4]
            }
            return (vals, 10 * Foundation.log10(crbAcc / Double(trials)))
        }
        /// The points `indices` (one curve, in order) summarized into one CSV row each — `prefix(i)`, the CRB in dB,
        /// then mean / CI low / CI high of every method (dB) — and the curves: per method the mean and the 95 %
        /// band, the CRB, and the JSON curve dictionary (method name → mean dB, "crb" → CRB dB).
        func summarize(_ indices: [Int], prefix: (Int) -> [Double], into csv: inout CSVTable)
            -> (mean: [[Double]], lo: [[Double]], hi: [[Double]], crb: [Double], json: [String: [Double]]) {
            var mean = [[Double]](repeating: [], count: 4), lo = mean, hi = mean
            var crb: [Double] = []
            for (i, p) in indices.enumerated() {
                let (vals, crbDb) = point(p)
                crb.append(crbDb)
                var row = prefix(i) + [crbDb]
                for mi in 0..<4 {
                    let c = WidebandFigures.meanCI(vals[mi])
                    mean[mi].append(c.db); lo[mi].append(c.lo); hi[mi].append(c.hi)
                    row += [c.db, c.lo, c.hi]
                }
                csv.append(row)
            }
            var json: [String: [Double]] = ["crb": crb]
            for (mi, m) in methodNames.enumerated() { json[m] = mean[mi] }
            return (mean, lo, hi, crb, json)
        }
        /// Draws the four methods (mean line + 95 % band) and the CRB of one summarized curve over `x`.
        func draw(_ fig: inout Figure, x: [Double], _ c: (mean: [[Double]], lo: [[Double]], hi: [[Double]], crb: [Double], json: [String: [Double]])) {
            for mi in 0..<4 {
                fig.band(x: x, lower: c.lo[mi], upper: c.hi[mi], color: colors[mi])
                fig.line(x: x, y: c.mean[mi], label: labels[mi], dashed: mi == 2, markers: true, color: colors[mi])
            }
            fig.line(x: x, y: c.crb, label: "CRB (exact WB-NF model)", dashed: true, color: "#000000")
        }
        let o = options
        var panels: [Figure] = []
        var curves: [String: [String: [Double]]] = [:]
        if name == "fig8" {
            var header = ["placement_on_grid", "distance_m", "trials", "snr_db", "snapshots", "crb_db"]
            for m in methodNames { header += ["nmse_\(m)_db", "ci95_lo_\(m)_db", "ci95_hi_\(m)_db"] }
            var csv = CSVTable(header: header)
            let th = 60 / WidebandFigures.degPerRad
            let rNB = try RegionBoundary.narrowbandNearField(system: system, rho: 0.9, angleRad: th)
            let rFF = try RegionBoundary.widebandFarField(system: system, rho: 0.9, angleRad: th)
            for (pi, placement) in placements.enumerated() {
                let c = summarize(distances.indices.map { pi * distances.count + $0 }, prefix: { di in
                    [placement == .onGrid ? 1 : 0, distances[di], Double(trials), o.snrDb, Double(o.snapshots)]
                }, into: &csv)
                curves[placement.rawValue] = c.json
                var fig = Figure(title: "Fig. 8 (\(placement.rawValue) targets): NMSE vs distance (P = 1, SNR \(CSVTable.format(o.snrDb)) dB per entry, K = \(o.snapshots), \(trials) trials/point)",
                                 xLabel: "distance r [m]", yLabel: "NMSE [dB]", xLog: true)
                draw(&fig, x: distances, c)
                // Keep the −300 dB "exact recovery" value from flattening the other curves.
                let shown = (c.mean + c.lo + c.hi + [c.crb]).flatMap { $0 }.filter { $0 > -290 && $0.isFinite }
                if let mn = shown.min(), let mx = shown.max(), mx > mn { fig.yRange = (mn - 5)...(mx + 5) }
                fig.verticalLine(at: rNB, label: String(format: "r_NB-NF = %.2f m", rNB), color: "#2ca02c")
                fig.verticalLine(at: rFF, label: String(format: "r_WB-FF = %.2f m", rFF), color: "#d62728")
                fig.legend = .bottomRight
                panels.append(fig)
            }
            try csv.write(to: base + ".csv")
            try Figure.writePanels(panels, columns: panels.count, to: base + ".svg")
            var r = WidebandFigureSummary(figure: "fig8", files: [base + ".csv", base + ".svg"])
            r.trialsPerPoint = trials; r.snrDb = .scalar(o.snrDb); r.snapshots = o.snapshots; r.grid = o.grid.rawValue
            r.atoms = grid.count; r.exclusionCells = o.exclusionCells; r.rNBNFMeters = rNB; r.rWBFFMeters = rFF
            r.distancesMeters = distances; r.nmseDb = curves
            return r
        }
        var header = ["distance_m", "snr_db", "trials", "snapshots", "crb_db"]
        for m in methodNames { header += ["nmse_\(m)_db", "ci95_lo_\(m)_db", "ci95_hi_\(m)_db"] }
        var csv = CSVTable(header: header)
        for (di, r) in distances.enumerated() {
            let c = summarize(snrs.indices.map { di * snrs.count + $0 }, prefix: { si in
                [r, snrs[si], Double(trials), Double(o.snapshots)]
            }, into: &csv)
            curves[CSVTable.format(r)] = c.json
            var fig = Figure(title: "Fig. 8 SNR sweep at r = \(CSVTable.format(r)) m (off-grid, K = \(o.snapshots), \(trials) trials/point)",
                             xLabel: "SNR per antenna, subcarrier and snapshot [dB]", yLabel: "NMSE [dB]")
            draw(&fig, x: snrs, c)
            fig.legend = .topRight
            panels.append(fig)
        }
        try csv.write(to: base + ".csv")
        try Figure.writePanels(panels, columns: panels.count, to: base + ".svg")
        var r = WidebandFigureSummary(figure: "fig8snr", files: [base + ".csv", base + ".svg"])
        r.trialsPerPoint = trials; r.snapshots = o.snapshots; r.snrDb = .series(snrs); r.distancesMeters = distances
        r.nmseDb = curves
        return r
    }
}
