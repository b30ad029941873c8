import Foundation
import Testing
import Linalg
@testable import ISACIO

/// Splits a PNG into (type, body) chunks, checking the signature and every chunk CRC.
func pngChunks(_ d: [UInt8]) -> [(String, [UInt8])]? {
    guard d.count >= 8, Array(d[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
    var out: [(String, [UInt8])] = []
    var p = 8
    while p + 12 <= d.count {
        let n = Int(d[p]) << 24 | Int(d[p + 1]) << 16 | Int(d[p + 2]) << 8 | Int(d[p + 3])
        guard p + 12 + n <= d.count else { return nil }
        let tb = Array(d[(p + 4)..<(p + 8 + n)])
        let crc = UInt32(d[p + 8 + n]) << 24 | UInt32(d[p + 9 + n]) << 16 | UInt32(d[p + 10 + n]) << 8 | UInt32(d[p + 11 + n])
        guard crc == CRC32.checksum(Data(tb)) else { return nil }
        out.append((String(decoding: tb[0..<4], as: UTF8.self), Array(tb[4...])))
        p += 12 + n
    }
    return p == d.count ? out : nil
}

@Test func adler32KnownVector() {
    // RFC 1950 example value for "Wikipedia".
    #expect(PNG.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
    #expect(PNG.adler32([]) == 1)
    // Long input exercises the modular reduction (naive reference with % every step).
    let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    var a: UInt32 = 1, b: UInt32 = 0
    for x in big { a = (a + UInt32(x)) % 65_521; b = (b + a) % 65_521 }
    #expect(PNG.adler32(big) == b << 16 | a)
}

@Test func pngStructureAndValidation() throws {
    let w = 300, h = 250   // > 65535 raw bytes: several stored blocks
    let px = (0..<(4 * w * h)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let png = [UInt8](try PNG.encodeRGBA(width: w, height: h, rgba: px))
    let chunks = try #require(pngChunks(png))
    #expect(chunks.map(\.0) == ["IHDR", "IDAT", "IEND"])
    #expect(chunks[0].1 == [0, 0, 1, 44, 0, 0, 0, 250, 8, 6, 0, 0, 0])
    #expect(throws: ISACError.self) { try PNG.encodeRGBA(width: 0, height: 1, rgba: []) }
    #expect(throws: ISACError.self) { try PNG.encodeRGBA(width: 2, height: 2, rgba: [1, 2, 3]) }
    guard numpyAvailable else { print("note: python3 not available; skipping zlib check"); return }
    // Independent decoder: Python's zlib inflates the IDAT and must give back the pixels.
    let dir = tempDir()
    try AtomicFile.write(Data(png), to: "\(dir)/a.png")
    try AtomicFile.write(Data(px), to: "\(dir)/a.raw")
    let script = """
    import sys, zlib, struct
    d = open(sys.argv[1] + '/a.png', 'rb').read(); raw = open(sys.argv[1] + '/a.raw', 'rb').read()
    p = 8; idat = b''
    while p < len(d):
        n, t = struct.unpack('>I4s', d[p:p+8]); body = d[p+8:p+8+n]
        if t == b'IDAT': idat += body
        p += 12 + n
    z = zlib.decompress(idat); w, h = 300, 250
    rows = [z[r*(4*w+1):(r+1)*(4*w+1)] for r in range(h)]
    assert all(r[0] == 0 for r in rows)
    assert b''.join(r[1:] for r in rows) == raw
    print('OK')
    """
    let r = runPython(script, [dir])
    #expect(r?.0 == 0, "\(r?.1 ?? "")")
}

@Test func largeUniformHeatmapEmbedsOnePNGPixelPerCell() throws {
    let nx = 50, ny = 40
    let x = (0..<nx).map { Double($0) }, y = (0..<ny).map { Double($0) * 0.25 }
    var vals = (0..<ny).map { iy in (0..<nx).map { ix in Double(ix) + 100 * Double(iy) } }
    vals[0][0] = .nan
    var f = Figure(title: "big", xLabel: "x", yLabel: "y")
    f.heatmap(x: x, y: y, values: vals, colorbarLabel: "v")
    let d = parsed(f)
    let images = d.with(class: "heatmap-image")
    #expect(images.count == 1)
    let href = try #require(images.first?.attrs["href"])
    #expect(href.hasPrefix("data:image/png;base64,"))
    let png = try #require(Data(base64Encoded: String(href.dropFirst("data:image/png;base64,".count))))
    let chunks = try #require(pngChunks([UInt8](png)))
    #expect(chunks[0].1.prefix(8) == [0, 0, 0, 50, 0, 0, 0, 40])
    // Stored deflate: the pixel bytes appear verbatim. Bottom-left cell (row 0, col 0) is NaN →
    // transparent at screen row ny−1, col 0; top-right (row ny−1, col nx−1) is the maximum → last
    // viridis colour at screen row 0, col nx−1.
    let idat = chunks[1].1
    func pixel(_ r: Int, _ c: Int) -> [UInt8] {
        // zlib header (2) + stored block header (5) ahead of the first scanline; one block here.
        let o = 2 + 5 + r * (4 * nx + 1) + 1 + 4 * c
        return Array(idat[o..<(o + 4)])
    }
    #expect(pixel(ny - 1, 0)[3] == 0)
    #expect(pixel(0, nx - 1) == [0xFD, 0xE7, 0x25, 255])
    #expect(pixel(ny - 1, 1)[3] == 255)
    // The image spans the frame exactly (tight axes).
    let fr = d.with(class: "frame")[0], im = images[0]
    for k in ["x", "y", "width", "height"] {
        #expect(abs(Double(fr.attrs[k]!)! - Double(im.attrs[k]!)!) < 0.02, "\(k)")
    }
    // Below the threshold the same map is drawn as vector cells.
    f.heatmapImageThreshold = .max
    #expect(parsed(f).with(class: "heatmap-image").isEmpty)
}

/// Extracts the embedded heatmap PNG's raw RGBA rows (stored deflate: bytes appear verbatim).
func heatmapPixels(_ f: Figure, nx: Int, ny: Int) throws -> [[UInt8]] {
    let d = parsed(f)
    let href = try #require(d.with(class: "heatmap-image").first?.attrs["href"])
    let png = try #require(Data(base64Encoded: String(href.dropFirst("data:image/png;base64,".count))))
    let idat = try #require(pngChunks([UInt8](png))?.first { $0.0 == "IDAT" }?.1)
    return (0..<ny).map { r in
        let o = 2 + 5 + r * (4 * nx + 1) + 1
        return Array(idat[o..<(o + 4 * nx)])
    }
}

@Test func heatmapImageOrientationAndLogAxes() throws {
    let nx = 50, ny = 40
    let xs = (0..<nx).map { Double($0) }, ys = (0..<ny).map { Double($0) }
    let vals = ys.map { y in xs.map { x in x * x + 3 * y } }
    var up = Figure(title: "", xLabel: "x", yLabel: "y")
    up.heatmap(x: xs, y: ys, values: vals, colorbarLabel: "v")
    // Same data with x given in descending order (columns reversed): identical picture.
    var down = Figure(title: "", xLabel: "x", yLabel: "y")
    down.heatmap(x: xs.reversed(), y: ys, values: vals.map { $0.reversed() }, colorbarLabel: "v")
    #expect(try heatmapPixels(up, nx: nx, ny: ny) == heatmapPixels(down, nx: nx, ny: ny))
    // Log-spaced x on a log axis is uniform in log → still one image spanning the frame.
    var lg = Figure(title: "", xLabel: "f", yLabel: "y", xLog: true)
    lg.heatmap(x: xs.map { pow(10, $0 / 10) }, y: ys, values: vals, colorbarLabel: "v")
    let d = parsed(lg)
    let im = try #require(d.with(class: "heatmap-image").first)
    let fr = d.with(class: "frame")[0]
    #expect(abs(Double(fr.attrs["width"]!)! - Double(im.attrs["width"]!)!) < 0.02)
    #expect(try heatmapPixels(lg, nx: nx, ny: ny) == heatmapPixels(up, nx: nx, ny: ny))
    // Non-uniform centres fall back to vector cells.
    var nu = Figure(title: "", xLabel: "x", yLabel: "y")
    nu.heatmap(x: xs.map { $0 * $0 }, y: ys, values: vals, colorbarLabel: "v")
    #expect(parsed(nu).with(class: "heatmap-image").isEmpty)
}
