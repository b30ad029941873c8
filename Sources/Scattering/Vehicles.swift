import Arrays
import Foundation
import Linalg
import Numerics

/// Target classes of the extended-target dataset (paper: C = 2, motorbike/car).
public enum VehicleClass: String, Sendable, Codable, CaseIterable {
    case motorbike, car
    /// Class label used in the manifest (0 = motorbike, 1 = car).
    public var label: Int { self == .motorbike ? 0 : 1 }
}

/// Material randomization ranges (uniform draws per sample). Metal is a high-σ lossy dielectric
/// (see `Material`; σ = 2–6 S/m gives skin depth 2.9–5 mm ≪ the 3 cm voxel, while σ ≥ 20 S/m made
/// GMRES stagnate on the point-matched VIE for thin vehicle shells); tyres are lossy rubber; glass and seat foam are low-loss dielectrics.
public struct MaterialRanges: Sendable, Codable, Equatable {
    /// Metal conductivity σ, S/m.
    public var metalSigma: ClosedRange<Double> = 2...6
    /// Tyre Re ε_r.
    public var tyreEpsReal: ClosedRange<Double> = 3...8
    /// Tyre Im ε_r (negative: lossy, e^{jωt}).
    public var tyreEpsImag: ClosedRange<Double> = -1.0 ... -0.2
    /// Tyre conductivity σ, S/m.
    public var tyreSigma: ClosedRange<Double> = 0.01...0.5
    /// Glass Re ε_r.
    public var glassEpsReal: ClosedRange<Double> = 5...7
    /// Glass conductivity σ, S/m.
    public var glassSigma: ClosedRange<Double> = 0.001...0.01
    /// Seat-foam Re ε_r.
    public var seatEpsReal: ClosedRange<Double> = 2...3.5
    /// The default ranges.
    public init() {}

    /// Draws the four materials [metal, tyre, glass, seat] (indices 1…4 in a `VoxelTarget`).
    public func draw(_ rng: inout RandomSource) throws -> [Material] {
        func u(_ r: ClosedRange<Double>) -> Double { rng.uniform(r.lowerBound, r.upperBound) }
        let metal = try Material(name: "metal", relativePermittivity: CDouble(1, 0), conductivity: u(metalSigma))
        let tyre = try Material(name: "tyre", relativePermittivity: CDouble(u(tyreEpsReal), u(tyreEpsImag)), conductivity: u(tyreSigma))
        let glass = try Material(name: "glass", relativePermittivity: CDouble(u(glassEpsReal), -0.05), conductivity: u(glassSigma))
        let seat = try Material(name: "seat", relativePermittivity: CDouble(u(seatEpsReal), -0.1), conductivity: 0)
        return [metal, tyre, glass, seat]
    }
}

/// A parametric vehicle instance ("mesh"): dimensions in metres in the body frame
/// (x forward, y left, z up, origin on the ground below the vehicle centre). Drawn once per
/// instance id, so all samples of one instance share the geometry (instance-disjoint splits).
public struct VehicleShape: Sendable, Codable, Equatable {
    /// Vehicle class.
    public var cls: VehicleClass
    /// Named dimensions (metres), e.g. "length", "width", "wheelRadius"; recorded in the manifest.
    public var dims: [String: Double]

    /// Draws an instance of `cls` with randomized dimensions and proportions.
    public static func random(_ cls: VehicleClass, scale: Double = 1, rng: inout RandomSource) -> VehicleShape {
        func u(_ a: Double, _ b: Double) -> Double { rng.uniform(a, b) }
        var d: [String: Double] = [:]
        switch cls {
        case .car:
            d["length"] = u(3.8, 5.0); d["width"] = u(1.65, 1.95); d["clearance"] = u(0.14, 0.22)
            d["bodyHeight"] = u(0.55, 0.75); d["cabinHeight"] = u(0.40, 0.58)
            d["cabinLengthFrac"] = u(0.45, 0.60); d["cabinOffsetFrac"] = u(-0.12, 0.02); d["cabinWidthFrac"] = u(0.85, 0.95)
            d["pillarWidth"] = u(0.08, 0.14); d["wheelRadius"] = u(0.29, 0.36); d["tyreWidth"] = u(0.18, 0.25)
            d["rimFrac"] = u(0.55, 0.70); d["wheelbaseFrac"] = u(0.58, 0.64)
            d["frontRake"] = u(0.15, 0.35); d["rearRake"] = u(0.05, 0.25)
        case .motorbike:
            d["length"] = u(1.9, 2.3); d["wheelRadius"] = u(0.28, 0.34); d["tyreWidth"] = u(0.10, 0.18)
            d["rimFrac"] = u(0.60, 0.75); d["headHeight"] = u(0.55, 0.75); d["barHalfWidth"] = u(0.30, 0.40)
            d["engineLength"] = u(0.35, 0.55); d["engineHeight"] = u(0.28, 0.40); d["engineWidth"] = u(0.25, 0.35)
            d["tankLength"] = u(0.22, 0.32); d["seatLength"] = u(0.45, 0.70); d["seatHeight"] = u(0.38, 0.50)
            d["tubeRadius"] = u(0.025, 0.04)
        }
        if scale != 1 { for (k, v) in d where !k.hasSuffix("Frac") && k != "frontRake" && k != "rearRake" { d[k] = v * scale } }
        return VehicleShape(cls: cls, dims: d)
    }

