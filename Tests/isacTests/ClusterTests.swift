import Foundation
import Testing
import _TestSupport

/// `--shard i/n` + `isac merge` and `isac cluster slurm|k8s`, run against the `isac` binary built beside the
/// test bundle. Slurm itself is exercised by scripts/slurm/ci-slurm.sh; here a stand-in `sbatch` records what
/// would be submitted and the generated scripts are executed directly, task by task.
private enum ClusterTestError: Error { case missing(String) }

private func isac(_ args: [String], env: [String: String] = [:]) throws -> ProcessRun { try runIsac(args, env: env) }

private func tempDir(_ tag: String) -> String { _TestSupport.tempDir(tag, prefix: "cluster") }

/// A stand-in `sbatch` at `dir`/sbatch: appends its arguments to `dir`/sbatch.log (one line per call) and prints the
/// job id the shell code `answer` prints (`$n` = the number of this call, from 1), as `sbatch --parsable` does.
private func fakeSbatch(in dir: String, answer: String) throws -> String {
    let fake = dir + "/sbatch"
    try """
    #!/bin/sh
    echo "$@" >> \(dir)/sbatch.log
    n=$(wc -l < \(dir)/sbatch.log)
    \(answer)

    """.write(toFile: fake, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
    return fake
}

/// What Slurm runs for a plan written to `job`: every array task (`SLURM_ARRAY_TASK_ID` = 0 ..< tasks), then the merge.
private func runPlan(_ job: String, tasks: Int) throws {
    let bash = URL(fileURLWithPath: "/bin/bash")
    for i in 0..<tasks {
        let t = try runProcess(bash, [job + "/array.sbatch"], env: ["SLURM_ARRAY_TASK_ID": "\(i)"])
        try #require(t.status == 0, "task \(i): \(t.stderr)")
    }
    let m = try runProcess(bash, [job + "/merge.sbatch"])
    try #require(m.status == 0, "merge: \(m.stderr)")
}

/// The JSON text without the wall-time fields (the only ones that legitimately differ between runs).
private func withoutTimings(_ s: String) -> String {
    s.replacingOccurrences(of: #""(method_run_time_s|run_time_s|samples_per_s)":[^,}]*,?"#, with: "", options: .regularExpression)
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A small evaluation (two impairment modes, so the merge handles several methods): ≈ 0.5 s in debug.
private let tinyEvaluate = ["multitarget", "evaluate", "--antennas", "16", "--subcarriers", "32", "--n-theta", "64", "--n-tau", "32",
                            "--impairments", "unknown,known", "--samples", "23", "--calibration-samples", "17", "--quiet"]

@Suite struct ClusterTests {
    @Test func shardedEvaluateMergesToTheSingleRunJSON() throws {
        let single = try isac(tinyEvaluate + ["--json"])
        try #require(single.status == 0, "\(single.stderr)")
        // Two layouts with uneven blocks (23 = 8+8+7, 17 = 5+6+6 …): both must give the single-run metrics.
        for n in [3, 5] {
            let dir = tempDir("merge\(n)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            for i in 0..<n {
                let r = try isac(tinyEvaluate + ["--shard", "\(i)/\(n)", "--shard-dir", dir])
                try #require(r.status == 0, "\(r.stderr)")
            }
            let m = try isac(["merge", dir, "--json", "--output", dir + "/merged.json"])
            try #require(m.status == 0, "\(m.stderr)")
            #expect(withoutTimings(m.stdout) == withoutTimings(single.stdout))
            let file = try String(contentsOfFile: dir + "/merged.json", encoding: .utf8)
            #expect(file == m.stdout)
            // The timing fields are there, and only they were removed.
            #expect(m.stdout.contains("\"run_time_s\":") && m.stdout.contains("\"samples_per_s\":"))
        }
    }

    @Test func shardedPfaSweepMergesToTheSingleRunJSON() throws {
        let sweep = ["multitarget", "pfa-sweep", "--antennas", "16", "--subcarriers", "32", "--n-theta", "64", "--n-tau", "32",
                     "--impairments", "unknown,known", "--pfa-values", "0.01,0.1,0.3", "--samples", "19", "--calibration-samples", "22", "--quiet"]
        let single = try isac(sweep + ["--json"])
        try #require(single.status == 0, "\(single.stderr)")
        let dir = tempDir("pfa")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<4 { #expect(try isac(sweep + ["--shard", "\(i)/4", "--shard-dir", dir]).status == 0) }
        let m = try isac(["merge", dir, "--json"])
        try #require(m.status == 0, "\(m.stderr)")
        #expect(withoutTimings(m.stdout) == withoutTimings(single.stdout))
        // pfa-sweep --out with --shard is written by the merge: MultitargetShardTests.shardedPfaSweepMergeWritesTheSingleRunFiles.
    }

    @Test func mergeRefusesOtherSeedsAndNamesMissingShards() throws {
        let a = tempDir("seedA"), b = tempDir("seedB")
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        for i in 0..<2 { #expect(try isac(tinyEvaluate + ["--shard", "\(i)/3", "--shard-dir", a]).status == 0) }
        #expect(try isac(tinyEvaluate + ["--seed", "8", "--shard", "2/3", "--shard-dir", b]).status == 0)
        let missing = try isac(["merge", a, "--json"])
        #expect(missing.status != 0)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.contains("1 of 3 shards missing (2)"))
        let mixed = try isac(["merge", a, b, "--json"])
        #expect(mixed.status != 0)
        #expect(mixed.stderr.contains("seed: 7 vs 8"))
        // Another shard count in the same folder is refused too.
        #expect(try isac(tinyEvaluate + ["--shard", "0/2", "--shard-dir", b]).status == 0)
        let layouts = try isac(["merge", b])
        #expect(layouts.status != 0)
        #expect(layouts.stderr.contains("of 3 shards") || layouts.stderr.contains("of 2 shards"))
    }

    @Test func finishedShardNeedsResumeAndIsKept() throws {
        let d = tempDir("resume")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let args = tinyEvaluate + ["--shard", "1/2", "--shard-dir", d]
        #expect(try isac(args).status == 0)
        let record = d + "/shard-0001-of-0002.json"
        let before = try Data(contentsOf: URL(fileURLWithPath: record))
        let again = try isac(args)
        #expect(again.status != 0)
        #expect(again.stderr.contains("--resume"))
        let resumed = try isac(args + ["--resume", "--json"])
        #expect(resumed.status == 0)
        #expect(resumed.stdout.contains("\"resumed\":true"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: record)) == before)
        // Another configuration in the same folder is refused even with --resume.
        let other = try isac(tinyEvaluate + ["--eta", "0.7", "--shard", "1/2", "--shard-dir", d, "--resume"])
        #expect(other.status != 0)
        #expect(other.stderr.contains("--shard-dir"))
        // A corrupted payload is detected by the merge (CRC-32) instead of being merged.
        #expect(try isac(tinyEvaluate + ["--shard", "0/2", "--shard-dir", d]).status == 0)
        let payload = d + "/shard-0000-of-0002.bin"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: payload))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: payload))
        let corrupt = try isac(["merge", d])
        #expect(corrupt.status != 0)
        #expect(corrupt.stderr.contains("corrupted"))
    }

    @Test func slurmScriptsRunTaskByTaskMergeToTheSingleRun() throws {
        let d = tempDir("slurm")
        defer { try? FileManager.default.removeItem(atPath: d) }
        // The first answer carries a cluster suffix, as `sbatch --parsable` on a federation does.
        let fake = try fakeSbatch(in: d, answer: #"if [ "$n" -eq 1 ]; then echo "4242;testcluster"; else echo 4243; fi"#)
        let job = d + "/job"
        let r = try isac(["cluster", "slurm", "--tasks", "3", "--dir", job, "--sbatch", fake, "--time", "0:30:00", "--mem", "1G",
                          "--extra", "--qos=short", "--json", "--"] + tinyEvaluate)
        try #require(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(o["array_job_id"] as? String == "4242")
        #expect(o["merge_job_id"] as? String == "4243")
        let log = try String(contentsOfFile: d + "/sbatch.log", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(log == ["--parsable \(job)/array.sbatch", "--parsable --dependency=afterok:4242 --kill-on-invalid-dep=yes \(job)/merge.sbatch"])
        let script = try String(contentsOfFile: job + "/array.sbatch", encoding: .utf8)
        for line in ["#SBATCH --array=0-2", "#SBATCH --time=0:30:00", "#SBATCH --mem=1G", "#SBATCH --qos=short",
                     "--shard \"${SLURM_ARRAY_TASK_ID}/3\"", "--resume"] {
            #expect(script.contains(line), "array script lacks \(line)")
        }
        try runPlan(job, tasks: 3)
        let merged = try String(contentsOfFile: job + "/merged.json", encoding: .utf8)
        let single = try isac(tinyEvaluate + ["--json"])
        #expect(withoutTimings(merged) == withoutTimings(single.stdout))
    }

    @Test func clusterBadInputNamesTheFlag() throws {
        let tooMany = try isac(["cluster", "slurm", "--tasks", "20", "--dry-run", "--"] + tinyEvaluate)
        #expect(tooMany.status != 0)
        #expect(tooMany.stderr.contains("--tasks") && tooMany.stderr.contains("17 calibration samples"))
        let noSbatch = try isac(["cluster", "slurm", "--tasks", "2", "--sbatch", "isac-no-such-sbatch", "--"] + tinyEvaluate)
        #expect(noSbatch.status != 0)
        #expect(noSbatch.stderr.contains("--sbatch"))
        let zero = try isac(["cluster", "slurm", "--tasks", "0", "--dry-run", "--"] + tinyEvaluate)
        #expect(zero.status != 0 && zero.stderr.contains("--tasks"))
        let notShardable = try isac(["cluster", "slurm", "--tasks", "2", "--dry-run", "--", "rate", "--json"])
        #expect(notShardable.status != 0 && notShardable.stderr.contains("not shardable"))
        let own = try isac(["cluster", "slurm", "--tasks", "2", "--dry-run", "--"] + tinyEvaluate + ["--shard", "0/2"])
        #expect(own.status != 0 && own.stderr.contains("--shard"))
        let chunks = try isac(["cluster", "slurm", "--tasks", "9", "--dry-run", "--", "dataset", "generate", "--out", "x"])
        #expect(chunks.status != 0 && chunks.stderr.contains("--tasks") && chunks.stderr.contains("8 chunks"))
        let badShard = try isac(tinyEvaluate + ["--shard", "3/3", "--shard-dir", "x"])
        #expect(badShard.status != 0 && badShard.stderr.contains("--shard"))
        let noDir = try isac(tinyEvaluate + ["--shard", "0/3"])
        #expect(noDir.status != 0 && noDir.stderr.contains("--shard-dir"))
        let unused = _TestSupport.tempDir("unused", prefix: "cluster", create: false)
        let shardTooMany = try isac(tinyEvaluate + ["--shard", "0/18", "--shard-dir", unused])
        #expect(shardTooMany.status != 0 && shardTooMany.stderr.contains("17 calibration samples"))
        #expect(!FileManager.default.fileExists(atPath: unused), "a refused shard must not create its --shard-dir")
    }

    /// Scheduler values: Slurm's and Kubernetes' documented forms pass, out-of-range or malformed
    /// ones fail naming the flag (docs/reliability.md, table of ranges).
    @Test func schedulerValuesFollowTheSchedulersForms() throws {
        let slurm = ["cluster", "slurm", "--tasks", "2", "--dry-run"]
        for ok in [["--time", "30"], ["--time", "0"], ["--time", "90:30"], ["--time", "1-12"], ["--time", "2-03:04:05"],
                   ["--mem", "4G"], ["--mem", "0"], ["--mem", "64T"], ["--extra", "--qos=short -N2"], ["--partition", "gpu,cpu"]] {
            let r = try isac(slurm + ok + ["--"] + tinyEvaluate)
            #expect(r.status == 0, "\(ok): \(r.stderr)")
        }
        for (bad, flag) in [(["--time", "1:60"], "--time"), (["--time", "1-24"], "--time"), (["--time", "525601"], "--time"),
                            (["--mem", "65T"], "--mem"), (["--mem", "4GB"], "--mem"), (["--extra", "-1"], "--extra"),
                            (["--extra", ""], "--extra"), (["--partition", "a b"], "--partition"), (["--dir", "/dev/null"], "--dir")] {
            let r = try isac(slurm + bad + ["--"] + tinyEvaluate)
            #expect(r.status != 0 && r.stderr.contains(flag) && r.stdout.isEmpty, "\(bad): \(r.stderr)")
        }
        let k8s = ["cluster", "k8s", "--tasks", "2"]
        for ok in [["--cpu", "500m"], ["--cpu", "0.5"], ["--cpu", "4096"], ["--memory", "16Mi"], ["--memory", "8G"], ["--dir", "/data/run"]] {
            let r = try isac(k8s + ok + ["--"] + tinyEvaluate)
            #expect(r.status == 0, "\(ok): \(r.stderr)")
        }
        for (bad, flag) in [(["--cpu", "0"], "--cpu"), (["--cpu", "4097"], "--cpu"), (["--cpu", "1e3"], "--cpu"), (["--memory", "1Mi"], "--memory"),
                            (["--memory", "65Ti"], "--memory"), (["--pvc", "Data"], "--pvc"), (["--image", "a b"], "--image"),
                            (["--mount", "data"], "--mount"), (["--dir", "/tmp/run"], "--dir"), (["--dir", "/database"], "--dir")] {
            let r = try isac(k8s + bad + ["--"] + tinyEvaluate)
            #expect(r.status != 0 && r.stderr.contains(flag) && r.stdout.isEmpty, "\(bad): \(r.stderr)")
        }
    }

    @Test func dryRunAndKubernetesManifest() throws {
        let dry = try isac(["cluster", "slurm", "--tasks", "4", "--dry-run", "--dir", "/scratch/run", "--", "dataset", "generate",
                            "--preset", "small", "--out", "/scratch/ds"])
        try #require(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("#SBATCH --array=0-3"))
        #expect(dry.stdout.contains("dataset generate --preset small --out /scratch/ds --shard \"${SLURM_ARRAY_TASK_ID}/4\" --resume"))
        #expect(dry.stdout.contains("merge /scratch/ds --json --output /scratch/run/merged.json"))
        #expect(!FileManager.default.fileExists(atPath: "/scratch/run"))
        let k = try isac(["cluster", "k8s", "--tasks", "4", "--image", "reg/isac:1", "--"] + tinyEvaluate)
        try #require(k.status == 0, "\(k.stderr)")
        for s in ["completionMode: Indexed", "completions: 4", "${JOB_COMPLETION_INDEX}/4", "image: \"reg/isac:1\"", "kind: Job",
                  "shard-*-of-0004.json", "merge /data/isac-cluster-multitarget-evaluate/shards"] {
            #expect(k.stdout.contains(s), "manifest lacks \(s)")
        }
    }

    /// Kubernetes Job names: every `metadata.name` of the manifest (BASE, BASE-prepare, BASE-merge) and the Indexed
    /// Job's pod hostnames BASE-INDEX are DNS labels (≤ 63 characters) whatever the `--name`; a long name is shortened
    /// deterministically and two long names that differ only at the end stay different; a short one is unchanged.
    @Test func kubernetesJobNamesAreDNSLabels() throws {
        let ext = ["--", "extended", "experiment", "train-fraction", "--out", "/data/ext"]
        func names(_ prefix: String?) throws -> [String] {
            let r = try isac(["cluster", "k8s", "--tasks", "4"] + (prefix.map { ["--name", $0] } ?? []) + ext)
            try #require(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            return zip(lines, lines.dropFirst()).compactMap { a, b in
                a == "metadata:" && b.hasPrefix("  name: ") ? String(b.dropFirst(8)) : nil
            }
        }
        let label = #"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"#
        let long = String(repeating: "a", count: 40) + "-" + String(repeating: "b", count: 22)  // 63 characters
        for prefix in [nil, "abc", long, String(repeating: "x", count: 63)] {
            let ns = try names(prefix)
            #expect(ns.count == 3, "\(ns)")
            // The Indexed Job is the second object (after the prepare Job); its pods are named BASE-INDEX.
            let base = try #require(ns.dropFirst().first)
            #expect(ns == [base + "-prepare", base, base + "-merge"])
            for n in ns + [base + "-999999"] {
                #expect(n.range(of: label, options: .regularExpression) != nil, "not a DNS label: \(n) (\(n.count) characters)")
            }
            let full = (prefix ?? "isac") + "-extended-experiment-train-fraction"
            if full.count <= 55 { #expect(base == full) } else { #expect(base.count == 55 && base.hasPrefix(String(full.prefix(40)))) }
        }
        #expect(try names(long) == names(long))
        #expect(try names(long) != names(String(long.dropLast()) + "c"))
        for bad in ["Abc", "-abc", "abc-", "a_b", String(repeating: "a", count: 64)] {
            let r = try isac(["cluster", "k8s", "--tasks", "2", "--name", bad] + ext)
            #expect(r.status != 0 && r.stderr.contains("--name") && r.stdout.isEmpty, "\(bad): \(r.stderr)")
        }
    }

    /// `multitarget train-sweep`: 4 (seed, lr) runs as 3 shards + `isac merge` give the one-process table byte for
    /// byte; shards of another configuration in the folder are refused naming the option; finished shards need --resume.
    @Test func trainSweepShardsMergeToTheSingleRunTable() throws {
        let d = tempDir("sweep")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let train = ["--antennas", "8", "--subcarriers", "16", "--n-theta", "32", "--n-tau", "16", "--steps", "3", "--batch", "2", "--test-samples", "4"]
        let sweep = ["multitarget", "train-sweep", "--seeds", "1,2", "--lrs", "1e-3,3e-4", "--quiet"]
        let one = try isac(sweep + ["--out", d + "/one", "--"] + train)
        try #require(one.status == 0, "\(one.stderr)")
        for i in 0..<3 {
            let t = try isac(sweep + ["--out", d + "/sharded", "--shard", "\(i)/3", "--shard-dir", d + "/sd", "--"] + train)
            try #require(t.status == 0, "\(t.stderr)")
        }
        let m = try isac(["merge", d + "/sd", "--json"])
        try #require(m.status == 0, "\(m.stderr)")
        let a = try String(contentsOfFile: d + "/one/train_sweep.csv", encoding: .utf8)
        let b = try String(contentsOfFile: d + "/sharded/train_sweep.csv", encoding: .utf8)
        #expect(a == b)
        // 4 rows (seed-major, each rate once per seed) and the requested rate reached the trainer.
        let rows = a.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.map { $0[0] + "/" + $0[1] } == ["1.0/0.001", "1.0/0.0003", "2.0/0.001", "2.0/0.0003"])
        let header = a.split(separator: "\n")[0].split(separator: ",").map(String.init)
        let lrCol = try #require(header.firstIndex(of: "learning_rate"))
        #expect(rows.allSatisfy { Double($0[lrCol]) == Double($0[1]) })
        #expect(!header.contains("train_time_s") && !header.contains("total_time_s"))
        let again = try isac(sweep + ["--out", d + "/sharded", "--shard", "0/3", "--shard-dir", d + "/sd", "--"] + train)
        #expect(again.status != 0 && again.stderr.contains("--resume"))
        // Mixed configurations: shard 1/2 with other --steps than shard 0/2.
        let two = ["multitarget", "train-sweep", "--seeds", "1,2", "--quiet", "--out", d + "/mixed", "--shard-dir", d + "/sdm"]
        #expect(try isac(two + ["--shard", "0/2", "--"] + train).status == 0)
        #expect(try isac(two + ["--shard", "1/2", "--"] + train.map { $0 == "3" ? "4" : $0 }).status == 0)
        let mixed = try isac(["merge", d + "/sdm"])
        #expect(mixed.status != 0 && mixed.stderr.contains("steps") && mixed.stderr.contains("different configurations"))
        // Bad input names the flag.
        for (bad, flag) in [(["--seeds", "1,x"], "--seeds"), (["--seeds", "1,1"], "--seeds"), (["--seeds", "1", "--lrs", "0"], "--lrs"),
                            (["--seeds", "1", "--lrs", "nan"], "--lrs")] {
            let r = try isac(["multitarget", "train-sweep", "--out", d + "/bad"] + bad + ["--"] + train)
            #expect(r.status != 0 && r.stderr.contains(flag), "\(bad): \(r.stderr)")
        }
        let reserved = try isac(["multitarget", "train-sweep", "--seeds", "1", "--out", d + "/bad", "--"] + train + ["--lr", "1e-3"])
        #expect(reserved.status != 0 && reserved.stderr.contains("--lr"))
        // Through the Slurm plan: the shard options go before the train flags' `--`; tasks run by hand, then the merge.
        let fake = try fakeSbatch(in: d, answer: "echo 7")
        let plan = try isac(["cluster", "slurm", "--tasks", "2", "--dir", d + "/job", "--sbatch", fake, "--"] + sweep + ["--out", d + "/viaslurm", "--"] + train)
        try #require(plan.status == 0, "\(plan.stderr)")
        let script = try String(contentsOfFile: d + "/job/array.sbatch", encoding: .utf8)
        #expect(script.contains("--resume -- --antennas 8"))
        try runPlan(d + "/job", tasks: 2)
        #expect(try String(contentsOfFile: d + "/viaslurm/train_sweep.csv", encoding: .utf8) == a)
        let tooMany = try isac(["cluster", "slurm", "--tasks", "5", "--dry-run", "--"] + sweep + ["--out", d + "/c", "--"] + train)
        #expect(tooMany.status != 0 && tooMany.stderr.contains("--tasks") && tooMany.stderr.contains("4 (seed, learning rate) runs"))
    }

    /// Cluster plans of the wideband figure and the extended experiment: the experiment's `--dataset-only` step is a
    /// first job the array depends on (Slurm afterok; Kubernetes pods wait for the dataset manifest), the merge job
    /// is `isac merge OUT/shards`; non-Monte-Carlo figures and more tasks than trained runs are refused.
    @Test func widebandAndExtendedExperimentPlans() throws {
        let d = tempDir("plans")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let fake = try fakeSbatch(in: d, answer: "echo $((100 + n))")
        let job = d + "/job", out = d + "/ext"
        let r = try isac(["cluster", "slurm", "--tasks", "3", "--dir", job, "--sbatch", fake, "--json", "--",
                          "extended", "experiment", "table2", "--out", out, "--epochs", "1", "--seeds", "42", "--quiet"])
        try #require(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(o["prepare_job_id"] as? String == "101" && o["array_job_id"] as? String == "102" && o["merge_job_id"] as? String == "103")
        let log = try String(contentsOfFile: d + "/sbatch.log", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(log == ["--parsable \(job)/prepare.sbatch", "--parsable --dependency=afterok:101 --kill-on-invalid-dep=yes \(job)/array.sbatch",
                        "--parsable --dependency=afterok:102 --kill-on-invalid-dep=yes \(job)/merge.sbatch"])
        let prep = try String(contentsOfFile: job + "/prepare.sbatch", encoding: .utf8)
        #expect(prep.contains("extended experiment table2 --preset small --out \(out) --dataset-only --quiet"))
        let arr = try String(contentsOfFile: job + "/array.sbatch", encoding: .utf8)
        #expect(arr.contains("--shard \"${SLURM_ARRAY_TASK_ID}/3\"") && !arr.contains("--shard-dir"))
        let merge = try String(contentsOfFile: job + "/merge.sbatch", encoding: .utf8)
        #expect(merge.contains("merge \(out)/shards --json --output \(job)/merged.json"))
        // table2 with one seed has 8 trained runs (Method.table2): 9 tasks are refused.
        let tooMany = try isac(["cluster", "slurm", "--tasks", "9", "--dry-run", "--", "extended", "experiment", "table2", "--out", out, "--seeds", "42"])
        #expect(tooMany.status != 0 && tooMany.stderr.contains("--tasks") && tooMany.stderr.contains("trained runs"))
        let k = try isac(["cluster", "k8s", "--tasks", "2", "--", "extended", "experiment", "table2", "--out", "/data/ext"])
        try #require(k.status == 0, "\(k.stderr)")
        #expect(k.stdout.contains("--dataset-only") && k.stdout.contains("until [ -f /data/ext/dataset/manifest.json ]")
                && k.stdout.contains("shard-*-of-0002.json") && k.stdout.contains("merge /data/ext/shards"))
        let own = try isac(["cluster", "slurm", "--tasks", "2", "--dry-run", "--", "extended", "experiment", "table2", "--out", out, "--merge"])
        #expect(own.status != 0 && own.stderr.contains("--merge"))

        let w = try isac(["cluster", "slurm", "--tasks", "4", "--dry-run", "--dir", "/scratch/w", "--", "wideband", "figure", "fig8",
                          "--out", "/scratch/fig", "--trials", "3", "--quiet"])
        try #require(w.status == 0, "\(w.stderr)")
        #expect(w.stdout.contains("wideband figure fig8 --out /scratch/fig --trials 3 --quiet --shard \"${SLURM_ARRAY_TASK_ID}/4\" --shard-dir /scratch/w/shards --resume"))
        #expect(w.stdout.contains("merge /scratch/w/shards --json --output /scratch/w/merged.json") && !w.stdout.contains("prepare.sbatch"))
        let fig3 = try isac(["cluster", "slurm", "--tasks", "2", "--dry-run", "--", "wideband", "figure", "fig3", "--out", d + "/f3"])
        #expect(fig3.status != 0 && fig3.stderr.contains("fig8"))
        // fig8 with 1 distance, 1 placement and 3 trials has 3 trials to split.
        let wMany = try isac(["cluster", "slurm", "--tasks", "4", "--dry-run", "--", "wideband", "figure", "fig8", "--out", d + "/f8",
                              "--trials", "3", "--distances", "3", "--placement", "off-grid"])
        #expect(wMany.status != 0 && wMany.stderr.contains("--tasks") && wMany.stderr.contains("3 trials"))
    }
}
