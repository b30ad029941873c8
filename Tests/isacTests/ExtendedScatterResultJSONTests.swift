import Foundation
import ISACIO
import Learning
import Testing
@testable import isac

/// The `extended`, `scatter` and `bench learning` `--json` result structs print the bytes `JSONOutput.string`
/// printed for the `[String: Any]` dictionaries they replaced (same keys, same Swift value types, absent keys absent).
@Suite struct ExtendedScatterResultJSONTests {
    @Test func runTimeKeysFollowTheStructsFieldsAndReplaceEqualNames() throws {
        let base = ExtendedTrainResult(method: "proposed-full", ks: 4, epochs: 2, bestEpoch: 1, seconds: 0.5, out: "/m")
        let w = WithFields(base, [("val_acc", 0.75), ("val_rangeMAE", .nan), ("out", 3.0)])
        let d: [String: Any] = ["method": "proposed-full", "ks": 4, "epochs": 2, "bestEpoch": 1, "seconds": 0.5,
                                "val_acc": 0.75, "val_rangeMAE": Double.nan, "out": 3.0]
        #expect(try ResultJSON.string(w) == JSONOutput.string(d))
        let ev = ExtendedEvaluateResult(split: "val", results: [WithFields(.init(method: "fft", count: 7), [("accuracy", 0.5)]),
                                                                WithFields(.init(method: "nf", count: 0), [])])
        #expect(try ResultJSON.string(ev) == JSONOutput.string(["split": "val", "results": [
            ["method": "fft", "count": 7, "accuracy": 0.5] as [String: Any], ["method": "nf", "count": 0] as [String: Any]]] as [String: Any]))
    }

    @Test func optionalFieldsAreLeftOut() throws {
        let shard = ExtendedExperimentResult(experiment: "table2", preset: "small", out: "/o", seconds: 2, shard: "0/2", runs: ["a"])
        #expect(try ResultJSON.string(shard) == JSONOutput.string(["experiment": "table2", "preset": "small", "out": "/o", "shard": "0/2",
                                                                  "runs": ["a"], "seconds": 2.0] as [String: Any]))
        var ex = ExtendedExportResult(out: "/m.npz", format: "torch", parameters: 12)
        #expect(try ResultJSON.string(ex) == JSONOutput.string(["out": "/m.npz", "format": "torch", "parameters": 12] as [String: Any]))
        ex.reference = "/r.npz"
        #expect(try ResultJSON.object(ex)["reference"] as? String == "/r.npz")
        var rcs = ScatterRCSResult(solver: "po", target: "sphere", frequencyHz: 1.5e9, wavelengthM: 0.2, thetaDeg: [0, 30], phiDeg: 0,
                                   polarization: "theta", bistatic: false, rcs_m2: [3.1], rcs_dbsm: [4.9], facets: 10, samples: 20,
                                   seconds: 0.1, incidenceThetaDeg: nil)
        let d: [String: Any] = ["solver": "po", "target": "sphere", "frequencyHz": 1.5e9, "wavelengthM": 0.2, "thetaDeg": [0.0, 30.0],
                                "phiDeg": 0.0, "polarization": "theta", "bistatic": false, "rcs_m2": [3.1], "rcs_dbsm": [4.9],
                                "facets": 10, "samples": 20, "seconds": 0.1]
        #expect(try ResultJSON.string(rcs) == JSONOutput.string(d))
        rcs.reference = "mie"; rcs.reference_dbsm = [5.0]
        var d2 = d; d2["reference"] = "mie"; d2["reference_dbsm"] = [5.0]
        #expect(try ResultJSON.string(rcs) == JSONOutput.string(d2))
    }

    @Test func benchLearningKeepsTheLibraryKeys() throws {
        let r = LearningBenchmarkResult(model: "m", input_shape: [2, 4, 8, 8], batch: 2, antennas: 8, subcarriers: 2, parameters: 5,
                                        steps: 1, warmup: 0, step_ms_median: 1.5, step_ms_mean: 2, cpu_ms_per_step_median: 1,
                                        samples_per_s: 1333.3, loss_first: 0.69, loss_last: .nan, threads: 1)
        let d: [String: Any] = ["model": "m", "input_shape": [2, 4, 8, 8], "batch": 2, "antennas": 8, "subcarriers": 2, "parameters": 5,
                                "steps": 1, "warmup": 0, "step_ms_median": 1.5, "step_ms_mean": 2.0, "cpu_ms_per_step_median": 1.0,
                                "samples_per_s": 1333.3, "loss_first": 0.69, "loss_last": Double.nan, "threads": 1,
                                "conv_backend": r.conv_backend]
        #expect(r.conv_backend.hasPrefix(ConvolutionBackend.current.rawValue))
        #expect(try ResultJSON.string(r) == JSONOutput.string(d))
        #expect(try ResultJSON.string(BenchLearningBothResult(results: [r], threads: 2)) == JSONOutput.string(["results": [d], "threads": 2] as [String: Any]))
    }
}
