import Foundation
import ISACIO
import Linalg

/// The paper's experiments (Sec. IV), each writing CSV + SVG into the runner's folder.
/// Trained runs are shared through `ExperimentRunner`'s cache, so e.g. `gainmap`, `sectors` and
/// `robustness` reuse the Table II models and `rate-tradeoff` reuses the K_s sweep.
public struct ExperimentSuite {
    /// The runner whose preset and data every experiment of the suite uses.
    public let runner: ExperimentRunner
    /// Creates a suite over `runner`.
    public init(runner: ExperimentRunner) { self.runner = runner }

    var p: ExperimentPreset { runner.preset }
    var d: ExperimentData { runner.data }
    var fullK: Int { d.train.toneCount }
    var dir: String { runner.directory }

    static let metricKeys = ["acc_pct", "range_mae_m", "azimuth_mae_deg", "planar_mae_m", "succ_1m_pct"]

    /// Runs experiment `name`; returns the written files.
    public func run(_ name: String) throws -> [String] {
        switch name {
        case "table2": return try table2()
        case "gainmap": return try gainmap()
        case "ks-sweep": return try ksSweep()
        case "rate-tradeoff": return try rateTradeoff()
        case "ablations": return try ablations()
        case "sectors": return try sectors()
        case "train-fraction": return try trainFraction()
        case "robustness": return try robustness()
        default: throw ISACError.invalidParameter(name: "experiment", value: name, valid: "unknown experiment")
        }
    }

    func runs(_ m: Method, ks: Int? = nil, fraction: Double = 1) throws -> [RunResult] {
        try p.seeds.map { try runner.run(m, seed: $0, ks: ks ?? fullK, trainFraction: fraction) }
    }

    /// Mean ± std of `key` over the successful runs (failed runs are listed in the `seeds` column).
    func stats(_ rs: [RunResult], _ key: String) -> MeanStd? {
        let ok = rs.filter { $0.failure == nil }
        let v = ok.compactMap { $0.metrics[key] }
        return v.count == ok.count && !v.isEmpty ? MeanStd(v) : nil
    }

    /// "3", or "2 of 3 (failed: seed 43)" when runs failed.
    func seedsCell(_ rs: [RunResult]) -> String {
        let failed = rs.filter { $0.failure != nil }
        if failed.isEmpty { return "\(rs.count)" }
        return "\(rs.count - failed.count) of \(rs.count) (failed: " + failed.map { "seed \($0.seed)" }.joined(separator: ", ") + ")"
    }

    func metricTable(_ rows: [(String, [RunResult]?, JointMetricSummary?)]) -> CSVTable {
        var csv = CSVTable(header: ["method"] + Self.metricKeys + Self.metricKeys.map { $0 + "_mean" } + Self.metricKeys.map { $0 + "_std" } + ["seeds"])
        for (title, rs, single) in rows {
            var text: [String] = [], means: [String] = [], stds: [String] = []
            for k in Self.metricKeys {
                if let rs, let s = stats(rs, k) {
                    text.append(s.formatted(k.hasSuffix("pct") ? 2 : 4)); means.append(String(s.mean)); stds.append(String(s.std))
                } else if let single, let v = single.named.first(where: { $0.0 == k })?.1 {
                    text.append(String(format: "%.4f", v)); means.append(String(v)); stds.append("")
                } else if let rs, !rs.isEmpty, rs.allSatisfy({ $0.failure != nil }) {
                    text.append("failed"); means.append(""); stds.append("")
                } else { text.append("–"); means.append(""); stds.append("") }
            }
            csv.append(strings: [title] + text + means + stds + [rs.map(seedsCell) ?? "1"])
        }
        return csv
    }

    func table2Rows() throws -> [(String, [RunResult]?, JointMetricSummary?)] {
        var rows: [(String, [RunResult]?, JointMetricSummary?)] = []
        for (n, pr) in try classicalPredictions(d, tones: Array(0..<fullK), nr: d.test.receiveCount, nt: d.test.transmitCount) {
            rows.append((n, nil, try JointMetricSummary.evaluate(pr, d.test.labels)))
        }
        rows.append(("Trivial (training-split mean / class prior)", nil,
                     try JointMetricSummary.evaluate(trivialPredictions(train: d.train, count: d.test.count), d.test.labels)))
        for m in Method.table2 { rows.append((m.title, try runs(m), nil)) }
        return rows
    }

