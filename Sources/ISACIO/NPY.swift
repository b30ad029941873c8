import Foundation
import Numerics
import Linalg

/// Element storage of an `NPYArray`, one case per supported NumPy dtype (all little-endian):
/// `<f4`, `<f8`, `<c8`, `<c16`, `<i8`, `<i4`, `|u1`, `|b1`.
public enum NPYData: Sendable, Equatable {
    case float32([Float])
    case float64([Double])
    case complex64([Complex<Float>])
    case complex128([Complex<Double>])
    case int64([Int64])
    case int32([Int32])
    case uint8([UInt8])
    case bool([Bool])

    /// NumPy `descr` string, e.g. `<c16`.
    public var descr: String {
        switch self {
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .complex64: return "<c8"
        case .complex128: return "<c16"
        case .int64: return "<i8"
        case .int32: return "<i4"
        case .uint8: return "|u1"
        case .bool: return "|b1"
        }
    }

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .complex64, .int64: return 8
        case .complex128: return 16
        case .uint8, .bool: return 1
        }
    }

    /// Number of stored elements.
    public var count: Int {
        switch self {
        case let .float32(a): return a.count
        case let .float64(a): return a.count
        case let .complex64(a): return a.count
        case let .complex128(a): return a.count
        case let .int64(a): return a.count
        case let .int32(a): return a.count
        case let .uint8(a): return a.count
        case let .bool(a): return a.count
        }
    }
}

/// An n-dimensional NumPy array as stored in a `.npy` file: `shape`, memory order and a flat
/// element buffer.
///
/// `data` holds the elements in file order: row-major (last index fastest) when
/// `fortranOrder == false`, column-major (first index fastest) when `true`. A `Matrix<T>`
/// maps to a Fortran-order `[rows, cols]` array without copying the layout (see
/// `init(matrix:)`), which NumPy reads as the same 2-D array.
public struct NPYArray: Sendable, Equatable {
    /// Dimensions; `[]` is a 0-d scalar (one element).
    public var shape: [Int]
    /// `true`: column-major element order (first index fastest).
    public var fortranOrder: Bool
    /// Elements in storage order (see `fortranOrder`), `∏ shape` of them.
    public var data: NPYData

    /// Wraps `data` (storage order per `fortranOrder`) as an array of `shape`; the element count
    /// is checked by `validate()` and by the writers.
    public init(shape: [Int], fortranOrder: Bool = false, data: NPYData) {
        self.shape = shape; self.fortranOrder = fortranOrder; self.data = data
    }
    /// A `<f4 (float32)` array; elements in C order unless `fortranOrder`.
    public init(float32: [Float], shape: [Int], fortranOrder: Bool = false) {
        self.init(shape: shape, fortranOrder: fortranOrder, data: .float32(float32))
    }
    /// A `<f8 (float64)` array; elements in C order unless `fortranOrder`.
    public init(float64: [Double], shape: [Int], fortranOrder: Bool = false) {
        self.init(shape: shape, fortranOrder: fortranOrder, data: .float64(float64))
    }
    /// A `<c8 (complex64)` array; elements in C order unless `fortranOrder`.
    public init(complex64: [Complex<Float>], shape: [Int], fortranOrder: Bool = false) {
        self.init(shape: shape, fortranOrder: fortranOrder, data: .complex64(complex64))
    }
    /// A `<c16 (complex128)` array; elements in C order unless `fortranOrder`.
    public init(complex128: [Complex<Double>], shape: [Int], fortranOrder: Bool = false) {
        self.init(shape: shape, fortranOrder: fortranOrder, data: .complex128(complex128))
    }
    /// A `<i8 (int64)` array; elements in C order unless `fortranOrder`.
    public init(int64: [Int64], shape: [Int], fortranOrder: Bool = false) {
        self.init(shape: shape, fortranOrder: fortranOrder, data: .int64(int64))
    }
    /// A `<i4 (int32)` array; elements in C order unless `fortranOrder`.
    public init(int32: [Int32], shape: [Int], fortranOrder: Bool = false) {
        self.init(shape: shape, fortranOrder: fortranOrder, data: .int32(int32))
    }
    /// A `|u1 (uint8)` array; elements in C order unless `fortranOrder`.
    public init(uint8: [UInt8], shape: [Int], fortranOrder: Bool = false) {
        self.init(shape: shape, fortranOrder: fortranOrder, data: .uint8(uint8))
    }
    /// A `|b1 (bool)` array; elements in C order unless `fortranOrder`.
    public init(bool: [Bool], shape: [Int], fortranOrder: Bool = false) {
        self.init(shape: shape, fortranOrder: fortranOrder, data: .bool(bool))
    }

