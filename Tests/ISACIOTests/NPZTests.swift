import Foundation
import Testing
import Numerics
import Linalg
@testable import ISACIO

@Test func crc32KnownVectors() {
    #expect(CRC32.checksum(Data("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum(Data()) == 0)
    #expect(CRC32.checksum(Data("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    // Incremental update equals one-shot.
    let a = Data("12345".utf8), b = Data("6789".utf8)
    let inc = b.withUnsafeBytes { CRC32.update(a.withUnsafeBytes { CRC32.update(0, $0) }, $0) }
    #expect(inc == 0xCBF4_3926)
}

func sampleArchive() -> [String: NPYArray] {
    var out: [String: NPYArray] = [:]
    for (i, dt) in allDtypes.enumerated() {
        out["a_\(dt)"] = sampleArray(dt, count: 6, shape: [2, 3], fortran: i % 2 == 1)
    }
    out["scalar"] = NPYArray(float64: [2.5], shape: [])
    out["empty"] = NPYArray(int64: [], shape: [0, 4])
    return out
}

@Test func npzRoundTripAndZipStructure() throws {
    let arrays = sampleArchive()
    let path = tempDir() + "/a.npz"
    try NPZ.write(arrays, to: path)
    #expect(try NPZ.read(from: path) == arrays)
    let z = try Data(contentsOf: URL(fileURLWithPath: path))
    let r = ByteReader(data: z)
    #expect(r.u32(0) == 0x0403_4B50)                              // local header first
    let eocd = z.count - 22
    #expect(r.u32(eocd) == 0x0605_4B50)                           // end record last, no comment
    #expect(Int(r.u16(eocd + 10)) == arrays.count)
    let cdSize = Int(r.u32(eocd + 12)), cdOff = Int(r.u32(eocd + 16))
    #expect(cdOff + cdSize == eocd)
    // Each local header: stored, CRC of the member bytes equals NPY.encode of the array.
    var q = cdOff
    var names: [String] = []
    while q < cdOff + cdSize {
        #expect(r.u32(q) == 0x0201_4B50 && r.u16(q + 10) == 0)
        let n = Int(r.u16(q + 28))
        let name = String(decoding: r.bytes(q + 46, n), as: UTF8.self)
        names.append(name)
        let key = String(name.dropLast(4))
        #expect(r.u32(q + 16) == CRC32.checksum(NPY.encode(arrays[key]!)))
        q += 46 + n
    }
    #expect(names == arrays.keys.sorted().map { $0 + ".npy" })
    // Deterministic bytes: same input, same archive.
    #expect(try NPZ.encode(arrays) == z)
}

@Test func npzRejectsCompressedCorruptAndTruncatedArchives() throws {
    let z = try NPZ.encode(["x": NPYArray(float64: [1, 2, 3], shape: [3])])
    // Mark the member as deflate in the central directory.
    var comp = z
    let cd = Int(ByteReader(data: z).u32(z.count - 22 + 16))
    comp[cd + 10] = 8
    do {
        _ = try NPZ.decode(comp, source: "c.npz")
        Issue.record("compressed member accepted")
    } catch let ISACError.malformedFile(path, reason) {
        #expect(path == "c.npz" && reason.contains("x.npy") && reason.contains("compressed"))
    }
    // Flip a payload byte: CRC mismatch naming the member.
    var flip = z
    flip[cd - 1] ^= 0x55
    do {
        _ = try NPZ.decode(flip, source: "f.npz")
        Issue.record("corrupt member accepted")
    } catch let ISACError.malformedFile(_, reason) {
        #expect(reason.contains("CRC") && reason.contains("x.npy"))
    }
    for len in 0..<z.count {
        #expect(throws: ISACError.self) { try NPZ.decode(z.prefix(len), source: "t.npz") }
    }
    #expect(throws: ISACError.self) { try NPZ.decode(Data("not a zip".utf8), source: "n") }
    #expect(throws: ISACError.self) { try NPZ.encode(["": NPYArray(float64: [], shape: [0])]) }
    #expect(throws: ISACError.self) { try NPZ.encode(["bad": NPYArray(float64: [1], shape: [2])]) }
}

