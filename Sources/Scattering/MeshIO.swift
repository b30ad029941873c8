import Arrays
import Foundation
import ISACIO
import Linalg

/// Readers for the triangle-mesh formats ShapeNet-style model collections use: Wavefront OBJ, STL
/// (ASCII and binary) and OFF. Polygons are fan-triangulated; STL vertices are welded by exact coordinate
/// equality (STL stores every triangle's corners separately). Coordinates are multiplied by `scale`
/// (metres per file unit). OBJ groups/objects/materials (`g`, `o`, `usemtl`) whose name contains
/// "tyre"/"tire"/"rubber", "glass"/"window" or "seat" are labelled as that part, everything else metal.
/// Every failure is an `ISACError.invalidParameter` naming `flag` and the file.
public enum MeshIO {
    /// Reads an OBJ, STL or OFF mesh, format chosen by file extension, coordinates multiplied by `scale`.
    public static func read(path: String, flag: String = "--mesh", scale: Double = 1) throws -> TriangleMesh {
        try Check.positive(scale, "--mesh-scale")
        func fail(_ why: String) -> ISACError { .invalidParameter(name: flag, value: path, valid: why) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail("cannot be read (missing or not a readable file); give an OBJ, STL or OFF mesh")
        }
        let ext = (path as NSString).pathExtension.lowercased()
        var mesh: TriangleMesh
        switch ext {
        case "obj": mesh = try parseOBJ(text(data, fail), fail)
        case "off": mesh = try parseOFF(text(data, fail), fail)
        case "stl":
            // Binary STL: 80-byte header + UInt32 count + 50 bytes per triangle. Some binary files start with "solid"
            // too, so the size decides.
            if data.count >= 84 {
                let n = data.subdata(in: 80..<84).withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
                if data.count == 84 + 50 * n { mesh = try parseBinarySTL(data, count: n, fail); break }
            }
            let s = try text(data, fail)
            guard s.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("solid") else {
                throw fail("is neither ASCII STL (starting with 'solid') nor binary STL (84 + 50·n bytes)")
            }
            mesh = try parseASCIISTL(s, fail)
        default:
            throw fail("has extension '.\(ext)'; supported mesh formats are .obj, .stl, .off")
        }
        if scale != 1 { mesh = mesh.scaled(scale) }
        guard !mesh.triangles.isEmpty else { throw fail("contains no triangles") }
        return mesh
    }

    static func text(_ d: Data, _ fail: (String) -> ISACError) throws -> String {
        guard let s = String(data: d, encoding: .utf8) ?? String(data: d, encoding: .isoLatin1) else { throw fail("is not a text file") }
        return s
    }

    static func number(_ s: Substring, _ what: String, _ line: Int, _ fail: (String) -> ISACError) throws -> Double {
        guard let v = Double(s), v.isFinite else { throw fail("line \(line): \(what) '\(s)' is not a finite number") }
        return v
    }

    static func part(named name: String) -> MeshPart {
        let n = name.lowercased()
        if n.contains("tyre") || n.contains("tire") || n.contains("rubber") { return .tyre }
        if n.contains("glass") || n.contains("window") { return .glass }
        if n.contains("seat") { return .seat }
        return .metal
    }

    static func fan(_ idx: [Int32], part: MeshPart, into m: inout TriangleMesh) {
        for i in 1..<(idx.count - 1) { m.triangles.append(SIMD3(idx[0], idx[i], idx[i + 1])); m.parts.append(part) }
    }

