import Testing
import Foundation
import Numerics
import Linalg
@testable import ExtendedTarget

@Suite("Classical references on exact point-target channels")
struct ClassicalReferenceTests {
    let freqs = try! ofdmFrequencies(carrierHz: 4.9e9, spacingHz: 2e6, count: 16)

    @Test("C-order [Nr, Nt, K] buffer maps to per-tone matrices")
    func cOrderLayout() throws {
        let nr = 3, nt = 4, k = 2
        let data = (0..<(nr * nt * k)).map { CDouble(Double($0), -Double($0)) }
        let h = try MultiToneChannel(cOrder: data, receiveCount: nr, transmitCount: nt, frequenciesHz: [1e9, 2e9])
        for r in 0..<nr { for t in 0..<nt { for m in 0..<k {
            #expect(h.tones[m][r, t] == data[(r * nt + t) * k + m])
        } } }
    }

    @Test("bad tensors are rejected: NaN, ragged tones, too many selected tones")
    func badInput() throws {
        var m = Matrix<CDouble>(rows: 2, cols: 2)
        m[1, 1] = CDouble(.nan, 0)
        #expect(throws: ISACError.self) { try MultiToneChannel(tones: [m], frequenciesHz: [1e9]) }
        #expect(throws: ISACError.self) {
            try MultiToneChannel(tones: [Matrix(rows: 2, cols: 2), Matrix(rows: 2, cols: 3)], frequenciesHz: [1e9, 2e9])
        }
        #expect(throws: ISACError.self) { try selectedToneIndices(ks: 17, available: 16) }
        #expect(throws: ISACError.self) { try selectedToneIndices(ks: 0, available: 16) }
        #expect(try selectedToneIndices(ks: 4, available: 16) == [0, 4, 8, 12])
        #expect(try selectedToneIndices(ks: 16, available: 16) == Array(0..<16))
    }

    @Test("point-target channel matches the spherical Green's-function product entrywise")
    func pointChannel() throws {
        let scene = try CrossArrayScene(transmitCount: 4, receiveCount: 3)
        let q = scene.point(rangeMeters: 7, azimuthRad: 0.3)
        let h = try pointTargetChannel(scene: scene, scatterers: [(q, CDouble(2, 0))], frequenciesHz: [4.9e9])
        let kappa = 2 * Double.pi * 4.9e9 / 299_792_458.0
        for r in 0..<3 { for t in 0..<4 {
            let dr = scene.rx.positions[r] - q, dt = scene.tx.positions[t] - q
            let a = (dr * dr).sum().squareRoot(), b = (dt * dt).sum().squareRoot()
            let ref = CDouble(2 / (a * b), 0) * CDouble.exp(CDouble(0, -kappa * (a + b)))
            #expect((h.tones[0][r, t] - ref).length < 1e-12)
        } }
    }

    @Test("FFT periodogram recovers a far-field point within one angle bin and one range step")
    func fftRecoversFarFieldPoint() throws {
        // 8-element arrays: Rayleigh distance ≈ 1.5 m, so 20–40 m is far field for this aperture.
        let scene = try CrossArrayScene(transmitCount: 8, receiveCount: 8)
        let est = try FFTPeriodogramEstimator(region: SearchRegion(), paddedReceive: 16, paddedTransmit: 512,
                                              rangeStepMeters: 0.05)
        for (r, th) in [(23.37, 0.41), (37.8, -0.77), (12.2, 0.05)] {
            let h = try pointTargetChannel(scene: scene, scatterers: [(scene.point(rangeMeters: r, azimuthRad: th), CDouble(1, 0))],
                                           frequenciesHz: freqs)
            let e = try est.estimate(h)
            // One Tx bin is Δ(sin θ) = 2/512; map it to angle through dθ = d(sin θ)/cos θ.
            #expect(abs(Double.sin(e.azimuthRad) - Double.sin(th)) <= 2.0 / 512 + 1e-9)
            #expect(abs(e.rangeMeters - r) <= 0.05 + 1e-6, "range \(e.rangeMeters) vs \(r)")
        }
    }

    @Test("near-field matched filter recovers a near-field point within one coarse grid cell")
    func matchedFilterRecoversNearFieldPoint() throws {
        let scene = try CrossArrayScene(transmitCount: 16, receiveCount: 16)
        let mf = try NearFieldMatchedFilter(scene: scene, region: SearchRegion(), rangeStepMeters: 1,
                                            azimuthStepRad: Double.pi / 180, refineFactor: 5)
        let truth: [(Double, Double)] = [(7.3, 0.35), (18.6, -0.62), (41.2, 0.9)]
        let batch = try truth.map { (r, th) in
            try pointTargetChannel(scene: scene, scatterers: [(scene.point(rangeMeters: r, azimuthRad: th), CDouble(0.3, -1))],
                                   frequenciesHz: freqs)
        }
        let est = try mf.estimate(batch)
        for (e, (r, th)) in zip(est, truth) {
            #expect(abs(e.rangeMeters - r) <= 1.0, "range \(e.rangeMeters) vs \(r)")
            #expect(abs(e.azimuthRad - th) <= Double.pi / 180, "azimuth \(e.azimuthRad) vs \(th)")
        }
    }
}
