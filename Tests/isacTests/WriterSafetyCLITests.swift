import Foundation
import Testing
import _TestSupport

// Issue 13, end to end on the built binary: two concurrent `dataset generate` runs with different
// seeds on one --out, and kill -9 during generation followed by --resume.

private func scratch(_ tag: String) throws -> String {
    let d = NSTemporaryDirectory() + "isac-cli-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// Starts the binary without waiting (output to /dev/null, stderr to `errPath`).
private func start(_ exe: URL, _ args: [String], errPath: String) throws -> Process {
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    FileManager.default.createFile(atPath: errPath, contents: nil)
    p.standardOutput = FileHandle.nullDevice
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    try p.run()
    return p
}

private func chunkHashes(_ dir: String) -> Set<String> {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/chunks")) ?? []
    var out = Set<String>()
    for n in names where n.hasSuffix(".json") && !n.hasPrefix(".") {
        if let d = FileManager.default.contents(atPath: dir + "/chunks/" + n),
           let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] {
            out.insert(o["configHash"] as? String ?? "missing")
        }
    }
    return out
}

@Suite(.serialized) struct WriterSafetyCLITests {
    @Test func twoConcurrentGeneratorsWithDifferentSeedsDoNotMix() throws {
        let exe = try isacBinary()
        let d = try scratch("two")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let out = d + "/ds"
        let a = try start(exe, ["dataset", "generate", "--out", out, "--seed", "1", "--max-chunks", "1", "--quiet"], errPath: d + "/a.err")
        let b = try start(exe, ["dataset", "generate", "--out", out, "--seed", "2", "--max-chunks", "1", "--quiet"], errPath: d + "/b.err")
        a.waitUntilExit(); b.waitUntilExit()
        let statuses = [a.terminationStatus, b.terminationStatus]
        #expect(a.terminationReason == .exit && b.terminationReason == .exit)
        #expect(statuses.filter { $0 == 0 }.count == 1, "exactly one writer succeeds: \(statuses)")
        let loserErr = (try? String(contentsOfFile: d + (a.terminationStatus == 0 ? "/b.err" : "/a.err"), encoding: .utf8)) ?? ""
        #expect(loserErr.contains("--out") || loserErr.contains(out), "the loser names the folder: \(loserErr)")
        #expect(chunkHashes(out).count == 1, "chunk records of one config only")
        // The survivor's dataset is incomplete (one chunk), so info must refuse it, never accept a mix.
        let info = try runProbe(exe, ["dataset", "info", "--out", out], cwd: d, logDir: d, timeout: 60)
        #expect(info.status != 0 && !info.signaled)
        // A later run with the other seed on the same folder is refused too.
        let winnerSeed = a.terminationStatus == 0 ? "1" : "2", otherSeed = winnerSeed == "1" ? "2" : "1"
        let again = try runProbe(exe, ["dataset", "generate", "--out", out, "--seed", otherSeed, "--resume", "--max-chunks", "1", "--quiet"],
                                 cwd: d, logDir: d, timeout: 60)
        #expect(again.status != 0 && again.stderr.contains("different settings"), "\(again.stderr)")
        #expect(chunkHashes(out).count == 1)
    }

