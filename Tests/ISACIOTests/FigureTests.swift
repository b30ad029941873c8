import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Linalg
@testable import ISACIO

/// Parsed SVG: every element with its attributes, plus the concatenated text of each element.
final class SVGDoc: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attrs: [String: String]; var text = "" }
    var elements: [Element] = []
    private var stack: [Int] = []
    var error: Error?

    init(_ svg: String) {
        super.init()
        let p = XMLParser(data: Data(svg.utf8))
        p.delegate = self
        if !p.parse() { error = p.parserError ?? ISACError.io("XML parse failed") }
    }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attrs: attributes))
        stack.append(elements.count - 1)
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        for i in stack { elements[i].text += string }
    }
    func with(class c: String) -> [Element] { elements.filter { $0.attrs["class"] == c } }
    func named(_ n: String) -> [Element] { elements.filter { $0.name == n } }
}

func parsed(_ f: Figure) -> SVGDoc {
    let doc = SVGDoc(f.svg())
    #expect(doc.error == nil, "SVG is not well-formed XML: \(String(describing: doc.error))")
    return doc
}

@Test func figureLinesMarkersAndLegendCounts() {
    var f = Figure(title: "t", xLabel: "x", yLabel: "y")
    let x = (0..<10).map(Double.init)
    f.line(x: x, y: x.map { $0 * $0 }, label: "square", markers: true)    // circles
    f.line(x: x, y: x.map { 2 * $0 }, label: "twice", dashed: true)        // no markers
    f.scatter(x: [1, 2, 3], y: [4, 5, 6], label: "pts", marker: .cross)
    f.scatter(x: [1, 2], y: [3, 3], marker: .triangle)                      // no label
    f.verticalLine(at: 4.5, label: "boundary")
    let d = parsed(f)
    #expect(d.with(class: "series-line").count == 2)
    #expect(d.with(class: "series-line").filter { $0.attrs["stroke-dasharray"] != nil }.count == 1)
    let markers = d.with(class: "marker")
    #expect(markers.filter { $0.name == "circle" }.count == 10)
    #expect(markers.filter { $0.name == "path" }.count == 3)
    #expect(markers.filter { $0.name == "polygon" }.count == 2)
    #expect(d.with(class: "vline").count == 1)
    #expect(d.with(class: "legend-label").map(\.text) == ["square", "twice", "pts", "boundary"])
    // Distinct default colours for the four data series.
    let colors = Set(d.with(class: "series-line").compactMap { $0.attrs["stroke"] })
    #expect(colors.count == 2)
}

@Test func figureSkipsNonFinitePointsAndBreaksLines() throws {
    var f = Figure(title: "nan", xLabel: "x", yLabel: "y", yLog: true)
    f.line(x: [1, 2, 3, 4, 5, 6], y: [1, .nan, 3, .infinity, 5, 6], label: "a", markers: true)
    f.line(x: [1, 2, 3], y: [10, -1, 100], label: "neg on log")   // -1 cannot sit on a log axis
    f.scatter(x: [.nan, 1], y: [1, 2])
    let svg = f.svg()
    #expect(!svg.lowercased().contains("nan\""), "no NaN coordinates written")
    #expect(!svg.contains("inf\""))
    let d = parsed(f)
    let paths = d.with(class: "series-line")
    #expect(paths.count == 2)
    // Line a: segments {1}, {3}, {5, 6} → three subpaths; 4 markers at finite points.
    #expect(paths[0].attrs["d"]!.filter { $0 == "M" }.count == 3)
    #expect(paths[1].attrs["d"]!.filter { $0 == "M" }.count == 2)
    #expect(d.with(class: "marker").count == 4 + 1)
    try f.validate()
}

@Test func figureAllNaNAndEmptyStillRenderAxes() {
    let empty = Figure(title: "", xLabel: "x", yLabel: "y")
    let d = parsed(empty)
    #expect(d.with(class: "frame").count == 1)
    #expect(d.with(class: "xtick").count >= 2 && d.with(class: "ytick").count >= 2)
    var g = Figure(title: "all nan", xLabel: "x", yLabel: "y", xLog: true, yLog: true)
    g.line(x: [.nan, .nan], y: [.nan, 1], label: "void")
    let e = parsed(g)
    #expect(e.with(class: "series-line").isEmpty)
    #expect(e.with(class: "xtick").count >= 2)
    var h = Figure(title: "const", xLabel: "x", yLabel: "y")
    h.line(x: [3, 3, 3], y: [7, 7, 7])
    #expect(parsed(h).with(class: "ytick").count >= 2)
}

