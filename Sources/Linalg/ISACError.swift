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

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, valid):
            return "invalid \(name) = \(value): \(valid)"
        case let .shapeMismatch(s): return "shape mismatch: \(s)"
        case let .malformedFile(path, reason): return "malformed file \(path): \(reason)"
        case let .nonFinite(name): return "\(name) contains NaN or infinite values"
        case let .lapack(routine, info): return "LAPACK \(routine) failed with info = \(info)"
        case let .io(s): return "I/O error: \(s)"
        }
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
}
