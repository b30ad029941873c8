import ArgumentParser
import ExtendedDatasets
import Foundation
import ISACIO
import Linalg
import MultiTargetISAC
import Scattering
import ExtendedTarget
import WidebandSensing

/// `isac cluster slurm|k8s -- <isac command>`: runs a shardable command as an array of `--shard i/n` tasks
/// plus one merge job (docs/cluster.md).
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run a shardable isac command as a Slurm job array (or Kubernetes Indexed Job) with a dependent merge.",
        subcommands: [ClusterSlurm.self, ClusterK8s.self])
}

/// A shardable command, what each array task runs and what the merge job runs.
struct ShardPlan {
    /// `dataset generate`, `multitarget evaluate`.
    var name: String
    /// The user's command (without `isac`), and the arguments each task appends after it (`{INDEX}` = shard index).
    var command: [String]
    var taskSuffix: [String]
    var mergeCommand: [String]
    /// Where the merged result lands (for the report).
    var result: String
    /// Work items per shard layout, for the "more tasks than work" check, and their name.
    var units: Int
    var unitName: String
    /// A one-off step the array tasks need first (the extended experiment's `--dataset-only`): its own job, which
    /// the array depends on (Slurm `afterok`; Kubernetes: the shard pods wait for `prepareDone`).
    var prepare: [String]? = nil
    /// The file that exists once `prepare` has finished.
    var prepareDone: String? = nil
    /// Where the shard records land when it is not DIR/shards (extended experiment: OUT/shards).
    var recordDir: String? = nil

    static let shardable = "dataset generate, multitarget evaluate, multitarget pfa-sweep, multitarget tradeoff, multitarget train-sweep, wideband figure fig8|fig8snr, extended experiment NAME"

