import Foundation
import Testing
import Numerics
import Linalg
@testable import ISACIO

/// Deterministic sample data of length n for every dtype (includes ±0, ±∞, subnormals and
/// extremes so byte-level round trips are exercised, but no NaN so `==` works).
func sampleArray(_ dtype: String, count n: Int, shape: [Int], fortran: Bool) -> NPYArray {
    let special: [Double] = [0, -0.0, .infinity, -.infinity, Double.leastNonzeroMagnitude * 3, -2.5, .pi, 1e300]
    func dv(_ i: Int) -> Double { i < special.count ? special[i] : Double(i) * 0.37 - 11 }
    func c8(_ i: Int) -> Complex<Float> { Complex(Float(dv(i)), Float(i) * -1.5) }
    func c16(_ i: Int) -> Complex<Double> { Complex(dv(i), Double(i) / 3) }
    func i8(_ i: Int) -> Int64 {
        if i == 0 { return Int64.min }
        if i == 1 { return Int64.max }
        return Int64(i * 7919 - 40)
    }
    func i4(_ i: Int) -> Int32 { i == 0 ? Int32.min : Int32(i * 31 - 100) }
    func u1(_ i: Int) -> UInt8 { UInt8((i * 37) % 256) }
    let idx = Array(0..<n)
    let data: NPYData
    switch dtype {
    case "f4": data = .float32(idx.map { Float(dv($0)) })
    case "f8": data = .float64(idx.map(dv))
    case "c8": data = .complex64(idx.map(c8))
    case "c16": data = .complex128(idx.map(c16))
    case "i8": data = .int64(idx.map(i8))
    case "i4": data = .int32(idx.map(i4))
    case "u1": data = .uint8(idx.map(u1))
    default: data = .bool(idx.map { $0 % 3 == 1 })
    }
    return NPYArray(shape: shape, fortranOrder: fortran, data: data)
}

let allDtypes = ["f4", "f8", "c8", "c16", "i8", "i4", "u1", "b1"]
let testShapes: [[Int]] = [[], [0], [7], [2, 3], [2, 3, 4], [3, 0, 2]]

@Test func npyRoundTripEveryDtypeShapeAndOrder() throws {
    let dir = tempDir()
    for dt in allDtypes {
        for shape in testShapes {
            for fortran in [false, true] {
                let n = shape.reduce(1, *)
                let a = sampleArray(dt, count: n, shape: shape, fortran: fortran)
                let path = "\(dir)/\(dt)-\(shape.count)-\(fortran).npy"
                try NPY.write(a, to: path)
                let b = try NPY.read(from: path)
                #expect(b == a, "\(dt) \(shape) fortran=\(fortran)")
                #expect(b.data.descr.hasSuffix(dt))
                // Data starts at a multiple of 64 bytes and the file is exactly header + payload.
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                #expect((bytes.count - n * a.data.itemSize) % 64 == 0)
            }
        }
    }
}

@Test func npyNaNPayloadsSurviveBitExactly() throws {
    let v: [Double] = [.nan, -.nan, Double(bitPattern: 0x7FF0_0000_0000_0001), 1]
    let back = try NPY.decode(NPY.encode(NPYArray(float64: v, shape: [4])), source: "mem")
    guard case let .float64(w) = back.data else { Issue.record("wrong dtype"); return }
    #expect(w.map(\.bitPattern) == v.map(\.bitPattern))
}

/// Headers exactly as numpy 2.x `np.save` writes them (captured from numpy, which is the
/// reference implementation of the format): 10-byte prefix, dict, spaces, "\n", 128 bytes total.
@Test func npyHeaderIsByteExactWithNumPy() {
    func expected(_ dict: String) -> [UInt8] {
        var h: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, 0x76, 0] + Array(dict.utf8)
        h += [UInt8](repeating: 0x20, count: 127 - h.count)
        return h + [0x0A]
    }
    let cases: [(NPYArray, String)] = [
        (NPYArray(float64: .init(repeating: 0, count: 12), shape: [3, 4]),
         "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"),
        (NPYArray(complex64: .init(repeating: .zero, count: 12), shape: [3, 4], fortranOrder: true),
         "{'descr': '<c8', 'fortran_order': True, 'shape': (3, 4), }"),
        (NPYArray(int32: [0], shape: []),
         "{'descr': '<i4', 'fortran_order': False, 'shape': (), }"),
        (NPYArray(bool: .init(repeating: false, count: 5), shape: [5]),
         "{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }"),
    ]
    for (a, dict) in cases {
        let enc = [UInt8](NPY.encode(a))
        #expect(Array(enc.prefix(128)) == expected(dict), "\(dict)")
        #expect(enc.count == 128 + a.data.count * a.data.itemSize)
    }
}