    func table2() throws -> [String] {
        let rows = try table2Rows()
        let csv = metricTable(rows)
        try csv.write(to: dir + "/table2.csv")
        var fig = Figure(title: "Table II: planar MAE vs accuracy (test split, K_s = \(fullK))", xLabel: "Planar MAE (m)", yLabel: "Accuracy (%)")
        let markers: [Marker] = [.circle, .cross, .square, .triangle]
        for (i, (t, rs, _)) in rows.enumerated() {
            guard let rs, let pl = stats(rs, "planar_mae_m"), let a = stats(rs, "acc_pct") else { continue }
            fig.scatter(x: [pl.mean], y: [a.mean], label: t, marker: markers[i % 4])
        }
        try fig.write(to: dir + "/table2.svg")
        return [dir + "/table2.csv", dir + "/table2.svg"]
    }

    func gainmap() throws -> [String] {
        let cls = try runs(.singleClassification), loc = try runs(.singleLocalization)
        guard let a0 = stats(cls, "acc_pct")?.mean, let e0 = stats(loc, "planar_mae_m")?.mean else { return [] }
        var csv = CSVTable(header: ["method", "acc_gain_pp", "planar_reduction_pct"])
        var fig = Figure(title: "Fig. 4: joint-learning gain map", xLabel: "Accuracy gain over single-task classification (pp)",
                         yLabel: "Planar-MAE reduction over single-task localization (%)")
        let markers: [Marker] = [.circle, .cross, .square, .triangle]
        for (i, m) in [Method.sharedMTL, .sharedMTLPCGrad, .crossStitch, .proposedPlain, .proposedCTA, .proposedFull].enumerated() {
            let rs = try runs(m)
            guard let a = stats(rs, "acc_pct")?.mean, let e = stats(rs, "planar_mae_m")?.mean else { continue }
            let x = a - a0, y = 100 * (e0 - e) / e0
            csv.append(strings: [m.title, String(x), String(y)])
            fig.scatter(x: [x], y: [y], label: m.title, marker: markers[i % 4])
        }
        fig.verticalLine(at: 0); fig.horizontalLine(at: 0)
        try csv.write(to: dir + "/gainmap.csv"); try fig.write(to: dir + "/gainmap.svg")
        return [dir + "/gainmap.csv", dir + "/gainmap.svg"]
    }

    func sweepTable(_ methods: [Method]) throws -> [(Method, Int, [RunResult])] {
        var out: [(Method, Int, [RunResult])] = []
        for m in methods { for ks in p.ksValues where ks <= fullK { out.append((m, ks, try runs(m, ks: ks))) } }
        return out
    }

    func ksSweep() throws -> [String] {
        let rows = try sweepTable(p.sweepMethods)
        var csv = CSVTable(header: ["method", "ks"] + Self.metricKeys.flatMap { [$0 + "_mean", $0 + "_std"] })
        for (m, ks, rs) in rows {
            var v: [String] = [m.title, String(ks)]
            for k in Self.metricKeys { if let s = stats(rs, k) { v += [String(s.mean), String(s.std)] } else { v += ["", ""] } }
            csv.append(strings: v)
        }
        try csv.write(to: dir + "/ks_sweep.csv")
        var figs: [Figure] = []
        for (k, yl) in [("acc_pct", "Acc. (%)"), ("planar_mae_m", "Planar MAE (m)"), ("succ_1m_pct", "Succ@1m (%)")] {
            var f = Figure(title: "Fig. 5: \(yl) vs K_s", xLabel: "Selected sensing subcarriers K_s", yLabel: yl, xLog: true)
            for m in p.sweepMethods {
                let pts = rows.filter { $0.0 == m }.compactMap { r in stats(r.2, k).map { (Double(r.1), $0.mean) } }
                f.line(x: pts.map(\.0), y: pts.map(\.1), label: m.title, markers: true)
            }
            figs.append(f)
        }
        try Figure.writePanels(figs, columns: 3, to: dir + "/ks_sweep.svg")
        return [dir + "/ks_sweep.csv", dir + "/ks_sweep.svg"]
    }

