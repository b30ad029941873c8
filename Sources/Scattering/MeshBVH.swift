import Arrays
import Dispatch
import Foundation
import Linalg

/// Bounding-volume hierarchy over a subset of a mesh's triangles for segment occlusion queries (the part-to-part
/// shadowing of physical optics).
///
/// Built by median splits along the longest axis of the centroid bounds (leaves of ≤ 4 triangles); a query walks
/// the tree with a slab test per node and a Möller–Trumbore test per leaf triangle, stopping at the first hit.
/// Cost ≈ O(log F) per query for well-spread facets.
public struct MeshBVH: Sendable {
    struct Node: Sendable { var lo: Point3, hi: Point3, left: Int32, right: Int32, first: Int32, count: Int32 }
    var nodes: [Node] = []
    /// Triangle ids in leaf order, and their corners (a, b − a, c − a).
    var ids: [Int32] = []
    var a: [Point3] = [], e1: [Point3] = [], e2: [Point3] = []

    /// BVH over the triangles `triangles` (indices into `mesh.triangles`).
    public init(mesh: TriangleMesh, triangles sel: [Int]) {
        guard !sel.isEmpty else { return }
        var order = sel.map { Int32($0) }
        let cen = sel.reduce(into: [Int32: Point3]()) { d, i in let (p, q, r) = mesh.corners(i); d[Int32(i)] = (p + q + r) / 3 }
        func bounds(_ r: Range<Int>) -> (Point3, Point3) {
            var lo = Point3(repeating: .infinity), hi = Point3(repeating: -.infinity)
            for i in r { let (p, q, s) = mesh.corners(Int(order[i])); lo = pointwiseMin(lo, pointwiseMin(pointwiseMin(p, q), s)); hi = pointwiseMax(hi, pointwiseMax(pointwiseMax(p, q), s)) }
            return (lo, hi)
        }
        func build(_ r: Range<Int>) -> Int32 {
            let (lo, hi) = bounds(r)
            let me = nodes.count
            nodes.append(Node(lo: lo, hi: hi, left: -1, right: -1, first: Int32(r.lowerBound), count: Int32(r.count)))
            if r.count <= 4 { return Int32(me) }
            var clo = Point3(repeating: .infinity), chi = Point3(repeating: -.infinity)
            for i in r { clo = pointwiseMin(clo, cen[order[i]]!); chi = pointwiseMax(chi, cen[order[i]]!) }
            let ext = chi - clo
            let axis = ext.x >= ext.y && ext.x >= ext.z ? 0 : (ext.y >= ext.z ? 1 : 2)
            var part = Array(order[r])
            part.sort { cen[$0]![axis] < cen[$1]![axis] }
            order.replaceSubrange(r, with: part)
            let mid = r.lowerBound + r.count / 2
            let l = build(r.lowerBound..<mid), rr = build(mid..<r.upperBound)
            nodes[me].left = l; nodes[me].right = rr; nodes[me].count = 0
            return Int32(me)
        }
        _ = build(0..<order.count)
        ids = order
        for t in order { let (p, q, s) = mesh.corners(Int(t)); a.append(p); e1.append(q - p); e2.append(s - p) }
    }

    /// True when the hierarchy has no nodes.
    public var isEmpty: Bool { nodes.isEmpty }

    /// True when the open segment from `p` to `q` (end margins `margin` × its length at both ends) crosses a triangle
    /// of the hierarchy other than `exclude`.
    public func occluded(from p: Point3, to q: Point3, exclude: Int32 = -1, margin: Double = 1e-9) -> Bool {
        guard !nodes.isEmpty else { return false }
        let d = q - p
        let inv = Point3(1 / d.x, 1 / d.y, 1 / d.z)
        let tmin = margin, tmax = 1 - margin
        var stack = [Int32](); stack.reserveCapacity(64)
        stack.append(0)
        while let ni = stack.popLast() {
            let n = nodes[Int(ni)]
            // Slab test of the segment against the node box (parameter t ∈ [tmin, tmax]).
            let t0 = (n.lo - p) * inv, t1 = (n.hi - p) * inv
            let lo = pointwiseMin(t0, t1), hi = pointwiseMax(t0, t1)
            let enter = max(lo.max(), tmin), exit = min(hi.min(), tmax)
            if !(enter <= exit) { continue }
            if n.count > 0 {
                for k in Int(n.first)..<Int(n.first + n.count) where ids[k] != exclude {
                    let pv = vcross(d, e2[k]), det = vdot(e1[k], pv)
                    if abs(det) < 1e-300 { continue }
                    let tv = p - a[k], u = vdot(tv, pv) / det
                    if u < 0 || u > 1 { continue }
                    let qv = vcross(tv, e1[k]), v = vdot(d, qv) / det
                    if v < 0 || u + v > 1 { continue }
                    let t = vdot(e2[k], qv) / det
                    if t > tmin && t < tmax { return true }
                }
            } else {
                stack.append(n.left); stack.append(n.right)
            }
        }
        return false
    }
}

extension PhysicalOptics {
    /// Mesh parts that block the incident field for the part-to-part shadow test (metal and rubber are opaque at
    /// 5 GHz; glass and seats are treated as transparent, the seats sit behind the glass).
    public static let opaqueParts: Set<MeshPart> = [.metal, .tyre]

    /// Part-to-part (and non-convex self-) shadowing of PO samples: flag[n · N_t + t] = 1 when the segment from Tx t
    /// to sample `keep[n]` crosses an opaque facet other than the sample's own (any part, including the sample's).
    ///
    /// Rays are cast from every `txStride`-th Tx element and the last one; each Tx takes the flag of the nearest
    /// cast element (the array spans ≈ 2 m at 5–50 m range, so neighbouring elements see nearly the same shadow
    /// boundary; `txStride = 1` is exact). Cost: keep.count × ⌈N_t / txStride⌉ BVH segment queries.
    public static func shadowFlags(samples s: SurfaceSamples, indices keep: [Int], mesh: TriangleMesh, txPositions tx: [Point3],
                                   txStride: Int = 8) -> [UInt8] {
        let nt = tx.count
        var flags = [UInt8](repeating: 0, count: keep.count * nt)
        let bvh = MeshBVH(mesh: mesh, triangles: mesh.triangles.indices.filter { opaqueParts.contains(mesh.parts[$0]) })
        guard !bvh.isEmpty, !keep.isEmpty else { return flags }
        var r0 = Array(stride(from: 0, to: nt, by: max(1, txStride)))
        if r0.last != nt - 1 { r0.append(nt - 1) }
        let reps = r0
        // Tx t → index of the nearest cast element (by element index).
        let near = (0..<nt).map { t in reps.indices.min { abs(reps[$0] - t) < abs(reps[$1] - t) }! }
        let chunk = 256, chunks = (keep.count + chunk - 1) / chunk
        flags.withUnsafeMutableBufferPointer { fb in
            let F = SendableMutablePointer(fb)
            ThreadCount.concurrentPerform(iterations: chunks) { c in
                var hit = [Bool](repeating: false, count: reps.count)
                for n in (c * chunk)..<min((c + 1) * chunk, keep.count) {
                    let q = keep[n], x = s.points[q]
                    for (g, t) in reps.enumerated() { hit[g] = bvh.occluded(from: tx[t], to: x, exclude: s.facets[q]) }
                    for t in 0..<nt where hit[near[t]] { F[n * nt + t] = 1 }
                }
            }
        }
        return flags
    }
}