    /// Builds the plan for `command` (validated with the command's own parser) in working folder `dir`.
    static func make(command: [String], tasks: Int, dir: String) throws -> ShardPlan {
        guard command.count >= 2 else {
            throw ISACError.invalidParameter(name: "COMMAND", value: command.isEmpty ? "(none)" : command.joined(separator: " "),
                                             valid: "give the isac command after `--`, e.g. `-- multitarget evaluate --samples 4000`; shardable: \(shardable)")
        }
        let path = command[0] + " " + command[1]
        let rest = Array(command.dropFirst(2))
        for a in rest where a == "--shard" || a.hasPrefix("--shard=") || a == "--shard-dir" || a.hasPrefix("--shard-dir=") || a == "--resume" {
            throw ISACError.invalidParameter(name: "COMMAND", value: a, valid: "leave out --shard/--shard-dir/--resume: every array task gets its own")
        }
        func parsed<C: ParsableCommand>(_ t: C.Type) throws -> C {
            do { return try t.parse(rest) } catch let e as ISACError { throw e } catch {
                throw ISACError.invalidParameter(name: "COMMAND", value: path, valid: C.message(for: error))
            }
        }
        switch path {
        case "dataset generate":
            let g = try parsed(DatasetGenerate.self)
            let cfg = try DatasetConfig.preset(g.preset, solver: DatasetSolver(rawValue: g.solver)!, seed: g.seed)
            let out = absolute(g.out)
            // Chunk c goes to shard c % n (DatasetWriter), so n ≤ chunks keeps every task busy.
            try check(tasks: tasks, units: cfg.chunkCount, what: "chunks of dataset preset \(g.preset)/\(g.solver)")
            return ShardPlan(name: "dataset-generate", command: command, taskSuffix: ["--shard", "{INDEX}/\(tasks)", "--resume"],
                             mergeCommand: ["merge", out, "--json", "--output", dir + "/merged.json"], result: out + "/manifest.json",
                             units: cfg.chunkCount, unitName: "chunks")
        case "multitarget evaluate":
            let e = try parsed(MTEvaluate.self)
            if let c = e.checkpoint, try NNBLCheckpoint.kind(at: c) != "nnbl" {
                throw ISACError.invalidParameter(name: "--checkpoint", value: c, valid: "a sharded evaluate supports NNBL checkpoints and --impairments rows; run impairment/dictionary checkpoints unsharded (or with pfa-sweep)")
            }
            let granule = e.checkpoint == nil ? 1 : 64
            return try samplePlan(name: "multitarget-evaluate", command: command, tasks: tasks, dir: dir, samples: e.samples,
                                  calibrationSamples: e.calSamples ?? e.samples, granule: granule, result: dir + "/merged.json")
        case "multitarget pfa-sweep":
            // Shards write no files; the merge job writes the command's --out (PfaSweepReport), when given.
            let e = try parsed(MTPfaSweep.self)
            let granule = try MTPfaSweep.granule(e.checkpoint)
            return try samplePlan(name: "multitarget-pfa-sweep", command: command, tasks: tasks, dir: dir, samples: e.samples,
                                  calibrationSamples: e.calSamples ?? e.samples, granule: granule,
                                  result: e.out.map { absolute($0) + "/pfa_sweep.csv" } ?? dir + "/merged.json")
        case "multitarget tradeoff":
            // Each task computes its block of every (curve, φ, η) point; the merge job writes the command's --out.
            let e = try parsed(MTTradeoff.self)
            let granule = try MTPfaSweep.granule(e.checkpoint)
            return try samplePlan(name: "multitarget-tradeoff", command: command, tasks: tasks, dir: dir, samples: e.samples,
                                  calibrationSamples: e.calSamples ?? e.samples, granule: granule, result: absolute(e.out) + "/tradeoff.csv")
        case "wideband figure":
            // One Monte-Carlo trial per work item; the merge job writes the figure into the command's --out.
            let f = try parsed(WBFigure.self)
            guard WidebandTrialPlan.shardable.contains(f.name) else {
                throw ISACError.invalidParameter(name: "COMMAND", value: "wideband figure \(f.name)", valid: "only the Monte-Carlo figures \(WidebandTrialPlan.shardable.joined(separator: ", ")) shard; run the others in one process")
            }
            let trials = try WidebandTrialPlan(name: f.name, options: try f.figureOptions())
            try check(tasks: tasks, units: trials.count, what: "trials (points × --trials) of \(f.name)")
            return ShardPlan(name: "wideband-figure-\(f.name)", command: command,
                             taskSuffix: ["--shard", "{INDEX}/\(tasks)", "--shard-dir", dir + "/shards", "--resume"],
                             mergeCommand: ["merge", dir + "/shards", "--json", "--output", dir + "/merged.json"],
                             result: absolute(f.out) + "/\(f.name).csv", units: trials.count, unitName: "trials")
        case "extended experiment":
            // One trained run (method, seed, K_s, fraction) per work item into OUT/runs; records in OUT/shards.
            let e = try parsed(ExtendedExperiment.self)
            for (given, flag) in [(e.merge, "--merge"), (e.datasetOnly, "--dataset-only")] where given {
                throw ISACError.invalidParameter(name: "COMMAND", value: flag, valid: "leave out \(flag): the plan runs --dataset-only once before the array and merges with `isac merge OUT/shards`")
            }
            var preset = try ExperimentPreset.named(e.preset)
            if let s = try e.parsedSeeds() { preset.seeds = s }
            let tones: Int
            if let d = e.data {
                guard let m = try? JSONDecoder().decode(DatasetManifest.self, from: Data(contentsOf: URL(fileURLWithPath: d + "/manifest.json"))) else {
                    throw ISACError.invalidParameter(name: "--data", value: d, valid: "must be a finished dataset folder (manifest.json from `isac dataset generate` + `isac merge`)")
                }
                tones = m.config.subcarriers
            } else {
                tones = preset.dataset.subcarriers
            }
            let runs = try ExperimentSuite.plannedRuns(e.name, preset: preset, toneCount: tones).count
            try check(tasks: tasks, units: runs, what: "trained runs of experiment \(e.name) (preset \(e.preset), \(preset.seeds.count) seeds)")
            let out = absolute(e.out)
            // Without --data every task reads OUT/dataset: one job generates it first (tasks must not generate it concurrently).
            let prepare = e.data == nil ? ["extended", "experiment", e.name, "--preset", e.preset, "--out", out, "--dataset-only", "--quiet"] : nil
            return ShardPlan(name: "extended-experiment-\(e.name)", command: command, taskSuffix: ["--shard", "{INDEX}/\(tasks)"],
                             mergeCommand: ["merge", out + "/shards", "--json", "--output", dir + "/merged.json"],
                             result: out, units: runs, unitName: "trained runs", prepare: prepare,
                             prepareDone: prepare == nil ? nil : out + "/dataset/manifest.json", recordDir: out + "/shards")
        case "multitarget train-sweep":
            let w = try parsed(MTTrainSweep.self)
            let items = try w.items().count
            try check(tasks: tasks, units: items, what: "(seed, learning rate) runs of the sweep")
            return ShardPlan(name: "multitarget-train-sweep", command: command,
                             taskSuffix: ["--shard", "{INDEX}/\(tasks)", "--shard-dir", dir + "/shards", "--resume"],
                             mergeCommand: ["merge", dir + "/shards", "--json", "--output", dir + "/merged.json"],
                             result: absolute(w.out) + "/" + MTTrainSweep.tableName, units: items, unitName: "runs")
        default:
            throw ISACError.invalidParameter(name: "COMMAND", value: path, valid: "is not shardable; shardable commands: \(shardable)")
        }
    }

    /// The plan of a command sharded by `ShardedEvaluation` sample blocks (evaluate, pfa-sweep, tradeoff): every task
    /// writes its record to DIR/shards, the merge job runs `isac merge DIR/shards`; `tasks` must leave every task a
    /// block of both the calibration and the test samples (in multiples of `granule`).
    static func samplePlan(name: String, command: [String], tasks: Int, dir: String, samples: Int, calibrationSamples: Int,
                           granule: Int, result: String) throws -> ShardPlan {
        for (n, what) in [(samples, "samples (--samples)"), (calibrationSamples, "calibration samples (--calibration-samples)")] {
            _ = try ShardSpec(index: 0, count: tasks, flag: "--tasks").range(of: n, granule: granule, what: what, countFlag: "--tasks")
        }
        return ShardPlan(name: name, command: command,
                         taskSuffix: ["--shard", "{INDEX}/\(tasks)", "--shard-dir", dir + "/shards", "--resume"],
                         mergeCommand: ["merge", dir + "/shards", "--json", "--output", dir + "/merged.json"],
                         result: result, units: min(samples, calibrationSamples), unitName: "samples")
    }

