import Arrays
import Foundation
import Linalg
import Numerics

/// Part labels of a vehicle mesh; the raw value is the 1-based material index of `VoxelTarget`
/// and `MaterialRanges.draw` ([metal, tyre, glass, seat]).
public enum MeshPart: UInt8, Sendable, Codable, CaseIterable {
    case metal = 1, tyre = 2, glass = 3, seat = 4
}

/// A triangulated surface: vertices (metres) and triangles (0-based vertex indices, counter-clockwise
/// seen from outside for closed parts, so that (v1 − v0) × (v2 − v0) is the outward normal), with one part
/// label per triangle. The physical-optics solver treats `.metal` facets as perfect conductors.
public struct TriangleMesh: Sendable, Equatable {
    /// Vertex positions, metres.
    public var vertices: [Point3]
    /// Triangles as 0-based vertex indices (counter-clockwise from outside).
    public var triangles: [SIMD3<Int32>]
    /// Part label of each triangle (one per triangle).
    public var parts: [MeshPart]

    /// Creates a mesh; `parts` defaults to `.metal` for every triangle.
    public init(vertices: [Point3] = [], triangles: [SIMD3<Int32>] = [], parts: [MeshPart]? = nil) {
        self.vertices = vertices; self.triangles = triangles
        self.parts = parts ?? [MeshPart](repeating: .metal, count: triangles.count)
    }

    /// True when the mesh has no triangles.
    public var isEmpty: Bool { triangles.isEmpty }

    /// Corner positions of triangle i.
    public func corners(_ i: Int) -> (Point3, Point3, Point3) {
        let t = triangles[i]
        return (vertices[Int(t.x)], vertices[Int(t.y)], vertices[Int(t.z)])
    }

    /// (v1 − v0) × (v2 − v0) of triangle i: direction = normal, length = 2 × area (m²).
    public func areaVector(_ i: Int) -> Point3 {
        let (a, b, c) = corners(i)
        return vcross(b - a, c - a)
    }

    /// Area of triangle i, m².
    public func area(_ i: Int) -> Double { vnorm(areaVector(i)) / 2 }
    /// Total surface area, m².
    public var totalArea: Double { triangles.indices.reduce(0) { $0 + area($1) } }

    /// Longest edge of triangle i, m.
    public func longestEdge(_ i: Int) -> Double {
        let (a, b, c) = corners(i)
        return max(vnorm(b - a), vnorm(c - b), vnorm(a - c))
    }

    /// Axis-aligned bounds (lo, hi) of the vertices, m.
    public var bounds: (lo: Point3, hi: Point3) {
        var lo = Point3(repeating: .infinity), hi = Point3(repeating: -.infinity)
        for v in vertices { lo = pointwiseMin(lo, v); hi = pointwiseMax(hi, v) }
        return (lo, hi)
    }

    /// Appends `other` (indices shifted).
    public mutating func append(_ other: TriangleMesh) {
        let off = Int32(vertices.count)
        vertices += other.vertices
        triangles += other.triangles.map { $0 &+ SIMD3(repeating: off) }
        parts += other.parts
    }

    /// Rotation by `headingRad` about +z, then translation by `offset`.
    public func transformed(headingRad: Double, offset: Point3) -> TriangleMesh {
        let c = Double.cos(headingRad), s = Double.sin(headingRad)
        var m = self
        m.vertices = vertices.map { v in Point3(c * v.x - s * v.y, s * v.x + c * v.y, v.z) + offset }
        return m
    }

    /// Scales every vertex by `factor` about the origin.
    public func scaled(_ factor: Double) -> TriangleMesh {
        var m = self; m.vertices = vertices.map { $0 * factor }; return m
    }