    /// Half-extents of a body-frame bounding box (x, y, z-top), metres.
    var bounds: (hx: Double, hy: Double, top: Double) {
        let L = dims["length"]!
        switch cls {
        case .car: return (L / 2 + 0.05, dims["width"]! / 2 + 0.05, dims["clearance"]! + dims["bodyHeight"]! + dims["cabinHeight"]! + 0.05)
        case .motorbike: return (L / 2 + 0.05, dims["barHalfWidth"]! + 0.1, dims["wheelRadius"]! + dims["headHeight"]! + 0.15)
        }
    }

    /// Body-frame material classifier (0 empty, 1 metal, 2 tyre, 3 glass, 4 seat). `h` is the voxel
    /// pitch: shells are 1.2 h thick and thin tubes are inflated to radius ≥ 0.75 h so that centre
    /// sampling never drops a part.
    func classify(_ p: Point3, pitch h: Double) -> UInt8 { classify(p, pitch: h, dims: ClassifyDims(dims)) }

    /// `classify` with the dimensions already unpacked (voxelization calls it once per grid point).
    func classify(_ p: Point3, pitch h: Double, dims D: ClassifyDims) -> UInt8 {
        switch cls {
        case .car: return classifyCar(p, h, D)
        case .motorbike: return classifyBike(p, h, D)
        }
    }

    private func wheel(_ p: Point3, cx: Double, cy: Double, R: Double, w: Double, rimFrac: Double) -> UInt8? {
        let dx = p.x - cx, dz = p.z - R
        guard abs(p.y - cy) <= w / 2 else { return nil }
        let r = (dx * dx + dz * dz).squareRoot()
        if r > R { return nil }
        return r >= rimFrac * R ? 2 : 1
    }

    private func classifyCar(_ p: Point3, _ h: Double, _ D: ClassifyDims) -> UInt8 {
        let L = D.length, W = D.width, c = D.clearance, hb = D.bodyHeight
        let hc = D.cabinHeight, R = D.wheelRadius, tw = D.tyreWidth
        let wb = D.wheelbaseFrac * L, t = 1.2 * h
        let wy = W / 2 - tw / 2 - 0.02
        for sx in [-1.0, 1.0] { for sy in [-1.0, 1.0] {
            if let m = wheel(p, cx: sx * wb / 2, cy: sy * wy, R: R, w: tw, rimFrac: D.rimFrac) { return m }
        } }
        // Wheel arches: the body is cut around each axle.
        for sx in [-1.0, 1.0] {
            let dx = p.x - sx * wb / 2, dz = p.z - R
            if dx * dx + dz * dz < (R + 0.04) * (R + 0.04) && abs(abs(p.y) - wy) < tw / 2 + 0.04 { return 0 }
        }
        // Lower body: metal shell of a box.
        let zb0 = c, zb1 = c + hb
        let inBody = abs(p.x) <= L / 2 && abs(p.y) <= W / 2 && p.z >= zb0 && p.z <= zb1
        if inBody {
            let inner = abs(p.x) <= L / 2 - t && abs(p.y) <= W / 2 - t && p.z >= zb0 + t && p.z <= zb1 - t
            return inner ? 0 : 1
        }
        // Cabin: a trapezoid in x (raked windscreen and rear window), shell with glass panes.
        let Lc = D.cabinLengthFrac * L, xo = D.cabinOffsetFrac * L, Wc = D.cabinWidthFrac * W
        guard p.z > zb1, p.z <= zb1 + hc, abs(p.y) <= Wc / 2 else { return 0 }
        let s = (p.z - zb1) / hc
        let xf = xo + Lc / 2 - s * D.frontRake * Lc, xr = xo - Lc / 2 + s * D.rearRake * Lc
        guard p.x <= xf, p.x >= xr else { return 0 }
        let roof = p.z > zb1 + hc - t
        let inner = p.x <= xf - t && p.x >= xr + t && abs(p.y) <= Wc / 2 - t && !roof
        if inner { return 0 }
        if roof { return 1 }
        let pw = D.pillarWidth
        let pillar = p.x > xf - pw || p.x < xr + pw || abs(p.x - xo) < pw / 2
        // Side pillars are metal; windscreen/rear window/side windows are glass.
        if pillar && abs(p.y) > Wc / 2 - t { return 1 }
        return 3
    }