    /// Number of elements implied by `shape` (product of dims; 1 for a 0-d array), or nil on
    /// a negative dimension or overflow.
    public var elementCount: Int? { NPY.product(shape) }

    /// Throws `ISACError.shapeMismatch` when `data.count` differs from the product of `shape`,
    /// `ISACError.invalidParameter` for a negative dimension.
    public func validate(name: String = "array") throws {
        guard let n = elementCount else {
            throw ISACError.invalidParameter(name: "\(name).shape", value: "\(shape)",
                                             valid: "non-negative dimensions whose product fits in Int")
        }
        if n != data.count {
            throw ISACError.shapeMismatch("\(name): shape \(shape) needs \(n) elements but data has \(data.count)")
        }
    }

    /// Wraps a column-major matrix as a Fortran-order `[rows, cols]` array (no reordering).
    /// Supported element types: `Double`, `Float`, `Complex<Double>`, `Complex<Float>`.
    public init<T: BLASScalar>(matrix m: Matrix<T>) throws {
        let d: NPYData
        switch m.data {
        case let a as [Double]: d = .float64(a)
        case let a as [Float]: d = .float32(a)
        case let a as [Complex<Double>]: d = .complex128(a)
        case let a as [Complex<Float>]: d = .complex64(a)
        default:
            throw ISACError.invalidParameter(name: "matrix", value: "\(T.self)",
                                             valid: "Double, Float, Complex<Double> or Complex<Float> elements")
        }
        self.init(shape: [m.rows, m.cols], fortranOrder: true, data: d)
    }

    /// The same array with C (row-major) element order; a no-op for C-order arrays. An array
    /// whose element count does not match its shape (see `validate()`) is returned unchanged.
    public func cOrdered() -> NPYArray {
        guard fortranOrder, shape.count > 1 else { return NPYArray(shape: shape, fortranOrder: false, data: data) }
        guard elementCount == data.count else { return self }
        let perm = NPY.fortranToCPermutation(shape)
        func p<E>(_ a: [E]) -> [E] { perm.map { a[$0] } }
        let d: NPYData
        switch data {
        case let .float32(a): d = .float32(p(a))
        case let .float64(a): d = .float64(p(a))
        case let .complex64(a): d = .complex64(p(a))
        case let .complex128(a): d = .complex128(p(a))
        case let .int64(a): d = .int64(p(a))
        case let .int32(a): d = .int32(p(a))
        case let .uint8(a): d = .uint8(p(a))
        case let .bool(a): d = .bool(p(a))
        }
        return NPYArray(shape: shape, fortranOrder: false, data: d)
    }

    /// Elements as `Double` in storage order (real dtypes only; integers and bools converted).
    /// - Throws: `ISACError.invalidParameter` for complex data.
    public func doubles() throws -> [Double] {
        switch data {
        case let .float32(a): return a.map(Double.init)
        case let .float64(a): return a
        case let .int64(a): return a.map(Double.init)
        case let .int32(a): return a.map(Double.init)
        case let .uint8(a): return a.map(Double.init)
        case let .bool(a): return a.map { $0 ? 1 : 0 }
        case .complex64, .complex128:
            throw ISACError.invalidParameter(name: "dtype", value: data.descr, valid: "a real dtype (f4, f8, i4, i8, u1, b1)")
        }
    }

    /// Elements as `Complex<Double>` in storage order (real dtypes get zero imaginary part).
    public func complexDoubles() -> [Complex<Double>] {
        switch data {
        case let .complex64(a): return a.map { Complex(Double($0.real), Double($0.imaginary)) }
        case let .complex128(a): return a
        default: return ((try? doubles()) ?? []).map { Complex($0, 0) }
        }
    }

    /// A 2-D array as a column-major `Matrix<Complex<Double>>` (either storage order).
    /// - Throws: `ISACError.shapeMismatch` unless `shape.count == 2` and the data matches.
    public func complexMatrix() throws -> Matrix<Complex<Double>> {
        guard shape.count == 2 else { throw ISACError.shapeMismatch("expected a 2-D array, got shape \(shape)") }
        try validate()
        let v = complexDoubles()
        if fortranOrder { return Matrix(rows: shape[0], cols: shape[1], data: v) }
        return Matrix(rows: shape[0], cols: shape[1]) { i, j in v[i * shape[1] + j] }
    }

