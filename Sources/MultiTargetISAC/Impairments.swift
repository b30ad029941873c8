import Foundation
import Linalg
import Arrays
import Numerics
import ISACIO

/// Antenna-spacing impairments of the ISAC ULA (paper Sec. II-D, Example 1) and the steering
/// matrices built from them.
///
/// The paper's impaired steering vector is [a_pert(θ; d)]_k = exp(−j2π (k − (K−1)/2) d_k sin θ / λ),
/// i.e. element k sits at x_k = (k − (K−1)/2)·d_k along the array axis. We keep the impairment in
/// the *positions* (an `ArrayGeometry`), so a learned d (issue 6) only changes positions and every
/// steering matrix follows. With d_k = λ/2 this is the nominal a(θ).
public struct ArrayImpairment: Sendable, Equatable {
    /// How the spacing parameters d map to element positions.
    public enum SpacingModel: String, Sendable, CaseIterable {
        /// x_k = (k − (K−1)/2)·d_k: the literal formula of the paper's Example 1. With σ = λ/25 the edge
        /// elements move by ~1.3λ and neighbours cross, which makes even the genie (known-d) LS beamformer
        /// ill-conditioned; kept as an option.
        case perElement = "per-element"
        /// Consecutive spacings x_{k+1} − x_k = d_k (k < K−1), centred (`ArrayGeometry.ula(spacingsMeters:)`):
        /// "elements spaced as d ~ N(λ/2, σ²)" (paper Sec. V-A). Default.
        case cumulative
    }
    /// d ∈ ℝ^K, per-element spacing parameters, metres (the cumulative model uses the first K−1).
    public var spacingsMeters: [Double]
    /// Interpretation of d.
    public var model: SpacingModel = .cumulative
    /// λ, metres.
    public var wavelengthMeters: Double
    /// Explicit element positions x_k, metres (a measured array, `--array-positions`); when set they define
    /// `geometry` exactly and `spacingsMeters` holds their differences (last entry λ/2, unused by `cumulative`).
    public var explicitPositionsMeters: [Double]? = nil

    /// An array given by its element positions (metres, increasing); spacings = consecutive differences.
    public static func positions(_ x: [Double], wavelengthMeters: Double) -> ArrayImpairment {
        var a = ArrayImpairment(spacingsMeters: zip(x, x.dropFirst()).map { $1 - $0 } + [wavelengthMeters / 2],
                                wavelengthMeters: wavelengthMeters, model: .cumulative)
        a.explicitPositionsMeters = x
        return a
    }

    /// Nominal ULA: d_k = λ/2 for all k.
    public static func nominal(antennas: Int, wavelengthMeters: Double) -> ArrayImpairment {
        ArrayImpairment(spacingsMeters: [Double](repeating: wavelengthMeters / 2, count: antennas), wavelengthMeters: wavelengthMeters)
    }

    /// Random draw d_k ~ N(λ/2, σ²) i.i.d. (paper Sec. V-A, σ = λ/25); one draw = one hardware realization.
    public static func random(antennas: Int, wavelengthMeters: Double, stdMeters: Double, model: SpacingModel = .cumulative,
                              rng: inout RandomSource) -> ArrayImpairment {
        ArrayImpairment(spacingsMeters: (0..<antennas).map { _ in rng.gaussian(mean: wavelengthMeters / 2, std: stdMeters) },
                        wavelengthMeters: wavelengthMeters, model: model)
    }

    /// Impairment from element spacings (m), carrier wavelength λ (m) and the spacing model.
    public init(spacingsMeters: [Double], wavelengthMeters: Double, model: SpacingModel = .cumulative) {
        self.spacingsMeters = spacingsMeters; self.wavelengthMeters = wavelengthMeters; self.model = model
    }

    /// Element positions along the x axis (metres), per `model`.
    public var geometry: ArrayGeometry {
        if let x = explicitPositionsMeters { return ArrayGeometry(positions: x.map { Point3($0, 0, 0) }) }
        if model == .cumulative, spacingsMeters.count >= 1,
           let g = try? ArrayGeometry.ula(spacingsMeters: Array(spacingsMeters.dropLast()), axis: .x) { return g }
        let c = Double(spacingsMeters.count - 1) / 2
        return ArrayGeometry(positions: spacingsMeters.enumerated().map { Point3((Double($0.offset) - c) * $0.element, 0, 0) })
    }
}

extension ArrayImpairment {
    /// Reads measured element positions (`--array-positions`): a .npy file of exactly K finite real numbers
    /// (`<f4` or `<f8`, metres, any shape with K elements, e.g. [K] or the official code's [K, 1]).
    /// Ordering is checked by `MultiTargetConfig.validate` (strictly increasing).
    /// - Throws: `ISACError.invalidParameter(name: "--array-positions", …)` for an unreadable file, another dtype,
    ///   the wrong element count or NaN/∞ entries.
    public static func readPositions(npyPath path: String, antennas: Int) throws -> [Double] {
        let a: NPYArray
        do { a = try NPY.read(from: path) } catch {
            throw ISACError.invalidParameter(name: "--array-positions", value: path, valid: "must be a readable .npy file (\(error))")
        }
        switch a.data {
        case .float32, .float64: break
        default:
            throw ISACError.invalidParameter(name: "--array-positions", value: "dtype \(a.data.descr)", valid: "must be a real float array (<f4 or <f8), metres")
        }
        let x = try a.doubles()
        guard x.count == antennas else {
            throw ISACError.invalidParameter(name: "--array-positions", value: "\(x.count) elements (shape \(a.shape))",
                                             valid: "must hold K = --antennas = \(antennas) positions")
        }
        guard x.allSatisfy(\.isFinite) else {
            throw ISACError.invalidParameter(name: "--array-positions", value: "NaN or infinite entries", valid: "all positions must be finite (metres)")
        }
        return x
    }
}