    private func capsule(_ p: Point3, _ a: Point3, _ b: Point3, _ r: Double) -> Bool {
        let ab = b - a, ap = p - a
        let tt = max(0, min(1, (ap * ab).sum() / (ab * ab).sum()))
        let d = ap - tt * ab
        return (d * d).sum() <= r * r
    }

    private func classifyBike(_ p: Point3, _ h: Double, _ D: ClassifyDims) -> UInt8 {
        let L = D.length, R = D.wheelRadius, tw = D.tyreWidth
        let wb = L - 1.8 * R
        let tube = max(D.tubeRadius, 0.75 * h)
        for sx in [-1.0, 1.0] {
            if let m = wheel(p, cx: sx * wb / 2, cy: 0, R: R, w: max(tw, 1.5 * h), rimFrac: D.rimFrac) {
                // Spoked wheels: only a metal rim ring and hub, not a solid disc.
                if m == 2 { return 2 }
                let dx = p.x - sx * wb / 2, dz = p.z - R
                let r = (dx * dx + dz * dz).squareRoot()
                if r >= D.rimFrac * R - max(0.03, h) || r <= max(0.06, h) { return 1 }
            }
        }
        let head = Point3(wb / 2 - 0.12, 0, R + D.headHeight)
        let front = Point3(wb / 2, 0, R), rear = Point3(-wb / 2, 0, R)
        if capsule(p, front, head, tube) { return 1 }                                    // fork
        let bw = D.barHalfWidth
        if capsule(p, head + Point3(-0.05, -bw, 0.08), head + Point3(-0.05, bw, 0.08), tube) { return 1 } // handlebar
        let el = D.engineLength, eh = D.engineHeight, ew = D.engineWidth
        let ec = Point3(0, 0, R + 0.02)
        if abs(p.x - ec.x) <= el / 2 && abs(p.y) <= ew / 2 && abs(p.z - ec.z) <= eh / 2 { return 1 }  // engine
        let tank = Point3(wb / 2 - 0.12 - D.tankLength, 0, R + D.headHeight - 0.1)
        let q = (p - tank) / Point3(D.tankLength, 0.16, 0.12)
        if (q * q).sum() <= 1 { return 1 }                                                 // fuel tank
        let sl = D.seatLength, sz = R + D.seatHeight
        if p.x <= tank.x - D.tankLength * 0.6 && p.x >= tank.x - D.tankLength * 0.6 - sl
            && abs(p.y) <= 0.13 && abs(p.z - sz) <= max(0.05, 0.6 * h) { return 4 }         // seat
        if capsule(p, rear, head, tube) || capsule(p, rear, ec, tube) { return 1 }        // frame tubes
        if capsule(p, Point3(-0.1, -0.18, R - 0.05), Point3(-wb / 2 - 0.1, -0.18, R + 0.1), max(0.045, 0.75 * h)) { return 1 } // exhaust
        return 0
    }

