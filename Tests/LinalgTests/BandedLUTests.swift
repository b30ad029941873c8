import Foundation
import Numerics
import Testing
@testable import Linalg

/// A random n × n band matrix (kl sub-, ku super-diagonals) with a zero main diagonal, so that LU without row
/// interchanges would fail at the first step: the solve must pivot. (With kl = ku = 1 and odd n such a matrix is
/// singular — its determinant vanishes — so the tridiagonal case uses an even n.)
private func bandMatrix(_ n: Int, kl: Int, ku: Int, seed: UInt64) -> Matrix<CDouble> {
    var rng = RandomSource(seed: seed, stream: 7)
    var a = Matrix<CDouble>(rows: n, cols: n)
    for j in 0..<n { for i in max(0, j - ku)...min(n - 1, j + kl) where i != j { a[i, j] = rng.complexGaussianVector(1)[0] } }
    return a
}

@Test func bandedLUSolvesLikeTheDenseLUAndPivots() throws {
    for (n, kl, ku) in [(40, 3, 5), (32, 1, 1), (12, 11, 0), (9, 2, 8)] {
        let a = bandMatrix(n, kl: kl, ku: ku, seed: UInt64(n))
        var m = a
        if ku == 0 { for i in 0..<n { m[i, i] = CDouble(1, 0.5) } }  // lower-triangular case: nonsingular diagonal
        let lu = try BandedLU(dimension: n, lower: kl, upper: ku) { fill in
            for j in 0..<n { for i in max(0, j - ku)...min(n - 1, j + kl) { fill(i, j, m[i, j]) } }
        }
        var rng = RandomSource(seed: 99, stream: UInt64(n))
        let x = rng.complexGaussianVector(n)
        let b = m.apply(x)
        let got = lu.solve(b)
        let dense = try m.solve(Matrix(rows: n, cols: 1, data: b)).data
        var e = 0.0, d = 0.0, xn = 0.0
        for i in 0..<n { e += (got[i] - x[i]).lengthSquared; d += (got[i] - dense[i]).lengthSquared; xn += x[i].lengthSquared }
        #expect((e / xn).squareRoot() < 1e-9, "n \(n) kl \(kl) ku \(ku): error vs the true x")
        #expect((d / xn).squareRoot() < 1e-9, "n \(n) kl \(kl) ku \(ku): error vs the dense LU")
    }
}

@Test func bandedLUAddsRepeatedEntriesAndRejectsBadInput() throws {
    // A value set twice is added: 2 = 1 + 1 on the diagonal of the identity gives x = b / 2.
    let lu = try BandedLU(dimension: 3, lower: 1, upper: 1) { fill in
        for i in 0..<3 { fill(i, i, CDouble(1, 0)); fill(i, i, CDouble(1, 0)) }
    }
    let x = lu.solve([CDouble(2, 0), CDouble(0, 4), CDouble(-6, 0)])
    #expect(x == [CDouble(1, 0), CDouble(0, 2), CDouble(-3, 0)])
    func name(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let ISACError.invalidParameter(n, _, _) { return n } catch let ISACError.lapack(r, _) { return r } catch { return "\(error)" }
    }
    #expect(name { _ = try BandedLU(dimension: 4, lower: 1, upper: 1) { $0(0, 2, CDouble(1, 0)) } } == "entry")
    #expect(name { _ = try BandedLU(dimension: 4, lower: 1, upper: 1) { $0(1, 1, CDouble(.nan, 0)) } } == "entry")
    #expect(name { _ = try BandedLU(dimension: 4, lower: 4, upper: 1) { _ in } } == "lower")
    #expect(name { _ = try BandedLU(dimension: 0, lower: 0, upper: 0) { _ in } } == "dimension")
    // Row 2 empty: exactly singular, reported by zgbtrf's info rather than returned as a factorization.
    #expect(name { _ = try BandedLU(dimension: 3, lower: 1, upper: 1) { f in f(0, 0, CDouble(1, 0)); f(1, 1, CDouble(1, 0)) } }?.hasPrefix("gbtrf") == true)
}

/// `reciprocalCondition` against the exact 1/(‖A‖₁ ‖A⁻¹‖₁) of the dense matrix (A⁻¹ column by column): LAPACK's
/// estimator never overestimates ‖A⁻¹‖₁, so the estimate is ≥ the exact value, and it is within a factor 10 of it here;
/// on diag(1, …, 1, 10⁻⁸) it is exact.
@Test func bandedLUReciprocalConditionMatchesTheDenseValue() throws {
    for (n, kl, ku) in [(40, 3, 5), (32, 1, 1), (9, 2, 8)] {
        let m = bandMatrix(n, kl: kl, ku: ku, seed: UInt64(n))
        let lu = try BandedLU(dimension: n, lower: kl, upper: ku) { fill in
            for j in 0..<n { for i in max(0, j - ku)...min(n - 1, j + kl) { fill(i, j, m[i, j]) } }
        }
        var normA = 0.0, normInv = 0.0
        for j in 0..<n {
            var e = [CDouble](repeating: .zero, count: n); e[j] = CDouble(1, 0)
            normInv = max(normInv, lu.solve(e).reduce(0) { $0 + $1.length })
            normA = max(normA, (0..<n).reduce(0) { $0 + m[$1, j].length })
        }
        #expect(abs(lu.oneNorm - normA) <= 1e-12 * normA)
        let exact = 1 / (normA * normInv), est = lu.reciprocalCondition()
        #expect(est >= exact * (1 - 1e-9) && est <= 10 * exact, "n \(n): estimate \(est), exact \(exact)")
    }
    let d = try BandedLU(dimension: 5, lower: 1, upper: 1) { f in for i in 0..<5 { f(i, i, CDouble(i == 4 ? 1e-8 : 1, 0)) } }
    #expect(abs(d.reciprocalCondition() - 1e-8) < 1e-20)
}