    func rateTradeoff() throws -> [String] {
        let rows = try sweepTable(p.sweepMethods)
        var csv = CSVTable(header: ["method", "ks", "rate_bps_hz", "acc_pct_mean", "acc_pct_std", "planar_mae_m_mean", "planar_mae_m_std"])
        var fa = Figure(title: "Fig. 6(a): accuracy vs benchmark rate", xLabel: "R_erg (bit/s/Hz)", yLabel: "Acc. (%)")
        var fp = Figure(title: "Fig. 6(b): planar MAE vs benchmark rate", xLabel: "R_erg (bit/s/Hz)", yLabel: "Planar MAE (m)")
        var t3 = CSVTable(header: ["method", "qos1_ks", "qos1_rate", "qos2_ks", "qos2_rate"])
        for m in p.sweepMethods {
            var sweep: [SweepPoint] = []
            var xs: [Double] = [], am: [Double] = [], asd: [Double] = [], pm: [Double] = [], psd: [Double] = []
            for (mm, ks, rs) in rows where mm == m {
                guard let a = stats(rs, "acc_pct"), let e = stats(rs, "planar_mae_m") else { continue }
                let r = try SensingTradeoff.rate(sensingTones: ks)
                csv.append(strings: [m.title, String(ks), String(r), String(a.mean), String(a.std), String(e.mean), String(e.std)])
                sweep.append(SweepPoint(sensingTones: ks, accuracy: a.mean / 100, planarMAEMeters: e.mean))
                xs.append(r); am.append(a.mean); asd.append(a.std); pm.append(e.mean); psd.append(e.std)
            }
            fa.band(x: xs, lower: zip(am, asd).map { $0 - $1 }, upper: zip(am, asd).map { $0 + $1 })
            fa.line(x: xs, y: am, label: m.title, markers: true)
            fp.band(x: xs, lower: zip(pm, psd).map { $0 - $1 }, upper: zip(pm, psd).map { $0 + $1 })
            fp.line(x: xs, y: pm, label: m.title, markers: true)
            var cells = [m.title]
            for q in [QoSTarget.qos1, .qos2] {
                if let k = SensingTradeoff.minimumTones(sweep, target: q) {
                    cells += [String(k), String(format: "%.4f", try SensingTradeoff.rate(sensingTones: k))]
                } else { cells += ["Not met", "–"] }
            }
            t3.append(strings: cells)
        }
        try csv.write(to: dir + "/rate_tradeoff.csv"); try t3.write(to: dir + "/table3_min_tones.csv")
        try Figure.writePanels([fa, fp], columns: 2, to: dir + "/rate_tradeoff.svg")
        return [dir + "/rate_tradeoff.csv", dir + "/table3_min_tones.csv", dir + "/rate_tradeoff.svg"]
    }

    func ablations() throws -> [String] {
        let rows: [(String, [RunResult]?, JointMetricSummary?)] = try Method.table4.map { ($0.title, try runs($0), nil) }
        try metricTable(rows).write(to: dir + "/table4_ablations.csv")
        var fig = Figure(title: "Table IV: ablations (planar MAE, mean ± std over seeds)", xLabel: "Variant index (see CSV row order)", yLabel: "Planar MAE (m)")
        var xs: [Double] = [], ys: [Double] = [], lo: [Double] = [], hi: [Double] = []
        for (i, r) in rows.enumerated() {
            guard let s = stats(r.1!, "planar_mae_m") else { continue }
            xs.append(Double(i + 1)); ys.append(s.mean); lo.append(s.mean - s.std); hi.append(s.mean + s.std)
        }
        fig.band(x: xs, lower: lo, upper: hi); fig.line(x: xs, y: ys, label: "planar MAE", markers: true)
        try fig.write(to: dir + "/table4_ablations.svg")
        return [dir + "/table4_ablations.csv", dir + "/table4_ablations.svg"]
    }

    /// Bins (azimuth, range) of the test labels on a coarse grid.
    func bins() -> (az: [Double], rg: [Double], cell: (JointLabel) -> (Int, Int)) {
        let na = 6, nr = 5
        let a0 = d.azimuthMinRad, a1 = d.azimuthMaxRad, r0 = d.rangeMinMeters, r1 = d.rangeMaxMeters
        let da: Double = (a1 - a0) / Double(na), dr: Double = (r1 - r0) / Double(nr)
        let toDeg: Double = 180 / Double.pi
        let az: [Double] = (0..<na).map { (i: Int) -> Double in (a0 + (Double(i) + 0.5) * da) * toDeg }
        let rg: [Double] = (0..<nr).map { (i: Int) -> Double in r0 + (Double(i) + 0.5) * dr }
        return (az, rg, { l in
            (Swift.min(na - 1, Swift.max(0, Int((l.azimuthRad - a0) / (a1 - a0) * Double(na)))),
             Swift.min(nr - 1, Swift.max(0, Int((l.rangeMeters - r0) / (r1 - r0) * Double(nr)))))
        })
    }

