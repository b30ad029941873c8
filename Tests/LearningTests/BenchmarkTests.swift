import Foundation
import Linalg
import Testing
@testable import Learning

@Suite struct BenchmarkTests {
    @Test func benchmarkModelHasTheArchitecturesParameterCount() throws {
        let k = 2, n = 8, d = 8, c1 = 32, c2 = 64
        let r = try LearningBenchmark.run(batch: 2, antennas: n, subcarriers: k, modelSize: d, steps: 1, warmup: 0)
        let l = (n / 4) * (n / 4)
        let convs = (2 * k * c1 * 9 + c1) + (c1 * c2 * 9 + c2) + (c2 * d * 9 + d)
        let bns = 2 * (c1 + c2 + d)
        let block = 4 * d + 4 * (d * d + d) + (d * 2 * d + 2 * d) + (2 * d * d + d)
        let expected = convs + bns + l * d + 2 * block + (d * 2 + 2)
        #expect(r.parameters == expected)
        #expect(r.tokens == l && r.input_shape == [2, 2 * k, n, n])
        #expect(r.samples_per_s.isFinite && r.samples_per_s > 0)
        // two classes, random init: the first loss is near log 2
        #expect(Swift.abs(r.loss_first - Foundation.log(2.0)) < 1.0)
        #expect(throws: ISACError.self) { _ = try LearningBenchmark.run(batch: 0) }
        #expect(throws: ISACError.self) { _ = try LearningBenchmark.run(antennas: 6) }
    }

    @Test func benchmarkModelGradientsMatchFiniteDifferences() throws {
        // end-to-end composition check (conv–BN(train)–pool–tokens–transformer–head–CE) on a tiny instance
        let model = try ConvAttentionNet(inputChannels: 2, height: 8, width: 8, channels: (4, 4), modelSize: 8, seed: 3)
        let x = randomTensor([2, 2, 8, 8], seed: 70)
        checkGradient(model.position.value) { p in
            var m = model
            m.position.value = p
            return m(x, training: true)
        }
        // γ of BN2 feeds ReLU + max-pool directly: a 1e-2 step flips near-zero/near-tied elements
        // (FD error 4 % at h = 1e-2), so this check uses h = 1e-3
        checkGradient(model.bn2.gamma, h: 1e-3) { g in
            var m = model
            m.bn2.gamma = g
            return m(x, training: true)
        }
        checkGradient(x) { model($0, training: false) }
    }

    /// Full-size measurement, only when LEARNING_BENCH=1 (release build):
    /// `LEARNING_BENCH=1 swift test -c release --filter LearningTests.BenchmarkTests`
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LEARNING_BENCH"] == "1"))
    func paperSizeThroughput() throws {
        let env = ProcessInfo.processInfo.environment
        let batch = Int(env["LEARNING_BENCH_BATCH"] ?? "") ?? 16
        let antennas = Int(env["LEARNING_BENCH_ANTENNAS"] ?? "") ?? 64
        let steps = Int(env["LEARNING_BENCH_STEPS"] ?? "") ?? 10
        let r = try LearningBenchmark.run(batch: batch, antennas: antennas, subcarriers: 16, steps: steps, warmup: 2)
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let data = try enc.encode(r)
        print("LEARNING_BENCH_RESULT " + String(decoding: data, as: UTF8.self))
        #expect(r.samples_per_s > 0)
    }
}