    /// Per-triangle flag: true when the triangle belongs to a connected component (triangles sharing edges)
    /// that is closed (every edge used twice). Closed components have an inside and are lit on their outer
    /// side only; open components (plates, sheets) are lit from either side.
    public func closedComponentFlags() -> [Bool] {
        let n = triangles.count
        var parent = Array(0..<n)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        var edgeOwner: [SIMD2<Int32>: Int] = [:], edgeCount: [SIMD2<Int32>: Int] = [:]
        for (i, t) in triangles.enumerated() {
            for (a, b) in [(t.x, t.y), (t.y, t.z), (t.z, t.x)] {
                let e = SIMD2(min(a, b), max(a, b))
                edgeCount[e, default: 0] += 1
                if let o = edgeOwner[e] { let ra = find(o), rb = find(i); if ra != rb { parent[ra] = rb } } else { edgeOwner[e] = i }
            }
        }
        var open = Set<Int>()
        for (e, c) in edgeCount where c != 2 { open.insert(find(edgeOwner[e]!)) }
        return (0..<n).map { !open.contains(find($0)) }
    }

    /// Checks that the mesh can be used by the solvers and throws `ISACError.invalidParameter` naming
    /// `flag` and `source` (the file or target) otherwise: not empty, finite vertices, indices in range,
    /// no zero-area facets (area ≤ 1e-12 × (bounding-box diagonal)²), edge-manifold (no edge shared by more
    /// than two facets, neighbours traverse a shared edge in opposite directions), no facet edge longer
    /// than `maxEdgeM` when given, and no connected part passing through itself (`selfIntersection`).
    public func validate(flag: String, source: String, maxEdgeM: Double? = nil) throws {
        func fail(_ why: String) -> ISACError { .invalidParameter(name: flag, value: source, valid: why) }
        guard !triangles.isEmpty, !vertices.isEmpty else { throw fail("mesh has no triangles; need a non-empty triangulated surface") }
        guard parts.count == triangles.count else { throw fail("mesh has \(parts.count) part labels for \(triangles.count) triangles") }
        for (i, v) in vertices.enumerated() where !(v.x.isFinite && v.y.isFinite && v.z.isFinite) {
            throw fail("vertex \(i) is not finite (\(v)); vertices must be finite coordinates in metres")
        }
        let nv = Int32(vertices.count)
        for (i, t) in triangles.enumerated() {
            guard t.x >= 0, t.y >= 0, t.z >= 0, t.x < nv, t.y < nv, t.z < nv else {
                throw fail("triangle \(i) references vertex \(t) outside 0..<\(nv)")
            }
        }
        let (lo, hi) = bounds
        let diag2 = max(((hi - lo) * (hi - lo)).sum(), .leastNormalMagnitude)
        for i in triangles.indices where area(i) <= 1e-12 * diag2 {
            let t = triangles[i]
            throw fail("triangle \(i) (vertices \(t.x), \(t.y), \(t.z)) has zero area; remove degenerate facets")
        }
        // Directed edges: a manifold, consistently oriented mesh uses each directed edge at most once.
        var directed = Set<SIMD2<Int32>>(), undirected: [SIMD2<Int32>: Int] = [:]
        for (i, t) in triangles.enumerated() {
            for (a, b) in [(t.x, t.y), (t.y, t.z), (t.z, t.x)] {
                let u = SIMD2(min(a, b), max(a, b))
                undirected[u, default: 0] += 1
                if undirected[u]! > 2 { throw fail("non-manifold: edge (\(u.x), \(u.y)) is shared by more than two triangles (triangle \(i))") }
                if !directed.insert(SIMD2(a, b)).inserted {
                    throw fail("non-manifold or inconsistently oriented: triangles sharing edge (\(a), \(b)) run it in the same direction (triangle \(i)); orient all facets counter-clockwise seen from outside")
                }
            }
        }
        if let m = maxEdgeM {
            for i in triangles.indices where longestEdge(i) > m {
                throw fail(String(format: "triangle %d has an edge of %.4g m, longer than the validated facet size %.4g m; refine the mesh", i, longestEdge(i), m))
            }
        }
        if let (i, j) = selfIntersection() {
            throw fail("self-intersecting: triangles \(i) and \(j) of one connected part cross each other; repair the mesh (separate parts may overlap, one closed part may not pass through itself)")
        }
    }