    /// Voxelizes the instance placed at `position` (ground point below the body centre, world metres)
    /// and rotated by `headingRad` about +z, with materials [metal, tyre, glass, seat].
    ///
    /// - `featurePitchM`: the length the pitch-dependent features are sized from — shells 1.2 × it thick, tubes of
    ///   radius ≥ 0.75 × it, … (`classify`). nil = the voxel pitch `h` (the original behaviour: the geometry then
    ///   changes with the pitch, so channels at two pitches describe two different vehicles). Fix it to study
    ///   convergence in pitch of one vehicle.
    /// - `voxelization`: `.staircase` = a voxel is in iff its centre is (material of the centre); `.weighted` =
    ///   the weighted discretization of `VoxelTarget.weightedSphere`, generalized (`VehicleVoxelization`).
    public func voxelize(position: Point3, headingRad: Double, pitch h: Double, materials: [Material],
                         featurePitchM: Double? = nil, voxelization: VehicleVoxelization = .staircase) throws -> VoxelTarget {
        try Check.positive(h, "voxel-pitch")
        if let f = featurePitchM { try Check.positive(f, "feature-pitch") }
        guard materials.count == 4 else { throw ISACError.shapeMismatch("vehicle needs 4 materials [metal, tyre, glass, seat]") }
        let hf = featurePitchM ?? h
        let b = bounds
        let c = Double.cos(headingRad), s = Double.sin(headingRad)
        var lo = Point3(repeating: .infinity), hi = Point3(repeating: -.infinity)
        for sx in [-1.0, 1.0] { for sy in [-1.0, 1.0] { for z in [0.0, b.top] {
            let x = sx * b.hx, y = sy * b.hy
            let w = position + Point3(c * x - s * y, s * x + c * y, z)
            lo = pointwiseMin(lo, w); hi = pointwiseMax(hi, w)
        } } }
        let D = ClassifyDims(dims)
        func cls(_ w: Point3) -> UInt8 {
            let d = w - position
            return self.classify(Point3(c * d.x + s * d.y, -s * d.x + c * d.y, d.z), pitch: hf, dims: D)
        }
        guard case .weighted(let ns) = voxelization else {
            return try VoxelTarget.voxelize(lo: lo, hi: hi, pitch: h, materials: materials) { cls($0) }
        }
        try Check.inRange(ns, 2, 16, "voxelization subsamples")
        // Grow the box by one pitch so voxels whose centre is outside but whose cube overlaps the shape exist.
        let pad = Point3(repeating: h)
        var cells: [VehicleVoxelization.Cell] = []
        var t = try VoxelTarget.voxelize(lo: lo - pad, hi: hi + pad, pitch: h, materials: materials) { p in
            let cell = VehicleVoxelization.sample(at: p, pitch: h, subsamples: ns, classify: cls)
            cells.append(cell)
            return cell.material
        }
        t.boundary = VehicleVoxelization.boundary(cells, pitch: h)
        return t
    }
}

/// How `VehicleShape.voxelize` turns the continuous vehicle into voxels.
///
/// `.weighted(s)`: each grid voxel is sampled on an s × s × s sub-grid of its cube. A voxel is occupied when any
/// sub-sample is; its material is the most frequent non-empty one (ties → the lower index: metal, tyre, glass,
/// seat); its filled fraction is f = (non-empty sub-samples)/s³. A voxel with f < 1 becomes a `BoundaryVoxel` with
/// outward normal n̂ ∝ c_empty − c_filled (centroids of its empty and filled sub-samples): for a planar cut
/// |c_empty − c_filled| = h/2 whatever f is. Where that distance is below h/4 the voxel is cut by more than one
/// interface (a shell thinner than a voxel, an edge, a tube) and has no single interface normal: it gets the
/// isotropic volume average χ_t = f χ instead (`BoundaryVoxel.isotropic`). Mixed-material voxels count every
/// non-empty sub-sample toward the dominant material (the error that leaves is O(h) in the area of material
/// junctions, not of the surface). Σ f h³ is the volume of the continuous vehicle to the sub-grid quantization.
public enum VehicleVoxelization: Sendable, Equatable, Codable {
    case staircase
    case weighted(subsamples: Int)

    /// Default sub-grid of `.weighted` (as `VoxelTarget.weightedSphere`).
    public static let defaultSubsamples = 8

    /// Parses a CLI name: "staircase" or "weighted".
    public static func named(_ s: String) throws -> VehicleVoxelization {
        switch s {
        case "staircase": return .staircase
        case "weighted": return .weighted(subsamples: defaultSubsamples)
        default: throw ISACError.invalidParameter(name: "--voxelization", value: s, valid: "staircase or weighted")
        }
    }

    /// Sub-sample statistics of one voxel.
    struct Cell {
        var material: UInt8
        var fill: Double
        /// c_empty − c_filled in units of the pitch (zero when the voxel is empty or full).
        var separation: Point3
    }

