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

    /// Reads a CSV file written by `write(to:)` (or any RFC 4180 file with a header row), e.g.
    /// to merge per-shard result tables.
    /// - Throws: `ISACError.io` when unreadable, `ISACError.malformedFile` for an unterminated
    ///   quote or a row whose width differs from the header.
    public static func read(from path: String) throws -> CSVTable {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ISACError.io("cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(text, source: path)
    }

    /// Parses RFC 4180 text (first row = header; `\n` or `\r\n` line ends; quoted cells may
    /// contain commas, doubled quotes and newlines). `source` names the input in errors.
    public static func parse(_ text: String, source: String = "csv") throws -> CSVTable {
        var records: [[String]] = []
        var row: [String] = []
        var cell = ""
        var inQuotes = false, cellStarted = false
        var it = Array(text.unicodeScalars)[...]
        func endRow() {
            row.append(cell)
            records.append(row)
            row = []; cell = ""; cellStarted = false
        }
        while let c = it.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if it.first == "\"" { cell.unicodeScalars.append("\""); it.removeFirst() } else { inQuotes = false }
                } else {
                    cell.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where !cellStarted && cell.isEmpty: inQuotes = true; cellStarted = true
            case ",": row.append(cell); cell = ""; cellStarted = false
            case "\r" where it.first == "\n": break
            case "\n": endRow()
            default: cell.unicodeScalars.append(c); cellStarted = true
            }
        }
        if inQuotes { throw ISACError.malformedFile(path: source, reason: "unterminated quoted cell") }
        if !row.isEmpty || !cell.isEmpty || cellStarted { endRow() }
        guard let header = records.first else { throw ISACError.malformedFile(path: source, reason: "empty CSV (no header row)") }
        var t = CSVTable(header: header)
        for (i, r) in records.dropFirst().enumerated() {
            guard r.count == header.count else {
                throw ISACError.malformedFile(path: source, reason: "row \(i + 1) has \(r.count) cells, header has \(header.count)")
            }
            t.rows.append(r)
        }
        return t
    }

    /// The column named `name` as numbers (`nan`, `inf`, `-inf` accepted).
    /// - Throws: `ISACError.invalidParameter` for an unknown column or a non-numeric cell.
    public func column(_ name: String) throws -> [Double] {
        guard let j = header.firstIndex(of: name) else {
            throw ISACError.invalidParameter(name: "column", value: name, valid: "one of \(header.joined(separator: ", "))")
        }
        return try rows.enumerated().map { i, r in
            let cell = r[j].trimmingCharacters(in: .whitespaces)
            if let v = Double(cell) { return v }
            switch cell.lowercased() {
            case "nan": return .nan
            case "inf", "+inf", "infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            default:
                throw ISACError.invalidParameter(name: "\(name)[\(i)]", value: r[j], valid: "a number")
            }
        }
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
