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
