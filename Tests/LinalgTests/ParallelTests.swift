import Testing
import Linalg

private struct IndexError: Error, Equatable { let index: Int }

/// parallelMap is the serial map, in index order, for every chunk size; it reports the smallest failing index.
@Test func parallelMapEqualsSerialMap() throws {
    let f: (Int) -> Double = { i in
        var rng = RandomSource(seed: 5, stream: UInt64(i))
        return rng.uniform(0, 1) + Double(i)
    }
    let serial = (0..<257).map(f)
    for chunk in [1, 3, 8, 1000] { #expect(parallelMap(257, chunk: chunk, f) == serial) }
    #expect(parallelMap(0) { $0 }.isEmpty)
    for chunk in [1, 7] {
        #expect(throws: IndexError(index: 40)) {
            _ = try parallelMap(100, chunk: chunk) { i throws -> Int in
                if i == 40 || i == 77 { throw IndexError(index: i) }
                return i
            }
        }
    }
}
