import Foundation

/// A progress line on stderr: `label  k/n  (rate/s, ETA mm:ss)`, redrawn in place at most
/// every `minInterval` seconds. Long loops create one and call `advance()`; nothing is printed
/// when `enabled` is false (e.g. `--quiet`), and stdout stays clean for `--json`.
///
/// When stderr is not a terminal (CI logs, `2> file`), in-place redraws would pile up as one
/// huge line of `\r`-separated updates, so the line is instead printed as a plain line at most
/// every `logInterval` seconds (10 s by default) plus once at the end.
public final class ProgressLine: @unchecked Sendable {
    /// Text before the counter, e.g. "MC trials".
    public let label: String
    /// Number of units the loop will complete.
    public let total: Int
    /// Units completed so far.
    public private(set) var done = 0
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var lastPrintedDone = -1
    private let minInterval: TimeInterval
    private let enabled: Bool
    private let tty: Bool
    private let lock = NSLock()

    /// A progress line for `total` units; `enabled: false` prints nothing (e.g. `--quiet`).
    /// `logInterval` is the throttle used instead of `minInterval` when stderr is not a terminal.
    public init(_ label: String, total: Int, enabled: Bool = true, minInterval: TimeInterval = 0.5,
                logInterval: TimeInterval = 10) {
        self.label = label; self.total = total; self.enabled = enabled
        tty = isatty(STDERR_FILENO) != 0
        self.minInterval = tty ? minInterval : Swift.max(minInterval, logInterval)
    }

    /// Marks `n` more units as done (thread-safe).
    public func advance(_ n: Int = 1) {
        lock.lock(); defer { lock.unlock() }
        done += n
        let now = Date()
        if enabled && (now.timeIntervalSince(lastPrint) >= minInterval || (tty && done >= total)) {
            lastPrint = now
            emit(now: now)
        }
    }

    /// Ends the line (newline on stderr; in log mode prints the final count if not yet shown).
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        guard enabled else { return }
        if tty {
            FileHandle.standardError.write(Data((render(now: Date()) + "\n").utf8))
        } else if lastPrintedDone != done {
            emit(now: Date())
        }
    }

    private func emit(now: Date) {
        lastPrintedDone = done
        let line = tty ? render(now: now) : String(render(now: now).dropFirst()) + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// `\r` + the progress text (the carriage return redraws in place on a terminal).
    func render(now: Date) -> String {
        let el = now.timeIntervalSince(start)
        let rate = el > 0 ? Double(done) / el : 0
        let eta = rate > 0 ? Double(Swift.max(0, total - done)) / rate : 0
        let etaS = eta.isFinite && eta < 360_000 ? Int(eta.rounded()) : 0
        return String(format: "\r%@  %d/%d  (%.2f/s, ETA %02d:%02d)", label, done, total, rate, etaS / 60, etaS % 60)
    }
}
