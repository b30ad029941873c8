import Linalg
import Numerics

/// Speed of light in vacuum, m/s.
public let speedOfLight: Double = 299_792_458.0

/// A 3-vector in metres.
public typealias Point3 = SIMD3<Double>

/// Cartesian axis along which a uniform linear array is laid out.
public enum Axis: String, Sendable, CaseIterable {
    case x, y, z
    /// Unit vector along the axis.
    public var unit: Point3 {
        switch self {
        case .x: return Point3(1, 0, 0)
        case .y: return Point3(0, 1, 0)
        case .z: return Point3(0, 0, 1)
        }
    }
}

/// Element positions of an antenna array, in metres.
///
/// Everything downstream (steering vectors, channels, scattering) works from positions, so a
/// perturbed array (spacing errors) or an arbitrary layout is just another `ArrayGeometry`.
public struct ArrayGeometry: Sendable, Equatable {
    /// Element positions p_n (metres), n = 0..<count.
    public var positions: [Point3]
    /// Number of elements N.
    public var count: Int { positions.count }

    /// An array with the given element positions (metres), in element order.
    public init(positions: [Point3]) { self.positions = positions }

    /// Centred uniform linear array: p_n = (n − (N−1)/2)·d·ê_axis, n = 0..<N.
    ///
    /// - Parameters: count N ≥ 1; spacingMeters d > 0.
    public static func ula(count: Int, spacingMeters: Double, axis: Axis = .x) throws -> ArrayGeometry {
        try Check.positive(count, "count (number of antennas)")
        try Check.positive(spacingMeters, "spacingMeters")
        let c = Double(count - 1) / 2
        return ArrayGeometry(positions: (0..<count).map { (Double($0) - c) * spacingMeters * axis.unit })
    }

    /// ULA whose consecutive spacings are given (length N−1), centred at the origin.
    /// Used for antenna-position impairments, where the spacings are d_k ≠ λ/2.
    public static func ula(spacingsMeters: [Double], axis: Axis = .x) throws -> ArrayGeometry {
        for (i, d) in spacingsMeters.enumerated() { try Check.finite(d, "spacingsMeters[\(i)]") }
        var s = [0.0]
        for d in spacingsMeters { s.append(s.last! + d) }
        let mean = s.reduce(0, +) / Double(s.count)
        return ArrayGeometry(positions: s.map { ($0 - mean) * axis.unit })
    }

    /// Cross-shaped MIMO array: a Tx ULA along `txAxis` and an Rx ULA along `rxAxis`, both centred at the origin.
    public static func cross(txCount: Int, rxCount: Int, spacingMeters: Double,
                             txAxis: Axis = .y, rxAxis: Axis = .z) throws -> (tx: ArrayGeometry, rx: ArrayGeometry) {
        (try ula(count: txCount, spacingMeters: spacingMeters, axis: txAxis),
         try ula(count: rxCount, spacingMeters: spacingMeters, axis: rxAxis))
    }

    /// Largest distance between two elements (the aperture D), metres.
    public var apertureMeters: Double {
        var best = 0.0
        for i in positions.indices { for j in positions.indices where j > i {
            let d = positions[i] - positions[j]
            best = Swift.max(best, (d * d).sum().squareRoot())
        } }
        return best
    }
}

extension ArrayGeometry {
    /// Rayleigh (Fraunhofer) distance 2D²/λ, metres.
    public func rayleighDistanceMeters(wavelengthMeters: Double) -> Double {
        2 * apertureMeters * apertureMeters / wavelengthMeters
    }

    /// Random spacing impairments: each of the N−1 spacings is drawn i.i.d. N(d, σ²).
    ///
    /// - Returns: the perturbed (true) geometry, centred, along `axis`.
    public static func perturbedULA(count: Int, nominalSpacingMeters d: Double, spacingStdMeters sigma: Double,
                                    axis: Axis = .x, rng: inout RandomSource) throws -> ArrayGeometry {
        try Check.positive(count, "count (number of antennas)")
        try Check.positive(d, "nominalSpacingMeters")
        guard sigma.isFinite, sigma >= 0 else {
            throw ISACError.invalidParameter(name: "spacingStdMeters", value: "\(sigma)", valid: "must be finite and >= 0")
        }
        let sp = (0..<Swift.max(count - 1, 0)).map { _ in rng.gaussian(mean: d, std: sigma) }
        return try ula(spacingsMeters: sp, axis: axis)
    }
}
