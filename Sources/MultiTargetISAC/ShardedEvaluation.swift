import Foundation
import Linalg
import ISACIO
import Metrics

/// What one shard of a calibrated evaluation computed for one method: the raw, threshold-independent
/// `SampleOutcome`s of its block of calibration samples and its block of test samples.
public struct MethodShardResult: Sendable {
    /// Curve label of the method.
    public var label: String
    /// Position of the first calibration sample in `0 ..< calibrationSamples` (its scene stream is
    /// `ShardedEvaluation.calibrationStreamOffset + calibrationFirst`).
    public var calibrationFirst: Int
    public var calibration: [SampleOutcome]
    /// Position (= scene stream) of the first test sample in `0 ..< samples`.
    public var testFirst: Int
    public var test: [SampleOutcome]
    /// Wall time this shard spent on the method, seconds.
    public var runTimeSeconds: Double

    /// Memberwise initialiser.
    public init(label: String, calibrationFirst: Int, calibration: [SampleOutcome], testFirst: Int, test: [SampleOutcome], runTimeSeconds: Double) {
        self.label = label; self.calibrationFirst = calibrationFirst; self.calibration = calibration
        self.testFirst = testFirst; self.test = test; self.runTimeSeconds = runTimeSeconds
    }
}

/// Sharded calibrated evaluation (`multitarget evaluate --shard i/n`) with an exact merge.
///
/// Why the merge is exact: a receiver's `SampleOutcome` holds the full OMP / network path to T_max, which does
/// not depend on the threshold δ, and sample `j` is a pure function of its scene stream (`RandomSource(seed:
/// stream: j)`). So the calibration is *not* a separate first stage: every shard runs its block of the
/// calibration samples as well as its block of the test samples and stores the raw outcomes; the merge
/// concatenates the blocks in index order — the exact arrays a single process would have produced — and runs the
/// unchanged `PfaSweep.evaluate` (δ(p_fa) from all calibration traces, then `BaselineSystem.aggregate` of the
/// test outcomes). Merged metrics are therefore bit-identical to one run, for one p_fa (evaluate) or many
/// (pfa-sweep), and nothing is recomputed.
public enum ShardedEvaluation {
    /// Calibration draws use scene streams `2³² + i` (the convention of `PfaSweep.evaluate`, which the merge
    /// checks when it replays the stored outcomes).
    public static let calibrationStreamOffset: UInt64 = 1 << 32

    /// Runs `shard`'s blocks of `0 ..< calibrationSamples` (streams offset by 2³²) and `0 ..< samples` through
    /// `run(count, firstStream)`; `calibrationSamples` 0 (on-the-test-set calibration) runs no calibration block.
    /// - Parameter granule: shard boundaries fall on multiples of it (the network batch of a batched receiver,
    ///   so that shard and single run evaluate the same batches).
    public static func runShard(label: String, samples: Int, calibrationSamples: Int, shard: ShardSpec, granule: Int = 1,
                                countFlag: String = "--shard",
                                run: (Int, UInt64) throws -> [SampleOutcome]) throws -> MethodShardResult {
        let t0 = Date()
        // calibrationSamples 0: `--calibration test-set` (δ from the merged test outcomes), no calibration block.
        let c = calibrationSamples == 0 ? 0..<0
            : try shard.range(of: calibrationSamples, granule: granule, what: "calibration samples (--calibration-samples)", countFlag: countFlag)
        let t = try shard.range(of: samples, granule: granule, what: "samples (--samples)", countFlag: countFlag)
        let cal = c.isEmpty ? [] : try run(c.count, calibrationStreamOffset + UInt64(c.lowerBound))
        let test = try run(t.count, UInt64(t.lowerBound))
        guard cal.count == c.count, test.count == t.count else {
            throw ISACError.shapeMismatch("receiver returned \(cal.count)/\(test.count) outcomes for \(c.count)/\(t.count) samples")
        }
        return MethodShardResult(label: label, calibrationFirst: c.lowerBound, calibration: cal, testFirst: t.lowerBound, test: test,
                                 runTimeSeconds: Date().timeIntervalSince(t0))
    }

    /// One method after the merge: all calibration and test outcomes in index order, and the summed shard times.
    public struct Combined: Sendable {
        /// Curve label of the method.
        public var label: String
        /// All calibration outcomes, in sample-index order.
        public var calibration: [SampleOutcome]
        /// All test outcomes, in sample-index order.
        public var test: [SampleOutcome]
        /// Sum of the shards' wall times on the method, seconds.
        public var runTimeSeconds: Double
    }

    /// Concatenates the shards (given in shard order) method by method and checks that the blocks tile
    /// `0 ..< calibrationSamples` and `0 ..< samples` without gap or overlap.
    public static func combine(_ shards: [[MethodShardResult]], samples: Int, calibrationSamples: Int) throws -> [Combined] {
        guard let first = shards.first else { throw ISACError.shapeMismatch("no shards to combine") }
        var out = first.map { Combined(label: $0.label, calibration: [], test: [], runTimeSeconds: 0) }
        for (s, methods) in shards.enumerated() {
            guard methods.map(\.label) == out.map(\.label) else {
                throw ISACError.shapeMismatch("shard \(s) has methods \(methods.map(\.label)), shard 0 has \(out.map(\.label))")
            }
            for (k, m) in methods.enumerated() {
                guard m.calibrationFirst == out[k].calibration.count, m.testFirst == out[k].test.count else {
                    throw ISACError.shapeMismatch("shard \(s), \(m.label): blocks start at \(m.calibrationFirst)/\(m.testFirst), expected \(out[k].calibration.count)/\(out[k].test.count)")
                }
                out[k].calibration += m.calibration; out[k].test += m.test; out[k].runTimeSeconds += m.runTimeSeconds
            }
        }
        for c in out where c.calibration.count != calibrationSamples || c.test.count != samples {
            throw ISACError.shapeMismatch("\(c.label): \(c.calibration.count)/\(c.test.count) outcomes after the merge, expected \(calibrationSamples)/\(samples)")
        }
        return out
    }

