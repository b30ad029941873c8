import Foundation
import Linalg
import ISACIO
import Metrics

/// The files of `isac multitarget pfa-sweep --out DIR` (paper Figs. 7–8): `pfa_sweep.csv`, `pmd_vs_pfa.svg`,
/// `gospa_vs_pfa.svg`. They are written from the swept points alone (no timings), so a sharded sweep merged from
/// its raw outcomes (`isac merge`) writes files byte-identical to those of one process.
public enum PfaSweepReport {
    /// One point of the sweep: curve label, target p_fa and the metrics at the δ calibrated for it.
    public struct Row: Sendable {
        /// Curve label.
        public var label: String
        /// Target false-alarm probability p_fa (0…1) the δ was calibrated for.
        public var targetPfa: Double
        /// Metrics at the calibrated δ.
        public var metrics: OperatingPointMetrics
        /// Wall time of the curve's whole run (reported in `--json`, not in the files), seconds.
        public var methodRunTimeSeconds: Double
        /// Memberwise initializer.
        public init(label: String, targetPfa: Double, metrics: OperatingPointMetrics, methodRunTimeSeconds: Double) {
            self.label = label; self.targetPfa = targetPfa; self.metrics = metrics; self.methodRunTimeSeconds = methodRunTimeSeconds
        }
    }

    /// The header of `pfa_sweep.csv`.
    public static let csvHeader = ["method", "target_pfa", "threshold_over_KSN0", "p_md", "p_fa", "gospa_m", "ser",
                                   "samples", "calibration_samples", "eta", "phi_deg",
                                   "p_md_lo95", "p_md_hi95", "p_fa_lo95", "p_fa_hi95"]

    /// The file names `write` produces, in the order written.
    public static let fileNames = ["pfa_sweep.csv", "pmd_vs_pfa.svg", "gospa_vs_pfa.svg"]

    /// `pfa_sweep.csv`: one row per point with the 95 % Wilson bands of p_md and p_fa.
    /// - Parameter calibrationSamples: the calibration draws actually used (0 for `--calibration test-set`).
    public static func table(_ rows: [Row], samples: Int, calibrationSamples: Int, eta: Double, phiDeg: Double) -> CSVTable {
        var csv = CSVTable(header: csvHeader)
        for r in rows {
            let b = PfaSweep.bands(r.metrics.detection)
            csv.append(strings: [r.label] + [r.targetPfa, r.metrics.normalizedThreshold, r.metrics.detection.missedDetectionProbability,
                                             r.metrics.detection.falseAlarmProbability, r.metrics.meanGOSPA, r.metrics.ser.rate,
                                             Double(samples), Double(calibrationSamples), eta, phiDeg,
                                             b.pmd.lower, b.pmd.upper, b.pfa.lower, b.pfa.upper].map(CSVTable.format))
        }
        return csv
    }

    /// Writes `pfa_sweep.csv` and the two SVG figures into `dir` (one line per curve, in the order of `curves`).
    ///
    /// x = the measured (fresh-data) p_fa, as the paper plots the achieved false-alarm rate; the target values are
    /// in the CSV. Points with zero p_fa or (log axis) non-positive y cannot sit on a log axis and are dropped.
    /// The p_md figure draws the 95 % Wilson interval as a band (GOSPA has no binomial band).
    /// - Parameters:
    ///   - calibrationSamples: the calibration draws actually used (0 for `--calibration test-set`).
    ///   - maxTargets: T_max, printed in the titles.
    public static func write(rows: [Row], curves: [TradeoffExperiment.Curve], samples: Int, calibrationSamples: Int,
                             eta: Double, phiDeg: Double, maxTargets: Int, to dir: String) throws {
        let base = URL(fileURLWithPath: dir)
        try table(rows, samples: samples, calibrationSamples: calibrationSamples, eta: eta, phiDeg: phiDeg)
            .write(to: base.appendingPathComponent(fileNames[0]).path)
        func fig(_ name: String, _ title: String, _ y: String, yLog: Bool, band: ((DetectionCounts) -> (lower: Double, upper: Double))? = nil,
                 _ val: (OperatingPointMetrics) -> Double) throws {
            var f = Figure(title: title, xLabel: "p_fa (measured on the test scenes)", yLabel: y, xLog: true, yLog: yLog)
            for (mi, curve) in curves.enumerated() {
                var xs: [Double] = [], ys: [Double] = [], lo: [Double] = [], hi: [Double] = []
                for r in rows where r.label == curve.label {
                    let x = r.metrics.detection.falseAlarmProbability, y = val(r.metrics)
                    guard x > 0, x.isFinite, y.isFinite, !yLog || y > 0 else { continue }
                    xs.append(x); ys.append(y)
                    let b = band?(r.metrics.detection) ?? (.nan, .nan)
                    lo.append(yLog ? max(b.lower, 1e-300) : b.lower); hi.append(b.upper)
                }
                if xs.isEmpty { continue }
                let order = xs.indices.sorted { xs[$0] < xs[$1] }
                let colour = Figure.palette[mi % Figure.palette.count]
                if band != nil {
                    f.band(x: order.map { xs[$0] }, lower: order.map { lo[$0] }, upper: order.map { hi[$0] }, label: nil, color: colour)
                }
                f.line(x: order.map { xs[$0] }, y: order.map { ys[$0] }, label: curve.label, dashed: curve.dashed, markers: true, color: colour)
            }
            try f.write(to: base.appendingPathComponent(name).path)
        }
        let op = "eta = \(eta), phi = \(phiDeg) deg, T_max = \(maxTargets)"
        try fig(fileNames[1], "Misdetection vs false alarm (\(op); 95 % Wilson band)", "p_md", yLog: true,
                band: { PfaSweep.bands($0).pmd }) { $0.detection.missedDetectionProbability }
        try fig(fileNames[2], "GOSPA vs false alarm (\(op))", "mean GOSPA [m]", yLog: false) { $0.meanGOSPA }
    }
}
