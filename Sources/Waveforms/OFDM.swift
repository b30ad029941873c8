import Linalg
import Numerics

/// How subcarrier indices m = 0..<M map to frequencies around the carrier f_c.
public enum SubcarrierConvention: String, Sendable, CaseIterable {
    /// f_m = f_c + (m − (M−1)/2)·Δf: the band is centred on f_c (symmetric for any M).
    case centered
    /// f_m = f_c + m·Δf, m = 0..<M: f_c is the lowest subcarrier (wideband near-field paper, §II-A).
    case offsetFromCarrier
}

/// An OFDM frequency grid: M subcarriers spaced Δf around a carrier f_c.
///
/// Bandwidth B = M·Δf (the occupied band, the convention of the wideband paper, B = MΔf); the
/// useful symbol duration is T = 1/Δf and the Nyquist sampling interval 1/B.
public struct OFDMGrid: Sendable, Equatable {
    /// Carrier frequency f_c, Hz (> 0).
    public let carrierHz: Double
    /// Subcarrier spacing Δf, Hz (> 0).
    public let subcarrierSpacingHz: Double
    /// Number of subcarriers M (≥ 1).
    public let count: Int
    public let convention: SubcarrierConvention

    /// - Throws: `ISACError.invalidParameter` for carrierHz ≤ 0, subcarrierSpacingHz ≤ 0, count < 1, or
    ///   a grid whose lowest subcarrier would be at f ≤ 0.
    public init(carrierHz: Double, subcarrierSpacingHz: Double, count: Int,
                convention: SubcarrierConvention = .centered) throws {
        try Check.positive(carrierHz, "carrierHz")
        try Check.positive(subcarrierSpacingHz, "subcarrierSpacingHz")
        try Check.positive(count, "count (number of subcarriers)")
        self.carrierHz = carrierHz
        self.subcarrierSpacingHz = subcarrierSpacingHz
        self.count = count
        self.convention = convention
        if frequencyHz(0) <= 0 {
            throw ISACError.invalidParameter(
                name: "subcarrierSpacingHz", value: "\(subcarrierSpacingHz)",
                valid: "the lowest subcarrier f_c − (M−1)Δf/2 must stay > 0 Hz (carrier \(carrierHz) Hz, M = \(count))")
        }
    }

    /// Occupied bandwidth B = M·Δf, Hz.
    public var bandwidthHz: Double { Double(count) * subcarrierSpacingHz }
    /// Useful OFDM symbol duration T = 1/Δf, seconds.
    public var symbolDurationSeconds: Double { 1 / subcarrierSpacingHz }
    /// Fractional bandwidth B/f_c (wideband effects such as beam squint grow with it).
    public var fractionalBandwidth: Double { bandwidthHz / carrierHz }

    /// Frequency of subcarrier m (0-based), Hz.
    @inlinable
    public func frequencyHz(_ m: Int) -> Double {
        switch convention {
        case .centered: return carrierHz + (Double(m) - Double(count - 1) / 2) * subcarrierSpacingHz
        case .offsetFromCarrier: return carrierHz + Double(m) * subcarrierSpacingHz
        }
    }

    /// All subcarrier frequencies f_0 … f_{M−1}, Hz, shape [M].
    public var frequenciesHz: [Double] { (0..<count).map(frequencyHz) }

    /// Wavelength λ_m = c/f_m of subcarrier m, metres (c = 299 792 458 m/s).
    public func wavelengthMeters(_ m: Int) -> Double { 299_792_458.0 / frequencyHz(m) }
}

/// Per-subcarrier reciprocal filtering: divides the received samples by the known transmitted
/// symbol, y[s]/x[s], which removes the data modulation and leaves channel + noise/x[s].
///
/// - Parameters: received y, shape [S]; transmitted x, shape [S], all |x[s]| > 0.
/// - Returns: shape [S].
/// - Throws: shape mismatch, or `invalidParameter` when a transmitted symbol is zero (not invertible).
public func reciprocalFilter(received y: [CDouble], transmitted x: [CDouble]) throws -> [CDouble] {
    guard y.count == x.count else {
        throw ISACError.shapeMismatch("reciprocalFilter: received has \(y.count) subcarriers, transmitted \(x.count)")
    }
    var out = [CDouble](repeating: .zero, count: y.count)
    for s in y.indices {
        guard x[s].lengthSquared > 0, x[s].isFinite else {
            throw ISACError.invalidParameter(name: "transmitted[\(s)]", value: "\(x[s])",
                                             valid: "reciprocal filtering needs nonzero finite symbols")
        }
        out[s] = y[s] / x[s]
    }
    return out
}

/// Reciprocal filtering of a multi-antenna observation: column s of the [N × S] matrix `y`
/// (antennas × subcarriers) is divided by x[s].
///
/// - Returns: [N × S].
public func reciprocalFilter(received y: Matrix<CDouble>, transmitted x: [CDouble]) throws -> Matrix<CDouble> {
    guard y.cols == x.count else {
        throw ISACError.shapeMismatch("reciprocalFilter: received has \(y.cols) subcarrier columns, transmitted \(x.count)")
    }
    var out = y
    for s in 0..<y.cols {
        guard x[s].lengthSquared > 0, x[s].isFinite else {
            throw ISACError.invalidParameter(name: "transmitted[\(s)]", value: "\(x[s])",
                                             valid: "reciprocal filtering needs nonzero finite symbols")
        }
        let inv = Complex<Double>(1, 0) / x[s]
        for n in 0..<y.rows { out.data[n + s * y.rows] = y.data[n + s * y.rows] * inv }
    }
    return out
}
