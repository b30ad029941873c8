import Foundation

/// The one error type every ISACKit layer throws for bad input.
///
/// Messages always name the offending parameter and, where it applies, the valid range,
/// so a CLI user sees e.g. `invalid --snr-db = nan: must be finite`.
public enum ISACError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A parameter is outside its valid range. `valid` describes the range in words/maths.
    case invalidParameter(name: String, value: String, valid: String)
    /// Array/matrix shapes that must agree do not.
    case shapeMismatch(String)
    /// A file could not be parsed (malformed header, truncated data, wrong dtype...).
    case malformedFile(path: String, reason: String)
    /// An input contains NaN or infinity where finite values are required.
    case nonFinite(name: String)
    /// A LAPACK routine reported failure (`info` as returned by LAPACKE).
    case lapack(routine: String, info: Int)
    /// I/O failure (unwritable folder, missing file...).
    case io(String)

    /// Human-readable description of the error.
    public var description: String {
        switch self {
        case let .invalidParameter(name, value, valid):
            return "invalid \(name) = \(value): \(valid)"
        case let .shapeMismatch(s): return "shape mismatch: \(s)"
        case let .malformedFile(path, reason): return "malformed file \(path): \(reason)"
        case let .nonFinite(name): return "\(name) contains NaN or infinite values"
        case let .lapack(routine, info): return ISACError.lapackMessage(routine: routine, info: info)
        case let .io(s): return "I/O error: \(s)"
        }
    }
}

extension ISACError {
    /// A user-level sentence for a LAPACK failure: what went wrong numerically and what to change,
    /// with the routine and `info` kept at the end for bug reports.
    /// LAPACK convention: `info < 0` = argument −info was illegal (a bug or a non-finite input),
    /// `info > 0` = a numerical failure (singular pivot, no convergence, rank deficiency).
    static func lapackMessage(routine: String, info: Int) -> String {
        let name = routine.split(separator: " ").first.map(String.init) ?? routine
        let what: String
        if info < 0 {
            what = "a linear-algebra routine was given an invalid argument (usually NaN/Inf in the inputs or an empty problem)"
        } else {
            switch name {
            case "gesv":
                what = "the linear system is singular (pivot \(info) is exactly zero): the parameters make the problem degenerate; change the geometry, grid or regularization"
            case "gels":
                what = "the least-squares matrix is rank-deficient: the parameters give linearly dependent columns; use fewer unknowns or a different grid"
            case "heevd", "gesdd":
                what = "an eigenvalue/singular-value decomposition did not converge (ill-conditioned or non-finite input)"
            default:
                what = "a linear-algebra routine reported a numerical failure"
            }
        }
        return "numerical failure: \(what) (LAPACK \(name) info=\(info))"
    }

    /// Maps any error to the one-line message the CLI prints: `ISACError`'s description as is;
    /// Foundation file errors (NSCocoaErrorDomain/POSIX dumps) become "cannot read FILE: reason".
    public static func userMessage(_ error: Error) -> String {
        if let e = error as? ISACError { return e.description }
        return describeFoundationError(error) ?? String(describing: error)
    }

    /// "cannot read FILE: reason" for a Foundation/POSIX file error, nil for other errors.
    public static func describeFoundationError(_ error: Error) -> String? {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String)
            ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
            ?? (ns.userInfo["NSURL"] as? URL)?.path
        var posix: Int32? = ns.domain == NSPOSIXErrorDomain ? Int32(ns.code) : nil
        if posix == nil, let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain { posix = Int32(u.code) }
        let reason: String
        if let p = posix { reason = String(cString: strerror(p)) }
        else {
            switch ns.code {
            case NSFileNoSuchFileError, NSFileReadNoSuchFileError: reason = "no such file"
            case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: reason = "permission denied"
            case NSFileReadCorruptFileError: reason = "the file is corrupted or not in the expected format"
            case NSFileReadTooLargeError: reason = "the file is too large"
            case NSFileWriteOutOfSpaceError: reason = "no space left on device"
            case NSFileWriteVolumeReadOnlyError: reason = "read-only file system"
            case NSFileReadUnknownError, NSFileWriteUnknownError: reason = "unknown I/O error"
            case 3840: reason = "not valid JSON"  // NSPropertyListReadCorruptError from JSONSerialization
            case 4864, 4865: reason = "not in the expected format"  // Coder read/value-not-found errors
            default: reason = "I/O error (code \(ns.code))"
            }
        }
        let isWrite = (NSFileWriteUnknownError...NSFileWriteVolumeReadOnlyError).contains(ns.code)
        guard let path, !path.isEmpty else { return "\(isWrite ? "cannot write" : "cannot read") an empty file path: \(reason)" }
        return "\(isWrite ? "cannot write" : "cannot read") \(path): \(reason)"
    }
}

