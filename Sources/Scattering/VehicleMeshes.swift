import Arrays
import Foundation
import Linalg
import Numerics

extension VehicleShape {
    /// The instance as a triangle mesh in the body frame (x forward, y left, z up, origin on the ground below the
    /// centre), with part labels [metal, tyre, glass, seat] matching `classify` (the voxelization the volume
    /// solvers use is unchanged). Every part is a closed, outward-oriented surface:
    /// - car: lower body (box, open on top where the cabin sits), cabin (trapezoidal prism: metal roof, glass
    ///   windscreen/rear/side windows), four wheels (tyre band and tyre sidewall ring, metal rim disc);
    /// - motorbike: two wheels (tyre band + sidewall, metal rim ring and inner band), hubs, fork, handlebar,
    ///   frame tubes and exhaust (closed cylinders), engine (box), fuel tank (ellipsoid), seat (box).
    /// `segmentsPerMetre` sets the polygonization of round parts (wheels use ≥ 32 segments: sagitta ≤ 1.5 mm at
    /// R = 0.36 m, ≪ λ/20 at 4.9 GHz).
    public func mesh() -> TriangleMesh {
        switch cls {
        case .car: return carMesh()
        case .motorbike: return bikeMesh()
        }
    }

    private func carMesh() -> TriangleMesh {
        let L = dims["length"]!, W = dims["width"]!, c = dims["clearance"]!, hb = dims["bodyHeight"]!
        let hc = dims["cabinHeight"]!, R = dims["wheelRadius"]!, tw = dims["tyreWidth"]!
        let wb = dims["wheelbaseFrac"]! * L
        let wy = W / 2 - tw / 2 - 0.02
        let Lc = dims["cabinLengthFrac"]! * L, xo = dims["cabinOffsetFrac"]! * L, Wc = dims["cabinWidthFrac"]! * W
        let zb1 = c + hb, zt = zb1 + hc
        var m = TriangleMesh()
        func add(_ a: Int32, _ b: Int32, _ cc: Int32, _ p: MeshPart) { m.triangles.append(SIMD3(a, b, cc)); m.parts.append(p) }
        func quad(_ a: Int32, _ b: Int32, _ cc: Int32, _ d: Int32, _ p: MeshPart) { add(a, b, cc, p); add(a, cc, d, p) }
        // Lower body: box corners 0…7 (bit 0: x, bit 1: y, bit 2: z), all faces but the top.
        for k in 0..<8 { m.vertices.append(Point3(k & 1 == 0 ? -L / 2 : L / 2, k & 2 == 0 ? -W / 2 : W / 2, k & 4 == 0 ? c : zb1)) }
        for (a, b, cc, d) in [(0, 2, 3, 1), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)] as [(Int32, Int32, Int32, Int32)] {
            quad(a, b, cc, d, .metal)
        }
        // Cabin footprint I0…I3 (8…11) and roof corners T0…T3 (12…15), counter-clockwise seen from +z.
        let xr0 = xo - Lc / 2, xf0 = xo + Lc / 2
        let xrt = xr0 + dims["rearRake"]! * Lc, xft = xf0 - dims["frontRake"]! * Lc
        for (x, y) in [(xr0, -Wc / 2), (xf0, -Wc / 2), (xf0, Wc / 2), (xr0, Wc / 2)] { m.vertices.append(Point3(x, y, zb1)) }
        for (x, y) in [(xrt, -Wc / 2), (xft, -Wc / 2), (xft, Wc / 2), (xrt, Wc / 2)] { m.vertices.append(Point3(x, y, zt)) }
        // Body top: the frame between the outer rectangle (4, 5, 7, 6) and the footprint.
        let outer: [Int32] = [4, 5, 7, 6], inner: [Int32] = [8, 9, 10, 11]
        for i in 0..<4 { let j = (i + 1) % 4; add(outer[i], outer[j], inner[j], .metal); add(outer[i], inner[j], inner[i], .metal) }
        quad(12, 13, 14, 15, .metal)             // roof
        quad(8, 9, 13, 12, .glass)               // right side window (−y)
        quad(11, 15, 14, 10, .glass)             // left side window (+y)
        quad(9, 10, 14, 13, .glass)              // windscreen
        quad(11, 8, 12, 15, .glass)              // rear window
        let segs = max(32, Int((2 * Double.pi * R / 0.05).rounded(.up)))
        for sx in [-1.0, 1.0] { for sy in [-1.0, 1.0] {
            var w = TriangleMesh.wheel(center: Point3(sx * wb / 2, sy * wy, R), axis: Point3(0, 1, 0), radii: [0, dims["rimFrac"]! * R, R],
                                       width: tw, segments: segs, ringParts: [.metal, .tyre], outerPart: .tyre, innerPart: .tyre)
            // PO has no part-to-part shadowing: the inboard rim disc (facing the car's centre line) would be lit through
            // the body by a sensor on the far side, so only the outboard disc is metal.
            for i in w.triangles.indices where w.parts[i] == .metal && w.areaVector(i).y * sy < 0 { w.parts[i] = .tyre }
            m.append(w)
        } }
        return m
    }

    private func bikeMesh() -> TriangleMesh {
        let L = dims["length"]!, R = dims["wheelRadius"]!, tw = dims["tyreWidth"]!
        let wb = L - 1.8 * R, tube = dims["tubeRadius"]!, rim = dims["rimFrac"]! * R
        var m = TriangleMesh()
        let segs = max(32, Int((2 * Double.pi * R / 0.05).rounded(.up)))
        for sx in [-1.0, 1.0] {
            let c = Point3(sx * wb / 2, 0, R)
            // Spoked wheel: tyre outside the rim, a metal rim ring (3 cm) and a hub; the spokes are left out.
            m.append(.wheel(center: c, axis: Point3(0, 1, 0), radii: [max(0.02, rim - 0.03), rim, R], width: tw, segments: segs,
                            ringParts: [.metal, .tyre], outerPart: .tyre, innerPart: .metal))
            m.append(.tube(from: c - Point3(0, tw / 2, 0), to: c + Point3(0, tw / 2, 0), radius: 0.06, segments: 16))
        }
        let head = Point3(wb / 2 - 0.12, 0, R + dims["headHeight"]!)
        let front = Point3(wb / 2, 0, R), rear = Point3(-wb / 2, 0, R)
        let bw = dims["barHalfWidth"]!
        m.append(.tube(from: front, to: head, radius: tube, segments: 12))                                                // fork
        m.append(.tube(from: head + Point3(-0.05, -bw, 0.08), to: head + Point3(-0.05, bw, 0.08), radius: tube, segments: 12)) // bar
        let el = dims["engineLength"]!, eh = dims["engineHeight"]!, ew = dims["engineWidth"]!
        let ec = Point3(0, 0, R + 0.02)
        m.append(.box(lo: ec - Point3(el / 2, ew / 2, eh / 2), hi: ec + Point3(el / 2, ew / 2, eh / 2)))                  // engine
        let tl = dims["tankLength"]!
        let tank = Point3(wb / 2 - 0.12 - tl, 0, R + dims["headHeight"]! - 0.1)
        m.append(.ellipsoid(center: tank, semi: Point3(tl, 0.16, 0.12), subdivisions: 2))                               // tank
        let sl = dims["seatLength"]!, sz = R + dims["seatHeight"]!
        let sx1 = tank.x - tl * 0.6
        m.append(.box(lo: Point3(sx1 - sl, -0.13, sz - 0.05), hi: Point3(sx1, 0.13, sz + 0.05), part: .seat))             // seat
        m.append(.tube(from: rear, to: head, radius: tube, segments: 12))                                                 // frame
        m.append(.tube(from: rear, to: ec, radius: tube, segments: 12))
        m.append(.tube(from: Point3(-0.1, -0.18, R - 0.05), to: Point3(-wb / 2 - 0.1, -0.18, R + 0.1), radius: 0.045, segments: 12)) // exhaust
        return m
    }
}
