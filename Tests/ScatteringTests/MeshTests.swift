import Arrays
import Foundation
import Linalg
import Numerics
import Testing
@testable import Scattering

private func tempPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("isac-mesh-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// Unit cube [0, 1]³ written by hand in each format (quads in OBJ/OFF, triangles in STL).
private let cubeVertices: [Point3] = (0..<8).map { (k: Int) -> Point3 in
    let x = Double(k & 1), y = Double((k >> 1) & 1), z = Double((k >> 2) & 1)
    return Point3(x, y, z)
}
private let cubeQuads: [[Int]] = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]]

private func writeCubeFiles() throws -> [String] {
    var obj = "# cube\n" + cubeVertices.map { "v \($0.x) \($0.y) \($0.z)" }.joined(separator: "\n") + "\n"
    obj += cubeQuads.map { "f " + $0.map { "\($0 + 1)/\($0 + 1)" }.joined(separator: " ") }.joined(separator: "\n") + "\n"
    var off = "OFF\n8 6 12\n" + cubeVertices.map { "\($0.x) \($0.y) \($0.z)" }.joined(separator: "\n") + "\n"
    off += cubeQuads.map { "4 " + $0.map(String.init).joined(separator: " ") }.joined(separator: "\n") + "\n"
    let tris = cubeQuads.flatMap { q in [[q[0], q[1], q[2]], [q[0], q[2], q[3]]] }
    var stl = "solid cube\n"
    for t in tris {
        stl += " facet normal 0 0 0\n  outer loop\n" + t.map { "   vertex \(cubeVertices[$0].x) \(cubeVertices[$0].y) \(cubeVertices[$0].z)\n" }.joined() + "  endloop\n endfacet\n"
    }
    stl += "endsolid cube\n"
    var bin = Data(count: 80)
    var n = UInt32(tris.count).littleEndian
    bin.append(Data(bytes: &n, count: 4))
    for t in tris {
        var f: [Float] = [0, 0, 0] + t.flatMap { [Float(cubeVertices[$0].x), Float(cubeVertices[$0].y), Float(cubeVertices[$0].z)] }
        bin.append(Data(bytes: &f, count: 48)); bin.append(Data(count: 2))
    }
    let paths = ["cube.obj", "cube.off", "cube_ascii.stl", "cube_bin.stl"].map(tempPath)
    try obj.write(toFile: paths[0], atomically: true, encoding: .utf8)
    try off.write(toFile: paths[1], atomically: true, encoding: .utf8)
    try stl.write(toFile: paths[2], atomically: true, encoding: .utf8)
    try bin.write(to: URL(fileURLWithPath: paths[3]))
    return paths
}

@Test func meshReadersAgreeOnACube() throws {
    for p in try writeCubeFiles() {
        let m = try MeshIO.read(path: p)
        try m.validate(flag: "--mesh", source: p)
        #expect(m.triangles.count == 12, "\(p)")
        #expect(m.vertices.count == 8, "\(p)")
        #expect(abs(m.enclosedVolume - 1) < 1e-12, "\(p): volume \(m.enclosedVolume)")
        #expect(abs(m.totalArea - 6) < 1e-12)
        #expect(m.closedComponentFlags().allSatisfy { $0 })
    }
    // OBJ round trip through the writer.
    let box = TriangleMesh.box(lo: Point3(-1, -2, 0), hi: Point3(2, 1, 0.5))
    let p = tempPath("box.obj")
    try MeshIO.writeOBJ(box, to: p)
    let back = try MeshIO.read(path: p)
    #expect(abs(back.enclosedVolume - 4.5) < 1e-9)
}

@Test func meshReadErrorsNameTheFile() throws {
    func expectFailure(_ text: String?, _ name: String, validate: Bool = true) {
        let p = tempPath(name)
        if let t = text { try? t.write(toFile: p, atomically: true, encoding: .utf8) }
        do {
            let m = try MeshIO.read(path: p)
            if validate { try m.validate(flag: "--mesh", source: p) }
            Issue.record("\(name) was accepted")
        } catch let ISACError.invalidParameter(flag, value, _) {
            #expect(flag == "--mesh"); #expect(value == p)
        } catch { Issue.record("\(name): unexpected error \(error)") }
    }
    expectFailure(nil, "missing.obj")
    expectFailure("", "empty.obj")
    expectFailure("v 0 0 0\nv 1 0 0\nf 1 2 3\n", "badindex.obj")
    expectFailure("v 0 0 0\nv 1 0 nan\nv 0 1 0\nf 1 2 3\n", "nan.obj")
    expectFailure("OFF\n3 1 0\n0 0 0\n1 0 0\n", "short.off")
    expectFailure("solid x\nendsolid x\n", "empty.stl")
    expectFailure("hello", "mesh.ply")
    // Zero-area facet (three collinear vertices).
    expectFailure("v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", "degenerate.obj")
    // Non-manifold: three triangles share the edge (1, 2).
    expectFailure("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 -1 0\nv 0 0 1\nf 1 2 3\nf 2 1 4\nf 1 2 5\n", "fin.obj")
    // Inconsistent orientation: two neighbours run their shared edge the same way.
    expectFailure("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 2 3 4\n", "flipped.obj")
}

