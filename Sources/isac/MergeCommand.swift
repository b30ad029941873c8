import ArgumentParser
import ExtendedDatasets
import Foundation
import ISACIO
import Linalg
import ExtendedTarget
import Scattering

/// `isac merge DIR...`: combines the shards of one run into the result a single process prints.
///
/// - Shard folders of `multitarget evaluate --shard i/n --shard-dir DIR`: the command's `--json` object
///   (metrics bit-identical to one run; `run_time_s` is the summed shard time).
/// - A dataset folder of `dataset generate --shard i/n --out DIR`: verifies every chunk and writes
///   `manifest.json` (as `isac dataset merge`).
/// - `OUT/shards` of `extended experiment NAME --shard i/n --out OUT`: the experiment's tables and figures from the
///   cached runs (as `extended experiment NAME --merge`, which stays as an alias).
/// - Shard folders of `wideband figure fig8|fig8snr`, `multitarget pfa-sweep|tradeoff|train-sweep`.
/// Refuses shards of different commands, layouts, configurations or seeds, and names missing shards.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the shards of a --shard i/n run (multitarget evaluate shard folders, or a dataset folder) into one result.")
    @Argument(help: "Shard folders (all shards of one run; several folders are read together), or one dataset folder.")
    var dirs: [String] = []
    @Option(name: .customLong("output"), help: "Also write the merged JSON object to this file (atomically).") var output: String?
    @OptionGroup var format: JSONOption

    func validate() throws {
        // Pre-flight --output before reading any shard (refuses a folder, FIFO, device, symlink, `x/`).
        if let o = output { try CLIOutput.checkFile(o, flag: "--output") }
    }

    /// The merged JSON object (as a Foundation tree, whatever type the merging command returns: a `Codable` result
    /// or a `[String: Any]` object) and a one-line human summary.
    static func merge(_ dirs: [String]) throws -> (object: [String: Any], summary: String) {
        let fm = FileManager.default
        if dirs.count == 1, fm.fileExists(atPath: dirs[0] + "/config.json"), fm.fileExists(atPath: dirs[0] + "/chunks") {
            let m = DatasetMergeResult(out: dirs[0], manifest: try DatasetWriter.merge(dir: dirs[0]))
            return (try ResultJSON.object(m), m.summary)
        }
        let shards = try ShardStore.collect(dirs)
        func merged(_ result: Any, _ summary: String) throws -> (object: [String: Any], summary: String) {
            (try ResultJSON.object(result), summary)
        }
        switch shards[0].manifest.command {
        case MTEvaluate.shardCommandName:
            return try merged(try MTEvaluate.mergedJSON(shards), "merged \(shards.count) shards of multitarget evaluate")
        case MTPfaSweep.shardCommandName:
            return try merged(try MTPfaSweep.mergedJSON(shards), "merged \(shards.count) shards of multitarget pfa-sweep")
        case MTTradeoff.shardCommandName:
            return try merged(try MTTradeoff.mergedJSON(shards), "merged \(shards.count) shards of multitarget tradeoff (wrote its --out)")
        case MTTrainSweep.shardCommandName:
            return try merged(try MTTrainSweep.mergeShards(shards), "merged \(shards.count) shards of multitarget train-sweep (wrote its table)")
        case ShardedExperiment.commandName:
            let o = try ResultJSON.object(try ExtendedExperiment.mergeShards(shards))
            return (o, "merged \(shards.count) shards of extended experiment \(o["experiment"] ?? ""): " + ((o["files"] as? [String]) ?? []).joined(separator: ", "))
        case let c where c.hasPrefix(WBFigure.shardCommandPrefix):
            return try merged(try WBFigure.mergeShards(shards), "merged \(shards.count) shards of \(c)")
        case let c:
            throw ISACError.invalidParameter(name: "DIR", value: dirs.joined(separator: " "), valid: "holds shards of `\(c)`, which this isac cannot merge")
        }
    }

    func run() throws {
        // Here rather than in validate(): ArgumentParser reports validate() errors before unknown
        // options, so `isac merge --typo` would only say that DIR is missing.
        guard !dirs.isEmpty else { throw ISACError.invalidParameter(name: "DIR", value: "(none)", valid: "give at least one shard folder") }
        let (obj, summary) = try Self.merge(dirs)
        let text = try JSONOutput.string(obj)
        if let o = output { try AtomicFile.write(text + "\n", to: o) }
        if format.json { print(text) } else {
            print(summary)
            if let rs = (obj["results"] as? [[String: Any]]) ?? (obj["points"] as? [[String: Any]]) ?? (obj["p_md"] != nil ? [obj] : nil) {
                func pad(_ t: String, _ w: Int) -> String { t.count >= w ? t : t + String(repeating: " ", count: w - t.count) }
                let w = max(8, rs.map { (($0["impairments"] as? String) ?? "").count }.max() ?? 0)
                print(pad("method", w) + "     p_md     p_fa  GOSPA[m]      SER")
                for r in rs {
                    print(pad((r["impairments"] as? String) ?? "", w) + String(format: " %8.4f %8.4f %9.3f %8.4f", (r["p_md"] as? Double) ?? .nan,
                                 (r["p_fa"] as? Double) ?? .nan, (r["gospa_m"] as? Double) ?? .nan, (r["ser"] as? Double) ?? .nan))
                }
            }
            if let o = output { print("wrote \(o)") }
        }
    }
}