/// Validation helpers that throw `ISACError.invalidParameter` with a uniform message.
public enum Check {
    /// Requires `value > 0` (and finite).
    @inlinable
    public static func positive<T: BinaryFloatingPoint>(_ value: T, _ name: String) throws {
        guard value.isFinite, value > 0 else {
            throw ISACError.invalidParameter(name: name, value: "\(value)", valid: "must be a finite number > 0")
        }
    }
    /// Requires `value > 0`.
    @inlinable
    public static func positive(_ value: Int, _ name: String) throws {
        guard value > 0 else {
            throw ISACError.invalidParameter(name: name, value: "\(value)", valid: "must be an integer >= 1")
        }
    }
    /// Requires `value >= 0`.
    @inlinable
    public static func nonNegative(_ value: Int, _ name: String) throws {
        guard value >= 0 else {
            throw ISACError.invalidParameter(name: name, value: "\(value)", valid: "must be an integer >= 0")
        }
    }
    /// Requires `value` finite.
    @inlinable
    public static func finite<T: BinaryFloatingPoint>(_ value: T, _ name: String) throws {
        guard value.isFinite else {
            throw ISACError.invalidParameter(name: name, value: "\(value)", valid: "must be finite")
        }
    }
    /// Requires `lo <= value <= hi` (closed interval).
    @inlinable
    public static func inRange<T: BinaryFloatingPoint>(_ value: T, _ lo: T, _ hi: T, _ name: String) throws {
        guard value.isFinite, value >= lo, value <= hi else {
            throw ISACError.invalidParameter(name: name, value: "\(value)", valid: "must lie in [\(lo), \(hi)]")
        }
    }
    /// Requires `lo < value < hi` (open interval).
    @inlinable
    public static func inOpenRange<T: BinaryFloatingPoint>(_ value: T, _ lo: T, _ hi: T, _ name: String) throws {
        guard value.isFinite, value > lo, value < hi else {
            throw ISACError.invalidParameter(name: name, value: "\(value)", valid: "must lie in the open interval (\(lo), \(hi))")
        }
    }
    /// Requires `lo <= value <= hi` for integers.
    @inlinable
    public static func inRange(_ value: Int, _ lo: Int, _ hi: Int, _ name: String) throws {
        guard value >= lo, value <= hi else {
            throw ISACError.invalidParameter(name: name, value: "\(value)", valid: "must be an integer in [\(lo), \(hi)]")
        }
    }

    /// Refuses an allocation of `bytes` (estimated from CLI flags before anything is allocated)
    /// when it exceeds what the machine can give: the available physical memory (Linux
    /// `MemAvailable`, else total RAM) minus a 10 % margin. Also refuses estimates that overflowed
    /// (pass `nil`, e.g. from `Check.bytes(_:)`). The message names the flag, the estimate and the
    /// available memory, so `--samples 1e12` fails in milliseconds instead of dying in `malloc`.
    public static func memory(flag: String, value: String, bytes: Int?) throws {
        let avail = availableMemoryBytes()
        guard let b = bytes, b >= 0, Double(b) <= 0.9 * Double(avail) else {
            let est = bytes.map { formatBytes(Double($0)) } ?? "more than 2^63 bytes"
            throw ISACError.invalidParameter(name: flag, value: value,
                valid: "needs about \(est) of memory, but this machine has \(formatBytes(Double(avail))) available; use a smaller value")
        }
    }

    /// Product of `factors` (element counts × bytes per element) or nil on overflow / negative factor.
    public static func bytes(_ factors: Int...) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (r, o) = p.multipliedReportingOverflow(by: f)
            if o { return nil }
            p = r
        }
        return p
    }

    /// Available physical memory in bytes: `MemAvailable` from /proc/meminfo on Linux, else the
    /// physical RAM Foundation reports.
    public static func availableMemoryBytes() -> Int {
        if let s = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in s.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let parts = line.split(separator: " ")
                if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
            }
        }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    static func formatBytes(_ b: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = b, i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return String(format: i == 0 ? "%.0f %@" : "%.1f %@", v, units[i])
    }
}