    func sectors() throws -> [String] {
        let (az, rg, cell) = bins()
        let labels = d.test.labels
        var csv = CSVTable(header: ["map", "method", "azimuth_deg", "range_m", "value", "samples"])
        func grid(_ preds: [[JointPrediction]], _ f: (JointPrediction, JointLabel) -> Double?) -> [[Double]] {
            var s = [[Double]](repeating: [Double](repeating: 0, count: az.count), count: rg.count), n = s
            for ps in preds { for (pr, l) in zip(ps, labels) { if let v = f(pr, l) { let (i, j) = cell(l); s[j][i] += v; n[j][i] += 1 } } }
            return zip(s, n).map { zip($0, $1).map { $1 > 0 ? $0 / $1 : .nan } }
        }
        var errFigs: [Figure] = [], entFigs: [Figure] = []
        var locMethods: [(String, [[JointPrediction]])] = try classicalPredictions(d, tones: Array(0..<fullK), nr: d.test.receiveCount, nt: d.test.transmitCount).map { ($0.0, [$0.1]) }
        for m in [Method.singleLocalization, .sharedMTLPCGrad, .crossStitch, .proposedFull] { locMethods.append((m.title, try runs(m).map(\.predictions))) }
        for (t, preds) in locMethods {
            let g = grid(preds) { pr, l in pr.location.map { planarError(rangeHat: $0.rangeMeters, range: l.rangeMeters, azimuthHat: $0.azimuthRad, azimuth: l.azimuthRad) } }
            for (j, row) in g.enumerated() { for (i, v) in row.enumerated() { csv.append(strings: ["planar_error", t, String(az[i]), String(rg[j]), String(v), ""]) } }
            var f = Figure(title: t, xLabel: "Azimuth (°)", yLabel: "Range (m)")
            f.heatmap(x: az, y: rg, values: g, colorbarLabel: "planar error (m)")
            errFigs.append(f)
        }
        for m in [Method.singleClassification, .sharedMTL, .sharedMTLPCGrad, .crossStitch, .proposedCTA, .proposedFull] {
            let preds = try runs(m).map(\.predictions)
            let g = grid(preds) { pr, _ in pr.classProbabilities.map(predictiveEntropy) }
            for (j, row) in g.enumerated() { for (i, v) in row.enumerated() { csv.append(strings: ["entropy", m.title, String(az[i]), String(rg[j]), String(v), ""]) } }
            var f = Figure(title: m.title, xLabel: "Azimuth (°)", yLabel: "Range (m)")
            f.heatmap(x: az, y: rg, values: g, colorbarLabel: "entropy (nats)")
            var mx: [Double] = [], my: [Double] = []
            for ps in preds { for (pr, l) in zip(ps, labels) where pr.predictedClass != l.classIndex { mx.append(l.azimuthRad * 180 / .pi); my.append(l.rangeMeters) } }
            if !mx.isEmpty { f.scatter(x: mx, y: my, label: "misclassified", marker: .cross) }
            entFigs.append(f)
        }
        try csv.write(to: dir + "/sectors.csv")
        try Figure.writePanels(errFigs, columns: 3, to: dir + "/sector_error_maps.svg")
        try Figure.writePanels(entFigs, columns: 3, to: dir + "/sector_entropy_maps.svg")
        return [dir + "/sectors.csv", dir + "/sector_error_maps.svg", dir + "/sector_entropy_maps.svg"]
    }

