import Foundation
import Linalg
import Arrays
import Estimation
import Numerics

/// The paper's dictionaries (eq. 8) on top of the generic separable OMP of `Estimation`.
extension OMPDictionary {
    /// Paper dictionaries: N_θ angles uniformly over `sector` (steering from `geometry`), N_τ delays
    /// uniformly over [2R_min/c, 2R_max/c].
    public static func grid(array geometry: ArrayImpairment, sector: AngularSector, angleCount: Int,
                            rangeMinMeters: Double, rangeMaxMeters: Double, delayCount: Int,
                            subcarriers: Int, spacingHz: Double) throws -> OMPDictionary {
        try Check.inRange(angleCount, 2, 1_000_000, "--n-theta")
        try Check.inRange(delayCount, 2, 1_000_000, "--n-tau")
        let th = Steering.uniformGrid(sector.lowerRad, sector.upperRad, count: angleCount)
        let tau = Steering.uniformGrid(2 * rangeMinMeters / speedOfLight, 2 * rangeMaxMeters / speedOfLight, count: delayCount)
        return try OMPDictionary(angleAtoms: Steering.linearMatrix(geometry.geometry, anglesRad: th, wavelengthMeters: geometry.wavelengthMeters),
                                 anglesRad: th,
                                 delayAtoms: Steering.delayMatrix(delaysSeconds: tau, subcarriers: subcarriers, spacingHz: spacingHz),
                                 delaysSeconds: tau)
    }
}