    static func parseOBJ(_ s: String, _ fail: (String) -> ISACError) throws -> TriangleMesh {
        var m = TriangleMesh()
        var current = MeshPart.metal
        for (ln, raw) in s.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let tok = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let head = tok.first else { continue }
            switch head {
            case "v":
                guard tok.count >= 4 else { throw fail("line \(ln + 1): vertex needs x y z") }
                m.vertices.append(Point3(try number(tok[1], "x", ln + 1, fail), try number(tok[2], "y", ln + 1, fail), try number(tok[3], "z", ln + 1, fail)))
            case "f":
                guard tok.count >= 4 else { throw fail("line \(ln + 1): face needs at least 3 vertices") }
                var idx: [Int32] = []
                for t in tok.dropFirst() {
                    guard let first = t.split(separator: "/", omittingEmptySubsequences: false).first, let i = Int(first), i != 0 else {
                        throw fail("line \(ln + 1): face index '\(t)' is not a non-zero integer")
                    }
                    let j = i > 0 ? i - 1 : m.vertices.count + i   // OBJ is 1-based; negative = relative
                    guard j >= 0, j < m.vertices.count else { throw fail("line \(ln + 1): face index \(i) refers to a vertex not defined before it") }
                    idx.append(Int32(j))
                }
                fan(idx, part: current, into: &m)
            case "g", "o", "usemtl":
                current = part(named: tok.dropFirst().joined(separator: " "))
            default: continue
            }
        }
        return m
    }

    static func parseOFF(_ s: String, _ fail: (String) -> ISACError) throws -> TriangleMesh {
        var tokens: [(Substring, Int)] = []
        for (ln, raw) in s.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for t in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) { tokens.append((t, ln + 1)) }
        }
        var p = 0
        func next(_ what: String) throws -> (Substring, Int) {
            guard p < tokens.count else { throw fail("ends early while reading \(what)") }
            p += 1; return tokens[p - 1]
        }
        var (h, _) = try next("the OFF header")
        // "OFF" may be glued to the counts ("OFF8 6 0" is not standard; "OFF" alone is).
        guard h.hasSuffix("OFF") else { throw fail("does not start with the OFF keyword") }
        h = ""
        func int(_ what: String) throws -> Int {
            let (t, ln) = try next(what)
            guard let v = Int(t), v >= 0 else { throw fail("line \(ln): \(what) '\(t)' is not a non-negative integer") }
            return v
        }
        let nv = try int("vertex count"), nf = try int("face count"); _ = try int("edge count")
        guard nv <= 50_000_000, nf <= 50_000_000 else { throw fail("declares \(nv) vertices / \(nf) faces (limit 5e7)") }
        var m = TriangleMesh()
        m.vertices.reserveCapacity(nv)
        for _ in 0..<nv {
            let (x, l) = try next("a vertex"), (y, _) = try next("a vertex"), (z, _) = try next("a vertex")
            m.vertices.append(Point3(try number(x, "x", l, fail), try number(y, "y", l, fail), try number(z, "z", l, fail)))
        }
        for _ in 0..<nf {
            let (ct, ln) = try next("a face")
            guard let c = Int(ct), c >= 3 else { throw fail("line \(ln): face has '\(ct)' vertices; need ≥ 3") }
            var idx: [Int32] = []
            for _ in 0..<c {
                let (t, l) = try next("a face index")
                guard let i = Int(t), i >= 0, i < nv else { throw fail("line \(l): face index '\(t)' is outside 0..<\(nv)") }
                idx.append(Int32(i))
            }
            // Skip optional per-face colour values to the end of the line.
            while p < tokens.count && tokens[p].1 == ln { p += 1 }
            fan(idx, part: .metal, into: &m)
        }
        return m
    }

    static func parseASCIISTL(_ s: String, _ fail: (String) -> ISACError) throws -> TriangleMesh {
        var corners: [Point3] = []
        for (ln, raw) in s.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let tok = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard tok.first == "vertex" else { continue }
            guard tok.count >= 4 else { throw fail("line \(ln + 1): vertex needs x y z") }
            corners.append(Point3(try number(tok[1], "x", ln + 1, fail), try number(tok[2], "y", ln + 1, fail), try number(tok[3], "z", ln + 1, fail)))
        }
        guard corners.count % 3 == 0 else { throw fail("has \(corners.count) facet vertices, not a multiple of 3") }
        return weld(corners)
    }

    static func parseBinarySTL(_ d: Data, count n: Int, _ fail: (String) -> ISACError) throws -> TriangleMesh {
        var corners: [Point3] = []
        corners.reserveCapacity(3 * n)
        try d.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
            for i in 0..<n {
                let o = 84 + 50 * i + 12   // skip the stored normal (recomputed from the winding)
                for c in 0..<3 {
                    var v = Point3.zero
                    for k in 0..<3 {
                        let bits = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: o + 12 * c + 4 * k, as: UInt32.self))
                        let x = Double(Float(bitPattern: bits))
                        guard x.isFinite else { throw fail("triangle \(i) has a non-finite coordinate") }
                        v[k] = x
                    }
                    corners.append(v)
                }
            }
        }
        return weld(corners)
    }

    /// Merges identical corner coordinates into shared vertices (needed for the manifold check and lit/shadow).
    static func weld(_ corners: [Point3]) -> TriangleMesh {
        var map: [Point3: Int32] = [:]
        var m = TriangleMesh()
        var idx: [Int32] = []
        for c in corners {
            if let i = map[c] { idx.append(i) } else { m.vertices.append(c); map[c] = Int32(m.vertices.count - 1); idx.append(Int32(m.vertices.count - 1)) }
        }
        for t in stride(from: 0, to: idx.count, by: 3) { m.triangles.append(SIMD3(idx[t], idx[t + 1], idx[t + 2])) }
        m.parts = .init(repeating: .metal, count: m.triangles.count)
        return m
    }

    /// Wavefront OBJ text of `mesh` (one group per part), e.g. to inspect a procedural vehicle.
    public static func objText(_ mesh: TriangleMesh) -> String {
        var s = "# ISACKit triangle mesh: \(mesh.vertices.count) vertices, \(mesh.triangles.count) triangles (metres)\n"
        for v in mesh.vertices { s += String(format: "v %.9g %.9g %.9g\n", v.x, v.y, v.z) }
        for p in MeshPart.allCases {
            let tri = mesh.triangles.indices.filter { mesh.parts[$0] == p }
            if tri.isEmpty { continue }
            s += "g \(p)\n"
            for i in tri { let t = mesh.triangles[i]; s += "f \(t.x + 1) \(t.y + 1) \(t.z + 1)\n" }
        }
        return s
    }

    /// Writes `mesh` as Wavefront OBJ (one `g` group per part), atomically.
    public static func writeOBJ(_ mesh: TriangleMesh, to path: String) throws {
        try AtomicFile.write(Data(objText(mesh).utf8), to: path)
    }
}
