import Foundation
import Linalg

/// Marker symbols for scatter plots and marked lines. Distinct shapes keep series apart in
/// black-and-white prints of the paper figures.
public enum Marker: String, Sendable, CaseIterable {
    case circle, cross, square, triangle
}

/// Where the legend box sits inside the plot area.
public enum LegendPosition: Sendable {
    case topRight, topLeft, bottomRight, bottomLeft, none
}

/// A 2-D figure rendered to standalone SVG (no dependencies), good enough for paper figures:
/// line plots (solid/dashed, optional markers) with a legend, scatter plots, vertical marker
/// lines, and heatmaps with a colour bar; linear or logarithmic axes with nice tick labels
/// (1-2-5 steps on linear axes, decades `10^k` with minor ticks on log axes).
///
/// Points that are NaN or ±∞ (or ≤ 0 on a log axis) are skipped: a line is broken there, a
/// marker is not drawn, a heatmap cell is left blank. Axis ranges default to the finite data,
/// rounded out to ticks (tight for heatmaps); set `xRange`/`yRange` to override.
///
/// Series are added with non-throwing calls so plotting code stays terse; a malformed series
/// (x/y length mismatch, heatmap shape mismatch) is recorded and reported by `validate()` and
/// `write(to:)` as `ISACError.shapeMismatch` naming the series. `svg()` still renders the
/// consistent prefix of such a series.
///
/// ```swift
/// var fig = Figure(title: "RMSE vs SNR", xLabel: "SNR [dB]", yLabel: "RMSE [m]", yLog: true)
/// fig.line(x: snr, y: rmse, label: "OMP", markers: true)
/// fig.line(x: snr, y: crb, label: "CRB", dashed: true)
/// try fig.write(to: "out/rmse.svg")
/// ```
public struct Figure: Sendable {
    /// Title above the plot (omitted when empty).
    public var title: String
    /// Axis labels; include units, e.g. `"range [m]"`.
    public var xLabel: String
    /// Vertical axis label.
    public var yLabel: String
    /// Logarithmic x axis (decade ticks); points with x ≤ 0 are skipped.
    public var xLog: Bool
    /// Logarithmic y axis (decade ticks); points with y ≤ 0 are skipped.
    public var yLog: Bool
    /// Canvas width in SVG user units (pixels).
    public var width: Double = 720
    /// Canvas height in SVG user units (pixels).
    public var height: Double = 480
    /// Fixed x range (data units); `nil` = automatic from the data. Ignored when it is not
    /// usable on the axis (non-finite, or not positive on a log axis).
    public var xRange: ClosedRange<Double>? = nil
    /// Fixed y range (data units); `nil` = automatic from the data.
    public var yRange: ClosedRange<Double>? = nil
    /// Legend placement inside the plot area (`.none` hides it).
    public var legend: LegendPosition = .topRight
    /// Light grid lines at the major ticks (line/scatter plots only).
    public var grid: Bool = true
    /// Heatmaps on a uniform grid (uniform in log on a log axis) with at least this many cells
    /// are embedded as one PNG image (4 bytes/cell) instead of one `<rect>` per cell (~70
    /// bytes/cell), keeping paper-size maps small and fast to render. `Int.max` = always vector.
    public var heatmapImageThreshold: Int = 2000

    enum Kind: Sendable {
        case line(dashed: Bool, marker: Marker?)
        case scatter(Marker)
        case vline
        case hline
        case band
        case text(String)
    }
    struct Series: Sendable {
        var kind: Kind
        var x: [Double]
        var y: [Double]
        var label: String?
        var color: String
        /// Upper edge of a band.
        var y2: [Double] = []
    }
    struct Heatmap: Sendable {
        var x: [Double]
        var y: [Double]
        var values: [[Double]]
        var colorbarLabel: String
        var range: ClosedRange<Double>?
    }
    var series: [Series] = []
    var heatmaps: [Heatmap] = []
    var errors: [ISACError] = []
    private var colorIndex = 0
    private var markerIndex = 0

    /// Tableau-10: distinguishable, colour-blind-friendly default cycle.
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// An empty figure; add series with `line`, `scatter`, `band`, `heatmap`, … then `write(to:)`.
    public init(title: String, xLabel: String, yLabel: String, xLog: Bool = false, yLog: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.xLog = xLog; self.yLog = yLog
    }

    private mutating func nextColor(_ given: String?) -> String {
        if let given { return given }
        defer { colorIndex += 1 }
        return Figure.palette[colorIndex % Figure.palette.count]
    }

    private mutating func checkLengths(_ x: [Double], _ y: [Double], _ what: String, _ label: String?) {
        if x.count != y.count {
            let name = label.map { "\(what) '\($0)'" } ?? "\(what) #\(series.count + 1)"
            errors.append(.shapeMismatch("figure '\(title)': \(name) has \(x.count) x values but \(y.count) y values"))
        }
    }

    /// Adds a polyline through `(x[i], y[i])`, broken at non-finite points.
    /// - Parameters:
    ///   - x, y: equal-length data in axis units.
    ///   - label: legend text (no legend entry when `nil`).
    ///   - dashed: dashed stroke (e.g. bounds, theory curves).
    ///   - markers: draw a marker at each point; the shape cycles circle/square/triangle/cross
    ///     over marked lines.
    ///   - color: CSS colour; default cycles through `Figure.palette`.
    public mutating func line(x: [Double], y: [Double], label: String? = nil, dashed: Bool = false,
                              markers: Bool = false, color: String? = nil) {
        checkLengths(x, y, "line", label)
        var m: Marker? = nil
        if markers {
            let order: [Marker] = [.circle, .square, .triangle, .cross]
            m = order[markerIndex % order.count]
            markerIndex += 1
        }
        series.append(Series(kind: .line(dashed: dashed, marker: m), x: x, y: y, label: label, color: nextColor(color)))
    }