    static func sample(at p: Point3, pitch h: Double, subsamples s: Int, classify: (Point3) -> UInt8) -> Cell {
        var counts = (0, 0, 0, 0, 0)
        var sumFilled = Point3(0, 0, 0), sumEmpty = Point3(0, 0, 0)
        for i in 0..<s { for j in 0..<s { for l in 0..<s {
            let o = (Point3(Double(i), Double(j), Double(l)) + 0.5) / Double(s) - Point3(repeating: 0.5)
            let m = classify(p + h * o)
            switch m {
            case 0: counts.0 += 1; sumEmpty += o
            case 1: counts.1 += 1; sumFilled += o
            case 2: counts.2 += 1; sumFilled += o
            case 3: counts.3 += 1; sumFilled += o
            default: counts.4 += 1; sumFilled += o
            }
        } } }
        let total = s * s * s, filled = total - counts.0
        guard filled > 0 else { return Cell(material: 0, fill: 0, separation: Point3(0, 0, 0)) }
        var best: UInt8 = 1, bestCount = counts.1
        if counts.2 > bestCount { best = 2; bestCount = counts.2 }
        if counts.3 > bestCount { best = 3; bestCount = counts.3 }
        if counts.4 > bestCount { best = 4; bestCount = counts.4 }
        let sep = counts.0 == 0 ? Point3(0, 0, 0) : sumEmpty / Double(counts.0) - sumFilled / Double(filled)
        return Cell(material: best, fill: Double(filled) / Double(total), separation: sep)
    }

    /// Boundary voxels from the per-voxel cells (in grid order).
    static func boundary(_ cells: [Cell], pitch h: Double) -> [BoundaryVoxel] {
        var out: [BoundaryVoxel] = []
        for (idx, c) in cells.enumerated() where c.material != 0 && c.fill < 1 {
            let n = (c.separation * c.separation).sum().squareRoot()
            // |c_empty − c_filled| = 1/2 (pitch units) for one planar cut; < 1/4: no single interface.
            let single = n >= 0.25
            out.append(BoundaryVoxel(index: idx, fill: c.fill, normal: single ? c.separation / n : Point3(0, 0, 1),
                                     isotropic: !single))
        }
        return out
    }
}

/// The dimensions of a `VehicleShape` as stored properties (metres or fractions, names as in `dims`; 0 where the
/// class has no such entry), so that the voxel classifier does no dictionary look-ups per grid point.
struct ClassifyDims {
    let barHalfWidth: Double
    let bodyHeight: Double
    let cabinHeight: Double
    let cabinLengthFrac: Double
    let cabinOffsetFrac: Double
    let cabinWidthFrac: Double
    let clearance: Double
    let engineHeight: Double
    let engineLength: Double
    let engineWidth: Double
    let frontRake: Double
    let headHeight: Double
    let length: Double
    let pillarWidth: Double
    let rearRake: Double
    let rimFrac: Double
    let seatHeight: Double
    let seatLength: Double
    let tankLength: Double
    let tubeRadius: Double
    let tyreWidth: Double
    let wheelRadius: Double
    let wheelbaseFrac: Double
    let width: Double
    init(_ d: [String: Double]) {
        barHalfWidth = d["barHalfWidth"] ?? 0
        bodyHeight = d["bodyHeight"] ?? 0
        cabinHeight = d["cabinHeight"] ?? 0
        cabinLengthFrac = d["cabinLengthFrac"] ?? 0
        cabinOffsetFrac = d["cabinOffsetFrac"] ?? 0
        cabinWidthFrac = d["cabinWidthFrac"] ?? 0
        clearance = d["clearance"] ?? 0
        engineHeight = d["engineHeight"] ?? 0
        engineLength = d["engineLength"] ?? 0
        engineWidth = d["engineWidth"] ?? 0
        frontRake = d["frontRake"] ?? 0
        headHeight = d["headHeight"] ?? 0
        length = d["length"] ?? 0
        pillarWidth = d["pillarWidth"] ?? 0
        rearRake = d["rearRake"] ?? 0
        rimFrac = d["rimFrac"] ?? 0
        seatHeight = d["seatHeight"] ?? 0
        seatLength = d["seatLength"] ?? 0
        tankLength = d["tankLength"] ?? 0
        tubeRadius = d["tubeRadius"] ?? 0
        tyreWidth = d["tyreWidth"] ?? 0
        wheelRadius = d["wheelRadius"] ?? 0
        wheelbaseFrac = d["wheelbaseFrac"] ?? 0
        width = d["width"] ?? 0
    }
}
