internal import CLinalg
import Numerics

/// LU factorization with partial pivoting of a complex n × n band matrix with `lower` sub- and `upper`
/// super-diagonals (LAPACK `zgbtrf`), then solves A x = b by `zgbtrs`.
///
/// Storage is LAPACK's band layout, column-major with leading dimension ldab = 2 kl + ku + 1: entry A[i, j]
/// (|i − j| inside the band) lives at ab[(kl + ku + i − j) + j·ldab]; the extra kl rows hold the fill-in of the
/// row interchanges. Memory 16 · n · ldab bytes; factorization ≈ 8 n kl (kl + ku) flops, each solve ≈ 8 n (2 kl + ku).
///
/// Why a band solver: the near-field part of a volume integral operator on a voxel lattice couples each voxel only
/// to its lattice neighbours, so after ordering the voxels slab by slab along the target's longest axis the matrix is
/// banded with a bandwidth set by one slab's voxel count, not by n (`VIENearBandPreconditioner`).
public struct BandedLU: Sendable {
    /// Dimension n.
    public let dimension: Int
    /// Number of sub-diagonals kl and super-diagonals ku.
    public let lower: Int, upper: Int
    /// Factored band storage (ldab × n, column-major) and the pivot indices of `zgbtrf`.
    let ab: [CDouble]
    let pivots: [Int32]
    /// ‖A‖₁ (largest column sum of |a_ij|) of the matrix before factoring, for `reciprocalCondition`.
    public let oneNorm: Double

    /// Leading dimension 2 kl + ku + 1 of the band storage.
    public var leadingDimension: Int { 2 * lower + upper + 1 }

    /// Bytes of the band storage for an n × n matrix with kl, ku diagonals; nil on overflow.
    public static func memoryBytes(dimension n: Int, lower kl: Int, upper ku: Int) -> Int? {
        Check.bytes(n, 2 * kl + ku + 1, 16)
    }

    /// Factors the band matrix whose entries inside the band are given by `entries(fill)`: the closure receives a
    /// setter `fill(i, j, value)` (0-based, |i − j| within the band; entries not set are zero; a value set twice is
    /// added). Throws for an empty matrix, a band wider than the matrix allows, an entry outside the band, a
    /// non-finite entry, and an exactly singular U (`zgbtrf` info > 0).
    public init(dimension n: Int, lower kl: Int, upper ku: Int,
                entries: (_ fill: (_ i: Int, _ j: Int, _ value: CDouble) -> Void) -> Void) throws {
        try Check.inRange(n, 1, Int(Int32.max), "dimension")
        try Check.inRange(kl, 0, n - 1, "lower")
        try Check.inRange(ku, 0, n - 1, "upper")
        guard let bytes = BandedLU.memoryBytes(dimension: n, lower: kl, upper: ku), bytes / 16 <= Int(Int32.max) else {
            throw ISACError.invalidParameter(name: "bandwidth", value: "\(kl) + \(ku) for n = \(n)",
                                             valid: "band storage (2 kl + ku + 1) · n must stay below 2^31 entries")
        }
        let ld = 2 * kl + ku + 1
        var store = [CDouble](repeating: .zero, count: n * ld)
        var outside: (Int, Int)? = nil, nonFinite: (Int, Int)? = nil
        entries { i, j, v in
            guard i >= 0, j >= 0, i < n, j < n, i - j <= kl, j - i <= ku else { if outside == nil { outside = (i, j) }; return }
            if !(v.real.isFinite && v.imaginary.isFinite) { if nonFinite == nil { nonFinite = (i, j) } }
            store[(kl + ku + i - j) + j * ld] += v
        }
        if let (i, j) = outside {
            throw ISACError.invalidParameter(name: "entry", value: "(\(i), \(j))", valid: "0 ≤ i, j < \(n) with −\(ku) ≤ i − j ≤ \(kl)")
        }
        if let (i, j) = nonFinite {
            throw ISACError.invalidParameter(name: "entry", value: "(\(i), \(j)) not finite", valid: "finite complex entries")
        }
        // ‖A‖₁ before the factorization overwrites the band: column j's entries are rows kl … 2 kl + ku of it.
        var norm1 = 0.0
        for j in 0..<n {
            var col = 0.0
            for r in kl..<ld { col += store[r + j * ld].length }
            norm1 = max(norm1, col)
        }
        var ipiv = [Int32](repeating: 0, count: n)
        let info = store.withUnsafeMutableBufferPointer { p in
            LAPACKE_zgbtrf_work(lapackColMajor, Int32(n), Int32(n), Int32(kl), Int32(ku), lz(p.baseAddress!), Int32(ld), &ipiv)
        }
        guard info == 0 else { throw ISACError.lapack(routine: "gbtrf (singular band matrix?)", info: Int(info)) }
        dimension = n; lower = kl; upper = ku; ab = store; pivots = ipiv; oneNorm = norm1
    }

    /// LAPACK's estimate (`zgbcon`, 1-norm) of 1/κ₁(A) = 1 / (‖A‖₁ ‖A⁻¹‖₁), from the factors: ≈ 2 solves' work.
    /// Near 0 when A is close to singular, which is what a preconditioner built from A must not be.
    public func reciprocalCondition() -> Double {
        var rcond = 0.0
        var work = [CDouble](repeating: .zero, count: 2 * dimension)
        var rwork = [Double](repeating: 0, count: dimension)
        let info = ab.withUnsafeBufferPointer { pa in
            pivots.withUnsafeBufferPointer { pp in
                work.withUnsafeMutableBufferPointer { pw in
                    LAPACKE_zgbcon_work(lapackColMajor, CChar(UInt8(ascii: "1")), Int32(dimension), Int32(lower), Int32(upper),
                                        OpaquePointer(pa.baseAddress!), Int32(leadingDimension), pp.baseAddress!, oneNorm,
                                        &rcond, lz(pw.baseAddress!), &rwork)
                }
            }
        }
        return info == 0 ? rcond : .nan
    }

    /// x = A⁻¹ b (length n).
    public func solve(_ b: [CDouble]) -> [CDouble] {
        precondition(b.count == dimension, "BandedLU.solve: right-hand side of length \(b.count), expected \(dimension)")
        var x = b
        // The `_work` entry points: the plain LAPACKE ones scan the whole band for NaN on every call (a third of a
        // VIE solve's time in perf); the entries were checked finite once, at construction.
        ab.withUnsafeBufferPointer { pa in
            pivots.withUnsafeBufferPointer { pp in
                x.withUnsafeMutableBufferPointer { px in
                    _ = LAPACKE_zgbtrs_work(lapackColMajor, CChar(UInt8(ascii: "N")), Int32(dimension), Int32(lower), Int32(upper), 1,
                                       OpaquePointer(pa.baseAddress!), Int32(leadingDimension), pp.baseAddress!,
                                       lz(px.baseAddress!), Int32(dimension))
                }
            }
        }
        return x
    }
}
