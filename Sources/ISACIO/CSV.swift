import Foundation
import Linalg

/// A small CSV result table (RFC 4180): one header row, then data rows of equal width.
///
/// Numbers are written with Swift's shortest round-trip representation (`0.1`, `1e-05`), so a
/// value read back with `float()`/`np.loadtxt` is bit-identical to the one written; non-finite
/// values become `nan`, `inf`, `-inf`, which NumPy and pandas parse. Text cells containing a
/// comma, quote or newline are quoted with doubled quotes.
///
/// A row whose width differs from the header is kept in `text` as given but makes
/// `write(to:)` throw `ISACError.shapeMismatch`, so a malformed table never lands on disk.
public struct CSVTable: Sendable {
    /// Column names, width `W`.
    public let header: [String]
    /// Data rows as already-formatted cells.
    public private(set) var rows: [[String]] = []
    /// First row-width error, reported by `write(to:)` / `validate()`.
    private var mismatch: ISACError?

    /// Creates an empty table with the given column names.
    public init(header: [String]) {
        self.header = header
    }

    /// Appends one numeric row; `row.count` must equal `header.count`.
    public mutating func append(_ row: [Double]) {
        append(strings: row.map(CSVTable.format))
    }

    /// Appends one row of text cells (quoted as needed); `row.count` must equal `header.count`.
    public mutating func append(strings row: [String]) {
        if row.count != header.count && mismatch == nil {
            mismatch = .shapeMismatch("CSV row \(rows.count + 1) has \(row.count) cells but the header has \(header.count) columns (\(header.joined(separator: ",")))")
        }
        rows.append(row)
    }

    /// Throws `ISACError.shapeMismatch` when any appended row had the wrong width.
    public func validate() throws {
        if let mismatch { throw mismatch }
    }

    /// The table as CSV text, `\n` line endings, trailing newline.
    public var text: String {
        var out = header.map(CSVTable.quote).joined(separator: ",") + "\n"
        for r in rows {
            out += r.map(CSVTable.quote).joined(separator: ",")
            out += "\n"
        }
        return out
    }

    /// Atomically writes the table to `path` (temp file + rename).
    /// - Throws: `ISACError.shapeMismatch` for a ragged table, `ISACError.io` when not writable.
    public func write(to path: String) throws {
        try validate()
        try AtomicFile.write(text, to: path)
    }

    /// Shortest round-trip decimal text of `v`; `nan`/`inf`/`-inf` for non-finite values.
    public static func format(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        return v.description
    }

    static func quote(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }
}
