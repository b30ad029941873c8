import ExtendedDatasets

/// The tiny dataset config of the dataset tests: Born, 4 antennas, 2 subcarriers, vehicles scaled by 0.15 at a 4 cm
/// pitch, 2/1/1 instances per class, so a whole dataset runs in seconds in debug. Default counts: train 2 + 2, val
/// 1 + 1, test 1 + 1 [motorbike, car] in chunks of 2 (8 samples, 4 chunks).
public func tinyDatasetConfig(seed: UInt64 = 5, trainCounts: [Int] = [2, 2], testCounts: [Int] = [1, 1],
                       samplesPerChunk: Int = 2) throws -> DatasetConfig {
    var c = try DatasetConfig.preset("small", solver: .born, seed: seed)
    c.antennas = 4; c.subcarriers = 2; c.targetScale = 0.15; c.voxelPitchM = 0.04
    c.trainCounts = trainCounts; c.valCounts = [1, 1]; c.testCounts = testCounts
    c.trainInstances = 2; c.valInstances = 1; c.testInstances = 1; c.samplesPerChunk = samplesPerChunk
    return c
}