    /// Adds unconnected markers at `(x[i], y[i])`; non-finite points are skipped.
    public mutating func scatter(x: [Double], y: [Double], label: String? = nil, marker: Marker = .circle,
                                 color: String? = nil) {
        checkLengths(x, y, "scatter", label)
        series.append(Series(kind: .scatter(marker), x: x, y: y, label: label, color: nextColor(color)))
    }

    /// Adds a dashed vertical line across the plot at `x` (axis units), e.g. a boundary distance.
    public mutating func verticalLine(at x: Double, label: String? = nil, color: String? = nil) {
        series.append(Series(kind: .vline, x: [x], y: [], label: label, color: color ?? "#444444"))
    }

    /// Adds a dashed horizontal line across the plot at `y` (axis units), e.g. a threshold.
    public mutating func horizontalLine(at y: Double, label: String? = nil, color: String? = nil) {
        series.append(Series(kind: .hline, x: [], y: [y], label: label, color: color ?? "#444444"))
    }

    /// Adds a shaded band between `lower[i]` and `upper[i]` over `x[i]` (e.g. ±σ of a Monte Carlo
    /// estimate or a confidence interval), drawn semi-transparent under the lines. Points where any
    /// of the three values is non-finite split the band.
    public mutating func band(x: [Double], lower: [Double], upper: [Double], label: String? = nil,
                              color: String? = nil) {
        checkLengths(x, lower, "band (lower)", label)
        checkLengths(x, upper, "band (upper)", label)
        series.append(Series(kind: .band, x: x, y: lower, label: label, color: nextColor(color), y2: upper))
    }

    /// Adds a text annotation whose baseline starts at data point `(x, y)` (does not change the
    /// axis range; clipped to the plot area).
    public mutating func text(_ string: String, x: Double, y: Double, color: String = "black") {
        series.append(Series(kind: .text(string), x: [x], y: [y], label: nil, color: color))
    }

    /// Adds a heatmap with cell centres `x` (columns) and `y` (rows); `values[iy][ix]`.
    ///
    /// Cell edges are the midpoints between neighbouring centres (geometric midpoints on a log
    /// axis), so non-uniform grids render correctly; centres must be strictly monotone. Colours
    /// follow viridis over `range` (default: min…max of the finite values); NaN cells stay blank.
    /// dB scaling is the caller's job.
    /// - Parameters:
    ///   - values: `[y.count][x.count]`.
    ///   - colorbarLabel: text beside the colour bar (e.g. "|P| [dB]").
    public mutating func heatmap(x: [Double], y: [Double], values: [[Double]], colorbarLabel: String,
                                 range: ClosedRange<Double>? = nil) {
        let name = "heatmap '\(colorbarLabel)'"
        if values.count != y.count || values.contains(where: { $0.count != x.count }) {
            errors.append(.shapeMismatch("figure '\(title)': \(name) values must be [y.count=\(y.count)][x.count=\(x.count)], got \(values.count) rows of lengths \(Set(values.map(\.count)).sorted())"))
        }
        for (axis, c) in [("x", x), ("y", y)] where !Figure.strictlyMonotone(c) {
            errors.append(.shapeMismatch("figure '\(title)': \(name) \(axis) centres must be finite and strictly monotone"))
        }
        heatmaps.append(Heatmap(x: x, y: y, values: values, colorbarLabel: colorbarLabel, range: range))
    }

    static func strictlyMonotone(_ c: [Double]) -> Bool {
        guard c.allSatisfy(\.isFinite) else { return false }
        if c.count < 2 { return true }
        let inc = c[1] > c[0]
        for i in 1..<c.count where inc ? !(c[i] > c[i - 1]) : !(c[i] < c[i - 1]) { return false }
        return true
    }

    /// Throws the first recorded series error (`ISACError.shapeMismatch` naming the series).
    public func validate() throws {
        if let e = errors.first { throw e }
    }

    /// Atomically writes the SVG to `path`; if `rsvg-convert` is on `PATH`, also writes a PNG
    /// with the same base name beside it (skipped when the converter is absent; a converter that
    /// fails is an error, so a missing PNG never passes as success).
    public func write(to path: String) throws {
        try validate()
        try AtomicFile.write(svg(), to: path)
        try Figure.writePNGIfPossible(svgPath: path)
    }

    static func writePNGIfPossible(svgPath path: String) throws {
        if let conv = Figure.findExecutable("rsvg-convert") {
            let png = (path.hasSuffix(".svg") ? String(path.dropLast(4)) : path) + ".png"
            try Figure.convert(svgPath: path, pngPath: png, converter: conv)
        }
    }

    static func findExecutable(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for p in paths {
            let c = "\(p)/\(name)"
            if FileManager.default.isExecutableFile(atPath: c) { return c }
        }
        return nil
    }

