import Foundation
import ISACIO
import Linalg
import Testing

// Issue 13: outputs never replace what they must not, concurrent writers of one folder never mix,
// and error messages are user-level.

private func scratch(_ tag: String) throws -> String {
    let d = NSTemporaryDirectory() + "isac-out-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

private func mode(_ path: String) -> mode_t {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
}

@Suite struct OutputSafetyTests {
    @Test func atomicWriteRefusesSymlinksFIFOsDevicesFoldersAndTrailingSlash() throws {
        let d = try scratch("refuse")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try "keep".write(toFile: d + "/target", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: d + "/link", withDestinationPath: d + "/target")
        #expect(mkfifo(d + "/fifo", 0o644) == 0)
        try FileManager.default.createDirectory(atPath: d + "/folder", withIntermediateDirectories: true)
        for p in [d + "/link", d + "/fifo", "/dev/null", d + "/folder", d + "/newdir/"] {
            #expect(throws: ISACError.self, "\(p) must be refused") { try AtomicFile.write("x", to: p) }
            #expect(throws: ISACError.self, "\(p) must be refused by the pre-flight") { try OutputPaths.preflightFile(p, flag: "--out") }
        }
        #expect(mode(d + "/link") == S_IFLNK && mode(d + "/fifo") == S_IFIFO && mode(d + "/folder") == S_IFDIR)
        #expect(try String(contentsOfFile: d + "/target", encoding: .utf8) == "keep")
        #expect(!FileManager.default.fileExists(atPath: d + "/newdir"))
        // No temp file is left beside any of them.
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).sorted() == ["fifo", "folder", "link", "target"])
        // A regular file is replaced atomically.
        try AtomicFile.write("new", to: d + "/target")
        #expect(try String(contentsOfFile: d + "/target", encoding: .utf8) == "new")
    }

    @Test func preflightFindsUnwritableLocationsAndCreatesNothing() throws {
        let d = try scratch("pre")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try "x".write(toFile: d + "/file", atomically: false, encoding: .utf8)
        #expect(throws: ISACError.self) { try OutputPaths.preflightFile(d + "/file/sub/out.npy", flag: "--out") }
        #expect(throws: ISACError.self) { try OutputPaths.preflightFolder(d + "/file/sub", flag: "--out") }
        #expect(throws: ISACError.self) { try OutputPaths.preflightFolder(d + "/file", flag: "--out") }
        try OutputPaths.preflightFolder(d + "/a/b/c", flag: "--out")
        try OutputPaths.preflightFile(d + "/a/b/c.csv", flag: "--out")
        #expect(try FileManager.default.contentsOfDirectory(atPath: d) == ["file"])
        do { try OutputPaths.preflightFile(d + "/file/x", flag: "--out") } catch let ISACError.invalidParameter(name, _, _) {
            #expect(name == "--out")
        }
    }

    @Test func createExclusiveHasExactlyOneWinner() throws {
        let d = try scratch("excl")
        defer { try? FileManager.default.removeItem(atPath: d) }
        final class Box: @unchecked Sendable { var won = [Bool](repeating: false, count: 8); let lock = NSLock() }
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let w = (try? AtomicFile.createExclusive(Data("writer \(i)".utf8), at: d + "/config.json")) ?? false
            box.lock.lock(); box.won[i] = w; box.lock.unlock()
        }
        let results = box.won
        #expect(results.filter { $0 }.count == 1)
        let winner = results.firstIndex(of: true)!
        #expect(try String(contentsOfFile: d + "/config.json", encoding: .utf8) == "writer \(winner)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: d) == ["config.json"])
    }

    @Test func stagedFolderRefusesNonEmptyAndSecondWriterLoses() throws {
        let d = try scratch("stage")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let out = d + "/run"
        // Two writers start on a fresh folder; both stage, the first commit wins, the second fails.
        let a = try StagedDirectory(out, force: false), b = try StagedDirectory(out, force: false)
        try "A".write(toFile: a.file("summary.json"), atomically: false, encoding: .utf8)
        try "A".write(toFile: a.file("model.npz"), atomically: false, encoding: .utf8)
        try "B".write(toFile: b.file("summary.json"), atomically: false, encoding: .utf8)
        try "B".write(toFile: b.file("model.npz"), atomically: false, encoding: .utf8)
        try a.commit()
        #expect(throws: ISACError.self) { try b.commit() }
        for f in ["summary.json", "model.npz"] { #expect(try String(contentsOfFile: out + "/" + f, encoding: .utf8) == "A") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: d) == ["run"], "no staging folder survives")
        // A non-empty folder is refused without --force, replaced as a whole with it.
        #expect(throws: ISACError.self) { _ = try StagedDirectory(out, force: false) }
        let c = try StagedDirectory(out, force: true)
        try "C".write(toFile: c.file("summary.json"), atomically: false, encoding: .utf8)
        try c.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["summary.json"])
        // An abandoned stage (error path) leaves nothing, including parents it created.
        do { _ = try StagedDirectory(d + "/x/y/z", force: false) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: d) == ["run"])
    }

    @Test func staleTempsOfDeadWritersAreRemoved() throws {
        let d = try scratch("stale")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let dead = ".chunk-000001.npy\(OutputPaths.tempMarker)999999999-1"
        let live = ".chunk-000002.npy\(OutputPaths.tempMarker)1-1"   // pid 1 is always alive
        for n in [dead, live, ".dat.nosyncAB12", "chunk-000000.npy"] { FileManager.default.createFile(atPath: d + "/" + n, contents: Data()) }
        OutputPaths.removeStaleTemps(in: d, all: false)
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).sorted() == [".dat.nosyncAB12", live, "chunk-000000.npy"].sorted())
        OutputPaths.removeStaleTemps(in: d, all: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: d) == ["chunk-000000.npy"])
    }

    @Test func folderLockIsExclusiveAndReleasedOnDrop() throws {
        let d = try scratch("lock")
        defer { try? FileManager.default.removeItem(atPath: d) }
        do {
            let shared1 = try DirectoryLock(dir: d, exclusive: false, flag: "--out")
            let shared2 = try DirectoryLock(dir: d, exclusive: false, flag: "--out")
            #expect(throws: ISACError.self) { _ = try DirectoryLock(dir: d, exclusive: true, flag: "--out") }
            shared1.release(); shared2.release()
        }
        let ex = try DirectoryLock(dir: d, exclusive: true, flag: "--out")
        #expect(throws: ISACError.self) { _ = try DirectoryLock(dir: d, exclusive: false, flag: "--out") }
        ex.release()
        _ = try DirectoryLock(dir: d, exclusive: true, flag: "--out")
    }

    @Test func memoryCheckNamesTheFlagAndTheEstimate() throws {
        try Check.memory(flag: "--samples", value: "10", bytes: Check.bytes(10, 8))
        #expect(Check.bytes(Int.max, 2) == nil)
        do {
            try Check.memory(flag: "--samples", value: "1e12", bytes: Check.bytes(1_000_000_000_000, 64, 64, 16))
            Issue.record("a 1e12-sample allocation must be refused")
        } catch let ISACError.invalidParameter(name, value, valid) {
            #expect(name == "--samples" && value == "1e12")
            #expect(valid.contains("available") && valid.contains("iB"))
        }
        #expect(throws: ISACError.self) { try Check.memory(flag: "--n", value: "x", bytes: nil) }
        #expect(Check.availableMemoryBytes() > 0)
    }

    @Test func foundationFileErrorsBecomeOneLine() throws {
        let missing = NSTemporaryDirectory() + "isac-no-such-file-\(getpid()).npz"
        do {
            _ = try Data(contentsOf: URL(fileURLWithPath: missing))
            Issue.record("reading a missing file must throw")
        } catch {
            let m = ISACError.userMessage(error)
            #expect(m.contains(missing) && m.hasPrefix("cannot read"), "\(m)")
            #expect(!m.contains("NSCocoaErrorDomain") && !m.contains("UserInfo") && !m.contains("\n"))
        }
        let l = ISACError.lapack(routine: "gesv (singular matrix?)", info: 2).description
        #expect(l.contains("singular") && !l.hasPrefix("LAPACK"))
    }
}
