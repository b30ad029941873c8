import Foundation
import Linalg

/// One part `index` of `count` of a shardable job (`--shard i/n`), and the contiguous block of work
/// items it owns.
///
/// Work items `0 ..< total` are split into `count` contiguous blocks of granules (a granule is the
/// smallest unit a shard may own, e.g. the 64-sample network batch of a learned receiver, so that a shard
/// boundary never changes what is computed together). With `g = ⌈total / granule⌉` granules, shard `i`
/// owns granules `⌊i·g/n⌋ ..< ⌊(i+1)·g/n⌋`: block sizes differ by at most one granule, the blocks tile
/// `0 ..< total` in shard order, and concatenating the shards' results in index order gives exactly the
/// single-process order — which is what makes merged results bit-identical to one run.
public struct ShardSpec: Sendable, Equatable, CustomStringConvertible {
    /// Shard index i ∈ 0 ..< count and shard count n ≥ 1 (`--shard i/n`).
    public let index: Int
    public let count: Int

    /// - Parameters: `index` in `0 ..< count`, `count ≥ 1`; `flag` is the CLI flag reported on error.
    public init(index: Int, count: Int, flag: String = "--shard") throws {
        guard count >= 1, index >= 0, index < count else {
            throw ISACError.invalidParameter(name: flag, value: "\(index)/\(count)", valid: "must be i/n with n ≥ 1 and 0 ≤ i < n")
        }
        self.index = index; self.count = count
    }

    /// Parses `i/n` (e.g. `3/8`).
    public static func parse(_ text: String, flag: String = "--shard") throws -> ShardSpec {
        let p = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 2, let i = p[0], let n = p[1] else {
            throw ISACError.invalidParameter(name: flag, value: "\"\(text)\"", valid: "must be i/n with n ≥ 1 and 0 ≤ i < n (e.g. 0/4)")
        }
        return try ShardSpec(index: i, count: n, flag: flag)
    }

    /// `i/n`.
    public var description: String { "\(index)/\(count)" }

    /// The block of `0 ..< total` this shard owns (see the type's comment).
    /// - Throws: `invalidParameter(name: countFlag)` when there are fewer granules than shards, since a shard
    ///   with no work is almost always a mistake in the array size (more tasks than samples).
    public func range(of total: Int, granule: Int = 1, what: String = "samples", countFlag: String = "--shard") throws -> Range<Int> {
        try Check.positive(granule, "granule")
        let g = (total + granule - 1) / granule
        guard total >= 1, g >= count else {
            throw ISACError.invalidParameter(name: countFlag, value: countFlag == "--shard" ? description : "\(count)",
                                             valid: "the shard count must not exceed the \(total) \(what)" + (granule > 1 ? " (\(g) blocks of \(granule))" : ""))
        }
        let lo = index * g / count, hi = (index + 1) * g / count
        return min(total, lo * granule) ..< min(total, hi * granule)
    }
}

/// FNV-1a, 64 bit, over UTF-8 bytes: a cheap, platform-independent fingerprint for "same configuration"
/// checks (not a cryptographic hash; it guards against mistakes, not adversaries).
public enum FNV1a {
    /// FNV-1a (64-bit offset basis and prime) of the UTF-8 bytes of `text`.
    public static func hash64(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h ^= UInt64(b); h = h &* 0x0000_0100_0000_01b3 }
        return h
    }
    /// 16 lowercase hex digits.
    public static func hex(_ text: String) -> String { String(format: "%016llx", hash64(text)) }
}