@Test func npyVersion2ForHugeHeaders() throws {
    // 22 000 unit dims make a > 65535-byte header, which needs the 4-byte length of v2.0.
    let shape = [Int](repeating: 1, count: 22_000)
    let a = NPYArray(float64: [42], shape: shape)
    let enc = NPY.encode(a)
    #expect(enc[enc.startIndex + 6] == 2 && enc[enc.startIndex + 7] == 0)
    let hlen = Int(enc[8]) | Int(enc[9]) << 8 | Int(enc[10]) << 16 | Int(enc[11]) << 24
    #expect((12 + hlen) % 64 == 0)
    #expect(try NPY.decode(enc, source: "v2") == a)
}

@Test func npyWriteRejectsDataShapeMismatch() {
    let a = NPYArray(float64: [1, 2, 3], shape: [2, 2])
    #expect(throws: ISACError.self) { try NPY.write(a, to: tempDir() + "/x.npy") }
    #expect(throws: ISACError.self) { try NPY.write(NPYArray(float64: [], shape: [-1]), to: tempDir() + "/y.npy") }
}

/// Builds a `.npy` byte string from a raw header dict (for malformed-input tests).
func rawNPY(_ dict: String, payload: Int, major: UInt8 = 1) -> Data {
    var d = Data([0x93] + Array("NUMPY".utf8) + [major, 0])
    let body = Array((dict + "\n").utf8)
    d.append(contentsOf: [UInt8(body.count & 0xFF), UInt8(body.count >> 8)])
    d.append(contentsOf: body)
    d.append(contentsOf: [UInt8](repeating: 0, count: payload))
    return d
}

func expectMalformed(_ data: Data, _ needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try NPY.decode(data, source: "bad.npy")
        Issue.record("decoded a malformed file (expected: \(needle))", sourceLocation: sourceLocation)
    } catch let ISACError.malformedFile(path, reason) {
        #expect(path == "bad.npy", sourceLocation: sourceLocation)
        #expect(reason.lowercased().contains(needle.lowercased()), "reason: \(reason)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("wrong error \(error)", sourceLocation: sourceLocation)
    }
}

@Test func npyMalformedInputsThrowWithReasons() {
    let ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    #expect(throws: Never.self) { try NPY.decode(rawNPY(ok, payload: 16), source: "ok") }
    expectMalformed(Data("PK\u{3}\u{4}garbage".utf8), "magic")
    expectMalformed(Data(), "magic")
    expectMalformed(rawNPY(ok, payload: 15), "truncated data")
    expectMalformed(rawNPY(ok, payload: 17), "unexpected bytes")
    expectMalformed(rawNPY(ok, payload: 16, major: 9), "version")
    expectMalformed(rawNPY("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", payload: 16), "big-endian")
    expectMalformed(rawNPY("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", payload: 4), "unsupported dtype")
    expectMalformed(rawNPY("{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", payload: 40), "unsupported dtype")
    expectMalformed(rawNPY("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", payload: 16), "structured")
    expectMalformed(rawNPY("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", payload: 16), "negative")
    expectMalformed(rawNPY("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", payload: 16), "shape")
    expectMalformed(rawNPY("{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976,), }", payload: 16), "overflow")
    expectMalformed(rawNPY("{'descr': '<f8', 'shape': (2,), }", payload: 16), "fortran_order")
    expectMalformed(rawNPY("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", payload: 16), "parse")
    expectMalformed(rawNPY("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", payload: 16), "parse")
    expectMalformed(rawNPY("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 'y'}", payload: 16), "unexpected header key")
    expectMalformed(rawNPY("not a dict at all", payload: 16), "parse")
    // Header length pointing past the end of the file.
    var d = rawNPY(ok, payload: 0)
    d[8] = 0xFF; d[9] = 0xFF
    expectMalformed(d, "truncated header")
}