    /// Runs `converter -o TMP svgPath` and renames TMP to `pngPath`.
    /// - Throws: `ISACError.io` naming the PNG when the converter cannot run, exits non-zero, or
    ///   the rename fails (the temp file is removed).
    static func convert(svgPath: String, pngPath: String, converter: String) throws {
        try AtomicFile.checkDestination(pngPath)
        let url = URL(fileURLWithPath: pngPath)
        let tmp = AtomicFile.tempPath(for: url)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: converter)
        p.arguments = ["-o", tmp, svgPath]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        defer { unlink(tmp) }
        do { try p.run() } catch {
            throw ISACError.io("cannot write \(pngPath): \(converter) could not be started (\(ISACError.userMessage(error)))")
        }
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            throw ISACError.io("cannot write \(pngPath): \(converter) failed (status \(p.terminationStatus))")
        }
        guard rename(tmp, pngPath) == 0 else {
            throw ISACError.io("cannot move output into place at \(pngPath): \(String(cString: strerror(errno)))")
        }
    }

    // MARK: - Rendering

    /// The figure as a standalone SVG document.
    public func svg() -> String {
        var r = Renderer(figure: self)
        return r.render()
    }

    /// Lays out `figures` row by row, `columns` per row, in one SVG document (multi-panel paper
    /// figures). Every cell is as large as the largest figure; element ids are prefixed per panel
    /// so clip paths and gradients do not collide. `columns < 1` is treated as 1.
    public static func panels(_ figures: [Figure], columns: Int) -> String {
        let cols = Swift.max(1, Swift.min(columns, Swift.max(1, figures.count)))
        let rows = (figures.count + cols - 1) / cols
        let cw = figures.map(\.width).max() ?? 0, ch = figures.map(\.height).max() ?? 0
        let w = cw * Double(cols), h = ch * Double(Swift.max(rows, 1))
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(w))" height="\(fmt(h))" viewBox="0 0 \(fmt(w)) \(fmt(h))">
        <rect x="0" y="0" width="\(fmt(w))" height="\(fmt(h))" fill="white"/>

        """
        for (i, f) in figures.enumerated() {
            var r = Renderer(figure: f, idPrefix: "p\(i)-")
            var body = r.render()
            if let decl = body.range(of: "?>\n") { body.removeSubrange(body.startIndex..<decl.upperBound) }
            let x = cw * Double(i % cols), y = ch * Double(i / cols)
            body = body.replacingOccurrences(of: "<svg xmlns=\"http://www.w3.org/2000/svg\"",
                                             with: "<svg class=\"panel\" x=\"\(fmt(x))\" y=\"\(fmt(y))\"",
                                             options: .anchored)
            out += body
        }
        return out + "</svg>\n"
    }

    /// Atomically writes `panels(figures, columns:)` to `path` (+ PNG when `rsvg-convert` exists).
    /// - Throws: `ISACError.invalidParameter` for `columns < 1` or no figures; the first series
    ///   error of any panel (`ISACError.shapeMismatch`).
    public static func writePanels(_ figures: [Figure], columns: Int, to path: String) throws {
        try Check.positive(columns, "columns")
        guard !figures.isEmpty else {
            throw ISACError.invalidParameter(name: "figures", value: "[]", valid: "at least one figure")
        }
        for f in figures { try f.validate() }
        try AtomicFile.write(panels(figures, columns: columns), to: path)
        try writePNGIfPossible(svgPath: path)
    }
}

/// One axis: data range, scale and ticks. Maps data values to [0, 1].
struct Axis {
    var lo: Double
    var hi: Double
    var log: Bool
    /// Major ticks: (value, label, superscript exponent for `10^k` labels).
    var ticks: [(value: Double, label: String, exponent: String?)] = []
    var minor: [Double] = []

    /// Fraction of the way along the axis, or nil when the value cannot be placed (NaN, ≤0 on log).
    func frac(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        if log {
            guard v > 0 else { return nil }
            return (Foundation.log10(v) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo))
        }
        return (v * 0.5 - lo * 0.5) / (hi * 0.5 - lo * 0.5)
    }

    /// Builds an axis covering finite `values` (already filtered for log positivity).
    /// `tight`: keep the data range exactly (heatmaps); otherwise round out to ticks.
    static func make(values: [Double], log: Bool, fixed: ClosedRange<Double>?, tight: Bool) -> Axis {
        let usable = values.filter { $0.isFinite && (!log || $0 > 0) }
        var lo: Double, hi: Double
        var round = !tight
        if let fixed, fixed.lowerBound.isFinite, fixed.upperBound.isFinite,
           fixed.upperBound > fixed.lowerBound, !log || fixed.lowerBound > 0 {
            lo = fixed.lowerBound; hi = fixed.upperBound; round = false
        } else if let mn = usable.min(), let mx = usable.max() {
            lo = mn; hi = mx
        } else {
            lo = log ? 1 : 0; hi = log ? 10 : 1; round = false
        }
        if log {
            var a = Foundation.log10(lo), b = Foundation.log10(hi)
            if b - a < 1e-12 { a -= 0.5; b += 0.5; round = true }
            if round { a = a.rounded(.down); b = b.rounded(.up) }
            // Stay inside the finite, non-zero Double range (10^±308, subnormals down to 10^-323).
            a = Swift.min(Swift.max(a, -323), 307); b = Swift.min(Swift.max(b, a + 1e-9), 308)
            if b - a < 1e-12 { a = b - 1 }
            lo = Foundation.pow(10, a); hi = Foundation.pow(10, b)
            var ax = Axis(lo: lo, hi: hi, log: true)
            ax.logTicks()
            return ax
        }
        if hi - lo <= Swift.max(abs(lo), abs(hi)) * 1e-12 || hi == lo {
            let d = lo == 0 ? 1 : abs(lo) * 0.1
            // Near ±Double.greatestFiniteMagnitude only widen on the side that stays finite.
            let nlo = lo - d, nhi = hi + d
            lo = nlo.isFinite ? nlo : lo
            hi = nhi.isFinite ? nhi : hi
        }
        // Half-span arithmetic keeps spans up to ±Double.greatestFiniteMagnitude finite.
        let step = Axis.niceStep((hi * 0.5 - lo * 0.5) / 3)
        if round {
            let rlo = (lo / step).rounded(.down) * step, rhi = (hi / step).rounded(.up) * step
            if rlo.isFinite { lo = rlo }
            if rhi.isFinite { hi = rhi }
        }
        var ax = Axis(lo: lo, hi: hi, log: false)
        ax.linearTicks(step: step)
        return ax
    }

    static func niceStep(_ raw: Double) -> Double {
        let mag = Foundation.pow(10, (Foundation.log10(raw)).rounded(.down))
        let n = raw / mag
        return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag
    }

    mutating func linearTicks(step: Double) {
        let first = (lo / step - 1e-9).rounded(.up)
        let last = (hi / step + 1e-9).rounded(.down)
        guard last >= first, last - first < 200 else { return }
        var k = first
        while k <= last {
            var v = k * step
            if abs(v) < step * 1e-9 { v = 0 }
            ticks.append((v, Axis.format(v, step: step), nil))
            k += 1
        }
    }

    mutating func logTicks() {
        let a0 = Int((Foundation.log10(lo) - 1e-9).rounded(.up))
        let b0 = Int((Foundation.log10(hi) + 1e-9).rounded(.down))
        let decades = b0 - a0 + 1
        if decades <= 0 {
            // Less than a decade visible: fall back to linear ticks inside it.
            linearTicks(step: Axis.niceStep((hi - lo) / 5))
            return
        }
        let every = Swift.max(1, Int((Double(decades) / 8).rounded(.up)))
        for k in a0...b0 {
            if (k - a0) % every == 0 {
                ticks.append((Foundation.pow(10, Double(k)), "10", String(k)))
            } else {
                minor.append(Foundation.pow(10, Double(k)))  // unlabelled decade
            }
        }
        if b0 - a0 <= 6 {
            let lowDecade = a0 - 1
            for k in lowDecade...b0 {
                for m in 2...9 {
                    let v = Double(m) * Foundation.pow(10, Double(k))
                    if v > lo * (1 + 1e-12) && v < hi * (1 - 1e-12) { minor.append(v) }
                }
            }
        }
    }

    /// Tick label: fixed decimals matching the step, scientific for very large/small magnitudes.
    static func format(_ v: Double, step: Double) -> String {
        if v == 0 { return "0" }
        let mag = Swift.max(abs(v), step)
        if mag >= 1e6 || step < 1e-4 {
            return String(format: "%.3g", v)
        }
        let decimals = Swift.max(0, -Int(Foundation.log10(step).rounded(.down)))
        return String(format: "%.\(decimals)f", v)
    }
}

/// Viridis colormap (matplotlib), 11 stops at 0, 0.1, …, 1, linearly interpolated in sRGB.
enum Viridis {
    static let stops: [(Double, Double, Double)] = [
        (0x44, 0x01, 0x54), (0x48, 0x24, 0x75), (0x41, 0x44, 0x87), (0x35, 0x5f, 0x8d),
        (0x2a, 0x78, 0x8e), (0x21, 0x91, 0x8c), (0x22, 0xa8, 0x84), (0x44, 0xbf, 0x70),
        (0x7a, 0xd1, 0x51), (0xbd, 0xdf, 0x26), (0xfd, 0xe7, 0x25),
    ]
    /// sRGB bytes at `t` ∈ [0, 1] (clamped; NaN → 0).
    static func rgb(_ t: Double) -> (UInt8, UInt8, UInt8) {
        let u = Swift.min(1, Swift.max(0, t.isFinite ? t : 0)) * Double(stops.count - 1)
        let i = Swift.min(stops.count - 2, Int(u))
        let f = u - Double(i)
        let a = stops[i], b = stops[i + 1]
        func c(_ x: Double, _ y: Double) -> UInt8 { UInt8((x + (y - x) * f).rounded()) }
        return (c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
    }
    /// `#rrggbb` at `t` (String(format:) avoided: it dominates rendering of large maps on Linux).
    static func hex(_ t: Double) -> String {
        let (r, g, b) = rgb(t)
        let digits = Array("0123456789abcdef".utf8)
        let bytes: [UInt8] = [UInt8(ascii: "#"), digits[Int(r >> 4)], digits[Int(r & 15)], digits[Int(g >> 4)],
                              digits[Int(g & 15)], digits[Int(b >> 4)], digits[Int(b & 15)]]
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Escapes text for XML character data and attribute values.
func xmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for ch in s.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default:
            // Control characters are not allowed in XML 1.0 at all.
            if ch.value < 0x20 && ch != "\n" && ch != "\t" { out += " " } else { out.unicodeScalars.append(ch) }
        }
    }
    return out
}

/// Fast fixed 2-decimal number text for coordinates (String(format:) is slow on Linux for
/// heatmaps with tens of thousands of cells). Clamped so off-canvas points stay representable.
@inline(__always)
func fmt(_ v: Double) -> String {
    guard !v.isNaN else { return "0" }
    let c = Swift.min(1e6, Swift.max(-1e6, v))
    let n = Int((c * 100).rounded())
    let neg = n < 0
    let a = abs(n)
    let frac = a % 100
    var s = neg ? "-" : ""
    s += String(a / 100)
    if frac != 0 {
        s += frac < 10 ? ".0\(frac)" : (frac % 10 == 0 ? ".\(frac / 10)" : ".\(frac)")
    }
    return s
}

struct Renderer {
    let f: Figure
    var out = ""
    // Plot area in canvas pixels.
    var px0 = 0.0, px1 = 0.0, py0 = 0.0, py1 = 0.0
    var xa = Axis(lo: 0, hi: 1, log: false)
    var ya = Axis(lo: 0, hi: 1, log: false)

    /// Prefix for element ids, so several figures can share one document (panels, HTML pages).
    var idPrefix = ""

    init(figure: Figure, idPrefix: String = "") { f = figure; self.idPrefix = idPrefix }

    func X(_ v: Double) -> Double? { xa.frac(v).map { px0 + $0 * (px1 - px0) } }
    func Y(_ v: Double) -> Double? { ya.frac(v).map { py1 - $0 * (py1 - py0) } }

    static func edges(_ c: [Double], log: Bool) -> [Double] {
        guard !c.isEmpty else { return [] }
        if c.count == 1 { return log ? [c[0] / 2, c[0] * 2] : [c[0] - 0.5, c[0] + 0.5] }
        func mid(_ a: Double, _ b: Double) -> Double { log ? (a * b).squareRoot() : (a + b) / 2 }
        func ext(_ a: Double, _ b: Double) -> Double { log ? a * a / b : 2 * a - b }
        var e = [ext(c[0], mid(c[0], c[1]))]
        for i in 1..<c.count { e.append(mid(c[i - 1], c[i])) }
        e.append(ext(c[c.count - 1], mid(c[c.count - 2], c[c.count - 1])))
        return e
    }

    mutating func render() -> String {
        let hasHeat = !f.heatmaps.isEmpty
        px0 = 78; px1 = f.width - (hasHeat ? 110 : 24)
        py0 = f.title.isEmpty ? 16 : 40; py1 = f.height - 56
        var xs: [Double] = [], ys: [Double] = []
        for s in f.series {
            let n = Swift.min(s.x.count, s.y.count)
            switch s.kind {
            case .vline: xs.append(contentsOf: s.x)
            case .hline: ys.append(contentsOf: s.y)
            case .text: break
            case .band:
                let m = Swift.min(n, s.y2.count)
                for i in 0..<m where s.x[i].isFinite && (!f.xLog || s.x[i] > 0) {
                    for v in [s.y[i], s.y2[i]] where v.isFinite && (!f.yLog || v > 0) {
                        xs.append(s.x[i]); ys.append(v)
                    }
                }
            default:
                // Only points that are drawable on both axes shape the range.
                for i in 0..<n where s.x[i].isFinite && s.y[i].isFinite
                    && (!f.xLog || s.x[i] > 0) && (!f.yLog || s.y[i] > 0) {
                    xs.append(s.x[i]); ys.append(s.y[i])
                }
            }
        }
        let validHeat = f.heatmaps.filter { Figure.strictlyMonotone($0.x) && Figure.strictlyMonotone($0.y) }
        for h in validHeat {
            xs.append(contentsOf: Renderer.edges(h.x, log: f.xLog))
            ys.append(contentsOf: Renderer.edges(h.y, log: f.yLog))
        }
        xa = Axis.make(values: xs, log: f.xLog, fixed: f.xRange, tight: hasHeat)
        ya = Axis.make(values: ys, log: f.yLog, fixed: f.yRange, tight: hasHeat)

        out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(f.width))" height="\(fmt(f.height))" \
        viewBox="0 0 \(fmt(f.width)) \(fmt(f.height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
        <rect x="0" y="0" width="\(fmt(f.width))" height="\(fmt(f.height))" fill="white"/>
        <defs><clipPath id="\(idPrefix)plot-area"><rect x="\(fmt(px0))" y="\(fmt(py0))" width="\(fmt(px1 - px0))" height="\(fmt(py1 - py0))"/></clipPath></defs>

        """
        for h in validHeat { heatmap(h) }
        gridAndTicks()
        out += "<g clip-path=\"url(#\(idPrefix)plot-area)\">\n"
        // Bands first so lines and markers stay on top of the shading.
        for s in f.series { if case .band = s.kind { draw(s) } }
        for s in f.series { if case .band = s.kind {} else { draw(s) } }
        out += "</g>\n"
        out += "<rect class=\"frame\" x=\"\(fmt(px0))\" y=\"\(fmt(py0))\" width=\"\(fmt(px1 - px0))\" height=\"\(fmt(py1 - py0))\" fill=\"none\" stroke=\"black\"/>\n"
        labels()
        if let h = validHeat.last { colorbar(h) }
        legend()
        out += "</svg>\n"
        return out
    }

    mutating func gridAndTicks() {
        // A grid over a heatmap hides the data, so it is only drawn for line/scatter plots.
        let showGrid = f.grid && f.heatmaps.isEmpty
        var g = "<g class=\"axes\" stroke=\"black\">\n"
        for t in xa.ticks {
            guard let x = X(t.value), x >= px0 - 0.01, x <= px1 + 0.01 else { continue }
            if showGrid { g += "<line class=\"grid\" x1=\"\(fmt(x))\" y1=\"\(fmt(py0))\" x2=\"\(fmt(x))\" y2=\"\(fmt(py1))\" stroke=\"#dddddd\"/>\n" }
            g += "<line class=\"xtick\" data-value=\"\(t.value)\" x1=\"\(fmt(x))\" y1=\"\(fmt(py1))\" x2=\"\(fmt(x))\" y2=\"\(fmt(py1 + 5))\"/>\n"
            g += "<text class=\"xticklabel\" x=\"\(fmt(x))\" y=\"\(fmt(py1 + 19))\" text-anchor=\"middle\" stroke=\"none\">\(tickText(t))</text>\n"
        }
        for v in xa.minor {
            guard let x = X(v) else { continue }
            g += "<line class=\"xminor\" x1=\"\(fmt(x))\" y1=\"\(fmt(py1))\" x2=\"\(fmt(x))\" y2=\"\(fmt(py1 + 3))\"/>\n"
        }
        for t in ya.ticks {
            guard let y = Y(t.value), y >= py0 - 0.01, y <= py1 + 0.01 else { continue }
            if showGrid { g += "<line class=\"grid\" x1=\"\(fmt(px0))\" y1=\"\(fmt(y))\" x2=\"\(fmt(px1))\" y2=\"\(fmt(y))\" stroke=\"#dddddd\"/>\n" }
            g += "<line class=\"ytick\" data-value=\"\(t.value)\" x1=\"\(fmt(px0 - 5))\" y1=\"\(fmt(y))\" x2=\"\(fmt(px0))\" y2=\"\(fmt(y))\"/>\n"
            g += "<text class=\"yticklabel\" x=\"\(fmt(px0 - 8))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\" stroke=\"none\">\(tickText(t))</text>\n"
        }
        for v in ya.minor {
            guard let y = Y(v) else { continue }
            g += "<line class=\"yminor\" x1=\"\(fmt(px0 - 3))\" y1=\"\(fmt(y))\" x2=\"\(fmt(px0))\" y2=\"\(fmt(y))\"/>\n"
        }
        out += g + "</g>\n"
    }

    func tickText(_ t: (value: Double, label: String, exponent: String?)) -> String {
        if let e = t.exponent {
            return "\(xmlEscape(t.label))<tspan dy=\"-6\" font-size=\"9\">\(xmlEscape(e))</tspan>"
        }
        return xmlEscape(t.label)
    }

    mutating func labels() {
        let cx = (px0 + px1) / 2, cy = (py0 + py1) / 2
        if !f.title.isEmpty {
            out += "<text class=\"title\" x=\"\(fmt(cx))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">\(xmlEscape(f.title))</text>\n"
        }
        out += "<text class=\"xlabel\" x=\"\(fmt(cx))\" y=\"\(fmt(f.height - 14))\" text-anchor=\"middle\" font-size=\"13\">\(xmlEscape(f.xLabel))</text>\n"
        out += "<text class=\"ylabel\" x=\"18\" y=\"\(fmt(cy))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 \(fmt(cy)))\">\(xmlEscape(f.yLabel))</text>\n"
    }

    func markerSVG(_ m: Marker, _ x: Double, _ y: Double, _ color: String, size r: Double = 3.5) -> String {
        switch m {
        case .circle:
            return "<circle class=\"marker\" cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"\(fmt(r))\" fill=\"\(color)\"/>"
        case .square:
            return "<rect class=\"marker\" x=\"\(fmt(x - r))\" y=\"\(fmt(y - r))\" width=\"\(fmt(2 * r))\" height=\"\(fmt(2 * r))\" fill=\"\(color)\"/>"
        case .triangle:
            let h = r * 1.2
            return "<polygon class=\"marker\" points=\"\(fmt(x)),\(fmt(y - h)) \(fmt(x - h)),\(fmt(y + h * 0.8)) \(fmt(x + h)),\(fmt(y + h * 0.8))\" fill=\"\(color)\"/>"
        case .cross:
            return "<path class=\"marker\" d=\"M\(fmt(x - r)) \(fmt(y - r))L\(fmt(x + r)) \(fmt(y + r))M\(fmt(x - r)) \(fmt(y + r))L\(fmt(x + r)) \(fmt(y - r))\" stroke=\"\(color)\" stroke-width=\"1.5\" fill=\"none\"/>"
        }
    }

    func points(_ s: Figure.Series) -> [(Double, Double)?] {
        let n = Swift.min(s.x.count, s.y.count)
        return (0..<n).map { i in
            guard let x = X(s.x[i]), let y = Y(s.y[i]) else { return nil }
            return (x, y)
        }
    }

    mutating func draw(_ s: Figure.Series) {
        let color = xmlEscape(s.color)
        switch s.kind {
        case let .line(dashed, marker):
            let pts = points(s)
            var d = ""
            var pen = false
            for p in pts {
                guard let (x, y) = p else { pen = false; continue }
                d += (pen ? "L" : "M") + fmt(x) + " " + fmt(y)
                pen = true
            }
            if !d.isEmpty {
                out += "<path class=\"series-line\" d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" stroke-linejoin=\"round\"\(dashed ? " stroke-dasharray=\"6,4\"" : "")/>\n"
            }
            if let marker {
                for case let (x, y)? in pts { out += markerSVG(marker, x, y, color) + "\n" }
            }
        case let .scatter(marker):
            for case let (x, y)? in points(s) { out += markerSVG(marker, x, y, color) + "\n" }
        case .vline:
            guard let v = s.x.first, let x = X(v) else { return }
            out += "<line class=\"vline\" x1=\"\(fmt(x))\" y1=\"\(fmt(py0))\" x2=\"\(fmt(x))\" y2=\"\(fmt(py1))\" stroke=\"\(color)\" stroke-width=\"1.2\" stroke-dasharray=\"3,3\"/>\n"
        case .band:
            let n = Swift.min(s.x.count, s.y.count, s.y2.count)
            var segments: [[(Double, Double, Double)]] = [[]]
            for i in 0..<n {
                if let x = X(s.x[i]), let a = Y(s.y[i]), let b = Y(s.y2[i]) {
                    segments[segments.count - 1].append((x, a, b))
                } else if !segments[segments.count - 1].isEmpty {
                    segments.append([])
                }
            }
            var d = ""
            for seg in segments where seg.count >= 2 {
                d += "M" + seg.map { fmt($0.0) + " " + fmt($0.2) }.joined(separator: "L")
                d += "L" + seg.reversed().map { fmt($0.0) + " " + fmt($0.1) }.joined(separator: "L") + "Z"
            }
            if !d.isEmpty {
                out += "<path class=\"band\" d=\"\(d)\" fill=\"\(color)\" fill-opacity=\"0.2\" stroke=\"none\"/>\n"
            }
        case let .text(string):
            guard let v = s.x.first, let w = s.y.first, let x = X(v), let y = Y(w) else { return }
            out += "<text class=\"annotation\" x=\"\(fmt(x))\" y=\"\(fmt(y))\" fill=\"\(color)\">\(xmlEscape(string))</text>\n"
        case .hline:
            guard let v = s.y.first, let y = Y(v) else { return }
            out += "<line class=\"hline\" x1=\"\(fmt(px0))\" y1=\"\(fmt(y))\" x2=\"\(fmt(px1))\" y2=\"\(fmt(y))\" stroke=\"\(color)\" stroke-width=\"1.2\" stroke-dasharray=\"3,3\"/>\n"
        }
    }

    static func colorRange(_ h: Figure.Heatmap) -> (Double, Double) {
        var lo = Double.infinity, hi = -Double.infinity
        if let r = h.range, r.lowerBound.isFinite, r.upperBound.isFinite, r.upperBound > r.lowerBound {
            lo = r.lowerBound; hi = r.upperBound
        } else {
            for row in h.values { for v in row where v.isFinite { lo = Swift.min(lo, v); hi = Swift.max(hi, v) } }
        }
        if !lo.isFinite { return (0, 1) }
        if hi <= lo {
            let d = Swift.max(0.5, abs(lo) * 1e-3)
            return (lo - d, hi + d)
        }
        // Keep hi − lo finite so normalisation and colour-bar ticks stay well defined.
        if !(hi - lo).isFinite { return (lo / 2, hi / 2) }
        return (lo, hi)
    }

    static func uniform(_ c: [Double], log: Bool) -> Bool {
        guard c.count >= 2 else { return true }
        if log && !c.allSatisfy({ $0 > 0 }) { return false }
        let v = log ? c.map { Foundation.log($0) } : c
        let d = (v[v.count - 1] - v[0]) / Double(v.count - 1)
        for i in 1..<v.count where abs((v[i] - v[i - 1]) - d) > 1e-6 * abs(d) { return false }
        return true
    }

    mutating func heatmap(_ h: Figure.Heatmap) {
        let ex = Renderer.edges(h.x, log: f.xLog), ey = Renderer.edges(h.y, log: f.yLog)
        let (lo, hi) = Renderer.colorRange(h)
        let shapeOK = h.values.count == h.y.count && h.values.allSatisfy { $0.count == h.x.count }
        if shapeOK, !h.x.isEmpty, !h.y.isEmpty, h.x.count * h.y.count >= f.heatmapImageThreshold,
           Renderer.uniform(h.x, log: f.xLog), Renderer.uniform(h.y, log: f.yLog),
           let xa = X(ex[0]), let xb = X(ex[ex.count - 1]), let ya = Y(ey[0]), let yb = Y(ey[ey.count - 1]),
           let png = Renderer.heatmapPNG(h, lo: lo, hi: hi, flipX: xa > xb, flipY: ya < yb) {
            out += "<g class=\"heatmap\" clip-path=\"url(#\(idPrefix)plot-area)\">\n"
            out += "<image class=\"heatmap-image\" x=\"\(fmt(Swift.min(xa, xb)))\" y=\"\(fmt(Swift.min(ya, yb)))\" width=\"\(fmt(abs(xb - xa)))\" height=\"\(fmt(abs(yb - ya)))\" preserveAspectRatio=\"none\" image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(png.base64EncodedString())\"/>\n"
            out += "</g>\n"
            return
        }
        out += "<g class=\"heatmap\" clip-path=\"url(#\(idPrefix)plot-area)\" shape-rendering=\"crispEdges\">\n"
        let exPix = ex.map { X($0) }, eyPix = ey.map { Y($0) }
        for iy in 0..<Swift.min(h.y.count, h.values.count) {
            guard let ya = eyPix[iy], let yb = eyPix[iy + 1] else { continue }
            let row = h.values[iy]
            for ix in 0..<Swift.min(h.x.count, row.count) {
                let v = row[ix]
                guard v.isFinite, let xa = exPix[ix], let xb = exPix[ix + 1] else { continue }
                let x = Swift.min(xa, xb), y = Swift.min(ya, yb)
                // Slight overlap hides anti-aliasing seams between cells.
                out += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(abs(xb - xa) + 0.3))\" height=\"\(fmt(abs(yb - ya) + 0.3))\" fill=\"\(Viridis.hex((v - lo) / (hi - lo)))\"/>\n"
            }
        }
        out += "</g>\n"
    }

    /// One pixel per cell, top row = largest y on screen order; NaN cells transparent.
    static func heatmapPNG(_ h: Figure.Heatmap, lo: Double, hi: Double, flipX: Bool, flipY: Bool) -> Data? {
        let nx = h.x.count, ny = h.y.count
        var px = [UInt8](repeating: 0, count: 4 * nx * ny)
        for r in 0..<ny {
            // Screen row r (top first) shows the cell row with the largest y first, unless flipped.
            let iy = flipY ? r : ny - 1 - r
            for c in 0..<nx {
                let ix = flipX ? nx - 1 - c : c
                let v = h.values[iy][ix]
                guard v.isFinite else { continue }
                let rgb = Viridis.rgb((v - lo) / (hi - lo))
                let o = 4 * (r * nx + c)
                px[o] = rgb.0; px[o + 1] = rgb.1; px[o + 2] = rgb.2; px[o + 3] = 255
            }
        }
        return try? PNG.encodeRGBA(width: nx, height: ny, rgba: px)
    }

    mutating func colorbar(_ h: Figure.Heatmap) {
        let (lo, hi) = Renderer.colorRange(h)
        let bx = px1 + 16, bw = 16.0
        out += "<defs><linearGradient id=\"\(idPrefix)viridis\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        for i in 0..<Viridis.stops.count {
            let t = Double(i) / Double(Viridis.stops.count - 1)
            out += "<stop offset=\"\(t)\" stop-color=\"\(Viridis.hex(t))\"/>"
        }
        out += "</linearGradient></defs>\n"
        out += "<g class=\"colorbar\">\n<rect x=\"\(fmt(bx))\" y=\"\(fmt(py0))\" width=\"\(fmt(bw))\" height=\"\(fmt(py1 - py0))\" fill=\"url(#\(idPrefix)viridis)\" stroke=\"black\"/>\n"
        var ax = Axis(lo: lo, hi: hi, log: false)
        ax.linearTicks(step: Axis.niceStep((hi - lo) / 5))
        for t in ax.ticks {
            let y = py1 - (t.value - lo) / (hi - lo) * (py1 - py0)
            out += "<line class=\"ctick\" x1=\"\(fmt(bx + bw))\" y1=\"\(fmt(y))\" x2=\"\(fmt(bx + bw + 4))\" y2=\"\(fmt(y))\" stroke=\"black\"/>\n"
            out += "<text x=\"\(fmt(bx + bw + 6))\" y=\"\(fmt(y + 4))\">\(xmlEscape(t.label))</text>\n"
        }
        let lx = f.width - 12, cy = (py0 + py1) / 2
        out += "<text class=\"clabel\" x=\"\(fmt(lx))\" y=\"\(fmt(cy))\" text-anchor=\"middle\" transform=\"rotate(-90 \(fmt(lx)) \(fmt(cy)))\">\(xmlEscape(h.colorbarLabel))</text>\n</g>\n"
    }

    mutating func legend() {
        let entries = f.series.filter { $0.label != nil && !($0.label!.isEmpty) }
        guard !entries.isEmpty, f.legend != .none else { return }
        let rowH = 18.0
        let maxChars = entries.map { $0.label!.count }.max() ?? 0
        let w = 44 + Double(maxChars) * 6.8, h = Double(entries.count) * rowH + 8
        let left = f.legend == .topLeft || f.legend == .bottomLeft
        let top = f.legend == .topLeft || f.legend == .topRight
        let lx = left ? px0 + 8 : px1 - 8 - w
        let ly = top ? py0 + 8 : py1 - 8 - h
        out += "<g class=\"legend\">\n<rect x=\"\(fmt(lx))\" y=\"\(fmt(ly))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999999\"/>\n"
        for (i, s) in entries.enumerated() {
            let y = ly + 4 + rowH * (Double(i) + 0.5)
            let c = xmlEscape(s.color)
            let x0 = lx + 6, x1 = lx + 32
            switch s.kind {
            case let .line(dashed, marker):
                out += "<line class=\"legend-line\" x1=\"\(fmt(x0))\" y1=\"\(fmt(y))\" x2=\"\(fmt(x1))\" y2=\"\(fmt(y))\" stroke=\"\(c)\" stroke-width=\"1.8\"\(dashed ? " stroke-dasharray=\"6,4\"" : "")/>\n"
                if let marker { out += markerSVG(marker, (x0 + x1) / 2, y, c).replacingOccurrences(of: "class=\"marker\"", with: "class=\"legend-marker\"") + "\n" }
            case let .scatter(marker):
                out += markerSVG(marker, (x0 + x1) / 2, y, c).replacingOccurrences(of: "class=\"marker\"", with: "class=\"legend-marker\"") + "\n"
            case .band:
                out += "<rect class=\"legend-band\" x=\"\(fmt(x0))\" y=\"\(fmt(y - 5))\" width=\"\(fmt(x1 - x0))\" height=\"10\" fill=\"\(c)\" fill-opacity=\"0.2\" stroke=\"none\"/>\n"
            case .text:
                break
            case .vline, .hline:
                out += "<line class=\"legend-line\" x1=\"\(fmt(x0))\" y1=\"\(fmt(y))\" x2=\"\(fmt(x1))\" y2=\"\(fmt(y))\" stroke=\"\(c)\" stroke-width=\"1.2\" stroke-dasharray=\"3,3\"/>\n"
            }
            out += "<text class=\"legend-label\" x=\"\(fmt(x1 + 6))\" y=\"\(fmt(y + 4))\">\(xmlEscape(s.label!))</text>\n"
        }
        out += "</g>\n"
    }
}
