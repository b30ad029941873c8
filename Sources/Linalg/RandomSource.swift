import Numerics

/// Seedable, splittable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random draw in ISACKit flows from one of these with an explicit seed, so the same seed
/// gives bit-identical results on every machine. Independent streams come from
/// `init(seed:stream:)` (sample `i` of a dataset uses `stream: i`, which is what lets shards
/// computed on different machines merge to the single-run result) or from `jumped()`, which
/// advances by 2¹²⁸ draws.
public struct RandomSource: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// Cached second Box–Muller variate.
    @usableFromInline var spareGaussian: Double? = nil

    /// Generator for `seed`, stream `stream` (streams of one seed are statistically independent).
    public init(seed: UInt64, stream: UInt64 = 0) {
        var sm = seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1) ^ (stream &* 0xD1B5_4A32_D192_ED03)
        s0 = RandomSource.splitMix(&sm); s1 = RandomSource.splitMix(&sm)
        s2 = RandomSource.splitMix(&sm); s3 = RandomSource.splitMix(&sm)
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    @inlinable static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = RandomSource.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = RandomSource.rotl(s3, 45)
        return result
    }

    /// A copy advanced by 2¹²⁸ draws (non-overlapping sub-stream).
    public func jumped() -> RandomSource {
        let jump: [UInt64] = [0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C, 0xA958_2618_E03F_C9AA, 0x39AB_DC45_29B1_661C]
        var g = self
        var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, d: UInt64 = 0
        for j in jump {
            for bit in 0..<64 {
                if j & (UInt64(1) << UInt64(bit)) != 0 { a ^= g.s0; b ^= g.s1; c ^= g.s2; d ^= g.s3 }
                _ = g.next()
            }
        }
        g.s0 = a; g.s1 = b; g.s2 = c; g.s3 = d; g.spareGaussian = nil
        return g
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lo, hi).
    @inlinable
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }

    /// Uniform integer in the closed range (unbiased, Lemire's method via the stdlib).
    @inlinable
    public mutating func integer(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// Standard normal N(0, 1) (Box–Muller; both variates are used).
    @inlinable
    public mutating func gaussian() -> Double {
        if let g = spareGaussian { spareGaussian = nil; return g }
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * Double.log(u1)).squareRoot()
        let th = 2 * Double.pi * u2
        spareGaussian = r * Double.sin(th)
        return r * Double.cos(th)
    }

    /// N(mean, std²).
    @inlinable
    public mutating func gaussian(mean: Double, std: Double) -> Double { mean + std * gaussian() }

    /// Circularly-symmetric complex Gaussian CN(0, variance): real and imaginary parts N(0, variance/2).
    @inlinable
    public mutating func complexGaussian(variance: Double = 1) -> Complex<Double> {
        let s = (variance / 2).squareRoot()
        let re = gaussian()
        let im = gaussian()
        return Complex(s * re, s * im)
    }

    /// `count` i.i.d. CN(0, variance) draws.
    public mutating func complexGaussianVector(_ count: Int, variance: Double = 1) -> [Complex<Double>] {
        (0..<count).map { _ in complexGaussian(variance: variance) }
    }

    /// `rows × cols` matrix of i.i.d. CN(0, variance) draws.
    public mutating func complexGaussianMatrix(rows: Int, cols: Int, variance: Double = 1) -> Matrix<Complex<Double>> {
        Matrix(rows: rows, cols: cols, data: complexGaussianVector(rows * cols, variance: variance))
    }
}