    /// The shell line of one task: `isac COMMAND SUFFIX`, `{INDEX}` replaced by the scheduler's index variable (double
    /// quoted so the shell expands it). The suffix goes before a `--` of the command (train-sweep passes the words
    /// after it to every train run), else at the end.
    func taskLine(isac: String, index: String) -> String {
        let suffix = taskSuffix.map { $0.contains("{INDEX}") ? "\"" + $0.replacingOccurrences(of: "{INDEX}", with: index) + "\"" : shellQuote($0) }
        let cut = command.firstIndex(of: "--") ?? command.count
        let words = ([isac] + command[..<cut]).map(shellQuote) + suffix + command[cut...].map(shellQuote)
        return words.joined(separator: " ")
    }

    static func check(tasks: Int, units: Int, what: String) throws {
        guard tasks <= units else {
            throw ISACError.invalidParameter(name: "--tasks", value: "\(tasks)", valid: "must not exceed the \(units) \(what)")
        }
    }

    static func absolute(_ p: String) -> String {
        p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
    }
}

/// POSIX-shell single quoting (`'` → `'\''`); plain words stay as they are for readability.
func shellQuote(_ s: String) -> String {
    if !s.isEmpty, s.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_./=:,+@%".unicodeScalars.contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Options shared by `cluster slurm` and `cluster k8s`.
struct ClusterJobOptions: ParsableArguments {
    @Option(name: .customLong("tasks"), help: "Number of array tasks n (shards 0/n … (n-1)/n).") var tasks: Int
    @Option(name: .customLong("dir"), help: "Working folder for the scripts, logs, shard files and merged.json (default ./isac-cluster-<command>).")
    var dir: String?
    @Option(name: .customLong("isac"), help: "Path of the isac binary on the compute nodes (default: this binary for slurm, `isac` on PATH for k8s).")
    var isac: String?
    @OptionGroup var format: JSONOption
    var json: Bool { format.json }
    @Argument(parsing: .postTerminator, help: "The isac command to shard, after `--` (e.g. `-- multitarget evaluate --samples 4000`).")
    var command: [String] = []

    func validate() throws {
        try Check.inRange(tasks, 1, 1_000_000, "--tasks")
        if let d = dir, d.isEmpty { throw ISACError.invalidParameter(name: "--dir", value: "\"\"", valid: "must be a folder path") }
        if let i = isac { try ClusterValues.word(i, "--isac", what: "a program name or path on the compute nodes") }
    }

    func plan(defaultDirBase: String) throws -> (ShardPlan, String) {
        let name = command.prefix(2).joined(separator: "-")
        let d = dir.map(ShardPlan.absolute) ?? (defaultDirBase + "/isac-cluster-" + (name.isEmpty ? "job" : name))
        return (try ShardPlan.make(command: command, tasks: tasks, dir: d), d)
    }
}

struct ClusterSlurm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write and submit (sbatch) a job array running `--shard $SLURM_ARRAY_TASK_ID/n` and a merge job with --dependency=afterok.")
    @OptionGroup var job: ClusterJobOptions
    @Option(name: .customLong("partition"), help: "sbatch --partition.") var partition: String?
    @Option(name: .customLong("time"), help: "sbatch --time per task (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS).") var time: String?
    @Option(name: .customLong("mem"), help: "sbatch --mem per task (e.g. 4G, 500M).") var mem: String?
    @Option(name: .customLong("cpus-per-task"), help: "sbatch --cpus-per-task.") var cpusPerTask: Int?
    @Option(name: .customLong("account"), help: "sbatch --account.") var account: String?
    @Option(name: .customLong("max-running"), help: "At most this many array tasks at once (--array=0-(n-1)%K).") var maxRunning: Int?
    @Option(name: .customLong("extra"), parsing: .unconditionalSingleValue, help: "Further sbatch options for the array, space separated (e.g. \"--qos=short --constraint=avx2\"); repeatable.")
    var extra: [String] = []
    @Option(name: .customLong("sbatch"), help: "The sbatch executable (name on PATH or path).") var sbatch = "sbatch"
    @Flag(name: .customLong("dry-run"), help: "Print the two scripts instead of writing and submitting them.") var dryRun = false

    func validate() throws {
        if let p = partition { try ClusterValues.word(p, "--partition", what: "a Slurm partition name (or a comma-separated list)") }
        if let a = account { try ClusterValues.word(a, "--account", what: "a Slurm account name") }
        if let t = time { _ = try ClusterValues.slurmMinutes(t) }
        if let m = mem { _ = try ClusterValues.slurmMegabytes(m) }
        if let c = cpusPerTask { try Check.inRange(c, 1, 4096, "--cpus-per-task") }
        if let k = maxRunning { try Check.inRange(k, 1, 1_000_000, "--max-running") }
        for e in extra {
            let ds = e.split(whereSeparator: \.isWhitespace).map(String.init)
            guard !ds.isEmpty else {
                throw ISACError.invalidParameter(name: "--extra", value: "\"\(e)\"", valid: "must hold sbatch options, e.g. \"--qos=short --constraint=avx2\"")
            }
            for t in ds where t.range(of: #"^(-[A-Za-z][^\s#]*|--[A-Za-z][A-Za-z0-9-]*(=[^\s#]+)?)$"#, options: .regularExpression) == nil {
                throw ISACError.invalidParameter(name: "--extra", value: t, valid: "must be sbatch options: --name[=value] or -Xvalue (e.g. --qos=short, -N2), no '#'")
            }
        }
    }

    func extraDirectives() -> [String] { extra.flatMap { $0.split(whereSeparator: \.isWhitespace).map(String.init) } }

    /// The array and merge scripts, and the script of the plan's one-off first step (nil without one).
    func scripts(plan: ShardPlan, dir: String, isac: String) -> (array: String, merge: String, prepare: String?) {
        let n = job.tasks
        let cwd = FileManager.default.currentDirectoryPath
        var common: [String] = []
        if let p = partition { common.append("--partition=\(p)") }
        if let a = account { common.append("--account=\(a)") }
        if let t = time { common.append("--time=\(t)") }
        var arr = ["--job-name=isac-\(plan.name)", "--array=0-\(n - 1)" + (maxRunning.map { "%\($0)" } ?? ""),
                   "--output=\(dir)/logs/%x-%A_%a.out", "--chdir=\(cwd)"] + common
        if let m = mem { arr.append("--mem=\(m)") }
        if let c = cpusPerTask { arr.append("--cpus-per-task=\(c)") }
        arr += extraDirectives()
        let mergeDirectives = ["--job-name=isac-\(plan.name)-merge", "--output=\(dir)/logs/%x-%j.out", "--chdir=\(cwd)",
                               "--ntasks=1"] + common
        let task = plan.taskLine(isac: isac, index: "${SLURM_ARRAY_TASK_ID}")
        let header = "#!/bin/bash\n# Generated by `isac cluster slurm --tasks \(n)`: shard ${SLURM_ARRAY_TASK_ID}/\(n) of\n#   isac \(plan.command.joined(separator: " "))\n"
        let a = header + arr.map { "#SBATCH \($0)\n" }.joined()
            + "set -euo pipefail\n# A failed task can be rerun alone: sbatch --array=<ids> this-script (finished shards are kept: --resume).\n"
            + "exec \(task)\n"
        let m = "#!/bin/bash\n# Generated by `isac cluster slurm`: merges the \(n) shards once every array task succeeded\n"
            + "# (submitted with --dependency=afterok:<array job id>). Rerun by hand with: sbatch this-script\n"
            + mergeDirectives.map { "#SBATCH \($0)\n" }.joined()
            + "set -euo pipefail\nexec " + ([isac] + plan.mergeCommand).map(shellQuote).joined(separator: " ") + "\n"
        let p = plan.prepare.map { cmd in
            "#!/bin/bash\n# Generated by `isac cluster slurm`: the one-off step before the \(n) array tasks (submitted first;\n"
            + "# the array has --dependency=afterok:<this job id>). Resumable: rerun with sbatch this-script\n"
            + (["--job-name=isac-\(plan.name)-prepare", "--output=\(dir)/logs/%x-%j.out", "--chdir=\(cwd)", "--ntasks=1"] + common
                + (mem.map { ["--mem=\($0)"] } ?? []) + (cpusPerTask.map { ["--cpus-per-task=\($0)"] } ?? [])).map { "#SBATCH \($0)\n" }.joined()
            + "set -euo pipefail\nexec " + ([isac] + cmd).map(shellQuote).joined(separator: " ") + "\n"
        }
        return (a, m, p)
    }

    func run() throws {
        let (plan, dir) = try job.plan(defaultDirBase: FileManager.default.currentDirectoryPath)
        if dryRun {
            // The scripts may be meant for another machine's file system, so a missing --dir is fine;
            // but where the path (or its nearest existing ancestor) exists here, it must be a folder.
            try ClusterValues.notANonFolder(dir, flag: "--dir")
        } else {
            try CLIOutput.checkFolder(dir, flag: "--dir")  // before sbatch is looked up or anything is written
        }
        let isac = job.isac ?? currentExecutable()
        let (arrayScript, mergeScript, prepareScript) = scripts(plan: plan, dir: dir, isac: isac)
        if dryRun {
            if job.json {
                print(try ResultJSON.string(ClusterSlurmResult(dryRun: true, tasks: job.tasks, dir: dir, arrayScript: arrayScript,
                                                               mergeScript: mergeScript, prepareScript: prepareScript, result: plan.result)))
            } else {
                print((prepareScript.map { "# ---- \(dir)/prepare.sbatch ----\n" + $0 } ?? "")
                      + "# ---- \(dir)/array.sbatch ----\n" + arrayScript + "# ---- \(dir)/merge.sbatch ----\n" + mergeScript, terminator: "")
            }
            return
        }
        let sb = try resolveExecutable(sbatch, flag: "--sbatch")
        try OutputFolderCheck.ensureWritable(dir + "/logs", flag: "--dir")
        let ap = dir + "/array.sbatch", mp = dir + "/merge.sbatch"
        try AtomicFile.write(arrayScript, to: ap)
        try AtomicFile.write(mergeScript, to: mp)
        var prepareID: String?
        if let p = prepareScript {
            let pp = dir + "/prepare.sbatch"
            try AtomicFile.write(p, to: pp)
            prepareID = try Self.submit(sb, ["--parsable", pp])
        }
        let arrayID = try Self.submit(sb, ["--parsable"] + (prepareID.map { ["--dependency=afterok:\($0)", "--kill-on-invalid-dep=yes"] } ?? []) + [ap])
        let mergeID = try Self.submit(sb, ["--parsable", "--dependency=afterok:\(arrayID)", "--kill-on-invalid-dep=yes", mp])
        if job.json {
            print(try ResultJSON.string(ClusterSlurmResult(tasks: job.tasks, dir: dir, arrayScript: ap, mergeScript: mp,
                                                           prepareScript: prepareID.map { _ in dir + "/prepare.sbatch" }, result: plan.result,
                                                           arrayJobID: arrayID, mergeJobID: mergeID, prepareJobID: prepareID)))
        } else {
            if let id = prepareID { print("submitted prepare job \(id) (\(plan.prepare!.prefix(3).joined(separator: " ")) --dataset-only)") }
            print("submitted array job \(arrayID) (\(job.tasks) tasks\(prepareID.map { ", afterok:\($0)" } ?? "")) and merge job \(mergeID) (afterok:\(arrayID))")
            print("scripts: \(ap), \(mp); logs: \(dir)/logs; result: \(plan.result)")
        }
    }

    /// Runs `sbatch --parsable …` and returns the job id (the part before `;cluster`).
    static func submit(_ sbatch: String, _ args: [String]) throws -> String {
        let r = try runProcess(sbatch, args)
        let id = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard r.status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw ISACError.io("\(sbatch) \(args.joined(separator: " ")) failed (exit \(r.status)): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))\(r.stdout)")
        }
        return id
    }
}

