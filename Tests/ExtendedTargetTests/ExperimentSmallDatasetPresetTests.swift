import ExtendedDatasets
import ExtendedTarget
import Testing

/// `isac dataset generate --preset experiment-small` is the dataset `isac extended experiment --preset small` trains
/// on: the same config field for field (only the preset name differs), for Born; with `--solver hybrid` only the
/// solver and the PO sampling change, so hybrid data can be passed to `extended experiment --data`.
@Test func experimentSmallDatasetPresetIsTheExperimentsDataset() throws {
    let exp = try ExperimentPreset.named("small").dataset
    var born = try DatasetConfig.preset("experiment-small", solver: .born, seed: 42)
    #expect(born.preset == "experiment-small")
    born.preset = exp.preset
    #expect(born == exp)
    var hyb = try DatasetConfig.preset("experiment-small", solver: .hybrid, seed: 42)
    #expect(hyb.solver == .hybrid && hyb.poSamplesPerWavelength != nil && hyb.totalSamples == 800 && hyb.subcarriers == 8)
    hyb.preset = exp.preset; hyb.solver = .born; hyb.poSamplesPerWavelength = nil
    #expect(hyb == exp)
}
