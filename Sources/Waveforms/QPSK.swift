import Linalg
import Numerics

/// Gray-coded QPSK with unit average energy, the one QPSK of the package (the multi-target ISAC
/// scenario uses it too).
///
/// Bits (b₀, b₁) ↦ x = ((1 − 2b₀) + j(1 − 2b₁))/√2: b₀ is the sign bit of the real part, b₁ of the
/// imaginary part, so neighbouring constellation points differ in one bit and E|x|² = 1. The symbol
/// index (message) is q = b₀ + 2b₁ ∈ {0, 1, 2, 3} (b₀ the least significant bit):
///
///     q | b₀ b₁ | x
///     0 |  0  0 | (+1 + j)/√2
///     1 |  1  0 | (−1 + j)/√2
///     2 |  0  1 | (+1 − j)/√2
///     3 |  1  1 | (−1 − j)/√2
///
/// (This is the index map the multi-target ISAC code used before the two QPSK types were merged, so
/// its seeded scenes, outputs and checkpoints are unchanged; the bits → symbol map of
/// `modulate(bits:)` was always this one.)
public enum QPSK {
    @usableFromInline static let a = 1 / 2.0.squareRoot()

    /// The four constellation points, indexed by q = b₀ + 2b₁.
    public static let constellation: [CDouble] = (0..<4).map { symbol(index: $0) }

    /// Constellation point of index q ∈ 0...3 (q = b₀ + 2b₁; bits outside the two low ones are ignored).
    @inlinable
    public static func symbol(index q: Int) -> CDouble {
        CDouble(q & 1 == 0 ? a : -a, q & 2 == 0 ? a : -a)
    }

    /// Maps symbol indices (each in 0...3) to unit-energy symbols, shape preserved.
    /// - Throws: `invalidParameter` for an index outside 0...3.
    public static func modulate(indices: [Int]) throws -> [CDouble] {
        try indices.enumerated().map { i, q in
            guard (0...3).contains(q) else {
                throw ISACError.invalidParameter(name: "indices[\(i)]", value: "\(q)", valid: "QPSK symbol index must be in 0...3")
            }
            return symbol(index: q)
        }
    }

    /// Maps a bit sequence (length even, each 0 or 1) to count/2 symbols, pairs (b₀, b₁) in order.
    public static func modulate(bits: [UInt8]) throws -> [CDouble] {
        guard bits.count % 2 == 0 else {
            throw ISACError.invalidParameter(name: "bits.count", value: "\(bits.count)", valid: "must be even (2 bits per QPSK symbol)")
        }
        var out = [CDouble]()
        out.reserveCapacity(bits.count / 2)
        for k in stride(from: 0, to: bits.count, by: 2) {
            guard bits[k] <= 1, bits[k + 1] <= 1 else {
                throw ISACError.invalidParameter(name: "bits[\(k)]", value: "\(bits[k]),\(bits[k + 1])", valid: "bits must be 0 or 1")
            }
            out.append(symbol(index: Int(bits[k]) + 2 * Int(bits[k + 1])))
        }
        return out
    }

    /// ML (minimum-distance) decision for one received sample: argmin_q |y − x_q|².
    ///
    /// For equiprobable QPSK in circular Gaussian noise this is the per-axis sign decision; ties
    /// on an axis (exactly 0) resolve to bit 0.
    @inlinable
    public static func demodulateIndex(_ y: CDouble) -> Int {
        (y.real < 0 ? 1 : 0) | (y.imaginary < 0 ? 2 : 0)
    }

    /// Coherent ML decision for one sample through a known channel κ (eq. 15 of the multi-target
    /// ISAC paper): argmin_q |y − κ x_q|², the quadrant of y·conj(κ) (the gain |κ|² > 0 does not move
    /// the QPSK decision boundaries).
    @inlinable
    public static func demodulateIndex(_ y: CDouble, channel kappa: CDouble) -> Int {
        demodulateIndex(y * kappa.conjugate)
    }

    /// ML symbol indices for a block of samples, shape preserved.
    public static func demodulate(_ y: [CDouble]) -> [Int] { y.map { demodulateIndex($0) } }

    /// ML hard bits (b₀, b₁ per sample), length 2·count.
    public static func demodulateBits(_ y: [CDouble]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(2 * y.count)
        for v in y {
            let q = demodulateIndex(v)
            out.append(UInt8(q & 1)); out.append(UInt8(q >> 1))
        }
        return out
    }

    /// Coherent ML detection with known per-subcarrier channel κ[s]: `demodulateIndex(y[s], channel: κ[s])`.
    ///
    /// - Parameters: y, shape [S]; channel κ, shape [S].
    /// - Returns: indices q[s], shape [S].
    public static func demodulate(_ y: [CDouble], channel kappa: [CDouble]) throws -> [Int] {
        guard y.count == kappa.count else {
            throw ISACError.shapeMismatch("QPSK.demodulate: \(y.count) samples vs \(kappa.count) channel coefficients")
        }
        return zip(y, kappa).map { demodulateIndex($0, channel: $1) }
    }
}