    /// A 2-D real array as a column-major `Matrix<Double>` (either storage order).
    public func realMatrix() throws -> Matrix<Double> {
        guard shape.count == 2 else { throw ISACError.shapeMismatch("expected a 2-D array, got shape \(shape)") }
        try validate()
        let v = try doubles()
        if fortranOrder { return Matrix(rows: shape[0], cols: shape[1], data: v) }
        return Matrix(rows: shape[0], cols: shape[1]) { i, j in v[i * shape[1] + j] }
    }
}

/// NumPy `.npy` format, versions 1.0/2.0 (and 3.0 on read), per
/// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html :
///
///     \x93NUMPY <major> <minor> <header_len: u16 (v1) | u32 (v2, v3)> <header> <data>
///
/// The header is a Python dict literal `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`
/// padded with spaces and a final `\n` so the data starts at a multiple of 64 bytes. The writer
/// reproduces NumPy's own header byte for byte (including the spare growth-axis spaces NumPy ≥ 1.24
/// adds), choosing v1.0 unless the header needs more than 65535 bytes.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    static let align = 64
    /// NumPy leaves room for a 21-digit growth axis so headers can be rewritten in place.
    static let growthAxisMaxDigits = 21

    /// Supported dtype names and their element kinds, keyed by the descr without byte-order char.
    static let kinds: [String: String] = ["f4": "float32", "f8": "float64", "c8": "complex64", "c16": "complex128",
                                          "i8": "int64", "i4": "int32", "u1": "uint8", "b1": "bool"]

    /// Product of dims, nil when a dim is negative or the product overflows `Int`.
    static func product(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            if d < 0 { return nil }
            let (r, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = r
        }
        return n
    }

    /// `perm[c] = f`: element at C-order flat index c sits at Fortran-order flat index f.
    static func fortranToCPermutation(_ shape: [Int]) -> [Int] {
        let n = product(shape) ?? 0
        var strideF = [Int](repeating: 1, count: shape.count)
        for k in 1..<Swift.max(1, shape.count) { strideF[k] = strideF[k - 1] * shape[k - 1] }
        var perm = [Int](repeating: 0, count: n)
        var idx = [Int](repeating: 0, count: shape.count)
        for c in 0..<n {
            var f = 0
            for k in 0..<shape.count { f += idx[k] * strideF[k] }
            perm[c] = f
            var k = shape.count - 1
            while k >= 0 {
                idx[k] += 1
                if idx[k] < shape[k] { break }
                idx[k] = 0; k -= 1
            }
        }
        return perm
    }

    /// The header dict text exactly as NumPy writes it (before padding).
    static func headerDict(descr: String, fortranOrder: Bool, shape: [Int]) -> String {
        let shapeRepr: String
        switch shape.count {
        case 0: shapeRepr = "()"
        case 1: shapeRepr = "(\(shape[0]),)"
        default: shapeRepr = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var h = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeRepr), }"
        if !shape.isEmpty {
            let growth = String(shape[fortranOrder ? shape.count - 1 : 0])
            h += String(repeating: " ", count: Swift.max(0, growthAxisMaxDigits - growth.count))
        }
        return h
    }

    /// Magic + version + length + padded header, a multiple of 64 bytes.
    static func header(descr: String, fortranOrder: Bool, shape: [Int]) -> Data {
        let dict = Array(headerDict(descr: descr, fortranOrder: fortranOrder, shape: shape).utf8)
        let hlen = dict.count + 1  // + "\n"
        // NumPy pads with 64 − (len % 64) spaces, i.e. a full 64 when already aligned; mirrored
        // so files stay byte-identical to np.save in that case too.
        var version: UInt8 = 1
        var prefix = magic.count + 2 + 2
        var pad = align - (prefix + hlen) % align
        if hlen + pad > Int(UInt16.max) {
            version = 2; prefix = magic.count + 2 + 4
            pad = align - (prefix + hlen) % align
        }
        var out = Data(magic)
        out.append(contentsOf: [version, 0])
        let total = hlen + pad
        if version == 1 {
            out.append(contentsOf: withUnsafeBytes(of: UInt16(total).littleEndian, Array.init))
        } else {
            out.append(contentsOf: withUnsafeBytes(of: UInt32(total).littleEndian, Array.init))
        }
        out.append(contentsOf: dict)
        out.append(contentsOf: [UInt8](repeating: 0x20, count: pad))
        out.append(0x0A)
        return out
    }

    /// Serializes `a` to `.npy` bytes. Element count is not checked here; see `write`.
    public static func encode(_ a: NPYArray) -> Data {
        var out = header(descr: a.data.descr, fortranOrder: a.fortranOrder, shape: a.shape)
        out.reserveCapacity(out.count + a.data.count * a.data.itemSize)
        a.data.withUnsafeRawBytes { out.append(contentsOf: $0) }
        return out
    }

    /// Atomically writes `a` as a `.npy` file, streaming the elements straight from the array
    /// buffer (no in-memory copy of the file).
    /// - Throws: `ISACError.shapeMismatch` when `a.data.count` ≠ ∏ `a.shape`; `ISACError.io`.
    public static func write(_ a: NPYArray, to path: String) throws {
        try a.validate(name: path)
        let h = header(descr: a.data.descr, fortranOrder: a.fortranOrder, shape: a.shape)
        try AtomicFile.write(to: path) { emit in
            try h.withUnsafeBytes { try emit($0) }
            try a.data.withUnsafeRawBytes { try emit($0) }
        }
    }

    /// Reads a `.npy` file: the header is parsed first, then the elements are read from the
    /// file straight into the result array.
    /// - Throws: `ISACError.io` when unreadable, `ISACError.malformedFile` naming the file and
    ///   the reason for anything that is not a well-formed supported `.npy`.
    public static func read(from path: String) throws -> NPYArray {
        let src = try FileSource(path: path)
        return try load(src, at: 0, length: src.size, source: path, crc: false).0
    }

    /// Parses the `.npy` stored in `length` bytes at `base` of `src`; `source` names it in
    /// errors. With `crc`, also returns the CRC-32 of those bytes (for zip members), computed
    /// while the payload is loaded.
    static func load(_ src: ByteSource, at base: Int, length: Int, source: String, crc: Bool) throws -> (NPYArray, UInt32) {
        var prefix = try src.bytes(base, Swift.min(length, 12))
        if let need = headerEnd(prefix), need > prefix.count, need <= length {
            prefix.append(try src.bytes(base + prefix.count, need - prefix.count))
        }
        let layout = try parseHeader(prefix, totalSize: length, source: source)
        var c: UInt32 = 0
        if crc { c = prefix.prefix(layout.dataStart).withUnsafeBytes { CRC32.update(0, $0) } }
        let data = try NPYData.make(kind: layout.kind, count: layout.count) { raw in
            try src.fill(base + layout.dataStart, raw)
            if crc { c = CRC32.update(c, UnsafeRawBufferPointer(raw)) }
        }
        return (NPYArray(shape: layout.shape, fortranOrder: layout.fortranOrder, data: data), c)
    }

    /// Byte offset where the header ends (= data start), from the first 10–12 bytes, or nil.
    static func headerEnd(_ prefix: Data) -> Int? {
        let b = [UInt8](prefix.prefix(12))
        guard b.count >= 10, Array(b[0..<6]) == magic else { return nil }
        switch b[6] {
        case 1: return 10 + (Int(b[8]) | Int(b[9]) << 8)
        case 2, 3:
            guard b.count >= 12 else { return nil }
            return 12 + (Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24)
        default: return nil
        }
    }

    struct Layout {
        var kind: String
        var shape: [Int]
        var fortranOrder: Bool
        var count: Int
        var dataStart: Int
    }

    /// Validates magic, version, header dict, dtype and the payload size against `totalSize`
    /// (the whole file's length). `data` must hold at least the header.
    static func parseHeader(_ data: Data, totalSize: Int, source: String) throws -> Layout {
        func bad(_ reason: String) -> ISACError { .malformedFile(path: source, reason: reason) }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw bad("not a .npy file (missing \\x93NUMPY magic)")
        }
        let major = bytes[6], minor = bytes[7]
        let headerLen: Int, headerStart: Int
        switch major {
        case 1:
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated header length") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw bad("unsupported format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
        }
        guard minor == 0 else { throw bad("unsupported format version \(major).\(minor)") }
        let dataStart = headerStart + headerLen
        guard totalSize >= dataStart, data.count >= dataStart else {
            throw bad("truncated header: needs \(headerLen) bytes, file has \(totalSize - headerStart)")
        }
        let base = data.startIndex
        let hdrBytes = data[(base + headerStart)..<(base + dataStart)]
        guard let text = major == 3 ? String(data: hdrBytes, encoding: .utf8)
                                    : String(data: hdrBytes, encoding: .isoLatin1) else {
            throw bad("header is not valid text")
        }
        let dict: [String: HeaderParser.Value]
        do {
            var p = HeaderParser(text)
            dict = try p.parseDict()
        } catch let e as HeaderParser.Failure {
            throw bad("cannot parse header dict (\(e.message)): \(text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(120))")
        }
        for k in dict.keys where !["descr", "fortran_order", "shape"].contains(k) {
            throw bad("unexpected header key '\(k)'")
        }
        guard case let .string(descr)? = dict["descr"] else {
            if dict["descr"] == nil { throw bad("header has no 'descr'") }
            throw bad("'descr' must be a dtype string (structured dtypes are not supported)")
        }
        guard case let .bool(fortran)? = dict["fortran_order"] else { throw bad("header needs 'fortran_order': True or False") }
        guard case let .tuple(shape)? = dict["shape"] else { throw bad("header needs 'shape' as a tuple of integers") }
        if let d = shape.first(where: { $0 < 0 }) { throw bad("negative dimension \(d) in shape \(shape)") }
        guard let count = product(shape) else { throw bad("shape \(shape) has more elements than fit in memory") }

        // Byte order: '<' little, '>' big, '=' native (little here), '|' not applicable.
        var order: Character = "="
        var code = descr
        if let c = descr.first, "<>=|".contains(c) { order = c; code = String(descr.dropFirst()) }
        guard let kind = kinds[code] else {
            throw bad("unsupported dtype '\(descr)' (supported: <f4 <f8 <c8 <c16 <i8 <i4 |u1 |b1)")
        }
        let itemSize = code == "c16" ? 16 : Int(code.dropFirst())!
        if order == ">" && itemSize > 1 {
            throw bad("big-endian dtype '\(descr)' is not supported; save with arr.astype('<\(code)')")
        }
        let (nbytes, o) = count.multipliedReportingOverflow(by: itemSize)
        if o { throw bad("shape \(shape) × \(itemSize) bytes overflows") }
        let available = totalSize - dataStart
        if available < nbytes {
            throw bad("truncated data: shape \(shape) of \(descr) needs \(nbytes) bytes, file has \(available)")
        }
        if available > nbytes {
            throw bad("\(available - nbytes) unexpected bytes after the data of shape \(shape) \(descr)")
        }
        return Layout(kind: kind, shape: shape, fortranOrder: fortran, count: count, dataStart: dataStart)
    }

    /// Parses `.npy` bytes; `source` names the file (or archive member) in errors.
    public static func decode(_ data: Data, source: String) throws -> NPYArray {
        try load(DataSource(data: data, name: source), at: 0, length: data.count, source: source, crc: false).0
    }
}