    /// Connected components (triangles sharing an edge), one id per triangle (0-based, in order of first appearance).
    public func componentIDs() -> [Int] {
        let n = triangles.count
        var parent = Array(0..<n)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        var edgeOwner: [SIMD2<Int32>: Int] = [:]
        for (i, t) in triangles.enumerated() {
            for (a, b) in [(t.x, t.y), (t.y, t.z), (t.z, t.x)] {
                let e = SIMD2(min(a, b), max(a, b))
                if let o = edgeOwner[e] { let ra = find(o), rb = find(i); if ra != rb { parent[ra] = rb } } else { edgeOwner[e] = i }
            }
        }
        var id: [Int: Int] = [:]
        return (0..<n).map { i in let r = find(i); if let v = id[r] { return v }; id[r] = id.count; return id.count - 1 }
    }

    /// First pair of triangles (i < j) of the same connected component that cross each other, or nil.
    ///
    /// Candidates come from a uniform spatial hash (cell = mean longest facet edge; each triangle is entered in every
    /// cell its bounding box overlaps, so the test is ≈ O(F) for well-spread facets instead of O(F²)). Two triangles
    /// cross when an edge of one passes through the interior of the other (segment–triangle test with a tolerance of
    /// 1e-9 × the bounding-box diagonal, so facets that only touch along an edge or at a vertex do not count).
    /// Pairs that share a vertex and coplanar overlaps are not tested. Different components may overlap: multi-part
    /// models (and the procedural vehicles) are built from intersecting closed parts.
    public func selfIntersection() -> (Int, Int)? {
        let n = triangles.count
        guard n > 1 else { return nil }
        let comp = componentIDs()
        let (lo, hi) = bounds
        let diag = max(vnorm(hi - lo), .leastNormalMagnitude), tol = 1e-9 * diag
        let cell = max(triangles.indices.reduce(0) { $0 + longestEdge($1) } / Double(n), diag / 2048)
        func key(_ i: Int, _ j: Int, _ l: Int) -> Int64 { (Int64(i) & 0x1FFFFF) << 42 | (Int64(j) & 0x1FFFFF) << 21 | (Int64(l) & 0x1FFFFF) }
        var grid: [Int64: [Int32]] = [:]
        var boxes: [(Point3, Point3)] = []
        boxes.reserveCapacity(n)
        for t in 0..<n {
            let (a, b, c) = corners(t)
            let bl = pointwiseMin(pointwiseMin(a, b), c), bh = pointwiseMax(pointwiseMax(a, b), c)
            boxes.append((bl - tol, bh + tol))
            let i0 = Int(((bl.x - lo.x) / cell).rounded(.down)), i1 = Int(((bh.x - lo.x) / cell).rounded(.down))
            let j0 = Int(((bl.y - lo.y) / cell).rounded(.down)), j1 = Int(((bh.y - lo.y) / cell).rounded(.down))
            let l0 = Int(((bl.z - lo.z) / cell).rounded(.down)), l1 = Int(((bh.z - lo.z) / cell).rounded(.down))
            for i in i0...i1 { for j in j0...j1 { for l in l0...l1 { grid[key(i, j, l), default: []].append(Int32(t)) } } }
        }
        /// Segment p→q crosses the interior of triangle (a, b, c) (Möller–Trumbore, strictly inside with margin).
        func crosses(_ p: Point3, _ q: Point3, _ a: Point3, _ b: Point3, _ c: Point3) -> Bool {
            let d = q - p, e1 = b - a, e2 = c - a, pv = vcross(d, e2), det = vdot(e1, pv)
            let scale = vnorm(d) * vnorm(e1) * vnorm(e2)
            if abs(det) <= 1e-12 * scale { return false }   // parallel or coplanar
            let tv = p - a, u = vdot(tv, pv) / det
            let qv = vcross(tv, e1), v = vdot(d, qv) / det, s = vdot(e2, qv) / det
            let ed = tol / max(vnorm(e1), vnorm(e2)), es = tol / vnorm(d)
            return u > ed && v > ed && u + v < 1 - ed && s > es && s < 1 - es
        }
        var tested = Set<Int64>()
        var best: (Int, Int)? = nil
        for (_, list) in grid where list.count > 1 {
            for x in 0..<list.count { for y in (x + 1)..<list.count {
                let i = Int(min(list[x], list[y])), j = Int(max(list[x], list[y]))
                guard comp[i] == comp[j] else { continue }
                let ti = triangles[i], tj = triangles[j]
                if ti.x == tj.x || ti.x == tj.y || ti.x == tj.z || ti.y == tj.x || ti.y == tj.y || ti.y == tj.z
                    || ti.z == tj.x || ti.z == tj.y || ti.z == tj.z { continue }
                let (bi, bj) = (boxes[i], boxes[j])
                if any(bi.1 .< bj.0) || any(bj.1 .< bi.0) { continue }
                guard tested.insert(Int64(i) << 32 | Int64(j)).inserted else { continue }
                let (a, b, c) = corners(i), (d, e, f) = corners(j)
                if crosses(a, b, d, e, f) || crosses(b, c, d, e, f) || crosses(c, a, d, e, f)
                    || crosses(d, e, a, b, c) || crosses(e, f, a, b, c) || crosses(f, d, a, b, c) {
                    if best == nil || (i, j) < best! { best = (i, j) }
                }
            } }
        }
        return best
    }

