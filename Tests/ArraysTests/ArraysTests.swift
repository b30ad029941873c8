import Foundation
import Numerics
import Testing
@testable import Arrays
@testable import Linalg

private let fc = 28e9
private var lambda: Double { speedOfLight / fc }

@Test func ulaGeometry() throws {
    let g = try ArrayGeometry.ula(count: 4, spacingMeters: 0.5, axis: .y)
    #expect(g.positions == [Point3(0, -0.75, 0), Point3(0, -0.25, 0), Point3(0, 0.25, 0), Point3(0, 0.75, 0)])
    #expect(abs(g.apertureMeters - 1.5) < 1e-15)
    let sp = try ArrayGeometry.ula(spacingsMeters: [1, 2], axis: .x)
    // Positions 0, 1, 3 centred on their mean 4/3.
    let xs: [Double] = sp.positions.map { $0.x }
    let expectedX: [Double] = [-4.0 / 3, -1.0 / 3, 5.0 / 3]
    for i in 0..<3 { #expect(abs(xs[i] - expectedX[i]) < 1e-15) }
    let (tx, rx) = try ArrayGeometry.cross(txCount: 3, rxCount: 5, spacingMeters: 0.1)
    #expect(tx.positions.allSatisfy { $0.x == 0 && $0.z == 0 } && rx.positions.allSatisfy { $0.x == 0 && $0.y == 0 })
    #expect(rx.count == 5)
}

@Test func rayleighDistanceOfPaperULA() throws {
    // Wideband paper §V: N = 127, d = λ/2 at 28 GHz, D = 0.68 m, R = 2D²/λ ≈ 86.4 m.
    let g = try ArrayGeometry.ula(count: 127, spacingMeters: lambda / 2)
    // Element-to-element extent is (N−1)d; the paper's D = 0.68 m is the full aperture N·d.
    #expect(abs(g.apertureMeters - 126 * lambda / 2) < 1e-12)
    #expect(abs(127 * lambda / 2 - 0.68) < 0.001)
    let paperD = 0.68
    #expect(abs(2 * paperD * paperD / lambda - 86.4) < 0.05)
    #expect(abs(g.rayleighDistanceMeters(wavelengthMeters: lambda) - 2 * pow(126 * lambda / 2, 2) / lambda) < 1e-9)
}

@Test func farFieldTwoElementHandComputed() throws {
    let d = lambda / 2, k = Steering.wavenumber(frequencyHz: fc)
    let g = try ArrayGeometry.ula(count: 2, spacingMeters: d)
    let th = 0.3
    let a = Steering.farField(g, direction: Point3(cos(th), sin(th), 0), wavenumber: k)
    let psi = k * d / 2 * cos(th)
    #expect((a[0] - CDouble(cos(-psi), sin(-psi))).length < 1e-14)
    #expect((a[1] - CDouble(cos(psi), sin(psi))).length < 1e-14)
    #expect(abs(k * d - Double.pi) < 1e-12)  // half-wavelength spacing
}

@Test func nearFieldTwoElementHandComputed() throws {
    let d = 0.2, k = 2 * Double.pi / 0.01, r = 1.5
    let g = try ArrayGeometry.ula(count: 2, spacingMeters: d)
    // Source on broadside: both elements at distance √(r² + d²/4).
    let a = Steering.nearField(g, point: Point3(0, r, 0), wavenumber: k)
    let ph = -k * ((r * r + d * d / 4).squareRoot() - r)
    for v in a { #expect((v - CDouble(cos(ph), sin(ph))).length < 1e-12) }
    // Source on the axis at x = r: distances r ∓ d/2 exactly.
    let b = Steering.nearField(g, point: Point3(r, 0, 0), wavenumber: k, includeAmplitude: true)
    let e0 = CDouble(cos(-k * d / 2), sin(-k * d / 2)) * CDouble(r / (r + d / 2), 0)
    let e1 = CDouble(cos(k * d / 2), sin(k * d / 2)) * CDouble(r / (r - d / 2), 0)
    #expect((b[0] - e0).length < 1e-12 && (b[1] - e1).length < 1e-12)
}

@Test func nearFieldTendsToFarField() throws {
    let g = try ArrayGeometry.ula(count: 127, spacingMeters: lambda / 2)
    let k = Steering.wavenumber(frequencyHz: fc)
    let th = 1.1
    let u = Point3(cos(th), sin(th), 0)
    let ff = Steering.farField(g, direction: u, wavenumber: k)
    var previous = 0.0
    for r in [5.0, 50.0, 500.0, 5e4, 5e6] {
        let nf = Steering.nearField(g, point: Steering.point(rangeMeters: r, angleFromAxisRad: th), wavenumber: k)
        let corr = dotc(nf, ff).length / Double(g.count)
        #expect(corr >= previous - 1e-12)
        previous = corr
    }
    #expect(previous > 1 - 1e-6)
    let close = Steering.nearField(g, point: Steering.point(rangeMeters: 5, angleFromAxisRad: th), wavenumber: k)
    #expect(dotc(close, ff).length / Double(g.count) < 0.9)  // well inside the 86 m Rayleigh distance
}

@Test func fresnelApproximationAccurateFarFromAperture() throws {
    let g = try ArrayGeometry.ula(count: 127, spacingMeters: lambda / 2)
    let k = Steering.wavenumber(frequencyHz: fc)
    let D = g.apertureMeters
    for th in [0.4, Double.pi / 2, 2.5] {
        var lastErr = Double.infinity
        for r in [20.0, 200.0, 2000.0] {
            let exact = Steering.nearField(g, point: Steering.point(rangeMeters: r, angleFromAxisRad: th), wavenumber: k)
            let fr = Steering.fresnel(g, rangeMeters: r, angleFromAxisRad: th, wavenumber: k)
            let err = zip(exact, fr).map { ($0 - $1).length }.max()!
            // Third-order Taylor remainder bounds the phase error: k (D/2)³ |cos θ| sin²θ /(2r²) + O(r⁻³).
            let bound = k * pow(D / 2, 3) / (2 * r * r) + k * pow(D / 2, 4) / (r * r * r)
            #expect(err <= bound * 1.01 + 1e-12, "θ=\(th) r=\(r): \(err) > \(bound)")
            #expect(err < lastErr || err < 1e-10)
            lastErr = err
        }
    }
}

@Test func widebandColumns() throws {
    let g = try ArrayGeometry.ula(count: 8, spacingMeters: lambda / 2)
    let freqs = [fc - 60e6, fc, fc + 60e6]
    let q = Steering.point(rangeMeters: 7, angleFromAxisRad: 0.8)
    let w = Steering.wideband(g, point: q, frequenciesHz: freqs)
    #expect(w.rows == 8 && w.cols == 3)
    for (m, f) in freqs.enumerated() {
        let col = Steering.nearField(g, point: q, wavenumber: 2 * Double.pi * f / speedOfLight)
        #expect(zip(w.column(m), col).allSatisfy { ($0 - $1).length < 1e-12 })
    }
    // Beam squint: columns at different frequencies differ, and the phase scales with f.
    #expect(zip(w.column(0), w.column(2)).contains { ($0 - $1).length > 1e-3 })
    let wf = Steering.widebandFarField(g, direction: Point3(0, 1, 0), frequenciesHz: freqs)
    #expect(wf.data.allSatisfy { ($0 - CDouble(1, 0)).length < 1e-12 })  // broadside: no phase on any subcarrier
}

@Test func perturbedArraysSeeded() throws {
    var r1 = RandomSource(seed: 8), r2 = RandomSource(seed: 8)
    let a = try ArrayGeometry.perturbedULA(count: 16, nominalSpacingMeters: 0.005, spacingStdMeters: 1e-4, rng: &r1)
    let b = try ArrayGeometry.perturbedULA(count: 16, nominalSpacingMeters: 0.005, spacingStdMeters: 1e-4, rng: &r2)
    #expect(a == b)
    var r3 = RandomSource(seed: 8)
    let z = try ArrayGeometry.perturbedULA(count: 16, nominalSpacingMeters: 0.005, spacingStdMeters: 0, rng: &r3)
    let u = try ArrayGeometry.ula(count: 16, spacingMeters: 0.005)
    #expect(zip(z.positions, u.positions).allSatisfy { (($0 - $1) * ($0 - $1)).sum() < 1e-30 })
    #expect(a != u)
}

@Test func arraysRejectBadInput() {
    #expect(throws: ISACError.self) { try ArrayGeometry.ula(count: 0, spacingMeters: 0.1) }
    #expect(throws: ISACError.self) { try ArrayGeometry.ula(count: -2, spacingMeters: 0.1) }
    #expect(throws: ISACError.self) { try ArrayGeometry.ula(count: 4, spacingMeters: 0) }
    #expect(throws: ISACError.self) { try ArrayGeometry.ula(count: 4, spacingMeters: -0.1) }
    #expect(throws: ISACError.self) { try ArrayGeometry.ula(spacingsMeters: [0.1, .nan]) }
    var rng = RandomSource(seed: 1)
    #expect(throws: ISACError.self) {
        try ArrayGeometry.perturbedULA(count: 4, nominalSpacingMeters: 0.1, spacingStdMeters: -1, rng: &rng)
    }
}