    func trainFraction() throws -> [String] {
        let methods = p.sweepMethods
        var csv = CSVTable(header: ["method", "fraction"] + ["acc_pct", "planar_mae_m", "succ_1m_pct"].flatMap { [$0 + "_mean", $0 + "_std"] })
        var figs = ["acc_pct", "planar_mae_m", "succ_1m_pct"].map { Figure(title: "Fig. 9: \($0) vs training fraction", xLabel: "Training-data fraction", yLabel: $0) }
        for m in methods {
            var pts: [[(Double, Double)]] = [[], [], []]
            for f in p.trainFractions {
                let rs = try runs(m, fraction: f)
                var v = [m.title, String(f)]
                for (i, k) in ["acc_pct", "planar_mae_m", "succ_1m_pct"].enumerated() {
                    if let s = stats(rs, k) { v += [String(s.mean), String(s.std)]; pts[i].append((f, s.mean)) } else { v += ["", ""] }
                }
                csv.append(strings: v)
            }
            for i in 0..<3 { figs[i].line(x: pts[i].map(\.0), y: pts[i].map(\.1), label: m.title, markers: true) }
        }
        try csv.write(to: dir + "/train_fraction.csv")
        try Figure.writePanels(figs, columns: 3, to: dir + "/train_fraction.svg")
        return [dir + "/train_fraction.csv", dir + "/train_fraction.svg"]
    }

    /// Test inputs with additive CN(0, σ²) noise, σ = level·RMS(H) per sample, then a global phase offset.
    func perturbed(noise level: Double, phaseDeg: Double) -> SampleSet {
        var s = d.test
        let nr = s.receiveCount, nt = s.transmitCount, img = 2 * nr * nt, px = nr * nt
        let c = Float(Foundation.cos(phaseDeg * .pi / 180)), sn = Float(Foundation.sin(phaseDeg * .pi / 180))
        for i in 0..<s.count {
            var v = s.inputs[i]
            let rms = (v.reduce(0.0) { $0 + Double($1 * $1) } / Double(v.count / 2)).squareRoot()
            var rng = RandomSource(seed: 7_000_000, stream: UInt64(i))
            for k in 0..<s.toneCount { for q in 0..<px {
                var re = v[k * img + q], im = v[k * img + px + q]
                if level > 0 {
                    let z = rng.complexGaussian(variance: (level * rms) * (level * rms))
                    re += Float(z.real); im += Float(z.imaginary)
                }
                v[k * img + q] = re * c - im * sn; v[k * img + px + q] = re * sn + im * c
            } }
            s.inputs[i] = v
        }
        return s
    }

    func robustness() throws -> [String] {
        let methods: [Method] = [.sharedMTLPCGrad, .crossStitch, .proposedFull]
        let noise = [0, 0.02, 0.05, 0.10, 0.15], phases = [0.0, 5, 10, 20, 30]
        var csv = CSVTable(header: ["method", "perturbation", "level", "snr_eq_db", "planar_mae_m_mean", "planar_mae_m_std"])
        var fn = Figure(title: "Fig. 10(a): additive noise", xLabel: "SNR_eq (dB) (clean point plotted at 40 dB)", yLabel: "Planar MAE (m)")
        var fph = Figure(title: "Fig. 10(b): global phase offset", xLabel: "Phase offset (°)", yLabel: "Planar MAE (m)")
        let tones = Array(0..<fullK)
        for m in methods {
            let rs = try runs(m).filter { $0.failure == nil }
            guard !rs.isEmpty else { continue }
            let models = try rs.map { try runner.load($0, method: m) }
            var nx: [Double] = [], ny: [Double] = [], px: [Double] = [], py: [Double] = []
            for lv in noise {
                let set = perturbed(noise: lv, phaseDeg: 0)
                let s = MeanStd(try models.map { try $0.evaluate(set, tones: tones).planarMAEMeters! })
                let snr = lv > 0 ? -20 * Foundation.log10(lv) : .infinity
                csv.append(strings: [m.title, "noise", String(lv), lv > 0 ? String(snr) : "clean", String(s.mean), String(s.std)])
                nx.append(lv > 0 ? snr : 40); ny.append(s.mean)
            }
            for ph in phases {
                let set = perturbed(noise: 0, phaseDeg: ph)
                let s = MeanStd(try models.map { try $0.evaluate(set, tones: tones).planarMAEMeters! })
                csv.append(strings: [m.title, "phase_deg", String(ph), "", String(s.mean), String(s.std)])
                px.append(ph); py.append(s.mean)
            }
            fn.line(x: nx, y: ny, label: m.title, markers: true); fph.line(x: px, y: py, label: m.title, markers: true)
        }
        try csv.write(to: dir + "/robustness.csv")
        try Figure.writePanels([fn, fph], columns: 2, to: dir + "/robustness.svg")
        return [dir + "/robustness.csv", dir + "/robustness.svg"]
    }
}
