import Foundation
import Linalg

/// CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320), as used by zip and PNG.
/// `CRC32.checksum(Data("123456789".utf8)) == 0xCBF43926`.
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// Continues a running CRC: pass the previous result as `crc` (0 to start).
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
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
    ///   `ISACError.io` when the archive would need zip64 (≥ 4 GiB, > 65535 members).
    public static func encode(_ arrays: [String: NPYArray]) throws -> Data {
        guard arrays.count < 0xFFFF else {
            throw ISACError.io("npz: \(arrays.count) arrays exceed the 65535 members of a non-zip64 archive")
        }
        var out = Data()
        var central = Data()
        for key in arrays.keys.sorted() {
            let a = arrays[key]!
            guard !key.isEmpty else {
                throw ISACError.invalidParameter(name: "npz array name", value: "\"\"", valid: "a non-empty name")
            }
            try a.validate(name: "npz array '\(key)'")
            let name = Array((key + ".npy").utf8)
            guard name.count <= 0xFFFF else {
                throw ISACError.invalidParameter(name: "npz array name", value: String(key.prefix(40)) + "…", valid: "at most 65531 UTF-8 bytes")
            }
            let body = NPY.encode(a)
            let offset = out.count
            guard body.count < 0xFFFF_FFFF, offset < 0xFFFF_FFFF else {
                throw ISACError.io("npz: member '\(key).npy' (\(body.count) bytes at offset \(offset)) needs zip64 (≥ 4 GiB), which is not supported; write separate .npy files")
            }
            let crc = CRC32.checksum(body)
            var local = Data()
            local.le32(0x0403_4B50)
            local.le16(20)                     // version needed: 2.0
            local.le16(name.count > 0 && !key.allSatisfy(\.isASCII) ? 0x0800 : 0)  // bit 11: UTF-8 names
            local.le16(0)                      // method: stored
            local.le16(dosTime); local.le16(dosDate)
            local.le32(crc)
            local.le32(UInt32(body.count)); local.le32(UInt32(body.count))
            local.le16(UInt16(name.count)); local.le16(0)
            local.append(contentsOf: name)
            out.append(local)
            out.append(body)

            central.le32(0x0201_4B50)
            central.le16(0x0314)               // made by: Unix, spec 2.0
            central.le16(20)
            central.le16(!key.allSatisfy(\.isASCII) ? 0x0800 : 0)
            central.le16(0)
            central.le16(dosTime); central.le16(dosDate)
            central.le32(crc)
            central.le32(UInt32(body.count)); central.le32(UInt32(body.count))
            central.le16(UInt16(name.count))
            central.le16(0); central.le16(0)   // extra, comment
            central.le16(0); central.le16(0)   // disk, internal attrs
            central.le32(0o100644 << 16)       // external attrs: regular file rw-r--r--
            central.le32(UInt32(offset))
            central.append(contentsOf: name)
        }
        let cdOffset = out.count
        guard cdOffset < 0xFFFF_FFFF, cdOffset + central.count < 0xFFFF_FFFF else {
            throw ISACError.io("npz: archive of \(cdOffset + central.count) bytes needs zip64 (≥ 4 GiB), which is not supported")
        }
        out.append(central)
        out.le32(0x0605_4B50)
        out.le16(0); out.le16(0)
        out.le16(UInt16(arrays.count)); out.le16(UInt16(arrays.count))
        out.le32(UInt32(central.count)); out.le32(UInt32(cdOffset))
        out.le16(0)
        return out
    }

    /// Atomically writes `arrays` as an `.npz` archive (see `encode`).
    public static func write(_ arrays: [String: NPYArray], to path: String) throws {
        try AtomicFile.write(encode(arrays), to: path)
    }

    /// Reads an `.npz` archive: array name (member name without `.npy`) → array.
    /// Members not ending in `.npy` are ignored.
    /// - Throws: `ISACError.io` when unreadable; `ISACError.malformedFile` naming the archive
    ///   (and member) for a corrupt zip, a compressed member, a CRC mismatch or a bad `.npy`.
    public static func read(from path: String) throws -> [String: NPYArray] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw ISACError.io("cannot read \(path): \(error.localizedDescription)")
        }
        return try decode(data, source: path)
    }

    /// Parses `.npz` bytes; `source` names the archive in errors.
    public static func decode(_ data: Data, source: String) throws -> [String: NPYArray] {
        func bad(_ reason: String) -> ISACError { .malformedFile(path: source, reason: reason) }
        let z = ByteReader(data: data)
        // End of central directory: 22 bytes + up to 65535 bytes of comment, searched backwards.
        guard data.count >= 22 else { throw bad("too short to be a zip/npz archive") }
        var eocd = -1
        var p = data.count - 22
        let stop = Swift.max(0, data.count - 22 - 0xFFFF)
        while p >= stop {
            if z.u32(p) == 0x0605_4B50 { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else { throw bad("no zip end-of-central-directory record (not a zip/npz archive, or truncated)") }
        var entries = Int(z.u16(eocd + 10))
        var cdSize = Int(z.u32(eocd + 12))
        var cdOffset = Int(z.u32(eocd + 16))
        if entries == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            // Zip64 end record, located through the zip64 locator just before the classic one.
            guard eocd >= 20, z.u32(eocd - 20) == 0x0706_4B50 else { throw bad("zip64 fields without a zip64 locator") }
            let r = Int(clamping: z.u64(eocd - 12))
            guard r >= 0, data.count >= 56, r <= data.count - 56, z.u32(r) == 0x0606_4B50 else { throw bad("bad zip64 end record") }
            entries = Int(clamping: z.u64(r + 32))
            cdSize = Int(clamping: z.u64(r + 40))
            cdOffset = Int(clamping: z.u64(r + 48))
        }
        guard cdOffset >= 0, cdSize >= 0, cdOffset <= data.count, cdSize <= data.count - cdOffset else {
            throw bad("central directory (offset \(cdOffset), size \(cdSize)) lies outside the \(data.count)-byte file")
        }
        var out: [String: NPYArray] = [:]
        var q = cdOffset
        for _ in 0..<entries {
            guard q + 46 <= cdOffset + cdSize, z.u32(q) == 0x0201_4B50 else { throw bad("corrupt central directory entry at offset \(q)") }
            let method = z.u16(q + 10)
            let crc = z.u32(q + 16)
            var csize = Int(z.u32(q + 20))
            var usize = Int(z.u32(q + 24))
            let nameLen = Int(z.u16(q + 28)), extraLen = Int(z.u16(q + 30)), commentLen = Int(z.u16(q + 32))
            var localOff = Int(z.u32(q + 42))
            guard q + 46 + nameLen + extraLen + commentLen <= data.count else { throw bad("truncated central directory") }
            let nameBytes = z.bytes(q + 46, nameLen)
            let name = String(decoding: nameBytes, as: UTF8.self)
            // Zip64 extended information: the fields that were 0xFFFFFFFF, in order.
            var e = q + 46 + nameLen
            let eEnd = e + extraLen
            while e + 4 <= eEnd {
                let id = z.u16(e), len = Int(z.u16(e + 2))
                if id == 0x0001 {
                    var f = e + 4
                    if usize == 0xFFFF_FFFF, f + 8 <= e + 4 + len { usize = Int(clamping: z.u64(f)); f += 8 }
                    if csize == 0xFFFF_FFFF, f + 8 <= e + 4 + len { csize = Int(clamping: z.u64(f)); f += 8 }
                    if localOff == 0xFFFF_FFFF, f + 8 <= e + 4 + len { localOff = Int(clamping: z.u64(f)); f += 8 }
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
            guard localOff >= 0, data.count >= 30, localOff <= data.count - 30, z.u32(localOff) == 0x0403_4B50 else {
                throw bad("member '\(name)': bad local header offset \(localOff)")
            }
            let start = localOff + 30 + Int(z.u16(localOff + 26)) + Int(z.u16(localOff + 28))
            guard start <= data.count, usize <= data.count - start else {
                throw bad("member '\(name)' is truncated (needs \(usize) bytes from offset \(start), archive has \(data.count))")
            }
            let body = data[(data.startIndex + start)..<(data.startIndex + start + usize)]
            let actual = body.withUnsafeBytes { CRC32.update(0, $0) }
            guard actual == crc else {
                throw bad("member '\(name)': CRC-32 mismatch (stored \(String(crc, radix: 16)), computed \(String(actual, radix: 16)))")
            }
            out[key] = try NPY.decode(Data(body), source: member)
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
