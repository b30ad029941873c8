import Testing
import Foundation
import ISACIO
@testable import MultiTargetISAC

/// `ResultJSON` (ISACIO) prints a Codable value exactly as `JSONOutput.string` prints the equivalent hand-built dictionary
/// (same keys, same number text, NaN → null, nil optionals absent), the property the CLI's byte-identical `--json`
/// outputs rest on.
@Suite struct ReportJSONTests {
    struct Inner: Codable { var a: Double; var b: [Int] }
    struct Sample: Codable {
        var x: Double, y: Double, n: Int, s: String, flag: Bool, list: [Double], inner: Inner, missing: Double?, present: String?
        enum CodingKeys: String, CodingKey { case x = "x_value", y, n, s, flag, list, inner, missing, present }
    }

    @Test func matchesTheEquivalentDictionary() throws {
        // Numbers whose shortest text and JSONSerialization's text differ in the last digit.
        let v = Sample(x: 0.9082158728552673, y: .nan, n: -3, s: "a/b \"q\"", flag: true, list: [-30.857401419022867, 1e-300, 0, 2.5],
                       inner: Inner(a: 1.0 / 3.0, b: [1, 2]), missing: nil, present: "p")
        let dict: [String: Any] = ["x_value": 0.9082158728552673, "y": Double.nan, "n": -3, "s": "a/b \"q\"", "flag": true,
                                   "list": [-30.857401419022867, 1e-300, 0.0, 2.5], "inner": ["a": 1.0 / 3.0, "b": [1, 2]], "present": "p"]
        #expect(try ResultJSON.string(v) == (try JSONOutput.string(dict)))
        #expect(try ResultJSON.string(v, pretty: true) == (try JSONOutput.string(dict, pretty: true)))
        #expect(try ResultJSON.string(v).contains("\"y\":null"))
        #expect(!(try ResultJSON.string(v)).contains("missing"))
    }

    @Test func trainingReportKeysFollowTheLoss() throws {
        func report(_ loss: PositionLoss) -> SteeringTrainingReport {
            SteeringTrainingReport(method: "impairment", schedule: "small", steps: 3, batch: 4, learningRate: 1e-5, trainTimeSeconds: 1,
                                   parameters: 64, checkpoint: "m.npz", seed: 1, trainSector: "random", loss: loss, finalLossAvg10: 2)
        }
        let m = try ResultJSON.object(report(.mse)), g = try ResultJSON.object(report(.gospa))
        #expect(m["final_loss_avg10_m2"] as? Double == 2 && m["final_loss_avg10_m"] == nil)
        #expect(g["final_loss_avg10_m"] as? Double == 2 && g["final_loss_avg10_m2"] == nil)
        #expect(m["test"] == nil && m["test_command"] == nil)
    }
}