/// The record one shard writes next to its payload (`<stem>.json` beside `<stem>.bin`), atomically and
/// *after* the payload, so a shard counts as finished only when its record exists and the payload's size
/// and CRC-32 match.
///
/// `config` holds every option of the sharded command that influences the result (seed included, the
/// shard flags excluded) as `name → value` text; `configHash` is FNV-1a of its canonical JSON. Shards merge
/// only when command, shard count and configHash agree. `arguments` is the command line (shard flags
/// removed) from which the merge re-derives the configuration with the command's own parser.
public struct ShardManifest: Codable, Sendable, Equatable {
    /// Record format tag (`formatName`), the sharded command, this shard's index and the shard count,
    /// the result-relevant options (`config`, see the type's doc) and their hash, the command line, the payload file
    /// name with its size (bytes) and CRC-32.
    public var format: String
    public var command: String
    public var shardIndex: Int
    public var shardCount: Int
    public var config: [String: String]
    public var configHash: String
    public var arguments: [String]
    public var payload: String
    public var payloadBytes: Int
    public var payloadCRC32: UInt32
    /// Wall time of this shard's computation, seconds.
    public var runTimeSeconds: Double
    /// Current value of `format`; readers reject other formats.
    public static let formatName = "isackit-shard/1"

    /// The record of shard `shard` of `command`; `configHash` is computed from `config` (`hash`).
    public init(command: String, shard: ShardSpec, config: [String: String], arguments: [String], payload: String,
                payloadBytes: Int, payloadCRC32: UInt32, runTimeSeconds: Double) {
        self.format = Self.formatName; self.command = command
        self.shardIndex = shard.index; self.shardCount = shard.count
        self.config = config; self.configHash = Self.hash(config); self.arguments = arguments
        self.payload = payload; self.payloadBytes = payloadBytes; self.payloadCRC32 = payloadCRC32
        self.runTimeSeconds = runTimeSeconds
    }

    /// FNV-1a of the config as sorted `name=value` lines.
    public static func hash(_ config: [String: String]) -> String {
        FNV1a.hex(config.keys.sorted().map { "\($0)=\(config[$0]!)" }.joined(separator: "\n"))
    }

    /// `shard-IIII-of-NNNN` (the stem of the record and payload file names).
    public static func stem(_ s: ShardSpec) -> String { String(format: "shard-%04d-of-%04d", s.index, s.count) }
}

