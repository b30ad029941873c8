import Arrays
import Linalg
import Numerics

/// Multi-frequency MIMO channel observation H_s = [H_{k1}, …, H_{kKs}] ∈ C^{Nr×Nt×Ks} (paper eq. 15).
///
/// Stored as one column-major `Matrix<CDouble>` of shape [Nr × Nt] per selected subcarrier, so each
/// tone is ready for BLAS (matched filtering is a gemm per tone). `frequenciesHz[m]` is the absolute
/// frequency f_{k_m} of tone m (Hz), strictly increasing.
public struct MultiToneChannel: Sendable, Equatable {
    /// H_{k_m}, m = 0..<Ks, each [Nr × Nt].
    public var tones: [Matrix<CDouble>]
    /// f_{k_m} in Hz, length Ks.
    public var frequenciesHz: [Double]

    /// Nr, the number of receive antennas (rows of each tone); 0 when there are no tones.
    public var receiveCount: Int { tones.first?.rows ?? 0 }
    /// Nt, the number of transmit antennas (columns of each tone); 0 when there are no tones.
    public var transmitCount: Int { tones.first?.cols ?? 0 }
    /// Ks, the number of selected subcarriers (tones).
    public var toneCount: Int { tones.count }

    /// Validates shapes (every tone [Nr × Nt], one frequency per tone, increasing), finiteness and
    /// positive frequencies. `name` is used in the error (e.g. the sample id or the CLI flag).
    public init(tones: [Matrix<CDouble>], frequenciesHz: [Double], name: String = "channel") throws {
        guard let first = tones.first else {
            throw ISACError.invalidParameter(name: name, value: "0 tones", valid: "needs at least one subcarrier")
        }
        guard tones.count == frequenciesHz.count else {
            throw ISACError.shapeMismatch("\(name): \(tones.count) tones but \(frequenciesHz.count) frequencies")
        }
        for (m, h) in tones.enumerated() {
            guard h.rows == first.rows, h.cols == first.cols else {
                throw ISACError.shapeMismatch("\(name): tone \(m) is \(h.rows)x\(h.cols), tone 0 is \(first.rows)x\(first.cols)")
            }
            guard h.isFinite else { throw ISACError.nonFinite(name: "\(name) (tone \(m))") }
        }
        for (m, f) in frequenciesHz.enumerated() {
            try Check.positive(f, "\(name).frequenciesHz[\(m)]")
            if m > 0, f <= frequenciesHz[m - 1] {
                throw ISACError.invalidParameter(name: "\(name).frequenciesHz", value: "\(frequenciesHz)",
                                                 valid: "must be strictly increasing")
            }
        }
        self.tones = tones
        self.frequenciesHz = frequenciesHz
    }

    /// Builds from a C-order (row-major) buffer of shape [Nr, Nt, K] (the `.npy` layout of a dataset shard):
    /// element (r, t, k) at index (r·Nt + t)·K + k.
    public init(cOrder data: [CDouble], receiveCount nr: Int, transmitCount nt: Int,
                frequenciesHz: [Double], name: String = "channel") throws {
        let k = frequenciesHz.count
        guard nr > 0, nt > 0, k > 0, data.count == nr * nt * k else {
            throw ISACError.shapeMismatch("\(name): \(data.count) values for shape [\(nr), \(nt), \(k)]")
        }
        var tones = [Matrix<CDouble>](repeating: Matrix(rows: nr, cols: nt), count: k)
        for r in 0..<nr { for t in 0..<nt { for m in 0..<k {
            tones[m][r, t] = data[(r * nt + t) * k + m]
        } } }
        try self.init(tones: tones, frequenciesHz: frequenciesHz, name: name)
    }

    /// The tensor restricted to the tones at `indices` (0-based, increasing): the K_s-tone selection of eq. (15).
    /// Throws when an index is outside 0..<toneCount (e.g. `--ks` larger than the available tones).
    public func selecting(tones indices: [Int], name: String = "--ks") throws -> MultiToneChannel {
        for i in indices where i < 0 || i >= toneCount {
            throw ISACError.invalidParameter(name: name, value: "\(indices.count) tones (index \(i))",
                                             valid: "must select tones in 0..<\(toneCount) (the dataset has \(toneCount) subcarriers)")
        }
        return try MultiToneChannel(tones: indices.map { tones[$0] }, frequenciesHz: indices.map { frequenciesHz[$0] })
    }

    /// Root-mean-square magnitude RMS(H) = sqrt(mean |h|²) over all entries (used by the noise perturbation).
    public var rms: Double {
        var s = 0.0, n = 0
        for h in tones { for x in h.data { s += x.absSquared }; n += h.data.count }
        return n > 0 ? (s / Double(n)).squareRoot() : 0
    }
}

