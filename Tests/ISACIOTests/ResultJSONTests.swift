import Foundation
import ISACIO
import Testing

/// `ResultJSON` (ISACIO): the one `Codable` → `JSONOutput.string` encoder of the CLI and the library reports.
/// Reference: the bytes `JSONOutput.string` prints for the `[String: Any]` tree with the same keys and Swift types.
@Suite struct ResultJSONTests {
    private struct Leaf: Encodable { var x: Double; var n: Int }
    private struct Explicit: Encodable {
        var a: Double?
        var leaf: Leaf
        var map: [String: Double]
        var ints: [Int: String]
        func encode(to encoder: Encoder) throws {
            enum K: String, CodingKey { case a, leaf, map, ints, sub }
            var c = encoder.container(keyedBy: K.self)
            try c.encode(a, forKey: .a)  // explicit: nil is written as null
            try c.encode(leaf, forKey: .leaf)
            try c.encode(map, forKey: .map)
            try c.encode(ints, forKey: .ints)
            var s = c.nestedUnkeyedContainer(forKey: .sub)
            try s.encode(UInt64.max); try s.encode(Float(0.25)); try s.encodeNil()
        }
    }

    @Test func explicitNullNestedContainersAndPretty() throws {
        let v = Explicit(a: nil, leaf: Leaf(x: 1.0 / 3, n: 2), map: ["p": 0.1, "q": .nan], ints: [3: "c"])
        let d: [String: Any] = ["a": NSNull(), "leaf": ["x": 1.0 / 3, "n": 2] as [String: Any], "map": ["p": 0.1, "q": Double.nan],
                                "ints": ["3": "c"], "sub": [UInt64.max, Float(0.25), NSNull()] as [Any]]
        #expect(try ResultJSON.string(v) == JSONOutput.string(d))
        #expect(try ResultJSON.string(v, pretty: true) == JSONOutput.string(d, pretty: true))
    }

    @Test func scalarsAndArraysAtTheTop() throws {
        #expect(try ResultJSON.string([1.5, -0.0]) == JSONOutput.string([1.5, -0.0]))
        #expect(try ResultJSON.tree("s") as? String == "s")
        #expect(try ResultJSON.tree(7) as? Int == 7)
        #expect(throws: (any Error).self) { try ResultJSON.object([1, 2]) }
    }
}