struct ClusterK8s: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k8s",
        abstract: "Print a Kubernetes Indexed Job (JOB_COMPLETION_INDEX as the shard index) and a merge Job that waits for all shards.")
    @OptionGroup var job: ClusterJobOptions
    @Option(name: .customLong("image"), help: "Container image with isac on PATH.") var image = "isackit:latest"
    @Option(name: .customLong("parallelism"), help: "Pods running at once (default: --tasks).") var parallelism: Int?
    @Option(name: .customLong("cpu"), help: "CPU request/limit per pod.") var cpu = "2"
    @Option(name: .customLong("memory"), help: "Memory request/limit per pod.") var memory = "4Gi"
    @Option(name: .customLong("pvc"), help: "PersistentVolumeClaim (ReadWriteMany) mounted at --mount; --dir and the command's paths must lie under it.")
    var pvc = "isac-data"
    @Option(name: .customLong("mount"), help: "Mount path of --pvc in the pods.") var mount = "/data"
    @Option(name: .customLong("name"), help: "Job name prefix (DNS label, at most 63 characters; a Job name PREFIX-COMMAND over 55 characters is cut to 46 plus a hash).") var name: String?

    func validate() throws {
        if let p = parallelism { try Check.inRange(p, 1, 1_000_000, "--parallelism") }
        _ = try ClusterValues.k8sCores(cpu)
        _ = try ClusterValues.k8sBytes(memory)
        try ClusterValues.word(image, "--image", what: "a container image reference such as registry.example.org/isackit:0.5")
        guard image.range(of: #"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$"#, options: .regularExpression) != nil else {
            throw ISACError.invalidParameter(name: "--image", value: image, valid: "must be a container image reference ([registry/]name[:tag][@digest]; letters, digits and . _ - : / @)")
        }
        guard pvc.count <= 253, pvc.range(of: #"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"#, options: .regularExpression) != nil else {
            throw ISACError.invalidParameter(name: "--pvc", value: "\"\(pvc)\"", valid: "must be a PersistentVolumeClaim name: a lowercase DNS subdomain (a-z, 0-9, - and .), at most 253 characters")
        }
        let n = name ?? "isac"
        guard n.range(of: "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", options: .regularExpression) != nil else {
            throw ISACError.invalidParameter(name: "--name", value: n, valid: "must be a lowercase DNS label (a-z, 0-9, -, starting and ending with a letter or digit), at most 63 characters; longer Job names are shortened with a hash")
        }
        guard mount.hasPrefix("/"), mount.rangeOfCharacter(from: .whitespacesAndNewlines) == nil else {
            throw ISACError.invalidParameter(name: "--mount", value: "\"\(mount)\"", valid: "must be an absolute path inside the pods, without spaces (e.g. /data)")
        }
        // --dir is a path inside the pods: the shards and merged.json must land on the shared volume.
        if let d = job.dir {
            let m = mount.count > 1 && mount.hasSuffix("/") ? String(mount.dropLast()) : mount
            guard d.hasPrefix("/"), d == m || d.hasPrefix(m == "/" ? "/" : m + "/") else {
                throw ISACError.invalidParameter(name: "--dir", value: d, valid: "must be an absolute path inside the pods under --mount \(mount) (the shared volume), e.g. \(m == "/" ? "" : m)/isac-run")
            }
        }
    }

    /// Longest base Job name: the Jobs are named BASE, BASE-prepare and BASE-merge, a Job's name is also the value of
    /// its pods' `job-name` label and the Indexed Job's pods get the hostname BASE-INDEX, and all of these must be DNS
    /// labels (≤ 63 characters): 63 − len("-prepare") = 55 (indices up to 6 digits need 7).
    static let maxJobNameBase = 55

    /// The base name of the Jobs, `PREFIX-PLAN` (e.g. `isac-multitarget-evaluate`); one longer than
    /// `maxJobNameBase` is cut to its first 46 characters (trailing `-` dropped) plus `-` and the 8 hex digits of
    /// the CRC-32 of the whole name: deterministic, a valid DNS label, and two long names that share the first 46
    /// characters still differ.
    static func jobName(prefix: String, plan: String) -> String {
        let full = prefix + "-" + plan
        guard full.count > maxJobNameBase else { return full }
        var head = String(full.prefix(maxJobNameBase - 9))
        while head.hasSuffix("-") { head.removeLast() }
        return head + "-" + String(format: "%08x", ISACIO.CRC32.checksum(Data(full.utf8)))
    }

    func manifest(plan: ShardPlan, dir: String, isac: String) -> String {
        let n = job.tasks
        let jobName = Self.jobName(prefix: name ?? "isac", plan: plan.name)
        func yamlString(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        // With a one-off first step (its own Job below), every shard pod waits for that step's result file.
        let waitPrepared = plan.prepareDone.map { "until [ -f \(shellQuote($0)) ]; do sleep 30; done; " } ?? ""
        let task = waitPrepared + "exec " + plan.taskLine(isac: isac, index: "${JOB_COMPLETION_INDEX}")
        let records = plan.recordDir ?? (plan.name == "dataset-generate" ? "" : dir + "/shards")
        let wait = records.isEmpty
            ? "until [ \"$(ls \(shellQuote(plan.result.replacingOccurrences(of: "/manifest.json", with: "")))/chunks/*.json 2>/dev/null | wc -l)\" -ge \(plan.units) ]; do sleep 30; done; "
            : "until [ \"$(ls \(shellQuote(records))/shard-*-of-\(String(format: "%04d", n)).json 2>/dev/null | wc -l)\" -ge \(n) ]; do sleep 30; done; "
        let merge = wait + "exec " + ([isac] + plan.mergeCommand).map(shellQuote).joined(separator: " ")
        func pod(_ container: String, _ script: String, indent: String) -> String {
            """
            \(indent)template:
            \(indent)  spec:
            \(indent)    restartPolicy: Never
            \(indent)    containers:
            \(indent)    - name: \(container)
            \(indent)      image: \(yamlString(image))
            \(indent)      command: ["/bin/sh", "-c"]
            \(indent)      args: [\(yamlString(script))]
            \(indent)      resources:
            \(indent)        requests: {cpu: \(yamlString(cpu)), memory: \(yamlString(memory))}
            \(indent)        limits: {cpu: \(yamlString(cpu)), memory: \(yamlString(memory))}
            \(indent)      volumeMounts:
            \(indent)      - {name: data, mountPath: \(yamlString(mount))}
            \(indent)    volumes:
            \(indent)    - name: data
            \(indent)      persistentVolumeClaim: {claimName: \(yamlString(pvc))}

            """
        }
        let prepareJob = plan.prepare.map { cmd in
            """
            # The one-off first step; the shard pods start their work once \(plan.prepareDone ?? "it") exists.
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: \(jobName)-prepare
            spec:
              completions: 1
              backoffLimit: 2

            """ + pod("prepare", "exec " + ([isac] + cmd).map(shellQuote).joined(separator: " "), indent: "  ") + "---\n"
        } ?? ""
        return prepareJob + """
        # Generated by `isac cluster k8s --tasks \(n)`: \(n) shards of `isac \(plan.command.joined(separator: " "))`.
        # kubectl apply -f this.yaml; the merge Job waits until every shard has finished, then writes \(plan.result).
        # A failed index is retried (backoffLimit); finished shards are kept (--resume).
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: \(jobName)
        spec:
          completionMode: Indexed
          completions: \(n)
          parallelism: \(parallelism ?? n)
          backoffLimit: \(max(6, 2 * n))

        """ + pod("shard", task, indent: "  ") + """
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: \(jobName)-merge
        spec:
          completions: 1
          backoffLimit: 2

        """ + pod("merge", merge, indent: "  ")
    }

    func run() throws {
        let (plan, dir) = try job.plan(defaultDirBase: mount)
        let m = manifest(plan: plan, dir: dir, isac: job.isac ?? "isac")
        if job.json {
            print(try ResultJSON.string(ClusterK8sResult(tasks: job.tasks, dir: dir, manifest: m, result: plan.result)))
        } else {
            print(m, terminator: "")
        }
    }
}

