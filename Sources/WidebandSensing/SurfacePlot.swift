import Foundation
import Linalg
import ISACIO

/// A 3-D surface z(x, y) drawn as an SVG in oblique projection (the paper's Fig. 5(b) view of a MUSIC
/// spectrum): filled quadrilaterals painted back to front, coloured by height, with labelled axes.
///
/// Projection (azimuth φ about the vertical axis, elevation ε): with normalized coordinates u, v ∈ [−½, ½]
/// (x and y) and w ∈ [0, 1] (z between `zRange`), screen x = u cos φ − v sin φ,
/// screen y = −(u sin φ + v cos φ) sin ε − w cos ε (SVG y grows downwards). Depth for the painter's order is
/// u sin φ + v cos φ (larger = farther from the viewer, painted first).
public enum SurfacePlot {
    /// Writes the surface of `z` ([y.count][x.count], row i belongs to y[i]) to `path`.
    /// - Parameters: at most `maxCells` quads per axis (the grid is subsampled, keeping both end points);
    ///   `zRange` clamps and scales the height (values below are drawn at the floor).
    public static func write(x: [Double], y: [Double], z: [[Double]], zRange: ClosedRange<Double>,
                             title: String, xLabel: String, yLabel: String, zLabel: String,
                             azimuthDeg: Double = 35, elevationDeg: Double = 30, maxCells: Int = 90,
                             to path: String) throws {
        guard x.count >= 2, y.count >= 2, z.count == y.count, z.allSatisfy({ $0.count == x.count }) else {
            throw ISACError.shapeMismatch("surface: z must be [\(y.count)][\(x.count)] with at least 2 × 2 samples")
        }
        func pick(_ n: Int) -> [Int] {
            let m = Swift.min(n - 1, maxCells)
            return (0...m).map { Int((Double($0) * Double(n - 1) / Double(m)).rounded()) }
        }
        let ix = pick(x.count), iy = pick(y.count)
        let (x0, x1) = (x.first!, x.last!), (y0, y1) = (y.first!, y.last!)
        let zl = zRange.lowerBound, zs = Swift.max(zRange.upperBound - zRange.lowerBound, 1e-12)
        let phi = azimuthDeg * Double.pi / 180, eps = elevationDeg * Double.pi / 180
        let (cp, sp, ce, se) = (cos(phi), sin(phi), cos(eps), sin(eps))
        let width = 720.0, height = 560.0, scale = 440.0, cx = width / 2, cy = height * 0.58
        func norm(_ xv: Double, _ yv: Double, _ zv: Double) -> (Double, Double, Double) {
            ((xv - x0) / (x1 - x0) - 0.5, (yv - y0) / (y1 - y0) - 0.5, Swift.min(Swift.max((zv - zl) / zs, 0), 1))
        }
        func screen(_ u: Double, _ v: Double, _ w: Double) -> (Double, Double) {
            (cx + scale * (u * cp - v * sp), cy + scale * (-(u * sp + v * cp) * se - 0.55 * w * ce))
        }
        func color(_ w: Double) -> String {
            // A viridis-like ramp from dark blue to yellow.
            let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
            let t = Swift.min(Swift.max(w, 0), 1) * Double(stops.count - 1)
            let k = Swift.min(Int(t), stops.count - 2), f = t - Double(k)
            let a = stops[k], b = stops[k + 1]
            return String(format: "#%02x%02x%02x", Int(a.0 + f * (b.0 - a.0)), Int(a.1 + f * (b.1 - a.1)), Int(a.2 + f * (b.2 - a.2)))
        }
        struct Quad { var depth: Double; var pts: [(Double, Double)]; var w: Double }
        var quads: [Quad] = []
        quads.reserveCapacity(ix.count * iy.count)
        for a in 0..<(iy.count - 1) {
            for b in 0..<(ix.count - 1) {
                let corners = [(iy[a], ix[b]), (iy[a], ix[b + 1]), (iy[a + 1], ix[b + 1]), (iy[a + 1], ix[b])]
                var pts: [(Double, Double)] = [], depth = 0.0, wsum = 0.0
                for (i, j) in corners {
                    let (u, v, w) = norm(x[j], y[i], z[i][j].isFinite ? z[i][j] : zl)
                    pts.append(screen(u, v, w)); depth += u * sp + v * cp; wsum += w
                }
                quads.append(Quad(depth: depth / 4, pts: pts, w: wsum / 4))
            }
        }
        quads.sort { $0.depth > $1.depth }
        var svg = String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n", width, height, width, height)
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        svg += "<text x=\"\(Int(cx))\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">\(escape(title))</text>\n"
        // Floor frame and axes (drawn first: behind the surface).
        let floor = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)].map { screen($0.0, $0.1, 0) }
        svg += "<polygon points=\"" + floor.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ") + "\" fill=\"#f4f4f4\" stroke=\"#999999\"/>\n"
        for q in quads {
            svg += "<polygon points=\"" + q.pts.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
            svg += "\" fill=\"\(color(q.w))\" stroke=\"#222222\" stroke-width=\"0.15\" stroke-opacity=\"0.5\"/>\n"
        }
        // Axis ticks along the front edges: x along v = −½, y along u = +½, z on the left corner.
        func tick(_ p: (Double, Double), _ text: String, anchor: String, dx: Double, dy: Double) {
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"%@\">%@</text>\n", p.0 + dx, p.1 + dy, anchor, escape(text))
        }
        for k in 0...4 {
            let f = Double(k) / 4
            tick(screen(f - 0.5, -0.5, 0), CSVTable.format(((x0 + f * (x1 - x0)) * 100).rounded() / 100), anchor: "middle", dx: 0, dy: 16)
            tick(screen(0.5, f - 0.5, 0), CSVTable.format(((y0 + f * (y1 - y0)) * 10).rounded() / 10), anchor: "start", dx: 6, dy: 4)
            let zp = screen(-0.5, -0.5, f)
            tick(zp, CSVTable.format(zl + f * zs), anchor: "end", dx: -6, dy: 4)
        }
        tick(screen(0, -0.5, 0), xLabel, anchor: "middle", dx: 0, dy: 34)
        tick(screen(0.5, 0, 0), yLabel, anchor: "start", dx: 40, dy: 14)
        let zTop = screen(-0.5, -0.5, 1)
        tick(zTop, zLabel, anchor: "end", dx: -6, dy: -14)
        svg += "</svg>\n"
        try AtomicFile.write(svg, to: path)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
