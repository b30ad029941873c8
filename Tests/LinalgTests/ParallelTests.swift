import Foundation
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

/// `ThreadCount.concurrentPerform` visits every index exactly once at any worker bound (inline at 1, Dispatch at
/// ≥ iterations, the shared counter in between), and never runs more than the bound at once.
@Test(arguments: [1, 2, 3, 7, 64])
func boundedConcurrentPerformVisitsEveryIndexOnce(workers: Int) {
    let n = 1000
    let hits = UnsafeMutablePointer<Int>.allocate(capacity: n)
    hits.initialize(repeating: 0, count: n)
    defer { hits.deallocate() }
    let p = SendableMutablePointer(hits)
    let live = LiveCounter()
    ThreadCount.concurrentPerform(iterations: n, workers: workers) { i in
        live.enter()
        p[i] += 1
        for _ in 0..<200 { _ = live.peek() }  // keep iterations overlapping long enough to see concurrency
        live.leave()
    }
    #expect((0..<n).allSatisfy { hits[$0] == 1 })
    #expect(live.maximum <= min(workers, n))
    ThreadCount.concurrentPerform(iterations: 0, workers: workers) { _ in Issue.record("no iteration expected") }
}

private final class LiveCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var now = 0
    private(set) var maximum = 0
    func enter() { lock.lock(); now += 1; maximum = max(maximum, now); lock.unlock() }
    func leave() { lock.lock(); now -= 1; lock.unlock() }
    func peek() -> Int { lock.lock(); defer { lock.unlock() }; return now }
}