/// Which K_s of the K available tones are used for sensing. The paper only requires k_1 < … < k_{Ks};
/// we spread them uniformly over the band (`floor(m·K/Ks)`), which keeps the full-band aperture in
/// frequency (and hence the delay resolution) for every K_s. Throws when Ks ∉ [1, K].
public func selectedToneIndices(ks: Int, available k: Int) throws -> [Int] {
    guard k >= 1 else { throw ISACError.invalidParameter(name: "tones", value: "\(k)", valid: "dataset has no subcarriers") }
    try Check.inRange(ks, 1, k, "--ks (selected sensing subcarriers; dataset has \(k))")
    return (0..<ks).map { $0 * k / ks }
}

/// Scene geometry shared by the classical references and the synthetic point-target channel:
/// cross-shaped array (Tx ULA along y, Rx ULA along z, spacing λc/2, centred at the origin) and a
/// sensing plane z = `planeZMeters` in which range r = ‖(x, y)‖ and azimuth θ = atan2(y, x) are defined (eq. 22).
public struct CrossArrayScene: Sendable {
    /// Transmit array (Nt antennas).
    public var tx: ArrayGeometry
    /// Receive array (Nr antennas).
    public var rx: ArrayGeometry
    /// Carrier frequency fc in Hz.
    public var carrierHz: Double
    /// Height z (m) of the sensing plane.
    public var planeZMeters: Double

    /// - Parameters: nt, nr ≥ 1 antennas; carrierHz > 0 sets λc = c/fc and the spacing λc/2.
    public init(transmitCount nt: Int = 64, receiveCount nr: Int = 64, carrierHz: Double = 4.9e9,
                planeZMeters: Double = 0) throws {
        try Check.positive(carrierHz, "carrierHz")
        try Check.finite(planeZMeters, "planeZMeters")
        let g = try ArrayGeometry.cross(txCount: nt, rxCount: nr, spacingMeters: speedOfLight / carrierHz / 2,
                                        txAxis: .y, rxAxis: .z)
        tx = g.tx; rx = g.rx
        self.carrierHz = carrierHz
        self.planeZMeters = planeZMeters
    }

    /// The 3-D point (r cos θ, r sin θ, z₀) of a (range, azimuth) pair in the sensing plane.
    public func point(rangeMeters r: Double, azimuthRad th: Double) -> Point3 {
        Point3(r * Double.cos(th), r * Double.sin(th), planeZMeters)
    }
}

/// Exact near-field monostatic channel of ideal point scatterers (the reference model that the classical
/// estimators assume):
///
///   [H_k]_{r,t} = Σ_p α_p · e^{−j κ_k (‖q_p − p_r‖ + ‖q_p − p_t‖)} / (‖q_p − p_r‖ ‖q_p − p_t‖),  κ_k = 2π f_k / c,
///
/// i.e. the product of scalar free-space Green's functions (constant 1/(4π)² absorbed into α_p).
/// - Parameters: `scatterers` as (point in metres, complex amplitude); `frequenciesHz` the K tones.
/// - Returns: a [Nr × Nt × K] tensor.
public func pointTargetChannel(scene: CrossArrayScene, scatterers: [(point: Point3, amplitude: CDouble)],
                               frequenciesHz: [Double]) throws -> MultiToneChannel {
    let nr = scene.rx.count, nt = scene.tx.count
    var tones: [Matrix<CDouble>] = []
    for f in frequenciesHz {
        let kappa = Steering.wavenumber(frequencyHz: f)
        var h = Matrix<CDouble>(rows: nr, cols: nt)
        for (q, a) in scatterers {
            let dr = scene.rx.positions.map { p -> Double in let d = q - p; return (d * d).sum().squareRoot() }
            let dt = scene.tx.positions.map { p -> Double in let d = q - p; return (d * d).sum().squareRoot() }
            for t in 0..<nt { for r in 0..<nr {
                let R = dr[r] + dt[t]
                h[r, t] = h[r, t] + a * CDouble.exp(CDouble(0, -kappa * R)) * CDouble(1 / (dr[r] * dt[t]), 0)
            } }
        }
        tones.append(h)
    }
    return try MultiToneChannel(tones: tones, frequenciesHz: frequenciesHz)
}

/// Uniform OFDM tones f_k = fc + (k − (K−1)/2)·Δf, k = 0..<K (Hz).
public func ofdmFrequencies(carrierHz: Double, spacingHz: Double, count: Int) throws -> [Double] {
    try Check.positive(carrierHz, "carrierHz"); try Check.positive(spacingHz, "spacingHz"); try Check.positive(count, "count")
    return (0..<count).map { carrierHz + (Double($0) - Double(count - 1) / 2) * spacingHz }
}
