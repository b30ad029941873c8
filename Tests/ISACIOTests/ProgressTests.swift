import Foundation
import Testing
@testable import ISACIO

@Test func progressLineFormatAndCounting() {
    let p = ProgressLine("MC trials", total: 10, enabled: false)
    DispatchQueue.concurrentPerform(iterations: 6) { _ in p.advance() }
    #expect(p.done == 6)
    // 6 units in a little over 3 s (the line was created just before) → just under 2/s, and
    // 4 units left → ETA ≈ 2 s.
    let line = p.render(now: Date().addingTimeInterval(3))
    #expect(line.hasPrefix("\rMC trials  6/10  ("))
    let rate = Double(line.split(separator: "(")[1].split(separator: "/")[0])!
    #expect(rate > 6 / 3.5 && rate <= 2.0)
    #expect(line.hasSuffix("ETA 00:02)"))
    p.finish()   // disabled: prints nothing, must not crash
    let over = ProgressLine("x", total: 1, enabled: false)
    over.advance(5)
    #expect(over.render(now: Date().addingTimeInterval(1)).hasSuffix("ETA 00:00)"))
}