/// `isac cluster slurm --json`: with `--dry-run` the scripts' text (and `dry_run: true`), else their paths and the
/// submitted job ids. The prepare fields only for a plan with a one-off first step (extended experiment without --data).
struct ClusterSlurmResult: Encodable {
    var dryRun: Bool? = nil
    var tasks: Int
    var dir: String
    var arrayScript: String
    var mergeScript: String
    var prepareScript: String?
    /// Where the merged result lands.
    var result: String
    var arrayJobID: String? = nil
    var mergeJobID: String? = nil
    var prepareJobID: String? = nil

    enum CodingKeys: String, CodingKey {
        case tasks, dir, result, dryRun = "dry_run", arrayScript = "array_script", mergeScript = "merge_script"
        case prepareScript = "prepare_script", arrayJobID = "array_job_id", mergeJobID = "merge_job_id", prepareJobID = "prepare_job_id"
    }
}

/// `isac cluster k8s --json`: the manifest text and where the merged result lands.
struct ClusterK8sResult: Encodable {
    var tasks: Int
    var dir: String
    var manifest: String
    var result: String
}

/// The running binary's absolute path (`/proc/self/exe`, else argv[0] made absolute).
func currentExecutable() -> String {
    if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
    return ShardPlan.absolute(CommandLine.arguments[0])
}