@Test func npzEveryByteFlipFailsCleanly() throws {
    let z = try NPZ.encode(["a": NPYArray(int32: [1, 2], shape: [2]), "b": NPYArray(bool: [true], shape: [])])
    var decoded = 0
    for i in 0..<z.count {
        for v: UInt8 in [0x00, 0xFF, 0x7F] where z[i] != v {
            var d = z
            d[i] = v
            // Must throw or decode consistently, never trap.
            if let out = try? NPZ.decode(d, source: "flip.npz") {
                decoded += 1
                for a in out.values { #expect(a.elementCount == a.data.count) }
            }
        }
    }
    // Payload bytes are CRC-protected, so almost every flip is caught; the survivors are
    // header fields zip readers ignore (timestamps, attributes, version-made-by).
    #expect(decoded < z.count)
}

@Test func crc32SlicingMatchesBitwiseReference() {
    // Bit-at-a-time CRC-32 straight from the definition (reflected, poly 0xEDB88320).
    func naive(_ b: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for x in b {
            c ^= UInt32(x)
            for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
        }
        return ~c
    }
    var rng = RandomSource(seed: 99, stream: 1)
    let buf = (0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    for len in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255] {
        for off in 0..<4 {   // unaligned starts exercise the 8-byte loads
            let s = buf[off..<(off + len)]
            let fast = s.withUnsafeBytes { CRC32.update(0, $0) }
            #expect(fast == naive(s), "len \(len) off \(off)")
        }
    }
}

@Test func streamedWritesEqualInMemoryEncoding() throws {
    let arrays = sampleArchive()
    let dir = tempDir()
    try NPZ.write(arrays, to: "\(dir)/s.npz")
    #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/s.npz")) == (try NPZ.encode(arrays)))
    for (k, a) in arrays {
        try NPY.write(a, to: "\(dir)/\(k).npy")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(k).npy")) == NPY.encode(a))
        #expect(try NPY.read(from: "\(dir)/\(k).npy") == a)
    }
    // A failed streamed write leaves nothing behind (no file, no temp file).
    let bad = "\(dir)/bad.npz"
    #expect(throws: ISACError.self) { try NPZ.write(["x": NPYArray(float64: [1], shape: [3])], to: bad) }
    #expect(throws: ISACError.self) {
        try AtomicFile.write(to: "\(dir)/fail.bin") { emit in
            try Data([1, 2, 3]).withUnsafeBytes { try emit($0) }
            throw ISACError.io("simulated failure mid-write")
        }
    }
    let left = try FileManager.default.contentsOfDirectory(atPath: dir)
    #expect(!left.contains("bad.npz") && !left.contains("fail.bin") && !left.contains { $0.contains(".tmp-") })
}

@Test func npzFileReaderRejectsDamagedArchives() throws {
    // Same checks through the file (pread) path as through `decode`.
    let dir = tempDir()
    let z = try NPZ.encode(sampleArchive())
    for len in stride(from: 0, to: z.count, by: 37) {
        try AtomicFile.write(z.prefix(len), to: "\(dir)/t.npz")
        #expect(throws: ISACError.self) { try NPZ.read(from: "\(dir)/t.npz") }
    }
    var flip = z
    flip[flip.count / 2] ^= 0x01
    try AtomicFile.write(flip, to: "\(dir)/f.npz")
    #expect(throws: ISACError.self) { try NPZ.read(from: "\(dir)/f.npz") }
    #expect(throws: ISACError.self) { try NPZ.read(from: dir) }          // a folder
    #expect(throws: ISACError.self) { try NPZ.read(from: "\(dir)/missing.npz") }
    try AtomicFile.write(z, to: "\(dir)/ok.npz")
    #expect(try NPZ.read(from: "\(dir)/ok.npz") == sampleArchive())
}
