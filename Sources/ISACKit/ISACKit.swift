// The umbrella module: `import ISACKit` gives a client every library target at once.
// Targets stay separate so a client that needs only the foundations (`Linalg`, `Arrays`, `Waveforms`)
// can depend on those alone and not compile the learning stack.
@_exported import Linalg
@_exported import ISACIO
@_exported import Arrays
@_exported import Waveforms
@_exported import Estimation
@_exported import Metrics
@_exported import Scattering
@_exported import ExtendedDatasets
@_exported import Learning
@_exported import WidebandSensing
@_exported import MultiTargetISAC
@_exported import ExtendedTarget