/// `name` if it is a path to an executable, else the first match on PATH.
func resolveExecutable(_ name: String, flag: String) throws -> String {
    let fm = FileManager.default
    // A folder has the x bit too: only a regular (or linked-to regular) executable file counts.
    func isProgram(_ p: String) -> Bool {
        var isDir: ObjCBool = false
        return fm.fileExists(atPath: p, isDirectory: &isDir) && !isDir.boolValue && fm.isExecutableFile(atPath: p)
    }
    if name.isEmpty {
        throw ISACError.invalidParameter(name: flag, value: "\"\"", valid: "must be an executable name (on PATH) or path")
    } else if name.contains("/") {
        if isProgram(name) { return name }
    } else {
        for d in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") where isProgram("\(d)/\(name)") {
            return "\(d)/\(name)"
        }
    }
    throw ISACError.invalidParameter(name: flag, value: name, valid: "must be an executable (not found\(name.contains("/") ? "" : " on PATH"): install the Slurm client or run on a login node; --dry-run prints the scripts without it)")
}

/// Runs a process to completion, capturing stdout and stderr.
func runProcess(_ exe: String, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    let o = Pipe(), e = Pipe()
    p.standardOutput = o; p.standardError = e
    do { try p.run() } catch { throw ISACError.io("cannot start \(exe): \(error)") }
    let od = o.fileHandleForReading.readDataToEndOfFile(), ed = e.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: od, as: UTF8.self), String(decoding: ed, as: UTF8.self))
}

