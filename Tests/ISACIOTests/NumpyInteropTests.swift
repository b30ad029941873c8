import Foundation
import Testing
import Numerics
import Linalg
@testable import ISACIO

/// Python side of the interop tests: the expected value of element with C-order flat index i
/// for each dtype, computed independently of the Swift code under test.
let numpyExpected = """
import numpy as np
def expected(dt, shape):
    n = int(np.prod(shape)) if len(shape) else 1
    i = np.arange(n)
    if dt == 'f4': v = (i * 0.25 - 3).astype('<f4')
    elif dt == 'f8': v = i * 0.37 - 11
    elif dt == 'c8': v = (i * 0.5 + 1j * (-i)).astype('<c8')
    elif dt == 'c16': v = i / 3 + 1j * (i * 1.5 - 2)
    elif dt == 'i8': v = (i * 7919 - 40).astype('<i8')
    elif dt == 'i4': v = (i * 31 - 100).astype('<i4')
    elif dt == 'u1': v = ((i * 37) % 256).astype('|u1')
    else: v = (i % 3 == 1)
    return v.reshape(shape)
"""

/// Swift twin of `numpyExpected`: element at logical C-order flat index i.
func expectedArray(_ dt: String, shape: [Int], fortran: Bool) -> NPYArray {
    let n = shape.reduce(1, *)
    // Fortran storage position f holds the element whose C-order index is c(f) (naive loops).
    var order = Array(0..<n)
    if fortran && shape.count == 2 {
        let (r, c) = (shape[0], shape[1])
        for j in 0..<c { for i in 0..<r { order[i + j * r] = i * c + j } }
    } else if fortran && shape.count == 3 {
        let (a, b, c) = (shape[0], shape[1], shape[2])
        for k in 0..<c { for j in 0..<b { for i in 0..<a { order[i + a * (j + b * k)] = (i * b + j) * c + k } } }
    }
    let d: NPYData
    switch dt {
    case "f4": d = .float32(order.map { Float($0) * 0.25 - 3 })
    case "f8": d = .float64(order.map { Double($0) * 0.37 - 11 })
    case "c8": d = .complex64(order.map { Complex(Float($0) * 0.5, Float(-$0)) })
    case "c16": d = .complex128(order.map { Complex(Double($0) / 3, Double($0) * 1.5 - 2) })
    case "i8": d = .int64(order.map { Int64($0 * 7919 - 40) })
    case "i4": d = .int32(order.map { Int32($0 * 31 - 100) })
    case "u1": d = .uint8(order.map { UInt8(($0 * 37) % 256) })
    default: d = .bool(order.map { $0 % 3 == 1 })
    }
    return NPYArray(shape: shape, fortranOrder: fortran, data: d)
}

let interopShapes: [[Int]] = [[], [5], [2, 3], [2, 3, 4]]

@Test func numpyLoadsSwiftFiles() throws {
    guard numpyAvailable else {
        print("note: python3+numpy not available; skipping numpyLoadsSwiftFiles")
        return
    }
    let dir = tempDir()
    var npz: [String: NPYArray] = [:]
    var listing = ""
    for dt in allDtypes {
        for (si, shape) in interopShapes.enumerated() {
            for fortran in [false, true] where !(fortran && shape.count < 2) {
                let name = "\(dt)_\(si)_\(fortran ? "F" : "C")"
                let a = expectedArray(dt, shape: shape, fortran: fortran)
                try NPY.write(a, to: "\(dir)/\(name).npy")
                npz[name] = a
                listing += "\(name) \(dt) \(fortran ? 1 : 0) \(shape.isEmpty ? "-" : shape.map(String.init).joined(separator: ","))\n"
            }
        }
    }
    try NPZ.write(npz, to: "\(dir)/all.npz")
    try AtomicFile.write(listing, to: "\(dir)/listing.txt")
    let script = numpyExpected + "\n" + """
    import sys, io
    d = sys.argv[1]
    z = np.load(d + '/all.npz')
    bad = []
    for line in open(d + '/listing.txt'):
        name, dt, f, shp = line.split()
        shape = tuple(int(s) for s in shp.split(',') if s != '-')
        e = expected(dt, shape)
        raw = open(d + '/' + name + '.npy', 'rb').read()
        for src, a in (('npy', np.load(d + '/' + name + '.npy')), ('npz', z[name])):
            layout_ok = a.flags.f_contiguous if f == '1' else a.flags.c_contiguous
            if a.dtype != e.dtype or a.shape != e.shape or not np.array_equal(a, e) or not layout_ok:
                bad.append((src, name, str(a.dtype), a.shape))
        # Byte-exact: numpy writing the same array produces the same file.
        b = io.BytesIO(); np.save(b, np.asfortranarray(e) if f == '1' else e)
        if b.getvalue() != raw: bad.append(('bytes', name))
    print('BAD', bad) if bad else print('OK', len(z.files))
    sys.exit(1 if bad else 0)
    """
    let r = runPython(script, [dir])
    #expect(r?.0 == 0, "numpy check: \(r?.1 ?? "python3 did not run")")
}