@Test func meshValidationRejectsOversizedFacets() throws {
    let plate = try TriangleMesh.plate(sizeX: 2, sizeY: 1)
    #expect(throws: ISACError.self) { try plate.validate(flag: "--mesh", source: "plate", maxEdgeM: 1) }
    try plate.validate(flag: "--mesh", source: "plate", maxEdgeM: 3)
    #expect(plate.closedComponentFlags().allSatisfy { !$0 })
}

@Test func meshVoxelizationMatchesSphereVolume() throws {
    let a = 0.5, h = 0.04
    let m = try TriangleMesh.icosphere(radius: a, subdivisions: 4, center: Point3(1, 2, 3))
    let mat = try Material(name: "d", relativePermittivity: CDouble(4, 0), conductivity: 0)
    let v = try m.voxelize(pitch: h, materials: [mat])
    let want = 4 / 3 * Double.pi * a * a * a
    #expect(abs(Double(v.occupiedCount) * v.voxelVolume / want - 1) < 0.03)
    #expect(abs(m.enclosedVolume / want - 1) < 0.01)
    #expect(m.containsPoint(Point3(1, 2, 3)) && !m.containsPoint(Point3(1, 2, 3.6)))
}

@Test func vehicleMeshesAreClosedManifoldsWithPartLabels() throws {
    var rng = RandomSource(seed: 3, stream: 0)
    for cls in VehicleClass.allCases {
        let shape = VehicleShape.random(cls, rng: &rng)
        let m = shape.mesh()
        try m.validate(flag: "mesh", source: cls.rawValue)
        #expect(m.closedComponentFlags().allSatisfy { $0 }, "\(cls)")
        #expect(m.parts.contains(.metal) && m.parts.contains(.tyre))
        // Every closed part encloses positive volume (outward orientation).
        #expect(m.enclosedVolume > 0)
        // The mesh lies inside the voxel bounding box of the classifier (same geometry).
        let (lo, hi) = m.bounds, b = shape.bounds
        #expect(hi.x <= b.hx + 1e-9 && lo.x >= -b.hx - 1e-9 && hi.z <= b.top + 1e-9 && lo.z >= -1e-9)
    }
}

@Test func meshValidationRejectsSelfIntersectingPart() throws {
    // A unit box whose corner (1, 1, 1) is pulled through the bottom face to (0.37, 0.61, −0.5): still closed,
    // manifold and consistently oriented, but the top facets now pass through the bottom ones.
    var bad = TriangleMesh.box(lo: .zero, hi: Point3(1, 1, 1))
    bad.vertices[7] = Point3(0.37, 0.61, -0.5)
    #expect(bad.closedComponentFlags().allSatisfy { $0 })
    let hit = try #require(bad.selfIntersection())
    // The crossing pair: one facet uses the moved corner, the other is a bottom facet (z = 0 at all three corners).
    func usesCorner7(_ i: Int) -> Bool { let t = bad.triangles[i]; return t.x == 7 || t.y == 7 || t.z == 7 }
    func isBottom(_ i: Int) -> Bool { let (a, b, c) = bad.corners(i); return a.z == 0 && b.z == 0 && c.z == 0 }
    let uses7 = usesCorner7(hit.0) || usesCorner7(hit.1)
    let bottom = isBottom(hit.0) || isBottom(hit.1)
    #expect(uses7 && bottom, "pair \(hit)")
    let p = FileManager.default.temporaryDirectory.appendingPathComponent("isac-selfx-\(getpid()).obj").path
    try MeshIO.writeOBJ(bad, to: p)
    defer { try? FileManager.default.removeItem(atPath: p) }
    do {
        try MeshIO.read(path: p).validate(flag: "--mesh", source: p)
        Issue.record("self-intersecting box was accepted")
    } catch let ISACError.invalidParameter(flag, value, valid) {
        #expect(flag == "--mesh" && value == p && valid.contains("self-intersecting"))
    }
    // Valid: the box itself, a fine icosphere (facets meet only along edges), and two separate closed parts that
    // overlap each other (allowed: multi-part models).
    #expect(TriangleMesh.box(lo: .zero, hi: Point3(1, 1, 1)).selfIntersection() == nil)
    #expect(try TriangleMesh.icosphere(radius: 1, subdivisions: 4).selfIntersection() == nil)
    var two = TriangleMesh.box(lo: .zero, hi: Point3(1, 1, 1))
    two.append(TriangleMesh.box(lo: Point3(0.5, 0.3, 0.2), hi: Point3(1.5, 0.8, 0.7)))
    #expect(two.selfIntersection() == nil)
    try two.validate(flag: "--mesh", source: "two boxes")
}