    @Test func killNineThenResumeLeavesNoTempAndMatchesACleanRun() throws {
        let exe = try isacBinary()
        let d = try scratch("kill")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let out = d + "/ds", ref = d + "/ref"
        // Kill -9 while the second chunk is being computed (after the first chunk's record exists).
        let p = try start(exe, ["dataset", "generate", "--out", out, "--seed", "3", "--quiet"], errPath: d + "/k.err")
        let t0 = Date()
        while p.isRunning && !FileManager.default.fileExists(atPath: out + "/chunks/chunk-000000.json") && Date().timeIntervalSince(t0) < 120 {
            usleep(20_000)
        }
        usleep(300_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal, "the generator was still running when killed")
        // What a kill during a rename leaves: a temp of the dead writer and a Foundation temp.
        FileManager.default.createFile(atPath: out + "/chunks/.chunk-000001.npy.tmp-999999999-5", contents: Data("x".utf8))
        FileManager.default.createFile(atPath: out + "/chunks/.dat.nosyncDEAD", contents: Data("x".utf8))
        let r = try runProbe(exe, ["dataset", "generate", "--out", out, "--seed", "3", "--resume", "--max-chunks", "1", "--quiet"],
                             cwd: d, logDir: d, timeout: 120)
        #expect(r.status == 0, "resume failed: \(r.stderr)")
        for sub in ["", "/chunks"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: out + sub)) ?? []
            #expect(!names.contains { $0.contains(".tmp-") || $0.hasPrefix(".dat.nosync") }, "temp files survived: \(names)")
        }
        let c = try runProbe(exe, ["dataset", "generate", "--out", ref, "--seed", "3", "--max-chunks", "2", "--quiet"],
                             cwd: d, logDir: d, timeout: 120)
        #expect(c.status == 0, "clean run failed: \(c.stderr)")
        for name in ["config.json", "chunks/chunk-000000.npy", "chunks/chunk-000000.json", "chunks/chunk-000001.npy", "chunks/chunk-000001.json"] {
            let x = FileManager.default.contents(atPath: out + "/" + name), y = FileManager.default.contents(atPath: ref + "/" + name)
            #expect(x != nil && x == y, "\(name) differs from a clean run")
        }
    }

    @Test func outputsAreCheckedBeforeComputingAndNeverReplaceSpecialFiles() throws {
        let exe = try isacBinary()
        let d = try scratch("outs")
        defer { try? FileManager.default.removeItem(atPath: d) }
        FileManager.default.createFile(atPath: d + "/file", contents: Data("x".utf8))
        #expect(mkfifo(d + "/fifo", 0o644) == 0)
        for (args, tag) in [(["scatter", "channel", "--out", d + "/fifo"], "fifo"),
                            (["scatter", "channel", "--out", d + "/newdir/"], "trailing slash"),
                            (["scatter", "channel", "--out", "/dev/null"], "device"),
                            (["multitarget", "tradeoff", "--out", d + "/file/sub"], "under a file"),
                            (["wideband", "figure", "fig2", "--out", d + "/file/sub"], "under a file")] {
            let r = try runProbe(exe, args, cwd: d, logDir: d, timeout: 20)
            #expect(r.status != 0 && !r.timedOut && !r.signaled, "\(tag): \(args) exit \(r.status)")
            #expect(r.stderr.contains("--out"), "\(tag): \(r.stderr)")
        }
        var st = stat(); lstat(d + "/fifo", &st)
        #expect(st.st_mode & S_IFMT == S_IFIFO)
        #expect(!FileManager.default.fileExists(atPath: d + "/newdir"))
        // A populated --out of a one-shot command is refused without --force.
        try FileManager.default.createDirectory(atPath: d + "/full", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: d + "/full/keep.txt", contents: Data("keep".utf8))
        let r = try runProbe(exe, ["wideband", "figure", "fig2", "--out", d + "/full"], cwd: d, logDir: d, timeout: 20)
        #expect(r.status != 0 && r.stderr.contains("--force"))
        let f = try runProbe(exe, ["wideband", "figure", "fig2", "--out", d + "/full", "--force", "--quiet"], cwd: d, logDir: d, timeout: 120)
        #expect(f.status == 0, "\(f.stderr)")
        #expect(FileManager.default.fileExists(atPath: d + "/full/keep.txt"), "figure --force keeps other files")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []
        #expect(!names.contains { $0.contains(".staging-") }, "no staging folder survives: \(names)")
    }

    @Test func helpOfAnUnknownTopicFails() throws {
        let exe = try isacBinary()
        let d = try scratch("help")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let r = try runProbe(exe, ["help", "frobnicate"], cwd: d, logDir: d, timeout: 20)
        #expect(r.status != 0 && r.stderr.contains("frobnicate"))
        let ok = try runProbe(exe, ["help", "wideband", "figure"], cwd: d, logDir: d, timeout: 20)
        #expect(ok.status == 0 && ok.stdout.contains("USAGE"))
    }
}