/// Shard files on disk: writing one shard, finding a finished one (`--resume`), and collecting a complete,
/// consistent set for a merge.
public enum ShardStore {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .prettyPrinted]; return e
    }

    /// Writes `payload` then its record into `dir` (created if needed). Returns the record path.
    @discardableResult
    public static func write(payload: Data, command: String, shard: ShardSpec, config: [String: String], arguments: [String],
                             runTimeSeconds: Double, to dir: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let stem = ShardManifest.stem(shard)
        try AtomicFile.write(payload, to: dir + "/" + stem + ".bin")
        let m = ShardManifest(command: command, shard: shard, config: config, arguments: arguments, payload: stem + ".bin",
                              payloadBytes: payload.count, payloadCRC32: CRC32.checksum(payload), runTimeSeconds: runTimeSeconds)
        let path = dir + "/" + stem + ".json"
        try AtomicFile.write(try encoder().encode(m), to: path)
        return path
    }

    /// Reads and verifies one record and its payload.
    public static func read(record path: String) throws -> (manifest: ShardManifest, payload: Data) {
        let m: ShardManifest
        do { m = try JSONDecoder().decode(ShardManifest.self, from: try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw ISACError.malformedFile(path: path, reason: "not a shard record (\(error)); delete it and rerun that shard")
        }
        guard m.format == ShardManifest.formatName else {
            throw ISACError.malformedFile(path: path, reason: "format \(m.format), expected \(ShardManifest.formatName)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        let pp = (dir.isEmpty ? "." : dir) + "/" + m.payload
        guard let d = FileManager.default.contents(atPath: pp) else {
            throw ISACError.malformedFile(path: pp, reason: "missing, but its record \(path) says it is finished; delete the record and rerun shard \(m.shardIndex)/\(m.shardCount) with --resume")
        }
        guard d.count == m.payloadBytes, CRC32.checksum(d) == m.payloadCRC32 else {
            throw ISACError.malformedFile(path: pp, reason: String(format: "corrupted: %d bytes, CRC-32 %08x, expected %d bytes, %08x; delete it and its record and rerun shard %d/%d with --resume",
                                                                    d.count, CRC32.checksum(d), m.payloadBytes, m.payloadCRC32, m.shardIndex, m.shardCount))
        }
        return (m, d)
    }

    /// The finished shard `shard` in `dir` if its configuration matches (`--resume`), nil if absent.
    /// - Throws: when a record exists but belongs to another configuration (never overwrite someone else's run),
    ///   or exists and `resume` is false.
    public static func finished(_ shard: ShardSpec, in dir: String, configHash: String, resume: Bool, dirFlag: String) throws -> (manifest: ShardManifest, payload: Data)? {
        let path = dir + "/" + ShardManifest.stem(shard) + ".json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let r = try read(record: path)
        guard r.manifest.configHash == configHash else {
            throw ISACError.invalidParameter(name: dirFlag, value: dir, valid: "holds shard \(shard) of another configuration (\(r.manifest.configHash), this run is \(configHash)); use an empty folder")
        }
        guard resume else {
            throw ISACError.io("\(path): shard \(shard) is already finished; pass --resume to keep it, or use an empty \(dirFlag)")
        }
        return r
    }

    /// Collects every `shard-*.json` record in `dirs` and checks that they form one complete run: one command,
    /// one shard count, one configuration, no duplicates, no gaps.
    /// - Returns: the records and payloads in shard order.
    public static func collect(_ dirs: [String]) throws -> [(manifest: ShardManifest, payload: Data)] {
        guard !dirs.isEmpty else { throw ISACError.invalidParameter(name: "DIR", value: "(none)", valid: "give at least one shard folder") }
        var found: [(path: String, r: (manifest: ShardManifest, payload: Data))] = []
        for d in dirs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: d, isDirectory: &isDir), isDir.boolValue else {
                throw ISACError.invalidParameter(name: "DIR", value: d, valid: "must be an existing folder of shard files")
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: d).filter { $0.hasPrefix("shard-") && $0.hasSuffix(".json") }.sorted()
            for n in names { found.append((d + "/" + n, try read(record: d + "/" + n))) }
        }
        guard let first = found.first else {
            throw ISACError.invalidParameter(name: "DIR", value: dirs.joined(separator: " "), valid: "must contain shard-*.json records (none found: did the array tasks run?)")
        }
        let m0 = first.r.manifest
        var byIndex: [Int: Int] = [:]
        for (k, f) in found.enumerated() {
            let m = f.r.manifest
            guard m.command == m0.command else {
                throw ISACError.invalidParameter(name: "DIR", value: f.path, valid: "is a shard of `\(m.command)`, \(first.path) of `\(m0.command)`: merge shards of one run only")
            }
            guard m.shardCount == m0.shardCount else {
                throw ISACError.invalidParameter(name: "DIR", value: f.path, valid: "is shard \(m.shardIndex)/\(m.shardCount), \(first.path) is of \(m0.shardCount) shards: merge shards of one layout only")
            }
            guard m.configHash == m0.configHash else {
                let keys = Set(m.config.keys).union(m0.config.keys).sorted().filter { m.config[$0] != m0.config[$0] }
                let diff = keys.prefix(4).map { "\($0): \(m0.config[$0] ?? "(unset)") vs \(m.config[$0] ?? "(unset)")" }.joined(separator: "; ")
                throw ISACError.invalidParameter(name: "DIR", value: f.path, valid: "has another configuration than \(first.path) (\(diff)): shards of different configurations or seeds cannot be merged")
            }
            if let prev = byIndex[m.shardIndex] {
                guard found[prev].r.payload == f.r.payload else {
                    throw ISACError.invalidParameter(name: "DIR", value: f.path, valid: "duplicates shard \(m.shardIndex)/\(m.shardCount) of \(found[prev].path) with different content")
                }
                continue    // the same shard listed twice (e.g. a folder given twice): harmless
            }
            byIndex[m.shardIndex] = k
        }
        let missing = (0..<m0.shardCount).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            let list = missing.prefix(20).map(String.init).joined(separator: ", ") + (missing.count > 20 ? ", …" : "")
            throw ISACError.io("incomplete run: \(missing.count) of \(m0.shardCount) shards missing (\(list)); rerun those array tasks (same command with --shard i/\(m0.shardCount) --resume), then merge again")
        }
        return (0..<m0.shardCount).map { found[byIndex[$0]!].r }
    }
}
