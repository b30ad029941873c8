import Testing
import Numerics
@testable import Linalg

@Test func gemmSmoke() throws {
    let a = Matrix<CDouble>(rows: 2, cols: 2, data: [Complex(1, 0), Complex(0, 1), Complex(2, 0), Complex(0, 0)])
    let c = a * Matrix<CDouble>.identity(2)
    #expect(c == a)
}
