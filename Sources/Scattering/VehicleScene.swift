import Linalg

/// What the surface solvers (`SurfaceScattering.place`, `SurfaceScattering.channel(target:config:…)`) read from a
/// scene configuration: the sensing array, the voxel pitch and the vehicle/material draws.
///
/// Scattering stays below the dataset layer: the extended-target dataset configuration (`DatasetConfig`, target
/// `ExtendedDatasets`) conforms to this protocol, so `isac scatter channel` and the dataset generator share one
/// placement and channel path without Scattering knowing about datasets.
public protocol VehicleScene: Sendable {
    /// Height of the array centre above the ground plane z = −arrayHeightM, m.
    var arrayHeightM: Double { get }
    /// Voxel pitch of the voxelized vehicles, m.
    var voxelPitchM: Double { get }
    /// Scale factor applied to the procedural vehicle shapes (1 = full size).
    var targetScale: Double { get }
    /// Ranges the material parameters are drawn from ([metal, tyre, glass, seat]).
    var materials: MaterialRanges { get }
    /// PO facet sampling density (samples per wavelength); nil = `PhysicalOptics.defaultSamplesPerWavelength`.
    var poSamplesPerWavelength: Double? { get }
    /// PO shadowing on/off; nil = off.
    var poShadowing: Bool? { get }
    /// Free-space wavelength at the highest subcarrier, m.
    var shortestWavelengthM: Double { get }
    /// Throws `ISACError.invalidParameter` for an inconsistent configuration.
    func validate() throws
    /// The sensing array (antennas, carrier, subcarriers) of the scene.
    func array() throws -> SensingArray
}