/// Asks Linux for transparent huge pages on a large fresh buffer (as NumPy does for its array
/// data): first-touch page faults on 4 KiB pages otherwise dominate reading big arrays
/// (≈ 3× slower on a 64 MiB array). Only whole 2 MiB pages inside the buffer are advised.
@inline(__always)
func adviseHugePages(_ buf: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
    let huge = 2 << 20
    guard buf.count >= 4 * huge, let base = buf.baseAddress else { return }
    let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
    let end = (Int(bitPattern: base) + buf.count) & ~(huge - 1)
    if end > start, let p = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(p, end - start, 14)  // MADV_HUGEPAGE
    }
    #endif
}

extension NPYData {
    /// Calls `body` with the elements' little-endian bytes in storage order, without copying
    /// (bools are converted to 0/1 bytes first).
    public func withUnsafeRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // Host is little-endian (x86-64, arm64), matching the '<' descrs; Complex<T> is laid out
        // as (real, imaginary) like C99 complex and NumPy's cN.
        switch self {
        case let .float32(v): return try v.withUnsafeBytes(body)
        case let .float64(v): return try v.withUnsafeBytes(body)
        case let .complex64(v): return try v.withUnsafeBytes(body)
        case let .complex128(v): return try v.withUnsafeBytes(body)
        case let .int64(v): return try v.withUnsafeBytes(body)
        case let .int32(v): return try v.withUnsafeBytes(body)
        case let .uint8(v): return try v.withUnsafeBytes(body)
        case let .bool(v): return try v.map { $0 ? UInt8(1) : 0 }.withUnsafeBytes(body)
        }
    }

    /// Allocates `count` elements of `kind` (a value of `NPY.kinds`) and lets `fill` write
    /// their raw little-endian bytes.
    static func make(kind: String, count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> NPYData {
        func load<E>(_: E.Type) throws -> [E] {
            try [E](unsafeUninitializedCapacity: count) { buf, n in
                let raw = UnsafeMutableRawBufferPointer(buf)
                adviseHugePages(raw)
                try fill(raw)
                n = count
            }
        }
        switch kind {
        case "float32": return .float32(try load(Float.self))
        case "float64": return .float64(try load(Double.self))
        case "complex64": return .complex64(try load(Complex<Float>.self))
        case "complex128": return .complex128(try load(Complex<Double>.self))
        case "int64": return .int64(try load(Int64.self))
        case "int32": return .int32(try load(Int32.self))
        case "uint8": return .uint8(try load(UInt8.self))
        default: return .bool(try load(UInt8.self).map { $0 != 0 })
        }
    }
}

