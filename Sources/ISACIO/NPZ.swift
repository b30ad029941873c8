import Foundation
import Linalg

/// CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320), as used by zip and PNG.
/// `CRC32.checksum(Data("123456789".utf8)) == 0xCBF43926`.
public enum CRC32 {
    /// Slicing-by-8 tables: `tables[k][b]` is the CRC contribution of byte `b` followed by k
    /// zero bytes, so eight input bytes are folded per step (≈ 5–8× the byte-wise loop).
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let prev = t[(k - 1) * 256 + n]
                t[k * 256 + n] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()

    /// Continues a running CRC: pass the previous result as `crc` (0 to start).
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        let n = bytes.count
        guard n > 0, let base = bytes.baseAddress else { return crc }
        tables.withUnsafeBufferPointer { t in
            var i = 0
            while i + 8 <= n {
                // Unaligned little-endian loads of two 32-bit words.
                let lo = base.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ c
                let hi = base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                  ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                  ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                  ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return ~c
    }

    /// CRC-32 of `data`.
    public static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { update(0, $0) }
    }
}

/// NumPy `.npz` archives: a zip file with one `<name>.npy` member per array, as written by
/// `np.savez` (members STORED, i.e. uncompressed).
///
/// The writer emits classic zip (local headers, central directory, end record) with CRC-32,
/// members in sorted key order and a fixed 1980-01-01 timestamp, so equal inputs give
/// byte-identical archives (handy for checking that sharded runs merge exactly). Zip64 is not
/// written: archives or members of 4 GiB or more are refused with a clear error.
///
/// The reader uses the central directory (it also understands the zip64 size fields and
/// data-descriptor flag that Python's `zipfile` writes for `np.savez`), checks every member's
/// CRC-32, and refuses compressed members (`np.savez_compressed`) naming the member.
public enum NPZ {
    static let dosTime: UInt16 = 0
    static let dosDate: UInt16 = (0 << 9) | (1 << 5) | 1  // 1980-01-01

    /// Serializes `arrays` (key `k` → member `k.npy`) to zip bytes.
    /// - Throws: `ISACError.invalidParameter` for an empty or over-long name,
    ///   `ISACError.shapeMismatch` for an array whose data does not match its shape,
    ///   `ISACError.io` when the archive would need zip64 (≥ 4 GiB, > 65534 members).
    public static func encode(_ arrays: [String: NPYArray]) throws -> Data {
        var out = Data()
        try stream(arrays) { out.append(contentsOf: $0) }
        return out
    }

    /// Atomically writes `arrays` as an `.npz` archive (see `encode`), streaming each array
    /// from its buffer to the file (the archive is never assembled in memory).
    public static func write(_ arrays: [String: NPYArray], to path: String) throws {
        try validate(arrays)
        try AtomicFile.write(to: path) { emit in try stream(arrays, emit: emit) }
    }

    static func validate(_ arrays: [String: NPYArray]) throws {
        guard arrays.count < 0xFFFF else {
            throw ISACError.io("npz: \(arrays.count) arrays exceed the 65534 members of a non-zip64 archive")
        }
        var total = 22
        for (key, a) in arrays {
            guard !key.isEmpty else {
                throw ISACError.invalidParameter(name: "npz array name", value: "\"\"", valid: "a non-empty name")
            }
            guard key.utf8.count + 4 <= 0xFFFF else {
                throw ISACError.invalidParameter(name: "npz array name", value: String(key.prefix(40)) + "…", valid: "at most 65531 UTF-8 bytes")
            }
            try a.validate(name: "npz array '\(key)'")
            let body = NPY.header(descr: a.data.descr, fortranOrder: a.fortranOrder, shape: a.shape).count
                + a.data.count * a.data.itemSize
            guard body < 0xFFFF_FFFF else {
                throw ISACError.io("npz: member '\(key).npy' (\(body) bytes) needs zip64 (≥ 4 GiB), which is not supported; write separate .npy files")
            }
            total += 30 + 46 + 2 * (key.utf8.count + 4) + body
        }
        guard total < 0xFFFF_FFFF else {
            throw ISACError.io("npz: archive of \(total) bytes needs zip64 (≥ 4 GiB), which is not supported; write separate .npy files")
        }
    }

