import Foundation
import Testing
@testable import Linalg

/// Error of `v` vs the libm reference `ref` in ulps of the reference (ulp of the smallest normal for tiny values).
private func ulpError(_ v: Double, _ ref: Double) -> Double {
    Swift.abs(v - ref) / Swift.max(ref.ulp, Double.leastNormalMagnitude)
}

/// 2·10⁶ arguments over four scales up to |x| = 10⁶ (the documented bound), both signs, against glibc sin/cos.
/// glibc's sin/cos are correctly rounded in practice (< 1 ulp), so this bounds our error at ≤ 2 ulp + libm's.
/// Measured on this machine (glibc 2.36): max 1.0 ulp for sin and for cos, max absolute error 1.11e-16; asserted
/// ≤ 2 ulp and < 2.3e-16.
@Test func vectorSinCosMatchesLibm() {
    var rng = RandomSource(seed: 1701, stream: 0)
    let count = 2_000_000
    var x = [Double](repeating: 0, count: count)
    for i in 0..<count {
        let scale = [1.0, 100.0, 3e4, VectorSinCos.maxArgument][i % 4]
        x[i] = (rng.uniform() - 0.5) * 2 * scale
    }
    var s = [Double](repeating: 0, count: count), c = [Double](repeating: 0, count: count)
    x.withUnsafeBufferPointer { px in s.withUnsafeMutableBufferPointer { ps in c.withUnsafeMutableBufferPointer { pc in
        VectorSinCos.sinCos(px.baseAddress!, count: count, sin: ps.baseAddress!, cos: pc.baseAddress!)
    } } }
    var maxS = 0.0, maxC = 0.0, maxAbs = 0.0
    for i in 0..<count {
        let rs = Foundation.sin(x[i]), rc = Foundation.cos(x[i])
        maxS = Swift.max(maxS, ulpError(s[i], rs)); maxC = Swift.max(maxC, ulpError(c[i], rc))
        maxAbs = Swift.max(maxAbs, Swift.abs(s[i] - rs), Swift.abs(c[i] - rc))
    }
    #expect(maxS <= 2, "sin max ulp error \(maxS)")
    #expect(maxC <= 2, "cos max ulp error \(maxC)")
    #expect(maxAbs < 2.3e-16, "max absolute error \(maxAbs)")
}

@Test func vectorSinCosExactAtZeroAndSymmetric() {
    var rng = RandomSource(seed: 1702, stream: 0)
    var x: [Double] = [0, -0.0, 1e-300, 5e-324]
    for i in 0..<4092 { x.append((rng.uniform() - 0.5) * 2 * [1e-3, 1.0, 50.0, 1e5][i % 4]) }
    let neg = x.map { -$0 }
    var s = [Double](repeating: 0, count: x.count), c = s, sn = s, cn = s
    VectorSinCos.sinCos(x, count: x.count, sin: &s, cos: &c)
    VectorSinCos.sinCos(neg, count: x.count, sin: &sn, cos: &cn)
    #expect(s[0] == 0 && c[0] == 1 && c[1] == 1 && s[2] == 1e-300 && s[3] == 5e-324)
    for i in x.indices {
        #expect(sn[i] == -s[i] && cn[i] == c[i])
        if sn[i] != -s[i] || cn[i] != c[i] { break }
    }
}

/// Beyond the bound, and for NaN/±∞, the block falls back to libm per lane (bit-identical to libm there);
/// the other lanes of such a block are libm too, and the trailing (< 4) elements are handled.
@Test func vectorSinCosFallsBackToLibm() {
    let x: [Double] = [2e6, 0.5, -3e7, 1.0, .nan, .infinity, -.infinity, 2.0, 1e300, 0.25]
    var s = [Double](repeating: 0, count: x.count), c = s
    VectorSinCos.sinCos(x, count: x.count, sin: &s, cos: &c)
    for i in 0..<8 where !x[i].isNaN && x[i].isFinite {
        #expect(s[i] == Foundation.sin(x[i]) && c[i] == Foundation.cos(x[i]))
    }
    #expect(s[4].isNaN && c[4].isNaN && s[5].isNaN && c[5].isNaN && s[6].isNaN && c[6].isNaN)
    #expect(s[8] == Foundation.sin(1e300) && c[8] == Foundation.cos(1e300))
    #expect(ulpError(s[9], Foundation.sin(0.25)) <= 1 && ulpError(c[9], Foundation.cos(0.25)) <= 1)
}
