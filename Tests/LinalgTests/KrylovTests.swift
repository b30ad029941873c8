import Foundation
import Numerics
import Testing
@testable import Linalg

private func system(_ n: Int, seed: UInt64, spread: Double) -> (Matrix<CDouble>, [CDouble], [CDouble]) {
    var rng = RandomSource(seed: seed, stream: 0)
    var A = rng.complexGaussianMatrix(rows: n, cols: n, variance: spread / Double(n))
    for i in 0..<n { A[i, i] += CDouble(1, 0) }
    let x = rng.complexGaussianVector(n)
    return (A, x, A.apply(x))
}

@Test func gmresSolvesSmallDenseSystem() {
    let (A, xTrue, b) = system(30, seed: 11, spread: 0.6)
    let r = GMRES.solve({ A.apply($0) }, b: b, tolerance: 1e-12, restart: 7, maxIterations: 500)
    #expect(r.converged)
    for i in xTrue.indices { #expect((r.solution[i] - xTrue[i]).length < 1e-9) }
    // The reported residual is the true one.
    let ax = A.apply(r.solution)
    let res = zip(b, ax).reduce(0.0) { $0 + ($1.0 - $1.1).lengthSquared }.squareRoot() / b.reduce(0.0) { $0 + $1.lengthSquared }.squareRoot()
    #expect(abs(res - r.relativeResidual) <= 1e-12 + 1e-6 * res)
}

@Test func unrestartedGMRESTerminatesWithinDimensionSteps() {
    // Full GMRES minimizes over K_n = C^n: it reaches the solution in ≤ n products (exact arithmetic),
    // even for a strongly non-normal, indefinite matrix where restarted GMRES(2) crawls.
    let n = 24
    let (A, _, b) = system(n, seed: 3, spread: 9)
    let full = GMRES.solve({ A.apply($0) }, b: b, tolerance: 1e-10, restart: n, maxIterations: n + 2)
    #expect(full.converged && full.iterations <= n)
    let short = GMRES.solve({ A.apply($0) }, b: b, tolerance: 1e-10, restart: 2, maxIterations: n)
    #expect(!short.converged)
}

@Test func gmresWarmStartAndZeroRightHandSide() {
    let (A, xTrue, b) = system(12, seed: 5, spread: 0.5)
    let warm = GMRES.solve({ A.apply($0) }, b: b, initialGuess: xTrue, tolerance: 1e-8)
    #expect(warm.iterations == 0 && warm.converged)
    let zero = GMRES.solve({ A.apply($0) }, b: [CDouble](repeating: .zero, count: 12))
    #expect(zero.converged && zero.solution.allSatisfy { $0 == .zero })
}

@Test func gmresMemoryEstimateAndOverflow() {
    #expect(GMRES.memoryBytes(dimension: 1000, restart: 40) == 16 * (42 * 1000 + 41 * 40))
    #expect(GMRES.memoryBytes(dimension: 1000, restart: Int(1e12)) == nil || GMRES.memoryBytes(dimension: 1000, restart: Int(1e12))! > 1 << 40)
    #expect(GMRES.memoryBytes(dimension: 1 << 40, restart: 1 << 40) == nil)
}
