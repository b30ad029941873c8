import Arrays
import Linalg
@testable import MultiTargetISAC

/// Small system shared by the receiver tests: K = 16, S = 32, N_θ = 96 beam grid, N_τ = 40, so a few hundred
/// samples run in seconds in debug. Δf = 0.75 MHz keeps the [10, 190] m window unambiguous (c/(2Δf) = 200 m) at S = 32.
func smallReceiverSystem(maxTargets: Int, sector: TargetSectorPrior? = nil) -> MultiTargetConfig {
    var c = MultiTargetConfig()
    c.antennas = 16; c.subcarriers = 32; c.angleGridSize = 96; c.delayGridSize = 40; c.maxTargets = maxTargets
    c.subcarrierSpacingHz = 0.75e6
    if let s = sector { c.targetSector = s }
    return c
}

/// Nominal λ/2 steering matrix [K × N_θ] over `cfg`'s uniform [−π/2, π/2] grid (the learned models' start).
func nominalSteeringMatrix(_ cfg: MultiTargetConfig) -> Matrix<CDouble> {
    let nominal = ArrayImpairment.nominal(antennas: cfg.antennas, wavelengthMeters: cfg.wavelengthMeters)
    let grid = Steering.uniformGrid(-Double.pi / 2, Double.pi / 2, count: cfg.angleGridSize)
    return Steering.linearMatrix(nominal.geometry, anglesRad: grid, wavelengthMeters: cfg.wavelengthMeters)
}
