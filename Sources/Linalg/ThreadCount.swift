import Foundation

/// Process-wide worker count of every parallel loop that takes one (Learning's `parallelChunks`/`parallelFor` and
/// conv/GEMM splits, SOMP's adjoint product, the multi-target batch gradients). Resolution order, first hit wins:
///   1. `ThreadCount.set(n)` (the CLI's `--threads N`),
///   2. the environment variable `ISAC_THREADS`,
///   3. `OMP_NUM_THREADS` (what PyTorch/NumPy users already set),
///   4. the CPUs this process may run on (`sched_getaffinity`, so `taskset -c 0 isac …` gives 1 worker;
///      `ProcessInfo.activeProcessorCount` counts every online core and ignores the affinity mask).
public enum ThreadCount {
    /// 0 = not resolved yet.
    nonisolated(unsafe) static var configured = 0
    static let lock = NSLock()

    /// CPUs in this process's affinity mask (≥ 1); falls back to the online core count.
    public static var affinityCount: Int {
        // A 1024-CPU mask (glibc's cpu_set_t size); the Glibc overlay does not export sched_getaffinity
        // (it needs _GNU_SOURCE), hence the direct symbol binding below.
        var mask = [UInt64](repeating: 0, count: 16)
        let ok = mask.withUnsafeMutableBytes { c_sched_getaffinity(0, $0.count, $0.baseAddress!) } == 0
        guard ok else { return max(1, ProcessInfo.processInfo.activeProcessorCount) }
        return max(1, mask.reduce(0) { $0 + $1.nonzeroBitCount })
    }

    /// The thread count from the environment (`ISAC_THREADS`, then `OMP_NUM_THREADS`), nil when unset.
    /// - Throws: `ISACError.invalidParameter` naming the variable when it is set but not a positive integer.
    public static func fromEnvironment() throws -> Int? {
        for name in ["ISAC_THREADS", "OMP_NUM_THREADS"] {
            guard let v = ProcessInfo.processInfo.environment[name], !v.isEmpty else { continue }
            guard let n = Int(v.trimmingCharacters(in: .whitespaces)), n >= 1, n <= 4096 else {
                throw ISACError.invalidParameter(name: name, value: v, valid: "a positive integer (threads)")
            }
            return n
        }
        return nil
    }

    /// Sets the worker count for the rest of the process (`--threads`).
    /// - Throws: `ISACError.invalidParameter(name: "--threads")` unless 1 ≤ n ≤ 4096.
    public static func set(_ n: Int) throws {
        guard n >= 1, n <= 4096 else {
            throw ISACError.invalidParameter(name: "--threads", value: "\(n)", valid: "1…4096")
        }
        lock.lock(); configured = n; lock.unlock()
    }

    /// The worker count in force (resolved once from the environment/affinity when never set).
    public static var count: Int {
        lock.lock(); defer { lock.unlock() }
        if configured == 0 { configured = (try? fromEnvironment() ?? nil) ?? affinityCount }
        return configured
    }
}


@_silgen_name("sched_getaffinity") func c_sched_getaffinity(_ pid: Int32, _ size: Int, _ mask: UnsafeMutableRawPointer) -> Int32

extension ThreadCount {
    /// `DispatchQueue.concurrentPerform` limited to `ThreadCount.count` concurrent workers: `body(i)` for every
    /// i in 0..<iterations, each exactly once. With one worker the loop runs inline, in index order; otherwise
    /// min(count, iterations) workers take the next index from a shared counter (dynamic scheduling, as Dispatch
    /// does). Every project loop goes through this instead of Dispatch directly, so `--threads N`, `ISAC_THREADS`,
    /// `OMP_NUM_THREADS` and the affinity mask bound every parallel op, not only the ones that size their own
    /// worker pool (Dispatch's width is the online core count whatever the mask says). Results do not depend on
    /// the worker count wherever iteration i writes only its own outputs (the contract of every caller).
    public static func concurrentPerform(iterations: Int, execute body: @Sendable (Int) -> Void) {
        concurrentPerform(iterations: iterations, workers: count, execute: body)
    }

    /// `concurrentPerform` with an explicit worker bound (≥ 1) instead of `ThreadCount.count`.
    public static func concurrentPerform(iterations: Int, workers requested: Int, execute body: @Sendable (Int) -> Void) {
        guard iterations > 0 else { return }
        let workers = Swift.max(1, Swift.min(requested, iterations))
        if workers == 1 { for i in 0..<iterations { body(i) }; return }
        if workers == iterations { DispatchQueue.concurrentPerform(iterations: iterations, execute: body); return }
        let next = NextIndex()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.take()
                if i >= iterations { return }
                body(i)
            }
        }
    }
}

/// The shared iteration counter of `ThreadCount.concurrentPerform`.
private final class NextIndex: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take() -> Int { lock.lock(); defer { lock.unlock() }; let v = value; value += 1; return v }
}