    /// Smallest distance from any point of the surface to any of `points`, m (exact point–triangle distances).
    public func minimumDistance(to points: [Point3]) -> Double {
        var best = Double.infinity
        for i in triangles.indices {
            let (a, b, c) = corners(i)
            for p in points { best = min(best, pointTriangleDistance(p, a, b, c)) }
        }
        return best
    }

    /// True when `p` lies inside a closed component of the mesh (odd number of crossings of a ray from p in a
    /// fixed generic direction; open components are ignored).
    public func containsPoint(_ p: Point3) -> Bool {
        let closed = closedComponentFlags()
        let d = Point3(0.5773, 0.5774, 0.5775) / vnorm(Point3(0.5773, 0.5774, 0.5775))
        var hits = 0
        for i in triangles.indices where closed[i] {
            // Möller–Trumbore ray–triangle intersection, t > 0.
            let (a, b, c) = corners(i)
            let e1 = b - a, e2 = c - a, pv = vcross(d, e2), det = vdot(e1, pv)
            if abs(det) < 1e-300 { continue }
            let tv = p - a, u = vdot(tv, pv) / det
            if u < 0 || u > 1 { continue }
            let qv = vcross(tv, e1), v = vdot(d, qv) / det
            if v < 0 || u + v > 1 { continue }
            if vdot(e2, qv) / det > 0 { hits += 1 }
        }
        return hits % 2 == 1
    }

    /// Volume of the closed mesh by the divergence theorem, m³ (positive for outward-oriented facets).
    public var enclosedVolume: Double {
        triangles.indices.reduce(0) { s, i in let (a, b, c) = corners(i); return s + (a * vcross(b, c)).sum() / 6 }
    }