    /// `PfaSweep.evaluate` replayed on stored outcomes (the same code path as a single run).
    public static func evaluate(_ c: Combined, config: MultiTargetConfig, targetPfas: [Double], eta: Double, phi: Double,
                                gospa: GOSPA) throws -> [OperatingPointMetrics] {
        try PfaSweep.evaluate(config: config, samples: c.test.count, calibrationSamples: c.calibration.count, targetPfas: targetPfas,
                              eta: eta, phi: phi, gospa: gospa) { n, first in
            if first == calibrationStreamOffset, n == c.calibration.count { return c.calibration }
            if first == 0, n == c.test.count { return c.test }
            throw ISACError.shapeMismatch("PfaSweep.evaluate asked for \(n) samples from stream \(first); the shards hold calibration streams from \(calibrationStreamOffset) and test streams from 0")
        }
    }

    // MARK: payload codec

    static let magic = Array("ISACMTS1".utf8)

    /// Binary payload of one shard: little-endian 64-bit integers and IEEE-754 bit patterns (exact, NaN-safe).
    public static func encode(_ methods: [MethodShardResult]) -> Data {
        var w = ByteWriter()
        w.bytes(magic)
        w.int(methods.count)
        for m in methods {
            let l = Array(m.label.utf8); w.int(l.count); w.bytes(l)
            w.int(m.calibrationFirst); w.int(m.calibration.count); w.int(m.testFirst); w.int(m.test.count)
            w.double(m.runTimeSeconds)
            for o in m.calibration + m.test {
                w.int(o.trace.trueCount); w.doubles(o.trace.peaks)
                w.doubles(o.truePositions.flatMap { [$0.x, $0.y] })
                w.doubles(o.trueAnglesRad); w.doubles(o.trueRangesMeters)
                w.doubles(o.estimatedAnglesRad); w.doubles(o.estimatedRangesMeters)
                w.int(o.symbolErrors); w.int(o.symbols)
            }
        }
        return Data(w.buffer)
    }

    /// Inverse of `encode`. - Parameter path: reported on error.
    public static func decode(_ data: Data, path: String) throws -> [MethodShardResult] {
        var r = ByteReader(bytes: [UInt8](data), path: path)
        guard try r.bytes(magic.count) == magic else { throw ISACError.malformedFile(path: path, reason: "not a multitarget shard payload") }
        let n = try r.count()
        return try (0..<n).map { _ in
            let label = String(decoding: try r.bytes(try r.count()), as: UTF8.self)
            let cf = try r.count(), cn = try r.count(), tf = try r.count(), tn = try r.count()
            let time = try r.double()
            let all: [SampleOutcome] = try (0..<(cn + tn)).map { _ in
                let tc = try r.count()
                let peaks = try r.doubles()
                let xy = try r.doubles()
                guard xy.count % 2 == 0 else { throw ISACError.malformedFile(path: path, reason: "odd position array") }
                let pos = stride(from: 0, to: xy.count, by: 2).map { Position2(xy[$0], xy[$0 + 1]) }
                let ta = try r.doubles(), tr = try r.doubles(), ea = try r.doubles(), er = try r.doubles()
                let se = try r.count(), sy = try r.count()
                return SampleOutcome(trace: DetectionTrace(trueCount: tc, peaks: peaks), truePositions: pos, trueAnglesRad: ta,
                                     trueRangesMeters: tr, estimatedAnglesRad: ea, estimatedRangesMeters: er, symbolErrors: se, symbols: sy)
            }
            return MethodShardResult(label: label, calibrationFirst: cf, calibration: Array(all[..<cn]), testFirst: tf,
                                     test: Array(all[cn...]), runTimeSeconds: time)
        }
    }
}

private struct ByteWriter {
    var buffer: [UInt8] = []
    mutating func bytes(_ b: [UInt8]) { buffer += b }
    mutating func u64(_ v: UInt64) { for k in 0..<8 { buffer.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
    mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
    mutating func double(_ v: Double) { u64(v.bitPattern) }
    mutating func doubles(_ v: [Double]) { int(v.count); for x in v { double(x) } }
}

private struct ByteReader {
    let bytes: [UInt8]
    let path: String
    var at = 0
    mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, at + n <= bytes.count else { throw ISACError.malformedFile(path: path, reason: "truncated payload at byte \(at)") }
        defer { at += n }
        return Array(bytes[at..<(at + n)])
    }
    mutating func u64() throws -> UInt64 {
        let b = try bytes(8)
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[$1]) << (8 * UInt64($1)) }
    }
    /// A non-negative count no larger than the remaining bytes (guards against corrupt lengths).
    mutating func count() throws -> Int {
        let v = Int64(bitPattern: try u64())
        guard v >= 0, v <= Int64(bytes.count) else { throw ISACError.malformedFile(path: path, reason: "bad length \(v) at byte \(at - 8)") }
        return Int(v)
    }
    mutating func double() throws -> Double { Double(bitPattern: try u64()) }
    mutating func doubles() throws -> [Double] { let n = try count(); return try (0..<n).map { _ in try double() } }
}
