import Foundation
import Testing
import Linalg
@testable import ISACIO

@Test func csvRoundTripsDoublesExactly() throws {
    var t = CSVTable(header: ["snr_db", "rmse"])
    let rows: [[Double]] = [[-10, 0.1], [1e-300, .pi], [.nan, .infinity], [-.infinity, 123456789.123456789]]
    for r in rows { t.append(r) }
    let lines = t.text.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.first == "snr_db,rmse" && lines.last == "" && lines.count == rows.count + 2)
    for (line, r) in zip(lines.dropFirst(), rows) {
        let cells = line.split(separator: ",").map { Double(String($0))! }
        #expect(cells.count == 2)
        for (c, v) in zip(cells, r) { #expect(c == v || (c.isNaN && v.isNaN)) }
    }
    let path = tempDir() + "/r.csv"
    try t.write(to: path)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == t.text)
}

@Test func csvQuotesTextAndRejectsRaggedRows() throws {
    var t = CSVTable(header: ["name", "note"])
    t.append(strings: ["a,b", "say \"hi\""])
    t.append(strings: ["plain", "two\nlines"])
    #expect(t.text == "name,note\n\"a,b\",\"say \"\"hi\"\"\"\nplain,\"two\nlines\"\n")
    try t.validate()
    t.append([1, 2, 3])
    #expect(throws: ISACError.self) { try t.validate() }
    let path = tempDir() + "/ragged.csv"
    #expect(throws: ISACError.self) { try t.write(to: path) }
    #expect(!FileManager.default.fileExists(atPath: path))
}

@Test func csvParseInvertsWriteAndRejectsBadInput() throws {
    var t = CSVTable(header: ["k", "value", "note"])
    t.append([1, 0.1, 3])
    t.append(strings: ["2", "-inf", "a,\"b\"\nc"])
    t.append(strings: ["3", "nan", ""])
    let path = tempDir() + "/t.csv"
    try t.write(to: path)
    let back = try CSVTable.read(from: path)
    #expect(back.header == t.header && back.rows == t.rows)
    let v = try back.column("value")
    #expect(v[0] == 0.1 && v[1] == -.infinity && v[2].isNaN)
    #expect(try back.column("k") == [1, 2, 3])
    #expect(throws: ISACError.self) { try back.column("missing") }
    #expect(throws: ISACError.self) { try back.column("note") }
    // CRLF line ends and a missing final newline parse the same.
    let crlf = try CSVTable.parse("a,b\r\n1,2\r\n3,4")
    #expect(crlf.rows == [["1", "2"], ["3", "4"]])
    #expect(throws: ISACError.self) { try CSVTable.parse("a,b\n1,2,3\n") }
    #expect(throws: ISACError.self) { try CSVTable.parse("a,b\n\"1,2\n") }
    #expect(throws: ISACError.self) { try CSVTable.parse("") }
    #expect(throws: ISACError.self) { try CSVTable.read(from: "/nonexistent/x.csv") }
}

@Test func jsonWriteIsAtomicSortedAndNullsNonFinite() throws {
    let path = tempDir() + "/r.json"
    try JSONOutput.write(["b": [1.5, Double.nan], "a": "x"] as [String: Any], to: path, pretty: false)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"a\":\"x\",\"b\":[1.5,null]}\n")
    struct Opaque {}
    #expect(throws: ISACError.self) { try JSONOutput.write(["a": Opaque()], to: path) }
}
