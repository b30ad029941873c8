import ArgumentParser
import Foundation
import Linalg
import ISACIO
import Metrics
import MultiTargetISAC

/// `isac multitarget pfa-sweep`: p_md, fresh p_fa and mean GOSPA against the target false-alarm probability
/// (paper Sec. V-D, Figs. 7–8) at one operating point (η, φ). One calibration pass and one evaluation pass per
/// method serve all p_fa values (`PfaSweep.evaluate`); every p_fa is measured on the same test scenes.
struct MTPfaSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pfa-sweep",
        abstract: "Sweep the target p_fa at one (eta, phi): thresholds calibrated per p_fa from one calibration pass, p_md / fresh p_fa / GOSPA on the same test scenes; CSV + SVG (paper Figs. 7-8).")
    @OptionGroup var system: MTSystemOptions
    @Option(name: .customLong("pfa-values"), help: "Target false-alarm probabilities, comma list, each in (0, 1).")
    var pfaValues = "1e-3,3e-3,1e-2,3e-2,1e-1,3e-1"
    @Option(name: .customLong("eta"), help: "ISAC trade-off eta in [0, 1] (1 = all power to sensing).") var eta = 0.5
    @Option(name: .customLong("phi"), help: "Inter-beam phase phi, degrees.") var phiDeg = 0.0
    @Option(name: .customLong("impairments"), help: "none | unknown | known, or a comma list (one curve each; may be empty with --checkpoint).") var impairments = "unknown,known"
    @Option(name: .customLong("receiver"), help: "Receiver for the --impairments curves: omp (baseline, Algorithm 1) | domp (differentiable OMP, Sec. IV-B); one value for all curves, or a comma list paired with --impairments (e.g. --impairments known,known --receiver omp,domp).") var receiver = "omp"
    @Option(name: .customLong("checkpoint"), help: "Learned models (.npz from `isac multitarget train`: impairment, dictionary or nnbl; comma list): one curve each.") var checkpoint: String?
    @OptionGroup var dompOptions: MTDOMPOptions
    @Option(name: .customLong("samples"), help: "Evaluation samples (the same scenes for every p_fa).") var samples = 400
    @Option(name: .customLong("calibration-samples"), help: "Calibration samples (default: --samples); small p_fa needs many (p_fa * T_max * n >> 1).") var calSamples: Int?
    @Option(name: .customLong("seed"), help: "Scenario seed.") var seed: UInt64 = 7
    @Option(name: .customLong("out"), help: "Output folder for pfa_sweep.csv and the SVG figures (optional).") var out: String?
    @Flag(name: .customLong("json"), help: "Print one JSON object on stdout.") var json = false
    @Flag(name: .customLong("quiet"), help: "No progress on stderr.") var quiet = false
    @OptionGroup var sharding: ShardOptions

    func validate() throws {
        try MultiTargetLimits.checkSamples(samples, "--samples")
        if let c = calSamples { try MultiTargetLimits.checkSamples(c, "--calibration-samples") }
        _ = try system.config(); _ = try system.gospa()
        try system.config().checkMemory(samples: samples + (calSamples ?? samples))
        if let c = checkpoint { _ = try MultiTargetLimits.checkpointPaths(c) }
        _ = try PfaSweep.parse(pfaValues)
        // The shared system options carry the single-point --pfa of evaluate/tradeoff; here it would be silently
        // ignored, so anything but its default is refused.
        guard system.pfa == 1e-2 else {
            throw ISACError.invalidParameter(name: "--pfa", value: "\(system.pfa)", valid: "not used by pfa-sweep; give the targets with --pfa-values")
        }
        try MultiTargetLimits.checkOperatingPoint(eta: eta, phiDeg: phiDeg)
        if !impairments.isEmpty { _ = try parseImpairments(impairments) }
        if impairments.isEmpty && (checkpoint ?? "").isEmpty {
            throw ISACError.invalidParameter(name: "--impairments/--checkpoint", value: "none given", valid: "give at least one baseline mode or checkpoint")
        }
        _ = try parseReceivers(receiver, entries: impairments.isEmpty ? 0 : try parseImpairments(impairments).count, allowList: true)
        try dompOptions.settings.validate()
        if let o = out, o.isEmpty { throw ISACError.invalidParameter(name: "--out", value: "\"\"", valid: "must be a folder path") }
        if let o = out { try CLIOutput.checkFolder(o) }  // before the sweep, not after it
    }

    func run() throws {
        if sharding.isActive { return try runShard() }
        let cfg = try system.config()
        let gospa = try system.gospa()
        let pfas = try PfaSweep.parse(pfaValues)
        let cal = calSamples ?? samples
        let phi = radians(phiDeg)
        let modes = impairments.isEmpty ? [] : try parseImpairments(impairments)
        let meths = try buildMethods(system: system, config: cfg, gospa: gospa, impairments: impairments,
                                     receivers: try parseReceivers(receiver, entries: modes.count, allowList: true),
                                     checkpoints: checkpoint, domp: dompOptions.settings)
        var rows: [(label: String, target: Double, m: OperatingPointMetrics, time: Double)] = []
        let pl = ProgressLine("pfa-sweep", total: meths.count * (samples + cal), enabled: !quiet)
        let t0 = Date()
        for meth in meths {
            let t1 = Date()
            let ms = try PfaSweep.evaluate(config: cfg, samples: samples, calibrationSamples: cal, targetPfas: pfas,
                                           eta: eta, phi: phi, gospa: gospa) { n, first in
                try meth.run(eta, phi, n, first, seed, { pl.advance($0) })
            }
            let el = Date().timeIntervalSince(t1)
            for (p, m) in zip(pfas, ms) { rows.append((meth.label, p, m, el)) }
        }
        pl.finish()
        let total = Date().timeIntervalSince(t0)

        if let o = out {
            let dir = URL(fileURLWithPath: o)
            var csv = CSVTable(header: ["method", "target_pfa", "threshold_over_KSN0", "p_md", "p_fa", "gospa_m", "ser",
                                        "samples", "calibration_samples", "eta", "phi_deg",
                                        "p_md_lo95", "p_md_hi95", "p_fa_lo95", "p_fa_hi95"])
            for r in rows {
                let b = PfaSweep.bands(r.m.detection)
                csv.append(strings: [r.label] + [r.target, r.m.normalizedThreshold, r.m.detection.missedDetectionProbability,
                                                 r.m.detection.falseAlarmProbability, r.m.meanGOSPA, r.m.ser.rate,
                                                 Double(samples), Double(cfg.calibration == .testSet ? 0 : cal), eta, phiDeg,
                                                 b.pmd.lower, b.pmd.upper, b.pfa.lower, b.pfa.upper].map(CSVTable.format))
            }
            try csv.write(to: dir.appendingPathComponent("pfa_sweep.csv").path)
            // x = the measured (fresh-data) p_fa, as the paper plots the achieved false-alarm rate; the
            // target values are in the CSV. Points with zero p_fa or p_md cannot sit on a log axis and are dropped.
            // band: the 95 % Wilson interval of the y value (p_md only; GOSPA has no binomial band).
            func fig(_ name: String, _ title: String, _ y: String, yLog: Bool, band: ((DetectionCounts) -> (lower: Double, upper: Double))? = nil,
                     _ val: (OperatingPointMetrics) -> Double) throws {
                var f = Figure(title: title, xLabel: "p_fa (measured on the test scenes)", yLabel: y, xLog: true, yLog: yLog)
                for (mi, meth) in meths.enumerated() {
                    var xs: [Double] = [], ys: [Double] = [], lo: [Double] = [], hi: [Double] = []
                    for r in rows where r.label == meth.label {
                        let x = r.m.detection.falseAlarmProbability, y = val(r.m)
                        guard x > 0, x.isFinite, y.isFinite, !yLog || y > 0 else { continue }
                        xs.append(x); ys.append(y)
                        let b = band?(r.m.detection) ?? (.nan, .nan)
                        lo.append(yLog ? max(b.lower, 1e-300) : b.lower); hi.append(b.upper)
                    }
                    if xs.isEmpty { continue }
                    let order = xs.indices.sorted { xs[$0] < xs[$1] }
                    let colour = Figure.palette[mi % Figure.palette.count]
                    if band != nil {
                        f.band(x: order.map { xs[$0] }, lower: order.map { lo[$0] }, upper: order.map { hi[$0] }, label: nil, color: colour)
                    }
                    f.line(x: order.map { xs[$0] }, y: order.map { ys[$0] }, label: meth.label, dashed: meth.dashed, markers: true, color: colour)
                }
                try f.write(to: dir.appendingPathComponent(name).path)
            }
            let op = "eta = \(eta), phi = \(phiDeg) deg, T_max = \(cfg.maxTargets)"
            try fig("pmd_vs_pfa.svg", "Misdetection vs false alarm (\(op); 95 % Wilson band)", "p_md", yLog: true,
                    band: { PfaSweep.bands($0).pmd }) { $0.detection.missedDetectionProbability }
            try fig("gospa_vs_pfa.svg", "GOSPA vs false alarm (\(op))", "mean GOSPA [m]", yLog: false) { $0.meanGOSPA }
        }

        if json {
            let pts: [[String: Any]] = rows.map { r in
                var d = metricsDict(r.m, label: r.label)
                d["method"] = r.label
                d["target_pfa"] = r.target
                d["method_run_time_s"] = r.time
                return d
            }
            var obj: [String: Any] = ["points": pts, "pfa_values": pfas, "eta": eta, "phi_deg": phiDeg, "samples": samples,
                                      "calibration_samples": cal, "seed": Int(seed), "targets_max": cfg.maxTargets, "run_time_s": total]
            if let o = out { obj["out"] = o }
            print(try JSONOutput.string(obj))
        } else {
            print("eta=\(eta) phi=\(phiDeg)deg  T_max=\(cfg.maxTargets)  samples=\(samples) (+\(cal) calibration)")
            func pad(_ t: String, _ w: Int) -> String { t.count >= w ? t : t + String(repeating: " ", count: w - t.count) }
            let w = max(8, rows.map(\.label.count).max() ?? 0)
            func lpad(_ t: String, _ w: Int) -> String { t.count >= w ? t : String(repeating: " ", count: w - t.count) + t }
            print(pad("method", w) + " " + [("target", 9), ("p_md", 8), ("p_fa", 8), ("GOSPA[m]", 9), ("delta/KSN0", 10)]
                .map { lpad($0.0, $0.1) }.joined(separator: " "))
            for r in rows {
                print(pad(r.label, w) + String(format: " %9.2g %8.4f %8.4f %9.3f %10.3f", r.target,
                             r.m.detection.missedDetectionProbability, r.m.detection.falseAlarmProbability, r.m.meanGOSPA,
                             r.m.normalizedThreshold))
            }
            print(String(format: "%.1f s", total) + (out.map { "; wrote \($0)/pfa_sweep.csv, pmd_vs_pfa.svg, gospa_vs_pfa.svg" } ?? ""))
        }
    }
}
