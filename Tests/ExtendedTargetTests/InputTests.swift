import ExtendedDatasets
import Testing
import Foundation
import Numerics
import Linalg
import Scattering
@testable import ExtendedTarget

@Suite("Input preprocessing and dataset checks before training")
struct InputTests {
    /// Per-sample normalization: unit RMS on (Re, Im), amplitude channel = (ln ρ − μ)/σ, and invariance of the
    /// image channels to a per-sample gain c and a global phase φ (which only shift the amplitude channel by ln c/σ).
    @Test("per-sample normalization: unit RMS, log-amplitude channel, gain and phase invariance")
    func perSampleInvariance() throws {
        let base = try syntheticSamples(count: 3, seed: 5)
        let nr = base.receiveCount, nt = base.transmitCount, px = nr * nt, img = 2 * px
        // Sample 1 = sample 0 × c·e^{jφ}; sample 2 untouched.
        let c: Float = 7.5, phi: Float = 2.2
        var s = base
        s.inputs[1] = base.inputs[0]
        for k in 0..<base.toneCount { for q in 0..<px {
            let re = base.inputs[0][k * img + q], im = base.inputs[0][k * img + px + q]
            s.inputs[1][k * img + q] = c * (re * cos(phi) - im * sin(phi))
            s.inputs[1][k * img + px + q] = c * (re * sin(phi) + im * cos(phi))
        } }
        let p = InputPreprocessing(normalization: .perSample, logAmplitudeMean: 0.3, logAmplitudeStd: 1.7)
        #expect(p.channels == 3 && p.phaseReference)
        let tones = [0, 1]
        let x = s.batch([0, 1, 2], tones: tones, input: p)
        #expect(x.shape == [6, 3, nr, nt])
        let per = tones.count * 3 * px
        for b in 0..<3 {
            var ss = 0.0
            for j in 0..<tones.count { for q in 0..<img { let v = Double(x.scalars[b * per + j * 3 * px + q]); ss += v * v } }
            #expect(abs(ss / Double(tones.count * px) - 1) < 1e-4, "sample \(b): mean |H|² after normalization \(ss / Double(tones.count * px))")
            // ρ from the raw sample, independently of `batch`.
            var raw = 0.0
            for k in tones { for q in 0..<img { raw += Double(s.inputs[b][k * img + q]) * Double(s.inputs[b][k * img + q]) } }
            let rho = (raw / Double(tones.count * px)).squareRoot()
            let want = (log(rho) - 0.3) / 1.7
            for j in 0..<tones.count {
                #expect(abs(Double(x.scalars[b * per + j * 3 * px + img]) - want) < 1e-4)
                #expect(abs(Double(x.scalars[b * per + j * 3 * px + img + px - 1]) - want) < 1e-4)
            }
        }
        // Image channels of samples 0 and 1 coincide; the amplitude channel differs by ln c / σ.
        var maxDiff: Float = 0
        for j in 0..<tones.count { for q in 0..<img { maxDiff = max(maxDiff, abs(x.scalars[j * 3 * px + q] - x.scalars[per + j * 3 * px + q])) } }
        #expect(maxDiff < 1e-4)
        #expect(abs(Double(x.scalars[per + img] - x.scalars[img]) - Double(log(c)) / 1.7) < 1e-4)
        // Global mode keeps the raw values (times the gain) in two channels.
        let g = s.batch([2], tones: [1], gains: [2], input: InputPreprocessing(normalization: .global))
        #expect(g.shape == [1, 2, nr, nt])
        #expect(g.scalars[5] == 2 * s.inputs[2][img + 5])
    }

    /// A 6-sample Born dataset (4 × 4 antennas, 2 tones) written by the Scattering writer.
    func tinyDataset() throws -> String {
        var c = try DatasetConfig.preset("small", solver: .born, seed: 3)
        c.antennas = 4; c.subcarriers = 2; c.targetScale = 0.1
        c.trainCounts = [1, 1]; c.valCounts = [1, 1]; c.testCounts = [1, 1]
        c.trainInstances = 1; c.valInstances = 1; c.testInstances = 1; c.samplesPerChunk = 6
        let dir = NSTemporaryDirectory() + "xt-input-\(UUID().uuidString)"
        _ = try DatasetWriter.generate(config: c, to: dir)
        return dir
    }

