import Foundation
import Linalg

/// Up-front memory checks: an allocation that cannot succeed is reported as a parameter error
/// (flag, estimate, available memory) instead of aborting the process inside the allocator.
public enum MemoryBudget {
    /// Memory the kernel reports as available to a new allocation (`MemAvailable` of /proc/meminfo),
    /// bytes; nil where that file does not exist (then only the absolute limit applies).
    public static func availableBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kib = Int(parts[1]) { return kib * 1024 }
        }
        return nil
    }

    /// Throws `invalidParameter(flag, value, …)` when `bytes` (an estimate, may be ±∞ or NaN when the
    /// estimate itself overflows) exceeds the available memory (or 2⁶² bytes).
    public static func check(bytes: Double, what: String, flag: String, value: String) throws {
        let avail = availableBytes().map(Double.init) ?? 4.6e18
        guard bytes.isFinite, bytes <= avail, bytes < 4.6e18 else {
            func fmt(_ b: Double) -> String { b.isFinite ? String(format: "%.3g GiB", b / 1073741824) : "unbounded" }
            throw ISACError.invalidParameter(name: flag, value: value,
                valid: "\(what) would need ≈ \(fmt(bytes)) but \(fmt(avail)) of memory is available; reduce \(flag)")
        }
    }
}
