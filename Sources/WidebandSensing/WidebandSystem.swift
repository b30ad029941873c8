import Foundation
import Linalg
import Arrays
import Numerics

/// Geometry and band of the wideband near-field (WB-NF) ISAC receiver of the paper
/// (uplink OFDM, N-element ULA along the array axis, M subcarriers).
///
/// Conventions (paper Sec. II):
/// - element n ∈ 0..<N sits at δ_n·d on the array axis, δ_n = n − (N−1)/2 (centred array);
/// - a target at range r (m, from the array centre) and angle θ (rad, from the array axis,
///   α = cos θ) is at distance r_n = √(r² + δ_n²d² − 2 r δ_n d cos θ) from element n (eq. 1);
/// - subcarrier m ∈ 0..<M has frequency f_m = f_c + m·Δf, Δf = B/M, wavenumber k_m = 2π f_m / c
///   (the paper's convention, eq. 5: the band is [f_c, f_c + B) rather than centred on f_c);
/// - space-frequency vectors stack subcarriers: entry n + m·N of an NM-vector is (element n, subcarrier m).
public struct WidebandSystem: Sendable, Equatable {
    /// Number of array elements N (≥ 2).
    public var antennas: Int
    /// Carrier frequency f_c, Hz.
    public var carrierHz: Double
    /// Total bandwidth B = M·Δf, Hz.
    public var bandwidthHz: Double
    /// Number of subcarriers M (≥ 1).
    public var subcarriers: Int
    /// Element spacing d, metres (default λ_c/2).
    public var spacingMeters: Double

    /// Validated system. `spacingMeters` defaults to half the carrier wavelength.
    public init(antennas: Int = 127, carrierHz: Double = 28e9, bandwidthHz: Double = 122.88e6,
                subcarriers: Int = 256, spacingMeters: Double? = nil) throws {
        try Check.inRange(antennas, 2, 1_000_000, "--antennas")
        try Check.positive(carrierHz, "--carrier-ghz")
        try Check.positive(bandwidthHz, "--bandwidth-mhz")
        try Check.inRange(subcarriers, 1, 1_000_000, "--subcarriers")
        guard bandwidthHz < carrierHz else {
            throw ISACError.invalidParameter(name: "--bandwidth-mhz", value: "\(bandwidthHz / 1e6)",
                                             valid: "must be below the carrier frequency (\(carrierHz / 1e6) MHz)")
        }
        self.antennas = antennas; self.carrierHz = carrierHz; self.bandwidthHz = bandwidthHz
        self.subcarriers = subcarriers
        let d = spacingMeters ?? speedOfLight / carrierHz / 2
        try Check.positive(d, "spacingMeters")
        self.spacingMeters = d
    }

    /// The paper's default scenario (Sec. V): N = 127, f_c = 28 GHz, B = 122.88 MHz, M = 256, d = λ_c/2.
    public static let paper = try! WidebandSystem()

    /// Carrier wavelength λ_c = c/f_c, m.
    public var wavelengthMeters: Double { speedOfLight / carrierHz }
    /// Aperture D = N·d, m. The paper quotes D = 0.68 m for N = 127 at 28 GHz (= N·d, not (N−1)·d),
    /// which is what makes R = 2D²/λ_c ≈ 86.4 m.
    public var apertureMeters: Double { Double(antennas) * spacingMeters }
    /// Rayleigh distance 2D²/λ_c, m (upper edge of the radiative near field).
    public var rayleighDistanceMeters: Double { 2 * apertureMeters * apertureMeters / wavelengthMeters }
    /// Inner edge of the radiative near field (Fresnel region), 0.62·√(D³/λ_c), m (3.36 m for the paper
    /// array). Together with the Rayleigh distance it bounds the "radiative NF region" of the paper's
    /// random targets (Sec. V-A).
    public var radiativeNearFieldInnerMeters: Double {
        0.62 * (apertureMeters * apertureMeters * apertureMeters / wavelengthMeters).squareRoot()
    }
    /// Subcarrier spacing Δf = B/M, Hz.
    public var subcarrierSpacingHz: Double { bandwidthHz / Double(subcarriers) }
    /// Delay-domain range resolution Δr = c/B, m (first null of the frequency coherence, eq. 17).
    public var rangeResolutionMeters: Double { speedOfLight / bandwidthHz }
    /// Subcarrier frequencies f_m = f_c + m·Δf, Hz, m = 0..<M.
    public var frequenciesHz: [Double] { (0..<subcarriers).map { carrierHz + Double($0) * subcarrierSpacingHz } }
    /// Wavenumbers k_m = 2π f_m / c, rad/m.
    public var wavenumbers: [Double] { frequenciesHz.map { 2 * Double.pi * $0 / speedOfLight } }
    /// Carrier wavenumber k_c, rad/m.
    public var carrierWavenumber: Double { 2 * Double.pi * carrierHz / speedOfLight }
    /// Wavenumber increment Δk = 2πΔf/c, rad/m.
    public var wavenumberStep: Double { 2 * Double.pi * subcarrierSpacingHz / speedOfLight }
    /// Signed element coordinates δ_n·d along the array axis, m, n = 0..<N.
    public var elementOffsetsMeters: [Double] {
        let c = Double(antennas - 1) / 2
        return (0..<antennas).map { (Double($0) - c) * spacingMeters }
    }
    /// NM, the length of a space-frequency snapshot.
    public var snapshotLength: Int { antennas * subcarriers }