    /// Voxelizes the closed mesh for the volume solvers: a voxel is filled when its centre lies inside (odd
    /// number of crossings of a +z ray through the centre, per part; the highest part label wins where parts
    /// overlap). Grid as `VoxelTarget.voxelize` (centred on the bounding box, pitch h). `materials` are indexed
    /// by the part labels (1-based).
    public func voxelize(pitch h: Double, materials: [Material]) throws -> VoxelTarget {
        try Check.positive(h, "voxel-pitch")
        let maxPart = Int(parts.map { $0.rawValue }.max() ?? 1)
        guard materials.count >= maxPart else { throw ISACError.shapeMismatch("mesh uses part \(maxPart) but \(materials.count) materials were given") }
        let (lo, hi) = bounds
        // Per part: 2D projections of its triangles for the column crossing test.
        let grid = try VoxelTarget.voxelize(lo: lo, hi: hi, pitch: h, materials: materials) { _ in 0 }
        var mat = grid.material
        let (nx, ny, nz) = grid.dims
        for part in MeshPart.allCases where part.rawValue <= maxPart {
            let tri = triangles.indices.filter { parts[$0] == part }
            if tri.isEmpty { continue }
            for j in 0..<ny { for i in 0..<nx {
                // A tiny irrational offset keeps the column off mesh vertices and edges (symmetric meshes put them on grid lines).
                let x = grid.origin.x + h * (Double(i) + 1.234_567e-7), y = grid.origin.y + h * (Double(j) + 7.654_321e-7)
                // z of every crossing of the vertical line (x, y) with a facet of this part.
                var zs: [Double] = []
                for t in tri {
                    let (a, b, c) = corners(t)
                    let d = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y)
                    if d == 0 { continue }
                    let u = ((x - a.x) * (c.y - a.y) - (c.x - a.x) * (y - a.y)) / d
                    let v = ((b.x - a.x) * (y - a.y) - (x - a.x) * (b.y - a.y)) / d
                    if u >= 0, v >= 0, u + v <= 1 { zs.append(a.z + u * (b.z - a.z) + v * (c.z - a.z)) }
                }
                if zs.count < 2 { continue }
                zs.sort()
                for l in 0..<nz {
                    let z = grid.origin.z + h * Double(l)
                    let above = zs.reduce(0) { $0 + ($1 > z ? 1 : 0) }
                    if above % 2 == 1 { mat[i + nx * (j + ny * l)] = max(mat[i + nx * (j + ny * l)], part.rawValue) }
                }
            } }
        }
        return try VoxelTarget(origin: grid.origin, pitch: h, dims: grid.dims, material: mat, materials: materials)
    }
}

// MARK: - Geometry helpers

func vcross(_ a: Point3, _ b: Point3) -> Point3 {
    Point3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}
func vdot(_ a: Point3, _ b: Point3) -> Double { (a * b).sum() }
func vnorm(_ a: Point3) -> Double { (a * a).sum().squareRoot() }

/// Distance from p to triangle (a, b, c) (Ericson, Real-Time Collision Detection §5.1.5), m.
func pointTriangleDistance(_ p: Point3, _ a: Point3, _ b: Point3, _ c: Point3) -> Double {
    let ab = b - a, ac = c - a, ap = p - a
    let d1 = vdot(ab, ap), d2 = vdot(ac, ap)
    if d1 <= 0 && d2 <= 0 { return vnorm(ap) }
    let bp = p - b, d3 = vdot(ab, bp), d4 = vdot(ac, bp)
    if d3 >= 0 && d4 <= d3 { return vnorm(bp) }
    let vc = d1 * d4 - d3 * d2
    if vc <= 0 && d1 >= 0 && d3 <= 0 { return vnorm(p - (a + d1 / (d1 - d3) * ab)) }
    let cp = p - c, d5 = vdot(ab, cp), d6 = vdot(ac, cp)
    if d6 >= 0 && d5 <= d6 { return vnorm(cp) }
    let vb = d5 * d2 - d1 * d6
    if vb <= 0 && d2 >= 0 && d6 <= 0 { return vnorm(p - (a + d2 / (d2 - d6) * ac)) }
    let va = d3 * d6 - d5 * d4
    if va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0 { return vnorm(p - (b + (d4 - d3) / ((d4 - d3) + (d5 - d6)) * (c - b))) }
    let den = 1 / (va + vb + vc)
    return vnorm(p - (a + ab * (vb * den) + ac * (vc * den)))
}

// MARK: - Primitive meshes