    /// Emits the archive piecewise: per member a local header, the `.npy` header and the raw
    /// element bytes (CRC-32 computed over both beforehand), then the central directory.
    static func stream(_ arrays: [String: NPYArray], emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(arrays)
        func put(_ d: Data) throws { try d.withUnsafeBytes { try emit($0) } }
        var offset = 0
        var central = Data()
        for key in arrays.keys.sorted() {
            let a = arrays[key]!
            let name = Array((key + ".npy").utf8)
            let utf8Flag: UInt16 = key.allSatisfy(\.isASCII) ? 0 : 0x0800  // bit 11: UTF-8 names
            let header = NPY.header(descr: a.data.descr, fortranOrder: a.fortranOrder, shape: a.shape)
            let size = header.count + a.data.count * a.data.itemSize
            let crc = a.data.withUnsafeRawBytes { raw in
                CRC32.update(header.withUnsafeBytes { CRC32.update(0, $0) }, raw)
            }
            var local = Data()
            local.le32(0x0403_4B50)
            local.le16(20)                     // version needed: 2.0
            local.le16(utf8Flag)
            local.le16(0)                      // method: stored
            local.le16(dosTime); local.le16(dosDate)
            local.le32(crc)
            local.le32(UInt32(size)); local.le32(UInt32(size))
            local.le16(UInt16(name.count)); local.le16(0)
            local.append(contentsOf: name)
            try put(local)
            try put(header)
            try a.data.withUnsafeRawBytes { try emit($0) }

            central.le32(0x0201_4B50)
            central.le16(0x0314)               // made by: Unix, spec 2.0
            central.le16(20)
            central.le16(utf8Flag)
            central.le16(0)
            central.le16(dosTime); central.le16(dosDate)
            central.le32(crc)
            central.le32(UInt32(size)); central.le32(UInt32(size))
            central.le16(UInt16(name.count))
            central.le16(0); central.le16(0)   // extra, comment
            central.le16(0); central.le16(0)   // disk, internal attrs
            central.le32(0o100644 << 16)       // external attrs: regular file rw-r--r--
            central.le32(UInt32(offset))
            central.append(contentsOf: name)
            offset += local.count + size
        }
        var end = Data()
        end.le32(0x0605_4B50)
        end.le16(0); end.le16(0)
        end.le16(UInt16(arrays.count)); end.le16(UInt16(arrays.count))
        end.le32(UInt32(central.count)); end.le32(UInt32(offset))
        end.le16(0)
        try put(central)
        try put(end)
    }

    /// Reads an `.npz` archive: array name (member name without `.npy`) → array. Only the
    /// zip directory and the `.npy` headers are read ahead; payloads go straight from the file
    /// into the result arrays. Members not ending in `.npy` are ignored.
    /// - Throws: `ISACError.io` when unreadable; `ISACError.malformedFile` naming the archive
    ///   (and member) for a corrupt zip, a compressed member, a CRC mismatch or a bad `.npy`.
    public static func read(from path: String) throws -> [String: NPYArray] {
        try load(FileSource(path: path))
    }

    /// Parses `.npz` bytes; `source` names the archive in errors.
    public static func decode(_ data: Data, source: String) throws -> [String: NPYArray] {
        try load(DataSource(data: data, name: source))
    }

