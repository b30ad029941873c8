import Testing
import Foundation
import Numerics
import Arrays
import Estimation
import Linalg

@Suite("Periodogram and near-field matched filter (Estimation)")
struct PeriodogramMatchedFilterTests {
    @Test("2-D periodogram: on-bin plane wave peaks at its bin with power K·(Nr·Nt)²")
    func spatialPeak() {
        let nr = 4, nt = 8, pr = 16, pt = 32, mr = 3, mt = 27, k = 3
        let h = Matrix<CDouble>(rows: nr, cols: nt) { r, t in
            CDouble.exp(CDouble(0, 2 * Double.pi * (Double(mr * r) / Double(pr) + Double(mt * t) / Double(pt))))
        }
        let sp = Periodogram.spatial2D(Array(repeating: h, count: k), paddedRows: pr, paddedCols: pt)
        #expect(sp.paddedRows == pr && sp.paddedCols == pt && sp.spectra.count == k)
        let best = sp.power.indices.max { sp.power[$0] < sp.power[$1] }!
        #expect(best == mr * pt + mt)
        #expect(abs(sp.power[best] - Double(k * nr * nr * nt * nt)) < 1e-9 * sp.power[best])
        // Padding below the array size is raised to it.
        #expect(Periodogram.spatial2D([h], paddedRows: 1, paddedCols: 1).paddedCols == nt)
    }

    @Test("delay periodogram: recovers an on-grid range; the c/(2Δf) ambiguity resolves to the smallest range")
    func delayPeak() {
        let f = (0..<8).map { 4.9e9 + Double($0) * 20e6 }
        let r0 = 12.35
        let b = f.map { CDouble.exp(CDouble(0, -2 * Double.pi * $0 * 2 * r0 / speedOfLight)) }
        let r = Periodogram.delayPeak(b, frequenciesHz: f, rangeMinMeters: 10, rangeMaxMeters: 17, stepMeters: 0.05)
        #expect(abs(r - r0) < 1e-9)
        // Uniform tones: P(r) is periodic with c/(2Δf) ≈ 7.49 m, so r0 + 7.49 ties and r0 wins.
        let rWide = Periodogram.delayPeak(b, frequenciesHz: f, rangeMinMeters: 10, rangeMaxMeters: 30, stepMeters: 0.05)
        #expect(abs(rWide - r0) < 1e-9)
        // One tone: flat spectrum, the first grid point.
        #expect(Periodogram.delayPeak([b[0]], frequenciesHz: [f[0]], rangeMinMeters: 5, rangeMaxMeters: 9, stepMeters: 0.5) == 5)
    }

    @Test("matched filter: S(q0) = Σ‖H_k‖²_F at the true point (Cauchy–Schwarz bound), smaller elsewhere")
    func matchedFilterBound() throws {
        let tx = try ArrayGeometry.ula(count: 6, spacingMeters: 0.03, axis: .y)
        let rx = try ArrayGeometry.ula(count: 5, spacingMeters: 0.03, axis: .z)
        let mf = MatchedFilter(transmit: tx, receive: rx)
        let f = [4.9e9, 4.92e9, 4.95e9]
        let q0 = Point3(3.0, 1.0, 0.2), g = CDouble(0.7, -0.4)
        let chans: [Matrix<CDouble>] = f.map { fk in
            let kappa = Steering.wavenumber(frequencyHz: fk)
            let (at, _) = MatchedFilter.steering(tx, q0, wavenumber: kappa), (ar, _) = MatchedFilter.steering(rx, q0, wavenumber: kappa)
            return Matrix(rows: rx.count, cols: tx.count) { r, t in g * ar[r] * at[t] }
        }
        let energy = chans.reduce(0.0) { acc, h in acc + h.data.reduce(0.0) { $0 + $1.absSquared } }
        let pts = [q0, Point3(3.2, 1.0, 0.2), Point3(3.0, 0.8, 0.2), Point3(6.0, -2.0, 0.2)]
        let s = mf.scores([chans, chans.map { m in Matrix(rows: m.rows, cols: m.cols) { r, t in m[r, t] * CDouble(2, 0) } }],
                          frequenciesHz: f, points: pts)
        #expect(s.count == 2 && s[0].count == pts.count)
        #expect(abs(s[0][0] - energy) < 1e-9 * energy)
        for j in 1..<pts.count { #expect(s[0][j] < s[0][0] * (1 - 1e-6)) }
        // Linear in the channel: twice the channel, four times the score.
        for j in pts.indices { #expect(abs(s[1][j] - 4 * s[0][j]) < 1e-9 * s[1][j]) }
    }
}
