import Foundation
import Numerics
import Linalg
import ISACIO

/// Times the ISACIO writers/readers on paper-scale payloads: a complex128 channel tensor of
/// `MiB` mebibytes (default 64) as .npy and inside an .npz, and a 256×256 heatmap figure.
/// Reports the best of 5 runs (the machine is shared, best-of filters interference).
let mib = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 64 : 64
let n = mib * 1024 * 1024 / 16
var rng = RandomSource(seed: 1, stream: 0)
let values = rng.complexGaussianVector(n)
let a = NPYArray(complex128: values, shape: [n / 64, 64])
let dir = NSTemporaryDirectory() + "io-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }

func best(_ label: String, bytes: Int, _ body: () throws -> Void) rethrows {
    var t = Double.infinity
    for _ in 0..<5 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        t = min(t, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
    }
    let rate = bytes > 0 ? String(format: "%8.0f MB/s", Double(bytes) / t / 1e6) : "            "
    print(label.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: " %9.2f ms  ", t * 1e3) + rate)
}

let bytes = n * 16
print("payload: complex128 [\(n / 64), 64] = \(mib) MiB")
best("NPY.encode (memory)", bytes: bytes) { _ = NPY.encode(a) }
let enc = NPY.encode(a)
try best("NPY.decode (memory)", bytes: bytes) { _ = try NPY.decode(enc, source: "mem") }
try best("NPY.write (atomic, page cache)", bytes: bytes) { try NPY.write(a, to: "\(dir)/a.npy") }
try best("NPY.read", bytes: bytes) { _ = try NPY.read(from: "\(dir)/a.npy") }
try best("NPZ.write (stored + CRC-32)", bytes: bytes) { try NPZ.write(["H": a], to: "\(dir)/a.npz") }
try best("NPZ.read (CRC-32 verified)", bytes: bytes) { _ = try NPZ.read(from: "\(dir)/a.npz") }
best("CRC32.checksum", bytes: bytes) { _ = CRC32.checksum(enc) }

let g = 256
let axis = (0..<g).map(Double.init)
let vals = axis.map { y in axis.map { x in sin(x / 9) * cos(y / 13) } }
var fig = Figure(title: "256×256", xLabel: "x", yLabel: "y")
fig.heatmap(x: axis, y: axis, values: vals, colorbarLabel: "v")
var size = 0
best("Figure.svg heatmap 256² (PNG)", bytes: 0) { size = fig.svg().utf8.count }
print("  -> \(size / 1024) KiB SVG")
fig.heatmapImageThreshold = .max
best("Figure.svg heatmap 256² (rects)", bytes: 0) { size = fig.svg().utf8.count }
print("  -> \(size / 1024) KiB SVG")
var lines = Figure(title: "lines", xLabel: "x", yLabel: "y", yLog: true)
let x = (1...10_000).map(Double.init)
for k in 1...8 { lines.line(x: x, y: x.map { pow($0, -Double(k) / 4) }, label: "k=\(k)") }
best("Figure.svg 8 lines × 10k points", bytes: 0) { size = lines.svg().utf8.count }
print("  -> \(size / 1024) KiB SVG")
