import ArgumentParser
import Arrays
import ExtendedTarget
import Foundation
import ISACIO
import Learning
import Linalg
import Numerics

/// `isac bench`: performance benchmarks (build with `-c release`).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks (release build).",
        subcommands: [BenchFoundation.self, BenchLearning.self])
}

/// `isac bench foundation`: zgemm, zheevd and a near-field steering-dictionary build, next to the
/// measured dgemm peak of this machine.
struct BenchFoundation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "foundation",
        abstract: "Time complex GEMM, Hermitian eig and a near-field steering-dictionary build (GFLOP/s vs dgemm peak).")

    @Option(help: "Repetitions per case (best time is reported), 1…1000.") var repeats: Int = 3
    @Option(name: .customLong("atoms"), help: "Atoms of the steering dictionary (N = 127 antennas), 1…16777216 (and within memory: 2 KiB per atom).") var atoms: Int = 61_440
    @Flag(help: "Small sizes only (smoke run).") var quick = false
    @OptionGroup var format: JSONOption
    var json: Bool { format.json }

    /// Upper bounds: a best-of-N timing needs a handful of repeats (1000 × the 2048³ dgemm is hours);
    /// 2²⁴ atoms are 2²⁴ × 127 × 16 B = 32 GiB of dictionary, beyond any benchmark of interest.
    static let maxRepeats = 1000, maxAtoms = 1 << 24

    func validate() throws {
        try Check.inRange(repeats, 1, Self.maxRepeats, "--repeats")
        try Check.inRange(atoms, 1, Self.maxAtoms, "--atoms")
        // The dictionary holds 127 × (atoms rounded up to 512 angles) complex doubles.
        try Check.memory(flag: "--atoms", value: "\(atoms)", bytes: Check.bytes(127, (atoms + 511) / 512 * 512, 16))
    }

    /// Best wall time of `repeats` runs of `body`, seconds.
    private func best(_ body: () throws -> Void) rethrows -> Double {
        var t = Double.infinity
        for _ in 0..<repeats {
            let s = DispatchTime.now().uptimeNanoseconds
            try body()
            t = Swift.min(t, Double(DispatchTime.now().uptimeNanoseconds - s) * 1e-9)
        }
        return t
    }

    func run() throws {
        try validate()
        var rows: [BenchFoundationResult.Row] = []
        func record(_ op: String, _ size: String, _ seconds: Double, _ flops: Double) {
            rows.append(BenchFoundationResult.Row(op: op, size: size, seconds: seconds, gflops: flops / seconds / 1e9))
            if !json { FileHandle.standardError.write(Data((pad(op, 22) + " " + pad(size, 16) + String(format: " %9.4f s  %8.2f GFLOP/s\n", seconds, flops / seconds / 1e9)).utf8)) }
        }
        var rng = RandomSource(seed: 1)

        // Machine peak reference: dgemm at a large size (2 m n k flops).
        let np = quick ? 512 : 2048
        let da = Matrix<Double>(rows: np, cols: np) { _, _ in rng.gaussian() }
        let db = Matrix<Double>(rows: np, cols: np) { _, _ in rng.gaussian() }
        var dc = Matrix<Double>(rows: np, cols: np)
        let tPeak = best { Matrix.gemm(.none, da, .none, db, into: &dc) }
        record("dgemm (peak ref)", "\(np)", tPeak, 2 * pow(Double(np), 3))
        let peak = 2 * pow(Double(np), 3) / tPeak / 1e9

        // zgemm: 8 m n k real flops.
        for n in quick ? [128, 256] : [512, 1024, 2048] {
            let a = rng.complexGaussianMatrix(rows: n, cols: n), b = rng.complexGaussianMatrix(rows: n, cols: n)
            var c = Matrix<CDouble>(rows: n, cols: n)
            let t = best { Matrix.gemm(.none, a, .none, b, into: &c) }
            record("zgemm", "\(n)", t, 8 * pow(Double(n), 3))
        }

        // zheevd with eigenvectors (nominal flop count: see heevdFlops).
        for n in quick ? [64, 128] : [256, 512] {
            let b = rng.complexGaussianMatrix(rows: n, cols: n)
            let a = Matrix.matmul(b, b, transB: .conjugateTranspose)
            let t = try best { _ = try a.hermitianEigen() }
            record("zheevd (vectors)", "\(n)", t, BenchFoundation.heevdFlops(n))
        }

        // Near-field steering dictionary: N = 127 antennas (d = λ/2 at 28 GHz), atoms on a
        // range × angle grid; per element one sqrt, one sincos: counted as 20 flops/entry (nominal).
        let lambda = speedOfLight / 28e9
        let g = try ArrayGeometry.ula(count: 127, spacingMeters: lambda / 2)
        let k = Steering.wavenumber(frequencyHz: 28e9)
        let nAtoms = quick ? 2048 : atoms
        let nAngles = 512, nRanges = (nAtoms + nAngles - 1) / nAngles
        var dict = Matrix<CDouble>(rows: 127, cols: nAngles * nRanges)
        let t = best {
            for ir in 0..<nRanges {
                let r = 2.0 + 84.0 * Double(ir) / Double(Swift.max(nRanges - 1, 1))
                for ia in 0..<nAngles {
                    let th = Double.pi * (Double(ia) + 0.5) / Double(nAngles)
                    dict.setColumn(ir * nAngles + ia, Steering.nearField(g, point: Steering.point(rangeMeters: r, angleFromAxisRad: th), wavenumber: k))
                }
            }
        }
        record("near-field dictionary", "127x\(dict.cols)", t, 20 * 127 * Double(dict.cols))

        let lscpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        if json {
            print(try ResultJSON.string(BenchFoundationResult(machine: lscpu, cores: ProcessInfo.processInfo.activeProcessorCount,
                                                              dgemmPeakGflops: peak, results: rows)))
        } else {
            print("machine: \(lscpu), \(ProcessInfo.processInfo.activeProcessorCount) cores; dgemm peak \(String(format: "%.2f", peak)) GFLOP/s")
            print("op                     size              seconds    GFLOP/s  % of dgemm peak")
            for r in rows {
                print(pad(r.op, 22) + " " + pad(r.size, 16) + String(format: " %9.4f  %9.2f  %6.1f%%", r.seconds, r.gflops, 100 * r.gflops / peak))
            }
        }
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    /// Nominal real-flop count of a complex Hermitian eigendecomposition with eigenvectors:
    /// tridiagonal reduction 16/3·n³ plus back-transformation 8·n³ (LAWN 41 complex counts; the
    /// divide-and-conquer stage is data dependent and not counted). The same count is used in the
    /// NumPy script so the two GFLOP/s columns are comparable.
    static func heevdFlops(_ n: Int) -> Double { (16.0 / 3.0 + 8.0) * pow(Double(n), 3) }
}