@Test func swiftReadsNumpyFiles() throws {
    guard numpyAvailable else {
        print("note: python3+numpy not available; skipping swiftReadsNumpyFiles")
        return
    }
    let dir = tempDir()
    var names: [(String, String, [Int], Bool)] = []
    for dt in allDtypes {
        for (si, shape) in interopShapes.enumerated() {
            for fortran in [false, true] where !(fortran && shape.count < 2) {
                names.append(("\(dt)_\(si)_\(fortran ? "F" : "C")", dt, shape, fortran))
            }
        }
    }
    let listing = names.map { "\($0.0) \($0.1) \($0.3 ? 1 : 0) \($0.2.isEmpty ? "-" : $0.2.map(String.init).joined(separator: ","))" }.joined(separator: "\n")
    try AtomicFile.write(listing + "\n", to: "\(dir)/listing.txt")
    let script = numpyExpected + "\n" + """
    import sys
    d = sys.argv[1]
    arrays = {}
    for line in open(d + '/listing.txt'):
        name, dt, f, shp = line.split()
        e = expected(dt, tuple(int(s) for s in shp.split(',') if s != '-'))
        if f == '1': e = np.asfortranarray(e)
        np.save(d + '/' + name + '.npy', e)
        arrays[name] = e
    np.savez(d + '/all.npz', **arrays)
    np.savez_compressed(d + '/compressed.npz', x=np.arange(3.0))
    """
    let r = runPython(script, [dir])
    #expect(r?.0 == 0, "numpy writer failed: \(r?.1 ?? "")")
    guard r?.0 == 0 else { return }
    let npz = try NPZ.read(from: "\(dir)/all.npz")
    #expect(npz.count == names.count)
    for (name, dt, shape, fortran) in names {
        let want = expectedArray(dt, shape: shape, fortran: fortran)
        #expect(try NPY.read(from: "\(dir)/\(name).npy") == want, "\(name).npy")
        #expect(npz[name] == want, "\(name) in npz")
    }
    do {
        _ = try NPZ.read(from: "\(dir)/compressed.npz")
        Issue.record("np.savez_compressed archive should be refused")
    } catch let ISACError.malformedFile(_, reason) {
        #expect(reason.contains("x.npy") && reason.contains("savez_compressed"))
    }
}

/// Header padding across many header lengths (every residue mod 64, including the case where the
/// unpadded header is already aligned and NumPy adds a full 64 spaces): byte-identical to np.save.
@Test func headerPaddingMatchesNumpyForAllResidues() throws {
    guard numpyAvailable else {
        print("note: python3+numpy not available; skipping headerPaddingMatchesNumpyForAllResidues")
        return
    }
    let dir = tempDir()
    var shapes: [[Int]] = []
    // Zero-size arrays (a 0 in every shape) vary the header length freely without any data;
    // NumPy writes them as C order, so only C order is compared here.
    for m in 1..<40 {
        for first in [0, 10, 1000, 1_000_000_000] {
            shapes.append([first] + [Int](repeating: 0, count: m))
        }
    }
    for (i, s) in shapes.enumerated() {
        try NPY.write(NPYArray(float64: [], shape: s), to: "\(dir)/\(i).npy")
    }
    try AtomicFile.write(shapes.map { $0.map(String.init).joined(separator: ",") }.joined(separator: "\n") + "\n", to: "\(dir)/shapes.txt")
    let script = """
    import sys, io, numpy as np
    d = sys.argv[1]; bad = []
    for i, line in enumerate(open(d + '/shapes.txt')):
        shape = tuple(int(x) for x in line.strip().split(','))
        b = io.BytesIO(); np.save(b, np.zeros(shape))
        if b.getvalue() != open(d + '/%d.npy' % i, 'rb').read(): bad.append(shape)
    print('BAD', bad[:3], len(bad)) if bad else print('OK')
    sys.exit(1 if bad else 0)
    """
    let r = runPython(script, [dir])
    #expect(r?.0 == 0, "\(r?.1 ?? "")")
}