/// Checks of the scheduler values `cluster slurm|k8s` pass through (their forms and operational
/// ranges): a value the scheduler would reject, or one that could never be scheduled (a pod asking
/// for 10¹² CPUs stays Pending forever), fails here with the flag, the value and the valid form.
enum ClusterValues {
    /// A name (partition, account, image, program): non-empty, one word, no `#` (it would end an
    /// `#SBATCH` line), not starting with `-` (it would read as an option).
    static func word(_ s: String, _ flag: String, what: String) throws {
        guard !s.isEmpty, s.rangeOfCharacter(from: .whitespacesAndNewlines) == nil, s.rangeOfCharacter(from: .controlCharacters) == nil,
              !s.contains("#"), !s.hasPrefix("-") else {
            throw ISACError.invalidParameter(name: flag, value: "\"\(s)\"", valid: "must be \(what): one word without spaces or '#', not starting with '-'")
        }
    }

    /// Refuses `path` when it, or its nearest existing ancestor, exists here and is not a folder
    /// (a device, FIFO, regular file or dangling link); a path that does not exist here is accepted.
    static func notANonFolder(_ path: String, flag: String) throws {
        var p = URL(fileURLWithPath: path).standardizedFileURL
        while true {
            var st = stat()
            if lstat(p.path, &st) == 0 {
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: p.path, isDirectory: &isDir), isDir.boolValue else {
                    throw ISACError.invalidParameter(name: flag, value: path, valid: p.path == URL(fileURLWithPath: path).standardizedFileURL.path
                        ? "must be a folder (something else of that name exists)" : "must be a folder path (\(p.path) is not a folder)")
                }
                return
            }
            if p.path == "/" { return }
            p.deleteLastPathComponent()
        }
    }

    /// Longest `--time` accepted: one year. Slurm stores limits in minutes; no partition allows more.
    static let maxMinutes = 365 * 24 * 60

    /// `--time` in minutes. Slurm's forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S (minutes and seconds
    /// < 60, hours in D-forms < 24); 0 is Slurm's "no limit". Refuses anything over a year.
    static func slurmMinutes(_ t: String) throws -> Int {
        let form = "must be a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (0 = no limit), at most 365 days"
        func bad() -> ISACError { ISACError.invalidParameter(name: "--time", value: "\"\(t)\"", valid: form) }
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ":" || $0 == "-") }), t.count <= 16 else { throw bad() }
        let dayParts = t.split(separator: "-", omittingEmptySubsequences: false)
        guard dayParts.count <= 2 else { throw bad() }
        let hasDays = dayParts.count == 2
        let days = hasDays ? Double(dayParts[0]) : 0
        let fields = dayParts.last!.split(separator: ":", omittingEmptySubsequences: false).map { Double($0) }
        guard let d = days, !fields.isEmpty, fields.count <= 3, fields.allSatisfy({ $0 != nil }) else { throw bad() }
        let f = fields.map { $0! }
        var minutes: Double
        if hasDays {
            // D-H, D-H:M, D-H:M:S
            guard f[0] < 24, f.dropFirst().allSatisfy({ $0 < 60 }) else { throw bad() }
            minutes = d * 1440 + f[0] * 60 + (f.count > 1 ? f[1] : 0) + (f.count > 2 ? f[2] / 60 : 0)
        } else {
            switch f.count {
            case 1: minutes = f[0]                                               // M
            case 2: guard f[1] < 60 else { throw bad() }; minutes = f[0] + f[1] / 60  // M:S
            default: guard f[1] < 60, f[2] < 60 else { throw bad() }; minutes = f[0] * 60 + f[1] + f[2] / 60  // H:M:S
            }
        }
        guard minutes <= Double(maxMinutes) else { throw bad() }
        return Int(minutes.rounded(.up))
    }

    /// Largest `--mem` accepted: 64 TiB, above the memory of any single node.
    static let maxMegabytes = 64 * 1024 * 1024

    /// `--mem` in MiB (Slurm's default unit M; suffixes K, M, G, T); 0 is Slurm's "all the node's memory".
    static func slurmMegabytes(_ m: String) throws -> Int {
        let form = "must be a Slurm memory size: an integer with an optional K, M, G or T suffix (default M), e.g. 4000, 500M, 4G; 0 = all memory of the node; at most 64T"
        guard m.count <= 24, m.range(of: #"^[0-9]+[KMGT]?$"#, options: .regularExpression) != nil else {
            throw ISACError.invalidParameter(name: "--mem", value: "\"\(m)\"", valid: form)
        }
        let unit: Double = ["K": 1.0 / 1024, "M": 1, "G": 1024, "T": 1_048_576][m.last.map(String.init) ?? ""] ?? 1
        let digits = m.last.map { $0.isNumber } == true ? m : String(m.dropLast())
        guard let n = Double(digits), n * unit <= Double(maxMegabytes) else {
            throw ISACError.invalidParameter(name: "--mem", value: m, valid: form)
        }
        return Int((n * unit).rounded(.up))
    }

    /// `--cpu` in cores: a Kubernetes CPU quantity `N`, `N.ddd` or millicores `Nm`, in [0.001, 4096]
    /// (no node has more cores; a larger request is never scheduled).
    static func k8sCores(_ c: String) throws -> Double {
        let form = "must be a CPU quantity: cores (2, 0.5) or millicores (500m), between 1m and 4096"
        guard c.count <= 24, c.range(of: #"^([0-9]+(\.[0-9]{1,3})?|[0-9]+m)$"#, options: .regularExpression) != nil else {
            throw ISACError.invalidParameter(name: "--cpu", value: "\"\(c)\"", valid: form)
        }
        let v = c.hasSuffix("m") ? (Double(c.dropLast()) ?? .nan) / 1000 : (Double(c) ?? .nan)
        guard v >= 0.001, v <= 4096 else { throw ISACError.invalidParameter(name: "--cpu", value: c, valid: form) }
        return v
    }

    /// `--memory` in bytes: a Kubernetes memory quantity (plain bytes or the suffixes k M G T P,
    /// Ki Mi Gi Ti Pi) in [16 MiB, 64 TiB]: below 16 MiB isac cannot start, above 64 TiB no node exists.
    static func k8sBytes(_ m: String) throws -> Double {
        let form = "must be a memory quantity such as 4Gi, 500Mi or 8G (suffixes k, M, G, T, P, Ki, Mi, Gi, Ti, Pi), between 16Mi and 64Ti"
        guard m.count <= 24, let r = m.range(of: #"^[0-9]+"#, options: .regularExpression) else {
            throw ISACError.invalidParameter(name: "--memory", value: "\"\(m)\"", valid: form)
        }
        let units: [String: Double] = ["": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
                                       "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776, "Pi": 1_125_899_906_842_624]
        guard let u = units[String(m[r.upperBound...])], let n = Double(m[r]) else {
            throw ISACError.invalidParameter(name: "--memory", value: "\"\(m)\"", valid: form)
        }
        let b = n * u
        guard b >= 16 * 1_048_576, b <= 64 * 1_099_511_627_776 else { throw ISACError.invalidParameter(name: "--memory", value: m, valid: form) }
        return b
    }
}
