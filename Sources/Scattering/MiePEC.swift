import Foundation
import Linalg
import Numerics

/// Exact Mie series of a perfectly conducting sphere (Bohren & Huffman §4.4 with m → ∞):
///
///     a_n = ψ_n′(x) / ξ_n′(x),   b_n = ψ_n(x) / ξ_n(x),   x = k a,
///     σ_back / (π a²) = x⁻² |Σ_{n≥1} (2n + 1) (−1)ⁿ (a_n − b_n)|²
///
/// with the Riccati–Bessel functions ψ_n = x j_n(x), ξ_n = x h_n⁽¹⁾(x) = ψ_n − iχ_n, χ_n = −x y_n(x) (upward
/// recurrences, stable for real x up to the BHMIE cut-off n_max = x + 4 x^{1/3} + 2). Limits: 9 x⁴ (Rayleigh)
/// as x → 0 and 1 (geometric optics, σ → π a²) as x → ∞. The |·|² is independent of the time convention.
public enum MiePEC {
    /// Monostatic (backscatter) efficiency σ_back / (π a²) at size parameter x = k a > 0.
    public static func backscatterEfficiency(ka x: Double) throws -> Double {
        try Check.positive(x, "ka")
        let nmax = Int(x + 4 * Foundation.pow(x, 1.0 / 3) + 2)
        // ψ_{-1} = cos x, ψ_0 = sin x; χ_{-1} = −sin x, χ_0 = cos x.
        var psiPrev = Double.cos(x), psi = Double.sin(x)
        var chiPrev = -Double.sin(x), chi = Double.cos(x)
        var sum = CDouble.zero
        for n in 1...nmax {
            let dn = Double(n)
            let psiN = (2 * dn - 1) / x * psi - psiPrev
            let chiN = (2 * dn - 1) / x * chi - chiPrev
            // ξ_n = ψ_n − iχ_n;  f′_n = f_{n−1} − n f_n / x.
            let xi = CDouble(psiN, -chiN), xiPrev = CDouble(psi, -chi)
            let dpsi = psi - dn * psiN / x
            let dxi = xiPrev - xi * CDouble(dn / x, 0)
            let a = CDouble(dpsi, 0) / dxi, b = CDouble(psiN, 0) / xi
            let s = (2 * dn + 1) * (n % 2 == 0 ? 1.0 : -1.0)
            sum += CDouble(s, 0) * (a - b)
            psiPrev = psi; psi = psiN; chiPrev = chi; chi = chiN
        }
        return sum.lengthSquared / (x * x)
    }
}
