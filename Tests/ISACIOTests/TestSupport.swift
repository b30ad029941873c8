import Foundation

/// One folder per test process, removed when the process exits.
let testRoot: String = {
    let root = NSTemporaryDirectory() + "isacio-tests-\(getpid())"
    try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "isacio-tests-\(getpid())") }
    return root
}()

/// A fresh temporary folder per test (tests run in parallel).
func tempDir(_ tag: String = #function) -> String {
    let safe = tag.filter { $0.isLetter || $0.isNumber }
    let dir = testRoot + "/\(safe)-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Runs `python3 -c script args...`; returns (exit status, stdout+stderr), or nil when python3
/// cannot be started.
func runPython(_ script: String, _ args: [String] = []) -> (Int32, String)? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script] + args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch { return nil }
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
}

/// True when `python3 -c "import numpy"` works (checked once).
let numpyAvailable: Bool = {
    guard let (rc, _) = runPython("import numpy") else { return false }
    return rc == 0
}()