    @Test("dataset checks: loads a valid folder; missing or inconsistent manifest throws before training")
    func manifestChecks() throws {
        let dir = try tinyDataset()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try ExperimentData(directory: dir)
        #expect(d.train.count == 2 && d.validation.count == 2 && d.test.count == 2)
        #expect(d.train.toneCount == 2 && d.train.receiveCount == 4)
        // K_s larger than the available tones.
        #expect(throws: ISACError.self) { try selectedToneIndices(ks: 3, available: d.train.toneCount) }
        // Inconsistent shapes: the manifest's sample shape no longer matches its config.
        let path = dir + "/manifest.json"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        var json = try JSONSerialization.jsonObject(with: Data(original.utf8)) as! [String: Any]
        json["sampleShape"] = [4, 4, 3]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        #expect(throws: ISACError.self) { try ExperimentData(directory: dir) }
        // Missing manifest.
        try FileManager.default.removeItem(atPath: path)
        #expect(throws: ISACError.self) { try ExperimentData(directory: dir) }
        #expect(throws: ISACError.self) { try ExperimentData(directory: dir + "/does-not-exist") }
    }

    @Test("trivial reference: training mean range, circular-mean azimuth (across ±π), class prior")
    func trivialReference() throws {
        // Azimuths ±(π − 0.1) straddle the seam: the circular mean is π, the arithmetic mean would be 0.
        let labels = [JointLabel(classIndex: 0, rangeMeters: 10, azimuthRad: Double.pi - 0.1),
                      JointLabel(classIndex: 1, rangeMeters: 20, azimuthRad: -Double.pi + 0.1),
                      JointLabel(classIndex: 1, rangeMeters: 45, azimuthRad: Double.pi - 0.1),
                      JointLabel(classIndex: 1, rangeMeters: 5, azimuthRad: -Double.pi + 0.1)]
        let set = SampleSet(inputs: Array(repeating: [0, 0], count: 4), labels: labels, receiveCount: 1, transmitCount: 1, toneCount: 1)
        let p = trivialPredictions(train: set, count: 3)
        #expect(p.count == 3)
        #expect(p[0].classProbabilities! == [0.25, 0.75])
        #expect(abs(p[0].location!.rangeMeters - 20) < 1e-12)
        #expect(abs(abs(p[0].location!.azimuthRad) - Double.pi) < 1e-9)
        let m = try JointMetricSummary.evaluate(Array(p.prefix(1)) + [p[1], p[2], p[2]], labels)
        #expect(abs(m.accuracy! - 0.75) < 1e-12)
        #expect(abs(m.rangeMAEMeters! - (10 + 0 + 25 + 15) / 4.0) < 1e-9)
        #expect(abs(m.azimuthMAEDeg! - 0.1 * 180 / Double.pi) < 1e-6)
    }

    @Test("run cache: a classification-only result (NaN locations) round-trips, so it is not retrained")
    func runCacheRoundTrip() throws {
        let r = RunResult(method: "single-cls", seed: 42, ks: 8, trainFraction: 1, metrics: ["acc_pct": 80],
                          probabilities: [[0.3, 0.7]], ranges: [.nan], azimuths: [.nan], seconds: 1, checkpoint: "x.npz")
        let back = try RunResult.decoder.decode(RunResult.self, from: try RunResult.encoder.encode(r))
        #expect(back.ranges.count == 1 && back.ranges[0].isNaN && back.azimuths[0].isNaN)
        #expect(back.probabilities == r.probabilities && back.metrics == r.metrics)
        #expect(back.predictions[0].location == nil && back.predictions[0].predictedClass == 1)
    }
}
