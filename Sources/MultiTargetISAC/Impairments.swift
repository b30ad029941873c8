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

/// Far-field steering for a linear array along x with angles from broadside (paper convention).
public enum ULASteering {
    /// a(θ) with [a]_k = exp(−j 2π x_k sin θ / λ), shape [K]. Uses `Steering.farField` with the
    /// direction û = (−sin θ, cos θ, 0), which yields exactly that phase for positions on the x axis.
    public static func vector(_ g: ArrayGeometry, angleRad th: Double, wavelengthMeters lam: Double) -> [CDouble] {
        Steering.farField(g, direction: Point3(-Double.sin(th), Double.cos(th), 0), wavenumber: 2 * .pi / lam)
    }

    /// Steering matrix [a(θ_1) … a(θ_N)], shape [K × N] (one atom per column).
    public static func matrix(_ g: ArrayGeometry, anglesRad: [Double], wavelengthMeters lam: Double) -> Matrix<CDouble> {
        var m = Matrix<CDouble>(rows: g.count, cols: anglesRad.count)
        for (j, th) in anglesRad.enumerated() {
            let s = -2 * Double.pi * Double.sin(th) / lam
            for (k, p) in g.positions.enumerated() {
                let ph = s * p.x
                m.data[k + j * g.count] = CDouble(Double.cos(ph), Double.sin(ph))
            }
        }
        return m
    }

    /// Frequency-domain delay vector ρ(τ) with [ρ]_s = exp(−j 2π s Δ_f τ), s = 0..<S, shape [S].
    public static func delayVector(delaySeconds tau: Double, subcarriers: Int, spacingHz: Double) -> [CDouble] {
        (0..<subcarriers).map { s in
            let ph = -2 * Double.pi * Double(s) * spacingHz * tau
            return CDouble(Double.cos(ph), Double.sin(ph))
        }
    }

    /// Delay dictionary Φ_d = [ρ(τ_1) … ρ(τ_N)], shape [S × N].
    public static func delayMatrix(delaysSeconds: [Double], subcarriers: Int, spacingHz: Double) -> Matrix<CDouble> {
        Matrix(columns: delaysSeconds.map { delayVector(delaySeconds: $0, subcarriers: subcarriers, spacingHz: spacingHz) })
    }

    /// N uniformly spaced points covering [lo, hi] inclusive (N ≥ 2).
    public static func uniformGrid(_ lo: Double, _ hi: Double, count n: Int) -> [Double] {
        (0..<n).map { lo + (hi - lo) * Double($0) / Double(n - 1) }
    }
}