@Test func logAxisTicksSitAtEquallySpacedDecades() throws {
    var f = Figure(title: "log", xLabel: "f [Hz]", yLabel: "P", xLog: true, yLog: true)
    f.line(x: [3e2, 1e3, 4e5], y: [2e-6, 1e-3, 0.5])
    let d = parsed(f)
    for cls in ["xtick", "ytick"] {
        let ticks = d.with(class: cls)
        let values = ticks.map { Double($0.attrs["data-value"]!)! }
        // Range rounded out to whole decades: x 1e2…1e6, y 1e-6…1e0.
        let expected = cls == "xtick" ? (2...6).map { pow(10.0, Double($0)) } : (-6...0).map { pow(10.0, Double($0)) }
        #expect(values.count == expected.count)
        for (v, e) in zip(values, expected) { #expect(abs(v / e - 1) < 1e-12) }
        let pos = ticks.map { Double($0.attrs[cls == "xtick" ? "x1" : "y1"]!)! }
        let gaps = zip(pos.dropFirst(), pos).map { $0 - $1 }
        for g in gaps { #expect(abs(g - gaps[0]) < 0.02, "decades equally spaced: \(gaps)") }
    }
    // A data point at 1e3 lies exactly on the 10^3 tick; minor ticks exist between decades.
    #expect(d.with(class: "xminor").count == 4 * 8)
    // Labels are 10 with a superscript exponent.
    let labels = d.with(class: "xticklabel").map(\.text)
    #expect(labels.first == "102" && labels.last == "106")
}

@Test func linearTicksAreNiceAndCoverTheData() throws {
    for (lo, hi) in [(0.0, 1.0), (-3.7, 12.2), (1e-5, 3e-5), (995.0, 1013.0), (-1e7, 2e7)] {
        var f = Figure(title: "lin", xLabel: "x", yLabel: "y")
        f.line(x: [lo, hi], y: [hi, lo])
        let d = parsed(f)
        let v = d.with(class: "xtick").map { Double($0.attrs["data-value"]!)! }
        #expect(v.count >= 3 && v.count <= 12, "\(lo)…\(hi): \(v)")
        let step = v[1] - v[0]
        let mant = step / pow(10, floor(log10(step)))
        #expect([1.0, 2.0, 5.0, 10.0].contains { abs(mant - $0) < 1e-6 }, "step \(step)")
        #expect(v.first! <= lo + 1e-12 * abs(lo) && v.last! >= hi - 1e-12 * abs(hi), "ticks cover \(lo)…\(hi)")
        let labels = Set(d.with(class: "xticklabel").map(\.text))
        #expect(labels.count == v.count, "distinct labels \(labels)")
    }
}

@Test func figureEscapesTextAndValidatesShapes() throws {
    var f = Figure(title: "a < b & \"c\" > 'd'", xLabel: "θ [°]", yLabel: "|h|²")
    f.line(x: [1, 2, 3], y: [1, 2], label: "bad <series>")
    let d = parsed(f)
    #expect(d.with(class: "title").first?.text == "a < b & \"c\" > 'd'")
    #expect(d.with(class: "xlabel").first?.text == "θ [°]")
    do {
        try f.validate()
        Issue.record("mismatched x/y accepted")
    } catch let ISACError.shapeMismatch(msg) {
        #expect(msg.contains("bad <series>") && msg.contains("3") && msg.contains("2"))
    }
    #expect(throws: ISACError.self) { try f.write(to: tempDir() + "/bad.svg") }
    var h = Figure(title: "h", xLabel: "x", yLabel: "y")
    h.heatmap(x: [1, 2, 3], y: [1, 2], values: [[1, 2, 3]], colorbarLabel: "P [dB]")
    #expect(throws: ISACError.self) { try h.validate() }
    var m = Figure(title: "h", xLabel: "x", yLabel: "y")
    m.heatmap(x: [1, 3, 2], y: [1], values: [[1, 2, 3]], colorbarLabel: "non-monotone")
    #expect(throws: ISACError.self) { try m.validate() }
}

@Test func heatmapCellsColorbarAndRange() throws {
    let nx = 6, ny = 4
    let x = (0..<nx).map { Double($0) * 0.5 }, y = (0..<ny).map { -1 + Double($0) }
    var vals = (0..<ny).map { iy in (0..<nx).map { ix in Double(ix + iy * nx) } }
    vals[2][3] = .nan
    var f = Figure(title: "map", xLabel: "x [m]", yLabel: "y [m]")
    f.heatmap(x: x, y: y, values: vals, colorbarLabel: "power [dB]")
    f.scatter(x: [1], y: [0], marker: .cross)
    let d = parsed(f)
    let heat = d.elements.firstIndex { $0.attrs["class"] == "heatmap" }!
    let cells = d.elements[(heat + 1)...].prefix { $0.name == "rect" }
    #expect(cells.count == nx * ny - 1)
    // Smallest value gets the first viridis stop, largest the last.
    #expect(cells.first?.attrs["fill"] == Viridis.hex(0) && Viridis.hex(0) == "#440154")
    #expect(cells.last?.attrs["fill"] == Viridis.hex(1) && Viridis.hex(1) == "#fde725")
    #expect(d.with(class: "clabel").first?.text == "power [dB]")
    #expect(d.with(class: "ctick").count >= 3)
    // Tight axes: x spans the cell edges −0.25…2.75.
    let xt = d.with(class: "xtick").map { Double($0.attrs["data-value"]!)! }
    #expect(xt.allSatisfy { $0 >= -0.25 && $0 <= 2.75 })
    // Cells tile the plot width exactly (edges at midpoints).
    let frame = d.with(class: "frame")[0]
    let fx = Double(frame.attrs["x"]!)!, fw = Double(frame.attrs["width"]!)!
    let row0 = cells.prefix(nx)
    let left = Double(row0.first!.attrs["x"]!)!
    let right = Double(row0.last!.attrs["x"]!)! + Double(row0.last!.attrs["width"]!)! - 0.3
    #expect(abs(left - fx) < 0.02 && abs(right - (fx + fw)) < 0.02)
}

@Test func viridisIsMonotoneInLightness() {
    // Perceptual colormaps rise monotonically in luminance; check with Rec. 709 luma.
    func luma(_ hex: String) -> Double {
        let v = Int(hex.dropFirst(), radix: 16)!
        return 0.2126 * Double(v >> 16) + 0.7152 * Double((v >> 8) & 0xFF) + 0.0722 * Double(v & 0xFF)
    }
    let l = (0...50).map { luma(Viridis.hex(Double($0) / 50)) }
    for (a, b) in zip(l, l.dropFirst()) { #expect(b >= a - 0.5) }
    #expect(Viridis.hex(.nan) == Viridis.hex(0) && Viridis.hex(7) == Viridis.hex(1))
}

@Test func figureWritesAtomicallyAndCoordinatesFormat() throws {
    let dir = tempDir()
    var f = Figure(title: "w", xLabel: "x", yLabel: "y")
    f.line(x: [0, 1], y: [0, 1], label: "l")
    try f.write(to: "\(dir)/sub/fig.svg")
    let text = try String(contentsOfFile: "\(dir)/sub/fig.svg", encoding: .utf8)
    #expect(text == f.svg())
    #expect(fmt(1.005) == "1" || fmt(1.005) == "1.01")
    #expect(fmt(-0.5) == "-0.5" && fmt(12.34) == "12.34" && fmt(0.07) == "0.07" && fmt(3e9) == "1000000")
}

@Test func bandsTextAndPanels() throws {
    var a = Figure(title: "band", xLabel: "x", yLabel: "y")
    let x = [0.0, 1, 2, 3, 4, 5]
    a.band(x: x, lower: [0, 1, .nan, 1, 1, 1], upper: [2, 3, 3, 3, 3, 9], label: "±σ")
    a.line(x: x, y: [1, 2, 2, 2, 2, 2], label: "mean")
    a.text("note <1>", x: 2, y: 2.5)
    let d = parsed(a)
    let band = d.with(class: "band")
    #expect(band.count == 1)
    // The NaN at x=2 splits the band into two closed polygons.
    #expect(band[0].attrs["d"]!.filter { $0 == "Z" }.count == 2)
    // Band drawn before (under) the line.
    let bi = d.elements.firstIndex { $0.attrs["class"] == "band" }!
    let li = d.elements.firstIndex { $0.attrs["class"] == "series-line" }!
    #expect(bi < li)
    #expect(d.with(class: "annotation").first?.text == "note <1>")
    #expect(d.with(class: "legend-band").count == 1)
    // The upper edge 9 is inside the automatic y range.
    let yt = d.with(class: "ytick").map { Double($0.attrs["data-value"]!)! }
    #expect(yt.max()! >= 9)
    var bad = Figure(title: "b", xLabel: "x", yLabel: "y")
    bad.band(x: [1, 2], lower: [1], upper: [2, 3], label: "short")
    #expect(throws: ISACError.self) { try bad.validate() }

    var h = Figure(title: "h", xLabel: "x", yLabel: "y")
    h.heatmap(x: [1, 2], y: [1, 2], values: [[1, 2], [3, 4]], colorbarLabel: "c")
    let svg = Figure.panels([a, h, a], columns: 2)
    let p = SVGDoc(svg)
    #expect(p.error == nil)
    let panels = p.with(class: "panel")
    #expect(panels.count == 3)
    #expect(panels.map { $0.attrs["x"]! } == ["0", "720", "0"] && panels.map { $0.attrs["y"]! } == ["0", "0", "480"])
    // Ids are unique across panels and every url(#id) reference resolves.
    let ids = p.elements.compactMap { $0.attrs["id"] }
    #expect(Set(ids).count == ids.count && ids.count >= 4)
    for e in p.elements {
        for v in e.attrs.values where v.hasPrefix("url(#") {
            #expect(ids.contains(String(v.dropFirst(5).dropLast())), "dangling \(v)")
        }
    }
    #expect(throws: ISACError.self) { try Figure.writePanels([a], columns: 0, to: tempDir() + "/p.svg") }
    #expect(throws: ISACError.self) { try Figure.writePanels([], columns: 1, to: tempDir() + "/p.svg") }
    #expect(throws: ISACError.self) { try Figure.writePanels([bad], columns: 1, to: tempDir() + "/p.svg") }
}

/// Random extreme inputs (seeded) must always render well-formed XML with axis ticks and no
/// NaN coordinates — the renderer never traps on data.
@Test func figureFuzzExtremeValues() {
    var rng = RandomSource(seed: 2024, stream: 7)
    let specials: [Double] = [0, -0.0, .nan, .infinity, -.infinity, .greatestFiniteMagnitude,
                              -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e-300, 1e300, 1, -1]
    func value() -> Double {
        switch rng.integer(in: 0...3) {
        case 0: return specials[rng.integer(in: 0...(specials.count - 1))]
        case 1: return rng.gaussian() * pow(10, rng.uniform(-30, 30))
        default: return rng.uniform(-5, 5)
        }
    }
    for trial in 0..<200 {
        var f = Figure(title: "fuzz \(trial)", xLabel: "x", yLabel: "y", xLog: trial % 3 == 0, yLog: trial % 4 == 0)
        let n = rng.integer(in: 0...6)
        f.line(x: (0..<n).map { _ in value() }, y: (0..<n).map { _ in value() }, label: "l", markers: true)
        f.scatter(x: [value(), value()], y: [value(), value()], label: "s")
        if trial % 5 == 0 { f.verticalLine(at: value()); f.horizontalLine(at: value()) }
        if trial % 6 == 0 {
            let v = (0..<3).map { _ in (0..<4).map { _ in value() } }
            f.heatmap(x: [1, 2, 3, 4], y: [1, 2, 3], values: v, colorbarLabel: "c")
        }
        if trial % 7 == 0 {
            let a = value()
            if a.isFinite && a < 1e308 { f.xRange = a...1e308 }
        }
        if trial % 8 == 0 { f.heatmapImageThreshold = 0 }
        let svg = f.svg()
        let d = SVGDoc(svg)
        #expect(d.error == nil, "trial \(trial)")
        #expect(!svg.contains("nan") && !svg.contains("=\"inf"), "trial \(trial)")
        #expect(d.with(class: "xtick").count + d.with(class: "xminor").count >= 1, "trial \(trial): \(f.series.map { ($0.x, $0.y) }) \(String(describing: f.xRange))")
    }
}