/// Minimal parser for the Python literal subset NumPy headers use: a dict with string keys and
/// values that are strings, True/False, or tuples of integers.
struct HeaderParser {
    enum Value: Equatable { case string(String), bool(Bool), tuple([Int]), other }
    struct Failure: Error { let message: String }

    let s: [Character]
    var i = 0
    init(_ text: String) { s = Array(text) }

    mutating func skipSpace() { while i < s.count, s[i].isWhitespace { i += 1 } }
    mutating func expect(_ c: Character) throws {
        skipSpace()
        guard i < s.count, s[i] == c else { throw Failure(message: "expected '\(c)' at offset \(i)") }
        i += 1
    }
    mutating func peek() -> Character? { skipSpace(); return i < s.count ? s[i] : nil }

    mutating func parseDict() throws -> [String: Value] {
        try expect("{")
        var out: [String: Value] = [:]
        while true {
            if peek() == "}" { i += 1; break }
            let key = try parseString()
            try expect(":")
            let v = try parseValue()
            if out[key] != nil { throw Failure(message: "duplicate key '\(key)'") }
            out[key] = v
            if peek() == "," { i += 1; continue }
            try expect("}")
            break
        }
        skipSpace()
        guard i == s.count else { throw Failure(message: "trailing characters after the dict") }
        return out
    }