    /// Exact element distances r_n (eq. 1), m, shape [N].
    /// - Parameters: rangeMeters r > 0; angleRad θ ∈ [0, π] from the array axis.
    public func elementDistances(rangeMeters r: Double, angleRad th: Double) -> [Double] {
        let c = Double.cos(th)
        return elementOffsetsMeters.map { x in (r * r + x * x - 2 * r * x * c).squareRoot() }
    }

    /// Cartesian position (x along broadside, z along the array axis), m.
    public static func cartesian(rangeMeters r: Double, angleRad th: Double) -> (x: Double, z: Double) {
        (r * Double.sin(th), r * Double.cos(th))
    }
}

/// Field of view of the paper, 60°…120° from the array axis (α = cos θ ∈ [−1/2, 1/2]).
public enum FieldOfView {
    /// Field-of-view limits, degrees from the array axis.
    public static let minDeg = 60.0, maxDeg = 120.0
    /// Throws unless `angleRad` lies in [60°, 120°] (1e-9 rad slack for round-off).
    public static func check(angleRad: Double, name: String = "--angle-deg") throws {
        let deg = angleRad * 180 / Double.pi
        guard deg.isFinite, deg >= minDeg - 1e-7, deg <= maxDeg + 1e-7 else {
            throw ISACError.invalidParameter(name: name, value: String(format: "%.4g", deg),
                                             valid: "angle (degrees from the array axis) must lie in the field of view [60, 120]")
        }
    }
}

/// A point target in polar coordinates around the array centre.
public struct PolarTarget: Sendable, Equatable, Codable {
    /// Range r from the array centre, m.
    public var rangeMeters: Double
    /// Angle θ from the array axis, rad.
    public var angleRad: Double
    /// Target from range (m) and angle from the array axis (rad).
    public init(rangeMeters: Double, angleRad: Double) { self.rangeMeters = rangeMeters; self.angleRad = angleRad }
    /// Angle θ, degrees.
    public var angleDeg: Double { angleRad * 180 / Double.pi }
    /// Cartesian position (x = r sin θ, z = r cos θ), m.
    public var cartesian: (x: Double, z: Double) { WidebandSystem.cartesian(rangeMeters: rangeMeters, angleRad: angleRad) }
}

// MARK: - Steering vectors

extension WidebandSystem {
    /// Fills `out[n + m·N] = scale · exp(−j k_m r_n)` for the given element distances, m = 0..<M.
    ///
    /// Uses the geometric recurrence e^{−j k_{m+1} r} = e^{−j k_m r}·e^{−jΔk r}, re-anchored with an
    /// exact exponential every 32 subcarriers so the phase error stays ~1e-14 (a sincos per entry
    /// would dominate dictionary construction).
    @inlinable
    func fillSpaceFrequency(_ out: UnsafeMutablePointer<CDouble>, distances: [Double], scale: Double) {
        let n = antennas, mCount = subcarriers
        let k0 = carrierWavenumber, dk = wavenumberStep
        for i in 0..<n {
            let r = distances[i]
            let stepPhase = -dk * r
            let step = CDouble(Double.cos(stepPhase), Double.sin(stepPhase))
            var m = 0
            while m < mCount {
                let ph = -(k0 + Double(m) * dk) * r
                var cur = CDouble(scale * Double.cos(ph), scale * Double.sin(ph))
                let end = Swift.min(m + 32, mCount)
                while m < end {
                    out[i + m * n] = cur
                    cur = cur * step
                    m += 1
                }
            }
        }
    }