/// `isac bench foundation --json`.
struct BenchFoundationResult: Encodable {
    var machine: String
    var cores: Int
    var dgemmPeakGflops: Double
    var results: [Row]

    struct Row: Encodable {
        var op: String
        var size: String
        var seconds: Double
        var gflops: Double
    }

    enum CodingKeys: String, CodingKey { case machine, cores, results, dgemmPeakGflops = "dgemm_peak_gflops" }
}

/// `isac bench learning`: training-step time (forward + backward + AdamW) of the conv + attention
/// benchmark network (`ConvAttentionNet`, twin: `bench/learning/torch_bench.py`) and of the real
/// extended-target `JointNetwork` at the paper input size (twin: `bench/extended/torch_joint.py --bench`).
struct BenchLearning: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learning",
        abstract: "Training-step time of ConvAttentionNet and/or the JointNetwork (compare with bench/learning/torch_bench.py, bench/extended/torch_joint.py).")

    @Option(help: "Model: conv (ConvAttentionNet) | joint (JointNetwork, paper size) | both.") var model: String = "conv"
    @Option(help: "Batch size, 1…4096 (samples; the joint network sees batch × subcarriers images).") var batch: Int = 16
    @Option(help: "Antennas per ULA N_r = N_t, 4…1024 (multiple of 4; 16 for the joint network's paper token grid).") var antennas: Int = 64
    @Option(help: "Subcarriers K (conv: input channels 2K; joint: K tones), 1…4096.") var subcarriers: Int = 16
    @Option(name: .customLong("model-size"), help: "Token width D of ConvAttentionNet (divisible by 4 heads), 4…4096.") var modelSize: Int = 64
    @Option(help: "Timed steps, 1…10000.") var steps: Int = 10
    @Option(help: "Untimed warm-up steps, 0…10000.") var warmup: Int = 2
    @Option(help: "Seed of weights and data.") var seed: UInt64 = 42
    @Option(help: "Worker threads (default: ISAC_THREADS, OMP_NUM_THREADS, or the CPU affinity mask).") var threads: Int?
    @OptionGroup var format: JSONOption
    var json: Bool { format.json }

    /// Upper bounds of the sizes (the memory estimate below is the binding limit inside them):
    /// 1024 antennas / 4096 tones / width 4096 are beyond every configuration of the papers, and a
    /// timing median needs tens of steps — 10⁴ steps of even the smallest network take many minutes.
    static let maxBatch = 4096, maxAntennas = 1024, maxSubcarriers = 4096, maxModelSize = 4096, maxSteps = 10_000

    func validate() throws {
        try Check.inRange(batch, 1, Self.maxBatch, "--batch")
        try Check.inRange(antennas, 4, Self.maxAntennas, "--antennas")
        try Check.inRange(subcarriers, 1, Self.maxSubcarriers, "--subcarriers")
        try Check.inRange(modelSize, 4, Self.maxModelSize, "--model-size")
        try Check.inRange(steps, 1, Self.maxSteps, "--steps")
        try Check.inRange(warmup, 0, Self.maxSteps, "--warmup")
        if let t = threads { try Check.positive(t, "--threads") }
        guard ["conv", "joint", "both"].contains(model) else {
            throw ISACError.invalidParameter(name: "--model", value: model, valid: "conv, joint or both")
        }
        guard antennas >= 4, antennas % 4 == 0 else {
            throw ISACError.invalidParameter(name: "--antennas", value: "\(antennas)", valid: "must be a multiple of 4, at least 4")
        }
        if model != "conv" && antennas % 16 != 0 {
            throw ISACError.invalidParameter(name: "--antennas", value: "\(antennas)", valid: "a multiple of 16 for --model joint (two 2× pools, 4 × 4 token grid)")
        }
        guard modelSize >= 4, modelSize % 4 == 0 else {
            throw ISACError.invalidParameter(name: "--model-size", value: "\(modelSize)", valid: "must be a multiple of 4 (4 heads), at least 4")
        }
        // Refuse sizes whose activations cannot fit before allocating anything (a failed allocation aborts).
        let px = Double(antennas) * Double(antennas)
        let convBytes = 4 * Double(batch) * px * (Double(2 * subcarriers) + 3 * 32 + 8 + 3 * 16 + 4 + 3 * Double(modelSize) / 16) * 2
        let jointBytes = JointNetworkBenchmark.estimatedBytes(batch: batch, antennas: antennas, subcarriers: subcarriers, size: .paper)
        let need = model == "conv" ? convBytes : (model == "joint" ? jointBytes : Swift.max(convBytes, jointBytes))
        try Check.memory(flag: "--batch", value: "\(batch) (with --antennas \(antennas), --subcarriers \(subcarriers); one step's activations)",
                         bytes: need < 9e18 ? Int(need) : nil)
    }

    func run() throws {
        try applyThreadOption(threads)
        var results: [LearningBenchmarkResult] = []
        if model != "joint" {
            let progress = ProgressLine("bench learning (conv)", total: steps + warmup, enabled: !json)
            results.append(try LearningBenchmark.run(batch: batch, antennas: antennas, subcarriers: subcarriers, modelSize: modelSize,
                                                     steps: steps, warmup: warmup, seed: seed, progress: { _, _ in progress.advance() }))
            progress.finish()
        }
        if model != "conv" {
            let progress = ProgressLine("bench learning (joint)", total: steps + warmup, enabled: !json)
            results.append(try JointNetworkBenchmark.run(batch: batch, antennas: antennas, subcarriers: subcarriers,
                                                         steps: steps, warmup: warmup, seed: seed, progress: { _, _ in progress.advance() }))
            progress.finish()
        }
        if json {
            if results.count == 1 { print(try ResultJSON.string(results[0])) }
            else { print(try ResultJSON.string(BenchLearningBothResult(results: results, threads: LearningThreads.count))) }
        } else {
            for r in results {
                print("model: \(r.model)")
                print(String(format: "batch %d, input %@, %d parameters, %d threads", batch, "\(r.input_shape)", r.parameters, r.threads))
                print("convolutions: \(r.conv_backend)")
                print(String(format: "step median %.1f ms, mean %.1f ms, %.2f samples/s (%d timed steps)",
                             r.step_ms_median, r.step_ms_mean, r.samples_per_s, steps))
            }
        }
    }
}

/// `bench learning --model both --json`: both models' summaries and the learning worker threads.
struct BenchLearningBothResult: Encodable {
    var results: [LearningBenchmarkResult]
    var threads: Int
}