    mutating func parseString() throws -> String {
        skipSpace()
        guard i < s.count, s[i] == "'" || s[i] == "\"" else { throw Failure(message: "expected a quoted string at offset \(i)") }
        let q = s[i]; i += 1
        var out = ""
        while i < s.count, s[i] != q {
            if s[i] == "\\" { i += 1; guard i < s.count else { break } }
            out.append(s[i]); i += 1
        }
        guard i < s.count else { throw Failure(message: "unterminated string") }
        i += 1
        return out
    }

    mutating func parseInt() throws -> Int {
        skipSpace()
        let start = i
        if i < s.count, s[i] == "-" || s[i] == "+" { i += 1 }
        while i < s.count, s[i].isASCII, s[i].isNumber { i += 1 }
        guard let v = Int(String(s[start..<i])) else { throw Failure(message: "bad integer at offset \(start)") }
        if i < s.count, s[i] == "L" { i += 1 }  // Python 2 long suffix in old files
        return v
    }

    mutating func parseValue() throws -> Value {
        guard let c = peek() else { throw Failure(message: "unexpected end of header") }
        switch c {
        case "'", "\"": return .string(try parseString())
        case "(":
            i += 1
            var dims: [Int] = []
            while true {
                if peek() == ")" { i += 1; break }
                dims.append(try parseInt())
                if peek() == "," { i += 1; continue }
                try expect(")")
                break
            }
            return .tuple(dims)
        case "[", "{":
            // Structured dtypes: skip the balanced literal, report as unsupported.
            var depth = 0
            repeat {
                guard i < s.count else { throw Failure(message: "unbalanced brackets") }
                if "[{(".contains(s[i]) { depth += 1 }
                if "]})".contains(s[i]) { depth -= 1 }
                i += 1
            } while depth > 0
            return .other
        default:
            if s[i...].starts(with: "True") { i += 4; return .bool(true) }
            if s[i...].starts(with: "False") { i += 5; return .bool(false) }
            throw Failure(message: "unexpected value at offset \(i)")
        }
    }
}
