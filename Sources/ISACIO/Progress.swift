import Foundation

/// A progress line on stderr: `label  k/n  (rate/s, ETA mm:ss)`, redrawn in place at most
/// every `minInterval` seconds. Long loops create one and call `advance()`; nothing is printed
/// when `enabled` is false (e.g. `--quiet`), and stdout stays clean for `--json`.
public final class ProgressLine: @unchecked Sendable {
    /// Text before the counter, e.g. "MC trials".
    public let label: String
    /// Number of units the loop will complete.
    public let total: Int
    /// Units completed so far.
    public private(set) var done = 0
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let minInterval: TimeInterval
    private let enabled: Bool
    private let lock = NSLock()

    /// A progress line for `total` units; `enabled: false` prints nothing (e.g. `--quiet`).
    public init(_ label: String, total: Int, enabled: Bool = true, minInterval: TimeInterval = 0.5) {
        self.label = label; self.total = total; self.enabled = enabled; self.minInterval = minInterval
    }

    /// Marks `n` more units as done (thread-safe).
    public func advance(_ n: Int = 1) {
        lock.lock(); defer { lock.unlock() }
        done += n
        let now = Date()
        if enabled && (now.timeIntervalSince(lastPrint) >= minInterval || done >= total) {
            lastPrint = now
            FileHandle.standardError.write(Data(render(now: now).utf8))
        }
    }

    /// Ends the line (newline on stderr).
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if enabled { FileHandle.standardError.write(Data((render(now: Date()) + "\n").utf8)) }
    }

    private func render(now: Date) -> String {
        let el = now.timeIntervalSince(start)
        let rate = el > 0 ? Double(done) / el : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let etaS = Int(eta.rounded())
        return String(format: "\r%@  %d/%d  (%.2f/s, ETA %02d:%02d)", label, done, total, rate, etaS / 60, etaS % 60)
    }
}