    static func load(_ src: ByteSource) throws -> [String: NPYArray] {
        let source = src.name
        func bad(_ reason: String) -> ISACError { .malformedFile(path: source, reason: reason) }
        func chunk(_ off: Int, _ n: Int, _ what: String) throws -> ByteReader {
            guard off >= 0, n >= 0, off <= src.size, n <= src.size - off else {
                throw bad("\(what) (offset \(off), \(n) bytes) lies outside the \(src.size)-byte file")
            }
            return ByteReader(data: try src.bytes(off, n))
        }
        // End of central directory: 22 bytes + up to 65535 bytes of comment, searched backwards.
        guard src.size >= 22 else { throw bad("too short to be a zip/npz archive") }
        let tailLen = Swift.min(src.size, 22 + 0xFFFF)
        let tailStart = src.size - tailLen
        let tail = try chunk(tailStart, tailLen, "end record")
        var p = tailLen - 22
        while p >= 0 && tail.u32(p) != 0x0605_4B50 { p -= 1 }
        guard p >= 0 else { throw bad("no zip end-of-central-directory record (not a zip/npz archive, or truncated)") }
        var entries = Int(tail.u16(p + 10))
        var cdSize = Int(tail.u32(p + 12))
        var cdOffset = Int(tail.u32(p + 16))
        if entries == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            // Zip64 end record, located through the zip64 locator just before the classic one.
            guard p >= 20, tail.u32(p - 20) == 0x0706_4B50 else { throw bad("zip64 fields without a zip64 locator") }
            let r = Int(clamping: tail.u64(p - 12))
            let z64 = try chunk(r, 56, "zip64 end record")
            guard z64.u32(0) == 0x0606_4B50 else { throw bad("bad zip64 end record") }
            entries = Int(clamping: z64.u64(32))
            cdSize = Int(clamping: z64.u64(40))
            cdOffset = Int(clamping: z64.u64(48))
        }
        let cd = try chunk(cdOffset, cdSize, "central directory")
        var out: [String: NPYArray] = [:]
        var q = 0
        for _ in 0..<entries {
            guard q + 46 <= cdSize, cd.u32(q) == 0x0201_4B50 else { throw bad("corrupt central directory entry at offset \(cdOffset + q)") }
            let method = cd.u16(q + 10)
            let crc = cd.u32(q + 16)
            var csize = Int(cd.u32(q + 20))
            var usize = Int(cd.u32(q + 24))
            let nameLen = Int(cd.u16(q + 28)), extraLen = Int(cd.u16(q + 30)), commentLen = Int(cd.u16(q + 32))
            var localOff = Int(cd.u32(q + 42))
            guard q + 46 + nameLen + extraLen + commentLen <= cdSize else { throw bad("truncated central directory") }
            let name = String(decoding: cd.bytes(q + 46, nameLen), as: UTF8.self)
            // Zip64 extended information: the fields that were 0xFFFFFFFF, in order.
            var e = q + 46 + nameLen
            let eEnd = e + extraLen
            while e + 4 <= eEnd {
                let id = cd.u16(e), len = Int(cd.u16(e + 2))
                if id == 0x0001 {
                    var f = e + 4
                    if usize == 0xFFFF_FFFF, f + 8 <= e + 4 + len { usize = Int(clamping: cd.u64(f)); f += 8 }
                    if csize == 0xFFFF_FFFF, f + 8 <= e + 4 + len { csize = Int(clamping: cd.u64(f)); f += 8 }
                    if localOff == 0xFFFF_FFFF, f + 8 <= e + 4 + len { localOff = Int(clamping: cd.u64(f)); f += 8 }
                }
                e += 4 + len
            }
            q += 46 + nameLen + extraLen + commentLen
            guard name.hasSuffix(".npy") else { continue }
            let key = String(name.dropLast(4))
            let member = "\(source)[\(name)]"
            guard method == 0 else {
                let what = method == 8 ? "deflate-compressed (np.savez_compressed)" : "compressed with zip method \(method)"
                throw bad("member '\(name)' is \(what); only stored members (np.savez) are supported")
            }
            guard csize == usize else { throw bad("member '\(name)': stored sizes disagree (\(csize) vs \(usize))") }
            let lh = try chunk(localOff, 30, "local header of '\(name)'")
            guard lh.u32(0) == 0x0403_4B50 else { throw bad("member '\(name)': bad local header at offset \(localOff)") }
            let start = localOff + 30 + Int(lh.u16(26)) + Int(lh.u16(28))
            guard start <= src.size, usize <= src.size - start else {
                throw bad("member '\(name)' is truncated (needs \(usize) bytes from offset \(start), archive has \(src.size))")
            }
            func crcMismatch(_ actual: UInt32) -> ISACError {
                bad("member '\(name)': CRC-32 mismatch (stored \(String(crc, radix: 16)), computed \(String(actual, radix: 16)))")
            }
            let array: NPYArray, actual: UInt32
            do {
                (array, actual) = try NPY.load(src, at: start, length: usize, source: member, crc: true)
            } catch {
                // A corrupted member is better reported as such than as a malformed .npy.
                let whole = try src.bytes(start, usize).withUnsafeBytes { CRC32.update(0, $0) }
                if whole != crc { throw crcMismatch(whole) }
                throw error
            }
            guard actual == crc else { throw crcMismatch(actual) }
            out[key] = array
        }
        return out
    }
}

/// Bounds-checked little-endian field reads (out-of-range reads give 0, never trap; callers
/// validate offsets before trusting the values).
struct ByteReader {
    let data: Data
    func byte(_ i: Int) -> UInt64 {
        guard i >= 0, i < data.count else { return 0 }
        return UInt64(data[data.startIndex + i])
    }
    func u16(_ i: Int) -> UInt16 { UInt16(byte(i) | byte(i + 1) << 8) }
    func u32(_ i: Int) -> UInt32 { UInt32(byte(i) | byte(i + 1) << 8 | byte(i + 2) << 16 | byte(i + 3) << 24) }
    func u64(_ i: Int) -> UInt64 { UInt64(u32(i)) | UInt64(u32(i + 4)) << 32 }
    func bytes(_ i: Int, _ n: Int) -> [UInt8] {
        guard i >= 0, n >= 0, i + n <= data.count else { return [] }
        return [UInt8](data[(data.startIndex + i)..<(data.startIndex + i + n)])
    }
}

extension Data {
    mutating func le16(_ v: UInt16) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func le32(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
}
