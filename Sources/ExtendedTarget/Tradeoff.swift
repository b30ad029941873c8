import Foundation
import Linalg
import Waveforms

/// A sensing-QoS target of eq. (20): A(K_s) ≥ τ_cls and E_p(K_s) ≤ τ_loc.
/// The paper's Table III uses QoS-I (98.0 %, 1.50 m) and QoS-II (98.5 %, 1.30 m).
public struct QoSTarget: Sendable, Equatable {
    /// Display name of the target, e.g. "QoS-I".
    public var name: String
    /// τ_cls, accuracy as a fraction in [0, 1].
    public var minAccuracy: Double
    /// τ_loc, planar MAE in metres.
    public var maxPlanarMAEMeters: Double
    /// Creates a QoS target; throws unless `minAccuracy` ∈ [0, 1] and `maxPlanarMAEMeters` > 0.
    public init(name: String, minAccuracy: Double, maxPlanarMAEMeters: Double) throws {
        try Check.inRange(minAccuracy, 0, 1, "minAccuracy (τ_cls)")
        try Check.positive(maxPlanarMAEMeters, "maxPlanarMAEMeters (τ_loc)")
        self.name = name; self.minAccuracy = minAccuracy; self.maxPlanarMAEMeters = maxPlanarMAEMeters
    }
    /// QoS-I: accuracy ≥ 98.0 %, planar MAE ≤ 1.50 m (Table III).
    public static let qos1 = try! QoSTarget(name: "QoS-I", minAccuracy: 0.980, maxPlanarMAEMeters: 1.50)
    /// QoS-II: accuracy ≥ 98.5 %, planar MAE ≤ 1.30 m (Table III).
    public static let qos2 = try! QoSTarget(name: "QoS-II", minAccuracy: 0.985, maxPlanarMAEMeters: 1.30)
}

/// Seed-averaged sensing performance of one method at one K_s (a point of Figs. 5–6).
public struct SweepPoint: Sendable, Equatable {
    /// K_s, the number of sensing tones.
    public var sensingTones: Int
    /// Seed-mean accuracy in [0, 1] and planar MAE (m).
    public var accuracy: Double
    public var planarMAEMeters: Double
    /// Creates a sweep point from K_s, accuracy (fraction) and planar MAE (m).
    public init(sensingTones: Int, accuracy: Double, planarMAEMeters: Double) {
        self.sensingTones = sensingTones; self.accuracy = accuracy; self.planarMAEMeters = planarMAEMeters
    }
}

/// Sensing–communication trade-off of Sec. IV-D (Fig. 6, Table III).
public enum SensingTradeoff {
    /// Benchmark rate R_erg(K_s) of eq. (19) (closed form from `Waveforms.ErgodicRate`), bit/s/Hz.
    /// Defaults are the paper's K_tot = 64, γ̄_c = 15 dB.
    public static func rate(sensingTones ks: Int, totalTones: Int = 64, snrDB: Double = 15) throws -> Double {
        try ErgodicRate.exact(totalTones: totalTones, sensingTones: ks, snrDB: snrDB)
    }

    /// K*_s of eq. (20) restricted to the tested sweep: the smallest K_s whose seed-mean accuracy and
    /// planar MAE meet `target`, or nil ("Not met"). Because R_erg decreases in K_s, this is also the
    /// rate-maximizing feasible K_s. No monotonicity of A or E_p in K_s is assumed.
    public static func minimumTones(_ sweep: [SweepPoint], target: QoSTarget) -> Int? {
        sweep.filter { $0.accuracy >= target.minAccuracy && $0.planarMAEMeters <= target.maxPlanarMAEMeters }
            .map(\.sensingTones).min()
    }
}