@Test func npyEveryTruncationAndByteFlipFailsCleanly() throws {
    let good = NPY.encode(sampleArray("c16", count: 6, shape: [2, 3], fortran: true))
    for len in 0..<good.count {
        #expect(throws: ISACError.self) { try NPY.decode(good.prefix(len), source: "t") }
    }
    // Corrupting any header byte must either throw or still yield a self-consistent array.
    for i in 0..<128 {
        for v: UInt8 in [0x00, 0x20, 0x27, 0x39, 0xFF] {
            var d = good
            d[i] = v
            if let a = try? NPY.decode(d, source: "flip") {
                #expect(a.elementCount == a.data.count)
            }
        }
    }
}

@Test func npyReadsSlicedDataAndReportsMissingFile() throws {
    // Decoding from a Data slice with a non-zero startIndex (as NPZ members are) must work.
    let a = sampleArray("f4", count: 5, shape: [5], fortran: false)
    var big = Data([1, 2, 3])
    big.append(NPY.encode(a))
    #expect(try NPY.decode(big.dropFirst(3), source: "slice") == a)
    #expect(throws: ISACError.self) { try NPY.read(from: "/nonexistent/dir/x.npy") }
}

@Test func matrixAndOrderConversions() throws {
    let m = Matrix<CDouble>(rows: 3, cols: 2) { i, j in Complex(Double(i), Double(10 * j)) }
    let a = try NPYArray(matrix: m)
    #expect(a.shape == [3, 2] && a.fortranOrder)
    #expect(try a.complexMatrix() == m)
    // C-order copy: element (i, j) at i*cols + j, checked by naive indexing.
    let c = a.cOrdered()
    #expect(!c.fortranOrder)
    let cv = c.complexDoubles()
    for i in 0..<3 { for j in 0..<2 { #expect(cv[i * 2 + j] == m[i, j]) } }
    #expect(try c.complexMatrix() == m)
    // 3-D: Fortran flat index i + 2(j + 3k) ↔ C flat index (i*3 + j)*4 + k.
    var f = [Double](repeating: 0, count: 24)
    for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { f[i + 2 * (j + 3 * k)] = Double((i * 3 + j) * 4 + k) } } }
    let c3 = NPYArray(float64: f, shape: [2, 3, 4], fortranOrder: true).cOrdered()
    #expect(try c3.doubles() == (0..<24).map(Double.init))
    let rm = Matrix<Double>(rows: 2, cols: 3) { i, j in Double(i * 3 + j) }
    #expect(try NPYArray(float64: (0..<6).map(Double.init), shape: [2, 3]).realMatrix() == rm)
    #expect(throws: ISACError.self) { try NPYArray(complex64: [], shape: [0]).doubles() }
    let broken = NPYArray(float64: [1, 2, 3], shape: [2, 2], fortranOrder: true)
    #expect(broken.cOrdered() == broken)   // mismatched count: unchanged, never traps
}

@Test func npyReadFromDiskRejectsMalformedFiles() throws {
    // The file reader parses headers from a partial read; it must report the same problems.
    let dir = tempDir()
    let ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    let cases: [(Data, String)] = [
        (rawNPY(ok, payload: 15), "truncated data"),
        (rawNPY(ok, payload: 17), "unexpected bytes"),
        (rawNPY("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", payload: 16), "big-endian"),
        (Data([0x93, 0x4E, 0x55]), "magic"),
        (Data(), "magic"),
    ]
    for (i, (d, needle)) in cases.enumerated() {
        let p = "\(dir)/m\(i).npy"
        try AtomicFile.write(d, to: p)
        do {
            _ = try NPY.read(from: p)
            Issue.record("case \(i) accepted")
        } catch let ISACError.malformedFile(path, reason) {
            #expect(path == p && reason.contains(needle), "case \(i): \(reason)")
        }
    }
    var hdr = rawNPY(ok, payload: 0)
    hdr[8] = 0xFF; hdr[9] = 0xFF
    try AtomicFile.write(hdr, to: "\(dir)/h.npy")
    #expect(throws: ISACError.self) { try NPY.read(from: "\(dir)/h.npy") }
}
