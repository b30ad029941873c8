import Arrays
import ExtendedDatasets
import Foundation
import Linalg
import Numerics
import Testing
@testable import Scattering

private func dB(_ x: Double) -> Double { 10 * Foundation.log10(x) }

/// Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n): independent of the code under test.
private func gaussLegendre(_ n: Int) -> (x: [Double], w: [Double]) {
    var x = [Double](repeating: 0, count: n), w = x
    for i in 0..<n {
        var z = Double.cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
        var dp = 0.0
        for _ in 0..<100 {
            var p0 = 1.0, p1 = z
            for k in 2...n { let p2 = ((2 * Double(k) - 1) * z * p1 - Double(k - 1) * p0) / Double(k); p0 = p1; p1 = p2 }
            dp = Double(n) * (z * p1 - p0) / (z * z - 1)
            let dz = p1 / dp; z -= dz
            if abs(dz) < 1e-15 { break }
        }
        x[i] = z; w[i] = 2 / ((1 - z * z) * dp * dp)
    }
    return (x, w)
}

@Test func miePECSeriesLimits() throws {
    // Rayleigh: σ_back = 9 π a² (ka)⁴; geometric optics: σ_back → π a².
    for x in [0.02, 0.05] { #expect(abs(try MiePEC.backscatterEfficiency(ka: x) / (9 * Foundation.pow(x, 4)) - 1) < 0.02) }
    #expect(abs(dB(try MiePEC.backscatterEfficiency(ka: 300))) < 0.1)
    #expect(throws: ISACError.self) { try MiePEC.backscatterEfficiency(ka: 0) }
}

/// Icosphere level whose edges are ≤ λ/4 (flat facets then deviate ≤ λ/200 from the sphere at ka ≤ 50).
private func sphereMesh(ka: Double, lambda: Double) throws -> TriangleMesh {
    let a = ka * lambda / (2 * Double.pi)
    var s = 0
    while 1.1 * a / Double(1 << s) > lambda / 4 { s += 1 }
    return try TriangleMesh.icosphere(radius: a, subdivisions: s)
}

@Test func poSphereMonostaticRCSMatchesPECMie() throws {
    // λ = 1 m (f = c). PO vs the exact series within 1 dB for ka = 10 … 50, and → π a² as ka grows.
    let f = speedOfLight, lam = 1.0
    var devGO: [Double] = []
    for ka in [10.0, 20, 35, 50] {
        let mesh = try sphereMesh(ka: ka, lambda: lam)
        let a = ka * lam / (2 * Double.pi)
        let po = try PhysicalOptics.monostaticRCS(mesh: mesh, frequencyHz: f, thetaRad: [0.3], phiRad: 0.2)[0]
        let mie = try MiePEC.backscatterEfficiency(ka: ka) * Double.pi * a * a
        #expect(abs(dB(po / mie)) < 1, "ka \(ka): PO \(dB(po)) dBsm vs Mie \(dB(mie)) dBsm")
        devGO.append(abs(dB(po / (Double.pi * a * a))))
    }
    #expect(devGO.last! < 0.5)
}

@Test func poPlateBroadsideAndLobeMatchClosedForm() throws {
    // 8λ × 5λ plate of two triangles (facets of several λ, subdivided), λ = 1 m.
    let f = speedOfLight, lam = 1.0, k = 2 * Double.pi
    let a = 8.0, b = 5.0
    let plate = try TriangleMesh.plate(sizeX: a, sizeY: b)
    let peak = 4 * Double.pi * (a * b) * (a * b) / (lam * lam)
    let broadside = try PhysicalOptics.monostaticRCS(mesh: plate, frequencyHz: f, thetaRad: [0])[0]
    #expect(abs(dB(broadside / peak)) < 0.5)
    // Principal cut φ = 0 (θ along the a side): σ(θ) = σ_0 cos²θ sinc²(k a sinθ), both polarizations.
    let thetas = stride(from: 0.0, through: 40.0, by: 0.5).map { $0 * Double.pi / 180 }
    for pol in RCSPolarization.allCases {
        let s = try PhysicalOptics.monostaticRCS(mesh: plate, frequencyHz: f, thetaRad: thetas, polarization: pol)
        for (t, v) in zip(thetas, s) {
            let x = k * a * Double.sin(t)
            let sinc = x == 0 ? 1 : Double.sin(x) / x
            let ref = peak * Double.cos(t) * Double.cos(t) * sinc * sinc
            // Lobes within 20 dB of the peak: 0.5 dB; nulls and far sidelobes: absolute error ≤ −30 dB of the peak.
            if ref > peak / 100 { #expect(abs(dB(v / ref)) < 0.5, "θ \(t * 180 / Double.pi)° \(pol)") }
            else { #expect(abs(v.squareRoot() - ref.squareRoot()) < 0.032 * peak.squareRoot(), "θ \(t * 180 / Double.pi)° \(pol)") }
        }
    }
}

@Test func poClosedBoxShadowsItsBackAndSides() throws {
    // Face-on cube: only the front face is lit (sides are grazing, back is shadowed) → plate RCS of one face.
    let f = speedOfLight, e = 4.0
    let box = TriangleMesh.box(lo: Point3(repeating: -e / 2), hi: Point3(repeating: e / 2))
    let s = try PhysicalOptics.monostaticRCS(mesh: box, frequencyHz: f, thetaRad: [0])[0]
    #expect(abs(dB(s / (4 * Double.pi * e * e * e * e))) < 0.05)
}

/// η H_inc by the curl of E_inc = k² G p̂ (central differences): ∇ × E = −jωμ0 H ⇒ ηH = (j/k) ∇ × E.
private func numericEtaH(at r: Point3, source: Point3, p: Point3, k: Double) -> [CDouble] {
    let h = 1e-5
    func E(_ x: Point3) -> [CDouble] { Fields.dipoleField(at: x, source: source, moment: p, wavenumber: k, momentScale: 1) }
    let e = [Point3(1, 0, 0), Point3(0, 1, 0), Point3(0, 0, 1)]
    var d = [[CDouble]](repeating: [CDouble](repeating: .zero, count: 3), count: 3)  // d[i][c] = ∂_i E_c
    for i in 0..<3 {
        let ep = E(r + h * e[i]), em = E(r - h * e[i])
        for c in 0..<3 { d[i][c] = (ep[c] - em[c]) / CDouble(2 * h, 0) }
    }
    let curl = [d[1][2] - d[2][1], d[2][0] - d[0][2], d[0][1] - d[1][0]]
    return curl.map { CDouble(0, 1 / k) * $0 }
}

@Test func poNearFieldPlateChannelMatchesBruteForceIntegral() throws {
    // 0.6 m × 0.4 m plate (≈ 10λ × 6.5λ) 3 m in front of a small cross array: Fresnel zone (D²/λ ≈ 5.9 m > 3 m).
    let array = try SensingArray.cross(antennas: 4, carrierHz: 4.9e9, subcarriers: 2, subcarrierSpacingHz: 100e6)
    let a = 0.6, b = 0.4
    let centre = Point3(3, 0.25, -0.15)
    // Plate in the y–z plane, normal −x (towards the array): (X, Y, 0) ↦ centre + (0, Y, X).
    var plate = try TriangleMesh.plate(sizeX: a, sizeY: b)
    plate.vertices = plate.vertices.map { centre + Point3(-$0.z, $0.y, $0.x) }
    let H = try PhysicalOptics.channel(mesh: plate, array: array, samplesPerWavelength: 4)
    // Brute force: tensor Gauss–Legendre over the rectangle, J = 2 n̂ × H_inc from the numerical curl of E_inc.
    let (gx, gw) = gaussLegendre(120), (hx, hw) = gaussLegendre(80)
    let n = Point3(-1, 0, 0)
    var maxErr = 0.0, maxRef = 0.0
    for (kk, f) in array.frequenciesHz.enumerated() {
        let k = Fields.wavenumber(frequencyHz: f)
        for (t, src) in array.tx.positions.enumerated() {
            // Current samples on the plate for this Tx.
            var pts: [Point3] = [], J: [[CDouble]] = [], w: [Double] = []
            for (i, x) in gx.enumerated() { for (j, y) in hx.enumerated() {
                let r = centre + Point3(0, b / 2 * y, a / 2 * x)
                let eh = numericEtaH(at: r, source: src, p: array.txPolarization, k: k)
                // 2 n̂ × (ηH), n̂ = −x̂ faces the array.
                J.append([CDouble(0, 0), CDouble(2, 0) * (CDouble(n.z, 0) * eh[0] - CDouble(n.x, 0) * eh[2]),
                          CDouble(2, 0) * (CDouble(n.x, 0) * eh[1] - CDouble(n.y, 0) * eh[0])])
                pts.append(r); w.append(gw[i] * hw[j] * a * b / 4)
            } }
            for (ri, rcv) in array.rx.positions.enumerated() {
                var s = CDouble.zero
                for q in pts.indices {
                    let G = try Fields.dyadicGreen(rcv, pts[q], wavenumber: k)
                    let qv = array.rxPolarization
                    for c in 0..<3 {
                        let qg = CDouble(qv.x, 0) * G[c] + CDouble(qv.y, 0) * G[3 + c] + CDouble(qv.z, 0) * G[6 + c]
                        s += CDouble(w[q], 0) * qg * J[q][c]
                    }
                }
                let ref = CDouble(0, -k) * s
                maxErr = max(maxErr, (H[ri, t, kk] - ref).length); maxRef = max(maxRef, ref.length)
            }
        }
    }
    #expect(maxErr / maxRef < 0.03, "max |H_PO − H_brute| / max |H_brute| = \(maxErr / maxRef)")
}

@Test func poChannelRejectsMeshOverlappingTheArray() throws {
    let array = try SensingArray.cross(antennas: 4, carrierHz: 4.9e9, subcarriers: 1)
    let box = TriangleMesh.box(lo: Point3(-0.2, -0.2, -0.2), hi: Point3(0.3, 0.2, 0.2))
    #expect(throws: ISACError.self) { try PhysicalOptics.channel(mesh: box, array: array) }
}

@Test func poChannelOfSphereFollowsRadarEquationAndRangeLaw() throws {
    // PEC sphere (a = 0.25 m, ka ≈ 25.7 at 4.9 GHz) far from a 1 + 1 array: |H| = k²/(4πR) · √(σ/4π) / R with σ the
    // far-field PO RCS of the same mesh (E_inc = k² g p̂ at the target, spherical spreading back), and |H| ∝ R⁻².
    let f = 4.9e9, k = Fields.wavenumber(frequencyHz: f), a = 0.25
    let array = try SensingArray.cross(antennas: 1, carrierHz: f, subcarriers: 1)
    let sigma = try PhysicalOptics.monostaticRCS(mesh: try TriangleMesh.icosphere(radius: a, subdivisions: PhysicalOptics.sphereSubdivisions(radiusM: a, wavelengthM: 2 * Double.pi / k)),
                                                 frequencyHz: f, thetaRad: [Double.pi / 2])[0]
    var mags: [Double] = []
    for R in [30.0, 60.0] {
        let mesh = try TriangleMesh.icosphere(radius: a, subdivisions: PhysicalOptics.sphereSubdivisions(radiusM: a, wavelengthM: 2 * Double.pi / k), center: Point3(R, 0, 0))
        let H = try PhysicalOptics.channel(mesh: mesh, array: array)
        let want = k * k / (4 * Double.pi * R) * (sigma / (4 * Double.pi)).squareRoot() / R
        #expect(abs(dB(H[0, 0, 0].lengthSquared / (want * want))) < 0.3, "R = \(R)")
        mags.append(H[0, 0, 0].length)
    }
    #expect(abs(mags[0] / mags[1] - 4) < 0.2)
}

@Test func surfaceSolversRunADatasetSampleAndHybridAddsBorn() throws {
    var c = try DatasetConfig.preset("small", solver: .po, seed: 5)
    c.antennas = 4; c.subcarriers = 2
    let arr = try c.array()
    let (hp, lp) = try ExtendedTargetGenerator.sample(1, config: c, array: arr)
    c.solver = .hybrid
    let (hh, lh) = try ExtendedTargetGenerator.sample(1, config: c, array: arr)
    #expect(lp == lh)  // same placement and labels
    #expect(hp.norm > 0 && hp.data.allSatisfy { $0.real.isFinite && $0.imaginary.isFinite })
    // hybrid − po is the Born channel of the non-metal voxels of the same placement.
    let shape = ExtendedTargetGenerator.instance(lh.cls, index: Int(lh.instanceId.suffix(4))!, config: c)
    let (vt, _) = try SurfaceScattering.place(shape, rangeM: lh.rangeM, azimuthRad: lh.azimuthDeg * Double.pi / 180,
                                              headingRad: lh.headingDeg * Double.pi / 180, materials: lh.materials, config: c)
    var nm = vt; nm.material = nm.material.map { $0 == 1 ? 0 : $0 }
    let hb = try BornSolver.channel(target: nm, array: arr)
    let diff = zip(hh.data, hp.data).map { $0 - $1 }
    let err = zip(diff, hb.data).reduce(0) { $0 + ($1.0 - $1.1).lengthSquared }.squareRoot()
    #expect(err <= 1e-9 * hb.norm + 1e-30)
    let paper = try DatasetConfig.preset("paper", solver: .hybrid, seed: 1)
    #expect(paper.antennas == 64 && paper.subcarriers == 16 && paper.totalSamples == 3984 + 500 + 492)
}

/// A closed box and an open plate 2.5 m in front of a small cross array (16 uniform tones, or irregular tones that
/// disable the phasor recurrence), shared by the fast-kernel tests.
private func kernelScene(uniformTones: Bool) throws -> (SurfaceSamples, [Int], SensingArray) {
    var array = try SensingArray.cross(antennas: 3, carrierHz: 4.9e9, subcarriers: 16, subcarrierSpacingHz: 40e6)
    if !uniformTones { array.frequenciesHz = array.frequenciesHz.enumerated().map { $0.element + 3e6 * Double($0.offset * $0.offset) } }
    var mesh = TriangleMesh.box(lo: Point3(2.5, -0.1, -0.08), hi: Point3(2.7, 0.12, 0.1)).transformed(headingRad: 0.4, offset: .zero)
    var plate = try TriangleMesh.plate(sizeX: 0.15, sizeY: 0.1)
    plate.vertices = plate.vertices.map { Point3(2.3, 0.3, 0.05) + Point3(-$0.z + 0.3 * $0.x, $0.y, $0.x) }
    mesh.append(plate)
    let (s, keep) = try PhysicalOptics.litSamples(mesh: mesh, array: array, samplesPerWavelength: 2)
    return (s, keep, array)
}

@Test func poBlockKernelMatchesDirectSummation() throws {
    // The GEMM kernel (blocks incl. a partial last block, phasor recurrence with re-seeding every 1, 5 or 16 tones,
    // or direct phasors for irregular tones) against a plain triple sum with cos/sin at every tone: same quadrature,
    // so they agree to rounding.
    for uniform in [true, false] {
        let (s, keep, array) = try kernelScene(uniformTones: uniform)
        #expect(keep.count > 300 && keep.count < s.count)
        let ref = PhysicalOptics.directChannel(samples: s, indices: keep, array: array)
        let scale = ref.data.map(\.length).max()!
        for reseed in (uniform ? [1, 5, 16] : [8]) {
            let H = PhysicalOptics.channel(samples: s, indices: keep, array: array, blockSize: 97, reseedInterval: reseed)
            let err = zip(H.data, ref.data).map { ($0 - $1).length }.max()!
            #expect(err / scale < 1e-10, "uniform \(uniform), reseed \(reseed): max |H − H_direct| / max |H_direct| = \(err / scale)")
        }
    }
}

@Test func poPhasorRecurrenceStaysWithin1e12OfDirectExp() throws {
    // e^{−j(k0 + mΔk)R} by repeated multiplication with e^{−jΔkR} vs cos/sin of the full phase, 64 tones, R up to 12 m
    // (kR ≈ 1250): the recurrence without re-seeding drifts ≈ m·ε; re-seeded every 8 tones it stays ≲ 8ε.
    let k0 = Fields.wavenumber(frequencyHz: 4.74e9), dk = Fields.wavenumber(frequencyHz: 20e6)
    let pts = (0..<500).map { i in Point3(0.5 + 11.5 * Double(i) / 499, 0.3 * Double.sin(Double(i)), 0.1) }
    for reseed in [8, 64] {
        let ph = PairPhasors(antennas: 1, stride: pts.count)
        ph.fill(antennas: [.zero], points: pts, k0: k0, dk: dk) { _, _, _ in (0, 0) }
        var worst = 0.0
        for m in 1..<64 {
            PairPhasors.update(mode: m % reseed == 0 ? 2 : 1, count: pts.count, k: k0 + Double(m) * dk,
                               pr: ph.pr, pi: ph.pi, sr: ph.sr, si: ph.si, r: ph.r)
            for i in pts.indices {
                let ph0 = (k0 + Double(m) * dk) * ph.r[i]
                worst = max(worst, hypot(ph.pr[i] - Double.cos(ph0), ph.pi[i] + Double.sin(ph0)))
            }
        }
        #expect(worst < 1e-12, "re-seed every \(reseed) tones: max |phasor − e^{−jkR}| = \(worst)")
    }
}

@Test func poShadowingCastsTheGeometricShadowAndLeavesConvexBodiesAlone() throws {
    // One Tx at the origin; a 0.2 m square plate at x = 2 m in front of a 0.8 m square plate at x = 3 m (both facing
    // the array, normals −x). The front plate's shadow on the back plate is the central square of side
    // 0.2 · 3/2 = 0.3 m (point-source projection), so the flagged share of the back plate's samples is 0.09/0.64.
    let tx = try ArrayGeometry.ula(count: 1, spacingMeters: 0.03, axis: .y)
    let array = try SensingArray(tx: tx, rx: tx, frequenciesHz: [4.9e9])
    func square(_ side: Double, atX x: Double) throws -> TriangleMesh {
        var m = try TriangleMesh.plate(sizeX: side, sizeY: side, divisions: 2)
        m.vertices = m.vertices.map { Point3(x, $0.y, $0.x) }
        return m
    }
    var scene = try square(0.8, atX: 3)
    let backFacets = scene.triangles.count
    scene.append(try square(0.2, atX: 2))
    let (s, keep) = try PhysicalOptics.litSamples(mesh: scene, array: array, samplesPerWavelength: 4)
    let flags = PhysicalOptics.shadowFlags(samples: s, indices: keep, mesh: scene, txPositions: array.tx.positions)
    var backW = 0.0, shadowW = 0.0, frontFlagged = 0
    for (n, q) in keep.enumerated() {
        if s.facets[q] < backFacets {
            backW += s.weights[q]
            if flags[n] != 0 { shadowW += s.weights[q] }
        } else if flags[n] != 0 { frontFlagged += 1 }
    }
    #expect(frontFlagged == 0)
    #expect(abs(shadowW / backW - 0.09 / 0.64) < 0.01, "shadowed share \(shadowW / backW)")
    // The shadowed back-plate current is missing from the channel (a cross array, so the flags vary per Tx).
    let a4 = try SensingArray.cross(antennas: 2, carrierHz: 4.9e9, subcarriers: 2)
    let on = try PhysicalOptics.channel(mesh: scene, array: a4, shadowing: true), off = try PhysicalOptics.channel(mesh: scene, array: a4)
    #expect(zip(on.data, off.data).map { ($0 - $1).length }.max()! > 1e-3 * off.data.map(\.length).max()!)
    // Convex closed body: a segment from outside to a facet that faces it crosses no other facet, so nothing changes.
    let sphere = try TriangleMesh.icosphere(radius: 0.3, subdivisions: 3, center: Point3(3, 0.2, 0))
    let son = try PhysicalOptics.channel(mesh: sphere, array: a4, shadowing: true), soff = try PhysicalOptics.channel(mesh: sphere, array: a4)
    #expect(son.data == soff.data)
}

@Test func fastSinCosMatchesLibm() throws {
    // The vectorizable sin/cos of the PO kernel against Foundation's, on the phases the kernel sees (kR up to 2e4 rad,
    // both signs, every quadrant, near multiples of π/2): the error stays at a few ulp of 1.
    var worst = 0.0
    var x = -20000.0
    var rng = RandomSource(seed: 7, stream: 0)
    while x < 20000 {
        for y in [x, x + rng.uniform(0, 1), Double(Int(x / (Double.pi / 2))) * (Double.pi / 2)] {
            let (s, c) = FastSinCos.sinCos(y)
            worst = max(worst, abs(s - Double.sin(y)), abs(c - Double.cos(y)))
        }
        x += 0.37
    }
    for y in [0.0, 1e-300, -1e-300, Double.pi / 4, 3 * Double.pi / 4, 1e5 + 0.1, -7e5] {
        let (s, c) = FastSinCos.sinCos(y)
        worst = max(worst, abs(s - Double.sin(y)), abs(c - Double.cos(y)))
    }
    #expect(worst < 4e-16, "max |fast − libm| = \(worst)")
}
