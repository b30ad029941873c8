import Foundation
import ISACIO
import Testing
@testable import isac

/// The wideband `--json` result structs print the bytes of the `[String: Any]` dictionaries they replaced
/// (same keys, same value types), so scripts reading `coherence-threshold`, `boundary` and `crb` see no change.
@Suite struct WidebandResultJSONTests {
    @Test func coherenceThresholdKeys() throws {
        let r = CoherenceThresholdResult(zeta: 6.59, delta: 0.1, ringScaleMetersPaperSystem: 0.497)
        let d: [String: Any] = ["zeta": 6.59, "delta": 0.1, "ring_scale_m_paper_system": 0.497]
        #expect(try ResultJSON.string(r) == JSONOutput.string(d))
    }

    @Test func boundaryKeys() throws {
        let r = BoundaryResult(distanceMeters: 15.01, regime: "nb-nf", rho: 0.9, angleDeg: 60, antennas: 127, apertureMeters: 0.68,
                               bandwidthMHz: 122.88, subcarriers: 256, carrierGHz: 28, rayleighMeters: 86.3)
        let d: [String: Any] = ["distance_m": 15.01, "regime": "nb-nf", "rho": 0.9, "angle_deg": 60.0, "antennas": 127,
                                "aperture_m": 0.68, "bandwidth_mhz": 122.88, "subcarriers": 256, "carrier_ghz": 28.0,
                                "rayleigh_m": 86.3]
        #expect(try ResultJSON.string(r) == JSONOutput.string(d))
    }

    @Test func crbKeys() throws {
        let r = CRBResult(rangeMeters: 5, angleDeg: 90, snrDb: -5, snapshots: 8, crbRangeM2: 1e-6, crbAngleRad2: 2e-10,
                          crbRangeAngle: -3e-23, crbPositionM2: 3e-6, crbNMSEdB: -74.6, farFieldCRBRangeM2: .infinity,
                          farFieldCRBAngleRad2: 1.5e-10)
        let d: [String: Any] = ["range_m": 5.0, "angle_deg": 90.0, "snr_db": -5.0, "snapshots": 8, "crb_range_m2": 1e-6,
                                "crb_angle_rad2": 2e-10, "crb_range_angle": -3e-23, "crb_position_m2": 3e-6,
                                "crb_nmse_db": -74.6, "far_field_crb_range_m2": Double.infinity,
                                "far_field_crb_angle_rad2": 1.5e-10]
        #expect(try ResultJSON.string(r) == JSONOutput.string(d))
    }

    @Test func dictionaryKeysWithAndWithoutOptionalFields() throws {
        var r = DictionaryResult(atoms: 32, maxCoherence: 0.2, grid: "uniform", delta: 0.1, angles: 8, zeta: 6.59,
                                 ringScaleMeters: 0.5, rMinMeters: 0.5, rMaxMeters: 10, rows: 4096,
                                 coherencePairsEvaluated: 496, coherenceSeconds: 0.01)
        var d: [String: Any] = ["atoms": 32, "max_coherence": 0.2, "grid": "uniform", "delta": 0.1, "angles": 8, "zeta": 6.59,
                                "ring_scale_m": 0.5, "r_min_m": 0.5, "r_max_m": 10.0, "rows": 4096,
                                "coherence_pairs_evaluated": 496, "coherence_seconds": 0.01]
        #expect(try ResultJSON.string(r) == JSONOutput.string(d))    // nil fields are absent keys, not null
        r.maxPair = [.init(rangeMeters: 2, angleDeg: 100), .init(rangeMeters: 3, angleDeg: 80)]
        r.buildSeconds = 0.5; r.dictionaryBytes = 2_097_152
        d["max_pair"] = [["range_m": 2.0, "angle_deg": 100.0], ["range_m": 3.0, "angle_deg": 80.0]]
        d["build_seconds"] = 0.5; d["dictionary_bytes"] = 2_097_152
        #expect(try ResultJSON.string(r) == JSONOutput.string(d))
    }
}
