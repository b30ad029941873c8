import Foundation
import Linalg
import ISACIO

/// The η values of a trade-off sweep (`--eta-grid`).
public enum EtaGrid: String, Sendable, CaseIterable, Codable {
    case linear, log
    /// linear: i/(n−1); log: 10^{−3 + 3 i/(n−1)} (the official code's `torch.logspace(-3, 0, n)`), i = 0..<n (n ≥ 2).
    public func values(count n: Int) -> [Double] {
        (0..<n).map { i in
            let t = Double(i) / Double(n - 1)
            return self == .linear ? t : pow(10, -3 + 3 * t)
        }
    }
}

/// The η × φ trade-off sweep of the paper's Figs. 5/9 (`isac multitarget tradeoff`): every (curve, φ, η) point is
/// one calibrated evaluation; the points are ordered curve → φ → η. The CSV and SVG files are written from the
/// points alone, so a sharded run merged from its raw outcomes writes byte-identical files.
public enum TradeoffExperiment {
    /// One curve of the sweep: its label and whether it is drawn dashed (genie / known-impairment curves).
    public struct Curve: Sendable, Equatable {
        /// Curve label.
        public var label: String
        /// Whether the curve is drawn dashed.
        public var dashed: Bool
        /// Memberwise initialiser.
        public init(label: String, dashed: Bool) { self.label = label; self.dashed = dashed }
    }

    /// One point: the curve label and the metrics at (η, φ) (stored in the metrics).
    public struct Point: Sendable {
        /// Label of the curve the point belongs to.
        public var label: String
        /// Calibrated metrics at this (η, φ) operating point.
        public var metrics: OperatingPointMetrics
        /// Memberwise initialiser.
        public init(label: String, metrics: OperatingPointMetrics) { self.label = label; self.metrics = metrics }
    }

    /// φ values: `count` phases uniformly in [0, 2π) (1 = φ 0, as the paper's Fig. 9), radians.
    public static func phiGrid(count: Int) -> [Double] { (0..<count).map { 2 * Double.pi * Double($0) / Double(count) } }

    /// The (curve, φ, η) grid in the order of the points.
    public static func grid(curves: [Curve], phis: [Double], etas: [Double]) -> [(curve: Int, phi: Double, eta: Double)] {
        curves.indices.flatMap { c in phis.flatMap { p in etas.map { (c, p, $0) } } }
    }

    /// The CSV header of `tradeoff.csv`.
    public static let csvHeader = ["method", "eta", "phi_deg", "threshold_over_KSN0", "p_md", "p_fa", "gospa_m", "ser",
                                   "angle_rmse_deg", "range_rmse_m", "samples", "single_target_samples", "gross_errors",
                                   "angle_rmse_fine_deg", "range_rmse_fine_m"]

    /// `tradeoff.csv`: one row per point.
    public static func table(_ points: [Point]) -> CSVTable {
        var csv = CSVTable(header: csvHeader)
        for p in points {
            let m = p.metrics
            csv.append(strings: [p.label] + [m.eta, degrees(m.phi), m.normalizedThreshold,
                                             m.detection.missedDetectionProbability, m.detection.falseAlarmProbability,
                                             m.meanGOSPA, m.ser.rate, m.angleErrorDeg.rmse, m.rangeErrorMeters.rmse,
                                             Double(m.detection.samples), Double(m.angleErrorDeg.count), Double(m.grossErrorCount),
                                             m.angleErrorFineDeg.rmse, m.rangeErrorFineMeters.rmse].map(CSVTable.format))
        }
        return csv
    }

    /// Writes `tradeoff.csv` and the SVG figures (p_md, GOSPA, SER vs η; p_md and GOSPA vs SER; with T_max = 1 the
    /// single-target RMSE panels of Figs. 5/6) into `dir`: one line per (curve, φ), non-finite or (log axes)
    /// non-positive values left out.
    public static func write(points: [Point], curves: [Curve], phis: [Double], targetPfa: Double, maxTargets: Int, to dir: String) throws {
        let base = URL(fileURLWithPath: dir)
        try table(points).write(to: base.appendingPathComponent("tradeoff.csv").path)
        func fig(_ name: String, _ title: String, _ y: String, yLog: Bool, xLog: Bool = false, xOf: (OperatingPointMetrics) -> Double = { $0.eta },
                 xLabel: String = "eta (fraction of power to sensing)", _ val: (OperatingPointMetrics) -> Double) throws {
            var f = Figure(title: title, xLabel: xLabel, yLabel: y, xLog: xLog, yLog: yLog)
            for curve in curves {
                for phi in phis {
                    let pts = points.filter { $0.label == curve.label && $0.metrics.phi == phi }.map { (xOf($0.metrics), val($0.metrics)) }
                        .filter { $0.1.isFinite && (!yLog || $0.1 > 0) && (!xLog || $0.0 > 0) }
                    if pts.isEmpty { continue }
                    let lab = phis.count > 1 ? "\(curve.label), phi=\(Int(degrees(phi).rounded()))°" : curve.label
                    f.line(x: pts.map(\.0), y: pts.map(\.1), label: lab, dashed: curve.dashed, markers: true)
                }
            }
            try f.write(to: base.appendingPathComponent(name).path)
        }
        let pfaTxt = "p_fa = \(targetPfa)"
        try fig("pmd_vs_eta.svg", "Misdetection vs eta (\(pfaTxt), T_max = \(maxTargets))", "p_md", yLog: true) { $0.detection.missedDetectionProbability }
        try fig("gospa_vs_eta.svg", "GOSPA vs eta (\(pfaTxt))", "mean GOSPA [m]", yLog: false) { $0.meanGOSPA }
        try fig("ser_vs_eta.svg", "SER vs eta", "SER", yLog: true) { $0.ser.rate }
        try fig("tradeoff_pmd_vs_ser.svg", "ISAC trade-off (\(pfaTxt))", "p_md", yLog: true, xOf: { $0.ser.rate }, xLabel: "SER") { $0.detection.missedDetectionProbability }
        try fig("tradeoff_gospa_vs_ser.svg", "ISAC trade-off (\(pfaTxt))", "mean GOSPA [m]", yLog: false, xOf: { $0.ser.rate }, xLabel: "SER") { $0.meanGOSPA }
        if maxTargets == 1 {
            try fig("angle_rmse_vs_eta.svg", "Single-target angle RMSE", "angle RMSE [deg]", yLog: true) { $0.angleErrorDeg.rmse }
            try fig("range_rmse_vs_eta.svg", "Single-target range RMSE", "range RMSE [m]", yLog: true) { $0.rangeErrorMeters.rmse }
            // The paper's Fig. 5/6 panels: each sensing metric against SER (the ISAC trade-off).
            try fig("tradeoff_angle_rmse_vs_ser.svg", "Single-target ISAC trade-off", "angle RMSE [deg]", yLog: true, xLog: true,
                    xOf: { $0.ser.rate }, xLabel: "SER") { $0.angleErrorDeg.rmse }
            try fig("tradeoff_range_rmse_vs_ser.svg", "Single-target ISAC trade-off", "range RMSE [m]", yLog: true, xLog: true,
                    xOf: { $0.ser.rate }, xLabel: "SER") { $0.rangeErrorMeters.rmse }
        }
    }
}