extension TriangleMesh {
    /// Flat rectangle of size (a along x, b along y) in the plane z = 0 centred at the origin, normal +z,
    /// split into `divisions`² quads (two triangles each). An open surface: lit from both sides.
    public static func plate(sizeX a: Double, sizeY b: Double, divisions n: Int = 1, part: MeshPart = .metal) throws -> TriangleMesh {
        try Check.positive(a, "--size-m"); try Check.positive(b, "--size-m"); try Check.positive(n, "divisions")
        var v: [Point3] = []
        for j in 0...n { for i in 0...n { v.append(Point3(a * (Double(i) / Double(n) - 0.5), b * (Double(j) / Double(n) - 0.5), 0)) } }
        var t: [SIMD3<Int32>] = []
        for j in 0..<n { for i in 0..<n {
            let p = Int32(i + (n + 1) * j), q = p + 1, r = p + Int32(n + 1), s = r + 1
            t.append(SIMD3(p, q, s)); t.append(SIMD3(p, s, r))
        } }
        return TriangleMesh(vertices: v, triangles: t, parts: .init(repeating: part, count: t.count))
    }

    /// Closed axis-aligned box between `lo` and `hi`, outward normals.
    public static func box(lo: Point3, hi: Point3, part: MeshPart = .metal) -> TriangleMesh {
        var v: [Point3] = []
        for k in 0..<8 { v.append(Point3(k & 1 == 0 ? lo.x : hi.x, k & 2 == 0 ? lo.y : hi.y, k & 4 == 0 ? lo.z : hi.z)) }
        // Quads listed counter-clockwise seen from outside.
        let quads: [(Int32, Int32, Int32, Int32)] = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]
        var t: [SIMD3<Int32>] = []
        for (a, b, c, d) in quads { t.append(SIMD3(a, b, c)); t.append(SIMD3(a, c, d)) }
        return TriangleMesh(vertices: v, triangles: t, parts: .init(repeating: part, count: 12))
    }

    /// Geodesic sphere: an icosahedron subdivided `subdivisions` times (20·4^s triangles) and projected
    /// onto the sphere of radius `radius` about `center`. Longest edge ≈ 1.05 a / 2^s.
    public static func icosphere(radius a: Double, subdivisions s: Int, center: Point3 = .zero, part: MeshPart = .metal) throws -> TriangleMesh {
        try Check.positive(a, "--radius-m"); try Check.inRange(s, 0, 8, "subdivisions")
        let g = (1 + 5.0.squareRoot()) / 2
        var v: [Point3] = [(-1, g, 0), (1, g, 0), (-1, -g, 0), (1, -g, 0), (0, -1, g), (0, 1, g), (0, -1, -g), (0, 1, -g),
                           (g, 0, -1), (g, 0, 1), (-g, 0, -1), (-g, 0, 1)].map { Point3($0.0, $0.1, $0.2) }
        v = v.map { $0 / vnorm($0) }
        var t: [SIMD3<Int32>] = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
                                 (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5),
                                 (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)].map { SIMD3<Int32>($0.0, $0.1, $0.2) }
        for _ in 0..<s {
            var mid: [SIMD2<Int32>: Int32] = [:]
            func m(_ a: Int32, _ b: Int32) -> Int32 {
                let k = SIMD2(min(a, b), max(a, b))
                if let i = mid[k] { return i }
                let p = v[Int(a)] + v[Int(b)]
                v.append(p / vnorm(p)); mid[k] = Int32(v.count - 1); return Int32(v.count - 1)
            }
            var nt: [SIMD3<Int32>] = []
            nt.reserveCapacity(4 * t.count)
            for f in t {
                let ab = m(f.x, f.y), bc = m(f.y, f.z), ca = m(f.z, f.x)
                nt += [SIMD3(f.x, ab, ca), SIMD3(f.y, bc, ab), SIMD3(f.z, ca, bc), SIMD3(ab, bc, ca)]
            }
            t = nt
        }
        return TriangleMesh(vertices: v.map { center + a * $0 }, triangles: t, parts: .init(repeating: part, count: t.count))
    }

    /// Closed annular cylinder (a wheel) about the axis through `center` along unit `axis`: outer radius
    /// `outer`, inner radius `inner` (0 = solid with a centre vertex per cap), width `width`, `segments` around.
    /// `partOf(radius)` labels the cap rings (called with the mean radius of each ring); the outer band is
    /// `outerPart`, the inner band `innerPart`. `rings` are the cap radii between inner and outer (ascending).
    static func wheel(center: Point3, axis: Point3, radii: [Double], width w: Double, segments m: Int,
                      ringParts: [MeshPart], outerPart: MeshPart, innerPart: MeshPart) -> TriangleMesh {
        // Orthonormal frame (e1, e2, axis).
        let helper = abs(axis.z) < 0.9 ? Point3(0, 0, 1) : Point3(1, 0, 0)
        let e1 = vcross(axis, helper) / vnorm(vcross(axis, helper)), e2 = vcross(axis, e1)
        var mesh = TriangleMesh()
        let solid = radii[0] == 0
        let rs = solid ? Array(radii.dropFirst()) : radii
        var idx: [[[Int32]]] = [[], []]  // [side][ring][segment]
        var centreIdx: [Int32] = []
        for (sIdx, side) in [-0.5, 0.5].enumerated() {
            let c = center + side * w * axis
            if solid { mesh.vertices.append(c); centreIdx.append(Int32(mesh.vertices.count - 1)) }
            for r in rs {
                var ring: [Int32] = []
                for j in 0..<m {
                    let a = 2 * Double.pi * Double(j) / Double(m)
                    mesh.vertices.append(c + r * (Double.cos(a) * e1 + Double.sin(a) * e2)); ring.append(Int32(mesh.vertices.count - 1))
                }
                idx[sIdx].append(ring)
            }
        }
        func add(_ a: Int32, _ b: Int32, _ c: Int32, _ p: MeshPart) { mesh.triangles.append(SIMD3(a, b, c)); mesh.parts.append(p) }
        // Caps: side 1 (+axis) counter-clockwise seen from +axis; side 0 reversed.
        for sIdx in 0..<2 {
            let flip = sIdx == 0
            for j in 0..<m {
                let jn = (j + 1) % m
                if solid {
                    let a = centreIdx[sIdx], b = idx[sIdx][0][j], c = idx[sIdx][0][jn]
                    flip ? add(a, c, b, ringParts[0]) : add(a, b, c, ringParts[0])
                }
                for r in 0..<(rs.count - 1) {
                    let p = ringParts[solid ? r + 1 : r]
                    let a = idx[sIdx][r][j], b = idx[sIdx][r + 1][j], c = idx[sIdx][r + 1][jn], d = idx[sIdx][r][jn]
                    if flip { add(a, c, b, p); add(a, d, c, p) } else { add(a, b, c, p); add(a, c, d, p) }
                }
            }
        }
        // Outer band (normal outward) and inner band (normal toward the axis).
        let o = rs.count - 1
        for j in 0..<m {
            let jn = (j + 1) % m
            let a = idx[0][o][j], b = idx[0][o][jn], c = idx[1][o][jn], d = idx[1][o][j]
            add(a, b, c, outerPart); add(a, c, d, outerPart)
            if !solid {
                let a = idx[0][0][j], b = idx[0][0][jn], c = idx[1][0][jn], d = idx[1][0][j]
                add(a, c, b, innerPart); add(a, d, c, innerPart)
            }
        }
        return mesh
    }

    /// Closed cylinder between points a and b of radius r (`segments` around), part `part`.
    static func tube(from a: Point3, to b: Point3, radius r: Double, segments m: Int, part: MeshPart = .metal) -> TriangleMesh {
        let d = b - a, l = vnorm(d)
        return wheel(center: (a + b) / 2, axis: d / l, radii: [0, r], width: l, segments: m,
                     ringParts: [part], outerPart: part, innerPart: part)
    }

    /// Closed ellipsoid with semi-axes `semi` about `center` (an icosphere scaled per axis).
    static func ellipsoid(center: Point3, semi: Point3, subdivisions s: Int, part: MeshPart = .metal) -> TriangleMesh {
        var m = try! icosphere(radius: 1, subdivisions: s, part: part)
        m.vertices = m.vertices.map { center + $0 * semi }
        return m
    }
}