    /// Exact WB-NF joint space-frequency steering vector a(r, θ) (eqs. 6, 8): entry n + m·N is
    /// exp(−j k_m r_n). Unit-modulus entries (‖a‖² = NM) unless `normalized`, which divides by √(NM).
    /// Shape [N·M].
    public func nearFieldWideband(rangeMeters r: Double, angleRad th: Double, normalized: Bool = false) -> [CDouble] {
        var v = [CDouble](repeating: .zero, count: snapshotLength)
        let s = normalized ? 1 / Double(snapshotLength).squareRoot() : 1
        v.withUnsafeMutableBufferPointer { fillSpaceFrequency($0.baseAddress!, distances: elementDistances(rangeMeters: r, angleRad: th), scale: s) }
        return v
    }

    /// Narrowband near-field steering vector at the carrier (eq. 39): exp(−j k_c r_n), shape [N].
    public func nearFieldNarrowband(rangeMeters r: Double, angleRad th: Double) -> [CDouble] {
        let k = carrierWavenumber
        return elementDistances(rangeMeters: r, angleRad: th).map { CDouble(Double.cos(-k * $0), Double.sin(-k * $0)) }
    }

    /// Wideband far-field (planar) steering vector (eqs. 51–52): entry n + m·N is
    /// exp(−j k_m (r − δ_n d cos θ)). Unit-modulus entries, shape [N·M].
    public func farFieldWideband(rangeMeters r: Double, angleRad th: Double) -> [CDouble] {
        let c = Double.cos(th)
        var v = [CDouble](repeating: .zero, count: snapshotLength)
        v.withUnsafeMutableBufferPointer { fillSpaceFrequency($0.baseAddress!, distances: elementOffsetsMeters.map { r - $0 * c }, scale: 1) }
        return v
    }
}

// MARK: - Received signal

/// One simulated coherent processing interval.
public struct WidebandObservation: Sendable {
    /// Y, [N·M × K] (eq. 9): Σ_p β_p a(r_p, θ_p) s_pᵀ + W.
    public var data: Matrix<CDouble>
    /// Noise variance σ² per complex entry.
    public var noiseVariance: Double
    /// Path gains β_p (unit modulus, random phase).
    public var gains: [CDouble]
}

extension WidebandSystem {
    /// Simulates K OFDM pilot symbols from P targets (eq. 9) with the exact spherical model.
    ///
    /// SNR convention: every target contributes unit power per antenna and subcarrier
    /// (|β_p| = 1, unit-modulus QPSK pilots s_{k,p}); the noise is CN(0, σ²) with σ² = 10^{−SNR/10}.
    /// β_p phases and pilots are uniform random — the pilots differ per target so the K snapshots
    /// decorrelate the sources (a rank-P signal subspace for MUSIC).
    /// - Parameters: targets (1 ≤ P < N, ranges > 0, angles in the 60°–120° field of view); snapshots K ≥ 1; snrDb finite; rng.
    /// - Returns: observation with data [N·M × K].
    public func simulate(targets: [PolarTarget], snapshots: Int, snrDb: Double,
                         rng: inout RandomSource) throws -> WidebandObservation {
        try Check.positive(targets.count, "--targets")
        guard targets.count < antennas else {
            throw ISACError.invalidParameter(name: "--targets", value: "\(targets.count)",
                                             valid: "must be fewer than the number of antennas (\(antennas))")
        }
        try Check.positive(snapshots, "--snapshots")
        try Check.finite(snrDb, "--snr-db")
        for t in targets {
            try Check.positive(t.rangeMeters, "target range (m)")
            // The dictionaries and scans cover the field of view only; a target outside it is a setup error.
            try FieldOfView.check(angleRad: t.angleRad, name: "target angle (deg)")
        }
        let l = snapshotLength, k = snapshots
        let sigma2 = Foundation.pow(10, -snrDb / 10)
        var y = rng.complexGaussianMatrix(rows: l, cols: k, variance: sigma2)
        var gains: [CDouble] = []
        let q = 1 / 2.0.squareRoot()
        for t in targets {
            let ph = rng.uniform(0, 2 * Double.pi)
            let beta = CDouble(Double.cos(ph), Double.sin(ph))
            gains.append(beta)
            let pilots: [CDouble] = (0..<k).map { _ in
                CDouble(rng.uniform() < 0.5 ? -q : q, rng.uniform() < 0.5 ? -q : q)
            }
            let a = nearFieldWideband(rangeMeters: t.rangeMeters, angleRad: t.angleRad)
            y.data.withUnsafeMutableBufferPointer { py in
                for kk in 0..<k {
                    let c = beta * pilots[kk]
                    let base = kk * l
                    for i in 0..<l { py[base + i] += c * a[i] }
                }
            }
        }
        return WidebandObservation(data: y, noiseVariance: sigma2, gains: gains)
    }
}
